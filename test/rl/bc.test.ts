import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { VectorEnv } from '../../src/env/vector-env.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { BCTrainer, VecNormalize, bcLearningRate, bcLoss, bceWithLogits, readDemonstrations, recordExpertDemonstrations, smoothL1, splitByEpisode, type BCConfig, type Demonstrations } from '../../src/rl/index.js';
import { PPO } from '../../src/rl/ppo/ppo.js';

/** Small, fast scenarios: no traffic, 3 blocks, 60 steps. */
const SMALL_ENV = { traffic_density: 0, map: 3, horizon: 60 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-bc-'));
let demos: Demonstrations;

beforeAll(async () => {
  await init({ backend: 'wasm' });
  const file = path.join(tmp(), 'demos.arrow');
  await recordExpertDemonstrations({ out: file, seeds: [0, 1, 2, 3, 4, 5, 6, 7], env: SMALL_ENV });
  demos = await readDemonstrations(file, { expectObsDim: 259, expectActDim: 2, nextObs: false });
}, 60_000);

const student = (seed = 0, hidden = [32, 32]) => new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden, seed });
const FAST: Partial<BCConfig> = { epochs: 4, batchSize: 64, valFraction: 0.25, patience: null };

function weights(p: ActorCriticPolicy): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of p.stateDict()) out[k] = [...t.data];
  return out;
}

describe('bcLoss', () => {
  const settings = { steerWeight: 1, throttleWeight: 2, signWeight: 0.5, signScale: 5, smoothL1Beta: 1 };

  it('matches hand-computed smooth-L1 and sign BCE', () => {
    const mean = tf.tensor2d([0.5, 0.2, -1.5, -0.4], [2, 2]);
    const expert = tf.tensor2d([0, 0.6, 0.5, -0.1], [2, 2]);
    const t = bcLoss(mean, expert, settings);
    // steering errors 0.5 (quadratic: 0.5·0.25) and -2 (linear: 2 - 0.5)
    const steer = (0.125 + 1.5) / 2;
    // throttle errors -0.4 and -0.3, both quadratic
    const throttle = (0.5 * 0.16 + 0.5 * 0.09) / 2;
    // logits 5·0.2 = 1 (target 1) and 5·(-0.4) = -2 (target 0)
    const sign = (Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(-2))) / 2;
    expect(t.steer.dataSync()[0]).toBeCloseTo(steer, 6);
    expect(t.throttle.dataSync()[0]).toBeCloseTo(throttle, 6);
    expect(t.signBce.dataSync()[0]).toBeCloseTo(sign, 6);
    expect(t.total.dataSync()[0]).toBeCloseTo(steer + 2 * throttle + 0.5 * sign, 6);
    tf.dispose([mean, expert, t.total, t.steer, t.throttle, t.signBce]);
  });

  it('smooth-L1 follows torch for another beta; BCE is stable for large logits', () => {
    const x = tf.tensor1d([0.3, -2, 0]);
    expect([...smoothL1(x, 0.5).dataSync()].map((v) => Number(v.toFixed(6)))).toEqual([0.09, 1.75, 0]);
    expect([...smoothL1(x, 0).dataSync()].map((v) => Number(v.toFixed(6)))).toEqual([0.3, 2, 0]);
    const b = bceWithLogits(tf.tensor1d([100, -100, 0]), tf.tensor1d([1, 1, 0]));
    const v = b.dataSync();
    expect(v[0]).toBeCloseTo(0, 6);
    expect(v[1]).toBeCloseTo(100, 4);
    expect(v[2]).toBeCloseTo(Math.LN2, 6);
    tf.dispose([x, b]);
  });

  it('the loss is differentiable (gradients reach the mean)', () => {
    const m = tf.variable(tf.tensor2d([0.5, 0.2, -1.5, -0.4], [2, 2]));
    const expert = tf.tensor2d([0, 0.6, 0.5, -0.1], [2, 2]);
    const { grads, value } = tf.variableGrads(() => bcLoss(m, expert, settings).total, [m]);
    const g = grads[m.name]!.dataSync();
    // d steer / d mu_steer = (x/β)/B for |x| < β, sign(x)/B beyond: 0.5/2 and -1/2
    expect(g[0]).toBeCloseTo(0.25, 5);
    expect(g[2]).toBeCloseTo(-0.5, 5);
    tf.dispose([m, expert, value, ...Object.values(grads)]);
  });
});

describe('BC schedule and split', () => {
  it('cosine and linear annealing reach the floor at the end', () => {
    const c = { learningRate: 1e-3, minLearningRate: 1e-5, lrSchedule: 'cosine' as const };
    expect(bcLearningRate(c, 0, 100)).toBeCloseTo(1e-3, 12);
    expect(bcLearningRate(c, 50, 100)).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
    expect(bcLearningRate(c, 100, 100)).toBeCloseTo(1e-5, 12);
    expect(bcLearningRate({ ...c, lrSchedule: 'linear' }, 25, 100)).toBeCloseTo(1e-3 + (1e-5 - 1e-3) * 0.25, 12);
    expect(bcLearningRate({ ...c, lrSchedule: 'constant' }, 99, 100)).toBe(1e-3);
  });

  it('splits by episode, reproducibly from the seed', () => {
    const a = splitByEpisode(demos, 0.25, new Rng(1));
    const b = splitByEpisode(demos, 0.25, new Rng(1));
    expect(a.valEpisodes).toEqual(b.valEpisodes);
    expect(a.valEpisodes.length).toBe(2);
    expect(a.trainRows.length + a.valRows.length).toBe(demos.numFrames);
    const valEps = new Set(a.valEpisodes);
    for (const r of a.trainRows) expect(valEps.has(demos.episodeId[r]!)).toBe(false);
    for (const r of a.valRows) expect(valEps.has(demos.episodeId[r]!)).toBe(true);
  });
});

