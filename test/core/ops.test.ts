import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/core/backend.js';
import { linear, matMul2d } from '../../src/core/ops.js';
import { Rng } from '../../src/core/rng.js';

const rnd = (r: Rng, shape: number[]) => tf.tensor(r.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

afterAll(async () => {
  await useBackend('wasm');
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fast-path matmuls on ${backend}`, () => {
    it('linear matches matMul + bias in value and in all three gradients', async () => {
      await useBackend(backend);
      const r = new Rng(5);
      const x = rnd(r, [3, 4, 6]);
      const w = rnd(r, [6, 5]) as tf.Tensor2D;
      const b = rnd(r, [5]) as tf.Tensor1D;
      const R = rnd(r, [3, 4, 5]);
      const before = tf.memory().numTensors;
      const diffs = tf.tidy(() => {
        const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(xx, ww.expandDims(0).tile([3, 1, 1]) as tf.Tensor3D), bb), R));
        const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D), R));
        const y = linear(x, w, b);
        expect(y.shape).toEqual([3, 4, 5]);
        const gRef = tf.grads(ref)([x, w, b]);
        const gOurs = tf.grads(ours)([x, w, b]);
        return [maxAbsDiff(y, tf.add(tf.matMul(x.reshape([12, 6]), w), b).reshape([3, 4, 5])), ...gRef.map((g, i) => maxAbsDiff(g, gOurs[i]!))];
      });
      expect(tf.memory().numTensors).toBe(before);
      for (const d of diffs) expect(d).toBeLessThan(1e-5);
      tf.dispose([x, w, b, R]);
    });

    it('matMul2d equals tf.matMul for every transpose combination, with gradients', async () => {
      await useBackend(backend);
      const r = new Rng(6);
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = rnd(r, ta ? [7, 3] : [3, 7]) as tf.Tensor2D;
        const b = rnd(r, tb ? [4, 7] : [7, 4]) as tf.Tensor2D;
        const diffs = tf.tidy(() => {
          const y0 = tf.matMul(a, b, ta, tb);
          const y1 = matMul2d(a, b, ta, tb);
          const g0 = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb))))([a, b]);
          const g1 = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(matMul2d(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb))))([a, b]);
          return [maxAbsDiff(y0, y1), maxAbsDiff(g0[0]!, g1[0]!), maxAbsDiff(g0[1]!, g1[1]!)];
        });
        for (const d of diffs) expect(d, `transposeA=${ta} transposeB=${tb}`).toBeLessThan(1e-4);
        tf.dispose([a, b]);
      }
    });
  });
}

describe('shape errors', () => {
  it('name the operands and the expected shape', () => {
    tf.tidy(() => {
      expect(() => linear(tf.zeros([2, 3]), tf.zeros([4, 5]) as tf.Tensor2D)).toThrow('linear: x [2,3] and w [4,5] do not match; expected w of shape [3, out].');
      expect(() => linear(tf.zeros([2, 3]), tf.zeros([3, 5]) as tf.Tensor2D, tf.zeros([4]) as tf.Tensor1D)).toThrow('linear: bias [4] should be [5].');
      expect(() => matMul2d(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow('matMul2d: inner dimensions differ: [2,3] x [2,3].');
    });
  });
});
