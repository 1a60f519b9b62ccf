/**
 * A stable-baselines3-style logger: `record(key, value)` (or `recordMean`) during an iteration,
 * `dump(step)` once per iteration, which writes the current values to every sink and clears them.
 * Keys are namespaced `group/name` (`train/loss`, `rollout/ep_rew_mean`, `time/fps`).
 *
 * Sinks: console (an aligned table grouped by namespace), JSONL (one JSON object per dump,
 * appended) and CSV (header from the first dump; a key that appears later extends the columns by
 * rewriting the file atomically with empty cells for earlier rows, as SB3's CSV writer does).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from './atomic.js';

const pathDir = (p: string): string => path.dirname(p);

export type LogValue = number | string;
export type LogRecord = Record<string, LogValue>;

/** Receives one dump: the step and the values (keys sorted). */
export interface LogSink {
  write(step: number, values: LogRecord): void;
  close?(): void;
}

const KEY_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Checks a log key: `name` or `group/name` made of letters, digits, `_`, `.`, `-`. */
export function validateKey(key: string): void {
  if (!KEY_RE.test(key)) {
    throw new Error(`Invalid log key ${JSON.stringify(key)}. Should look like 'train/loss': segments of letters, digits, '_', '.', '-' joined by '/'.`);
  }
  if (key === 'step') throw new Error(`Invalid log key "step": it is reserved for the dump step.`);
}