describe('BCTrainer', () => {
  it('lowers the validation loss on a fixed dataset, leak-free', async () => {
    const policy = student();
    const bc = new BCTrainer(policy, demos, { ...FAST, epochs: 8 });
    const before = bc.validate().loss;
    const n0 = tf.memory().numTensors;
    bc.iterate();
    bc.iterate();
    expect(tf.memory().numTensors).toBe(n0);
    const r = await bc.train();
    expect(tf.memory().numTensors).toBe(n0);
    expect(bc.epoch).toBe(8);
    expect(r.bestValLoss).toBeLessThan(0.5 * before);
    const last = bc.history.at(-1)!;
    expect(last.trainLoss).toBeLessThan(bc.history[0]!.trainLoss);
    expect(last.val.steerMae).toBeGreaterThan(0);
    expect(last.val.signAccuracy).toBeGreaterThan(0.5);
    // BC trains the actor only: the value head and log_std are untouched.
    const fresh = student();
    expect(weights(policy)['value_net.weight']).toEqual(weights(fresh)['value_net.weight']);
    expect(weights(policy).log_std).toEqual([0, 0]);
    expect(weights(policy)['action_net.weight']).not.toEqual(weights(fresh)['action_net.weight']);
    bc.dispose();
    policy.dispose();
    fresh.dispose();
  });

  it('resume continues bit-identically; the best checkpoint loads into PPO unchanged', async () => {
    const dirA = tmp();
    const dirB = tmp();
    const cfg = { ...FAST, normalizeObs: true, seed: 3 };
    const straight = new BCTrainer(student(5), demos, cfg);
    await straight.train({ outDir: dirA });

    const first = new BCTrainer(student(5), demos, cfg);
    await first.train({ outDir: dirB, stopAfter: 2 });
    expect(first.epoch).toBe(2);
    await expect(BCTrainer.resume(dirB, demos, { config: { learningRate: 5e-4 } })).rejects.toMatchObject({ field: 'learningRate', expected: 1e-3, found: 5e-4 });
    const resumed = await BCTrainer.resume(dirB, demos, { config: { epochs: 4, seed: 3 } });
    expect(resumed.epoch).toBe(2);
    await resumed.train({ outDir: dirB });
    expect(resumed.epoch).toBe(4);
    expect(weights(resumed.policy)).toEqual(weights(straight.policy));
    expect(resumed.history.map((h) => h.val.loss)).toEqual(straight.history.map((h) => h.val.loss));
    expect(resumed.optimizer.getState()).toEqual(straight.optimizer.getState());
    expect(fs.readFileSync(path.join(dirB, 'policy.safetensors'))).toEqual(fs.readFileSync(path.join(dirA, 'policy.safetensors')));

    const { policy, extra } = await ActorCriticPolicy.load(dirA);
    expect(extra.algorithm).toBe('BC');
    expect(extra.epoch).toBe(straight.bestEpoch);
    expect(extra.normalizer).toEqual(straight.normalizerState());
    const norm = VecNormalize.fromState(extra.normalizer as ReturnType<VecNormalize['state']>, 1);
    expect(norm.obsRms.mean.length).toBe(259);
    const before = weights(policy);
    const env = new VectorEnv(2, { ...SMALL_ENV, start_seed: 0, num_scenarios: 8 });
    const ppo = new PPO(policy, env, { nSteps: 8, batchSize: 8, nEpochs: 1, normObs: true });
    ppo.normalizer!.setState(extra.normalizer as ReturnType<VecNormalize['state']>);
    expect(ppo.policy).toBe(policy);
    expect(weights(ppo.policy)).toEqual(before);
    await ppo.learn(16);
    expect(ppo.numTimesteps).toBe(16);
    for (const t of [straight, first, resumed]) {
      t.dispose();
      t.policy.dispose();
    }
    ppo.dispose();
    policy.dispose();
  }, 30_000);

  it('bad input: observation width, too few episodes, NaN actions, config typos, non-box students', () => {
    const wide = new ActorCriticPolicy({ obsDim: 300, actionType: 'box', actionDim: 2, hidden: [8] });
    const file = { ...demos, file: 'demos.arrow' };
    expect(() => new BCTrainer(wide, file)).toThrow(InputError);
    try {
      new BCTrainer(wide, file);
    } catch (e) {
      expect(e).toMatchObject({ file: 'demos.arrow', field: 'obs', expected: 300, found: 259 });
    }
    const p = student(0, [8]);
    const oneEpisode = { ...file, episodeId: new Int32Array(demos.numFrames) };
    expect(() => new BCTrainer(p, oneEpisode)).toThrow(expect.objectContaining({ field: 'episode_id', found: 1 }));
    const actions = demos.actions.slice();
    actions[7] = NaN;
    expect(() => new BCTrainer(p, { ...file, actions })).toThrow(expect.objectContaining({ file: 'demos.arrow', field: 'action' }));
    expect(() => new BCTrainer(p, file, { learningRte: 1 } as never)).toThrow(ConfigError);
    expect(() => new BCTrainer(p, file, { minLearningRate: 1, learningRate: 0.1 })).toThrow(expect.objectContaining({ field: 'minLearningRate' }));
    const discrete = new ActorCriticPolicy({ obsDim: 259, actionType: 'discrete', actionDim: 3, hidden: [8] });
    expect(() => new BCTrainer(discrete, file)).toThrow(ConfigError);
    for (const x of [wide, p, discrete]) x.dispose();
  });
});
