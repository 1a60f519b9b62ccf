/**
 * ReCogDrive's "LightningDiT" (`recogdrive_dit.py`): timestep encoder, 2·n alternating
 * self-/cross-attention blocks with adaLN-Zero modulation, RMSNorm (eps 1e-6), QK-RMSNorm per head,
 * RoPE on q always and on k only in self-attention, SwiGLU FFN (hidden = W), final adaLN layer.
 *
 * Grouped evaluation: the DiT runs on N = B·G rows whose rows [b·G, (b+1)·G) belong to scene b.
 * Cross-attention keys/values are computed once per scene (`crossAttentionKV`) and the G·H query
 * tokens of a scene attend to them in one matmul per head (no repeat of K/V). This is exact:
 * queries never interact in cross-attention.
 *
 * How this file keeps the WASM backend (tfjs-backend-wasm 4.22) busy with useful work — every
 * rule below was measured (docs/planner.md, "Performance"):
 * - Products are rank-2 `matMul`s without transposes (the only XNNPACK path, see core/ops.ts).
 *   Activations stay 2-D `[tokens, W]` between blocks; reshapes are free, transposes are avoided.
 * - No `tf.slice` / `tf.split` / `tf.unstack` of large tensors: the wasm Slice kernel copies its
 *   WHOLE input to a JS buffer (`readSync`) once per output, so splitting a [2800, 384] tensor into
 *   8 heads copied 8 × 4.3 MB (≈ 40 ms). Per-head pieces come from `tf.gather` (native, O(output)).
 * - The attention scale 1/√d is folded into the cached keys (once per scene) rather than applied to
 *   every [G·H, L] score matrix; the RMSNorm weights are folded into the adaLN (1 + scale) factors.
 * - adaLN and the timestep embedding depend only on (scene, t): `ditModulations` evaluates them
 *   for R conditioning rows (R = B scenes when all samples of a scene share t, as in sampling; all
 *   sampling steps at once) and the blocks broadcast them over the scene's G·H tokens.
 * - Self-attention over the H = 8 poses of a sample is a broadcast multiply + sum (no batched
 *   matmul, which has no fast path), in the [tokens, heads, d] layout (no head transposes of q).
 * - Cross-attention is one custom-gradient op whose forward and backward are per-(scene, head)
 *   rank-2 products, so IL / GRPO training stays on the fast path as well.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { addLinear, addNorm, linear, linearP, mm, type ParamStore, silu, swiGLU } from './layers.js';

export interface DiTConfig {
  numHeads: number;
  headDim: number;
  numLayers: number;
  outputDim: number;
  /** Even blocks self-attend, odd blocks cross-attend (ReCogDrive: true). */
  interleaveAttention: boolean;
  /** Channels of the diffusers timestep sinusoid (256). */
  timestepChannels: number;
  ropeTheta: number;
}

export const RMS_EPS = 1e-6;

/** Whether block `i` is a cross-attention block. */
export function isCrossBlock(cfg: DiTConfig, i: number): boolean {
  return !(i % 2 === 0 && cfg.interleaveAttention);
}

export function blockPrefix(i: number): string {
  return `model.transformer_blocks.${i}`;
}

/** Registers the DiT parameters in PyTorch state-dict order (adaLN and final modulation zero-initialised). */
export function addDiTParams(store: ParamStore, rng: Rng, cfg: DiTConfig): void {
  const W = cfg.numHeads * cfg.headDim;
  addLinear(store, rng, 'model.timestep_encoder.timestep_embedder.linear_1', cfg.timestepChannels, W);
  addLinear(store, rng, 'model.timestep_encoder.timestep_embedder.linear_2', W, W);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = blockPrefix(i);
    addNorm(store, `${p}.norm1`, W, false);
    addLinear(store, rng, `${p}.attn.to_q`, W, W);
    addLinear(store, rng, `${p}.attn.to_k`, W, W);
    addLinear(store, rng, `${p}.attn.to_v`, W, W);
    addNorm(store, `${p}.attn.q_norm`, cfg.headDim, false);
    addNorm(store, `${p}.attn.k_norm`, cfg.headDim, false);
    addLinear(store, rng, `${p}.attn.to_out.0`, W, W);
    addNorm(store, `${p}.norm2`, W, false);
    addLinear(store, rng, `${p}.ffn.w12`, W, 2 * W);
    addLinear(store, rng, `${p}.ffn.w3`, W, W);
    addLinear(store, rng, `${p}.adaLN_modulation.1`, W, 6 * W, true);
  }
  addNorm(store, 'model.final_layer.norm_final', W, false);
  addLinear(store, rng, 'model.final_layer.linear', W, cfg.outputDim);
  addLinear(store, rng, 'model.final_layer.modulation_proj.1', W, 2 * W, true);
}

