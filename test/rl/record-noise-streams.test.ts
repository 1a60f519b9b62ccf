/**
 * `recordExpertDemonstrations({noiseStreams: 'episode'})` (`env record-expert --noise-streams
 * episode`): each episode's action-noise and DAgger-mixture draws come from a stream of
 * (noiseSeed, scenario seed), so noisy and mixed recordings run in worker threads and write the
 * bytes of one thread, and an episode does not depend on the seeds recorded before it. The default
 * `'run'` mode (one stream through the episodes) writes the files it wrote before the option existed.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError } from '../../src/core/errors.js';
import { main } from '../../src/cli/main.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { episodeNoiseRng, readDemonstrations, recordExpertDemonstrations, type Demonstrations, type NoiseStreams, type RecordExpertOptions } from '../../src/rl/data/demonstrations.js';
import { Rng } from '../../src/core/rng.js';
import { mixSeed } from '../../src/world/generator.js';

const ENV = { map: 3, horizon: 60, traffic_density: 0.1 };
let dir: string;
let driverDir: string;
let driver: ActorCriticPolicy;
let n = 0;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-rec-streams-'));
  driverDir = path.join(dir, 'driver');
  driver = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [8], seed: 2 });
  await driver.save(driverDir);
});
afterAll(() => {
  driver.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Records `opts` to a fresh file; returns its bytes, its contents and the report. */
async function record(opts: Omit<RecordExpertOptions, 'out'>) {
  const out = path.join(dir, `r${n++}.arrow`);
  const report = await recordExpertDemonstrations({ ...opts, out });
  return { bytes: fs.readFileSync(out), demos: await readDemonstrations(out), report };
}

