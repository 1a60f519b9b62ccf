import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { makeEnv } from '../../src/env/spaces.js';
import { SyncVectorEnv } from '../../src/env/sync-vector-env.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { RolloutBuffer, explainedVariance } from '../../src/rl/buffers/rollout-buffer.js';
import { VecNormalize, RunningMeanStd } from '../../src/rl/common/running-norm.js';
import type { VecEnvLike } from '../../src/rl/common/vec-env.js';
import { classicVecEnv, trainClassicPPO } from '../../src/rl/ppo/classic.js';
import { normalizeAdvantages, ppoLoss, ppoStats } from '../../src/rl/ppo/loss.js';
import { PPO } from '../../src/rl/ppo/ppo.js';
import { PPO_PRESETS } from '../../src/rl/ppo/presets.js';

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

function cartPolePolicy(seed = 0): ActorCriticPolicy {
  return new ActorCriticPolicy({ obsDim: 4, actionType: 'discrete', actionDim: 2, hidden: [16, 16], seed });
}

function pendulumPolicy(seed = 0): ActorCriticPolicy {
  return new ActorCriticPolicy({ obsDim: 3, actionType: 'box', actionDim: 1, hidden: [16, 16], seed });
}

const SMALL = { nSteps: 16, batchSize: 16, nEpochs: 2 } as const;

function weights(p: ActorCriticPolicy): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of p.stateDict()) out[k] = [...t.data];
  return out;
}

describe('RolloutBuffer GAE', () => {
  it('matches hand-computed returns for terminal, time-limit and mid-rollout cases', () => {
    const gamma = 0.9;
    const lam = 0.8;
    const buf = new RolloutBuffer({ nSteps: 3, numEnvs: 2, obsDim: 1, actionWidth: 1, gamma, gaeLambda: lam });
    const z = new Float32Array(2);
    // env 0: rewards 1,2,3; its episode ends after step 0 (step 1 starts a new episode);
    // env 1: rewards 1,1,1, no episode end inside, rollout cut mid-episode (bootstrap from lastValues).
    const values = [
      [0.5, 1.0],
      [0.25, 2.0],
      [0.75, 3.0],
    ];
    const rewards = [
      [1, 1],
      [2, 1],
      [3, 1],
    ];
    const starts = [
      [1, 1],
      [1, 0],
      [0, 0],
    ];
    for (let t = 0; t < 3; t++) buf.add(z, z, rewards[t]!, starts[t]!, Float32Array.from(values[t]!), z);
    // env 0 terminates at the last step (dones = 1): no bootstrap; env 1 continues: V_last = 4.
    buf.computeReturnsAndAdvantage([10, 4], [1, 0]);
    // env 0, backwards: t2: δ = 3 − 0.75 = 2.25, A = 2.25
    //                   t1: δ = 2 + 0.9·0.75 − 0.25 = 2.425, A = 2.425 + 0.72·2.25 = 4.045
    //                   t0: next is an episode start → δ = 1 − 0.5 = 0.5, A = 0.5
    const a0 = [0.5, 2.425 + 0.72 * 2.25, 2.25];
    // env 1: t2: δ = 1 + 0.9·4 − 3 = 1.6, A = 1.6
    //        t1: δ = 1 + 0.9·3 − 2 = 1.7, A = 1.7 + 0.72·1.6 = 2.852
    //        t0: δ = 1 + 0.9·2 − 1 = 1.8, A = 1.8 + 0.72·2.852 = 3.85344
    const a1 = [1.8 + 0.72 * (1.7 + 0.72 * 1.6), 1.7 + 0.72 * 1.6, 1.6];
    for (let t = 0; t < 3; t++) {
      expect(buf.advantages[t * 2]).toBeCloseTo(a0[t]!, 5);
      expect(buf.advantages[t * 2 + 1]).toBeCloseTo(a1[t]!, 5);
      expect(buf.returns[t * 2]).toBeCloseTo(a0[t]! + values[t]![0]!, 5);
      expect(buf.returns[t * 2 + 1]).toBeCloseTo(a1[t]! + values[t]![1]!, 5);
    }
  });

  it('λ = 1 gives discounted Monte-Carlo returns and λ = 0 one-step TD targets', () => {
    for (const lam of [0, 1]) {
      const buf = new RolloutBuffer({ nSteps: 4, numEnvs: 1, obsDim: 1, actionWidth: 1, gamma: 0.5, gaeLambda: lam });
      const z = new Float32Array(1);
      const v = [0.1, 0.2, 0.3, 0.4];
      for (let t = 0; t < 4; t++) buf.add(z, z, [1], [t === 0 ? 1 : 0], Float32Array.of(v[t]!), z);
      buf.computeReturnsAndAdvantage([2], [0]);
      if (lam === 1) {
        // R_t = Σ γ^k r + γ^(4−t) V_last
        const mc = [1 + 0.5 + 0.25 + 0.125 + 0.0625 * 2, 1 + 0.5 + 0.25 + 0.125 * 2, 1 + 0.5 + 0.25 * 2, 1 + 0.5 * 2];
        mc.forEach((r, t) => expect(buf.returns[t]).toBeCloseTo(r, 5));
      } else {
        const td = [1 + 0.5 * 0.2, 1 + 0.5 * 0.3, 1 + 0.5 * 0.4, 1 + 0.5 * 2];
        td.forEach((r, t) => expect(buf.returns[t]).toBeCloseTo(r, 5));
      }
    }
  });

  it('explained variance is 1 for perfect predictions and 0 for the mean', () => {
    expect(explainedVariance([1, 2, 3], [1, 2, 3])).toBeCloseTo(1, 12);
    expect(explainedVariance([2, 2, 2], [1, 2, 3])).toBeCloseTo(0, 12);
  });
});