// ---------------------------------------------------------------------------------------------
// pieces of 2-D tensors without the wasm Slice kernel

/**
 * Splits x [n·r, C] into n consecutive row blocks [r, C] (not differentiable: used for the cached
 * per-head K/V and inside the cross-attention's custom gradient). On wasm the data make one round
 * trip through the host (`dataSync` + `tf.tensor`), two memcpys: measured 4.8 ms for 8 blocks of a
 * [384, 2800] tensor, against 31 ms for `tf.split` (its Slice kernel copies the whole input per
 * block), 122 ms for `tf.gather` and 288 ms for a native strided slice. Other backends use
 * `tf.split` (a host round trip would stall a GPU).
 */
export function rowBlocks(x: tf.Tensor2D, n: number): tf.Tensor2D[] {
  if (n === 1) return [x];
  const [R, C] = x.shape;
  if (R % n !== 0) throw new Error(`rowBlocks: ${R} rows do not split into ${n} blocks.`);
  const r = R / n;
  if (tf.getBackend() !== 'wasm') return tf.split(x, n, 0) as tf.Tensor2D[];
  const data = x.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => tf.tensor2d(data.subarray(i * r * C, (i + 1) * r * C), [r, C]));
}

/** Splits x [R, n·c] into n column blocks [R, c] (like `rowBlocks`: host copy on wasm). */
export function columnBlocks(x: tf.Tensor2D, n: number): tf.Tensor2D[] {
  if (n === 1) return [x];
  const [R, C] = x.shape;
  if (C % n !== 0) throw new Error(`columnBlocks: ${C} columns do not split into ${n} blocks.`);
  const c = C / n;
  if (tf.getBackend() !== 'wasm') return tf.split(x, n, 1) as tf.Tensor2D[];
  const data = x.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => {
    const out = new Float32Array(R * c);
    for (let r = 0; r < R; r++) out.set(data.subarray(r * C + i * c, r * C + (i + 1) * c), r * c);
    return tf.tensor2d(out, [R, c]);
  });
}

/**
 * Per-(scene, head) query blocks of tokens x [B·T, h·d] (scene b: rows [b·T, (b+1)·T), head j:
 * columns [j·d, (j+1)·d)) as [T, d] matrices at index b·h + j: one transpose to [B, h, T, d], then
 * row blocks.
 */
function headBlocks(x: tf.Tensor, B: number, h: number, d: number): tf.Tensor2D[] {
  const T = x.shape[0]! / B;
  if (h === 1) return rowBlocks(tf.reshape(x, [B * T, d]) as tf.Tensor2D, B);
  return rowBlocks(tf.reshape(tf.transpose(tf.reshape(x, [B, T, h, d]), [0, 2, 1, 3]), [B * h * T, d]) as tf.Tensor2D, B * h);
}

/** x·rsqrt(mean(x²) + eps) over the last axis (RMSNorm without its weight). */
function rmsUnit(x: tf.Tensor, eps: tf.Tensor | number = RMS_EPS): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)));
}

// ---------------------------------------------------------------------------------------------
// cross-attention keys / values, once per scene

/**
 * Per-scene cross-attention keys and values of one block. `kT[b·h + j]` is head j of scene b:
 * the k-normed keys **multiplied by the attention scale 1/√d** and transposed, [d, L];
 * `v[b·h + j]` the values [L, d]. The attention products are then transpose-free rank-2 matmuls
 * and need no scaling of the scores.
 */
