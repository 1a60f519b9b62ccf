/**
 * Building blocks on tfjs ops that the WASM backend can train (no einsum, no gradient through
 * gather): PyTorch-compatible Linear, RMSNorm, LayerNorm, exact-erf GELU, SiLU, SwiGLU, timm `Mlp`,
 * multi-head attention with per-head QK-RMSNorm and RoPE, adaLN modulation. Parameters live in a
 * `ParamStore` keyed by PyTorch state-dict names.
 *
 * Layout: Linear weights are stored as [in, out] (the transpose of PyTorch's [out, in]) because
 * tfjs-backend-wasm 4.22 only takes its XNNPACK path for rank-2 matMul without transposes:
 * `matMul(x, W, false, true)` runs 15-25x slower (measured 0.36 vs 5.9 GFLOP/s for
 * [700×1536]·[1536×384]), and so do batched (rank-3) products. `ParamStore.transposed` lists
 * those names; `torchValues` / `assignTorch` convert, so checkpoints keep PyTorch layout. All
 * products go through core/ops.ts (`matMul2d`, `linear`), whose backward passes use explicit
 * transposes for the same reason.
 */
import * as tf from '@tensorflow/tfjs';
import { linear as coreLinear, type LinearOptions, matMul2d } from '../core/ops.js';
import type { Rng } from '../core/rng.js';

/** Row-major transpose of a [rows, cols] matrix. */
export function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** An ordered map of named trainable variables (PyTorch state-dict names). */
export class ParamStore {
  readonly variables = new Map<string, tf.Variable>();
  /** Names stored as the transpose of their PyTorch tensor (Linear weights, kept [in, out]). */
  readonly transposed = new Set<string>();

