/**
 * ReCogDrive's "LightningDiT" (`recogdrive_dit.py`): timestep encoder, 2·n alternating
 * self-/cross-attention blocks with adaLN-Zero modulation, RMSNorm (eps 1e-6), QK-RMSNorm per head,
 * RoPE on q always and on k only in self-attention, SwiGLU FFN (hidden = W), final adaLN layer.
 *
 * Grouped evaluation: the DiT runs on N = B·G rows whose rows [b·G, (b+1)·G) belong to scene b.
 * Cross-attention keys/values are computed once per scene (`crossAttentionKV`) and the G·H query
 * tokens of a scene attend to them in one matmul (no repeat of K/V). This is exact: queries never
 * interact in cross-attention.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { addLinear, addNorm, applyRope, linear, linearP, mm, modulate, type ParamStore, rmsNorm, scaledDotProductAttention, silu, swiGLU } from './layers.js';

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

/**
 * Per-scene cross-attention keys (k-normed, no RoPE) and values, one rank-2 matrix per
 * (scene b, head j) at index b·h + j: `kT` [d, L] (pre-transposed) and `v` [L, d], so that the
 * attention products are transpose-free rank-2 matmuls (the fast path of the wasm backend).
 */
export interface CrossKV {
  kT: tf.Tensor2D[];
  v: tf.Tensor2D[];
}

/** [B, T, h·d] → [B, h, T, d] */
function toHeads(x: tf.Tensor, batch: number, tokens: number, heads: number, headDim: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [batch, tokens, heads, headDim]), [0, 2, 1, 3]);
}

/** Computes K/V of every cross-attention block from the projected VLM tokens `vl` [B, L, W]. */
export function crossAttentionKV(store: ParamStore, cfg: DiTConfig, vl: tf.Tensor3D): (CrossKV | null)[] {
  const [B, L] = vl.shape;
  const h = cfg.numHeads;
  const d = cfg.headDim;
  const out: (CrossKV | null)[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    if (!isCrossBlock(cfg, i)) {
      out.push(null);
      continue;
    }
    const p = `${blockPrefix(i)}.attn`;
    // One projection for all heads; k-norm over d on [B, L, h, d]; one transpose to [B, h, d, L];
    // then split (not unstack: ~40 ms per call on wasm at L = 2800) into per-(scene, head) matrices.
    const k = rmsNorm(tf.reshape(linearP(store, `${p}.to_k`, vl), [B!, L!, h, d]), store.get(`${p}.k_norm.weight`), RMS_EPS);
    const kT = tf.split(tf.reshape(tf.transpose(k, [0, 2, 3, 1]), [B! * h * d, L!]), B! * h, 0) as tf.Tensor2D[];
    const v = tf.split(tf.reshape(toHeads(linearP(store, `${p}.to_v`, vl), B!, L!, h, d), [B! * h * L!, d]), B! * h, 0) as tf.Tensor2D[];
    out.push({ kT, v });
  }
  return out;
}

export type Recorder = (name: string, t: tf.Tensor) => void;

export interface DiTForwardArgs {
  /** Fused input tokens h₀ [N, H, W]. */
  x: tf.Tensor3D;
  /** Conditioning c = temb(t) + c_ego, [N, W]. */
  conditioning: tf.Tensor2D;
  /** Per-scene cross K/V (index = block), from `crossAttentionKV`. */
  crossKV: (CrossKV | null)[];
  /** Rows per scene G (N = B·G). */
  groupSize: number;
  /** RoPE tables [H, d]. */
  ropeCos: tf.Tensor2D;
  ropeSin: tf.Tensor2D;
  record?: Recorder;
}