export interface CrossKV {
  kT: tf.Tensor2D[];
  v: tf.Tensor2D[];
  /**
   * Per scene, the same keys as one [W, L] matrix (head j = rows [j·d, (j+1)·d)) and the values
   * [L, W], kept only when the condition is encoded for training (`differentiable`): the
   * cross-attention's custom gradient returns their gradients, so they reach to_k, to_v, k_norm
   * and the feature encoder. null for inference, which needs only the per-head pieces.
   */
  keysT: tf.Tensor2D[] | null;
  values: tf.Tensor2D[] | null;
}

/**
 * Computes K/V of every cross-attention block from the projected VLM tokens `vl` [B, L, W]:
 * per scene K = X·W_k + b, k-norm over each head's d channels, times the attention scale, then
 * one transpose to [h·d, L] whose head blocks are contiguous rows; V = X·W_v + b, one transpose
 * to [h, L, d]. (Producing Kᵀ = W_kᵀ·Xᵀ directly was slower: the k-norm's reduction over d then
 * needs a product whose right operand is a fresh activation, which XNNPACK re-packs per call.)
 * `differentiable` keeps the full per-scene K/V (see `CrossKV.keysT`).
 */
export function crossAttentionKV(store: ParamStore, cfg: DiTConfig, vl: tf.Tensor3D, differentiable = false): (CrossKV | null)[] {
  const [B, L, W] = vl.shape;
  const h = cfg.numHeads;
  const d = cfg.headDim;
  const scale = 1 / Math.sqrt(d);
  const x2 = tf.reshape(vl, [B * L, W]) as tf.Tensor2D;
  const xs = differentiable && B > 1 ? (tf.unstack(vl) as tf.Tensor2D[]) : rowBlocks(x2, B);
  const out: (CrossKV | null)[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    if (!isCrossBlock(cfg, i)) {
      out.push(null);
      continue;
    }
    const p = `${blockPrefix(i)}.attn`;
    // The k_norm weight and the attention scale in one [d] factor.
    const kw = tf.mul(store.get(`${p}.k_norm.weight`), scale);
    const entry: CrossKV = { kT: [], v: [], keysT: differentiable ? [] : null, values: differentiable ? [] : null };
    for (let b = 0; b < B; b++) {
      const k = tf.mul(rmsUnit(tf.reshape(linearP(store, `${p}.to_k`, xs[b]!), [L, h, d])), kw);
      const kT = tf.transpose(tf.reshape(k, [L, W])) as tf.Tensor2D; // [W, L]
      const v = linearP(store, `${p}.to_v`, xs[b]!) as tf.Tensor2D; // [L, W]
      entry.kT.push(...rowBlocks(kT, h));
      entry.v.push(...rowBlocks(tf.reshape(tf.transpose(tf.reshape(v, [L, h, d]), [1, 0, 2]), [h * L, d]) as tf.Tensor2D, h));
      entry.keysT?.push(kT);
      entry.values?.push(v);
    }
    out.push(entry);
  }
  return out;
}

/** All tensors of a K/V cache (for disposal / keeping). */
export function crossKVTensors(kv: (CrossKV | null)[]): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const e of kv) if (e) out.push(...e.kT, ...e.v, ...(e.keysT ?? []), ...(e.values ?? []));
  return out;
}

/**
 * softmax(q·Kᵀ)·V per (scene, head) for queries `q` [B·T, W] (rows of scene b: [b·T, (b+1)·T),
 * head j: columns [j·d, (j+1)·d)) against the cached, pre-scaled K/V; returns [B·T, W] in the same
 * layout. A custom gradient keeps the backward pass on rank-2 plain products too:
 * P = softmax(S) is recomputed (not stored), dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
 * dq = dS·K, dKᵀ = qᵀ·dS. Gradients flow to `q` and, when the cache holds them, to `kv.keysT` and
 * `kv.values`.
 */
