import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { col, writeArrowFile } from '../../src/core/arrow.js';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { DrivingEnv } from '../../src/env/env.js';
import {
  DEFAULT_DEMO_CLEANING,
  NO_DEMO_CLEANING,
  cleanEpisode,
  concatDemonstrations,
  demonstrationsSchema,
  episodeRanges,
  readDemonstrations,
  recordExpertDemonstrations,
  resolveDemoCleaning,
  type DemoCleaning,
} from '../../src/rl/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'drivekit-demos-'));

/** Small, fast scenarios: no traffic, 3 blocks, 60 steps. */
const SMALL_ENV = { traffic_density: 0, map: 3, horizon: 60 };

describe('cleanEpisode on a crafted episode', () => {
  // 30 frames: frames 0-3 stand still (0 km/h before and after), frame 4 launches (0 -> 0.9 km/h),
  // frame 10 is a steering spike (0 -> 0.8 -> 0), frame 15 a step (0 -> 0.5 and stays: no spike),
  // and inside the last 5 frames: a spike at 27 and a standstill at 28.
  const n = 30;
  const steering = new Float64Array(n);
  const v0 = new Float64Array(n).fill(30), v1 = new Float64Array(n).fill(30);
  for (let t = 0; t < 4; t++) v0[t] = v1[t] = 0;
  v0[4] = 0;
  v1[4] = 0.9;
  steering[10] = 0.8;
  for (let t = 15; t < n; t++) steering[t] = 0.5;
  steering[27] = -0.2;
  v0[28] = v1[28] = 0.1;
  const cleaning: DemoCleaning = { standstillKmh: 0.5, maxSteeringDelta: 0.3, recoveryWindow: 5, minEpisodeLength: 20 };

  it('drops standstill and spikes, keeps the recovery window of a failed episode', () => {
    const { keep, counts } = cleanEpisode({ steering, speedBefore: v0, speedAfter: v1, failed: true }, cleaning);
    expect(counts).toEqual({ standstill: 4, steering_spike: 1, short_trajectory: 0, recovery_exempt: 2 });
    const dropped = [...keep].flatMap((k, t) => (k ? [] : [t]));
    expect(dropped).toEqual([0, 1, 2, 3, 10]);
  });

  it('without a failure the window does not apply', () => {
    const { keep, counts } = cleanEpisode({ steering, speedBefore: v0, speedAfter: v1, failed: false }, cleaning);
    expect(counts).toEqual({ standstill: 5, steering_spike: 2, short_trajectory: 0, recovery_exempt: 0 });
    expect([...keep].flatMap((k, t) => (k ? [] : [t]))).toEqual([0, 1, 2, 3, 10, 27, 28]);
  });

  it('an episode left shorter than the minimum is dropped whole; disabled rules keep everything', () => {
    const { keep, counts } = cleanEpisode({ steering, speedBefore: v0, speedAfter: v1, failed: true }, { ...cleaning, minEpisodeLength: 26 });
    expect(counts.short_trajectory).toBe(25);
    expect(keep.every((k) => k === 0)).toBe(true);
    const none = cleanEpisode({ steering, speedBefore: v0, speedAfter: v1, failed: true }, NO_DEMO_CLEANING);
    expect(none.keep.every((k) => k === 1)).toBe(true);
    expect(none.counts).toEqual({ standstill: 0, steering_spike: 0, short_trajectory: 0, recovery_exempt: 0 });
  });

  it('cleaning options are validated (ConfigError naming the field)', () => {
    expect(resolveDemoCleaning()).toEqual(DEFAULT_DEMO_CLEANING);
    for (const [bad, field] of [
      [{ standstillKmh: -1 }, 'cleaning.standstillKmh'],
      [{ maxSteeringDelta: 0 }, 'cleaning.maxSteeringDelta'],
      [{ recoveryWindow: 1.5 }, 'cleaning.recoveryWindow'],
      [{ minLength: 3 }, 'cleaning.minLength'],
    ] as const) {
      try {
        resolveDemoCleaning(bad as Partial<DemoCleaning>);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).field).toBe(field);
      }
    }
  });
});

