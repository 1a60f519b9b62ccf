/**
 * One op/gradient suite for every tfjs backend present (here: wasm and cpu; webgpu and tensorflow
 * when installed). Forward values are compared with a float64 JavaScript reference evaluated on
 * the same float32 inputs; gradients with central differences of that reference. Exclusions live
 * in EXCLUSIONS below, each with its reason.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends, init, useBackend, type BackendName } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';

// ---------------------------------------------------------------------------------------------
// float64 reference ops on row-major arrays

type Arr = { shape: number[]; data: Float64Array };
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const arr = (shape: number[], data?: ArrayLike<number>): Arr => ({ shape, data: data ? Float64Array.from(data) : new Float64Array(size(shape)) });
const map = (a: Arr, f: (x: number) => number): Arr => ({ shape: a.shape, data: a.data.map(f) });

/** Batched matmul over leading dims (same batch shape), with optional transposes of the last two. */
function refMatMul(a: Arr, b: Arr, ta = false, tb = false): Arr {
  const r = a.shape.length;
  const batch = a.shape.slice(0, r - 2);
  const [ar, ac] = a.shape.slice(r - 2) as [number, number];
  const [br, bc] = b.shape.slice(r - 2) as [number, number];
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const n = tb ? br : bc;
  const out = arr([...batch, m, n]);
  const nb = size(batch);
  for (let q = 0; q < nb; q++) {
    const ao = q * ar * ac;
    const bo = q * br * bc;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const av = ta ? a.data[ao + t * ac + i]! : a.data[ao + i * ac + t]!;
          const bv = tb ? b.data[bo + j * bc + t]! : b.data[bo + t * bc + j]!;
          s += av * bv;
        }
        out.data[q * m * n + i * n + j] = s;
      }
  }
  return out;
}

/** Applies f to each row along the last axis. */
function rows(a: Arr, f: (row: Float64Array) => Float64Array): Arr {
  const d = a.shape[a.shape.length - 1]!;
  const out = arr(a.shape);
  for (let o = 0; o < a.data.length; o += d) out.data.set(f(a.data.subarray(o, o + d)), o);
  return out;
}

const refSoftmax = (a: Arr) =>
  rows(a, (r) => {
    const mx = Math.max(...r);
    const e = r.map((x) => Math.exp(x - mx));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((x) => x / s);
  });

/** RMSNorm: x * rsqrt(mean(x^2) + eps) * w (ReCogDrive's RMSNorm, eps 1e-6). */
const refRmsNorm = (x: Arr, w: Arr, eps = 1e-6) =>
  rows(x, (r) => {
    const ms = r.reduce((p, q) => p + q * q, 0) / r.length;
    const inv = 1 / Math.sqrt(ms + eps);
    return r.map((v, i) => v * inv * w.data[i]!);
  });

/** erf to ~1e-15 (series for small |x|, continued fraction via erfc for large). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz continued fraction for erfc.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

// ---------------------------------------------------------------------------------------------
// cases

interface OpCase {
  name: string;
  /** Input shapes and the range of their uniform values. */
  inputs: { shape: number[]; low?: number; high?: number }[];
  tf: (...xs: tf.Tensor[]) => tf.Tensor;
  ref: (...xs: Arr[]) => Arr;
  /** Absolute + relative tolerance for forward values (float32 vs float64). */
  tol?: number;
  /** Inputs whose gradient is checked (default all). */
  gradInputs?: number[];
  gradTol?: number;
}

