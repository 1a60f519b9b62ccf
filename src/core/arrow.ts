/**
 * Typed, schema-checked Arrow IPC *file* IO for datasets and caches.
 *
 * - Columns are float32 / int32 / utf8 / bool scalars, or `vector(shape)`: a
 *   `FixedSizeList<Float32>` of `prod(shape)` values per row; the logical shape (e.g. `[L, H]` for
 *   a hidden-state cache) is kept in the field metadata under `drivekit.shape`. No Int64.
 * - `ArrowFileWriter` appends record batches as they come to a temporary file and renames it over
 *   the target at `close()`; `abort()` (or any error) leaves an existing target untouched.
 * - `ArrowFileReader` opens a file handle, reads the footer (block offsets), and reads record
 *   batch `i` on demand: memory and I/O are per batch, never the whole file.
 * - Opening with a schema validates it: a missing column or a wrong type / list size is an error
 *   naming the file, the column, the expected and the found type.
 * - Integrity: the writer records each batch's row count and a CRC-32 per column and batch in the
 *   schema metadata (`drivekit.integrity`, hidden from `metadata`). The reader checks the batch
 *   count at open, a batch's row count whenever its header is read, and its checksums when it is
 *   decoded (`readBatch`): corruption is an `InputError` naming the file, the batch and the column.
 *   Files written before (or by other tools) have no record and open unchecked. Damaged files
 *   (empty, truncated, garbled footer or batch) are `InputError`s naming the file, never raw
 *   apache-arrow errors.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import {
  Bool,
  CompressionType,
  DataType,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Message,
  Precision,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Schema,
  Struct,
  Utf8,
  compressionRegistry,
  makeData,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import { tempPathFor } from './atomic.js';
import { DrivekitError, InputError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// schema description

export type ColumnType =
  | { readonly kind: 'float32' }
  | { readonly kind: 'int32' }
  | { readonly kind: 'utf8' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'vector'; readonly shape: readonly number[] };

/** Column constructors: `{obs: col.vector([259]), reward: col.float32(), scene: col.utf8()}`. */
export const col = {
  float32: (): { readonly kind: 'float32' } => ({ kind: 'float32' }),
  int32: (): { readonly kind: 'int32' } => ({ kind: 'int32' }),
  utf8: (): { readonly kind: 'utf8' } => ({ kind: 'utf8' }),
  bool: (): { readonly kind: 'bool' } => ({ kind: 'bool' }),
  /** `FixedSizeList<Float32>` with `prod(shape)` values per row, row-major. */
  vector: (shape: number | readonly number[]): { readonly kind: 'vector'; readonly shape: readonly number[] } => {
    const s = typeof shape === 'number' ? [shape] : [...shape];
    if (s.length === 0 || !s.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`col.vector: invalid shape ${JSON.stringify(shape)}. Should be positive integers.`);
    }
    return { kind: 'vector', shape: s };
  },
};

export type TableSchema = Record<string, ColumnType>;

/** What a column holds when read: typed arrays (vectors flat, `rows * prod(shape)`), strings, bools as 0/1. */
export type ColumnValues<C extends ColumnType> = C extends { kind: 'float32' }
  ? Float32Array
  : C extends { kind: 'int32' }
    ? Int32Array
    : C extends { kind: 'utf8' }
      ? string[]
      : C extends { kind: 'bool' }
        ? Uint8Array
        : Float32Array;

/** What a column accepts when written. */
export type ColumnInput<C extends ColumnType> = C extends { kind: 'float32' }
  ? Float32Array | readonly number[]
  : C extends { kind: 'int32' }
    ? Int32Array | readonly number[]
    : C extends { kind: 'utf8' }
      ? readonly string[]
      : C extends { kind: 'bool' }
        ? Uint8Array | readonly boolean[]
        : Float32Array | readonly number[];

export type BatchValues<S extends TableSchema> = { [K in keyof S]: ColumnValues<S[K]> };
export type BatchInput<S extends TableSchema> = { [K in keyof S]: ColumnInput<S[K]> };

export const SHAPE_KEY = 'drivekit.shape';
/** Schema metadata key of the integrity record (row count and checksums per batch). */
export const INTEGRITY_KEY = 'drivekit.integrity';

