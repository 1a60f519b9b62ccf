/**
 * safetensors reading and writing (no npm package exists for it).
 *
 * Format (huggingface/safetensors v1): an 8-byte little-endian u64 header length `n`, then `n`
 * bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {k: v}}`
 * (padded with spaces to a multiple of 8 by the reference writer), then the raw little-endian
 * data; offsets are relative to the start of the data section. The validation here follows the
 * reference `SafeTensors::validate`: offsets must tile the data section exactly (no gaps, no
 * overlaps, nothing left over) and each tensor's byte size must match dtype x shape.
 *
 * F16 and BF16 decode to Float32Array (they are storage formats; tfjs computes in float32), I64
 * decodes to Int32Array with a range check, F64 to Float64Array, U8/BOOL to Uint8Array.
 *
 * This module works on bytes and runs anywhere (browser-safe); reading and writing files is in
 * `safetensors.ts` (Node), which re-exports all of this.
 */
import { InputError } from './errors.js';

export type SafeDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'U8' | 'BOOL';
export type SafeData = Float32Array | Int32Array | Float64Array | Uint8Array;

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** Row-major data. F32/F16/BF16: Float32Array; I32/I64: Int32Array; F64: Float64Array; U8/BOOL: Uint8Array. */
  data: SafeData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

export type TensorDict = Record<string, SafeTensor> | Map<string, SafeTensor>;

/** Byte size of one element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafeDType, number>> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  U8: 1,
  BOOL: 1,
};

const DTYPES = Object.keys(DTYPE_BYTES) as SafeDType[];
/** The reference implementation refuses headers above 100 MB. */
/** @internal */
export const MAX_HEADER_BYTES = 100_000_000;
/** @internal */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** An error in a safetensors file; names the file, the tensor (if any) and the absolute byte offset. */
/** A malformed or inconsistent safetensors file: an `InputError` whose `field` is the tensor name (if any). */
export class SafetensorsError extends InputError {
  declare readonly file: string;
  readonly tensor: string | null;
  readonly byteOffset: number;

  constructor(file: string, tensor: string | null, byteOffset: number, detail: string) {
    super(`${file}: ${tensor !== null ? `tensor ${JSON.stringify(tensor)} ` : ''}at byte ${byteOffset}: ${detail}`, { file, field: tensor ?? undefined });
    this.name = 'SafetensorsError';
    this.tensor = tensor;
    this.byteOffset = byteOffset;
  }
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16 conversion

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits -> number (exact). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number -> IEEE 754 binary16 bits, rounding the float32 value to nearest even (as numpy/torch). */
export function numberToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf / NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, round to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // may carry into the exponent: correct
  return sign | h;
}

/** bfloat16 bits -> number (exact). */
export function bfloat16BitsToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** number -> bfloat16 bits, rounding the float32 value to nearest even (as torch). */
export function numberToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) & 0x8000) | 0x7fc0; // NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------
// parsing

/** @internal */
export interface HeaderEntry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Decodes one tensor from exactly its bytes (`absStart` is its file offset, for messages). */
/** @internal */
export function decode(raw: Uint8Array, e: HeaderEntry, absStart: number, source: string): SafeData {
  const n = numel(e.shape);
  const buf = new Uint8Array(raw).buffer; // an aligned copy (Buffer.slice would share memory)
  switch (e.dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F64':
      return new Float64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf);
    case 'F16': {
      const h = new Uint16Array(buf);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(h[i]!);
      return out;
    }
    case 'BF16': {
      const b = new Uint16Array(buf);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = b[i]! << 16;
      return out;
    }
    case 'I64': {
      const w = new Int32Array(buf); // (lo, hi) pairs on a little-endian host
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = w[2 * i]!;
        const hi = w[2 * i + 1]!;
        if (hi !== lo >> 31) {
          const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
          throw new SafetensorsError(
            source,
            e.name,
            absStart + 8 * i,
            `I64 element ${i} = ${value} is outside the int32 range [-2147483648, 2147483647] that tfjs can hold`,
          );
        }
        out[i] = lo;
      }
      return out;
    }
  }
}

/**
 * Parses the header of a safetensors file; throws `SafetensorsError` on any inconsistency.
 * `bytes` holds at least the length prefix and the header; `fileLength` is the whole file's size.
 */
