/**
 * safetensors files (Node): whole-file reads, lazy per-tensor reads (`SafetensorsReader`) and
 * atomic writes, plus everything of the format itself (`safetensors-format.ts`: parse, serialise,
 * checks on bytes), which runs anywhere and is what browser-safe modules import.
 */
import * as fs from 'node:fs';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import {
  LITTLE_ENDIAN,
  MAX_HEADER_BYTES,
  SafetensorsError,
  checkFinite,
  decode,
  parseHeader,
  parseSafetensors,
  serializeSafetensors,
  type FiniteCheckOptions,
  type HeaderEntry,
  type SafeDType,
  type SafeTensor,
  type SafetensorsFile,
  type TensorDict,
} from './safetensors-format.js';

export {
  DTYPE_BYTES,
  SafetensorsError,
  bfloat16BitsToNumber,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  parseSafetensors,
  serializeSafetensors,
} from './safetensors-format.js';
export type { FiniteCheckOptions, SafeDType, SafeData, SafeTensor, SafetensorsFile, TensorDict } from './safetensors-format.js';

/** Reads and parses a safetensors file; non-finite floats are an error unless `finite: false`. */
export async function readSafetensors(path: string, options: FiniteCheckOptions = {}): Promise<SafetensorsFile> {
  return parseSafetensors(await fs.promises.readFile(path), path, { finite: true, ...options });
}

/** Synchronous `readSafetensors`. */
export function readSafetensorsSync(path: string, options: FiniteCheckOptions = {}): SafetensorsFile {
  return parseSafetensors(fs.readFileSync(path), path, { finite: true, ...options });
}

/** Where a tensor lives in a safetensors file. */
export interface SafeTensorInfo {
  dtype: SafeDType;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  byteOffset: number;
  byteLength: number;
}

/**
 * Lazy access to a safetensors file: `open` reads and validates only the header (against the
 * file size); `read(name)` reads one tensor. For checkpoints larger than memory allows twice, or
 * to skip tensors (an RL checkpoint's frozen `old_policy.*` copy) without reading them.
 */
export class SafetensorsReader {
  private readonly entries: Map<string, HeaderEntry>;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: fs.promises.FileHandle,
    entries: HeaderEntry[],
    readonly metadata: Record<string, string>,
    private readonly dataStart: number,
  ) {
    this.entries = new Map(entries.map((e) => [e.name, e]));
  }

  static async open(path: string): Promise<SafetensorsReader> {
    if (!LITTLE_ENDIAN) throw new Error('drivekit safetensors: big-endian hosts are not supported.');
    const fh = await fs.promises.open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const prefix = Buffer.alloc(Math.min(8, size));
      await fh.read(prefix, 0, prefix.length, 0);
      let n = 0;
      if (size >= 8) {
        const n64 = prefix.readBigUInt64LE(0);
        n = n64 > BigInt(MAX_HEADER_BYTES) || Number(n64) + 8 > size ? 0 : Number(n64);
      }
      // parseHeader re-checks the length prefix against the file size and reports it.
      const head = Buffer.alloc(8 + n);
      prefix.copy(head, 0);
      if (n > 0) await fh.read(head, 8, n, 8);
      const { entries, metadata, dataStart } = parseHeader(n > 0 ? head : prefix, path, size);
      return new SafetensorsReader(path, fh, entries, metadata, dataStart);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Tensor names in file order. */
  get names(): string[] {
    return [...this.entries.values()].sort((a, b) => a.begin - b.begin).map((e) => e.name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): SafeTensorInfo {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor ${JSON.stringify(name)}.`);
    return { dtype: e.dtype, shape: [...e.shape], byteOffset: this.dataStart + e.begin, byteLength: e.end - e.begin };
  }

  /** Reads and decodes one tensor (non-finite floats are an error unless `finite: false`). */
  async read(name: string, options: FiniteCheckOptions = {}): Promise<SafeTensor> {
    if (this.closed) throw new Error(`${this.path}: reader is closed.`);
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor ${JSON.stringify(name)}.`);
    const abs = this.dataStart + e.begin;
    const raw = Buffer.alloc(e.end - e.begin);
    const { bytesRead } = await this.fh.read(raw, 0, raw.length, abs);
    if (bytesRead !== raw.length) throw new SafetensorsError(this.path, name, abs + bytesRead, `file shrank while reading: got ${bytesRead} of ${raw.length} bytes`);
    const data = decode(raw, e, abs, this.path);
    if (options.finite ?? true) checkFinite(this.path, name, e.dtype, data, abs, options);
    return { dtype: e.dtype, shape: [...e.shape], data };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/**
 * Writes a safetensors file atomically: serialisation errors are raised before anything touches
 * the disk, and the bytes go to a temporary file that is renamed over `path` only once complete.
 */
export async function writeSafetensors(path: string, tensors: TensorDict, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** Synchronous `writeSafetensors`. */
export function writeSafetensorsSync(path: string, tensors: TensorDict, metadata?: Record<string, string>): void {
  writeFileAtomicSync(path, serializeSafetensors(tensors, metadata));
}