export function crossAttention(q: tf.Tensor2D, kv: CrossKV, numScenes: number, numHeads: number): tf.Tensor2D {
  const B = numScenes;
  const h = numHeads;
  const d = q.shape[1] / h;
  if (kv.kT.length !== B * h) throw new Error(`crossAttention: K/V cache holds ${kv.kT.length / h} scene(s), queries are for ${B}.`);
  const withKV = kv.keysT !== null && kv.values !== null;
  const cat = (xs: tf.Tensor[], axis: number) => (xs.length === 1 ? xs[0]! : tf.concat(xs, axis));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const qq = args[0] as tf.Tensor2D;
    // Clones keep the pieces alive until the backward pass even if the cache is disposed first.
    save([qq, ...kv.kT, ...kv.v]);
    const value = tf.tidy(() => {
      const qs = headBlocks(qq, B, h, d);
      const scenes: tf.Tensor[] = [];
      for (let b = 0; b < B; b++) {
        const heads: tf.Tensor[] = [];
        for (let j = 0; j < h; j++) {
          const n = b * h + j;
          heads.push(tf.matMul(tf.softmax(tf.matMul(qs[n]!, kv.kT[n]!)) as tf.Tensor2D, kv.v[n]!));
        }
        scenes.push(cat(heads, 1));
      }
      return cat(scenes, 0) as tf.Tensor2D;
    });
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] => {
      const kTs = saved.slice(1, 1 + B * h) as tf.Tensor2D[];
      const vs = saved.slice(1 + B * h) as tf.Tensor2D[];
      const qs = headBlocks(saved[0]!, B, h, d);
      const gs = headBlocks(dy as tf.Tensor, B, h, d);
      const dq: tf.Tensor[] = [];
      const dKT: tf.Tensor[] = [];
      const dV: tf.Tensor[] = [];
      for (let b = 0; b < B; b++) {
        const dqh: tf.Tensor[] = [];
        const dkh: tf.Tensor[] = [];
        const dvh: tf.Tensor[] = [];
        for (let j = 0; j < h; j++) {
          const n = b * h + j;
          const r = tf.tidy(() => {
            const P = tf.softmax(tf.matMul(qs[n]!, kTs[n]!)) as tf.Tensor2D;
            const dP = tf.matMul(gs[n]!, tf.transpose(vs[n]!));
            const dS = tf.mul(P, tf.sub(dP, tf.sum(tf.mul(dP, P), -1, true))) as tf.Tensor2D;
            const dqj = tf.matMul(dS, tf.transpose(kTs[n]!));
            return withKV ? [dqj, tf.matMul(tf.transpose(qs[n]!), dS), tf.matMul(tf.transpose(P), gs[n]!)] : [dqj];
          });
          dqh.push(r[0]!);
          if (withKV) {
            dkh.push(r[1]!);
            dvh.push(r[2]!);
          }
        }
        dq.push(cat(dqh, 1));
        if (withKV) {
          dKT.push(cat(dkh, 0));
          dV.push(cat(dvh, 1));
        }
      }
      tf.dispose([...qs, ...gs]);
      return withKV ? [cat(dq, 0), ...dKT, ...dV] : [cat(dq, 0)];
    };
    return { value, gradFunc };
  });
  return (withKV ? op(q, ...kv.keysT!, ...kv.values!) : op(q)) as tf.Tensor2D;
}

/** [N·H, h·d] tokens → [N, 1, h, H, d] (keys/values of a sample's H tokens, per head). */
function k5Layout(x: tf.Tensor, N: number, H: number, h: number, d: number): tf.Tensor {
  return tf.reshape(tf.transpose(tf.reshape(x, [N, H, h, d]), [0, 2, 1, 3]), [N, 1, h, H, d]);
}

/**
 * Self-attention of each sample's H tokens, per head, for q (pre-scaled), k, v [N·H, W] in token
 * layout; returns [N·H, W]. S[n, p, j, r] = Σ_c q[n, p, j, c]·k[n, r, j, c] and
 * O[n, p, j, c] = Σ_r P[n, p, j, r]·v[n, r, j, c] as broadcast products + sums:
 * the matrices are 8×8 per (sample, head), far below what a matmul call is worth, and batched
 * matmuls have no fast path on wasm (forward or backward).
 */
