/**
 * GAIL's discriminator loss, its statistics and the generator reward (imitation
 * `algorithms/adversarial/common.py` and `gail.py`).
 *
 * The discriminator D(s, a) = σ(ℓ(s, a)) is trained with binary cross-entropy to tell expert
 * pairs (label 1) from generator pairs (label 0):
 *
 *   L_D = mean over the batch of  −[y·log σ(ℓ) + (1 − y)·log(1 − σ(ℓ))]
 *       = mean( softplus(ℓ) − y·ℓ )                          (stable form, any ℓ)
 *
 * The generator reward is r = −log(1 − D(s, a)) = −log σ(−ℓ) = softplus(ℓ): large where the
 * discriminator takes the pair for the expert's, positive, finite for any finite logit
 * (softplus(ℓ) = max(ℓ, 0) + log1p(e^−|ℓ|), which neither overflows for ℓ ≫ 0 nor loses
 * precision for ℓ ≪ 0).
 */
import * as tf from '@tensorflow/tfjs';

/** softplus(x) = log(1 + eˣ), computed stably. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** The GAIL generator reward −log(1 − σ(ℓ)) = softplus(ℓ) for each logit. */
export function gailReward(logits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = softplus(logits[i]!);
  return out;
}

/** Mean BCE-with-logits over `logits [n]` with labels `[n]` (1 = expert): a scalar tensor. */
export function discriminatorLoss(logits: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    // softplus(ℓ) − y·ℓ, with softplus(ℓ) = relu(ℓ) + log1p(exp(−|ℓ|)).
    const sp = tf.add(tf.relu(logits), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(tf.sub(sp, tf.mul(labels, logits))) as tf.Scalar;
  });
}

export interface DiscriminatorStats {
  'disc/loss': number;
  /** Share of all samples classified correctly (σ(ℓ) > 0.5 for expert, < 0.5 for generator). */
  'disc/disc_acc': number;
  'disc/disc_acc_expert': number;
  'disc/disc_acc_gen': number;
  /** Mean binary entropy of σ(ℓ) (nats). */
  'disc/disc_entropy': number;
  'disc/disc_proportion_expert_pred': number;
  'disc/proportion_expert_true': number;
  'disc/n_expert': number;
  'disc/n_generated': number;
}

/** imitation's `compute_train_stats` from host logits and labels. */
export function discriminatorStats(logits: ArrayLike<number>, labels: ArrayLike<number>, loss: number): DiscriminatorStats {
  let nExp = 0;
  let nGen = 0;
  let okExp = 0;
  let okGen = 0;
  let predExp = 0;
  let ent = 0;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i]!;
    const expert = labels[i]! > 0.5;
    const predictedExpert = l > 0;
    if (predictedExpert) predExp += 1;
    if (expert) {
      nExp += 1;
      if (predictedExpert) okExp += 1;
    } else {
      nGen += 1;
      if (!predictedExpert) okGen += 1;
    }
    // H(σ(ℓ)) = softplus(ℓ) − ℓ·σ(ℓ), stable for large |ℓ|.
    const p = 1 / (1 + Math.exp(-l));
    ent += softplus(l) - l * p;
  }
  const n = logits.length;
  return {
    'disc/loss': loss,
    'disc/disc_acc': (okExp + okGen) / n,
    'disc/disc_acc_expert': nExp ? okExp / nExp : NaN,
    'disc/disc_acc_gen': nGen ? okGen / nGen : NaN,
    'disc/disc_entropy': ent / n,
    'disc/disc_proportion_expert_pred': predExp / n,
    'disc/proportion_expert_true': nExp / n,
    'disc/n_expert': nExp,
    'disc/n_generated': nGen,
  };
}
