/**
 * The PPO loss (Schulman et al. 2017, with SB3's `ppo.py` `train()` details), as pure tensor
 * functions:
 *
 *   Â        = (A − mean A) / (std A + 1e-8)            (per minibatch, when normalising)
 *   ρ        = exp(log π(a|s) − log π_old(a|s))
 *   L_clip   = −mean( min(Â·ρ, Â·clip(ρ, 1 − ε, 1 + ε)) )
 *   V_pred   = V_old + clip(V − V_old, ±ε_vf)            (only with value clipping; SB3 form)
 *   L_vf     = mean( (R − V_pred)² )                     (SB3: F.mse_loss, no ½)
 *   L_ent    = −mean(H)
 *   L        = L_clip + c_ent·L_ent + c_vf·L_vf
 *
 * and the statistics SB3 logs: clip fraction mean(|ρ − 1| > ε) and the approximate KL
 * mean((ρ − 1) − log ρ) (Schulman's k3 estimator).
 */
import * as tf from '@tensorflow/tfjs';

export interface PPOLossInputs {
  logProb: tf.Tensor1D;
  entropy: tf.Tensor1D;
  values: tf.Tensor1D;
  oldLogProbs: tf.Tensor1D;
  oldValues: tf.Tensor1D;
  advantages: tf.Tensor1D;
  returns: tf.Tensor1D;
}

export interface PPOLossSettings {
  clipRange: number;
  /** Value clipping range (SB3 `clip_range_vf`); null = no value clipping. */
  clipRangeVf: number | null;
  entCoef: number;
  vfCoef: number;
  normalizeAdvantage: boolean;
}

export interface PPOLossTerms {
  total: tf.Scalar;
  policyLoss: tf.Scalar;
  valueLoss: tf.Scalar;
  entropyLoss: tf.Scalar;
}

/** Advantage normalisation as SB3: (A − mean) / (std + 1e-8), std with ddof 1 (torch `.std()`); a single sample is left as is. */
export function normalizeAdvantages(adv: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const n = adv.shape[0];
    if (n <= 1) return adv.clone();
    const mean = tf.mean(adv);
    const centred = tf.sub(adv, mean);
    const std = tf.sqrt(tf.div(tf.sum(tf.square(centred)), n - 1));
    return tf.div(centred, tf.add(std, 1e-8)) as tf.Tensor1D;
  });
}

/** The PPO loss and its parts (tensors; the caller disposes them, or runs this inside a tidy). */
export function ppoLoss(x: PPOLossInputs, s: PPOLossSettings): PPOLossTerms {
  return tf.tidy(() => {
    const adv = s.normalizeAdvantage ? normalizeAdvantages(x.advantages) : x.advantages;
    const ratio = tf.exp(tf.sub(x.logProb, x.oldLogProbs));
    const surr1 = tf.mul(adv, ratio);
    const surr2 = tf.mul(adv, tf.clipByValue(ratio, 1 - s.clipRange, 1 + s.clipRange));
    const policyLoss = tf.neg(tf.mean(tf.minimum(surr1, surr2))) as tf.Scalar;
    const valuePred = s.clipRangeVf === null ? x.values : tf.add(x.oldValues, tf.clipByValue(tf.sub(x.values, x.oldValues), -s.clipRangeVf, s.clipRangeVf));
    const valueLoss = tf.mean(tf.square(tf.sub(x.returns, valuePred))) as tf.Scalar;
    const entropyLoss = tf.neg(tf.mean(x.entropy)) as tf.Scalar;
    const total = tf.add(tf.add(policyLoss, tf.mul(entropyLoss, s.entCoef)), tf.mul(valueLoss, s.vfCoef)) as tf.Scalar;
    return { total, policyLoss, valueLoss, entropyLoss };
  });
}

/** Host-side clip fraction and approximate KL from new and old log-probabilities. */
export function ppoStats(logProb: ArrayLike<number>, oldLogProbs: ArrayLike<number>, clipRange: number): { clipFraction: number; approxKl: number } {
  const n = logProb.length;
  let clipped = 0;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const logRatio = logProb[i]! - oldLogProbs[i]!;
    const ratio = Math.exp(logRatio);
    if (Math.abs(ratio - 1) > clipRange) clipped += 1;
    kl += ratio - 1 - logRatio;
  }
  return { clipFraction: clipped / n, approxKl: kl / n };
}
