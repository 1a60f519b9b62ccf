/**
 * One config style for the whole library (cleanrl's `Args` with a doc line per field, diffusers'
 * frozen JSON-serialisable configs). A config is declared once, with its defaults, a one-line doc
 * and a check per field:
 *
 * ```ts
 * export const DDIM_CONFIG = defineConfig<DDIMSchedulerConfig>('DDIMSchedulerConfig', {
 *   numTrainTimesteps: { default: 1000, type: 'integer', min: 1, doc: 'Training diffusion steps T.' },
 *   betaSchedule: { default: 'squaredcos_cap_v2', type: 'enum', values: ['linear', 'squaredcos_cap_v2'], doc: '...' },
 * });
 * const cfg = DDIM_CONFIG.resolve({numTrainTimesteps: 100});   // frozen, defaults filled
 * DDIM_CONFIG.resolve({numTrainTimestep: 100});                 // ConfigError: did you mean 'numTrainTimesteps'?
 * ```
 *
 * `resolve(input)`:
 * 1. rejects anything but a plain object (or undefined, meaning "all defaults");
 * 2. rejects unknown keys (`UnknownKeyError`, a `ConfigError` whose `field` is the dotted path of
 *    the key and whose `suggestion` is the nearest valid key, if one is close);
 * 3. checks each given value's type, range and `check` (`ConfigError` with `field`, `expected`,
 *    `found`); `undefined` counts as "not given";
 * 4. resolves nested sections (`type: 'object'` with `nested`) the same way, over the field's default;
 * 5. runs the config-level `check` (relations between fields);
 * 6. returns a deep-frozen copy.
 *
 * Numbers must be finite (JSON has no NaN or Infinity, and every config round-trips through JSON):
 * "no limit" is a `nullable` field or 0 by a documented convention.
 *
 * Browser-safe: imports nothing from Node.
 */

import { ConfigError, DrivekitError, describeValue, nearest, type ErrorDetails } from './errors.js';

export type FieldType = 'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'object' | 'array' | 'any';

export interface FieldSpec<V> {
  /** Default value (deep-frozen in `defaults`). */
  default: V;
  /** One-line doc (the docs table and `--help` show it). */
  doc: string;
  type: FieldType;
  /** Inclusive range for number/integer. */
  min?: number;
  max?: number;
  /** Exclusive bounds for number/integer. */
  gt?: number;
  lt?: number;
  /** Allowed values for 'enum'. */
  values?: readonly V[];
  /** `null` is allowed. */
  nullable?: boolean;
  /** For 'object': resolve the sub-object with this def (over this field's default). */
  nested?: ConfigDef<any>;
  /** For 'array': per-item check. */
  items?: Omit<FieldSpec<any>, 'default' | 'doc'>;
  /** Extra check; returns the "expected ..." text on failure. */
  check?: (v: V) => string | undefined;
  /** CLI flag name (default: kebab-case of the key); false = not a CLI flag. */
  cli?: string | false;
}

export type FieldSpecs<T> = { [K in keyof T]-?: FieldSpec<T[K]> };

/** What `resolve` accepts for a config T: any subset of keys, nested sections partial too (arrays whole). */
export type ConfigInput<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? ConfigInput<T[K]> : T[K];
};

/** A failed relation between fields, returned by a config-level check. */
export interface ConfigIssue {
  /** Dotted key path of the field to change. */
  field: string;
  /** What was expected, in words. */
  expected: string;
  found: unknown;
}

export interface DefineConfigOptions<T> {
  /** Relations between fields, run after every field is checked. */
  check?: (cfg: Readonly<T>) => ConfigIssue | undefined;
  /** How messages name the config (default: its name), e.g. 'env config' gives 'env config.horizon: ...'. */
  label?: string;
}

export interface ResolveOptions<T> {
  /** The file the input came from (reported in errors). */
  file?: string;
  /** Resolve over this full config instead of `defaults` (a preset, a saved config). */
  base?: Readonly<T>;
}

