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
import { addLinear, addNorm, linear, linearP, type ParamStore, rotateHalf, silu, swiGLU } from './layers.js';

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

/** Rows [r0, r0 + n) of a 2-D tensor (GatherV2: native on wasm, cost O(output)). No gradient on wasm. */
function takeRows(x: tf.Tensor2D, r0: number, n: number): tf.Tensor2D {
  if (r0 === 0 && n === x.shape[0]) return x;
  return tf.tidy(() => tf.gather(x, tf.range(r0, r0 + n, 1, 'int32'), 0) as tf.Tensor2D);
}

/** Columns [c0, c0 + n) of a 2-D tensor (GatherV2 on axis 1). No gradient on wasm. */
function takeColumns(x: tf.Tensor2D, c0: number, n: number): tf.Tensor2D {
  if (c0 === 0 && n === x.shape[1]) return x;
  return tf.tidy(() => tf.gather(x, tf.range(c0, c0 + n, 1, 'int32'), 1) as tf.Tensor2D);
}

/** x·rsqrt(mean(x²) + eps) over the last axis (RMSNorm without its weight). */
function rmsUnit(x: tf.Tensor, eps = RMS_EPS): tf.Tensor {
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
   * The same keys (scaled) and values for all scenes as [B·L, W] (row b·L + l, column j·d + c),
   * kept only when the condition is encoded for training (`differentiable`): the cross-attention's
   * custom gradient returns dK / dV for them, so gradients reach to_k, to_v, k_norm and the feature
   * encoder. null for inference, which needs only the per-head pieces.
   */
  keys: tf.Tensor2D | null;
  values: tf.Tensor2D | null;
}

/**
 * Computes K/V of every cross-attention block from the projected VLM tokens `vl` [B, L, W].
 * `differentiable` keeps the full K/V tensors (see `CrossKV.keys`).
 */
export function crossAttentionKV(store: ParamStore, cfg: DiTConfig, vl: tf.Tensor3D, differentiable = false): (CrossKV | null)[] {
  const [B, L, W] = vl.shape;
  const h = cfg.numHeads;
  const d = cfg.headDim;
  const scale = 1 / Math.sqrt(d);
  const x2 = tf.reshape(vl, [B * L, W]) as tf.Tensor2D;
  const out: (CrossKV | null)[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    if (!isCrossBlock(cfg, i)) {
      out.push(null);
      continue;
    }
    const p = `${blockPrefix(i)}.attn`;
    // k-norm over d on [B·L, h, d]; the norm weight and the attention scale in one [d] factor.
    const kw = tf.mul(store.get(`${p}.k_norm.weight`), scale);
    const k = tf.reshape(tf.mul(rmsUnit(tf.reshape(linearP(store, `${p}.to_k`, x2), [B * L, h, d])), kw), [B * L, W]) as tf.Tensor2D;
    const v = linearP(store, `${p}.to_v`, x2) as tf.Tensor2D;
    // Kᵀ per (scene, head): one transpose to [B, h, d, L], then contiguous row blocks via gather.
    const kTAll = tf.reshape(tf.transpose(tf.reshape(k, [B, L, h, d]), [0, 2, 3, 1]), [B * h * d, L]) as tf.Tensor2D;
    const kT: tf.Tensor2D[] = [];
    const vs: tf.Tensor2D[] = [];
    for (let b = 0; b < B; b++) {
      const vb = takeRows(v, b * L, L);
      for (let j = 0; j < h; j++) {
        kT.push(takeRows(kTAll, (b * h + j) * d, d));
        vs.push(takeColumns(vb, j * d, d));
      }
    }
    out.push({ kT, v: vs, keys: differentiable ? k : null, values: differentiable ? v : null });
  }
  return out;
}

/** All tensors of a K/V cache (for disposal / keeping). */
export function crossKVTensors(kv: (CrossKV | null)[]): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const e of kv) {
    if (!e) continue;
    out.push(...e.kT, ...e.v);
    if (e.keys) out.push(e.keys);
    if (e.values) out.push(e.values);
  }
  return out;
}

