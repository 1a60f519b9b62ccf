import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError } from '../../src/core/errors.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { DiffusionPlanner, type PlannerConfigInput } from '../../src/models/planner.js';
import { lastWaypointReverses } from '../../src/navsim/score-pool.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import type { PdmScene } from '../../src/navsim/types.js';
import { disposeGroupBatch, DiffGrpoTrainer, type GrpoTrainerOptions } from '../../src/rl/grpo/trainer.js';
import { loadPlanner } from '../../src/rl/grpo/reference.js';
import { inProcessPdmReward, poolPdmReward, type RewardFn, trainingWeights } from '../../src/rl/grpo/reward.js';
import { cacheEntry, MetricCache } from '../../src/navsim/metric-cache.js';
import { ProposalScorePool } from '../../src/navsim/score-pool.js';
import { InMemoryIlData, makeSyntheticRows } from '../../src/rl/data/il-data.js';
import { sceneRows } from '../../src/rl/data/scene-dataset.js';
import { main } from '../../src/cli/main.js';

const L = 4, H = 8;
/** The CLI's tiny size (2 blocks, width 32) with scene-token-sized conditioning. */
const TINY: PlannerConfigInput = { numHeads: 2, headDim: 16, numLayers: 2, ditOutputDim: 32, mlpHidden: 64, condDim: H };

let tmp: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-grpo-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const data = new InMemoryIlData(makeSyntheticRows({ rows: 7, condLength: L, condDim: H, seed: 3, conditioningOnly: false }));

/** A cheap deterministic reward: closeness of the final x to 10 m, so groups have spread. */
const fakeReward: RewardFn = async (ids, traj, G) => {
  const n = ids.length * G;
  const reward = new Float64Array(n);
  const progress = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    progress[i] = traj[i * 24 + 21]!;
    reward[i] = Math.exp(-Math.abs(progress[i]! - 10) / 5);
  }
  return { reward, metrics: { ego_progress: progress } };
};
const constantReward: RewardFn = async (ids, _traj, G) => ({ reward: new Float64Array(ids.length * G).fill(0.7), metrics: {} });

function trainer(options: GrpoTrainerOptions & { planner?: DiffusionPlanner; reward?: RewardFn } = {}): DiffGrpoTrainer {
  const planner = options.planner ?? DiffusionPlanner.create(TINY, { seed: 0 });
  return new DiffGrpoTrainer(planner, data, options.reward ?? fakeReward, { ...options, config: { groupSize: 4, scenesPerIteration: 3, iterations: 6, scheduleInterval: 'iteration', ...options.config } });
}

function weights(p: DiffusionPlanner): Float32Array[] {
  return [...p.variables.values()].map((v) => v.dataSync() as Float32Array);
}