/** sha256 of every column of a recording, in file order (the data, not the metadata). */
function columnsHash(d: Demonstrations): string {
  const h = crypto.createHash('sha256');
  for (const a of [d.obs, d.actions, d.rewards, d.nextObs!, d.terminated, d.truncated, d.episodeId, d.seed, d.step]) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

/** The rows of one seed's episode (everything but the episode id). */
function episodeOf(d: Demonstrations, seed: number) {
  const rows: number[] = [];
  for (let i = 0; i < d.numFrames; i++) if (d.seed[i] === seed) rows.push(i);
  const pick = (a: Float32Array | Uint8Array | Int32Array, w: number) => rows.flatMap((r) => Array.from(a.subarray(r * w, (r + 1) * w)));
  return { frames: rows.length, obs: pick(d.obs, d.obsDim), action: pick(d.actions, 2), reward: pick(d.rewards, 1), next: pick(d.nextObs!, d.obsDim), term: pick(d.terminated, 1), trunc: pick(d.truncated, 1), step: pick(d.step, 1) };
}

describe("noiseStreams: 'episode'", () => {
  it('the stream of an episode is new Rng(mixSeed(mixSeed(noiseSeed, 0x6e7365), seed)).jump(), distinct per seed', () => {
    const a = episodeNoiseRng(1, 6);
    const b = new Rng(mixSeed(mixSeed(1, 0x6e7365), 6)).jump();
    const draws = (r: Rng) => [r.uniform(), r.normal(), r.uniform()];
    expect(draws(a)).toEqual(draws(b));
    const firsts = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((s) => episodeNoiseRng(1, s).uniform()));
    expect(firsts.size).toBe(8);
    expect(episodeNoiseRng(2, 6).uniform()).not.toBe(episodeNoiseRng(1, 6).uniform());
  });

  it('action noise: workers 1, 2 and 3 write the same bytes, in threads, and the metadata says episode', async () => {
    const opts = { seeds: [0, 1, 2, 3], env: ENV, actionNoise: [0.2, 0.2] as const, noiseSeed: 1, noiseStreams: 'episode' as const, batchRows: 70 };
    const one = await record(opts);
    expect(one.report.noiseStreams).toBe('episode');
    expect(one.report.counts.frames_kept).toBeGreaterThan(140); // several record batches
    for (const workers of [2, 3]) {
      const many = await record({ ...opts, workers, shardSize: 1 });
      expect(many.report.threads).toBe(workers);
      expect(many.report.sequentialReason).toBeUndefined();
      expect(many.report.counts).toEqual(one.report.counts);
      expect(many.bytes.equals(one.bytes)).toBe(true);
    }
    const policy = JSON.parse(one.demos.metadata.raw.policy!) as Record<string, unknown>;
    expect(policy).toMatchObject({ action_noise: [0.2, 0.2], noise_seed: 1, noise_streams: 'episode', driver: null });
    // The noise is executed (the states differ from the run-mode stream's and from no noise).
    const run = await record({ ...opts, noiseStreams: 'run' });
    const plain = await record({ seeds: opts.seeds, env: ENV, batchRows: 70 });
    expect(columnsHash(one.demos)).not.toBe(columnsHash(run.demos));
    expect(columnsHash(one.demos)).not.toBe(columnsHash(plain.demos));
  }, 60_000);

  it('DAgger driver folder with expert mixture and noise: 2 workers write what 1 writes', async () => {
    const before = tf.memory().numTensors;
    const opts = { seeds: [0, 1, 2], env: ENV, driverDir, expertProbability: 0.5, noiseSeed: 3, noiseStreams: 'episode' as const };
    const one = await record(opts);
    const two = await record({ ...opts, workers: 2, shardSize: 1 });
    expect(two.report.threads).toBe(2);
    expect(two.report.sequentialReason).toBeUndefined();
    expect(two.bytes.equals(one.bytes)).toBe(true);
    // A mixture-only recording records its stream's seed in episode mode.
    expect(JSON.parse(one.demos.metadata.raw.policy!)).toMatchObject({ action_noise: null, noise_seed: 3, noise_streams: 'episode', driver: { expert_probability: 0.5 } });
    const noisy = { ...opts, actionNoise: [0.1, 0.1] as const };
    const nOne = await record(noisy);
    const nTwo = await record({ ...noisy, workers: 2, shardSize: 2 });
    expect(nTwo.report.threads).toBe(2);
    expect(nTwo.bytes.equals(nOne.bytes)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('an episode does not depend on the seeds before it: seed 6 alone = seed 6 after seed 5 (unlike run mode)', async () => {
    const base = { env: ENV, driverDir, expertProbability: 0.5, actionNoise: [0.2, 0.2] as const, noiseSeed: 4 };
    const ep6 = async (seeds: number[], noiseStreams: NoiseStreams) => episodeOf((await record({ ...base, seeds, noiseStreams })).demos, 6);
    const alone = await ep6([6], 'episode');
    const after5 = await ep6([5, 6], 'episode');
    expect(alone.frames).toBeGreaterThan(20);
    expect(after5).toEqual(alone);
    // In run mode the stream runs on from seed 5's draws, so seed 6 is played differently.
    expect(await ep6([5, 6], 'run')).not.toEqual(await ep6([6], 'run'));
  }, 60_000);
});

describe("noiseStreams: 'run' (the default)", () => {
  // Pinned from the code before noiseStreams existed (commit b16f932): the data columns and the
  // policy metadata of a noisy and of a DAgger-mixture recording. If the env's dynamics or the
  // expert change on purpose, these hashes change with them.
  const PINNED = {
    noisy: {
      opts: { seeds: [0, 1], env: ENV, actionNoise: [0.2, 0.2] as const, noiseSeed: 1 },
      frames: 107,
      hash: '86669383df73dad4af46aee9aba68f23e0a605484ce8f44c21bbe4e0f450e72a',
      policy: '{"name":"expert","seeds":[0,2],"frames_budget":null,"action_noise":[0.2,0.2],"noise_seed":1,"driver":null}',
    },
    dagger: {
      opts: { seeds: [0, 1], env: ENV, expertProbability: 0.5, noiseSeed: 3 },
      frames: 118,
      hash: '21a2037f8f62121609ddaa6e2cf537c86256ae07a8cbd224fc8115efe184532c',
      policy: '{"name":"expert","seeds":[0,2],"frames_budget":null,"action_noise":null,"noise_seed":null,"driver":{"expert_probability":0.5}}',
    },
  };

  it('noisy and DAgger-mixture recordings are unchanged, omitted or explicit, and stay in this thread with workers', async () => {
    for (const [name, p] of Object.entries(PINNED)) {
      const opts = name === 'dagger' ? { ...p.opts, driverDir } : p.opts;
      const omitted = await record(opts);
      expect(omitted.report.noiseStreams).toBe('run');
      expect(omitted.demos.numFrames).toBe(p.frames);
      expect(columnsHash(omitted.demos)).toBe(p.hash);
      expect(omitted.demos.metadata.raw.policy).toBe(p.policy);
      const explicit = await record({ ...opts, noiseStreams: 'run', workers: 2 });
      expect(explicit.report.threads).toBe(1);
      expect(explicit.report.sequentialReason).toMatch(name === 'dagger' ? /expert-mixture/ : /action-noise/);
      expect(explicit.bytes.equals(omitted.bytes)).toBe(true);
    }
  }, 60_000);

  it('an unknown mode is a ConfigError naming noiseStreams', async () => {
    const err = await recordExpertDemonstrations({ out: path.join(dir, 'bad.arrow'), seeds: [0], env: ENV, noiseStreams: 'shard' as NoiseStreams }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ field: 'noiseStreams', expected: ['run', 'episode'], found: 'shard' });
    expect(fs.existsSync(path.join(dir, 'bad.arrow'))).toBe(false);
  });
});

describe('drivekit env record-expert --noise-streams', () => {
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['env', 'record-expert', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  };

  it('episode: --workers 2 writes the file of --workers 1 in 2 threads; the JSON report names the mode', async () => {
    const run = async (workers: number, extra: string[]) => {
      const out = path.join(dir, `cli-${workers}-${n++}.arrow`);
      const r = await cli(['--seeds', '0:4', '--map', '3', '--horizon', '60', '--action-noise', '0.2,0.2', '--noise-seed', '1', ...extra, '--out', out, '--workers', String(workers), '--json', '--quiet']);
      expect(r.code).toBe(0);
      return { bytes: fs.readFileSync(out), summary: JSON.parse(r.out.at(-1)!) as Record<string, unknown> };
    };
    const one = await run(1, ['--noise-streams', 'episode']);
    const two = await run(2, ['--noise-streams', 'episode']);
    expect(one.summary).toMatchObject({ threads: 1, noise_streams: 'episode' });
    expect(two.summary).toMatchObject({ threads: 2, noise_streams: 'episode' });
    expect(two.summary.sequential_reason).toBeUndefined();
    expect(two.bytes.equals(one.bytes)).toBe(true);
    const dflt = await run(2, []);
    expect(dflt.summary).toMatchObject({ threads: 1, noise_streams: 'run' });
    expect(dflt.summary.sequential_reason).toMatch(/action-noise/);
  }, 60_000);

  it('a bad value names the flag, the expected values and the value found, exit 2', async () => {
    const out = path.join(dir, 'bad-cli.arrow');
    const r = await cli(['--seeds', '0:2', '--out', out, '--noise-streams', 'shard']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('Option --noise-streams: expected run or episode, found "shard".');
    expect(fs.existsSync(out)).toBe(false);
  });
});
