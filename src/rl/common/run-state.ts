/**
 * Run state of a resumable training run: the `run.json` / `trainer.json` beside the weights of a
 * `last/` checkpoint, read back with its format checked, and the configuration check a resume
 * makes (a resumed run must use the settings it was started with, or it would not continue
 * identically). Shared by the IL, BC, PPO and DiffGRPO trainers.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../../core/atomic.js';
import { ConfigError, InputError, describeValue } from '../../core/errors.js';

/** One setting whose value differs between a checkpoint and the run resuming it. */
export interface ConfigDifference {
  field: string;
  /** The checkpoint's value. */
  saved: unknown;
  /** The value given now. */
  found: unknown;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields of `current` whose value differs from `saved` (compared as JSON), in `current`'s key
 * order, skipping `free` (settings a resume may change, e.g. `epochs`) and keys whose value in
 * `current` is `undefined` (overrides not given).
 */
export function configDifferences(saved: object, current: object, free: Iterable<string> = []): ConfigDifference[] {
  const skip = new Set(free);
  const s = saved as Record<string, unknown>;
  const out: ConfigDifference[] = [];
  for (const [field, found] of Object.entries(current)) {
    if (skip.has(field) || found === undefined) continue;
    if (!same(s[field], found)) out.push({ field, saved: s[field], found });
  }
  return out;
}

/**
 * Throws a `ConfigError` naming the first differing field (its `expected` is the checkpoint's
 * value, `found` the one given now); the message lists every difference as
 * `field: checkpoint X, here Y`. `extra` adds differences that are not config keys (the data's
 * row count, the model config).
 */
export function assertResumable(saved: object, current: object, options: { file: string; free?: Iterable<string>; extra?: ConfigDifference[]; hint?: string }): void {
  const diffs = [...configDifferences(saved, current, options.free), ...(options.extra ?? [])];
  if (diffs.length === 0) return;
  const first = diffs[0]!;
  const list = diffs.map((d) => `${d.field}: checkpoint ${describeValue(d.saved)}, here ${describeValue(d.found)}`).join('; ');
  const hint = options.hint ?? 'Resume with the settings of the checkpoint to continue identically.';
  throw new ConfigError(`Cannot resume from ${options.file}: the run differs from the checkpoint (${list}). ${hint}`, { file: options.file, field: first.field, expected: first.saved, found: first.found });
}

/** A difference when `saved !== found` (as JSON), else none; for `assertResumable`'s `extra`. */
export function difference(field: string, saved: unknown, found: unknown): ConfigDifference[] {
  return same(saved, found) ? [] : [{ field, saved, found }];
}

/**
 * Reads a run-state JSON file and checks its `format`. An unreadable file or another format is
 * an `InputError` naming the file (`what` says what the file should have been).
 */
export async function readRunState<S extends { format: string }>(file: string, format: string, what: string): Promise<S> {
  let st: S;
  try {
    st = JSON.parse(await fs.promises.readFile(file, 'utf8')) as S;
  } catch (e) {
    throw new InputError(InputError.format({ file, expected: what, found: (e as Error).message }), { file, expected: what, found: (e as Error).message, cause: e });
  }
  checkRunFormat(st, format, file);
  return st;
}

/** Throws an `InputError` naming the file unless `state.format === format`. */
export function checkRunFormat(state: unknown, format: string, file: string): void {
  const found = (state as { format?: unknown } | null)?.format;
  if (found !== format) throw new InputError(InputError.format({ file, field: 'format', expected: format, found }), { file, field: 'format', expected: format, found });
}

/** Writes a run-state JSON file atomically (one line, or indented with `pretty`). */
export async function writeRunState(file: string, state: object, pretty = false): Promise<void> {
  await writeFileAtomic(file, (pretty ? JSON.stringify(state, null, 2) : JSON.stringify(state)) + '\n');
}