const CASES: OpCase[] = [
  {
    name: 'batched matmul [2,3,4,5]x[2,3,5,6]',
    inputs: [{ shape: [2, 3, 4, 5] }, { shape: [2, 3, 5, 6] }],
    tf: (a, b) => tf.matMul(a!, b!),
    ref: (a, b) => refMatMul(a!, b!),
  },
  {
    name: 'batched matmul transposeB (attention q.k^T) [2,2,5,4]x[2,2,7,4]^T',
    inputs: [{ shape: [2, 2, 5, 4] }, { shape: [2, 2, 7, 4] }],
    tf: (q, k) => tf.matMul(q!, k!, false, true),
    ref: (q, k) => refMatMul(q!, k!, false, true),
  },
  {
    name: 'batched matmul transposeA [3,6,4]^T x [3,6,2]',
    inputs: [{ shape: [3, 6, 4] }, { shape: [3, 6, 2] }],
    tf: (a, b) => tf.matMul(a!, b!, true, false),
    ref: (a, b) => refMatMul(a!, b!, true, false),
  },
  {
    name: 'softmax (last axis, large logits)',
    inputs: [{ shape: [2, 3, 7], low: -30, high: 30 }],
    tf: (x) => tf.softmax(x!),
    ref: (x) => refSoftmax(x!),
  },
  {
    name: 'RMS-norm pieces: mean of squares, rsqrt, scale',
    inputs: [{ shape: [2, 5, 8], low: -3, high: 3 }, { shape: [8], low: 0.5, high: 1.5 }],
    tf: (x, w) => x!.mul(tf.rsqrt(tf.mean(tf.square(x!), -1, true).add(1e-6))).mul(w!),
    ref: (x, w) => refRmsNorm(x!, w!),
  },
  {
    name: 'SiLU x*sigmoid(x)',
    inputs: [{ shape: [4, 9], low: -8, high: 8 }],
    tf: (x) => x!.mul(tf.sigmoid(x!)),
    ref: (x) => map(x!, (v) => v / (1 + Math.exp(-v))),
  },
  {
    name: 'GELU (erf) 0.5x(1+erf(x/sqrt2))',
    inputs: [{ shape: [4, 9], low: -5, high: 5 }],
    tf: (x) => x!.mul(0.5).mul(tf.erf(x!.div(Math.SQRT2)).add(1)),
    ref: (x) => map(x!, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
    tol: 2e-5, // tfjs erf is the Abramowitz-Stegun 7.1.26 approximation (|err| <= 1.5e-7)
  },
  {
    name: 'sin/cos (timestep embedding arguments)',
    inputs: [{ shape: [3, 16], low: -20, high: 20 }],
    tf: (x) => tf.concat([tf.sin(x!), tf.cos(x!)], -1),
    ref: (x) => {
      const d = x!.shape[1]!;
      const out = arr([x!.shape[0]!, 2 * d]);
      for (let i = 0; i < x!.shape[0]!; i++)
        for (let j = 0; j < d; j++) {
          out.data[i * 2 * d + j] = Math.sin(x!.data[i * d + j]!);
          out.data[i * 2 * d + d + j] = Math.cos(x!.data[i * d + j]!);
        }
      return out;
    },
  },
  {
    name: 'concat + slice',
    inputs: [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }],
    tf: (a, b) => tf.slice(tf.concat([a!, b!], 1), [0, 2, 1], [2, 4, 2]),
    ref: (a, b) => {
      const out = arr([2, 4, 2]);
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 2; k++) {
            const jj = j + 2;
            const v = jj < 3 ? a!.data[i * 12 + jj * 4 + k + 1]! : b!.data[i * 20 + (jj - 3) * 4 + k + 1]!;
            out.data[i * 8 + j * 2 + k] = v;
          }
      return out;
    },
  },
  {
    name: 'clipByValue',
    inputs: [{ shape: [5, 6], low: -3, high: 3 }],
    tf: (x) => tf.clipByValue(x!, -1, 1.5),
    ref: (x) => map(x!, (v) => Math.min(1.5, Math.max(-1, v))),
  },
  {
    name: 'tanh + exp/log (Gaussian policy pieces)',
    inputs: [{ shape: [3, 4], low: -2, high: 2 }, { shape: [3, 4], low: 0.1, high: 2 }],
    tf: (x, s) => tf.tanh(x!).add(tf.log(s!)).sub(tf.exp(x!.mul(0.5))),
    ref: (x, s) => ({ shape: x!.shape, data: x!.data.map((v, i) => Math.tanh(v) + Math.log(s!.data[i]!) - Math.exp(0.5 * v)) }),
  },
];

/**
 * Cases a backend cannot run, with the reason. Empty today: every case passes on wasm and cpu.
 * Known gaps that the library avoids instead (so they have no case here): Einsum,
 * Conv2DBackpropFilter and UnsortedSegmentSum (gradient of gather) are missing on wasm.
 */
const EXCLUSIONS: { backend: BackendName; op: string; reason: string }[] = [];

// ---------------------------------------------------------------------------------------------

const available = await availableBackends();
const PRESENT = (['wasm', 'cpu', 'webgpu', 'tensorflow'] as const).filter((b) => available[b]);

function makeInputs(c: OpCase, seed: number): Float32Array[] {
  const r = new Rng(seed);
  return c.inputs.map((s) => r.fillUniform(new Float32Array(size(s.shape)), s.low ?? -1, s.high ?? 1));
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / (tol * (1 + Math.abs(want[i]!)));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= 1)) throw new Error(`${what}: element ${at} = ${got[at]} vs reference ${want[at]} (tolerance ${tol} abs+rel)`);
}

describe('backends present', () => {
  it('includes wasm and cpu here', () => {
    expect(PRESENT).toContain('wasm');
    expect(PRESENT).toContain('cpu');
  });
});