/**
 * softmax(q·Kᵀ)·V per (scene, head) for queries `q` [B·T, W] (rows of scene b: [b·T, (b+1)·T),
 * head j: columns [j·d, (j+1)·d)) against the cached, pre-scaled K/V; returns [B·T, W] in the same
 * layout. A custom gradient keeps the backward pass on rank-2 plain products too:
 * P = softmax(S) is recomputed (not stored), dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
 * dq = dS·K, dK = dSᵀ·q. Gradients flow to `q` and, when the cache holds them, to `kv.keys` and
 * `kv.values`.
 */
export function crossAttention(q: tf.Tensor2D, kv: CrossKV, numScenes: number, numHeads: number): tf.Tensor2D {
  const B = numScenes;
  const h = numHeads;
  const [rowsAll, W] = q.shape;
  const T = rowsAll / B;
  const d = W / h;
  if (kv.kT.length !== B * h) throw new Error(`crossAttention: K/V cache holds ${kv.kT.length / h} scene(s), queries are for ${B}.`);
  const withKV = kv.keys !== null && kv.values !== null;
  const probs = (qbj: tf.Tensor2D, idx: number) => tf.softmax(tf.matMul(qbj, kv.kT[idx]!)) as tf.Tensor2D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const qq = args[0] as tf.Tensor2D;
    // Clones keep the pieces alive until the backward pass even if the cache is disposed first.
    save([qq, ...kv.kT, ...kv.v]);
    const value = tf.tidy(() => {
      const scenes: tf.Tensor2D[] = [];
      for (let b = 0; b < B; b++) {
        const qb = takeRows(qq, b * T, T);
        const heads: tf.Tensor2D[] = [];
        for (let j = 0; j < h; j++) heads.push(tf.matMul(probs(takeColumns(qb, j * d, d), b * h + j), kv.v[b * h + j]!));
        scenes.push(tf.concat(heads, 1) as tf.Tensor2D);
      }
      return (B === 1 ? scenes[0]! : tf.concat(scenes, 0)) as tf.Tensor2D;
    });
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] => {
      const g = dy as tf.Tensor2D;
      const sq = saved[0] as tf.Tensor2D;
      const kTs = saved.slice(1, 1 + B * h) as tf.Tensor2D[];
      const vs = saved.slice(1 + B * h) as tf.Tensor2D[];
      const dq: tf.Tensor2D[] = [];
      const dK: tf.Tensor2D[] = [];
      const dV: tf.Tensor2D[] = [];
      for (let b = 0; b < B; b++) {
        const qb = takeRows(sq, b * T, T);
        const gb = takeRows(g, b * T, T);
        const dqh: tf.Tensor2D[] = [];
        const dkh: tf.Tensor2D[] = [];
        const dvh: tf.Tensor2D[] = [];
        for (let j = 0; j < h; j++) {
          const n = b * h + j;
          const r = tf.tidy(() => {
            const qbj = takeColumns(qb, j * d, d);
            const dO = takeColumns(gb, j * d, d);
            const P = tf.softmax(tf.matMul(qbj, kTs[n]!)) as tf.Tensor2D;
            const dP = tf.matMul(dO, tf.transpose(vs[n]!));
            const dS = tf.mul(P, tf.sub(dP, tf.sum(tf.mul(dP, P), -1, true))) as tf.Tensor2D;
            const dqj = tf.matMul(dS, tf.transpose(kTs[n]!));
            return withKV ? [dqj, tf.matMul(tf.transpose(dS), qbj), tf.matMul(tf.transpose(P), dO)] : [dqj];
          }) as tf.Tensor2D[];
          dqh.push(r[0]!);
          if (withKV) {
            dkh.push(r[1]!);
            dvh.push(r[2]!);
          }
        }
        dq.push(tf.concat(dqh, 1) as tf.Tensor2D);
        if (withKV) {
          dK.push(tf.concat(dkh, 1) as tf.Tensor2D);
          dV.push(tf.concat(dvh, 1) as tf.Tensor2D);
        }
      }
      const cat = (xs: tf.Tensor2D[]) => (xs.length === 1 ? xs[0]! : tf.concat(xs, 0));
      return withKV ? [cat(dq), cat(dK), cat(dV)] : [cat(dq)];
    };
    return { value, gradFunc };
  });
  return (withKV ? op(q, kv.keys!, kv.values!) : op(q)) as tf.Tensor2D;
}