/** The DiT body + final layer: returns [N, H, outputDim]. */
export function ditForward(store: ParamStore, cfg: DiTConfig, a: DiTForwardArgs): tf.Tensor3D {
  const { numHeads: h, headDim: d } = cfg;
  const W = h * d;
  const [N, H] = a.x.shape;
  const G = a.groupSize;
  const B = N / G;
  const scale = 1 / Math.sqrt(d);
  const siluC = silu(a.conditioning);
  const ropeCosG = G > 1 ? tf.tile(a.ropeCos, [G, 1]) : a.ropeCos;
  const ropeSinG = G > 1 ? tf.tile(a.ropeSin, [G, 1]) : a.ropeSin;
  let x: tf.Tensor = a.x;
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = blockPrefix(i);
    const mod = linearP(store, `${p}.adaLN_modulation.1`, siluC);
    a.record?.(`model.transformer_blocks.${i}.adaLN_modulation`, mod);
    const [shA, scA, gA, shF, scF, gF] = tf.split(mod, 6, 1);
    const n1 = rmsNorm(x, store.get(`${p}.norm1.weight`), RMS_EPS);
    a.record?.(`model.transformer_blocks.${i}.norm1`, n1);
    const m1 = modulate(n1, shA!, scA!);
    const q = linearP(store, `${p}.attn.to_q`, m1);
    let attnOut: tf.Tensor;
    const kv = a.crossKV[i];
    if (isCrossBlock(cfg, i)) {
      if (!kv) throw new Error(`ditForward: block ${i} is a cross-attention block but no K/V were given.`);
      // Queries of the G rows of a scene are stacked: [B, h, G·H, d], positions repeat 0..H−1.
      let qh: tf.Tensor = toHeads(q, B, G * H, h, d);
      qh = applyRope(rmsNorm(qh, store.get(`${p}.attn.q_norm.weight`), RMS_EPS), ropeCosG, ropeSinG);
      // One rank-2 product pair per (scene, head): softmax(q·kᵀ·scale)·v.
      const qs = tf.unstack(tf.reshape(qh, [B * h, G * H, d])) as tf.Tensor2D[];
      const outs = qs.map((qi, j) => mm(tf.softmax(tf.mul(mm(qi, kv.kT[j]!), scale)) as tf.Tensor2D, kv.v[j]!));
      const o = tf.reshape(tf.stack(outs), [B, h, G * H, d]);
      attnOut = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [N, H, W]);
    } else {
      let qh: tf.Tensor = toHeads(q, N, H, h, d);
      let kh: tf.Tensor = toHeads(linearP(store, `${p}.attn.to_k`, m1), N, H, h, d);
      const vh = toHeads(linearP(store, `${p}.attn.to_v`, m1), N, H, h, d);
      qh = applyRope(rmsNorm(qh, store.get(`${p}.attn.q_norm.weight`), RMS_EPS), a.ropeCos, a.ropeSin);
      kh = applyRope(rmsNorm(kh, store.get(`${p}.attn.k_norm.weight`), RMS_EPS), a.ropeCos, a.ropeSin);
      const o = scaledDotProductAttention(qh, kh, vh, scale);
      attnOut = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [N, H, W]);
    }
    attnOut = linearP(store, `${p}.attn.to_out.0`, attnOut);
    a.record?.(`model.transformer_blocks.${i}.attn`, attnOut);
    x = tf.add(x, tf.mul(tf.expandDims(gA!, 1), attnOut));
    const n2 = rmsNorm(x, store.get(`${p}.norm2.weight`), RMS_EPS);
    a.record?.(`model.transformer_blocks.${i}.norm2`, n2);
    const f = swiGLU(store, `${p}.ffn`, modulate(n2, shF!, scF!));
    a.record?.(`model.transformer_blocks.${i}.ffn`, f);
    x = tf.add(x, tf.mul(tf.expandDims(gF!, 1), f));
    a.record?.(`model.transformer_blocks.${i}`, x);
  }
  const fm = linearP(store, 'model.final_layer.modulation_proj.1', siluC);
  a.record?.('model.final_layer.modulation_proj', fm);
  const [shift, scaleF] = tf.split(fm, 2, 1);
  const out = linear(
    modulate(rmsNorm(x, store.get('model.final_layer.norm_final.weight'), RMS_EPS), shift!, scaleF!),
    store.get('model.final_layer.linear.weight'),
    store.get('model.final_layer.linear.bias'),
  ) as tf.Tensor3D;
  a.record?.('model.final_layer', out);
  return out;
}
