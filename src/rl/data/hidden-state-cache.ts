/**
 * The planner's hidden-state cache as one Arrow IPC file (spec §6, in drivekit's layout).
 *
 * One row per sample:
 *
 * | column    | Arrow type                         | shape    | content |
 * |-----------|------------------------------------|----------|---------|
 * | `token`   | Utf8                               |          | NAVSIM sample token |
 * | `cond`    | FixedSizeList<Float32>[L·H]        | `[L, H]` | VLM `last_hidden_state`, all L positions (padding included) |
 * | `history` | FixedSizeList<Float32>[12]         | `[4, 3]` | past poses (x, y, heading) at t−1.5 … t, ego frame |
 * | `status`  | FixedSizeList<Float32>[8]          | `[8]`    | cmd one-hot (4) ‖ v (2) ‖ a (2) |
 * | `target`  | FixedSizeList<Float32>[24]         | `[8, 3]` | future poses at 0.5 s steps, ego frame |
 *
 * Vector shapes are kept in the field metadata `drivekit.shape` (e.g. `[2800,1536]`). The
 * reader is lazy: it reads the footer at open and one record batch at a time on demand, so a
 * 1.5 TB cache is fine as long as one batch fits in memory. The writer sizes record batches to
 * about `targetBatchBytes` (16 MiB by default: one full-size ReCogDrive row per batch), which
 * keeps random access for shuffled training cheap.
 */
import { ArrowFileReader, ArrowFileWriter, col, type TableSchema } from '../../core/arrow.js';
import { InputError } from '../../core/errors.js';
import {
  HISTORY_SHAPE,
  HISTORY_SIZE,
  type ILDataSource,
  type ILRows,
  STATUS_SHAPE,
  STATUS_SIZE,
  type SyntheticOptions,
  TARGET_SHAPE,
  TARGET_SIZE,
  makeSyntheticRows,
  selectRows,
  validateRows,
  allocRows,
  copyRow,
} from './il-data.js';

export const CACHE_FORMAT = 'drivekit-hidden-state-cache';

/** The Arrow table schema of a cache with conditioning `[L, H]`. */
export function hiddenStateSchema(condLength: number, condDim: number) {
  return {
    token: col.utf8(),
    cond: col.vector([condLength, condDim]),
    history: col.vector(HISTORY_SHAPE),
    status: col.vector(STATUS_SHAPE),
    target: col.vector(TARGET_SHAPE),
  };
}
type CacheSchema = ReturnType<typeof hiddenStateSchema>;

export interface CacheWriterOptions {
  condLength: number;
  condDim: number;
  /** Approximate bytes per record batch (default 16 MiB); rows per batch = max(1, floor(this / row bytes)). */
  targetBatchBytes?: number;
  /** Fixed rows per record batch (overrides `targetBatchBytes`). */
  rowsPerBatch?: number;
  /** Extra schema metadata (strings), e.g. the VLM and prompt that produced the states. */
  metadata?: Record<string, string>;
}

/**
 * Appends rows to a new cache file. Nothing appears at the path until `close()`; `abort()` (or a
 * failed write) leaves an existing file untouched.
 */
export class HiddenStateCacheWriter {
  private pending: ILRows[] = [];
  private pendingRows = 0;
  private rows = 0;

  private constructor(
    readonly path: string,
    readonly condLength: number,
    readonly condDim: number,
    readonly rowsPerBatch: number,
    private readonly writer: ArrowFileWriter<CacheSchema>,
  ) {}

  static async open(path: string, options: CacheWriterOptions): Promise<HiddenStateCacheWriter> {
    const { condLength: L, condDim: H } = options;
    for (const [name, v] of [['condLength', L], ['condDim', H]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`${path}: invalid ${name} ${v}. Should be an integer >= 1.`);
    }
    const rowBytes = 4 * (L * H + HISTORY_SIZE + STATUS_SIZE + TARGET_SIZE);
    const rowsPerBatch = options.rowsPerBatch ?? Math.max(1, Math.floor((options.targetBatchBytes ?? 16 * 2 ** 20) / rowBytes));
    if (!Number.isInteger(rowsPerBatch) || rowsPerBatch < 1) throw new Error(`${path}: invalid rowsPerBatch ${rowsPerBatch}. Should be an integer >= 1.`);
    const writer = await ArrowFileWriter.open(path, hiddenStateSchema(L, H), {
      metadata: { 'drivekit.format': CACHE_FORMAT, 'drivekit.version': '1', ...options.metadata },
    });
    return new HiddenStateCacheWriter(path, L, H, rowsPerBatch, writer);
  }