export function selfAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, N: number, H: number, h: number, d: number): tf.Tensor2D {
  const q5 = tf.reshape(q, [N, H, h, 1, d]);
  const k5 = k5Layout(k, N, H, h, d);
  const p = tf.softmax(tf.sum(tf.mul(q5, k5), -1)); // [N, H(query), h, H(key)]
  // Summing over the key axis (not the last one) measured faster than the transposed-V layout
  // with a last-axis sum (0.44 vs 0.66 ms for N = 8): the broadcast of p is then along d.
  const o = tf.sum(tf.mul(tf.reshape(p, [N, H, h, H, 1]), k5Layout(v, N, H, h, d)), 3); // [N, H, h, d]
  return tf.reshape(o, [N * H, h * d]) as tf.Tensor2D;
}

/**
 * Per-head RMSNorm (weight `w`: [d], or [heads, d] per head) then RoPE on tokens [N·H, heads·d]
 * of N samples × H positions; `cos`/`sin` [H, 1, d] broadcast over samples and heads,
 * rotate_half as a product with `rot` (`rotateHalfMatrix`). Returns [N·H, heads·d].
 */
function qkNormRope(x: tf.Tensor, w: tf.Tensor, rope: RopeTensors, eps: tf.Tensor, N: number, H: number, h: number, d: number): tf.Tensor {
  const n = tf.mul(rmsUnit(tf.reshape(x, [N, H, h, d]), eps), w);
  const r = tf.reshape(mm(tf.reshape(n, [N * H * h, d]) as tf.Tensor2D, rope.rot), [N, H, h, d]);
  return tf.reshape(tf.add(tf.mul(n, rope.cos), tf.mul(r, rope.sin)), [N * H, h * d]);
}

/** RoPE tables as the forward uses them: cos/sin [H, 1, d] and the rotate_half matrix [d, d]. */
export interface RopeTensors {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
  rot: tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// modulation and forward

/**
 * adaLN factors of one block, each [R, 1, W] (or [1, W] when R = 1, so that they broadcast over
 * [tokens, W] without reshapes); the `scale*` ones include the RMSNorm weight.
 */
export interface BlockModulation {
  shiftA: tf.Tensor;
  /** norm1.weight ⊙ (1 + scale_msa). */
  scaleA: tf.Tensor;
  gateA: tf.Tensor;
  shiftF: tf.Tensor;
  /** norm2.weight ⊙ (1 + scale_mlp). */
  scaleF: tf.Tensor;
  gateF: tf.Tensor;
}

/** The conditioning-dependent part of a DiT pass for R conditioning rows. */
export interface DiTModulation {
  /** Conditioning rows R; the N sample rows of a pass form R groups of N/R consecutive rows. */
  rows: number;
  blocks: BlockModulation[];
  finalShift: tf.Tensor;
  /** norm_final.weight ⊙ (1 + scale). */
  finalScale: tf.Tensor;
}

export type Recorder = (name: string, t: tf.Tensor) => void;

/**
 * adaLN modulation of all blocks and of the final layer from the conditioning c = temb(t) + c_ego,
 * [S·R, W] for S passes of R rows each (row s·R + r); returns one `DiTModulation` per pass.
 * Sampling evaluates all its steps at once (S = steps, R = scenes).
 */
export function ditModulations(store: ParamStore, cfg: DiTConfig, conditioning: tf.Tensor2D, passes = 1, record?: Recorder): DiTModulation[] {
  const W = cfg.numHeads * cfg.headDim;
  const SR = conditioning.shape[0];
  if (SR % passes !== 0) throw new Error(`ditModulations: ${SR} conditioning rows are not a multiple of ${passes} passes.`);
  const R = SR / passes;
  const siluC = silu(conditioning);
  // Each [S·R, k·W] product → S passes × k factors of [R, 1, W].
  const pieces = (m: tf.Tensor, k: number): tf.Tensor[][] => {
    const perPass = passes === 1 ? [m] : tf.split(m, passes, 0);
    return perPass.map((t) => tf.split(t, k, 1).map((x) => (R === 1 ? x : tf.reshape(x, [R, 1, W]))));
  };
  const scaled = (s: tf.Tensor, w: tf.Tensor) => tf.mul(tf.add(s, 1), w);
  const out: DiTModulation[] = Array.from({ length: passes }, () => ({ rows: R, blocks: [], finalShift: null as any, finalScale: null as any }));
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = blockPrefix(i);
    const mod = linearP(store, `${p}.adaLN_modulation.1`, siluC);
    record?.(`${p}.adaLN_modulation`, mod);
    const n1 = store.get(`${p}.norm1.weight`);
    const n2 = store.get(`${p}.norm2.weight`);
    pieces(mod, 6).forEach(([shA, scA, gA, shF, scF, gF], s) => {
      out[s]!.blocks.push({ shiftA: shA!, scaleA: scaled(scA!, n1), gateA: gA!, shiftF: shF!, scaleF: scaled(scF!, n2), gateF: gF! });
    });
  }
  const fm = linearP(store, 'model.final_layer.modulation_proj.1', siluC);
  record?.('model.final_layer.modulation_proj', fm);
  const nf = store.get('model.final_layer.norm_final.weight');
  pieces(fm, 2).forEach(([shift, scale], s) => {
    out[s]!.finalShift = shift!;
    out[s]!.finalScale = scaled(scale!, nf);
  });
  return out;
}

