import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { MlpDiscriminator } from '../../src/models/discriminator.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { GAIL, type ExpertPairs } from '../../src/rl/gail/gail.js';
import { discriminatorLoss, discriminatorStats, gailReward, softplus } from '../../src/rl/gail/loss.js';
import { drivingShaping, lateralOffsetFromObs } from '../../src/rl/gail/shaping.js';
import { classicVecEnv } from '../../src/rl/ppo/classic.js';
import { PPO } from '../../src/rl/ppo/ppo.js';

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

/** Expert pairs on Pendulum observations: the "expert" always pushes +0.8. */
function expertPairs(n: number, seed = 0): ExpertPairs {
  const rng = new Rng(seed);
  const obs = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const th = rng.uniform(-Math.PI, Math.PI);
    obs[3 * i] = Math.cos(th);
    obs[3 * i + 1] = Math.sin(th);
    obs[3 * i + 2] = rng.uniform(-1, 1);
  }
  return { obs, actions: new Float32Array(n).fill(0.8), n };
}

function makeGail(seed: number, cfg: Record<string, unknown> = {}) {
  const policy = new ActorCriticPolicy({ obsDim: 3, actionType: 'box', actionDim: 1, hidden: [16, 16], seed, logStdInit: 0 });
  const ppo = new PPO(policy, classicVecEnv('Pendulum-v1', 2, seed), { nSteps: 32, batchSize: 32, nEpochs: 1, seed });
  const disc = new MlpDiscriminator({ obsDim: 3, actionDim: 1, hidden: [16, 16], seed });
  const gail = new GAIL(ppo, disc, expertPairs(256, seed), { demoBatchSize: 32, seed, ...cfg });
  const dispose = () => {
    gail.dispose();
    ppo.dispose();
    policy.dispose();
    disc.dispose();
  };
  return { policy, ppo, disc, gail, dispose };
}

describe('GAIL reward and discriminator loss', () => {
  it('the reward is softplus of the logit, finite and ordered for saturated logits', () => {
    const r = gailReward([1e4, 80, 0, -80, -1e4]);
    expect([...r].every(Number.isFinite)).toBe(true);
    expect(r[0]).toBeCloseTo(1e4, 0);
    expect(r[2]).toBeCloseTo(Math.log(2), 6);
    expect(r[4]).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < r.length; i++) expect(r[i]!).toBeLessThanOrEqual(r[i - 1]!);
    // −log(1 − σ(ℓ)) computed naively agrees where it is representable.
    for (const l of [-5, -0.3, 0.7, 4]) expect(softplus(l)).toBeCloseTo(-Math.log(1 - 1 / (1 + Math.exp(-l))), 9);
    const loss = tf.tidy(() => discriminatorLoss(tf.tensor1d([1e4, -1e4, 30, -30]), tf.tensor1d([1, 0, 0, 1])).dataSync()[0]!);
    expect(loss).toBeCloseTo((0 + 0 + 30 + 30) / 4, 3);
    const st = discriminatorStats([2, -1, 3, -4], [1, 1, 0, 0], 0.5);
    expect(st['disc/disc_acc_expert']).toBe(0.5);
    expect(st['disc/disc_acc_gen']).toBe(0.5);
    expect(st['disc/disc_proportion_expert_pred']).toBe(0.5);
  });
});

