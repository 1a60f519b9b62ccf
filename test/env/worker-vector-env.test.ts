/**
 * `WorkerVectorEnv` (the driving envs stepped by several threads) against the in-process
 * `VectorEnv`: bit-identical observations, rewards, flags, final observations and infos for 1, 2
 * and 3 threads over episodes with auto-resets, seeded resets and a density change; a slice that
 * throws or a thread that exits fails the step with an error (no hang).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { VectorEnv, type VectorStepResult } from '../../src/env/vector-env.js';
import { WorkerVectorEnv } from '../../src/env/worker-vector-env.js';

const CONFIG = { map: 2, horizon: 30, start_seed: 0, num_scenarios: 20, traffic_density: 0.2 };
const N = 5;
const STEPS = 200;

/** Bytes of a float array (bit-identity, NaN and -0 included). */
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** A run's record: reset, 200 steps of seeded random actions (a seeded reset and a density change midway). */
function play(env: { reset(seeds?: readonly number[]): { obs: Float32Array; infos: unknown[] }; step(a: ArrayLike<number>): VectorStepResult; setTrafficDensity(d: number): void }) {
  const rng = new Rng(7);
  const out: unknown[] = [];
  const r0 = env.reset();
  out.push(bits(r0.obs), r0.infos);
  let ends = 0;
  for (let t = 0; t < STEPS; t++) {
    if (t === 80) {
      env.setTrafficDensity(0.05);
      const r = env.reset([3, 4, 5, 6, 7]);
      out.push(bits(r.obs), r.infos);
    }
    const a = new Float64Array(2 * N);
    for (let k = 0; k < a.length; k++) a[k] = k % 2 === 0 ? rng.uniform(-0.3, 0.3) : rng.uniform(-0.2, 1);
    const r = env.step(a);
    out.push(bits(r.obs), bits(r.rewards), [...r.terminated], [...r.truncated], r.finalObs.map((f) => (f ? bits(f) : null)), r.infos);
    ends += r.finalObs.filter((f) => f !== null).length;
  }
  return { out, ends };
}

const opened: WorkerVectorEnv[] = [];
afterAll(async () => {
  for (const e of opened) await e.close();
});

describe('WorkerVectorEnv', () => {
  it('1, 2 and 3 threads give what VectorEnv gives, bit for bit, over 200 steps with resets', async () => {
    const ref = play(new VectorEnv(N, CONFIG, { seed: 3 }));
    expect(ref.ends).toBeGreaterThan(10); // episodes end and auto-reset inside the run
    for (const workers of [1, 2, 3]) {
      const env = await WorkerVectorEnv.create(N, CONFIG, { seed: 3, workers });
      opened.push(env);
      expect(env.threads).toBe(workers);
      expect(env.counts.reduce((a, b) => a + b, 0)).toBe(N);
      expect(env.obsSize).toBe(259);
      const got = play(env);
      expect(got.ends).toBe(ref.ends);
      expect(got.out).toEqual(ref.out);
      expect(env.stats.steps).toBe(STEPS);
      await env.close();
    }
  }, 60_000);

  it('more workers than envs: one thread per env', async () => {
    const env = await WorkerVectorEnv.create(2, CONFIG, { seed: 0, workers: 8 });
    opened.push(env);
    expect(env.threads).toBe(2);
    expect(env.counts).toEqual([1, 1]);
    await env.close();
    expect(() => env.step(new Float32Array(4))).toThrow(/closed/);
  }, 30_000);

  it("a slice that throws fails the step with the slice's InputError; later steps refuse", async () => {
    const env = await WorkerVectorEnv.create(4, CONFIG, { seed: 0, workers: 2 });
    opened.push(env);
    env.reset();
    const a = new Float32Array(8).fill(0.1);
    a[6] = NaN; // env 3, in the second thread's slice
    let err: unknown;
    try {
      env.step(a);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/action/);
    expect(() => env.step(new Float32Array(8))).toThrow(/earlier step failed/);
    await env.close();
  }, 30_000);

  it('a thread that exits mid-run fails the step with an error naming its envs', async () => {
    const env = await WorkerVectorEnv.create(4, CONFIG, { seed: 0, workers: 2, exitAtStep: 3 });
    opened.push(env);
    env.reset();
    const a = new Float32Array(8).fill(0.1);
    env.step(a);
    env.step(a);
    expect(() => env.step(a)).toThrow(/thread stepping envs 2\.\.3 stopped/);
    await env.close();
  }, 30_000);

  it('an invalid env config rejects create() (before any thread starts)', async () => {
    await expect(WorkerVectorEnv.create(3, { ...CONFIG, horizon: -1 }, { workers: 2 })).rejects.toThrow(/horizon/);
  }, 30_000);
});