/**
 * A self-attention block's fused projection: [to_q | to_k | to_v] weights [W, 3W] and biases
 * [3W], and the q/k norm weights as [2h, d] rows (q_norm·1/√d for the h query heads, then k_norm
 * for the h key heads), so that one product and one norm + RoPE serve q and k.
 */
export interface SelfQkv {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
  norm: tf.Tensor2D;
}

/** `SelfQkv` of block `i` from the parameters (differentiable: concatenations and a tile). */
export function selfQkvWeights(store: ParamStore, cfg: DiTConfig, i: number): SelfQkv {
  const p = `${blockPrefix(i)}.attn`;
  const h = cfg.numHeads;
  const d = cfg.headDim;
  const parts = ['to_q', 'to_k', 'to_v'];
  const qw = tf.mul(store.get(`${p}.q_norm.weight`), 1 / Math.sqrt(d));
  return {
    weight: tf.concat(parts.map((n) => store.get(`${p}.${n}.weight`)), 1) as tf.Tensor2D,
    bias: tf.concat(parts.map((n) => store.get(`${p}.${n}.bias`)), 0) as tf.Tensor1D,
    norm: tf.tile(tf.reshape(tf.concat([qw, store.get(`${p}.k_norm.weight`)], 0), [2, 1, d]), [1, h, 1]).reshape([2 * h, d]) as tf.Tensor2D,
  };
}

/** The two column halves of a SwiGLU w12 (weight [W, W] each, bias [W]). */
export interface FfnHalves {
  w1: tf.Tensor2D;
  b1: tf.Tensor1D;
  w2: tf.Tensor2D;
  b2: tf.Tensor1D;
}

export interface DiTForwardArgs {
  /** Fused input tokens h₀ [N, H, W]. */
  x: tf.Tensor3D;
  /** From `ditModulations`; its R rows divide N (R = N: per row, R = B: per scene). */
  modulation: DiTModulation;
  /** Per-scene cross K/V (index = block), from `crossAttentionKV`. */
  crossKV: (CrossKV | null)[];
  /** Rows per scene G (N = B·G). */
  groupSize: number;
  /** RoPE tables (see `RopeTensors`). */
  rope: RopeTensors;
  /** Column halves of every block's SwiGLU w12 (else the activation is split). */
  ffn?: FfnHalves[];
  /** Fused q/k/v projections of the self-attention blocks (null for cross blocks); else built per call. */
  selfQkv?: (SelfQkv | null)[];
  record?: Recorder;
}