  /**
   * Registers a trainable variable from PyTorch-layout values; `transpose` stores a rank-2
   * tensor as its transpose.
   */
  add(name: string, torchShape: number[], values: Float32Array, transpose = false): tf.Variable {
    if (this.variables.has(name)) throw new Error(`ParamStore: duplicate parameter ${JSON.stringify(name)}.`);
    const size = torchShape.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`ParamStore: ${name} has ${values.length} values, shape [${torchShape}] needs ${size}.`);
    if (transpose && torchShape.length !== 2) throw new Error(`ParamStore: only rank-2 parameters can be transposed (${name}).`);
    const [r, c] = torchShape;
    // tf.variable shares the initial tensor's data and takes its own reference: the initial
    // tensor must be disposed here, or every weight outlives ParamStore.dispose().
    const initial = transpose ? tf.tensor(transpose2d(values, r!, c!), [c!, r!], 'float32') : tf.tensor(values, torchShape, 'float32');
    const v = tf.variable(initial, true);
    initial.dispose();
    this.variables.set(name, v);
    if (transpose) this.transposed.add(name);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`ParamStore: no parameter ${JSON.stringify(name)}.`);
    return v;
  }

  /** The PyTorch shape of a parameter. */
  torchShape(name: string): number[] {
    const s = [...this.get(name).shape];
    return this.transposed.has(name) ? [s[1]!, s[0]!] : s;
  }

  /** Converts values of parameter `name` (or of its gradient) from storage to PyTorch layout. */
  toTorch(name: string, data: ArrayLike<number>): Float32Array {
    if (!this.transposed.has(name)) return Float32Array.from(data);
    const [r, c] = this.get(name).shape;
    return transpose2d(data, r!, c!);
  }

  /** PyTorch-layout values of a parameter. */
  torchValues(name: string): Float32Array {
    return this.toTorch(name, this.get(name).dataSync());
  }

  /** Assigns PyTorch-layout values (shape [..] as in the state dict). */
  assignTorch(name: string, data: ArrayLike<number>): void {
    const v = this.get(name);
    const [tr, tc] = this.torchShape(name);
    const vals = this.transposed.has(name) ? transpose2d(data, tr!, tc!) : Float32Array.from(data);
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape, 'float32')));
  }

  /** Total number of scalar values. */
  numParameters(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    this.transposed.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// initialisers (PyTorch defaults, drawn from a seeded stream)

/** U(−bound, bound) values. */
export function uniformValues(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** N(mean, std²) values. */
export function normalValues(rng: Rng, n: number, std: number, mean = 0): Float32Array {
  return rng.fillNormal(new Float32Array(n), mean, std);
}

/**
 * Registers `${prefix}.weight` (PyTorch [out, in], stored [in, out]) and `${prefix}.bias` [out]
 * with nn.Linear's default init U(±1/√in) (values drawn in PyTorch order).
 */
export function addLinear(store: ParamStore, rng: Rng, prefix: string, inFeatures: number, outFeatures: number, zero = false): void {
  const bound = 1 / Math.sqrt(inFeatures);
  store.add(`${prefix}.weight`, [outFeatures, inFeatures], zero ? new Float32Array(outFeatures * inFeatures) : uniformValues(rng, outFeatures * inFeatures, bound), true);
  store.add(`${prefix}.bias`, [outFeatures], zero ? new Float32Array(outFeatures) : uniformValues(rng, outFeatures, bound));
}

/** Registers a norm weight of ones (and a zero bias for LayerNorm). */
export function addNorm(store: ParamStore, prefix: string, dim: number, withBias: boolean): void {
  store.add(`${prefix}.weight`, [dim], new Float32Array(dim).fill(1));
  if (withBias) store.add(`${prefix}.bias`, [dim], new Float32Array(dim));
}

/** Registers a timm `Mlp(in → hidden → out, norm_layer=LayerNorm)`: fc1, norm, fc2. */
export function addTimmMlp(store: ParamStore, rng: Rng, prefix: string, inF: number, hidden: number, outF: number): void {
  addLinear(store, rng, `${prefix}.fc1`, inF, hidden);
  addNorm(store, `${prefix}.norm`, hidden, true);
  addLinear(store, rng, `${prefix}.fc2`, hidden, outF);
}

// ---------------------------------------------------------------------------------------------
// ops

/**
 * Rank-2 a·b: `matMul2d` of core/ops.ts (a custom gradient whose backward products are plain
 * rank-2 matmuls with explicit transposes, the only XNNPACK path on wasm). Kept under this name for
 * API compatibility. There is deliberately no "plain tf.matMul outside gradient recording"
 * shortcut any more: detecting the tape needed engine internals, and the custom gradient costs
 * ~5-15 µs per call outside a tape (measured on [64×384]·[384×384], ~1 ms per product), well
 * under 1 % of a DiT pass.
 */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMul2d(a, b);
}

/**
 * nn.Linear: y = x·Wᵀ + b over the last axis, with W stored transposed as [in, out]: core/ops.ts
 * `linear` (leading axes flattened into one rank-2 fast-path product, forward and backward).
 * Not tf.fused.matMul: on tfjs-backend-wasm 4.22 _FusedMatMul with transposeB + bias gives wrong
 * results (measured: errors of 0.19 on a 32×32·32×96 product), and its gradient uses the
 * transposed (slow) products.
 */
export function linear(x: tf.Tensor, weightInOut: tf.Tensor, bias?: tf.Tensor, options?: LinearOptions): tf.Tensor {
  if (weightInOut.rank !== 2 || x.shape[x.shape.length - 1] !== weightInOut.shape[0]) {
    throw new Error(`linear: input last axis ${x.shape[x.shape.length - 1]} does not match weight [in, out] = [${weightInOut.shape}].`);
  }
  return coreLinear(x, weightInOut as tf.Tensor2D, bias as tf.Tensor1D | undefined, options);
}

/** Linear from a store by prefix (`${prefix}.weight`, `${prefix}.bias`). */
export function linearP(store: ParamStore, prefix: string, x: tf.Tensor): tf.Tensor {
  const b = store.variables.get(`${prefix}.bias`);
  return linear(x, store.get(`${prefix}.weight`), b);
}

/** SiLU (swish): x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** Exact GELU as torch `F.gelu` (approximate='none'): x·½·(1 + erf(x/√2)). */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** RMSNorm over the last axis: x·rsqrt(mean(x²) + eps)·w (ReCogDrive `blocks/rmsnorm.py`, eps 1e-6). */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps = 1e-6): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight);
}