describe('recordExpertDemonstrations / readDemonstrations', () => {
  it('round trip: transitions replay in the env, episodes are contiguous, metadata holds config and counts', async () => {
    const dir = tmp();
    const out = join(dir, 'demos.arrow');
    const report = await recordExpertDemonstrations({ out, seeds: [0, 1, 2], env: SMALL_ENV, cleaning: NO_DEMO_CLEANING, batchRows: 50 });
    expect(report.counts.episodes_recorded).toBe(3);
    expect(report.counts.frames_kept).toBe(report.counts.frames_recorded);
    const d = await readDemonstrations(out, { expectObsDim: 259, expectActDim: 2 });
    expect(d.numFrames).toBe(report.counts.frames_kept);
    expect(d.obs.length).toBe(d.numFrames * 259);
    expect(d.actions.length).toBe(d.numFrames * 2);
    expect(d.metadata.counts).toEqual(report.counts);
    expect(d.metadata.cleaning).toEqual(NO_DEMO_CLEANING);
    expect(d.metadata.envConfig!.traffic_density).toBe(0);
    expect(d.metadata.envConfig!.horizon).toBe(60);
    expect(d.metadata.raw['drivekit.format']).toBe('drivekit.demonstrations/1');
    expect(d.metadata.raw.obs_dim).toBe('259');
    expect(d.metadata.raw.action_dim).toBe('2');
    const eps = episodeRanges(d);
    expect(eps.map((e) => e.seed)).toEqual([0, 1, 2]);
    expect(eps.map((e) => e.episodeId)).toEqual([0, 1, 2]);
    // Replay every episode with the stored actions: same observations, rewards and flags.
    const env = new DrivingEnv({ ...SMALL_ENV, start_seed: 0, num_scenarios: 3 });
    for (const e of eps) {
      let { obs } = env.reset({ seed: e.seed });
      for (let i = e.start; i < e.end; i++) {
        expect(d.step[i]).toBe(i - e.start);
        expect(Array.from(d.obs.subarray(i * 259, (i + 1) * 259))).toEqual(Array.from(obs));
        const r = env.step([d.actions[2 * i]!, d.actions[2 * i + 1]!]);
        expect(Array.from(d.nextObs!.subarray(i * 259, (i + 1) * 259))).toEqual(Array.from(r.obs));
        expect(d.rewards[i]).toBe(Math.fround(r.reward));
        expect(d.terminated[i]).toBe(r.terminated ? 1 : 0);
        expect(d.truncated[i]).toBe(r.truncated ? 1 : 0);
        obs = r.obs;
      }
      expect(d.terminated[e.end - 1]! + d.truncated[e.end - 1]!).toBeGreaterThan(0);
    }
    for (let i = 0; i < d.actions.length; i++) expect(Math.abs(d.actions[i]!)).toBeLessThanOrEqual(1);
    // No temporary files are left beside the output.
    expect(readdirSync(dir)).toEqual(['demos.arrow']);
    // Same seeds, same file contents.
    const out2 = join(dir, 'again.arrow');
    await recordExpertDemonstrations({ out: out2, seeds: [0, 1, 2], env: SMALL_ENV, cleaning: NO_DEMO_CLEANING });
    const d2 = await readDemonstrations(out2, { nextObs: false });
    expect(d2.nextObs).toBeNull();
    expect(Array.from(d2.actions)).toEqual(Array.from(d.actions));
    expect(Array.from(d2.obs)).toEqual(Array.from(d.obs));
  });

  it('cleaning counts add up and the frames budget stops at an episode boundary', async () => {
    const dir = tmp();
    const out = join(dir, 'clean.arrow');
    const report = await recordExpertDemonstrations({ out, seeds: [0, 1, 2, 3, 4, 5], frames: 100, env: SMALL_ENV });
    const c = report.counts;
    // 60-step episodes without failures: two episodes reach 100 kept frames.
    expect(report.seedsPlayed).toEqual([0, 1]);
    expect(c.episodes_recorded).toBe(2);
    expect(c.frames_kept).toBeGreaterThanOrEqual(100);
    expect(c.frames_recorded - c.frames_kept).toBe(c.dropped.standstill + c.dropped.steering_spike + c.dropped.short_trajectory);
    const d = await readDemonstrations(out);
    expect(d.numFrames).toBe(c.frames_kept);
    expect(d.metadata.counts).toEqual(c);
    expect(d.metadata.cleaning).toEqual(DEFAULT_DEMO_CLEANING);
    expect(JSON.parse(d.metadata.raw.policy!)).toEqual({ name: 'expert', seeds: [0, 2], frames_budget: 100, action_noise: null, noise_seed: null, driver: null });
    expect(c.dropped.short_trajectory).toBe(0);
  });

  it('a failed episode left shorter than the minimum is dropped whole, and the file is empty but readable', async () => {
    const dir = tmp();
    // A policy that drives straight at full throttle leaves the road (a failure) within the horizon.
    const straight = { name: 'straight', reset: () => undefined, act: (): [number, number] => [0.35, 1] };
    const out = join(dir, 'fail.arrow');
    const r = await recordExpertDemonstrations({ out, seeds: [0], env: { ...SMALL_ENV, horizon: 200 }, policy: straight, cleaning: { minEpisodeLength: 1000 } });
    expect(r.counts.episodes_failed).toBe(1);
    expect(r.counts.episodes_kept).toBe(0);
    expect(r.counts.frames_kept).toBe(0);
    expect(r.counts.dropped.short_trajectory).toBe(r.counts.frames_recorded - r.counts.dropped.standstill);
    const d = await readDemonstrations(out);
    expect(d.numFrames).toBe(0);
  });

  it('a wrong observation or action width is an InputError naming the file, the field, the expected and found width', async () => {
    const dir = tmp();
    const out = join(dir, 'w.arrow');
    await recordExpertDemonstrations({ out, seeds: [0], env: { ...SMALL_ENV, horizon: 5 }, cleaning: NO_DEMO_CLEANING });
    const expectErr = async (p: Promise<unknown>, file: string, field: string, expected: number, found: number) => {
      try {
        await p;
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        const ie = e as InputError;
        expect([ie.file, ie.field, ie.expected, ie.found]).toEqual([file, field, expected, found]);
        expect(ie.message).toContain(file);
      }
    };
    await expectErr(readDemonstrations(out, { expectObsDim: 275 }), out, 'obs', 275, 259);
    await expectErr(readDemonstrations(out, { expectObsDim: 259, expectActDim: 3 }), out, 'action', 3, 2);
    // A file recorded for another observation layout.
    const other = join(dir, 'other.arrow');
    const s = demonstrationsSchema(10);
    await writeArrowFile(other, s, {
      obs: new Float32Array(20),
      action: new Float32Array(4),
      reward: new Float32Array(2),
      next_obs: new Float32Array(20),
      terminated: [false, true],
      truncated: [false, false],
      episode_id: [0, 0],
      seed: [3, 3],
      step: [0, 1],
    });
    await expectErr(readDemonstrations(other, { expectObsDim: 259, expectActDim: 2 }), other, 'obs', 259, 10);
    expect((await readDemonstrations(other, { expectObsDim: 10 })).numFrames).toBe(2);
  });

  it('missing columns, other files and missing files are InputErrors naming them', async () => {
    const dir = tmp();
    const p = join(dir, 'partial.arrow');
    await writeArrowFile(p, { obs: col.vector([4]), action: col.vector([2]) }, { obs: new Float32Array(4), action: new Float32Array(2) });
    try {
      await readDemonstrations(p);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).file).toBe(p);
      expect((e as InputError).field).toBe('next_obs');
    }
    const notArrow = join(dir, 'x.arrow');
    writeFileSync(notArrow, 'not arrow');
    await expect(readDemonstrations(notArrow)).rejects.toBeInstanceOf(InputError);
    const missing = join(dir, 'none.arrow');
    await expect(readDemonstrations(missing)).rejects.toMatchObject({ file: missing, found: 'no such file' });
    expect(existsSync(missing)).toBe(false);
  });
});

