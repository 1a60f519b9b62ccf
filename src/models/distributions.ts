/**
 * Action distributions of the actor-critic policies, as SB3's `common/distributions.py`:
 *
 * - **Diagonal Gaussian** with a state-independent log standard deviation (`log_std` is a free
 *   parameter, SB3 `DiagGaussianDistribution`):
 *     log π(a|s) = Σ_i [ −(a_i − μ_i)² / (2σ_i²) − log σ_i − ½ log 2π ]
 *     H = Σ_i [ ½ + ½ log 2π + log σ_i ]
 * - **Categorical** over `n` discrete actions from logits (SB3 `CategoricalDistribution`):
 *     log π(a|s) = log_softmax(logits)_a,   H = −Σ_k p_k log p_k
 *
 * Tensor versions (for the loss, differentiable; the categorical one selects with a one-hot
 * product, since the WASM backend has no gradient through `gather`) and host versions (for
 * sampling during rollouts, seeded by `core/rng`) compute the same formulas.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Gaussian log-density of `actions [B, D]` under mean `[B, D]` and `logStd [D]`, summed over D: `[B]`. */
export function gaussianLogProb(mean: tf.Tensor2D, logStd: tf.Tensor1D, actions: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const z = tf.div(tf.sub(actions, mean), tf.exp(logStd));
    const perDim = tf.sub(tf.neg(tf.add(tf.mul(tf.square(z), 0.5), logStd)), HALF_LOG_2PI);
    return tf.sum(perDim, 1) as tf.Tensor1D;
  });
}

/** Entropy of the diagonal Gaussian: a scalar (the same for every state). */
export function gaussianEntropy(logStd: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.add(logStd, 0.5 + HALF_LOG_2PI)) as tf.Scalar);
}

/** Categorical log-probability of integer `actions [B]` (as float one-hots `[B, n]`) under `logits [B, n]`: `[B]`. */
export function categoricalLogProb(logits: tf.Tensor2D, actionsOneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(logits), actionsOneHot), 1) as tf.Tensor1D);
}

/** Categorical entropy per row: `[B]`. */
export function categoricalEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D;
  });
}

// ---------------------------------------------------------------------------------------------
// Host-side sampling (rollouts): float64 arithmetic on the network's float32 outputs.

/**
 * Samples `a = μ + σ·ε` per row (or returns μ when `deterministic`), writing actions to `out`
 * and log-probabilities to `logProbs`. `mean` is `[n, d]` row-major.
 */
export function sampleGaussian(mean: Float32Array, logStd: Float32Array, n: number, rng: Rng | null, deterministic: boolean, out: Float32Array, logProbs: Float32Array): void {
  const d = logStd.length;
  let constant = 0;
  for (let j = 0; j < d; j++) constant -= logStd[j]! + HALF_LOG_2PI;
  for (let i = 0; i < n; i++) {
    let lp = constant;
    for (let j = 0; j < d; j++) {
      const k = i * d + j;
      if (deterministic || rng === null) {
        out[k] = mean[k]!;
      } else {
        const eps = rng.normal();
        const a = Math.fround(mean[k]! + Math.exp(logStd[j]!) * eps);
        out[k] = a;
        const z = (a - mean[k]!) / Math.exp(logStd[j]!);
        lp -= 0.5 * z * z;
      }
    }
    logProbs[i] = lp;
  }
}

/**
 * Samples one category per row from `logits [n, k]` by inverse CDF (or the arg-max when
 * `deterministic`), writing the index to `out[i]` and its log-probability to `logProbs[i]`.
 */
export function sampleCategorical(logits: Float32Array, k: number, n: number, rng: Rng | null, deterministic: boolean, out: Float32Array, logProbs: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[o + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[o + j]! - max);
    const logZ = max + Math.log(sum);
    let choice = 0;
    if (deterministic || rng === null) {
      for (let j = 1; j < k; j++) if (logits[o + j]! > logits[o + choice]!) choice = j;
    } else {
      const u = rng.uniform();
      let acc = 0;
      choice = k - 1;
      for (let j = 0; j < k; j++) {
        acc += Math.exp(logits[o + j]! - logZ);
        if (u < acc) {
          choice = j;
          break;
        }
      }
    }
    out[i] = choice;
    logProbs[i] = logits[o + choice]! - logZ;
  }
}
