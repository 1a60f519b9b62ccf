/**
 * Throughput measurements that other benchmarks reuse (the planner benchmark compares its
 * achieved GFLOP/s with the backend's matmul figure).
 */
import * as tf from '@tensorflow/tfjs';
import { currentBackend, useBackend, type BackendName } from './backend.js';

export interface MatmulMeasurement {
  backend: BackendName;
  /** Rows and columns of the square matrices. */
  n: number;
  /** Number of independent matmuls per op (1 = plain `matMul`, > 1 = batched `[batch, n, n]`). */
  batch: number;
  /** Floating-point operations per op: 2 * batch * n^3 (one multiply and one add per term). */
  flopsPerOp: number;
  /** Timed repetitions. */
  iterations: number;
  /** Median milliseconds per op. */
  msPerOp: number;
  /** Best (fastest) milliseconds per op. */
  bestMsPerOp: number;
  /** GFLOP/s at the median time. */
  gflops: number;
  /** GFLOP/s at the best time. */
  bestGflops: number;
}

export interface MatmulOptions {
  /** Batched matmul of `[batch, n, n]` operands (default 1: a plain 2-D matMul). */
  batch?: number;
  /** Keep timing until this many seconds have passed (default 1). */
  minSeconds?: number;
  /** ...and at least this many repetitions (default 3). */
  minIterations?: number;
  /** Untimed runs first (default 1; kernels and WASM memory warm up). */
  warmup?: number;
}

/**
 * Measures float32 matmul throughput on exactly `backend` (`useBackend`; DRIVEKIT_BACKEND is not
 * consulted), then switches back to the backend that was active before. Each op is `matMul(a, b)` followed by a read of the result, so the
 * time includes the device->host copy of `batch * n^2` floats, as a training step's would.
 * The result of the last op is checked (ones x ones = n everywhere) so a no-op backend cannot pass.
 */
export async function measureMatmulGflops(backend: BackendName, n: number, options: MatmulOptions = {}): Promise<MatmulMeasurement> {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`measureMatmulGflops: invalid n ${n}. Should be an integer >= 1.`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`measureMatmulGflops: invalid batch ${batch}. Should be an integer >= 1.`);
  const minSeconds = options.minSeconds ?? 1;
  const minIterations = Math.max(1, options.minIterations ?? 3);
  const warmup = options.warmup ?? 1;
  const previous = currentBackend();
  await useBackend(backend);
  const shape = batch === 1 ? [n, n] : [batch, n, n];
  const a = tf.ones(shape);
  const b = tf.ones(shape);
  const times: number[] = [];
  try {
    const once = (): Float32Array => {
      const c = tf.matMul(a, b);
      try {
        return c.dataSync() as Float32Array;
      } finally {
        c.dispose();
      }
    };
    for (let i = 0; i < warmup; i++) once();
    const start = performance.now();
    let last: Float32Array | null = null;
    while (times.length < minIterations || performance.now() - start < minSeconds * 1000) {
      const t0 = performance.now();
      last = once();
      times.push(performance.now() - t0);
    }
    if (last![0] !== n || last![last!.length - 1] !== n) {
      throw new Error(`measureMatmulGflops: ${backend} computed ${last![0]} for ones(${n}) x ones(${n}), expected ${n}.`);
    }
  } finally {
    a.dispose();
    b.dispose();
    if (previous && previous !== backend) await useBackend(previous);
  }
  const sorted = [...times].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const best = sorted[0]!;
  const flopsPerOp = 2 * batch * n ** 3;
  return {
    backend,
    n,
    batch,
    flopsPerOp,
    iterations: times.length,
    msPerOp: median,
    bestMsPerOp: best,
    gflops: flopsPerOp / (median * 1e6),
    bestGflops: flopsPerOp / (best * 1e6),
  };
}