for (const backend of PRESENT) {
  describe(`ops on ${backend}`, () => {
    let previous = '';
    beforeAll(async () => {
      previous = tf.getBackend() ?? '';
      await useBackend(backend); // exactly this one, whatever DRIVEKIT_BACKEND says
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    for (const [ci, c] of CASES.entries()) {
      const excluded = EXCLUSIONS.find((e) => e.backend === backend && e.op === c.name);
      if (excluded) continue;
      it(`${c.name}: forward and gradient`, () => {
        expect(tf.getBackend()).toBe(backend);
        const inputs = makeInputs(c, 1000 + ci);
        const ref64 = inputs.map((x, i) => arr(c.inputs[i]!.shape, x));
        const want = c.ref(...ref64);
        const before = tf.memory().numTensors;
        // Loss = sum(f(x) * R) with a fixed random R, so every output element matters.
        const R = new Rng(2000 + ci).fillUniform(new Float64Array(want.data.length), -1, 1);
        const { out, shape, grads } = tf.tidy(() => {
          const xs = inputs.map((x, i) => tf.tensor(x, c.inputs[i]!.shape));
          const y = c.tf(...xs);
          const r32 = tf.tensor(Float32Array.from(R), y.shape);
          const g = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.tf(...args), r32)))(xs);
          return { out: y.dataSync().slice(), shape: y.shape, grads: g.map((t) => t.dataSync().slice()) };
        });
        expect(tf.memory().numTensors).toBe(before);
        expect(shape).toEqual(want.shape);
        expectClose(out, want.data, c.tol ?? 1e-5, `${backend} ${c.name} forward`);
        // Central differences of the float64 reference loss.
        const loss = (xs: Arr[]) => c.ref(...xs).data.reduce((s, v, i) => s + v * R[i]!, 0);
        for (const gi of c.gradInputs ?? c.inputs.map((_, i) => i)) {
          const x = ref64[gi]!;
          const num = new Float64Array(x.data.length);
          const h = 1e-6;
          for (let k = 0; k < x.data.length; k++) {
            const v = x.data[k]!;
            x.data[k] = v + h;
            const lp = loss(ref64);
            x.data[k] = v - h;
            const lm = loss(ref64);
            x.data[k] = v;
            num[k] = (lp - lm) / (2 * h);
          }
          expectClose(grads[gi]!, num, c.gradTol ?? 2e-4, `${backend} ${c.name} d/dx${gi}`);
        }
      });
    }
  });
}

describe('init()', () => {
  const saved = process.env.DRIVEKIT_BACKEND;
  afterAll(async () => {
    if (saved === undefined) delete process.env.DRIVEKIT_BACKEND;
    else process.env.DRIVEKIT_BACKEND = saved;
    await tf.setBackend('wasm');
  });

  it('lets DRIVEKIT_BACKEND override the requested backend', async () => {
    process.env.DRIVEKIT_BACKEND = 'cpu';
    expect(await init({ backend: 'wasm' })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.DRIVEKIT_BACKEND = 'wasm';
    expect(await init({ backend: 'cpu' })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    delete process.env.DRIVEKIT_BACKEND;
    expect(await init({ backend: 'cpu' })).toBe('cpu');
  });

  it('useBackend() switches to exactly the named backend, ignoring DRIVEKIT_BACKEND', async () => {
    process.env.DRIVEKIT_BACKEND = 'wasm';
    expect(await useBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    delete process.env.DRIVEKIT_BACKEND;
    await expect(useBackend('gpu' as any)).rejects.toThrow('Invalid backend "gpu". Should be one of tensorflow, webgpu, wasm, cpu.');
  });

  it('rejects an invalid name, saying where it came from and what is valid', async () => {
    delete process.env.DRIVEKIT_BACKEND;
    await expect(init({ backend: 'gpu' as any })).rejects.toThrow('Invalid backend "gpu". Should be one of auto, tensorflow, webgpu, wasm, cpu.');
    process.env.DRIVEKIT_BACKEND = 'cuda';
    await expect(init()).rejects.toThrow('Invalid backend "cuda" (from DRIVEKIT_BACKEND).');
    delete process.env.DRIVEKIT_BACKEND;
  });

  it('names the package to install when an explicitly requested backend is missing', async () => {
    delete process.env.DRIVEKIT_BACKEND;
    const hints: Record<'tensorflow' | 'webgpu', RegExp> = {
      tensorflow: /Backend 'tensorflow' is not available: @tensorflow\/tfjs-node-gpu: .+; @tensorflow\/tfjs-node: .+\. To use it: npm install @tensorflow\/tfjs-node-gpu .* or @tensorflow\/tfjs-node\./,
      webgpu: /Backend 'webgpu' is not available: .+\. To use it: npm install webgpu @tensorflow\/tfjs-backend-webgpu/,
    };
    const missing = (['tensorflow', 'webgpu'] as const).filter((b) => !available[b]);
    for (const b of missing) await expect(init({ backend: b })).rejects.toThrow(hints[b]);
    // Here neither optional backend is installed, so both messages were checked.
    expect(missing.length + PRESENT.filter((b) => b === 'tensorflow' || b === 'webgpu').length).toBe(2);
  });

  it("'auto' picks the first available backend in the documented order", async () => {
    delete process.env.DRIVEKIT_BACKEND;
    const expected = (['tensorflow', 'webgpu', 'wasm', 'cpu'] as const).find((b) => available[b]);
    expect(await init({ backend: 'auto' })).toBe(expected);
    expect(await init()).toBe(expected);
  });
});
