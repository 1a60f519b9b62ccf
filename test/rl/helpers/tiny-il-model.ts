/**
 * A tiny ε-prediction model with the IlModel contract, for trainer tests that must not depend
 * on the DiT: an MLP on [x_t (24), time features (2), mean-pooled conditioning (H), status (8)]
 * with a linear-β DDPM schedule (T = 20) and a deterministic 5-step DDIM sampler.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../src/core/rng.js';
import type { IlModel, IlTensorBatch } from '../../../src/rl/il-trainer.js';

const T = 20;
const SCALE = [20, 5, 0.5]; // rough metres / radians scales for x, y, heading

export class TinyIlModel implements IlModel {
  readonly variables: Record<string, tf.Variable>;
  readonly config: { kind: 'tiny'; condDim: number; hidden: number };
  private readonly alphaBar: Float64Array;

  constructor(condDim: number, hidden = 32, seed = 0) {
    this.config = { kind: 'tiny', condDim, hidden };
    const r = new Rng(seed);
    const init = (shape: [number, number], fanIn: number) =>
      tf.variable(tf.tensor2d(r.fillNormal(new Float32Array(shape[0] * shape[1]), 0, 1 / Math.sqrt(fanIn)), shape));
    const inDim = 24 + 2 + condDim + 8;
    this.variables = {
      'fc1.weight': init([inDim, hidden], inDim),
      'fc1.bias': tf.variable(tf.zeros([hidden])),
      'fc2.weight': init([hidden, 24], hidden),
      'fc2.bias': tf.variable(tf.zeros([24])),
    };
    this.alphaBar = new Float64Array(T);
    let prod = 1;
    for (let t = 0; t < T; t++) {
      prod *= 1 - (1e-3 + ((0.3 - 1e-3) * t) / (T - 1));
      this.alphaBar[t] = prod;
    }
  }

  private eps(xt: tf.Tensor2D, t: Int32Array, batch: Omit<IlTensorBatch, 'target'>): tf.Tensor2D {
    const B = xt.shape[0];
    const tf2 = new Float32Array(B * 2);
    for (let i = 0; i < B; i++) {
      tf2[2 * i] = Math.sin(t[i]! / T * Math.PI);
      tf2[2 * i + 1] = Math.cos(t[i]! / T * Math.PI);
    }
    const v = this.variables;
    const h = tf.concat([xt, tf.tensor2d(tf2, [B, 2]), tf.mean(batch.cond, 1) as tf.Tensor2D, batch.status], 1);
    const z = tf.tanh(tf.add(tf.matMul(h, v['fc1.weight']!), v['fc1.bias']!));
    return tf.add(tf.matMul(z, v['fc2.weight']!), v['fc2.bias']!) as tf.Tensor2D;
  }

  ilLoss(batch: IlTensorBatch, rng: Rng): tf.Scalar {
    return tf.tidy(() => {
      const B = batch.target.shape[0];
      const t = new Int32Array(B);
      const a = new Float32Array(B), s = new Float32Array(B);
      for (let i = 0; i < B; i++) {
        t[i] = rng.int(0, T);
        a[i] = Math.sqrt(this.alphaBar[t[i]!]!);
        s[i] = Math.sqrt(1 - this.alphaBar[t[i]!]!);
      }
      const noise = tf.tensor2d(rng.fillNormal(new Float32Array(B * 24)), [B, 24]);
      const x0 = tf.div(batch.target, tf.tensor1d(SCALE)).reshape([B, 24]);
      const xt = tf.add(tf.mul(x0, tf.tensor2d(a, [B, 1])), tf.mul(noise, tf.tensor2d(s, [B, 1]))) as tf.Tensor2D;
      return tf.mean(tf.square(tf.sub(this.eps(xt, t, batch), noise))) as tf.Scalar;
    });
  }

  sampleTrajectories(batch: Omit<IlTensorBatch, 'target'>, rng: Rng): tf.Tensor3D {
    return tf.tidy(() => {
      const B = batch.cond.shape[0];
      let x: tf.Tensor2D = tf.tensor2d(rng.fillNormal(new Float32Array(B * 24)), [B, 24]);
      const ts = [16, 12, 8, 4, 0];
      for (let k = 0; k < ts.length; k++) {
        const t = ts[k]!;
        const ab = this.alphaBar[t]!, abPrev = k + 1 < ts.length ? this.alphaBar[ts[k + 1]!]! : 1;
        const e = this.eps(x, new Int32Array(B).fill(t), batch);
        const x0 = tf.clipByValue(tf.div(tf.sub(x, tf.mul(e, Math.sqrt(1 - ab))), Math.sqrt(ab)), -5, 5);
        x = tf.add(tf.mul(x0, Math.sqrt(abPrev)), tf.mul(e, Math.sqrt(1 - abPrev))) as tf.Tensor2D;
      }
      return tf.mul(x.reshape([B, 8, 3]), tf.tensor1d(SCALE)) as tf.Tensor3D;
    });
  }

  dispose(): void {
    tf.dispose(Object.values(this.variables));
  }
}
