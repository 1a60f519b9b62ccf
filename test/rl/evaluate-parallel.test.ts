/**
 * `env evaluate` split over worker threads (`--workers N`, `evaluatePolicyParallel`) equals the
 * one-thread evaluation: the same episodes, outcomes and summary, whatever the shard size.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { main } from '../../src/cli/main.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { evaluatePolicy } from '../../src/rl/common/evaluate.js';
import { evalShards, evaluatePolicyParallel, mergeEvalShards, evaluateShardTask } from '../../src/rl/common/evaluate-shard.js';

const ENV = { map: 3, horizon: 40 };
const SEEDS = [3, 4, 5, 6, 7];
let root: string;
let dir: string;

/** The summary less what depends on the clock. */
function timeless<T extends Record<string, unknown>>(r: T): Omit<T, 'seconds' | 'episodes_per_second' | 'steps_per_second'> {
  const { seconds: _s, episodes_per_second: _e, steps_per_second: _p, ...rest } = r;
  return rest;
}

beforeAll(async () => {
  await init({ backend: 'wasm' });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-eval-par-'));
  dir = path.join(root, 'pol');
  const p = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [8], seed: 5 });
  await p.save(dir, { algorithm: 'test' });
  p.dispose();
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('evaluatePolicyParallel', () => {
  it('2 workers, shards of 2 seeds, 2 stochastic runs: outcomes and summary equal to one thread', async () => {
    const spec = { policyDir: dir, seeds: SEEDS, runs: 2, density: 0.2, deterministic: false, envConfig: ENV, numEnvs: 3, seed: 11 };
    const before = tf.memory().numTensors;
    const { policy } = await ActorCriticPolicy.load(dir);
    const one = evaluatePolicy(policy, { ...spec, normalizer: null });
    policy.dispose();
    const par = await evaluatePolicyParallel(spec, { workers: 2, shardSize: 2 });
    expect(par.outcomes).toEqual(one.outcomes);
    expect(timeless(par)).toEqual(timeless(one));
    expect(par.outcomes[1]!.map((o) => o.seed)).toEqual(SEEDS);
    expect(one.steps).toBeGreaterThan(0);
    // merging shards run in this thread gives the same
    const shards = evalShards(spec, 3);
    expect(shards.map((s) => s.seeds)).toEqual([[3, 4, 5], [6, 7]]);
    expect(shards.every((s) => s.seedBounds[0] === 3 && s.seedBounds[1] === 7)).toBe(true);
    const local = mergeEvalShards(await Promise.all(shards.map(evaluateShardTask)), 1);
    expect(local.outcomes).toEqual(one.outcomes);
    expect(tf.memory().numTensors).toBe(before);
  }, 90_000);

  it('drivekit env evaluate --workers 2 prints what --workers 1 prints (but the timings)', async () => {
    const cmd = ['env', 'evaluate', '--policy', dir, '--seeds', '3:7', '--map', '3', '--horizon', '40', '--json', '--quiet'];
    const run = async (extra: string[]) => {
      const out: string[] = [];
      const code = await main([...cmd, ...extra], { out: (l) => out.push(l), err: () => {} });
      expect(code).toBe(0);
      return JSON.parse(out.at(-1)!) as Record<string, unknown>;
    };
    const one = await run(['--workers', '1']);
    const two = await run(['--workers', '2', '--shard-size', '1']);
    expect(timeless(two)).toEqual(timeless(one));
    expect(one.episodes).toBe(4);
  }, 90_000);
});