describe('DART noise, DAgger driver and concatenation', () => {
  it('noise changes the visited states but not the labels; a driver makes the env follow it; files concatenate', async () => {
    const dir = tmp();
    const plain = join(dir, 'plain.arrow');
    const noisy = join(dir, 'noisy.arrow');
    const dagger = join(dir, 'dagger.arrow');
    await recordExpertDemonstrations({ out: plain, seeds: [0], env: SMALL_ENV, cleaning: NO_DEMO_CLEANING });
    await recordExpertDemonstrations({ out: noisy, seeds: [0], env: SMALL_ENV, cleaning: NO_DEMO_CLEANING, actionNoise: [0.3, 0.3], noiseSeed: 1 });
    const a = await readDemonstrations(plain);
    const b = await readDemonstrations(noisy);
    // Same first state, different trajectories (the noise was executed)...
    expect(Array.from(b.obs.subarray(0, a.obsDim))).toEqual(Array.from(a.obs.subarray(0, a.obsDim)));
    expect(Array.from(b.obs.subarray(10 * a.obsDim, 11 * a.obsDim))).not.toEqual(Array.from(a.obs.subarray(10 * a.obsDim, 11 * a.obsDim)));
    // ...but the stored labels are the expert's clean actions: replaying them does not reproduce b's states.
    expect(JSON.parse(b.metadata.raw.policy!).action_noise).toEqual([0.3, 0.3]);
    // A driver that always brakes: the env follows the driver, the labels stay the expert's (it accelerates from rest).
    let calls = 0;
    await recordExpertDemonstrations({ out: dagger, seeds: [0], env: SMALL_ENV, cleaning: NO_DEMO_CLEANING, driver: () => { calls++; return [0, -1]; } });
    const c = await readDemonstrations(dagger);
    expect(calls).toBe(c.numFrames);
    expect(c.actions[1]).toBeGreaterThan(0);
    const speedFeature = 3; // (v + 1) / 81: stays at standstill under a braking driver
    expect(c.obs[(c.numFrames - 1) * c.obsDim + speedFeature]).toBeLessThan(0.05);
    const all = concatDemonstrations([a, c]);
    expect(all.numFrames).toBe(a.numFrames + c.numFrames);
    expect(new Set(all.episodeId).size).toBe(2);
    expect(Array.from(all.actions.subarray(2 * a.numFrames, 2 * a.numFrames + 4))).toEqual(Array.from(c.actions.subarray(0, 4)));
  });
});
