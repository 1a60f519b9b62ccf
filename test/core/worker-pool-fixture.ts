// Handlers for test/core/worker-pool.test.ts, run in worker threads (plain data in and out).
import { threadId } from 'node:worker_threads';
import { InputError } from '../../src/core/errors.js';
import { transferResult } from '../../src/core/worker-pool.js';

/** Squares `x` after `ms` of waiting (so later tasks can finish first). */
export async function square(task: { x: number; ms: number }): Promise<{ x: number; y: number }> {
  await new Promise((r) => setTimeout(r, task.ms));
  return { x: task.x, y: task.x * task.x };
}

/** Throws an `InputError` with its fields for x < 0. */
export function checked(task: { x: number }): number {
  if (task.x < 0) throw new InputError('negative', { file: 'f.json', field: 'x', expected: '>= 0', found: task.x });
  return task.x;
}

/** The thread's id and a Float64Array of `n` values handed back by transfer (`transferResult`). */
export function threadAndBuffer(task: { n: number }, scale = 1): { value: { thread: number; data: Float64Array }; transfer: ArrayBuffer[] } {
  const data = Float64Array.from({ length: task.n }, (_, i) => i * scale);
  return transferResult({ thread: threadId, data }, [data.buffer]);
}

let inFlight = 0;
let peak = 0;
/** Waits `ms`; returns the most tasks this thread has held at once so far. */
export async function held(task: { ms: number }): Promise<number> {
  peak = Math.max(peak, ++inFlight);
  await new Promise((r) => setTimeout(r, task.ms));
  inFlight--;
  return peak;
}