/** @internal */
export function parseHeader(
  bytes: Uint8Array,
  source: string,
  fileLength = bytes.byteLength,
): { entries: HeaderEntry[]; metadata: Record<string, string>; dataStart: number } {
  if (fileLength < 8 || bytes.byteLength < 8) {
    throw new SafetensorsError(source, null, 0, `truncated file: ${fileLength} bytes, expected at least 8 for the header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(source, null, 0, `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`);
  }
  const n = Number(n64);
  if (8 + n > fileLength) {
    throw new SafetensorsError(source, null, 0, `header length ${n} extends beyond the end of the file (file has ${fileLength} bytes, expected at least ${8 + n}); truncated file?`);
  }
  if (8 + n > bytes.byteLength) throw new Error(`parseHeader: needs the first ${8 + n} bytes of ${source}, got ${bytes.byteLength}.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError(source, null, 8, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError(source, null, 8, `header should start with '{', found ${JSON.stringify(text.slice(0, 1))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(source, null, 8, `header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(source, null, 8, 'header should be a JSON object');
  }
  const dataStart = 8 + n;
  const dataLength = fileLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new SafetensorsError(source, null, 8, '__metadata__ should be an object of strings');
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(source, null, 8, `__metadata__.${k} should be a string, found ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info === null || typeof info !== 'object') throw new SafetensorsError(source, name, 8, 'header entry should be an object');
    if (typeof info.dtype !== 'string' || !DTYPES.includes(info.dtype as SafeDType)) {
      throw new SafetensorsError(source, name, 8, `unsupported dtype ${JSON.stringify(info.dtype)}; expected one of ${DTYPES.join(', ')}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(source, name, 8, `shape should be an array of non-negative integers, found ${JSON.stringify(shape)}`);
    }
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new SafetensorsError(source, name, 8, `data_offsets should be [begin, end] with 0 <= begin <= end, found ${JSON.stringify(off)}`);
    }
    entries.push({ name, dtype: info.dtype as SafeDType, shape: shape as number[], begin: off[0], end: off[1] });
  }
  // Offsets must tile [0, dataLength) exactly, in order.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor) {
      const what = e.begin < cursor ? `overlaps the previous tensor (which ends at data offset ${cursor})` : `leaves a gap (previous tensor ends at data offset ${cursor})`;
      throw new SafetensorsError(source, e.name, dataStart + e.begin, `data_offsets [${e.begin}, ${e.end}] ${what}`);
    }
    const expected = numel(e.shape) * DTYPE_BYTES[e.dtype];
    if (e.end - e.begin !== expected) {
      throw new SafetensorsError(
        source,
        e.name,
        dataStart + e.begin,
        `byte size mismatch: dtype ${e.dtype} x shape [${e.shape.join(', ')}] needs ${expected} bytes, data_offsets [${e.begin}, ${e.end}] give ${e.end - e.begin}`,
      );
    }
    if (e.end > dataLength) {
      throw new SafetensorsError(
        source,
        e.name,
        dataStart + e.begin,
        `data_offsets [${e.begin}, ${e.end}] extend beyond the end of the file (data section has ${dataLength} bytes); truncated file?`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsError(source, null, dataStart + cursor, `${dataLength - cursor} trailing bytes after the last tensor (data section is ${dataLength} bytes, tensors cover ${cursor})`);
  }
  return { entries, metadata, dataStart };
}

export interface FiniteCheckOptions {
  /**
   * Reject NaN and ±Inf in float tensors (a `SafetensorsError` naming the tensor and element).
   * Default: on when reading files (`readSafetensors`, `SafetensorsReader.read`), off for
   * `parseSafetensors` (a pure format parser).
   */
  finite?: boolean;
  /**
   * Tensors that may hold ±Inf (never NaN). Default: names ending in `eta_logit` (ReCogDrive's
   * frozen η logit is atanh(1) = +∞).
   */
  allowInfinite?: (name: string) => boolean;
}

const defaultAllowInfinite = (name: string): boolean => /(^|\.)eta_logit$/.test(name);

/** Throws a `SafetensorsError` if a float tensor holds NaN (or ±Inf where not allowed). */
/** @internal */
export function checkFinite(source: string, name: string, dtype: SafeDType, data: SafeData, byteOffset: number, options: FiniteCheckOptions): void {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return;
  const infOk = (options.allowInfinite ?? defaultAllowInfinite)(name);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (Number.isFinite(x) || (infOk && !Number.isNaN(x))) continue;
    const err = new SafetensorsError(source, name, byteOffset + i * DTYPE_BYTES[dtype], `element ${i} is ${x} (weights and states must be finite: the file is corrupted or was saved from a diverged run)`);
    Object.assign(err, { expected: 'finite values', found: x });
    throw err;
  }
}