describe('PPO loss', () => {
  it('matches a hand-computed batch (clipped surrogate, clipped value loss, entropy)', () => {
    const logProb = [-0.5, -1.0, -0.2, -2.0];
    const old = [-0.6, -0.5, -0.2, -1.5];
    const adv = [1.0, -2.0, 0.5, 3.0];
    const values = [0.5, 1.5, -0.3, 2.0];
    const oldValues = [0.4, 1.0, -0.1, 2.5];
    const returns = [1.0, 1.2, 0.0, 1.0];
    const entropy = [0.7, 0.8, 0.9, 1.0];
    const s = { clipRange: 0.2, clipRangeVf: 0.3, entCoef: 0.01, vfCoef: 0.5, normalizeAdvantage: true };
    // Hand computation in float64.
    const n = 4;
    const m = adv.reduce((a, b) => a + b) / n;
    const sd = Math.sqrt(adv.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    const an = adv.map((a) => (a - m) / (sd + 1e-8));
    let pg = 0;
    let vf = 0;
    for (let i = 0; i < n; i++) {
      const r = Math.exp(logProb[i]! - old[i]!);
      pg += Math.min(an[i]! * r, an[i]! * Math.min(Math.max(r, 0.8), 1.2));
      const vp = oldValues[i]! + Math.min(Math.max(values[i]! - oldValues[i]!, -0.3), 0.3);
      vf += (returns[i]! - vp) ** 2;
    }
    pg = -pg / n;
    vf /= n;
    const ent = -entropy.reduce((a, b) => a + b) / n;
    const total = pg + 0.01 * ent + 0.5 * vf;
    const before = tf.memory().numTensors;
    const t = tf.tidy(() => {
      const terms = ppoLoss(
        { logProb: tf.tensor1d(logProb), oldLogProbs: tf.tensor1d(old), advantages: tf.tensor1d(adv), values: tf.tensor1d(values), oldValues: tf.tensor1d(oldValues), returns: tf.tensor1d(returns), entropy: tf.tensor1d(entropy) },
        s,
      );
      return [terms.total, terms.policyLoss, terms.valueLoss, terms.entropyLoss].map((x) => x.dataSync()[0]!);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(t[1]).toBeCloseTo(pg, 5);
    expect(t[2]).toBeCloseTo(vf, 5);
    expect(t[3]).toBeCloseTo(ent, 5);
    expect(t[0]).toBeCloseTo(total, 5);
    const st = ppoStats(logProb, old, 0.2);
    // ratios: e^0.1, e^-0.5, 1, e^-0.5 → |r−1| > 0.2 for entries 1 and 3.
    expect(st.clipFraction).toBe(0.5);
    const kl = [0.1, -0.5, 0, -0.5].reduce((a, lr) => a + (Math.exp(lr) - 1 - lr), 0) / 4;
    expect(st.approxKl).toBeCloseTo(kl, 12);
  });

  it('advantage normalisation leaves a single sample unchanged', () => {
    const x = tf.tensor1d([3]);
    const y = normalizeAdvantages(x);
    expect([...y.dataSync()]).toEqual([3]);
    tf.dispose([x, y]);
  });
});

describe('ActorCriticPolicy', () => {
  it('host-side log-probabilities of sampled actions equal evaluateActions (box and discrete)', () => {
    for (const p of [pendulumPolicy(3), cartPolePolicy(3)]) {
      const n = 5;
      const obs = new Float32Array(n * p.config.obsDim).map((_, i) => Math.sin(i));
      const act = p.act(obs, n, { rng: new Rng(1) });
      const before = tf.memory().numTensors;
      const lp = tf.tidy(() => p.evaluateActions(tf.tensor2d(obs, [n, p.config.obsDim]), tf.tensor2d(act.actions, [n, p.actionWidth])).logProb.dataSync());
      expect(tf.memory().numTensors).toBe(before);
      for (let i = 0; i < n; i++) expect(lp[i]).toBeCloseTo(act.logProbs[i]!, 4);
      p.dispose();
    }
  });

  it('orthogonal init: trunk weights have orthonormal rows times sqrt 2', () => {
    const p = new ActorCriticPolicy({ obsDim: 8, actionType: 'box', actionDim: 2, hidden: [4], seed: 0 });
    const w = p.stateDict().get('mlp_extractor.policy_net.0.weight')!; // [4, 8] torch layout
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        let dot = 0;
        for (let j = 0; j < 8; j++) dot += (w.data[a * 8 + j] as number) * (w.data[b * 8 + j] as number);
        expect(dot).toBeCloseTo(a === b ? 2 : 0, 4);
      }
    }
    p.dispose();
  });

  it('saves and loads for inference; a checkpoint for another env is an InputError naming the tensor', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-policy-'));
    const p = cartPolePolicy(1);
    await p.save(dir);
    const { policy: q } = await ActorCriticPolicy.load(dir);
    const obs = Float32Array.of(0.1, 0.2, 0.3, 0.4);
    expect([...q.act(obs, 1, { deterministic: true }).values]).toEqual([...p.act(obs, 1, { deterministic: true }).values]);
    const other = new ActorCriticPolicy({ obsDim: 5, actionType: 'discrete', actionDim: 2, hidden: [16, 16] });
    let err: unknown;
    try {
      other.loadStateDict(p.stateDict(), 'x.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('mlp_extractor.policy_net.0.weight');
    expect((err as InputError).expected).toEqual([16, 5]);
    expect((err as InputError).found).toEqual([16, 4]);
    [p, q, other].forEach((x) => x.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('PPO', () => {
  it('rejects a policy whose spaces do not match the environment, naming the field', () => {
    const env = classicVecEnv('CartPole-v1', 2, 0);
    const p = pendulumPolicy();
    expect(() => new PPO(p, env, SMALL)).toThrow(ConfigError);
    try {
      new PPO(p, env, SMALL);
    } catch (e) {
      expect((e as ConfigError).field).toBe('policy.obsDim');
    }
    p.dispose();
    expect(() => new PPO(cartPolePolicy(), env, { nSteps: 4, batchSize: 64 })).toThrow(/batchSize/);
  });

  it('the same seed gives the same run; no tensor leaks over 1,000 updates', async () => {
    const run = async (iterations: number) => {
      const p = cartPolePolicy(7);
      const ppo = new PPO(p, classicVecEnv('CartPole-v1', 2, 7), { nSteps: 16, batchSize: 4, nEpochs: 5, seed: 7 });
      const logs = [];
      for (let i = 0; i < iterations; i++) logs.push(ppo.iterate(1e9));
      const w = weights(p);
      ppo.dispose();
      p.dispose();
      return { logs: logs.map((l) => [l['train/value_loss'], l['train/approx_kl'], l['rollout/ep_rew_mean'] ?? null]), w };
    };
    const before = tf.memory().numTensors;
    const a = await run(3);
    const b = await run(3);
    expect(b).toEqual(a);
    // 25 iterations x 5 epochs x 8 minibatches = 1,000 updates.
    const p = cartPolePolicy(1);
    const ppo = new PPO(p, classicVecEnv('CartPole-v1', 2, 1), { nSteps: 16, batchSize: 4, nEpochs: 5, seed: 1 });
    ppo.iterate(1e9);
    const mid = tf.memory().numTensors;
    for (let i = 0; i < 24; i++) ppo.iterate(1e9);
    expect(ppo.optimizer.stepCount).toBe(1000);
    expect(tf.memory().numTensors).toBe(mid);
    ppo.dispose();
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('resume continues bit-identically (classic envs snapshot their state)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-ppo-'));
    const cfg = { nSteps: 16, batchSize: 8, nEpochs: 2, seed: 3, normObs: true, normReward: true };
    const straight = new PPO(pendulumPolicy(3), classicVecEnv('Pendulum-v1', 2, 3), cfg);
    await straight.learn(32 * 4);
    const first = new PPO(pendulumPolicy(3), classicVecEnv('Pendulum-v1', 2, 3), cfg);
    await first.learn(32 * 2, { checkpointDir: dir });
    const resumed = await PPO.load(dir, classicVecEnv('Pendulum-v1', 2, 99), { config: cfg });
    expect(resumed.numTimesteps).toBe(64);
    await resumed.learn(32 * 4);
    expect(weights(resumed.policy)).toEqual(weights(straight.policy));
    expect(resumed.normalizer!.state()).toEqual(straight.normalizer!.state());
    await expect(PPO.load(dir, classicVecEnv('Pendulum-v1', 2, 3), { config: { gamma: 0.5 } })).rejects.toMatchObject({ field: 'gamma' });
    for (const x of [straight, first, resumed]) {
      x.dispose();
      x.policy.dispose();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a NaN reward from the environment stops training naming the timestep', () => {
    const inner = classicVecEnv('Pendulum-v1', 1, 0);
    let steps = 0;
    const env: VecEnvLike = {
      numEnvs: 1,
      observationSpace: inner.observationSpace,
      actionSpace: inner.actionSpace,
      reset: () => inner.reset(),
      step: (a) => {
        const r = inner.step(a);
        steps += 1;
        return steps === 5 ? { ...r, rewards: Float32Array.of(NaN) } : r;
      },
    };
    const p = pendulumPolicy();
    const ppo = new PPO(p, env, { nSteps: 8, batchSize: 8, nEpochs: 1 });
    let err: unknown;
    try {
      ppo.iterate(100);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('reward');
    expect((err as Error).message).toMatch(/timestep 4/);
    ppo.dispose();
    p.dispose();
  });

  it('learns CartPole-v1 with the cleanrl preset (short run)', async () => {
    const r = await trainClassicPPO('CartPole-v1', { timesteps: 24_576, seed: 2 });
    // A random policy averages about 22; the cleanrl reference passes 100 around this budget.
    expect(r.curve.length).toBeGreaterThan(100);
    const early = r.curve[20]![1];
    expect(r.finalMean).toBeGreaterThan(50);
    expect(r.finalMean).toBeGreaterThan(2 * early);
    r.policy.dispose();
  }, 120_000);

  it('time-limit truncations are bootstrapped with gamma V(final obs), or treated as terminal when asked', () => {
    for (const bootstrapTimeouts of [true, false]) {
      const p = pendulumPolicy(1);
      // Pendulum truncates at 200 steps: one env, 256 steps cover one truncation.
      const ppo = new PPO(p, classicVecEnv('Pendulum-v1', 1, 0), { nSteps: 256, batchSize: 64, nEpochs: 1, bootstrapTimeouts });
      ppo.collectRollouts(new Rng(0));
      const b = ppo.buffer;
      const nonZero = [...b.bootstrap].map((v, i) => [v, i] as const).filter(([v]) => v !== 0);
      if (bootstrapTimeouts) {
        expect(nonZero.map(([, i]) => i)).toEqual([199]);
        expect(b.rewards[199]).toBeCloseTo(b.envRewards[199]! + nonZero[0]![0], 5);
      } else {
        expect(nonZero).toEqual([]);
      }
      expect(b.episodeStarts[200]).toBe(1);
      ppo.dispose();
      p.dispose();
    }
  });

  it('presets keep the reference settings', () => {
    expect(PPO_PRESETS['CartPole-v1'].ppo).toMatchObject({ nSteps: 128, batchSize: 128, nEpochs: 4, learningRate: 2.5e-4, lrSchedule: 'linear', entCoef: 0.01 });
    expect(PPO_PRESETS['Pendulum-v1'].ppo).toMatchObject({ nSteps: 1024, gamma: 0.9, learningRate: 1e-3, nEpochs: 10 });
  });
});

describe('VecNormalize', () => {
  it('RunningMeanStd merges batches like one big batch', () => {
    const data = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3 + i * 0.1);
    const a = new RunningMeanStd(2, 0);
    a.count = 0;
    a.update(data.slice(0, 20), 10);
    a.update(data.slice(20), 10);
    const mean = [0, 1].map((j) => data.filter((_, i) => i % 2 === j).reduce((s, v) => s + v, 0) / 20);
    const vr = [0, 1].map((j) => data.filter((_, i) => i % 2 === j).reduce((s, v) => s + (v - mean[j]!) ** 2, 0) / 20);
    expect(a.mean[0]).toBeCloseTo(mean[0]!, 9);
    expect(a.var[1]).toBeCloseTo(vr[1]!, 9);
  });

  it('frozen statistics do not move at evaluation', () => {
    const v = new VecNormalize(2, 1);
    v.normalizeObs(Float32Array.of(5, 5), 1);
    const s = JSON.stringify(v.state());
    v.training = false;
    v.normalizeObs(Float32Array.of(50, -50), 1);
    v.normalizeReward(Float32Array.of(3), [0]);
    expect(JSON.stringify(v.state())).toBe(s);
  });

  it('works with any gymnasium env through SyncVectorEnv', () => {
    const env = new SyncVectorEnv((i) => makeEnv('Pendulum-v1', { seed: i }), 2, { seed: 0 });
    expect(env.reset().obs.length).toBe(6);
  });
});
