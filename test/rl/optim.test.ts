import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { ADAMW_DEFAULTS, AdamW, clipCoefficient, clipGradNorm, globalNorm } from '../../src/rl/optim.js';

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

/**
 * Reference: the published torch.optim.AdamW update (decoupled decay, bias-corrected moments),
 * written out in float64 for one scalar parameter.
 */
function referenceAdamW(theta0: number, grads: number[], c: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }): number[] {
  let theta = theta0, m = 0, v = 0;
  const out: number[] = [];
  grads.forEach((g, i) => {
    const t = i + 1;
    theta = theta * (1 - c.lr * c.weightDecay);
    m = c.beta1 * m + (1 - c.beta1) * g;
    v = c.beta2 * v + (1 - c.beta2) * g * g;
    const mHat = m / (1 - c.beta1 ** t);
    const vHat = v / (1 - c.beta2 ** t);
    theta = theta - (c.lr * mHat) / (Math.sqrt(vHat) + c.eps);
    out.push(theta);
  });
  return out;
}

describe('AdamW', () => {
  it('uses ReCogDrive defaults: lr 1e-4, betas (0.9, 0.95), wd 1e-4, eps 1e-8', () => {
    expect(ADAMW_DEFAULTS).toEqual({ lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 1e-4 });
  });

  it('matches the torch.optim.AdamW formula for several steps (per element, with bias correction)', () => {
    const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    const theta0 = [0.5, -1.25, 2.0, 0.0];
    // Gradients per step and element, including a sign flip and a zero gradient.
    const gradSeq = [
      [0.1, -0.2, 3.0, 0.0],
      [0.3, 0.1, -1.0, 0.0],
      [-0.05, 0.4, 0.5, 1e-3],
      [0.2, -0.3, 2.0, -2.0],
      [1.0, 0.0, -0.5, 0.25],
    ];
    const w = tf.variable(tf.tensor1d(theta0));
    const opt = new AdamW({ w }, cfg);
    const results: number[][] = [];
    for (const gs of gradSeq) {
      const g = tf.tensor1d(gs);
      opt.step({ w: g });
      g.dispose();
      results.push(Array.from(w.dataSync()));
    }
    expect(opt.stepCount).toBe(5);
    for (let e = 0; e < theta0.length; e++) {
      const ref = referenceAdamW(theta0[e]!, gradSeq.map((r) => r[e]!), cfg);
      for (let s = 0; s < gradSeq.length; s++) {
        // float32 arithmetic vs float64 reference: a few ulps of values of size ~1.
        expect(Math.abs(results[s]![e]! - ref[s]!)).toBeLessThan(2e-6);
      }
    }
    // Step 1 of a non-zero gradient moves by ~lr (the bias-corrected ratio is sign(g)).
    expect(results[0]![0]!).toBeCloseTo(0.5 * (1 - 0.001) - 0.01, 6);
    // Zero gradient: only the decay acts on step 1.
    expect(results[0]![3]!).toBe(0);
    opt.dispose();
    w.dispose();
  });

  it('skips weight decay for noDecay parameters and leaves parameters without gradients untouched', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([3, 4]));
    const c = tf.variable(tf.tensor1d([5]));
    const opt = new AdamW({ a, b, c }, { lr: 0.1, weightDecay: 0.5, noDecay: (n) => n === 'b' });
    const ga = tf.zeros([2]), gb = tf.zeros([2]);
    opt.step({ a: ga, b: gb });
    expect(Array.from(a.dataSync())).toEqual([Math.fround(1 * 0.95), Math.fround(2 * 0.95)]);
    expect(Array.from(b.dataSync())).toEqual([3, 4]);
    expect(Array.from(c.dataSync())).toEqual([5]);
    tf.dispose([ga, gb, a, b, c]);
    opt.dispose();
  });

  it('round-trips its state so that a restored optimizer continues bitwise identically', () => {
    const mk = () => tf.variable(tf.tensor2d([[0.3, -0.7], [1.1, 0.05]]));
    const grads = [[[0.1, 0.2], [-0.3, 0.4]], [[0.5, -0.1], [0.2, 0.0]], [[-0.2, 0.3], [0.1, -0.6]], [[0.05, 0.05], [-0.05, 0.9]]];
    const w1 = mk();
    const o1 = new AdamW({ w: w1 }, { lr: 3e-3 });
    for (const g of grads) tf.tidy(() => o1.step({ w: tf.tensor2d(g) }));
    const w2 = mk();
    const o2 = new AdamW({ w: w2 }, { lr: 3e-3 });
    for (const g of grads.slice(0, 2)) tf.tidy(() => o2.step({ w: tf.tensor2d(g) }));
    const state = JSON.parse(JSON.stringify(o2.getState(), (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    const saved = Array.from(w2.dataSync());
    const w3 = tf.variable(tf.tensor2d(saved, [2, 2]));
    const o3 = new AdamW({ w: w3 }, { lr: 3e-3 });
    o3.setState({ ...state, expAvg: { w: { shape: [2, 2], data: Float32Array.from(state.expAvg.w.data) } }, expAvgSq: { w: { shape: [2, 2], data: Float32Array.from(state.expAvgSq.w.data) } } });
    expect(o3.stepCount).toBe(2);
    for (const g of grads.slice(2)) tf.tidy(() => o3.step({ w: tf.tensor2d(g) }));
    expect(Array.from(w3.dataSync())).toEqual(Array.from(w1.dataSync()));
    tf.dispose([w1, w2, w3]);
    [o1, o2, o3].forEach((o) => o.dispose());
  });

  it('rejects mismatched state and unknown gradients with messages naming them', () => {
    const w = tf.variable(tf.zeros([2, 3]));
    const opt = new AdamW({ w });
    const st = opt.getState();
    expect(() => opt.setState({ ...st, expAvg: { w: { shape: [3, 2], data: new Float32Array(6) } } })).toThrow(/expAvg\.w: expected shape \[2,3\], found \[3,2\]/);
    expect(() => opt.setState({ ...st, expAvgSq: { ...st.expAvgSq, extra: { shape: [1], data: new Float32Array(1) } } })).toThrow(/expAvgSq\.extra: unexpected/);
    expect(() => opt.setState({ ...st, config: { ...st.config, beta2: 0.999 } })).toThrow(/config\.beta2 is 0\.999 in the checkpoint but 0\.95 here/);
    const g = tf.zeros([2, 3]);
    expect(() => opt.step({ v: g })).toThrow(/unknown parameter 'v'/);
    expect(() => new AdamW({ w }, { beta1: 1 })).toThrow(/Invalid AdamW beta1: 1/);
    tf.dispose([g, w]);
    opt.dispose();
  });

  it('does not leak tensors in step()', async () => {
    const w = tf.variable(tf.ones([4, 4]));
    const opt = new AdamW({ w });
    const g = tf.ones([4, 4]);
    await expectNoTensorLeak(() => {
      opt.step({ w: g });
      opt.step({ w: g });
    }, 'AdamW.step');
    tf.dispose([g, w]);
    opt.dispose();
  });
});

describe('clipGradNorm', () => {
  it('scales by maxNorm / (total + 1e-6) when the global norm exceeds maxNorm, as torch clip_grad_norm_', () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) }; // global norm 5
    const r = clipGradNorm(g, 1);
    expect(r.totalNorm).toBeCloseTo(5, 6);
    expect(r.clipCoef).toBeCloseTo(1 / (5 + 1e-6), 7);
    expect(Array.from(r.grads.get('a')!.dataSync())[0]).toBeCloseTo(3 / 5, 6);
    expect(globalNorm(r.grads)).toBeCloseTo(1, 5);
    tf.dispose([...r.grads.values(), g.a, g.b]);
  });

  it('folding the clip factor into AdamW (gradScale) equals stepping with clipped gradients, bitwise', () => {
    const g = { w: tf.tensor1d([3, -4, 12]) };
    const a = tf.variable(tf.tensor1d([0.1, 0.2, 0.3]));
    const b = tf.variable(tf.tensor1d([0.1, 0.2, 0.3]));
    const oa = new AdamW({ w: a }, { lr: 0.05 });
    const ob = new AdamW({ w: b }, { lr: 0.05 });
    const clipped = clipGradNorm(g, 1);
    oa.step(clipped.grads);
    const { totalNorm, clipCoef } = clipCoefficient(g, 1);
    expect(totalNorm).toBeCloseTo(13, 5);
    ob.step(g, { gradScale: clipCoef });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([...clipped.grads.values(), g.w, a, b]);
    oa.dispose();
    ob.dispose();
  });

  it('leaves gradients unchanged below the threshold', () => {
    const g = new Map([['a', tf.tensor1d([0.3, 0.4])]]);
    const r = clipGradNorm(g, 1);
    expect(r.clipCoef).toBe(1);
    expect(Array.from(r.grads.get('a')!.dataSync())).toEqual(Array.from(g.get('a')!.dataSync()));
    tf.dispose([...r.grads.values(), ...g.values()]);
    expect(() => clipGradNorm(g, 0)).toThrow(/Invalid maxNorm: 0/);
  });
});
