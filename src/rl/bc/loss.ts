/**
 * Behaviour-cloning loss on the Gaussian mean of a box policy whose actions are
 * [steering, throttle_brake] in [-1, 1] (the driving env):
 *
 *   L = w_steer · smoothL1(μ_steer − a_steer)
 *     + w_throttle · smoothL1(μ_throttle − a_throttle)
 *     + w_sign · BCE(σ(k · μ_throttle), 1[a_throttle > 0])
 *
 * each term a mean over the batch. smoothL1 is torch's `smooth_l1_loss` with `beta`
 * (0.5·x²/β for |x| < β, |x| − 0.5·β otherwise; the Huber loss with δ = 1 at β = 1). Expert actions
 * lie in [-1, 1], so errors are at most 2: at β = 1 the loss is quadratic for the small errors
 * of a trained policy and linear for the large ones (a wrong steering side), which keeps the rare
 * large corrections of the expert from dominating the gradient as an MSE would. The sign term is
 * BCE-with-logits on the logit k·μ_throttle (k = `signScale`): it separates accelerating from
 * braking, which a regression loss alone blurs near 0 (the expert often switches between small
 * throttle and small brake).
 *
 * Pure functions of tensors; the caller owns the inputs and disposes the outputs (or calls them
 * inside `tf.tidy`).
 */
import * as tf from '@tensorflow/tfjs';

/** Weights and shapes of the BC loss terms. */
export interface BCLossSettings {
  /** Weight of the steering smooth-L1 term. */
  steerWeight: number;
  /** Weight of the throttle/brake smooth-L1 term. */
  throttleWeight: number;
  /** Weight w_sign of the BCE on the throttle's sign. */
  signWeight: number;
  /** k: the sign logit is k · predicted throttle. */
  signScale: number;
  /** β of smooth-L1 (torch `smooth_l1_loss`). */
  smoothL1Beta: number;
}

/** The loss and its pieces (scalars). */
export interface BCLossTerms {
  total: tf.Scalar;
  steer: tf.Scalar;
  throttle: tf.Scalar;
  signBce: tf.Scalar;
}

/**
 * Element-wise smooth-L1 of `x` (torch: 0.5·x²/β if |x| < β else |x| − 0.5·β; β = 0 gives |x|),
 * written as 0.5·q²/β + (|x| − q) with q = min(|x|, β): the same values, and differentiable in
 * tfjs (a `where` on |x| < β would put the comparison on the tape).
 */
export function smoothL1(x: tf.Tensor, beta: number): tf.Tensor {
  return tf.tidy(() => {
    const ax = tf.abs(x);
    if (beta <= 0) return ax;
    const q = tf.minimum(ax, beta);
    return tf.add(tf.div(tf.mul(0.5, tf.square(q)), beta), tf.sub(ax, q));
  });
}

/** Element-wise, numerically stable BCE with logits: max(z, 0) − z·y + log(1 + e^(−|z|)). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/**
 * The BC loss of predicted means `mean` `[B, 2]` against expert actions `expert` `[B, 2]`
 * (column 0 steering, column 1 throttle/brake).
 */
export function bcLoss(mean: tf.Tensor2D, expert: tf.Tensor2D, s: BCLossSettings): BCLossTerms {
  return tf.tidy(() => {
    const [muSteer, muThrottle] = tf.split(mean, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const [aSteer, aThrottle] = tf.split(expert, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const steer = tf.mean(smoothL1(tf.sub(muSteer, aSteer), s.smoothL1Beta)) as tf.Scalar;
    const throttle = tf.mean(smoothL1(tf.sub(muThrottle, aThrottle), s.smoothL1Beta)) as tf.Scalar;
    const target = tf.cast(tf.greater(aThrottle, 0), 'float32');
    const signBce = tf.mean(bceWithLogits(tf.mul(muThrottle, s.signScale), target)) as tf.Scalar;
    const total = tf.addN([tf.mul(s.steerWeight, steer), tf.mul(s.throttleWeight, throttle), tf.mul(s.signWeight, signBce)]) as tf.Scalar;
    return { total, steer, throttle, signBce };
  });
}