export interface ConfigDef<T> {
  /** The config's name, e.g. 'PPOConfig' (reported in errors and docs). */
  readonly name: string;
  readonly fields: FieldSpecs<T>;
  /** Every field's default; frozen. */
  readonly defaults: Readonly<T>;
  /** Checks `input`, fills defaults and returns a deep-frozen config (see the file header). */
  resolve(input?: unknown, where?: ResolveOptions<T>): Readonly<T>;
  /** A plain, mutable JSON-ready copy; `resolve(JSON.parse(JSON.stringify(toJSON(c))))` deep-equals `c`. */
  toJSON(cfg: Readonly<T>): Record<string, unknown>;
  /** Markdown table `key | type | default | doc`; nested sections as dotted keys. */
  docTable(): string;
}

/** An unknown key: a `ConfigError` that also names the nearest valid key and all valid keys. */
export class UnknownKeyError extends ConfigError {
  /** The nearest valid key, when one is close enough to be a likely typo. */
  readonly suggestion: string | undefined;
  readonly validKeys: readonly string[];

  constructor(message: string, details: ErrorDetails, suggestion: string | undefined, validKeys: readonly string[]) {
    super(message, details);
    this.suggestion = suggestion;
    this.validKeys = validKeys;
  }
}

/** 'lrWarmup' -> 'lr-warmup', 'max_speed_km_h' -> 'max-speed-km-h'. */
export function kebabCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Copies plain objects and arrays (other values as they are) and freezes the copies. */
function frozenCopy<V>(v: V): V {
  if (Array.isArray(v)) return Object.freeze(v.map((x) => frozenCopy(x) as unknown)) as V;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = frozenCopy(x);
    return Object.freeze(out) as V;
  }
  return v;
}

/** Copies plain objects and arrays, unfrozen. */
function plainCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plainCopy);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainCopy(x);
    return out;
  }
  return v;
}

type AnySpec = Omit<FieldSpec<unknown>, 'default' | 'doc'>;

function fmtNum(n: number): string {
  return String(n);
}

/** The "expected ..." text of a spec: 'a number in (0, 20]', 'an integer >= 1', 'one of "a", "b"'. */
export function describeSpec(spec: AnySpec): string {
  let s: string;
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const noun = spec.type === 'integer' ? 'an integer' : 'a number';
      const lo = spec.gt !== undefined ? { v: spec.gt, open: true } : spec.min !== undefined ? { v: spec.min, open: false } : undefined;
      const hi = spec.lt !== undefined ? { v: spec.lt, open: true } : spec.max !== undefined ? { v: spec.max, open: false } : undefined;
      if (lo && hi) s = `${noun} in ${lo.open ? '(' : '['}${fmtNum(lo.v)}, ${fmtNum(hi.v)}${hi.open ? ')' : ']'}`;
      else if (lo) s = `${noun} ${lo.open ? '>' : '>='} ${fmtNum(lo.v)}`;
      else if (hi) s = `${noun} ${hi.open ? '<' : '<='} ${fmtNum(hi.v)}`;
      else s = noun;
      break;
    }
    case 'boolean':
      s = 'a boolean';
      break;
    case 'string':
      s = 'a string';
      break;
    case 'enum':
      s = `one of ${(spec.values ?? []).map((x) => describeValue(x)).join(', ')}`;
      break;
    case 'object':
      s = spec.nested ? `an object (${spec.nested.name})` : 'an object';
      break;
    case 'array':
      s = spec.items ? `an array, each item ${describeSpec(spec.items)}` : 'an array';
      break;
    default:
      s = 'any JSON value';
  }
  return spec.nullable ? `${s} or null` : s;
}

interface Ctx {
  name: string;
  file: string | undefined;
}