/** LayerNorm over the last axis with affine weight and bias (biased variance, eps 1e-5). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** timm `Mlp` with LayerNorm: fc2(LayerNorm(GELU(fc1(x)))). */
export function timmMlp(store: ParamStore, prefix: string, x: tf.Tensor): tf.Tensor {
  const h = geluExact(linearP(store, `${prefix}.fc1`, x));
  const n = layerNorm(h, store.get(`${prefix}.norm.weight`), store.get(`${prefix}.norm.bias`), 1e-5);
  return linearP(store, `${prefix}.fc2`, n);
}

/** SwiGLU FFN (ReCogDrive `SwiGLUFFN`): w3(silu(x₁)·x₂) with [x₁, x₂] = split(w12(x)). */
export function swiGLU(store: ParamStore, prefix: string, x: tf.Tensor): tf.Tensor {
  const x12 = linearP(store, `${prefix}.w12`, x);
  const [x1, x2] = tf.split(x12, 2, -1);
  return linearP(store, `${prefix}.w3`, tf.mul(silu(x1!), x2!));
}

/** adaLN modulation: x·(1 + scale) + shift, scale/shift [N, W] broadcast over tokens of x [N, T, W]. */
export function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, tf.add(1, tf.expandDims(scale, 1))), tf.expandDims(shift, 1));
}

/** RoPE tables for positions 0..n−1: cos/sin of cat(freqs, freqs), freqs[p, j] = p·θ^(−2j/d). float32 like torch. */
export function ropeTables(numPositions: number, dim: number, theta = 10000): { cos: Float32Array; sin: Float32Array; invFreq: Float32Array } {
  const f32 = Math.fround;
  const half = dim / 2;
  const invFreq = new Float32Array(half);
  // torch: 1.0 / (theta ** (arange(0, dim, 2).float() / dim)), float32
  for (let j = 0; j < half; j++) invFreq[j] = f32(1 / f32(Math.pow(theta, f32(f32(2 * j) / dim))));
  const cos = new Float32Array(numPositions * dim);
  const sin = new Float32Array(numPositions * dim);
  for (let p = 0; p < numPositions; p++) {
    for (let j = 0; j < dim; j++) {
      const fr = f32(p * invFreq[j % half]!);
      cos[p * dim + j] = Math.cos(fr);
      sin[p * dim + j] = Math.sin(fr);
    }
  }
  return { cos, sin, invFreq };
}

/** rotate_half: cat(−x[..., d/2:], x[..., :d/2]). */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  const d = x.shape[x.shape.length - 1]!;
  const [x1, x2] = tf.split(x, [d / 2, d / 2], -1);
  return tf.concat([tf.neg(x2!), x1!], -1);
}

/**
 * The [d, d] signed permutation R with rotate_half(x) = x·R for x [..., d] (R[j + d/2, j] = −1,
 * R[j − d/2, j] = 1): one rank-2 product instead of split + neg + concat (three kernels, two of
 * them Slice copies on wasm).
 */
export function rotateHalfMatrix(d: number): Float32Array {
  const r = new Float32Array(d * d);
  const half = d / 2;
  for (let j = 0; j < half; j++) {
    r[(j + half) * d + j] = -1;
    r[j * d + j + half] = 1;
  }
  return r;
}

/** Applies RoPE: x·cos + rotate_half(x)·sin, x [..., T, d], cos/sin [T, d]. */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin));
}

/** [N, T, h·d] → [N, h, T, d] */
export function splitHeads(x: tf.Tensor, heads: number, headDim: number): tf.Tensor4D {
  const [n, t] = x.shape;
  return tf.transpose(tf.reshape(x, [n!, t!, heads, headDim]), [0, 2, 1, 3]);
}

/** [N, h, T, d] → [N, T, h·d] */
export function mergeHeads(x: tf.Tensor): tf.Tensor3D {
  const [n, h, t, d] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [n!, t!, h! * d!]);
}

/** softmax(q·kᵀ·scale)·v over the last two axes (q [..., Tq, d], k/v [..., Tk, d]). */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number): tf.Tensor {
  const scores = tf.mul(tf.matMul(q, k, false, true), scale);
  return tf.matMul(tf.softmax(scores), v);
}
