/**
 * A small, strict option parser: unknown options are errors that list the valid ones; `--help`
 * prints the command's own usage (its options and their defaults). Also the checks every command
 * shares: typed flag values (`intOption`, `numberOption`), each error naming its flag, and output
 * paths whose folder is created (`ensureParentDir`).
 *
 * Exit codes (set by `main`): 0 ok or help, 2 `UsageError`/`ConfigError` (the command line or a
 * config is wrong), 1 `InputError` or any other failure (the data is wrong).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendRequest } from '../core/backend.js';
import { nearest, UsageError } from '../core/errors.js';
import { defaultWorkers } from '../core/worker-pool.js';

export { UsageError };

export type OptionKind = 'boolean' | 'string' | 'number' | 'strings';
export type OptionSpec = Record<string, OptionKind>;
export type ParsedArgs = Record<string, string | number | boolean | string[] | undefined> & { _: string[] };

/** `--help` was given: `main` prints `text` to stdout and exits 0. */
export class HelpRequest extends Error {
  constructor(readonly text: string) {
    super(text);
    this.name = 'HelpRequest';
  }
}

/** The usage text as printed: prefixed with `Usage: ` unless it already is. */
export function usageText(usage: string): string {
  return usage.startsWith('Usage:') ? usage : `Usage: ${usage}`;
}

/**
 * Parses `--name value`, `--name=value` and `--flag`; positionals go to `_`.
 * Option names are given in kebab-case and returned as written. `-h`/`--help` anywhere throws a
 * `HelpRequest` with `usage`.
 */
export function parseArgs(args: string[], spec: OptionSpec, usage: string): ParsedArgs {
  const out: ParsedArgs = { _: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') throw new HelpRequest(usageText(usage));
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq >= 0 ? eq : undefined);
    const kind = spec[name];
    if (!kind) {
      const near = nearest(name, Object.keys(spec));
      throw new UsageError(
        `Unknown option --${name}.${near ? ` Did you mean --${near}?` : ''} Valid options: ${Object.keys(spec).map((k) => '--' + k).join(', ')}.\n${usageText(usage)}`,
        { field: `--${name}`, expected: 'one of ' + Object.keys(spec).map((k) => '--' + k).join(', '), found: `--${name}` },
      );
    }
    if (kind === 'boolean') {
      out[name] = eq >= 0 ? a.slice(eq + 1) !== 'false' : true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw new UsageError(`Option --${name} needs a value.\n${usageText(usage)}`, { field: `--${name}`, expected: 'a value', found: undefined });
    if (kind === 'number') {
      const n = value.trim() === '' ? NaN : Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`Option --${name}: expected a number, found ${JSON.stringify(value)}.`, { field: `--${name}`, expected: 'a number', found: value });
      out[name] = n;
    } else if (kind === 'strings') {
      const prev = out[name];
      out[name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** A usage error naming the flag: `Option --name: expected X, found Y.` */
export function flagError(name: string, expected: string, found: unknown): UsageError {
  return new UsageError(UsageError.format({ field: `Option --${name}`, expected, found }), { field: `--${name}`, expected, found });
}

/** An integer flag (`min`/`max` inclusive), or `fallback` when absent. */
export function intOption(opts: ParsedArgs, name: string, fallback: number, range?: { min?: number; max?: number }): number;
export function intOption(opts: ParsedArgs, name: string, fallback: undefined, range?: { min?: number; max?: number }): number | undefined;
export function intOption(opts: ParsedArgs, name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number | undefined {
  const v = opts[name];
  if (v === undefined) return fallback;
  const { min, max } = range;
  const expected = `an integer${min !== undefined && max !== undefined ? ` in [${min}, ${max}]` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : ''}`;
  if (typeof v !== 'number' || !Number.isInteger(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) throw flagError(name, expected, v);
  return v;
}

/** A number flag (`min`/`max` inclusive), or `fallback` when absent. */
export function numberOption(opts: ParsedArgs, name: string, fallback: number, range?: { min?: number; max?: number }): number;
export function numberOption(opts: ParsedArgs, name: string, fallback: undefined, range?: { min?: number; max?: number }): number | undefined;
export function numberOption(opts: ParsedArgs, name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number | undefined {
  const v = opts[name];
  if (v === undefined) return fallback;
  const { min, max } = range;
  const expected = `a number${min !== undefined && max !== undefined ? ` in [${min}, ${max}]` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : ''}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) throw flagError(name, expected, v);
  return v;
}

/** The `--backend` flag: auto (default) or one of tfjs's backends, named in the error otherwise. */
export function backendOption(opts: ParsedArgs): BackendRequest {
  const v = opts.backend;
  if (v === undefined) return 'auto';
  // core/backend's BACKEND_ORDER, not imported: it loads tfjs, which most commands never need
  const valid: readonly string[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
  if (typeof v !== 'string' || !valid.includes(v)) throw flagError('backend', `one of ${valid.join(', ')}`, v);
  return v as BackendRequest;
}

/** Creates the folder of an output file (as `mkdir -p`), so `--out runs/new/x.arrow` just works; returns `file`. */
export function ensureParentDir(file: string, flag = 'out'): string {
  const dir = path.dirname(path.resolve(file));
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(
      UsageError.format({ field: `Option --${flag}`, expected: 'a path whose folder exists or can be created', found: file }, `Creating ${dir} failed: ${(e as Error).message}`),
      { field: `--${flag}`, expected: 'a writable folder', found: file, cause: e },
    );
  }
  return file;
}

/** What `--workers N` says on every command: N threads do the work (1: this thread only); default the number of cores. */
export const WORKERS_HELP = 'threads doing the work, 1 = this thread only (default: the number of cores)';

/** The `--workers` flag of every command: an integer >= 1, default `defaultWorkers()` (the cores). */
export function workersOption(opts: ParsedArgs): number {
  return intOption(opts, 'workers', defaultWorkers(), { min: 1 });
}