/**
 * Self-attention of each sample's H tokens, per head, for q (pre-scaled), k, v [N·H, W] in token
 * layout; returns [N·H, W]. S[n, p, j, r] = Σ_c q[n, p, j, c]·k[n, r, j, c] and
 * O[n, p, j, c] = Σ_r P[n, p, j, r]·v[n, r, j, c] as broadcast products + sums over the last axis:
 * the matrices are 8×8 per (sample, head), far below what a matmul call is worth, and batched
 * matmuls have no fast path on wasm (forward or backward).
 */
export function selfAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, N: number, H: number, h: number, d: number): tf.Tensor2D {
  const q5 = tf.reshape(q, [N, H, h, 1, d]);
  const k5 = tf.reshape(tf.transpose(tf.reshape(k, [N, H, h, d]), [0, 2, 1, 3]), [N, 1, h, H, d]);
  const p = tf.softmax(tf.sum(tf.mul(q5, k5), -1)); // [N, H(query), h, H(key)]
  const v5 = tf.reshape(tf.transpose(tf.reshape(v, [N, H, h, d]), [0, 2, 3, 1]), [N, 1, h, d, H]);
  const o = tf.sum(tf.mul(tf.reshape(p, [N, H, h, 1, H]), v5), -1); // [N, H, h, d]
  return tf.reshape(o, [N * H, h * d]) as tf.Tensor2D;
}

/**
 * Per-head RMSNorm (weight `w`, [d]) then RoPE on tokens [N·H, W] of N samples × H positions;
 * `cos`/`sin` [H, 1, d] broadcast over samples and heads. Returns [N·H, W].
 */
function qkNormRope(x: tf.Tensor, w: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, N: number, H: number, h: number, d: number): tf.Tensor {
  const n = tf.mul(rmsUnit(tf.reshape(x, [N, H, h, d])), w);
  return tf.reshape(tf.add(tf.mul(n, cos), tf.mul(rotateHalf(n), sin)), [N * H, h * d]);
}

// ---------------------------------------------------------------------------------------------
// modulation and forward

/** adaLN factors of one block, each [R, 1, W]; the `scale*` ones include the RMSNorm weight. */
export interface BlockModulation {
  shiftA: tf.Tensor3D;
  /** norm1.weight ⊙ (1 + scale_msa). */
  scaleA: tf.Tensor3D;
  gateA: tf.Tensor3D;
  shiftF: tf.Tensor3D;
  /** norm2.weight ⊙ (1 + scale_mlp). */
  scaleF: tf.Tensor3D;
  gateF: tf.Tensor3D;
}

