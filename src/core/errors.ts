/**
 * One error family for the whole library. Every error drivekit throws on purpose is a
 * `DrivekitError` carrying what a user needs to fix the input: the `file` (or scene/checkpoint
 * path), the `field` (config key, column, tensor name, flag), the `expected` and the `found`
 * value. Callers classify with `instanceof`, never by matching messages or by catching
 * `RangeError`/`TypeError`:
 *
 * - `ConfigError`: an option object or a config file is wrong (unknown key, bad type or range).
 * - `InputError`: data read from a file or passed as an argument is malformed, corrupted or
 *   inconsistent (scenes, caches, checkpoints, demonstrations, NaN where a number is required).
 * - `UsageError`: the command line is wrong (unknown flag, missing argument). The CLI exits 2
 *   for usage and configuration errors and 1 for input errors.
 *
 * Browser-safe: imports nothing from Node.
 */

export interface ErrorDetails {
  /** The file, folder or named source the problem is in. */
  file?: string;
  /** The config key, column, tensor, flag or JSON path that is wrong. */
  field?: string;
  /** What was expected, in words or as a value. */
  expected?: unknown;
  /** What was found. */
  found?: unknown;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Renders a found/expected value for a message: strings quoted, arrays and objects as JSON. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  try {
    const s = JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(v);
  }
}

/** The base class: a message plus the structured fields of `ErrorDetails`. */
export class DrivekitError extends Error {
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly expected: unknown;
  readonly found: unknown;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = new.target.name;
    this.file = details.file;
    this.field = details.field;
    this.expected = details.expected;
    this.found = details.found;
  }

  /**
   * Builds the usual message `file: field: expected X, found Y.` (parts left out when absent)
   * followed by an optional hint.
   */
  static format(details: ErrorDetails, hint?: string): string {
    const parts: string[] = [];
    if (details.file) parts.push(`${details.file}:`);
    if (details.field) parts.push(`${details.field}:`);
    const body: string[] = [];
    if (details.expected !== undefined) body.push(`expected ${typeof details.expected === 'string' ? details.expected : describeValue(details.expected)}`);
    if ('found' in details) body.push(`found ${describeValue(details.found)}`);
    let msg = parts.join(' ');
    if (body.length) msg += `${msg ? ' ' : ''}${body.join(', ')}.`;
    if (hint) msg += `${msg ? ' ' : ''}${hint}`;
    return msg;
  }
}

/** An option object or config file is wrong. */
export class ConfigError extends DrivekitError {}

/** Input data (a file, a scene, a tensor, an action) is malformed, corrupted or inconsistent. */
export class InputError extends DrivekitError {}

/** The command line is wrong; the CLI prints the message (and usage) and exits 2. */
export class UsageError extends DrivekitError {}

/** Edit distance, for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n]!;
}

/** The candidate closest to `name` (case-insensitive edit distance), or undefined if none is close. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const key = name.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(key, c.toLowerCase().replace(/[-_]/g, ''));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}