describe('GAIL', () => {
  it('on a toy problem the discriminator accuracy rises and the reward orders expert above random actions', () => {
    const g = makeGail(1);
    g.ppo.collectRollouts(new Rng(5)); // random-ish generator actions (σ = 1)
    const first = g.gail.trainDiscriminator(g.ppo.buffer)['disc/disc_acc'] as number;
    let last = first;
    for (let i = 0; i < 150; i++) last = g.gail.trainDiscriminator(g.ppo.buffer)['disc/disc_acc'] as number;
    expect(last).toBeGreaterThan(0.8);
    expect(last).toBeGreaterThan(first);
    const e = expertPairs(64, 9);
    const rExpert = gailReward(g.disc.predictLogits(e.obs, e.actions, 64));
    const rng = new Rng(3);
    const rand = Float32Array.from({ length: 64 }, () => rng.uniform(-1, 1));
    const rRandom = gailReward(g.disc.predictLogits(e.obs, rand, 64));
    const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / x.length;
    expect(mean(rExpert)).toBeGreaterThan(mean(rRandom) + 0.3);
    g.dispose();
  });

  it('mixes the rewards as configured and logs one record with PPO and disc keys', () => {
    const g = makeGail(2, { gailWeight: 0, envWeight: 1 });
    const rec = g.gail.iterate(1e9);
    const b = g.ppo.buffer;
    for (let k = 0; k < b.size; k++) expect(b.rewards[k]).toBeCloseTo(b.envRewards[k]! + b.shaping[k]! + b.bootstrap[k]!, 5);
    expect(rec).toHaveProperty('disc/loss');
    expect(rec).toHaveProperty('gail/reward_mean');
    expect(rec).toHaveProperty('train/value_loss');
    g.dispose();
  });

  it('the same seed gives the same run; resume is bit-identical', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-gail-'));
    const straight = makeGail(4);
    const logs = [];
    for (let i = 0; i < 4; i++) logs.push(straight.gail.iterate(1e9)['disc/loss']);
    const again = makeGail(4);
    const logs2 = [];
    for (let i = 0; i < 4; i++) logs2.push(again.gail.iterate(1e9)['disc/loss']);
    expect(logs2).toEqual(logs);
    const first = makeGail(4);
    for (let i = 0; i < 2; i++) first.gail.iterate(1e9);
    await first.gail.save(dir);
    const ppo = await PPO.load(dir, classicVecEnv('Pendulum-v1', 2, 123));
    const disc = new MlpDiscriminator({ obsDim: 3, actionDim: 1, hidden: [16, 16], seed: 77 });
    const resumed = new GAIL(ppo, disc, expertPairs(256, 4), { demoBatchSize: 32, seed: 4 });
    await resumed.restore(dir);
    const tail = [];
    for (let i = 0; i < 2; i++) tail.push(resumed.iterate(1e9)['disc/loss']);
    expect(tail).toEqual(logs.slice(2));
    const w = (p: ActorCriticPolicy) => [...p.stateDict().values()].map((t) => [...t.data]);
    expect(w(ppo.policy)).toEqual(w(straight.policy));
    expect([...disc.stateDict().values()].map((t) => [...t.data])).toEqual([...straight.disc.stateDict().values()].map((t) => [...t.data]));
    for (const g of [straight, again, first]) g.dispose();
    resumed.dispose();
    ppo.dispose();
    ppo.policy.dispose();
    disc.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('no tensor leaks over 1,000 rounds of discriminator updates', () => {
    const g = makeGail(5, { demoBatchSize: 8 });
    g.ppo.collectRollouts(new Rng(1));
    g.gail.trainDiscriminator(g.ppo.buffer);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) g.gail.trainDiscriminator(g.ppo.buffer);
    expect(tf.memory().numTensors).toBe(before);
    expect(g.gail.discOptimizer.stepCount).toBe(2 * 1001);
    g.dispose();
  }, 120_000);

  it('demonstrations of another width are an InputError naming the field, expected and found width', () => {
    const policy = new ActorCriticPolicy({ obsDim: 3, actionType: 'box', actionDim: 1, hidden: [8] });
    const ppo = new PPO(policy, classicVecEnv('Pendulum-v1', 1, 0), { nSteps: 8, batchSize: 8 });
    const disc = new MlpDiscriminator({ obsDim: 3, actionDim: 1 });
    let err: unknown;
    try {
      new GAIL(ppo, disc, { obs: new Float32Array(4 * 10), actions: new Float32Array(10), n: 10, file: 'demos.arrow' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ file: 'demos.arrow', field: 'obs', expected: 3, found: 4 });
    ppo.dispose();
    policy.dispose();
    disc.dispose();
  });
});

describe('driving shaping', () => {
  it('computes lane keeping, off-road, smoothness and progress terms per env', () => {
    const f = drivingShaping({ laneKeeping: 1, offRoad: 5, smoothness: 2, progress: 100 }, 1, 10);
    const obs = new Float32Array(10);
    obs[8] = 0.5 + 1 / 4.5; // lateral offset 1 m
    expect(lateralOffsetFromObs(obs[8]!)).toBeCloseTo(1, 5);
    const a = f([{ route_completion: 0.1 }], Float32Array.of(0.2, 1), 1, obs);
    expect(a.parts.lane_keeping[0]).toBeCloseTo(-1, 5);
    expect(a.parts.progress[0]).toBeCloseTo(10, 4);
    expect(a.parts.smoothness[0]).toBe(0);
    const b = f([{ route_completion: 0.12, out_of_road: true }], Float32Array.of(-0.3, 1), 1, obs);
    expect(b.parts.smoothness[0]).toBeCloseTo(-1, 5);
    expect(b.parts.off_road[0]).toBe(-5);
    expect(b.total[0]).toBeCloseTo(-1 - 5 - 1 + 2, 4);
    // The episode ended: the next step starts from zero progress and no previous steering.
    const c = f([{ route_completion: 0.01 }], Float32Array.of(0.5, 1), 1, obs);
    expect(c.parts.smoothness[0]).toBe(0);
    expect(c.parts.progress[0]).toBeCloseTo(1, 4);
  });
});