/** The conditioning-dependent part of a DiT pass for R conditioning rows. */
export interface DiTModulation {
  /** Conditioning rows R; the N sample rows of a pass form R groups of N/R consecutive rows. */
  rows: number;
  blocks: BlockModulation[];
  finalShift: tf.Tensor3D;
  /** norm_final.weight ⊙ (1 + scale). */
  finalScale: tf.Tensor3D;
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
  const pieces = (m: tf.Tensor, k: number): tf.Tensor3D[][] => {
    const perPass = passes === 1 ? [m] : tf.split(m, passes, 0);
    return perPass.map((t) => tf.split(t, k, 1).map((x) => tf.reshape(x, [R, 1, W]) as tf.Tensor3D));
  };
  const scaled = (s: tf.Tensor3D, w: tf.Tensor) => tf.mul(tf.add(s, 1), w) as tf.Tensor3D;
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

export interface DiTForwardArgs {
  /** Fused input tokens h₀ [N, H, W]. */
  x: tf.Tensor3D;
  /** From `ditModulations`; its R rows divide N (R = N: per row, R = B: per scene). */
  modulation: DiTModulation;
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
  const T = N * H;
  const B = N / a.groupSize;
  const R = a.modulation.rows;
  if (N % R !== 0) throw new Error(`ditForward: ${N} rows are not a multiple of ${R} conditioning rows.`);
  const scale = 1 / Math.sqrt(d);
  const cos = tf.reshape(a.ropeCos, [H, 1, d]);
  const sin = tf.reshape(a.ropeSin, [H, 1, d]);
  // Modulation factors [R, 1, W] broadcast over the tokens of their group: [R, T/R, W].
  const grouped = (t: tf.Tensor) => tf.reshape(t, [R, T / R, W]);
  const modulate = (t: tf.Tensor, shift: tf.Tensor, scl: tf.Tensor) => tf.reshape(tf.add(tf.mul(grouped(t), scl), shift), [T, W]);
  const gated = (t: tf.Tensor, gate: tf.Tensor) => tf.reshape(tf.mul(grouped(t), gate), [T, W]);
  const rec = (name: string, t: tf.Tensor, last = W) => a.record?.(name, tf.reshape(t, [N, H, last]));
  let x: tf.Tensor = tf.reshape(a.x, [T, W]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = blockPrefix(i);
    const m = a.modulation.blocks[i]!;
    const u1 = rmsUnit(x);
    if (a.record) rec(`${p}.norm1`, tf.mul(u1, store.get(`${p}.norm1.weight`)));
    const m1 = modulate(u1, m.shiftA, m.scaleA);
    const q = linearP(store, `${p}.attn.to_q`, m1);
    let attnOut: tf.Tensor;
    if (isCrossBlock(cfg, i)) {
      const kv = a.crossKV[i];
      if (!kv) throw new Error(`ditForward: block ${i} is a cross-attention block but no K/V were given.`);
      // RoPE on q only; the scale is already in the cached keys.
      const qn = qkNormRope(q, store.get(`${p}.attn.q_norm.weight`), cos, sin, N, H, h, d);
      attnOut = crossAttention(qn as tf.Tensor2D, kv, B, h);
    } else {
      const qw = tf.mul(store.get(`${p}.attn.q_norm.weight`), scale);
      const qn = qkNormRope(q, qw, cos, sin, N, H, h, d);
      const kn = qkNormRope(linearP(store, `${p}.attn.to_k`, m1), store.get(`${p}.attn.k_norm.weight`), cos, sin, N, H, h, d);
      attnOut = selfAttention(qn, kn, linearP(store, `${p}.attn.to_v`, m1), N, H, h, d);
    }
    attnOut = linearP(store, `${p}.attn.to_out.0`, attnOut);
    rec(`${p}.attn`, attnOut);
    x = tf.add(x, gated(attnOut, m.gateA));
    const u2 = rmsUnit(x);
    if (a.record) rec(`${p}.norm2`, tf.mul(u2, store.get(`${p}.norm2.weight`)));
    const f = swiGLU(store, `${p}.ffn`, modulate(u2, m.shiftF, m.scaleF));
    rec(`${p}.ffn`, f);
    x = tf.add(x, gated(f, m.gateF));
    rec(p, x);
  }
  const fin = modulate(rmsUnit(x), a.modulation.finalShift, a.modulation.finalScale);
  const out = tf.reshape(linear(fin, store.get('model.final_layer.linear.weight'), store.get('model.final_layer.linear.bias')), [N, H, cfg.outputDim]) as tf.Tensor3D;
  a.record?.('model.final_layer', out);
  return out;
}
