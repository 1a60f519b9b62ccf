/**
 * Gradient helpers shared by the learners: one loss-and-gradients call over named variables,
 * and one "clip to a global norm, then step the optimizer" call (torch's
 * `clip_grad_norm_` + `optimizer.step()`), both leak-free.
 */
import * as tf from '@tensorflow/tfjs';
import { AdamW, clipCoefficient, type NamedVariables, toEntries } from './optim.js';

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

/**
 * Accumulates `scale · grads` into `acc` (disposing the inputs it replaces). Used to build a
 * large batch's gradient from micro-batches: with scale = micro / batch size the sum is the
 * gradient of the batch-mean loss.
 */
export function accumulateGrads(acc: Map<string, tf.Tensor> | null, grads: Map<string, tf.Tensor>, scale: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    const prev = acc?.get(name);
    const next = tf.tidy(() => {
      const sg = scale === 1 ? g.clone() : tf.mul(g, scale);
      return prev ? tf.add(prev, sg) : sg;
    });
    out.set(name, next);
    g.dispose();
    prev?.dispose();
  }
  if (acc) for (const [name, t] of acc) if (!grads.has(name)) out.set(name, t);
  return out;
}

/**
 * The gradient of one batch built from its micro-batches: `add` each micro-batch's loss,
 * gradients and host statistics with weight = its rows / the batch's rows; `loss`, `aux` and
 * `take()` then hold the weighted sums, which for a mean loss equal the whole batch's. A single
 * micro-batch of weight 1 is taken as it is (no copy, the same bits as without accumulation).
 * Owns the gradients until `take()`; `dispose()` frees what was not taken.
 */
export class GradientAccumulator {
  /** Weighted sum of the micro-batch losses. */
  loss = 0;
  /** Weighted sums of the micro-batches' host statistics (e.g. a policy and a BC term). */
  readonly aux: Record<string, number> = {};
  private acc: Map<string, tf.Tensor> | null = null;

  /** Adds one micro-batch (takes ownership of `grads`). */
  add(loss: number, grads: Map<string, tf.Tensor>, weight: number, aux: Record<string, number> = {}): void {
    this.acc = weight === 1 && this.acc === null ? grads : accumulateGrads(this.acc, grads, weight);
    this.loss += weight * loss;
    for (const [k, v] of Object.entries(aux)) this.aux[k] = (this.aux[k] ?? 0) + weight * v;
  }

  /** The accumulated gradients; the caller owns them (e.g. passes them to `applyGradients`). */
  take(): Map<string, tf.Tensor> {
    if (!this.acc) throw new Error('GradientAccumulator.take: no micro-batch was added.');
    const g = this.acc;
    this.acc = null;
    return g;
  }

  dispose(): void {
    if (this.acc) tf.dispose([...this.acc.values()]);
    this.acc = null;
  }
}

/** A micro-batch: rows [from, to) of a batch, and its weight (its rows / the batch's). */
export interface MicroBatch {
  from: number;
  to: number;
  weight: number;
}

/** Splits a batch of `count` rows into micro-batches of at most `size` rows (0: one, the whole batch). */
export function microBatches(count: number, size: number): MicroBatch[] {
  const micro = size > 0 ? size : count;
  const out: MicroBatch[] = [];
  for (let from = 0; from < count; from += micro) {
    const to = Math.min(from + micro, count);
    out.push({ from, to, weight: (to - from) / count });
  }
  return out;
}