function fail(ctx: Ctx, field: string, expected: string, found: unknown, hint?: string): never {
  const details: ErrorDetails = { file: ctx.file, field, expected, found };
  const message = DrivekitError.format({ ...details, field: `${ctx.name}.${field}` }, hint);
  throw new ConfigError(message, details);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Checks one value (not undefined) against a spec and returns the frozen resolved value. */
function checkValue(spec: AnySpec & { check?: (v: never) => string | undefined }, v: unknown, base: unknown, ctx: Ctx, path: string): unknown {
  if (v === null) {
    if (spec.nullable) return null;
    fail(ctx, path, describeSpec(spec), v);
  }
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (spec.type === 'number' || Number.isInteger(v)) &&
        (spec.min === undefined || v >= spec.min) &&
        (spec.max === undefined || v <= spec.max) &&
        (spec.gt === undefined || v > spec.gt) &&
        (spec.lt === undefined || v < spec.lt);
      if (!ok) fail(ctx, path, describeSpec(spec), v);
      break;
    }
    case 'boolean':
    case 'string':
      if (typeof v !== spec.type) fail(ctx, path, describeSpec(spec), v);
      break;
    case 'enum':
      if (!(spec.values ?? []).includes(v)) fail(ctx, path, describeSpec(spec), v);
      break;
    case 'object':
      if (!isPlainObject(v)) fail(ctx, path, describeSpec(spec), v);
      if (spec.nested) {
        const nestedBase = isPlainObject(base) ? base : undefined;
        v = resolveFields(spec.nested as ConfigDef<Record<string, unknown>>, v, nestedBase, { name: ctx.name, file: ctx.file }, path);
      }
      break;
    case 'array':
      if (!Array.isArray(v)) fail(ctx, path, describeSpec(spec), v);
      if (spec.items) {
        const items = spec.items;
        v = (v as unknown[]).map((x, i) => {
          if (x === undefined) fail(ctx, `${path}[${i}]`, describeSpec(items), x);
          return checkValue(items, x, undefined, ctx, `${path}[${i}]`);
        });
      }
      break;
    default:
      break;
  }
  if (spec.check) {
    const want = (spec.check as (x: unknown) => string | undefined)(v);
    if (want !== undefined) fail(ctx, path, want, v);
  }
  return frozenCopy(v);
}

function resolveFields<T>(def: ConfigDef<T>, input: unknown, base: Readonly<Record<string, unknown>> | undefined, ctx: Ctx, path: string): Readonly<T> {
  if (input === undefined) input = {};
  if (!isPlainObject(input)) fail(ctx, path || '(root)', `an object (${def.name})`, input);
  const fields = def.fields as Record<string, FieldSpec<unknown>>;
  const keys = Object.keys(fields);
  for (const k of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(fields, k)) {
      const suggestion = nearest(k, keys);
      const field = join(path, k);
      const details: ErrorDetails = { file: ctx.file, field, expected: `a key of ${def.name}`, found: input[k] };
      const hint = `Valid keys: ${keys.join(', ')}.${suggestion !== undefined ? ` Did you mean '${suggestion}'?` : ''}`;
      throw new UnknownKeyError(
        `${ctx.file ? `${ctx.file}: ` : ''}${path ? `${ctx.name}.${path}` : ctx.name}: unknown key '${k}'. ${hint}`,
        details,
        suggestion,
        keys,
      );
    }
  }
  const from = base ?? (def.defaults as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const spec = fields[k]!;
    const given = input[k];
    const b = Object.prototype.hasOwnProperty.call(from, k) ? from[k] : spec.default;
    if (given === undefined) {
      // Not given: the base value, or for a nested section the section resolved over its base.
      out[k] = spec.type === 'object' && spec.nested && b !== null ? checkValue(spec, {}, b, ctx, join(path, k)) : frozenCopy(b);
    } else {
      out[k] = checkValue(spec, given, b, ctx, join(path, k));
    }
  }
  return Object.freeze(out) as Readonly<T>;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Rows of a table; `values` are the defaults in effect (a nested section's come from its parent field). */
function docRows(fields: Record<string, FieldSpec<unknown>>, values: Record<string, unknown>, prefix: string, rows: string[]): void {
  for (const [k, spec] of Object.entries(fields)) {
    const key = prefix + k;
    const value = Object.prototype.hasOwnProperty.call(values, k) ? values[k] : spec.default;
    if (spec.type === 'object' && spec.nested && isPlainObject(value)) {
      rows.push(`| \`${key}\` | ${escapeCell(`object (${spec.nested.name})`)} | | ${escapeCell(spec.doc)} |`);
      docRows(spec.nested.fields as Record<string, FieldSpec<unknown>>, value, `${key}.`, rows);
      continue;
    }
    const def = value === undefined ? '' : `\`${escapeCell(describeValue(value))}\``;
    rows.push(`| \`${key}\` | ${escapeCell(describeSpec(spec))} | ${def} | ${escapeCell(spec.doc)} |`);
  }
}

/**
 * Declares a config. The defaults are checked against the specs here, so a wrong default fails
 * at import time, not at the first `resolve`.
 */
export function defineConfig<T>(name: string, fields: FieldSpecs<T>, options: DefineConfigOptions<T> = {}): ConfigDef<T> {
  const specs = fields as Record<string, FieldSpec<unknown>>;
  const rawDefaults: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(specs)) rawDefaults[k] = spec.default;
  const def: ConfigDef<T> = {
    name,
    fields: Object.freeze({ ...fields }) as FieldSpecs<T>,
    defaults: frozenCopy(rawDefaults) as Readonly<T>,
    resolve(input?: unknown, where: ResolveOptions<T> = {}): Readonly<T> {
      const ctx: Ctx = { name: options.label ?? name, file: where.file };
      const cfg = resolveFields(def, input, where.base as Readonly<Record<string, unknown>> | undefined, ctx, '');
      const issue = options.check?.(cfg);
      if (issue) fail(ctx, issue.field, issue.expected, issue.found);
      return cfg;
    },
    toJSON(cfg: Readonly<T>): Record<string, unknown> {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(specs)) out[k] = plainCopy((cfg as Record<string, unknown>)[k]);
      return out;
    },
    docTable(): string {
      const rows = ['| key | type | default | doc |', '|---|---|---|---|'];
      docRows(specs, def.defaults as Record<string, unknown>, '', rows);
      return rows.join('\n');
    },
  };
  // Check the declared defaults once (throws ConfigError naming the bad default).
  resolveFields(def, rawDefaults, rawDefaults, { name: `${name} (defaults)`, file: undefined }, '');
  return def;
}