describe('DiffGrpoTrainer', () => {
  it('a GRPO step lowers the loss on a fixed batch', async () => {
    const t = trainer({ config: { optimizer: { lr: 1e-4 } } });
    const batch = await t.collect();
    try {
      const before = t.evaluateLoss(batch);
      const step = t.train(batch);
      const after = t.evaluateLoss(batch);
      expect(step.loss).toBeCloseTo(before.loss, 5);
      expect(step.gradNorm).toBeGreaterThan(0);
      expect(Number.isFinite(before.bcLoss)).toBe(true);
      expect(after.loss).toBeLessThan(before.loss);
      expect(after.policyLoss).toBeLessThan(before.policyLoss);
    } finally {
      disposeGroupBatch(batch);
      t.dispose();
      t.planner.dispose();
    }
  });

  it('micro-batches of scenes give the whole-batch step (gradients accumulated)', async () => {
    const whole = trainer();
    const micro = trainer({ config: { microBatchScenes: 1 } });
    const a = await whole.collect();
    const b = await micro.collect();
    try {
      const ra = whole.train(a);
      const rb = micro.train(b);
      expect(rb.loss).toBeCloseTo(ra.loss, 6);
      expect(rb.bcLoss).toBeCloseTo(ra.bcLoss, 5);
      expect(rb.gradNorm).toBeCloseTo(ra.gradNorm, 5);
      const wa = weights(whole.planner), wb = weights(micro.planner);
      let maxDiff = 0;
      wa.forEach((w, i) => w.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - wb[i]![j]!)))));
      expect(maxDiff).toBeLessThan(1e-6);
    } finally {
      disposeGroupBatch(a);
      disposeGroupBatch(b);
      for (const t of [whole, micro]) {
        t.dispose();
        t.planner.dispose();
      }
    }
  });

  it('equal rewards in a group give zero policy gradient', async () => {
    // reversePenalty 0: a reversing plan would otherwise lose 0.5 and break the tie
    const t = trainer({ reward: constantReward, config: { bcCoeff: 0, reversePenalty: 0 } });
    const batch = await t.collect();
    try {
      expect(batch.teacherChain).toBeNull();
      const r = t.train(batch);
      expect(Math.abs(r.policyLoss)).toBe(0);
      expect(Math.abs(r.loss)).toBe(0);
      expect(r.gradNorm).toBe(0);
    } finally {
      disposeGroupBatch(batch);
      t.dispose();
      t.planner.dispose();
    }
  });

  it('rolloutMinStd and rolloutNoiseClip reach the rollout and teacher samplers (null: the planner\'s)', async () => {
    for (const [cfg, expected] of [
      [{ rolloutMinStd: 1e-4, rolloutNoiseClip: 1 }, { minStd: 1e-4, noiseClip: 1 }],
      [{}, { minStd: undefined, noiseClip: undefined }],
    ] as const) {
      const planner = DiffusionPlanner.create(TINY, { seed: 0 });
      const reference = DiffusionPlanner.create(TINY, { seed: 0 });
      const seen: { who: string; minStd: unknown; noiseClip: unknown }[] = [];
      for (const [who, p] of [['policy', planner], ['reference', reference]] as const) {
        const orig = p.sampleChain.bind(p);
        p.sampleChain = (inputs, o = {}) => {
          seen.push({ who, minStd: o.minStd, noiseClip: o.noiseClip });
          return orig(inputs, o);
        };
      }
      const t = trainer({ planner, reference, config: cfg });
      const batch = await t.collect();
      disposeGroupBatch(batch);
      t.dispose();
      planner.dispose();
      expect(seen.map((s) => s.who).sort()).toEqual(['policy', 'reference']);
      for (const s of seen) expect({ minStd: s.minStd, noiseClip: s.noiseClip }).toEqual(expected);
    }
  });

  it('detects plans that reverse at the last waypoint and subtracts reversePenalty from their reward', async () => {
    const t = trainer({ config: { reversePenalty: 0.25 } });
    const batch = await t.collect();
    try {
      let reversing = 0;
      for (let i = 0; i < batch.rewards.length; i++) {
        const rev = lastWaypointReverses(batch.trajectories, i);
        expect(batch.reversing[i]).toBe(rev ? 1 : 0);
        expect(batch.rewards[i]).toBe(batch.scored.reward[i]! - (rev ? 0.25 : 0));
        reversing += rev ? 1 : 0;
      }
      // an untrained planner's plans are noise: some reverse, so the check is not vacuous
      expect(reversing).toBeGreaterThan(0);
    } finally {
      disposeGroupBatch(batch);
      t.dispose();
      t.planner.dispose();
    }
  });

  it('resumes bit-identically (mid-epoch save, epoch boundary after the resume)', async () => {
    const logs = (recs: Record<string, unknown>[]) => recs.map((r) => [r['rollout/reward_mean'], r['train/loss'], r['train/grad_norm']]);
    const straight = trainer({ config: { iterations: 4 } });
    const a: Record<string, unknown>[] = [];
    straight.callbacks.push((e) => void (e.type === 'iteration' && a.push(e.log)));
    await straight.fit();
    const wa = weights(straight.planner);

    const dir = path.join(tmp, 'resume');
    const first = trainer({ config: { iterations: 4 }, outDir: dir });
    await first.fit(2);
    first.dispose();
    first.planner.dispose();
    const second = trainer({ config: { iterations: 4, checkpointEvery: 3 }, outDir: dir });
    await second.resume(path.join(dir, 'last'));
    expect(second.iteration).toBe(2);
    const b: Record<string, unknown>[] = [];
    second.callbacks.push((e) => void (e.type === 'iteration' && b.push(e.log)));
    await second.fit();
    expect(logs(b)).toEqual(logs(a.slice(2)));
    const wb = weights(second.planner);
    wa.forEach((w, i) => expect(Buffer.from(wb[i]!.buffer).equals(Buffer.from(w.buffer))).toBe(true));
    // last/ is a loadable planner checkpoint
    const { planner } = await loadPlanner(dir);
    expect(Buffer.from(weights(planner)[0]!.buffer).equals(Buffer.from(wb[0]!.buffer))).toBe(true);
    for (const t of [straight, second]) {
      t.dispose();
      t.planner.dispose();
    }
    planner.dispose();
  });

  it('a checkpoint whose config differs from the planner is a ConfigError naming the field', async () => {
    const dir = path.join(tmp, 'mismatch');
    const t = trainer({ config: { iterations: 1 }, outDir: dir });
    await t.fit();
    t.dispose();
    t.planner.dispose();
    const other = trainer({ config: { iterations: 1 }, planner: DiffusionPlanner.create({ ...TINY, numLayers: 3 }) });
    const e = await other.resume(path.join(dir, 'last')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('numLayers');
    expect((e as ConfigError).expected).toBe(3);
    expect((e as ConfigError).found).toBe(2);
    const e2 = await loadPlanner(dir, { ...TINY, numHeads: 4 }).catch((x: unknown) => x);
    expect((e2 as ConfigError).field).toBe('numHeads');
    // and a run setting that differs from the checkpoint's
    const g = trainer({ config: { iterations: 1, groupSize: 2 } });
    const e3 = await g.resume(path.join(dir, 'last')).catch((x: unknown) => x);
    expect((e3 as ConfigError).field).toBe('groupSize');
    for (const x of [other, g]) {
      x.dispose();
      x.planner.dispose();
    }
  });

  // 200 iterations of the smallest planner (1 block, width 8, 2 DDIM steps, G = 2, B = 1): every
  // code path of an iteration (rollouts, teacher chains, loss, gradients, AdamW) at a fraction of
  // the tiny size's cost: about 0.1 s an iteration alone, 0.6 s at load average 24 on the shared
  // 2-core machine (hence the long timeout). The count is checked after every iteration, so a leak
  // of even one tensor per iteration fails at iteration 2.
  it('leaks no tensors over 200 iterations (count checked after every iteration)', async () => {
    const planner = DiffusionPlanner.create({ numHeads: 1, headDim: 8, numLayers: 1, ditOutputDim: 8, mlpHidden: 16, condDim: H, numInferenceSteps: 2 }, { seed: 0 });
    const t = trainer({ planner, config: { groupSize: 2, scenesPerIteration: 1, iterations: 200 } });
    await t.fit(1); // first-use tables (kernels, RoPE) are created once
    const counts: number[] = [];
    t.callbacks.push((e) => void (e.type === 'iteration' && counts.push(tf.memory().numTensors)));
    await expectNoTensorLeak(() => t.fit(), 'DiffGrpoTrainer.fit(199 iterations)');
    expect(t.iteration).toBe(200);
    expect(counts).toHaveLength(199);
    expect(new Set(counts).size).toBe(1);
    t.dispose();
    t.planner.dispose();
  }, 600_000);

  it('trains on generated scenes with the in-process PDM reward and logs every sub-metric', async () => {
    const seeds = [0, 1];
    const { rows, scenes } = sceneRows(seeds, { numTokens: L, width: H });
    const byName = new Map<string, PdmScene>(scenes.map((s) => parseScene(s)).map((s) => [s.name, s]));
    const planner = DiffusionPlanner.create(TINY, { seed: 1 });
    const records: Record<string, unknown>[] = [];
    const t = new DiffGrpoTrainer(planner, new InMemoryIlData(rows), inProcessPdmReward(byName, { version: 'v1.1' }), { config: { groupSize: 2, scenesPerIteration: 2, iterations: 1 } });
    t.callbacks.push((e) => void (e.type === 'iteration' && records.push(e.log)));
    await t.fit();
    const r = records[0]!;
    for (const k of ['no_at_fault_collisions', 'drivable_area_compliance', 'ego_progress', 'time_to_collision_within_bound', 'comfort']) expect(Number.isFinite(r[`rollout/${k}`])).toBe(true);
    const score = r['rollout/score_mean'] as number;
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
    for (const k of ['time/sampling_s', 'time/scoring_s', 'time/scoring_wait_s', 'time/backward_s']) expect(r[k]).toBeGreaterThanOrEqual(0);
    expect(trainingWeights('v1.1')).toMatchObject({ progress: 10, ttc: 5, comfort: 2 });
    t.dispose();
    planner.dispose();
  });

  it('scoring through a ProposalScorePool gives the in-process rewards bit for bit', async () => {
    const { scenes } = sceneRows([2, 3], { numTokens: L, width: H });
    const parsed = scenes.map((s) => parseScene(s));
    const ids = parsed.map((s) => s.name);
    const plans = new Float64Array(2 * 3 * 24);
    for (let i = 0; i < 6; i++) for (let k = 0; k < 8; k++) plans.set([(k + 1) * (1 + i), 0.1 * i * k, 0.01 * i], i * 24 + k * 3);
    const a = await inProcessPdmReward(new Map(parsed.map((s) => [s.name, s])), { version: 'v2.2' })(ids, plans, 3);
    const pool = new ProposalScorePool(MetricCache.fromEntries(parsed.map((s) => cacheEntry({ scene: s }, ['v2.2'])), ['v2.2']));
    const b = await poolPdmReward(pool, { version: 'v2.2' })(ids, plans, 3);
    await pool.close();
    expect(Array.from(b.reward)).toEqual(Array.from(a.reward));
    expect(Object.keys(b.metrics).sort()).toEqual(Object.keys(a.metrics).sort());
    expect(new Set(a.reward).size).toBeGreaterThan(1);
  });

  it('a reward function that fails (a dead scorer) fails the iteration, leaving no tensors', async () => {
    const failing: RewardFn = async () => {
      throw new Error('worker 0 exited with code 70');
    };
    const t = trainer({ reward: failing });
    await t.fit(0);
    await expectNoTensorLeak(async () => {
      await expect(t.iterate()).rejects.toThrow('worker 0 exited');
    }, 'a failed iteration');
    t.dispose();
    t.planner.dispose();
  });

  it('drivekit navsim train-grpo: a run from an IL checkpoint, then --resume (settings from run.json)', async () => {
    const il = path.join(tmp, 'cli-il');
    const planner = DiffusionPlanner.create({ preset: 'tiny', condDim: 24 }, { seed: 0 });
    // an "IL checkpoint": a planner checkpoint folder with the conditioning length beside it
    const saver = new DiffGrpoTrainer(planner, new InMemoryIlData(makeSyntheticRows({ rows: 2, condLength: 4, condDim: 24 })), constantReward, { dataInfo: { condLength: 4 } });
    await saver.save(path.join(il, 'last'));
    saver.dispose();
    planner.dispose();
    const out = path.join(tmp, 'cli-grpo');
    const lines: string[] = [], errs: string[] = [];
    const io = { out: (l: string) => void lines.push(l), err: (l: string) => void errs.push(l) };
    const args = ['navsim', 'train-grpo', '--init', il, '--seeds', '0:2', '--out', out, '--iterations', '1', '--group-size', '2', '--scenes-per-iteration', '2', '--quiet', '--json', '--backend', 'wasm'];
    expect(await main(args, io)).toBe(0);
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary.iterations).toBe(1);
    expect(Number.isFinite(summary.reward_mean)).toBe(true);
    for (const f of ['model.safetensors', 'model.json', 'optimizer.safetensors', 'trainer.json', 'data.json']) expect(fs.existsSync(path.join(out, 'last', f))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'last', 'data.json'), 'utf8')).condLength).toBe(4);
    const log = fs.readFileSync(path.join(out, 'progress.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toHaveLength(1);
    expect(log[0]['rollout/ego_progress']).toBeGreaterThanOrEqual(0);
    expect(await main(['navsim', 'train-grpo', '--out', out, '--resume', '--quiet', '--json', '--backend', 'wasm'], io)).toBe(0);
    expect(JSON.parse(lines.at(-1)!).iterations).toBe(1);
    // --resume takes the settings from run.json: a setting flag is refused, naming it
    expect(await main(['navsim', 'train-grpo', '--out', out, '--resume', '--group-size', '4'], io)).toBe(2);
    expect(errs.at(-1)).toContain('--group-size');
  });
});
