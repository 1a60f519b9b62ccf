/**
 * Gradient helpers shared by the learners: one loss-and-gradients call over named variables,
 * and one "clip to a global norm, then step the optimizer" call (torch's
 * `clip_grad_norm_` + `optimizer.step()`), both leak-free.
 */
import * as tf from '@tensorflow/tfjs';
import { AdamW, clipCoefficient, type NamedVariables, toEntries } from '../optim.js';

export interface LossAndGrads<A> {
  /** The scalar loss value. */
  loss: number;
  /** Gradients by variable name (the caller disposes them, e.g. through `applyGradients`). */
  grads: Map<string, tf.Tensor>;
  /** Whatever `f` returned besides the loss, read to host arrays inside the tape (`aux`). */
  aux: A;
}

/**
 * Runs `f` on the tape and returns the loss, the gradients of every variable in `vars`, and
 * `aux` (host values `f` chose to read, e.g. log-probabilities for statistics). `f` returns the
 * loss tensor and a thunk that turns intermediate tensors into host values before they are freed.
 */
export function lossAndGrads<A>(vars: NamedVariables, f: () => { loss: tf.Scalar; aux?: () => A }): LossAndGrads<A> {
  const entries = toEntries(vars);
  let aux: A = undefined as A;
  const { value, grads } = tf.variableGrads(() => {
    const out = f();
    if (out.aux) aux = out.aux();
    return out.loss;
  }, entries.map(([, v]) => v));
  const loss = value.dataSync()[0]!;
  value.dispose();
  // variableGrads keys gradients by the variables' internal names; map back to ours.
  const byTfName = new Map(Object.entries(grads));
  const named = new Map<string, tf.Tensor>();
  for (const [name, v] of entries) {
    const g = byTfName.get(v.name);
    if (g) named.set(name, g);
  }
  return { loss, grads: named, aux };
}

/**
 * Clips `grads` to global L2 norm `maxNorm` (0 or Infinity: no clipping) and applies one
 * optimizer step; disposes the gradients. Returns the norm before clipping. A non-finite norm is
 * an error naming the step (a NaN gradient would otherwise poison every weight).
 */
export function applyGradients(optimizer: AdamW, grads: Map<string, tf.Tensor>, maxNorm: number, where = 'applyGradients'): number {
  try {
    let clipCoef = 1;
    let totalNorm: number;
    if (maxNorm > 0 && Number.isFinite(maxNorm)) ({ totalNorm, clipCoef } = clipCoefficient(grads, maxNorm));
    else totalNorm = tf.tidy(() => tf.norm(tf.stack([...grads.values()].map((g) => tf.norm(g)))).dataSync()[0]!);
    if (!Number.isFinite(totalNorm)) throw new Error(`${where}: the gradient norm is ${totalNorm}; the loss or the inputs hold NaN/Inf.`);
    optimizer.step(grads, { gradScale: clipCoef });
    return totalNorm;
  } finally {
    for (const g of grads.values()) g.dispose();
  }
}