/** Formats a number for the console table: integers as is, others with 4 significant digits. */
export function formatLogValue(v: LogValue): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** Prints each dump as a table grouped by namespace (SB3's HumanOutputFormat). */
export class ConsoleSink implements LogSink {
  constructor(private readonly out: (text: string) => void = (t) => process.stdout.write(t + '\n')) {}

  write(step: number, values: LogRecord): void {
    const rows: [string, string][] = [];
    let group: string | null = null;
    for (const key of Object.keys(values)) {
      const slash = key.lastIndexOf('/');
      const g = slash >= 0 ? key.slice(0, slash) : '';
      const name = slash >= 0 ? key.slice(slash + 1) : key;
      if (g !== group) {
        if (g !== '') rows.push([`${g}/`, '']);
        group = g;
      }
      rows.push([g !== '' ? `    ${name}` : name, formatLogValue(values[key]!)]);
    }
    rows.unshift(['step', String(step)]);
    const kw = Math.max(...rows.map((r) => r[0].length));
    const vw = Math.max(...rows.map((r) => r[1].length));
    const line = '-'.repeat(kw + vw + 7);
    const body = rows.map(([k, v]) => `| ${k.padEnd(kw)} | ${v.padEnd(vw)} |`);
    this.out([line, ...body, line].join('\n'));
  }
}

function jsonValue(v: LogValue): LogValue {
  // JSON has no NaN/Infinity: keep them readable as strings instead of a lossy null.
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

/** Appends one JSON object per dump: `{"step": 100, "train/loss": 0.5, ...}`. */
export class JsonlSink implements LogSink {
  /** @param options.append keep existing lines (default true: resuming a run continues its log). */
  constructor(
    readonly path: string,
    options: { append?: boolean } = {},
  ) {
    fs.mkdirSync(pathDir(path), { recursive: true });
    if (options.append === false) fs.writeFileSync(path, '');
  }

  write(step: number, values: LogRecord): void {
    const obj: Record<string, LogValue> = { step };
    for (const [k, v] of Object.entries(values)) obj[k] = jsonValue(v);
    fs.appendFileSync(this.path, JSON.stringify(obj) + '\n');
  }
}

function csvCell(v: LogValue | undefined): string {
  if (v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Parses one RFC 4180 CSV line without embedded newlines (enough for our own headers). */
function parseCsvHeader(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * CSV with a `step` column then the keys in first-seen order (sorted within a dump). New keys
 * extend the header: the file is rewritten atomically with empty cells in the earlier rows.
 */
export class CsvSink implements LogSink {
  private columns: string[] = [];

  constructor(
    readonly path: string,
    options: { append?: boolean } = {},
  ) {
    fs.mkdirSync(pathDir(path), { recursive: true });
    if (options.append && fs.existsSync(path)) {
      const text = fs.readFileSync(path, 'utf8');
      const first = text.split('\n', 1)[0] ?? '';
      if (first.length > 0) {
        const cols = parseCsvHeader(first);
        if (cols[0] !== 'step') throw new Error(`${path}: cannot append: the first CSV column should be 'step', found ${JSON.stringify(cols[0])}.`);
        this.columns = cols.slice(1);
      }
    } else {
      fs.writeFileSync(path, '');
    }
  }

  write(step: number, values: LogRecord): void {
    const fresh = Object.keys(values).filter((k) => !this.columns.includes(k));
    if (fresh.length > 0) {
      const old = this.columns;
      this.columns = [...old, ...fresh];
      const text = fs.readFileSync(this.path, 'utf8');
      const lines = text.split('\n').filter((l) => l.length > 0);
      const pad = ','.repeat(fresh.length);
      const rows = lines.slice(1).map((l) => l + pad);
      const header = ['step', ...this.columns].map(csvCell).join(',');
      writeFileAtomicSync(this.path, [header, ...rows].join('\n') + '\n');
    }
    const row = [String(step), ...this.columns.map((c) => csvCell(values[c]))].join(',');
    fs.appendFileSync(this.path, row + '\n');
  }
}

/** Collects values during an iteration and writes them to every sink at `dump(step)`. */
export class Logger {
  private values = new Map<string, LogValue>();
  private means = new Map<string, { sum: number; n: number }>();

  constructor(readonly sinks: LogSink[] = []) {}

  /** Sets `key` to `value` for the current dump (the last call wins). */
  record(key: string, value: LogValue): void {
    validateKey(key);
    if (typeof value !== 'number' && typeof value !== 'string') {
      throw new Error(`Invalid value for log key ${key}: expected a number or string, found ${typeof value}.`);
    }
    this.means.delete(key);
    this.values.set(key, value);
  }

  /** Accumulates `value` into the mean reported for `key` at the next dump. */
  recordMean(key: string, value: number): void {
    validateKey(key);
    if (typeof value !== 'number') throw new Error(`Invalid value for log key ${key}: recordMean needs a number, found ${typeof value}.`);
    this.values.delete(key);
    const m = this.means.get(key) ?? { sum: 0, n: 0 };
    m.sum += value;
    m.n += 1;
    this.means.set(key, m);
  }

  /** The values the next dump would write (keys sorted). */
  current(): LogRecord {
    const out: LogRecord = {};
    const keys = [...new Set([...this.values.keys(), ...this.means.keys()])].sort();
    for (const k of keys) {
      const m = this.means.get(k);
      out[k] = m ? m.sum / m.n : this.values.get(k)!;
    }
    return out;
  }

  /** Writes the recorded values to every sink and clears them. Returns what was written. */
  dump(step: number): LogRecord {
    if (!Number.isFinite(step)) throw new Error(`Invalid dump step ${step}. Should be a finite number.`);
    const rec = this.current();
    if (Object.keys(rec).length > 0) for (const s of this.sinks) s.write(step, rec);
    this.values.clear();
    this.means.clear();
    return rec;
  }

  close(): void {
    for (const s of this.sinks) s.close?.();
  }
}

export type LogFormat = 'stdout' | 'jsonl' | 'csv';

/**
 * A logger writing to `dir/progress.jsonl` and/or `dir/progress.csv` and/or the console.
 * `append: true` continues existing files (resume); the default starts them afresh.
 */
export function createLogger(options: { dir?: string; formats?: LogFormat[]; append?: boolean; out?: (text: string) => void } = {}): Logger {
  const formats = options.formats ?? (options.dir ? ['stdout', 'jsonl', 'csv'] : ['stdout']);
  const sinks: LogSink[] = [];
  for (const f of formats) {
    if (f === 'stdout') sinks.push(new ConsoleSink(options.out));
    else {
      if (!options.dir) throw new Error(`createLogger: format '${f}' needs a 'dir' option.`);
      const file = path.join(options.dir, `progress.${f}`);
      sinks.push(f === 'jsonl' ? new JsonlSink(file, { append: options.append ?? false }) : new CsvSink(file, { append: options.append ?? false }));
    }
  }
  return new Logger(sinks);
}

/** Reads a JSONL log back (e.g. for plots): one object per line. */
export function readJsonl(file: string): Record<string, LogValue>[] {
  const text = fs.readFileSync(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, LogValue>;
      } catch (e) {
        throw new Error(`${file}: line ${i + 1} is not valid JSON (${(e as Error).message}).`);
      }
    });
}
