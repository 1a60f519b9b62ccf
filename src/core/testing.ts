/**
 * Test helpers that need no test framework: tensor-leak checks (`tf.memory().numTensors`).
 */
import * as tf from '@tensorflow/tfjs';
import { DrivekitError } from './errors.js';

/**
 * Error thrown when a function leaves tensors behind: `field` is 'numTensors', `expected` the
 * count before and `found` the count after.
 */
export class TensorLeakError extends DrivekitError {
  readonly label: string;
  readonly before: number;
  readonly after: number;

  constructor(label: string, before: number, after: number) {
    super(`${label} leaked ${after - before} tensor(s): numTensors ${before} before, ${after} after.`, { field: 'numTensors', expected: before, found: after });
    this.name = 'TensorLeakError';
    this.label = label;
    this.before = before;
    this.after = after;
  }
}

/**
 * Runs `fn` (sync or async) and throws a `TensorLeakError` if `tf.memory().numTensors` differs
 * afterwards. Tensors that `fn` returns count as leaks unless `allowReturned` tensors are disposed
 * by the caller: return plain data from the function under test.
 */
export async function expectNoTensorLeak<T>(fn: () => T | Promise<T>, label = 'function'): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new TensorLeakError(label, before, after);
  return result;
}

/** Synchronous variant of `expectNoTensorLeak`. */
export function expectNoTensorLeakSync<T>(fn: () => T, label = 'function'): T {
  const before = tf.memory().numTensors;
  const result = fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new TensorLeakError(label, before, after);
  return result;
}