/** Parses a whole safetensors file held in memory. `source` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>', options: FiniteCheckOptions = {}): SafetensorsFile {
  if (!LITTLE_ENDIAN) throw new Error('drivekit safetensors: big-endian hosts are not supported.');
  const { entries, metadata, dataStart } = parseHeader(bytes, source);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const abs = dataStart + e.begin;
    const data = decode(bytes.subarray(abs, abs + (e.end - e.begin)), e, abs, source);
    if (options.finite) checkFinite(source, e.name, e.dtype, data, abs, options);
    tensors.set(e.name, { dtype: e.dtype, shape: [...e.shape], data });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------
// serialisation

function entriesOf(tensors: TensorDict): [string, SafeTensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

const ACCEPTS: Record<SafeDType, string> = {
  F32: 'Float32Array or Float64Array',
  F16: 'Float32Array or Float64Array',
  BF16: 'Float32Array or Float64Array',
  F64: 'Float64Array or Float32Array',
  I32: 'Int32Array',
  I64: 'Int32Array',
  U8: 'Uint8Array',
  BOOL: 'Uint8Array',
};

function checkTensor(name: string, t: SafeTensor): void {
  if (name === '__metadata__' || name.length === 0) throw new Error(`safetensors: invalid tensor name ${JSON.stringify(name)}.`);
  if (!DTYPES.includes(t.dtype)) throw new Error(`safetensors: tensor ${JSON.stringify(name)} has unsupported dtype ${JSON.stringify(t.dtype)}; expected one of ${DTYPES.join(', ')}.`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`safetensors: tensor ${JSON.stringify(name)} has invalid shape ${JSON.stringify(t.shape)}; expected non-negative integers.`);
  }
  const n = numel(t.shape);
  if (t.data.length !== n) {
    throw new Error(`safetensors: tensor ${JSON.stringify(name)} has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${n}.`);
  }
  const d = t.data;
  const ok =
    t.dtype === 'I32' || t.dtype === 'I64'
      ? d instanceof Int32Array
      : t.dtype === 'U8' || t.dtype === 'BOOL'
        ? d instanceof Uint8Array
        : d instanceof Float32Array || d instanceof Float64Array;
  if (!ok) throw new Error(`safetensors: tensor ${JSON.stringify(name)} with dtype ${t.dtype} needs ${ACCEPTS[t.dtype]} data, found ${d.constructor.name}.`);
}

function encodeInto(out: Uint8Array, t: SafeTensor): void {
  const n = t.data.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const d = t.data;
  switch (t.dtype) {
    case 'F32':
      if (d instanceof Float32Array) out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      else for (let i = 0; i < n; i++) view.setFloat32(4 * i, d[i]!, true);
      return;
    case 'F64':
      if (d instanceof Float64Array) out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      else for (let i = 0; i < n; i++) view.setFloat64(8 * i, d[i]!, true);
      return;
    case 'I32':
    case 'U8':
    case 'BOOL':
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      return;
    case 'I64':
      for (let i = 0; i < n; i++) {
        const v = d[i]!;
        view.setInt32(8 * i, v, true);
        view.setInt32(8 * i + 4, v < 0 ? -1 : 0, true);
      }
      return;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, numberToFloat16Bits(d[i]!), true);
      return;
    case 'BF16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, numberToBfloat16Bits(d[i]!), true);
      return;
  }
}

/**
 * Serialises tensors (and an optional string metadata map) to safetensors bytes.
 * Header keys are sorted by name; the data is laid out by element size (largest first) and then
 * by name, as the reference writer does, so that every tensor is aligned to its element size.
 * The header is padded with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(tensors: TensorDict, metadata?: Record<string, string>): Uint8Array {
  const list = entriesOf(tensors);
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (seen.has(name)) throw new Error(`safetensors: duplicate tensor name ${JSON.stringify(name)}.`);
    seen.add(name);
    checkTensor(name, t);
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata ${JSON.stringify(k)} should be a string, found ${typeof v}.`);
    }
  }
  const layout = [...list].sort(
    ([na, a], [nb, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (na < nb ? -1 : na > nb ? 1 : 0),
  );
  const offsets = new Map<string, [number, number]>();
  let cursor = 0;
  for (const [name, t] of layout) {
    const size = numel(t.shape) * DTYPE_BYTES[t.dtype];
    offsets.set(name, [cursor, cursor + size]);
    cursor += size;
  }
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    header.__metadata__ = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  for (const [name, t] of [...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(name) };
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (headerBytes.byteLength % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(headerBytes.byteLength + pad).fill(0x20);
    padded.set(headerBytes);
    headerBytes = padded;
  }
  const out = new Uint8Array(8 + headerBytes.byteLength + cursor);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  const dataStart = 8 + headerBytes.byteLength;
  for (const [name, t] of layout) {
    const [b, e] = offsets.get(name)!;
    encodeInto(out.subarray(dataStart + b, dataStart + e), t);
  }
  return out;
}
