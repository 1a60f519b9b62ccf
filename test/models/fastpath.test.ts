/**
 * The planner's wasm fast paths against straightforward references: host-side row/column blocks,
 * the custom-gradient cross-attention, the broadcast self-attention, core/ops' few-row gradient
 * and constant-input linear, the sampler's per-scene modulation + split weights against
 * per-row `predictNoise`, and gradients through a condition encoded under the tape.
 * Weights are randomised (adaLN-Zero starts at zero, which would make every block an identity).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { linear, matMul2d } from '../../src/core/ops.js';
import { Rng } from '../../src/core/rng.js';
import { columnBlocks, crossAttention, type CrossKV, rowBlocks, selfAttention } from '../../src/models/dit.js';
import { scaledDotProductAttention } from '../../src/models/layers.js';
import { DiffusionPlanner, plannerConfig, type PlannerInputs } from '../../src/models/planner.js';
import { plannerGRPOLoss } from '../../src/rl/grpo/loss.js';

const rnd = (r: Rng, shape: number[], std = 1) => tf.tensor(r.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, std), shape);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Max |a − b| relative to max |b|. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return maxAbsDiff(a, b) / Math.max(1e-30, tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0]!));
}

const TINY = plannerConfig({ condDim: 12, numHeads: 2, headDim: 8, numLayers: 4, ditOutputDim: 10, mlpHidden: 16 });

function randomPlanner(seed: number): DiffusionPlanner {
  const p = new DiffusionPlanner(TINY, { seed });
  const r = new Rng(seed + 100);
  for (const v of p.variables.values()) tf.tidy(() => v.assign(tf.add(v, rnd(r, v.shape, 0.3))));
  return p;
}

function inputsOf(r: Rng, B: number, L: number): PlannerInputs {
  return { hiddenStates: rnd(r, [B, L, TINY.condDim]), history: rnd(r, [B, 12], 0.5), status: rnd(r, [B, 8]) };
}

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

describe('fast-path pieces', () => {
  it('rowBlocks / columnBlocks equal tf.split exactly', () => {
    const x = rnd(new Rng(1), [12, 10]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const a = rowBlocks(x, 3);
      const b = tf.split(x, 3, 0);
      a.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(b[i]!.dataSync())));
      const c = columnBlocks(x, 5);
      const d = tf.split(x, 5, 1);
      c.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(d[i]!.dataSync())));
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => rowBlocks(x, 5)).toThrow(/12 rows do not split into 5/);
    x.dispose();
  });

  it('cross-attention: value and custom gradients (q, Kᵀ, V) equal autodiff of the batched reference', () => {
    const r = new Rng(2);
    const [B, T, L, h, d] = [2, 3, 5, 2, 4];
    const W = h * d;
    const q = rnd(r, [B * T, W]) as tf.Tensor2D;
    const keysT = [rnd(r, [W, L]), rnd(r, [W, L])] as tf.Tensor2D[];
    const values = [rnd(r, [L, W]), rnd(r, [L, W])] as tf.Tensor2D[];
    const R = rnd(r, [B * T, W]);
    const ours = (qq: tf.Tensor, k0: tf.Tensor, k1: tf.Tensor, v0: tf.Tensor, v1: tf.Tensor) => {
      const kv: CrossKV = {
        kT: [k0, k1].flatMap((k) => rowBlocks(k as tf.Tensor2D, h)),
        v: [v0, v1].flatMap((v) => columnBlocks(v as tf.Tensor2D, h)),
        keysT: [k0, k1] as tf.Tensor2D[],
        values: [v0, v1] as tf.Tensor2D[],
      };
      return crossAttention(qq as tf.Tensor2D, kv, B, h);
    };
    // Reference: [B, h, T, d] queries against [B, h, L, d] keys with tfjs's batched matmuls.
    const ref = (qq: tf.Tensor, k0: tf.Tensor, k1: tf.Tensor, v0: tf.Tensor, v1: tf.Tensor) => {
      const qh = tf.transpose(tf.reshape(qq, [B, T, h, d]), [0, 2, 1, 3]);
      const kh = tf.transpose(tf.reshape(tf.stack([tf.transpose(k0), tf.transpose(k1)]), [B, L, h, d]), [0, 2, 1, 3]);
      const vh = tf.transpose(tf.reshape(tf.stack([v0, v1]), [B, L, h, d]), [0, 2, 1, 3]);
      const o = scaledDotProductAttention(qh, kh, vh, 1);
      return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * T, W]);
    };
    const before = tf.memory().numTensors;
    const diffs = tf.tidy(() => {
      const args = [q, keysT[0]!, keysT[1]!, values[0]!, values[1]!];
      const out = [maxAbsDiff(ours(...(args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), ref(...(args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])))];
      const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(ours(a, b, c, e, f), R)))(args);
      const g0 = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(ref(a, b, c, e, f), R)))(args);
      g0.forEach((g, i) => out.push(relDiff(g1[i]!, g)));
      return out;
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const x of diffs) expect(x).toBeLessThan(1e-5);
    // Without full K/V in the cache the gradient reaches q only (and still matches).
    const dq = tf.tidy(() => {
      const kv: CrossKV = { kT: keysT.flatMap((k) => rowBlocks(k, h)), v: values.flatMap((v) => columnBlocks(v, h)), keysT: null, values: null };
      const g = tf.grad((qq: tf.Tensor) => tf.sum(tf.mul(crossAttention(qq as tf.Tensor2D, kv, B, h), R)))(q);
      const g0 = tf.grad((qq: tf.Tensor) => tf.sum(tf.mul(ref(qq, keysT[0]!, keysT[1]!, values[0]!, values[1]!), R)))(q);
      return relDiff(g, g0);
    });
    expect(dq).toBeLessThan(1e-5);
    tf.dispose([q, ...keysT, ...values, R]);
  });

  it('self-attention (broadcast products) equals scaled dot-product attention, with gradients', () => {
    const r = new Rng(3);
    const [N, H, h, d] = [3, 4, 2, 6];
    const q = rnd(r, [N * H, h * d]);
    const k = rnd(r, [N * H, h * d]);
    const v = rnd(r, [N * H, h * d]);
    const R = rnd(r, [N * H, h * d]);
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [N, H, h, d]), [0, 2, 1, 3]);
    const ref = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.reshape(tf.transpose(scaledDotProductAttention(heads(a), heads(b), heads(c), 1), [0, 2, 1, 3]), [N * H, h * d]);
    const diffs = tf.tidy(() => {
      const out = [maxAbsDiff(selfAttention(q, k, v, N, H, h, d), ref(q, k, v))];
      const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(selfAttention(a, b, c, N, H, h, d), R)))([q, k, v]);
      const g0 = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(ref(a, b, c), R)))([q, k, v]);
      g0.forEach((g, i) => out.push(relDiff(g1[i]!, g)));
      return out;
    });
    for (const x of diffs) expect(x).toBeLessThan(1e-5);
    tf.dispose([q, k, v, R]);
  });

  it('core linear: few-row gradient path and inputGradient: false match tf.matMul', () => {
    const r = new Rng(4);
    // m(n + k) < k·n: dX is computed as transpose(W·dYᵀ).
    const x = rnd(r, [2, 24]) as tf.Tensor2D;
    const w = rnd(r, [24, 40]) as tf.Tensor2D;
    const b = rnd(r, [40]) as tf.Tensor1D;
    const R = rnd(r, [2, 40]);
    const diffs = tf.tidy(() => {
      const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb), R));
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D), R));
      const g0 = tf.grads(ref)([x, w, b]);
      const g1 = tf.grads(ours)([x, w, b]);
      const out = g0.map((g, i) => relDiff(g1[i]!, g));
      // Constant input: same dW and db, and x is not connected to the result at all.
      const g2 = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(x, ww as tf.Tensor2D, bb as tf.Tensor1D, { inputGradient: false }), R)))([w, b]);
      out.push(relDiff(g2[0]!, g0[1]!), relDiff(g2[1]!, g0[2]!));
      expect(() => tf.grad((xx: tf.Tensor) => tf.sum(linear(xx, w, b, { inputGradient: false })))(x)).toThrow();
      // matMul2d with a transposed weight goes through the same gradient.
      const g3 = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(matMul2d(xx as tf.Tensor2D, tf.transpose(w) as tf.Tensor2D, false, true), R)))(x);
      out.push(relDiff(g3, g0[0]!));
      return out;
    });
    for (const d of diffs) expect(d).toBeLessThan(1e-5);
    tf.dispose([x, w, b, R]);
  });
});

describe('planner fast paths', () => {
  it('sampling (per-scene modulation, split weights) equals a DDIM loop over per-row predictNoise', () => {
    const p = randomPlanner(5);
    const inputs = inputsOf(new Rng(6), 2, 7);
    const G = 3;
    const N = 2 * G;
    const cond = p.encodeCondition(inputs);
    const rng = new Rng(7);
    const xT = rnd(rng, [N, 8, 3]);
    const noise = rnd(rng, [5, N, 8, 3]);
    const fast = p.sampleChain(cond, { groupSize: G, xT, noise });
    // Reference: a recorder forces predictNoise onto its general path (conditioning per row).
    const sched = p.scheduler();
    const slow = tf.tidy(() => {
      let x: tf.Tensor = xT;
      const states = [x];
      sched.timesteps.forEach((t, k) => {
        const tRows = new Array<number>(N).fill(t);
        const eps = p.predictNoise(cond, x, tRows, () => undefined);
        const raw = tf.reshape(tf.slice(noise, [k, 0, 0, 0], [1, N, 8, 3]), [N, 8, 3]);
        x = sched.step(eps, tRows, x, { ...p.config.sampler.rollout, noise: raw }).prevSample;
        if (k === sched.timesteps.length - 1) x = tf.clipByValue(x, -1, 1);
        states.push(x);
      });
      return tf.stack(states, 1);
    });
    expect(maxAbsDiff(fast.chain, slow)).toBeLessThan(1e-5);
    tf.dispose([fast.chain, fast.trajectory, fast.noise!, slow, xT, noise, inputs.hiddenStates, inputs.history, inputs.status]);
    cond.dispose();
    p.dispose();
  });

  it('a condition encoded under the tape keeps full K/V and passes gradients to to_k / to_v', () => {
    const p = randomPlanner(8);
    const inputs = inputsOf(new Rng(9), 2, 6);
    const G = 2;
    const r = p.sampleChain(inputs, { rng: new Rng(10), groupSize: G });
    const rewards = [0.3, 0.9, 0.1, 0.5];
    const names = ['model.transformer_blocks.1.attn.to_k.weight', 'model.transformer_blocks.1.attn.to_v.weight', 'model.transformer_blocks.3.attn.k_norm.weight', 'feature_encoder.weight'];
    const vars = names.map((n) => p.variables.get(n)!);
    const outside = p.encodeCondition(inputs);
    expect(outside.crossKV[1]!.keysT).toBeNull();
    outside.dispose();
    let kept = false;
    // (a) raw inputs: encoded inside grpoLoss; (b) a condition encoded explicitly inside the tape.
    const a = tf.variableGrads(() => plannerGRPOLoss(p, { inputs, chain: r.chain, rewards }, { groupSize: G }).total, vars);
    const b = tf.variableGrads(() => {
      const cond = p.encodeCondition(inputs);
      kept = cond.crossKV[1]!.keysT !== null;
      const loss = plannerGRPOLoss(p, { inputs: cond, chain: r.chain, rewards }, { groupSize: G }).total;
      cond.dispose();
      return loss;
    }, vars);
    expect(kept).toBe(true);
    for (const v of vars) {
      const ga = a.grads[v.name]!;
      const norm = tf.tidy(() => tf.norm(ga).dataSync()[0]!);
      expect(norm, v.name).toBeGreaterThan(0);
      expect(relDiff(b.grads[v.name]!, ga), v.name).toBeLessThan(1e-5);
    }
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), r.chain, r.trajectory, r.noise!, inputs.hiddenStates, inputs.history, inputs.status]);
    p.dispose();
  });
});
