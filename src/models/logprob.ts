/**
 * Gaussian log-densities of denoising transitions, as ReCogDrive's `get_logprobs` uses
 * `torch.distributions.Normal(mean, std).log_prob(x)`:
 *   log N(x; μ, σ) = −(x − μ)²/(2σ²) − log σ − log √(2π),
 * with σ one value per transition row (the per-step std after its floor), and the clamp-and-average
 * reductions that `forward_grpo` applies (clamp to [−5, 2], mean over the trajectory elements).
 */
import * as tf from '@tensorflow/tfjs';

const f32 = Math.fround;
const LOG_SQRT_2PI = f32(Math.log(Math.sqrt(2 * Math.PI)));

/**
 * Element-wise log N(x; mean, std[row]) for x, mean [R, ...]; `std` has one positive value per row.
 * Differentiable in `mean` (and `x`).
 */
export function gaussianLogProb(x: tf.Tensor, mean: tf.Tensor, std: ArrayLike<number>): tf.Tensor {
  const rows = x.shape[0]!;
  if (std.length !== rows) throw new Error(`gaussianLogProb: ${std.length} std values for ${rows} rows.`);
  const twoVar = new Float32Array(rows);
  const logStd = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const s = f32(std[i]!);
    if (!(s > 0)) throw new Error(`gaussianLogProb: std at row ${i} is ${s}; should be > 0.`);
    twoVar[i] = f32(2 * f32(s * s));
    logStd[i] = f32(Math.log(s));
  }
  return tf.tidy(() => {
    const shape = [rows, ...x.shape.slice(1).map(() => 1)];
    const quad = tf.div(tf.neg(tf.square(tf.sub(x, mean))), tf.tensor(twoVar, shape));
    return tf.sub(tf.sub(quad, tf.tensor(logStd, shape)), LOG_SQRT_2PI);
  });
}

/** ReCogDrive's log-prob clamp for the RL and BC terms. */
export const LOGPROB_CLAMP: Readonly<{ min: number; max: number }> = Object.freeze({ min: -5, max: 2 });

/** clamp(logp, min, max) averaged over all axes but the first: [R, ...] → [R]. */
export function clampedMeanPerRow(logProb: tf.Tensor, clamp: { min: number; max: number } = LOGPROB_CLAMP): tf.Tensor1D {
  return tf.tidy(() => {
    const axes = logProb.shape.slice(1).map((_, i) => i + 1);
    return tf.mean(tf.clipByValue(logProb, clamp.min, clamp.max), axes) as tf.Tensor1D;
  });
}