  /** Rows appended so far. */
  get numRows(): number {
    return this.rows + this.pendingRows;
  }

  /** Appends rows (any count); full record batches are written as they fill up. */
  async append(rows: ILRows): Promise<void> {
    validateRows(rows, this.path);
    if (rows.condLength !== this.condLength || rows.condDim !== this.condDim) {
      throw new Error(
        `${this.path}: rows have conditioning [${rows.condLength}, ${rows.condDim}] but the cache was opened for [${this.condLength}, ${this.condDim}] (field 'cond').`,
      );
    }
    for (let i = 0; i < rows.tokens.length; i++) {
      if (typeof rows.tokens[i] !== 'string') throw new Error(`${this.path}: field 'token' of row ${i} is ${typeof rows.tokens[i]}, expected a string.`);
    }
    this.pending.push(rows);
    this.pendingRows += rows.count;
    while (this.pendingRows >= this.rowsPerBatch) await this.flush(this.rowsPerBatch);
  }

  private async flush(n: number): Promise<void> {
    const all = this.pending.length === 1 ? this.pending[0]! : concatRows(this.pending);
    const head = n === all.count ? all : selectRows(all, Int32Array.from({ length: n }, (_, i) => i));
    await this.writer.writeBatch({ token: head.tokens, cond: head.cond, history: head.history, status: head.status, target: head.target });
    this.rows += n;
    this.pendingRows -= n;
    this.pending = this.pendingRows > 0 ? [selectRows(all, Int32Array.from({ length: this.pendingRows }, (_, i) => n + i))] : [];
  }

  /** Writes the remaining rows and the footer, then renames the file into place. */
  async close(): Promise<void> {
    if (this.pendingRows > 0) await this.flush(this.pendingRows);
    await this.writer.close();
  }

  async abort(): Promise<void> {
    this.pending = [];
    this.pendingRows = 0;
    await this.writer.abort();
  }
}

/** Concatenates row blocks with the same conditioning shape. */
export function concatRows(parts: ILRows[]): ILRows {
  if (parts.length === 0) throw new Error('concatRows: no parts.');
  const { condLength: L, condDim: H } = parts[0]!;
  const n = parts.reduce((a, p) => a + p.count, 0);
  const out = allocRows(n, L, H);
  let at = 0;
  for (const p of parts) {
    if (p.condLength !== L || p.condDim !== H) throw new Error(`concatRows: conditioning [${p.condLength}, ${p.condDim}] differs from [${L}, ${H}].`);
    for (let i = 0; i < p.count; i++) out.tokens[at + i] = p.tokens[i]!;
    out.cond.set(p.cond, at * L * H);
    out.history.set(p.history, at * HISTORY_SIZE);
    out.status.set(p.status, at * STATUS_SIZE);
    out.target.set(p.target, at * TARGET_SIZE);
    at += p.count;
  }
  return out;
}