/** `drivekit.integrity`: version, total rows, and per batch `[rows, crc32 of each column...]` (schema order). */
interface IntegrityRecord {
  v: 1;
  rows: number;
  columns: string[];
  batches: number[][];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (zlib's) of `bytes`, continuing from `crc`; uses node:zlib's when present (Node >= 20.15). */
function crc32(bytes: Uint8Array, crc = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(bytes, crc);
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * CRC-32 of a column's logical content in one batch (its Data chunks): the values of numeric
 * columns, the 0/1 bytes of bools, the lengths and bytes of strings. Independent of offsets and
 * padding, so the writer and the reader compute it from the same Data the same way.
 */
function columnChecksum(chunks: readonly Data[], c: ColumnType): number {
  let crc = 0;
  for (const d of chunks) {
    switch (c.kind) {
      case 'float32':
      case 'int32':
        crc = crc32(bytesOf((d.values as Float32Array | Int32Array).subarray(d.offset, d.offset + d.length)), crc);
        break;
      case 'vector': {
        const size = prod(c.shape);
        const child = d.children[0]!;
        const start = child.offset + d.offset * size;
        crc = crc32(bytesOf((child.values as Float32Array).subarray(start, start + d.length * size)), crc);
        break;
      }
      case 'bool': {
        const bits = d.values as Uint8Array;
        const out = new Uint8Array(d.length);
        for (let k = 0; k < d.length; k++) {
          const j = d.offset + k;
          out[k] = (bits[j >> 3]! >> (j & 7)) & 1;
        }
        crc = crc32(out, crc);
        break;
      }
      case 'utf8': {
        const offs = d.valueOffsets as Int32Array;
        const lengths = new Int32Array(d.length);
        for (let k = 0; k < d.length; k++) lengths[k] = offs[d.offset + k + 1]! - offs[d.offset + k]!;
        crc = crc32(bytesOf(lengths), crc);
        crc = crc32((d.values as Uint8Array).subarray(offs[d.offset]!, offs[d.offset + d.length]!), crc);
        break;
      }
    }
  }
  return crc >>> 0;
}

function parseIntegrity(file: string, raw: string | undefined): IntegrityRecord | null {
  if (raw === undefined) return null;
  let r: IntegrityRecord;
  try {
    r = JSON.parse(raw) as IntegrityRecord;
  } catch {
    throw new InputError(DrivekitError.format({ file, field: INTEGRITY_KEY, expected: 'a JSON integrity record', found: raw.slice(0, 60) }, 'The footer is corrupted.'), { file, field: INTEGRITY_KEY, expected: 'a JSON integrity record', found: raw.slice(0, 60) });
  }
  const ok = r && r.v === 1 && Number.isInteger(r.rows) && Array.isArray(r.columns) && Array.isArray(r.batches) && r.batches.every((b) => Array.isArray(b) && b.length === r.columns.length + 1 && b.every((x) => Number.isInteger(x) && x >= 0));
  if (!ok) throw new InputError(DrivekitError.format({ file, field: INTEGRITY_KEY, expected: 'version 1 integrity record', found: raw.slice(0, 60) }, 'The footer is corrupted.'), { file, field: INTEGRITY_KEY, expected: 'version 1 integrity record', found: raw.slice(0, 60) });
  return r;
}

/** An `InputError` for a damaged file; `field` names the batch (and column) when known. */
function damaged(file: string, field: string | undefined, problem: string, cause?: unknown): InputError {
  return new InputError(`${file}: ${field ? `${field}: ` : ''}${problem}`, { file, field, expected: 'an intact Arrow IPC file', found: problem, cause });
}

/** The message of an unknown thrown value. */
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function describeColumn(c: ColumnType): string {
  return c.kind === 'vector' ? `FixedSizeList[${prod(c.shape)}]<Float32> (shape [${c.shape.join(', ')}])` : c.kind === 'utf8' ? 'Utf8' : c.kind === 'bool' ? 'Bool' : c.kind === 'int32' ? 'Int32' : 'Float32';
}

function arrowField(name: string, c: ColumnType): Field {
  switch (c.kind) {
    case 'float32':
      return new Field(name, new Float32(), false);
    case 'int32':
      return new Field(name, new Int32(), false);
    case 'utf8':
      return new Field(name, new Utf8(), false);
    case 'bool':
      return new Field(name, new Bool(), false);
    case 'vector':
      return new Field(
        name,
        new FixedSizeList(prod(c.shape), new Field('item', new Float32(), false)),
        false,
        new Map([[SHAPE_KEY, JSON.stringify(c.shape)]]),
      );
  }
}

/** The Arrow schema for a table schema, with optional string metadata. */
export function toArrowSchema(schema: TableSchema, metadata: Record<string, string> = {}): Schema {
  return new Schema(
    Object.entries(schema).map(([name, c]) => arrowField(name, c)),
    new Map(Object.entries(metadata)),
  );
}

/** Checks a file's Arrow schema against the expected columns; returns the list of problems. */
function schemaProblems(found: Schema, expected: TableSchema): string[] {
  const problems: string[] = [];
  const byName = new Map(found.fields.map((f) => [f.name, f]));
  for (const [name, c] of Object.entries(expected)) {
    const f = byName.get(name);
    if (!f) {
      problems.push(`column '${name}': missing (expected ${describeColumn(c)}; found columns: ${found.fields.map((x) => x.name).join(', ') || 'none'})`);
      continue;
    }
    const t = f.type as DataType;
    const bad = (): string => `column '${name}': expected ${describeColumn(c)}, found ${String(t)}`;
    switch (c.kind) {
      case 'float32':
        if (!(DataType.isFloat(t) && t.precision === Precision.SINGLE)) problems.push(bad());
        break;
      case 'int32':
        if (!(DataType.isInt(t) && t.bitWidth === 32 && t.isSigned)) problems.push(bad());
        break;
      case 'utf8':
        if (!DataType.isUtf8(t)) problems.push(bad());
        break;
      case 'bool':
        if (!DataType.isBool(t)) problems.push(bad());
        break;
      case 'vector': {
        if (!DataType.isFixedSizeList(t) || !(DataType.isFloat(t.valueType) && (t.valueType as Float32).precision === Precision.SINGLE)) {
          problems.push(bad());
          break;
        }
        const size = prod(c.shape);
        if (t.listSize !== size) {
          problems.push(`column '${name}': expected list size ${size} (shape [${c.shape.join(', ')}]), found list size ${t.listSize}`);
          break;
        }
        const meta = f.metadata.get(SHAPE_KEY);
        if (meta !== undefined && meta !== JSON.stringify(c.shape)) {
          problems.push(`column '${name}': expected shape [${c.shape.join(', ')}], found shape ${meta} (list size ${size} matches)`);
        }
        break;
      }
    }
  }
  return problems;
}

/** The table schema implied by an Arrow schema (unsupported column types are reported by name). */
export function tableSchemaOf(schema: Schema, source = '<schema>'): TableSchema {
  const out: TableSchema = {};
  for (const f of schema.fields) {
    const t = f.type as DataType;
    if (DataType.isFloat(t) && t.precision === Precision.SINGLE) out[f.name] = col.float32();
    else if (DataType.isInt(t) && t.bitWidth === 32 && t.isSigned) out[f.name] = col.int32();
    else if (DataType.isUtf8(t)) out[f.name] = col.utf8();
    else if (DataType.isBool(t)) out[f.name] = col.bool();
    else if (DataType.isFixedSizeList(t) && DataType.isFloat(t.valueType) && (t.valueType as Float32).precision === Precision.SINGLE) {
      const meta = f.metadata.get(SHAPE_KEY);
      let shape: number[] = [t.listSize];
      try {
        if (meta) shape = JSON.parse(meta) as number[];
        out[f.name] = col.vector(shape);
      } catch (e) {
        throw new InputError(`${source}: column '${f.name}': invalid ${SHAPE_KEY} metadata ${JSON.stringify(meta)} (${messageOf(e)}).`, { file: source, field: f.name, expected: 'a JSON shape', found: meta, cause: e });
      }
    } else {
      const found = String(t);
      throw new InputError(`${source}: column '${f.name}' has unsupported type ${found} (supported: Float32, Int32, Utf8, Bool, FixedSizeList<Float32>; no Int64).`, { file: source, field: f.name, expected: 'Float32, Int32, Utf8, Bool or FixedSizeList<Float32>', found });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// building record batches

function columnData(file: string, name: string, c: ColumnType, values: unknown): { data: Data; rows: number } {
  const where = `${file}: column '${name}'`;
  switch (c.kind) {
    case 'float32': {
      if (!(values instanceof Float32Array || Array.isArray(values))) throw new Error(`${where}: expected Float32Array or number[], found ${typeName(values)}`);
      const v = values instanceof Float32Array ? values : Float32Array.from(values as number[]);
      return { data: makeData({ type: new Float32(), length: v.length, data: v }), rows: v.length };
    }
    case 'int32': {
      if (!(values instanceof Int32Array || Array.isArray(values))) throw new Error(`${where}: expected Int32Array or number[], found ${typeName(values)}`);
      if (Array.isArray(values)) {
        const i = values.findIndex((x) => !Number.isInteger(x) || x < -2147483648 || x > 2147483647);
        if (i >= 0) throw new Error(`${where}: row ${i} = ${values[i]} is not an int32`);
      }
      const v = values instanceof Int32Array ? values : Int32Array.from(values as number[]);
      return { data: makeData({ type: new Int32(), length: v.length, data: v }), rows: v.length };
    }
    case 'utf8': {
      if (!Array.isArray(values) || !values.every((s) => typeof s === 'string')) throw new Error(`${where}: expected string[], found ${typeName(values)}`);
      return { data: vectorFromArray(values as string[], new Utf8()).data[0]!, rows: values.length };
    }
    case 'bool': {
      if (!(values instanceof Uint8Array || Array.isArray(values))) throw new Error(`${where}: expected Uint8Array or boolean[], found ${typeName(values)}`);
      const b = Array.from(values as ArrayLike<number | boolean>, (x) => Boolean(x));
      return { data: vectorFromArray(b, new Bool()).data[0]!, rows: b.length };
    }
    case 'vector': {
      if (!(values instanceof Float32Array || Array.isArray(values))) throw new Error(`${where}: expected a flat Float32Array or number[], found ${typeName(values)}`);
      const v = values instanceof Float32Array ? values : Float32Array.from(values as number[]);
      const size = prod(c.shape);
      if (v.length % size !== 0) throw new Error(`${where}: ${v.length} values is not a multiple of the row size ${size} (shape [${c.shape.join(', ')}])`);
      const rows = v.length / size;
      const child = makeData({ type: new Float32(), length: v.length, data: v });
      const type = new FixedSizeList(size, new Field('item', new Float32(), false));
      return { data: makeData({ type, length: rows, child }), rows };
    }
  }
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** A record batch from column arrays; every column must have the same number of rows. */
export function makeRecordBatch<S extends TableSchema>(schema: S, arrowSchema: Schema, columns: BatchInput<S>, file = '<batch>'): RecordBatch {
  const children: Data[] = [];
  let rows = -1;
  let first = '';
  for (const [name, c] of Object.entries(schema)) {
    if (!(name in columns)) throw new Error(`${file}: column '${name}' is missing from the batch (expected ${describeColumn(c)})`);
    const { data, rows: n } = columnData(file, name, c, (columns as Record<string, unknown>)[name]);
    if (rows < 0) {
      rows = n;
      first = name;
    } else if (n !== rows) {
      throw new Error(`${file}: column '${name}' has ${n} rows but column '${first}' has ${rows}`);
    }
    children.push(data);
  }
  const extra = Object.keys(columns).filter((k) => !(k in schema));
  if (extra.length > 0) throw new Error(`${file}: unknown column(s) ${extra.map((e) => `'${e}'`).join(', ')} not in the schema (${Object.keys(schema).join(', ')})`);
  return new RecordBatch(arrowSchema, makeData({ type: new Struct(arrowSchema.fields), length: Math.max(rows, 0), children }));
}

// ---------------------------------------------------------------------------------------------
// writer

export interface ArrowWriterOptions {
  /** String metadata stored in the schema (e.g. the config that produced the data). */
  metadata?: Record<string, string>;
  /** Body compression; needs an encoder registered in apache-arrow's `compressionRegistry`. */
  compression?: 'lz4' | 'zstd';
}

/**
 * Incremental Arrow IPC file writer. Batches are encoded and written to a temporary file as they
 * come (memory is per batch); `close()` writes the footer and renames the file into place.
 */
export class ArrowFileWriter<S extends TableSchema> {
  private rowsWritten = 0;
  private batchesWritten = 0;
  /** Per batch: rows, then the CRC-32 of each column (the integrity record). */
  private readonly batchRecords: number[][] = [];
  private closed = false;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly schema: S,
    readonly arrowSchema: Schema,
    private readonly tmpPath: string,
    private readonly fh: fs.promises.FileHandle,
    private readonly writer: RecordBatchFileWriter,
  ) {}

  /** Opens a writer; nothing appears at `path` until `close()`. */
  static async open<S extends TableSchema>(path: string, schema: S, options: ArrowWriterOptions = {}): Promise<ArrowFileWriter<S>> {
    if (Object.keys(schema).length === 0) throw new Error(`${path}: an Arrow table needs at least one column.`);
    const arrowSchema = toArrowSchema(schema, options.metadata);
    let compressionType: CompressionType | null = null;
    if (options.compression) {
      compressionType = options.compression === 'lz4' ? CompressionType.LZ4_FRAME : CompressionType.ZSTD;
      if (!compressionRegistry.get(compressionType)?.encode) {
        throw new Error(
          `${path}: ${options.compression} compression needs a codec registered with apache-arrow's compressionRegistry.set(CompressionType.${CompressionType[compressionType]}, {encode, decode}); none is installed. Write uncompressed (omit 'compression') instead.`,
        );
      }
    }
    const tmpPath = tempPathFor(path);
    const fh = await fs.promises.open(tmpPath, 'wx');
    const writer = new RecordBatchFileWriter({ compressionType });
    writer.reset(undefined, arrowSchema); // writes the magic now, the footer with this schema at close
    const w = new ArrowFileWriter(path, schema, arrowSchema, tmpPath, fh, writer);
    try {
      await w.flush();
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w;
  }

  get numRows(): number {
    return this.rowsWritten;
  }

  get numBatches(): number {
    return this.batchesWritten;
  }

  /** Moves the bytes the Arrow writer has produced so far into the temporary file. */
  private async flush(): Promise<void> {
    // RecordBatchFileWriter buffers its output in an AsyncByteQueue (`_sink._values`) until read;
    // draining it after each batch keeps memory per batch (apache-arrow 21 is pinned).
    const sink = (this.writer as unknown as { _sink?: { _values?: Uint8Array[] } })._sink;
    if (!sink || !Array.isArray(sink._values)) throw new Error('apache-arrow RecordBatchFileWriter internals changed: cannot drain its output queue.');
    for (const chunk of sink._values.splice(0)) {
      let off = 0;
      while (off < chunk.byteLength) off += (await this.fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Appends one record batch (all columns, same row count). Zero-row batches are skipped. */
  writeBatch(columns: BatchInput<S>): Promise<void> {
    return this.serial(async () => {
      if (this.closed) throw new Error(`${this.path}: writer is closed.`);
      const batch = makeRecordBatch(this.schema, this.arrowSchema, columns, this.path);
      if (batch.numRows === 0) return;
      const record = [batch.numRows, ...Object.entries(this.schema).map(([name, c]) => columnChecksum(batch.getChild(name)!.data, c))];
      this.writer.write(batch);
      await this.flush();
      this.batchRecords.push(record);
      this.rowsWritten += batch.numRows;
      this.batchesWritten += 1;
    });
  }

  /** Writes the footer, syncs, and atomically renames the file into place. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        // The file format keeps the schema only in the footer, written now: the record can go there.
        const record: IntegrityRecord = { v: 1, rows: this.rowsWritten, columns: Object.keys(this.schema), batches: this.batchRecords };
        this.arrowSchema.metadata.set(INTEGRITY_KEY, JSON.stringify(record));
        this.writer.close();
        await this.flush();
        await this.fh.sync();
        await this.fh.close();
        await fs.promises.rename(this.tmpPath, this.path);
      } catch (e) {
        await this.fh.close().catch(() => undefined);
        await fs.promises.rm(this.tmpPath, { force: true });
        throw e;
      }
    });
  }

  /** Discards everything written; an existing file at `path` is left untouched. */
  abort(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.fh.close().catch(() => undefined);
      await fs.promises.rm(this.tmpPath, { force: true });
    });
  }
}

/** Writes a whole table (split into batches of `batchSize` rows) atomically. */
export async function writeArrowFile<S extends TableSchema>(
  path: string,
  schema: S,
  columns: BatchInput<S>,
  options: ArrowWriterOptions & { batchSize?: number } = {},
): Promise<void> {
  const w = await ArrowFileWriter.open(path, schema, options);
  try {
    const probe = makeRecordBatch(schema, w.arrowSchema, columns, path); // validates once, gives the row count
    const n = probe.numRows;
    const bs = options.batchSize ?? Math.max(n, 1);
    if (!Number.isInteger(bs) || bs < 1) throw new Error(`writeArrowFile: invalid batchSize ${options.batchSize}. Should be an integer >= 1.`);
    for (let start = 0; start < n; start += bs) {
      const end = Math.min(n, start + bs);
      const part: Record<string, unknown> = {};
      for (const [name, c] of Object.entries(schema)) {
        const v = (columns as Record<string, unknown>)[name] as ArrayLike<unknown> & { slice(a: number, b: number): unknown };
        const k = c.kind === 'vector' ? prod(c.shape) : 1;
        part[name] = v.slice(start * k, end * k);
      }
      await w.writeBatch(part as BatchInput<S>);
    }
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// reader

/** A duck-typed file handle (apache-arrow accepts `{fd, stat, read, close}`) that counts bytes read. */
class CountingHandle {
  bytesRead = 0;
  constructor(private readonly fh: fs.promises.FileHandle) {}
  get fd(): number {
    return this.fh.fd;
  }
  stat(): Promise<fs.Stats> {
    return this.fh.stat();
  }
  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    const r = await this.fh.read(buffer, offset, length, position);
    this.bytesRead += r.bytesRead;
    return r;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

interface FileReaderLike {
  readonly numRecordBatches: number;
  readonly schema: Schema;
  readonly footer: { getRecordBatch(i: number): { offset: number; metaDataLength: number; bodyLength: number } | null };
  readRecordBatch(i: number): Promise<RecordBatch | null>;
  isFile(): boolean;
  open(): Promise<unknown>;
  cancel(): Promise<void>;
}

const ARROW_MAGIC = 'ARROW1';

/**
 * Bounds checks of the flatbuffer vectors apache-arrow loops over when it decodes a record batch
 * message or the footer. A corrupted vector length would otherwise make it loop billions of times
 * (measured: 28 s on one flipped byte) before failing. Throws a plain Error (callers wrap it).
 */
class FlatbufferBounds {
  private readonly dv: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private u32(at: number): number {
    if (at < 0 || at + 4 > this.buf.length) throw new Error(`flatbuffer offset ${at} out of bounds`);
    return this.dv.getUint32(at, true);
  }

  /** The root table position. */
  root(): number {
    return this.table(this.u32(0));
  }

  private table(pos: number): number {
    if (pos < 0 || pos + 4 > this.buf.length) throw new Error(`flatbuffer table at ${pos} out of bounds`);
    return pos;
  }

  /** Absolute position of field `index` of the table at `pos`, or null when absent. */
  private field(pos: number, index: number): number | null {
    const vtable = pos - this.dv.getInt32(pos, true);
    if (vtable < 0 || vtable + 4 > this.buf.length) throw new Error(`flatbuffer vtable at ${vtable} out of bounds`);
    const vsize = this.dv.getUint16(vtable, true);
    const at = 4 + 2 * index;
    if (at + 2 > vsize || vtable + at + 2 > this.buf.length) return null;
    const off = this.dv.getUint16(vtable + at, true);
    return off === 0 ? null : pos + off;
  }

  /** The table a field points to, or null. */
  child(pos: number, index: number): number | null {
    const f = this.field(pos, index);
    return f === null ? null : this.table(f + this.u32(f));
  }

  /** Checks that vector field `index` (elements of `elementSize` bytes) fits; returns its element positions' start and length. */
  vector(pos: number, index: number, elementSize: number): { start: number; length: number } | null {
    const f = this.field(pos, index);
    if (f === null) return null;
    const v = f + this.u32(f);
    const length = this.u32(v);
    if (v + 4 + length * elementSize > this.buf.length) throw new Error(`a vector of ${length} elements does not fit in ${this.buf.length} bytes`);
    return { start: v + 4, length };
  }

  /** Checks a vector of tables (and each table with `each`). */
  tables(pos: number, index: number, each?: (table: number) => void): void {
    const v = this.vector(pos, index, 4);
    if (!v) return;
    for (let k = 0; k < v.length; k++) {
      const t = this.table(v.start + 4 * k + this.u32(v.start + 4 * k));
      each?.(t);
    }
  }

  /** Message → RecordBatch header: nodes (16 B), buffers (16 B), variadic counts (8 B). */
  checkRecordBatchMessage(): void {
    const header = this.child(this.root(), 2);
    if (header === null) return;
    this.vector(header, 1, 16);
    this.vector(header, 2, 16);
    this.vector(header, 4, 8);
  }

  /** Footer: schema (fields recursively, metadata), dictionary and record batch blocks (24 B). */
  checkFooter(): void {
    const footer = this.root();
    const schema = this.child(footer, 1);
    const field = (t: number, depth: number): void => {
      if (depth > 64) throw new Error('fields nested deeper than 64');
      this.tables(t, 5, (c) => field(c, depth + 1));
      this.tables(t, 6);
    };
    if (schema !== null) {
      this.tables(schema, 1, (t) => field(t, 0));
      this.tables(schema, 2);
      this.vector(schema, 3, 8);
    }
    this.vector(footer, 2, 24);
    this.vector(footer, 3, 24);
    this.tables(footer, 4);
  }
}

/**
 * Names the usual ways a file is not an Arrow IPC file before apache-arrow sees it: empty,
 * truncated (the leading magic but not the trailing one), too short, or something else.
 */
async function checkFileEnvelope(path: string, fh: fs.promises.FileHandle, size: number): Promise<void> {
  if (size === 0) throw new InputError(`${path}: empty file, not an Arrow IPC file.`, { file: path, expected: 'an Arrow IPC file', found: 'an empty file' });
  const head = Buffer.alloc(Math.min(8, size));
  await fh.read(head, 0, head.length, 0);
  const tail = Buffer.alloc(Math.min(6, size));
  await fh.read(tail, 0, tail.length, size - tail.length);
  const startsArrow = head.subarray(0, 6).toString('latin1') === ARROW_MAGIC;
  const endsArrow = tail.toString('latin1') === ARROW_MAGIC;
  if (startsArrow && (!endsArrow || size < 12)) {
    throw new InputError(`${path}: truncated Arrow IPC file: it starts like one but has no footer (${size} bytes; was the writer killed?).`, { file: path, expected: 'an Arrow IPC file ending in its footer', found: `${size} bytes, truncated` });
  }
  if (!startsArrow && endsArrow) {
    throw new InputError(`${path}: not a readable Arrow IPC file (the leading magic is damaged).`, { file: path, expected: 'an Arrow IPC file', found: 'a damaged header' });
  }
  if (startsArrow && endsArrow) {
    const lenBuf = Buffer.alloc(4);
    await fh.read(lenBuf, 0, 4, size - 10);
    const footerLength = lenBuf.readInt32LE(0);
    if (footerLength <= 0 || footerLength > size - 18) {
      throw new InputError(`${path}: not a readable Arrow IPC file (the footer length ${footerLength} is corrupted).`, { file: path, field: 'footer', expected: 'a footer inside the file', found: footerLength });
    }
    const footer = new Uint8Array(footerLength);
    await fh.read(footer, 0, footerLength, size - 10 - footerLength);
    try {
      new FlatbufferBounds(footer).checkFooter();
    } catch (e) {
      throw new InputError(`${path}: not a readable Arrow IPC file (the footer is corrupted: ${messageOf(e)}).`, { file: path, field: 'footer', expected: 'an intact footer', found: messageOf(e), cause: e });
    }
  }
}

/**
 * Lazy reader of an Arrow IPC file: the footer is read at open, each record batch on request.
 * Calls are serialised (one file position), so it is safe to call `readBatch` concurrently.
 */
export class ArrowFileReader<S extends TableSchema = TableSchema> {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    readonly schema: S,
    readonly arrowSchema: Schema,
    private readonly reader: FileReaderLike,
    private readonly handle: CountingHandle,
    private readonly integrity: IntegrityRecord | null,
    private readonly fileSize: number,
  ) {}

  /**
   * Opens `path` and validates it against `schema` (when given: only those columns are read, extra
   * columns in the file are ignored). Without a schema, every column must be of a supported type.
   */
  static async open<S extends TableSchema = TableSchema>(path: string, schema?: S): Promise<ArrowFileReader<S>> {
    const fh = await fs.promises.open(path, 'r');
    const handle = new CountingHandle(fh);
    try {
      const size = (await fh.stat()).size;
      await checkFileEnvelope(path, fh, size);
      let reader: FileReaderLike;
      try {
        reader = (await RecordBatchReader.from(handle as unknown as fs.promises.FileHandle)) as unknown as FileReaderLike;
        await reader.open();
      } catch (e) {
        throw new InputError(`${path}: not a readable Arrow IPC file (the footer is corrupted: ${messageOf(e)}).`, { file: path, expected: 'an Arrow IPC file', found: 'a corrupted footer', cause: e });
      }
      if (!reader.isFile()) {
        throw new InputError(`${path}: is an Arrow IPC stream, not an IPC file; lazy batch access needs the file format (pyarrow: ipc.new_file / feather v2).`, { file: path, expected: 'an Arrow IPC file', found: 'an Arrow IPC stream' });
      }
      let arrowSchema: Schema;
      let numBatches: number;
      try {
        arrowSchema = reader.schema;
        numBatches = reader.numRecordBatches;
        if (!arrowSchema || !Number.isInteger(numBatches) || numBatches < 0) throw new Error('no schema or batch list');
      } catch (e) {
        throw damaged(path, undefined, `the footer is corrupted (${messageOf(e)})`, e);
      }
      const integrity = parseIntegrity(path, arrowSchema.metadata.get(INTEGRITY_KEY));
      if (integrity && integrity.batches.length !== numBatches) {
        throw new InputError(`${path}: the footer lists ${numBatches} record batch(es) but ${integrity.batches.length} were written (${integrity.rows} rows); the file is corrupted.`, { file: path, field: 'record batches', expected: integrity.batches.length, found: numBatches });
      }
      let resolved: S;
      try {
        for (const f of arrowSchema.fields) if (!f || typeof f.name !== 'string' || !f.type || !f.metadata) throw new Error('a field without name or type');
      } catch (e) {
        throw damaged(path, 'schema', `the footer's schema is corrupted (${messageOf(e)})`, e);
      }
      if (schema) {
        const problems = schemaProblems(arrowSchema, schema);
        if (problems.length > 0) throw new InputError(`${path}: schema mismatch:\n  ${problems.join('\n  ')}`, { file: path, field: 'schema', expected: Object.keys(schema).join(', '), found: problems.join('; ') });
        resolved = schema;
      } else {
        resolved = tableSchemaOf(arrowSchema, path) as S;
      }
      return new ArrowFileReader(path, resolved, arrowSchema, reader, handle, integrity, size);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  get numBatches(): number {
    return this.reader.numRecordBatches;
  }

  /** Schema metadata of the file (without the integrity record). */
  get metadata(): Record<string, string> {
    return Object.fromEntries([...this.arrowSchema.metadata].filter(([k]) => k !== INTEGRITY_KEY));
  }

  /** Whether the file carries an integrity record (row counts and checksums); older files do not. */
  get checked(): boolean {
    return this.integrity !== null;
  }

  /** The row count the writer recorded (null for files without an integrity record). */
  get recordedRows(): number | null {
    return this.integrity?.rows ?? null;
  }

  /** Total bytes read from the file so far (footer + batches); useful to check laziness. */
  get bytesRead(): number {
    return this.handle.bytesRead;
  }

  /** Logical shape of a vector column. */
  shapeOf(column: keyof S & string): readonly number[] {
    const c = this.schema[column];
    if (!c) throw new Error(`${this.path}: no column '${column}'.`);
    return c.kind === 'vector' ? c.shape : [];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private checkIndex(i: number): void {
    if (this.closed) throw new Error(`${this.path}: reader is closed.`);
    if (!Number.isInteger(i) || i < 0 || i >= this.numBatches) {
      throw new Error(`${this.path}: invalid batch index ${i}. Should be an integer in [0, ${this.numBatches}).`);
    }
  }

  /** Decodes the metadata message of batch `i` only (a few hundred bytes): row count and compression. */
  private async batchHeader(i: number): Promise<{ rows: number; compression: CompressionType | null }> {
    const where = `batch ${i}`;
    let offset: number, metaLength: number, bodyLength: number;
    try {
      const block = this.reader.footer.getRecordBatch(i);
      if (!block) throw new Error('no block in the footer');
      offset = Number(block.offset);
      metaLength = Number(block.metaDataLength);
      bodyLength = Number(block.bodyLength);
    } catch (e) {
      throw damaged(this.path, where, `the footer's block is corrupted (${messageOf(e)})`, e);
    }
    const safe = (x: number) => Number.isSafeInteger(x) && x >= 0;
    if (!safe(offset) || !safe(metaLength) || !safe(bodyLength) || metaLength < 8) {
      throw damaged(this.path, where, `the footer's block is corrupted (offset ${offset}, metadata ${metaLength} bytes, body ${bodyLength} bytes)`);
    }
    if (offset + metaLength + bodyLength > this.fileSize) {
      throw damaged(this.path, where, `truncated: the batch ends at byte ${offset + metaLength + bodyLength} but the file has ${this.fileSize} bytes`);
    }
    const buf = new Uint8Array(metaLength);
    const { bytesRead } = await this.handle.read(buf, 0, buf.length, offset);
    if (bytesRead !== buf.length) throw damaged(this.path, where, `truncated: its metadata at byte ${offset} is cut short`);
    let rows: number, compression: CompressionType | null;
    try {
      // Encapsulated message: [0xFFFFFFFF continuation] int32 length, flatbuffer, padding.
      const dv = new DataView(buf.buffer);
      let at = 0;
      if (dv.getInt32(0, true) === -1) at = 4;
      const len = dv.getInt32(at, true);
      if (len <= 0 || at + 4 + len > buf.length) throw new Error(`message length ${len} does not fit its ${buf.length}-byte block`);
      const body = buf.subarray(at + 4, at + 4 + len);
      new FlatbufferBounds(body).checkRecordBatchMessage();
      const message = Message.decode(body);
      if (!message.isRecordBatch()) throw new Error('not a record batch message');
      const header = message.header();
      rows = Number(header.length);
      compression = header.compression ? header.compression.type : null;
    } catch (e) {
      throw damaged(this.path, where, `its metadata at byte ${offset} is corrupted (${messageOf(e)})`, e);
    }
    const recorded = this.integrity?.batches[i]?.[0];
    if (recorded !== undefined && rows !== recorded) {
      throw new InputError(`${this.path}: ${where}: has ${rows} rows, but ${recorded} were written; the file is corrupted.`, { file: this.path, field: where, expected: recorded, found: rows });
    }
    if (!Number.isSafeInteger(rows) || rows < 0) throw damaged(this.path, where, `invalid row count ${rows}`);
    return { rows, compression };
  }

  /** Number of rows in batch `i` (reads only that batch's metadata). */
  batchRows(i: number): Promise<number> {
    return this.serial(async () => {
      this.checkIndex(i);
      return (await this.batchHeader(i)).rows;
    });
  }

  /** Rows of every batch (reads each batch's metadata, not the data). */
  async batchRowCounts(): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < this.numBatches; i++) out.push(await this.batchRows(i));
    return out;
  }

  /** Reads batch `i` as an apache-arrow RecordBatch (zero-copy views into that batch's body). */
  readRecordBatch(i: number): Promise<RecordBatch> {
    return this.serial(async () => {
      this.checkIndex(i);
      const { compression } = await this.batchHeader(i);
      if (compression !== null && !compressionRegistry.get(compression)?.decode) {
        throw new InputError(
          `${this.path}: batch ${i} is ${CompressionType[compression]}-compressed and no codec is available; register one with apache-arrow's compressionRegistry.set(CompressionType.${CompressionType[compression]}, {decode}) or rewrite the file uncompressed (pyarrow: feather.write_feather(table, path, compression='uncompressed')).`,
          { file: this.path, field: `batch ${i}`, expected: 'an uncompressed batch or a registered codec', found: CompressionType[compression] },
        );
      }
      let batch: RecordBatch | null;
      try {
        batch = await this.reader.readRecordBatch(i);
      } catch (e) {
        throw damaged(this.path, `batch ${i}`, `corrupted or truncated (${messageOf(e)})`, e);
      }
      if (!batch) throw damaged(this.path, `batch ${i}`, 'truncated: could not read the batch');
      return batch;
    });
  }

  /**
   * Reads batch `i` into typed arrays (copies; vectors flat row-major). With an integrity record,
   * each column's checksum is verified first.
   */
  async readBatch(i: number): Promise<BatchValues<S> & { numRows: number }> {
    const batch = await this.readRecordBatch(i);
    const out: Record<string, unknown> = { numRows: batch.numRows };
    for (const [name, c] of Object.entries(this.schema)) {
      const field = `batch ${i}, column '${name}'`;
      try {
        const vec = batch.getChild(name);
        if (!vec) throw new InputError(`${this.path}: batch ${i} has no column '${name}'.`, { file: this.path, field, expected: 'the column', found: 'none' });
        if (vec.nullCount > 0) throw new InputError(`${this.path}: column '${name}' in batch ${i} has ${vec.nullCount} null(s); drivekit tables have no nulls.`, { file: this.path, field, expected: 'no nulls', found: vec.nullCount });
        this.verifyColumn(i, name, vec.data, c);
        out[name] = extractColumn(vec.data, c, batch.numRows);
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw damaged(this.path, field, `corrupted (${messageOf(e)})`, e);
      }
    }
    return out as BatchValues<S> & { numRows: number };
  }

  private verifyColumn(i: number, name: string, chunks: readonly Data[], c: ColumnType): void {
    if (!this.integrity) return;
    const k = this.integrity.columns.indexOf(name);
    if (k < 0) return;
    const want = this.integrity.batches[i]![k + 1]!;
    const found = columnChecksum(chunks, c);
    if (found !== want) {
      const field = `batch ${i}, column '${name}'`;
      throw new InputError(`${this.path}: ${field}: checksum mismatch (CRC-32 ${found.toString(16).padStart(8, '0')}, written ${want.toString(16).padStart(8, '0')}); the file is corrupted.`, {
        file: this.path,
        field,
        expected: want,
        found,
      });
    }
  }

  /** Iterates over all batches in order, one in memory at a time. */
  async *batches(): AsyncGenerator<BatchValues<S> & { numRows: number }> {
    for (let i = 0; i < this.numBatches; i++) yield await this.readBatch(i);
  }

  /** Reads every batch and concatenates them (for small files). */
  async readAll(): Promise<BatchValues<S> & { numRows: number }> {
    const parts: (BatchValues<S> & { numRows: number })[] = [];
    for await (const b of this.batches()) parts.push(b);
    return concatBatches(this.schema, parts);
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    });
  }
}

function extractColumn(chunks: readonly Data[], c: ColumnType, rows: number): unknown {
  switch (c.kind) {
    case 'float32':
    case 'int32': {
      const out = c.kind === 'float32' ? new Float32Array(rows) : new Int32Array(rows);
      let at = 0;
      for (const d of chunks) {
        out.set((d.values as Float32Array | Int32Array).subarray(d.offset, d.offset + d.length), at);
        at += d.length;
      }
      return out;
    }
    case 'vector': {
      const size = prod(c.shape);
      const out = new Float32Array(rows * size);
      let at = 0;
      for (const d of chunks) {
        const child = d.children[0]!;
        const start = child.offset + d.offset * size;
        out.set((child.values as Float32Array).subarray(start, start + d.length * size), at);
        at += d.length * size;
      }
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(rows);
      let at = 0;
      for (const d of chunks) {
        const bits = d.values as Uint8Array;
        for (let k = 0; k < d.length; k++) {
          const j = d.offset + k;
          out[at++] = (bits[j >> 3]! >> (j & 7)) & 1;
        }
      }
      return out;
    }
    case 'utf8': {
      const out: string[] = [];
      const dec = new TextDecoder();
      for (const d of chunks) {
        const offs = d.valueOffsets as Int32Array;
        const bytes = d.values as Uint8Array;
        for (let k = 0; k < d.length; k++) out.push(dec.decode(bytes.subarray(offs[d.offset + k]!, offs[d.offset + k + 1]!)));
      }
      return out;
    }
  }
}

function concatBatches<S extends TableSchema>(schema: S, parts: (BatchValues<S> & { numRows: number })[]): BatchValues<S> & { numRows: number } {
  const numRows = parts.reduce((a, p) => a + p.numRows, 0);
  const out: Record<string, unknown> = { numRows };
  for (const [name, c] of Object.entries(schema)) {
    const cols = parts.map((p) => (p as Record<string, unknown>)[name]);
    if (c.kind === 'utf8') out[name] = (cols as string[][]).flat();
    else {
      const Ctor = c.kind === 'int32' ? Int32Array : c.kind === 'bool' ? Uint8Array : Float32Array;
      const total = (cols as ArrayLike<number>[]).reduce((a, x) => a + x.length, 0);
      const arr = new Ctor(total);
      let at = 0;
      for (const x of cols as (Float32Array | Int32Array | Uint8Array)[]) {
        arr.set(x, at);
        at += x.length;
      }
      out[name] = arr;
    }
  }
  return out as BatchValues<S> & { numRows: number };
}

/** Opens, reads everything, closes. */
export async function readArrowFile<S extends TableSchema>(path: string, schema?: S): Promise<BatchValues<S> & { numRows: number; metadata: Record<string, string> }> {
  const r = await ArrowFileReader.open(path, schema);
  try {
    return { ...(await r.readAll()), metadata: r.metadata };
  } finally {
    await r.close();
  }
}