/** A CLI flag generated from a field: `--lr-warmup <number>` and its doc/default. */
export interface CliFlag {
  /** Flag name without dashes. */
  flag: string;
  /** Dotted key path in the config. */
  key: string;
  spec: FieldSpec<unknown>;
}

/** The CLI flags of a config (nested sections prefixed: `--optimizer-lr`); fields with `cli: false` left out. */
export function cliFlags<T>(def: ConfigDef<T>): CliFlag[] {
  const out: CliFlag[] = [];
  const walk = (fields: Record<string, FieldSpec<unknown>>, keyPrefix: string, flagPrefix: string) => {
    for (const [k, spec] of Object.entries(fields)) {
      if (spec.cli === false) continue;
      const flag = flagPrefix + (typeof spec.cli === 'string' ? spec.cli : kebabCase(k));
      if (spec.type === 'object' && spec.nested) walk(spec.nested.fields as Record<string, FieldSpec<unknown>>, `${keyPrefix}${k}.`, `${flag}-`);
      else out.push({ flag, key: keyPrefix + k, spec });
    }
  };
  walk(def.fields as Record<string, FieldSpec<unknown>>, '', '');
  return out;
}

/**
 * Parses a flag's string value by the field's type (numbers, booleans 'true'/'false', 'null' for
 * nullable fields, JSON for objects/arrays/any); the config's `resolve` then checks the range.
 */
export function parseFlagValue(spec: Pick<FieldSpec<unknown>, 'type' | 'nullable' | 'values'>, text: string): unknown {
  if (spec.nullable && text === 'null') return null;
  switch (spec.type) {
    case 'number':
    case 'integer':
      return text.trim() === '' ? NaN : Number(text);
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'enum': {
      const numeric = (spec.values ?? []).some((x) => typeof x === 'number');
      return numeric && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    }
    case 'string':
      return text;
    default:
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
  }
}