/** Writes rows to a new cache file in one go. */
export async function writeHiddenStateCache(path: string, rows: ILRows, options: Omit<CacheWriterOptions, 'condLength' | 'condDim'> = {}): Promise<void> {
  const w = await HiddenStateCacheWriter.open(path, { ...options, condLength: rows.condLength, condDim: rows.condDim });
  try {
    await w.append(rows);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}

/**
 * Writes a synthetic cache (see `makeSyntheticRows`) of `rows` rows, generated and written in
 * chunks so memory stays at one chunk. Returns the number of rows written.
 */
export async function writeSyntheticCache(
  path: string,
  options: SyntheticOptions & { chunkRows?: number; onProgress?: (done: number, total: number) => void },
): Promise<number> {
  const chunk = options.chunkRows ?? Math.max(1, Math.floor((16 * 2 ** 20) / (4 * options.condLength * options.condDim)));
  const w = await HiddenStateCacheWriter.open(path, {
    condLength: options.condLength,
    condDim: options.condDim,
    metadata: { 'drivekit.synthetic': JSON.stringify({ seed: options.seed ?? 0, worldSeed: options.worldSeed ?? 1234, condNoise: options.condNoise ?? 0.5, conditioningOnly: options.conditioningOnly ?? true }) },
  });
  try {
    const first = options.firstIndex ?? 0;
    for (let done = 0; done < options.rows; done += chunk) {
      const n = Math.min(chunk, options.rows - done);
      // Each chunk has its own seed derived from the base seed and its first row (the content
      // therefore depends on chunkRows, which defaults to a function of L and H only).
      await w.append(makeSyntheticRows({ ...options, rows: n, seed: ((options.seed ?? 0) * 1000003 + done) | 0, firstIndex: first + done }));
      options.onProgress?.(done + n, options.rows);
    }
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
  return options.rows;
}

export interface CacheExpectation {
  /** Conditioning length L the planner was built for (ReCogDrive: 2800). */
  condLength?: number;
  /** Conditioning width H the planner was built for (1536 for InternVL3-2B, 3584 for 8B). */
  condDim?: number;
  /** What the expectation comes from, for error messages (e.g. "the planner config"). */
  source?: string;
}

/**
 * A lazily read cache file. `readRows` reads only the record batches holding the requested
 * rows (the two most recent batches are kept decoded).
 */
export class HiddenStateCache implements ILDataSource {
  private readonly cached = new Map<number, ILRows>();
  private constructor(
    readonly path: string,
    readonly condLength: number,
    readonly condDim: number,
    private readonly reader: ArrowFileReader<CacheSchema>,
    /** Row offset of each batch, plus the total at the end. */
    readonly batchOffsets: Int32Array,
  ) {}

  /**
   * Opens and validates a cache. Every column must exist with its type and shape; when
   * `expect` gives L or H (from the planner config), a different conditioning length or width is
   * an error naming the field, the expected and the found value.
   */
  static async open(path: string, expect: CacheExpectation = {}): Promise<HiddenStateCache> {
    const probe = await ArrowFileReader.open(path);
    let found: TableSchema;
    try {
      found = probe.schema;
    } finally {
      await probe.close();
    }
    const problems: string[] = [];
    const missing = ['token', 'cond', 'history', 'status', 'target'].filter((c) => !(c in found));
    if (missing.length > 0) {
      throw new InputError(`${path}: not a hidden-state cache: missing column(s) ${missing.map((m) => `'${m}'`).join(', ')} (found ${Object.keys(found).join(', ') || 'none'}; expected token, cond, history, status, target).`);
    }
    const cond = found.cond!;
    if (cond.kind !== 'vector') throw new InputError(`${path}: column 'cond' should be FixedSizeList<Float32> with shape [L, H], found ${cond.kind}.`);
    let L: number, H: number;
    if (cond.shape.length === 2) {
      [L, H] = cond.shape as [number, number];
    } else if (expect.condLength && expect.condDim && cond.shape.length === 1 && cond.shape[0] === expect.condLength * expect.condDim) {
      [L, H] = [expect.condLength, expect.condDim]; // a flat list without shape metadata, of the right size
    } else {
      const want = expect.condLength && expect.condDim ? ` (expected [${expect.condLength}, ${expect.condDim}] = ${expect.condLength * expect.condDim} values)` : '';
      throw new InputError(`${path}: column 'cond' has shape [${cond.shape.join(', ')}] and no [L, H] shape in its field metadata 'drivekit.shape'${want}; write the file with that metadata (see docs/il-training.md).`);
    }
    const src = expect.source ?? 'the planner config';
    if (expect.condLength !== undefined && expect.condLength !== L) problems.push(`conditioning length L (column 'cond' dim 0): expected ${expect.condLength} from ${src}, found ${L}`);
    if (expect.condDim !== undefined && expect.condDim !== H) problems.push(`conditioning width H (column 'cond' dim 1): expected ${expect.condDim} from ${src}, found ${H}`);
    const fixed: [string, readonly number[]][] = [['history', HISTORY_SHAPE], ['status', STATUS_SHAPE], ['target', TARGET_SHAPE]];
    for (const [name, shape] of fixed) {
      const c = found[name]!;
      const size = shape.reduce((a, b) => a * b, 1);
      const ok = c.kind === 'vector' && c.shape.reduce((a, b) => a * b, 1) === size && (c.shape.length === 1 || c.shape.join() === shape.join());
      if (!ok) problems.push(`column '${name}': expected FixedSizeList<Float32> of shape [${shape.join(', ')}], found ${c.kind === 'vector' ? `shape [${c.shape.join(', ')}]` : c.kind}`);
    }
    if (found.token!.kind !== 'utf8') problems.push(`column 'token': expected Utf8, found ${found.token!.kind}`);
    if (problems.length > 0) throw new InputError(`${path}: hidden-state cache does not match: ${problems.join('; ')}.`);
    // Re-open reading only the five columns, as they are declared in the file (a flat [12]
    // history reads the same as [4, 3]: values are row-major either way).
    const schema = { token: col.utf8(), cond: found.cond!, history: found.history!, status: found.status!, target: found.target! } as CacheSchema;
    const reader = await ArrowFileReader.open(path, schema);
    try {
      const counts = await reader.batchRowCounts();
      const offsets = new Int32Array(counts.length + 1);
      for (let i = 0; i < counts.length; i++) offsets[i + 1] = offsets[i]! + counts[i]!;
      return new HiddenStateCache(path, L, H, reader, offsets);
    } catch (e) {
      await reader.close();
      throw e;
    }
  }

  get numRows(): number {
    return this.batchOffsets[this.batchOffsets.length - 1]!;
  }

  get numBatches(): number {
    return this.batchOffsets.length - 1;
  }

  /** Schema metadata of the file. */
  get metadata(): Record<string, string> {
    return this.reader.metadata;
  }

  /** Bytes read from disk so far (footer + batches). */
  get bytesRead(): number {
    return this.reader.bytesRead;
  }

  /** Reads one record batch as rows. */
  async readBatch(i: number): Promise<ILRows> {
    const hit = this.cached.get(i);
    if (hit) {
      this.cached.delete(i);
      this.cached.set(i, hit); // most recent last
      return hit;
    }
    const b = await this.reader.readBatch(i);
    const rows: ILRows = {
      count: b.numRows,
      condLength: this.condLength,
      condDim: this.condDim,
      tokens: b.token,
      cond: b.cond,
      history: b.history,
      status: b.status,
      target: b.target,
    };
    validateRows(rows, `${this.path} batch ${i}`);
    checkFinite(rows, this.path, this.batchOffsets[i]!);
    this.cached.set(i, rows);
    while (this.cached.size > 2) this.cached.delete(this.cached.keys().next().value!);
    return rows;
  }

  /** The batch holding row `r` (binary search over batch offsets). */
  batchOf(r: number): number {
    let lo = 0, hi = this.numBatches - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.batchOffsets[mid]! <= r) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async readRows(indices: ArrayLike<number>): Promise<ILRows> {
    const n = indices.length;
    const L = this.condLength, H = this.condDim;
    const out = allocRows(n, L, H);
    // Visit batches in file order so each is read once per call.
    const order = Array.from({ length: n }, (_, j) => j);
    const batchOfRow = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const r = indices[j]!;
      if (!Number.isInteger(r) || r < 0 || r >= this.numRows) throw new Error(`${this.path}: row ${r} out of range [0, ${this.numRows}).`);
      batchOfRow[j] = this.batchOf(r);
    }
    order.sort((a, b) => batchOfRow[a]! - batchOfRow[b]! || a - b);
    for (const j of order) {
      const bi = batchOfRow[j]!;
      const rows = await this.readBatch(bi);
      copyRow(rows, indices[j]! - this.batchOffsets[bi]!, out, j);
    }
    return out;
  }

  async close(): Promise<void> {
    this.cached.clear();
    await this.reader.close();
  }
}

/** NaN or ±Inf in any column is an `InputError` naming the file, column, row and token. */
function checkFinite(rows: ILRows, path: string, firstRow: number): void {
  const fields: [string, Float32Array, number][] = [
    ['cond', rows.cond, rows.condLength * rows.condDim],
    ['history', rows.history, HISTORY_SIZE],
    ['status', rows.status, STATUS_SIZE],
    ['target', rows.target, TARGET_SIZE],
  ];
  for (const [name, a, per] of fields) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (Number.isFinite(x)) continue;
      const k = Math.floor(i / per);
      const row = firstRow + k;
      throw new InputError(`${path}: field '${name}' of row ${row} (token ${rows.tokens[k]}) holds ${x} at element ${i - k * per} (column '${name}'); expected finite values.`, {
        file: path,
        field: `${name}[row ${row}]`,
        expected: 'finite values',
        found: x,
      });
    }
  }
}
