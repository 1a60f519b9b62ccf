import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, useBackend } from '../../src/core/backend.js';
import { measureMatmulGflops } from '../../src/core/perf.js';

describe('measureMatmulGflops', () => {
  it('measures plain and batched matmuls, restores the backend and leaks nothing', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const m = await measureMatmulGflops('cpu', 32, { minSeconds: 0.02, minIterations: 2 });
    expect(currentBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(before);
    expect(m).toMatchObject({ backend: 'cpu', n: 32, batch: 1, flopsPerOp: 2 * 32 ** 3 });
    expect(m.iterations).toBeGreaterThanOrEqual(2);
    expect(m.bestMsPerOp).toBeLessThanOrEqual(m.msPerOp);
    expect(m.gflops).toBeCloseTo(m.flopsPerOp / (m.msPerOp * 1e6), 10);
    expect(m.gflops > 0 && Number.isFinite(m.gflops)).toBe(true);
    const b = await measureMatmulGflops('wasm', 16, { batch: 4, minSeconds: 0, minIterations: 1, warmup: 0 });
    expect(b).toMatchObject({ backend: 'wasm', batch: 4, flopsPerOp: 2 * 4 * 16 ** 3, iterations: 1 });
  });

  it('rejects bad sizes', async () => {
    await expect(measureMatmulGflops('cpu', 0)).rejects.toThrow('invalid n 0. Should be an integer >= 1.');
    await expect(measureMatmulGflops('cpu', 8, { batch: 1.5 })).rejects.toThrow('invalid batch 1.5');
  });
});
