// Handlers for test/core/worker-pool.test.ts, run in worker threads (plain data in and out).
import { InputError } from '../../src/core/errors.js';

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