/** The DiT body + final layer: returns [N, H, outputDim]. */
export function ditForward(store: ParamStore, cfg: DiTConfig, a: DiTForwardArgs): tf.Tensor3D {
  const { numHeads: h, headDim: d } = cfg;
  const W = h * d;
  const [N, H] = a.x.shape;
  const T = N * H;
  const B = N / a.groupSize;
  const R = a.modulation.rows;
  if (N % R !== 0) throw new Error(`ditForward: ${N} rows are not a multiple of ${R} conditioning rows.`);
  // Modulation factors [R, 1, W] broadcast over the tokens of their group: [R, T/R, W] (R = 1:
  // factors [1, W] broadcast over [T, W] directly).
  const grouped = (t: tf.Tensor) => (R === 1 ? t : tf.reshape(t, [R, T / R, W]));
  const flat = (t: tf.Tensor) => (R === 1 ? t : tf.reshape(t, [T, W]));
  const modulate = (t: tf.Tensor, shift: tf.Tensor, scl: tf.Tensor) => flat(tf.add(tf.mul(grouped(t), scl), shift));
  const gated = (t: tf.Tensor, gate: tf.Tensor) => flat(tf.mul(grouped(t), gate));
  const eps = tf.scalar(RMS_EPS);
  const rec = (name: string, t: tf.Tensor, last = W) => a.record?.(name, tf.reshape(t, [N, H, last]));
  let x: tf.Tensor = tf.reshape(a.x, [T, W]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = blockPrefix(i);
    const m = a.modulation.blocks[i]!;
    const u1 = rmsUnit(x, eps);
    if (a.record) rec(`${p}.norm1`, tf.mul(u1, store.get(`${p}.norm1.weight`)));
    const m1 = modulate(u1, m.shiftA, m.scaleA);
    let attnOut: tf.Tensor;
    if (isCrossBlock(cfg, i)) {
      const kv = a.crossKV[i];
      if (!kv) throw new Error(`ditForward: block ${i} is a cross-attention block but no K/V were given.`);
      // RoPE on q only; the scale is already in the cached keys.
      const q = linearP(store, `${p}.attn.to_q`, m1);
      const qn = qkNormRope(q, store.get(`${p}.attn.q_norm.weight`), a.rope, eps, N, H, h, d);
      attnOut = crossAttention(qn as tf.Tensor2D, kv, B, h);
    } else {
      // One [W, 3W] projection; q and k normed and rotated together as 2h "heads".
      const f = a.selfQkv?.[i] ?? selfQkvWeights(store, cfg, i);
      const [qk, v] = tf.split(linear(m1, f.weight, f.bias), [2 * W, W], 1);
      const [qn, kn] = tf.split(qkNormRope(qk!, f.norm, a.rope, eps, N, H, 2 * h, d), 2, 1);
      attnOut = selfAttention(qn!, kn!, v!, N, H, h, d);
    }
    attnOut = linearP(store, `${p}.attn.to_out.0`, attnOut);
    rec(`${p}.attn`, attnOut);
    x = tf.add(x, gated(attnOut, m.gateA));
    const u2 = rmsUnit(x, eps);
    if (a.record) rec(`${p}.norm2`, tf.mul(u2, store.get(`${p}.norm2.weight`)));
    const m2 = modulate(u2, m.shiftF, m.scaleF);
    const halves = a.ffn?.[i];
    const f = halves
      ? linearP(store, `${p}.ffn.w3`, tf.mul(silu(linear(m2, halves.w1, halves.b1)), linear(m2, halves.w2, halves.b2)))
      : swiGLU(store, `${p}.ffn`, m2);
    rec(`${p}.ffn`, f);
    x = tf.add(x, gated(f, m.gateF));
    rec(p, x);
  }
  const fin = modulate(rmsUnit(x, eps), a.modulation.finalShift, a.modulation.finalScale);
  const out = tf.reshape(linear(fin, store.get('model.final_layer.linear.weight'), store.get('model.final_layer.linear.bias')), [N, H, cfg.outputDim]) as tf.Tensor3D;
  a.record?.('model.final_layer', out);
  return out;
}
