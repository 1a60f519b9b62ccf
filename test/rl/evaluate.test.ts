import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { makePolicy } from '../../src/env/policies.js';
import { DrivingEnv } from '../../src/env/env.js';
import { rollout } from '../../src/env/rollout.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { EVAL_METRICS, VecNormalize, evaluatePolicy, type EvalStepEvent } from '../../src/rl/index.js';

/** Small, fast scenarios: 3 blocks, 40 steps. */
const SMALL_ENV = { map: 3, horizon: 40 };

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

const policyOf = (seed = 0, obsDim = 259) => new ActorCriticPolicy({ obsDim, actionType: 'box', actionDim: 2, hidden: [8, 8], seed });

describe('evaluatePolicy', () => {
  it('reports every metric as a mean over runs with its spread, and each episode', () => {
    const p = policyOf();
    const n0 = tf.memory().numTensors;
    const r = evaluatePolicy(p, { seeds: [0, 1, 2], runs: 2, density: 0, envConfig: SMALL_ENV, numEnvs: 2 });
    expect(tf.memory().numTensors).toBe(n0);
    expect(r.runs).toBe(2);
    expect(r.episodes).toBe(6);
    expect(r.per_run).toHaveLength(2);
    for (const m of EVAL_METRICS) {
      expect(Number.isFinite(r[m])).toBe(true);
      const xs = r.per_run.map((s) => s[m]);
      expect(r[m]).toBeCloseTo((xs[0]! + xs[1]!) / 2, 12);
      expect(r.spread[m].min).toBe(Math.min(...xs));
      expect(r.spread[m].max).toBe(Math.max(...xs));
      expect(r.spread[m].std).toBeCloseTo(Math.abs(xs[0]! - xs[1]!) / Math.SQRT2, 12);
    }
    for (const run of r.per_run) expect(run.success_rate + run.crash_rate + run.out_of_road_rate + run.max_step_rate).toBeCloseTo(1, 12);
    expect(r.outcomes.map((o) => o.map((e) => e.seed))).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
    // A fresh policy's actions are near 0: the car barely moves and the horizon ends every episode.
    expect(r.max_step_rate).toBe(1);
    expect(r.steps).toBe(6 * 40);
    expect(r.deterministic).toBe(true);
    p.dispose();
  });

  it('does not depend on how many episodes are stepped together', () => {
    const p = policyOf(1);
    const a = evaluatePolicy(p, { seeds: [0, 1, 2, 3], density: 0.3, envConfig: SMALL_ENV, numEnvs: 1, runs: 2 });
    const b = evaluatePolicy(p, { seeds: [0, 1, 2, 3], density: 0.3, envConfig: SMALL_ENV, numEnvs: 3, runs: 2 });
    expect(b.outcomes).toEqual(a.outcomes);
    p.dispose();
  });

  it('runs draw their own traffic on the same maps; --same-traffic makes them identical', () => {
    const p = policyOf();
    const firstFrame = (vary: boolean) => {
      const scenes: string[][] = [[], []];
      evaluatePolicy(p, {
        seeds: [0, 1, 2, 3],
        runs: 2,
        density: 0.5,
        envConfig: SMALL_ENV,
        varyTraffic: vary,
        onStep: (e: EvalStepEvent) => {
          if (e.step !== 0) return;
          const cars = e.env.traffic.all.map((t) => `${t.vehicle.x.toFixed(2)},${t.vehicle.y.toFixed(2)}`).join(';');
          scenes[e.run]![e.index] = `${e.env.map.totalLength.toFixed(3)}|${e.env.ego.x.toFixed(3)}|${cars}`;
        },
      });
      return scenes;
    };
    const varied = firstFrame(true);
    const maps = (s: string[]) => s.map((x) => x.split('|').slice(0, 2).join('|'));
    expect(maps(varied[0]!)).toEqual(maps(varied[1]!));
    expect(varied[0]).not.toEqual(varied[1]);
    const same = firstFrame(false);
    expect(same[0]).toEqual(same[1]);
    p.dispose();
  });

  it('uses the same episode summary as env/rollout (route completion, jerk, outcome)', () => {
    // A constant-action policy (action_net weights 0, bias [0, 1]) against the scripted constant policy [0, 1].
    const p = policyOf();
    p.params.get('action_net.weight').assign(tf.zerosLike(p.params.get('action_net.weight')));
    const bias = tf.tensor1d([0, 1]);
    p.params.get('action_net.bias').assign(bias);
    bias.dispose();
    const r = evaluatePolicy(p, { seeds: [0, 1], density: 0, envConfig: SMALL_ENV, varyTraffic: false });
    const env = new DrivingEnv({ ...SMALL_ENV, traffic_density: 0, start_seed: 0, num_scenarios: 2 });
    const ref = rollout(env, makePolicy('constant'), [0, 1]);
    expect(r.outcomes[0]).toEqual(ref.episodes);
    p.dispose();
  });

  it('bad input: another observation width, NaN actions, a normaliser of another width', () => {
    const narrow = policyOf(0, 10);
    try {
      evaluatePolicy(narrow, { seeds: [0], envConfig: SMALL_ENV, source: 'runs/x/policy.json' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ file: 'runs/x/policy.json', field: 'policy.obsDim', expected: 259, found: 10 });
    }
    narrow.dispose();
    const p = policyOf();
    const nan = tf.tensor1d([NaN, 0]);
    p.params.get('action_net.bias').assign(nan);
    nan.dispose();
    try {
      evaluatePolicy(p, { seeds: [0, 1], envConfig: SMALL_ENV, source: 'p.json' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ file: 'p.json', field: 'action', expected: 'finite values' });
      expect((e as Error).message).toMatch(/step 0 \(run 0, seed 0\)/);
    }
    const norm = new VecNormalize(5, 1).state();
    expect(() => evaluatePolicy(p, { seeds: [0], envConfig: SMALL_ENV, normalizer: norm })).toThrow(expect.objectContaining({ field: 'normalizer', expected: 259, found: 5 }));
    p.dispose();
  });
});
