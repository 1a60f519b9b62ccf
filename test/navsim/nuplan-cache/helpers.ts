/**
 * Test helpers for NAVSIM metric-cache files built by hand (no Python at test time):
 * - `xzStore(bytes)`: a valid .xz stream holding `bytes` in uncompressed LZMA2 chunks (CRC32 check),
 *   what `lzma.compress` would decode to the same bytes;
 * - `Pickle`: a tiny pickle writer (protocol 4 opcodes) for hostile or foreign pickles.
 */
import * as zlib from 'node:zlib';

const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const crc32 = (b: Uint8Array | number[]): number => zlib.crc32(Uint8Array.from(b as ArrayLike<number>));
const varint = (v: number): number[] => {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const pad4 = (n: number): number[] => new Array((4 - (n % 4)) % 4).fill(0);

/** An .xz stream of `data` stored in uncompressed LZMA2 chunks. */
export function xzStore(data: Uint8Array): Uint8Array {
  const flags = [0x00, 0x01]; // CRC32 check
  const header = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...flags, ...u32le(crc32(flags))];
  // block header: size, flags (1 filter), LZMA2 filter id 0x21, 1 property byte (dict 4 KiB), padding, CRC32
  const bh = [0x02, 0x00, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00];
  const blockHeader = [...bh, ...u32le(crc32(bh))];
  const chunks: number[] = [];
  for (let o = 0, first = true; o < data.length; o += 0x10000, first = false) {
    const part = data.subarray(o, Math.min(data.length, o + 0x10000));
    chunks.push(first ? 0x01 : 0x02, ((part.length - 1) >> 8) & 0xff, (part.length - 1) & 0xff, ...part);
  }
  chunks.push(0x00);
  const block = [...blockHeader, ...chunks, ...pad4(chunks.length), ...u32le(crc32(data))];
  const unpadded = blockHeader.length + chunks.length + 4;
  const idx = [0x00, ...varint(1), ...varint(unpadded), ...varint(data.length)];
  const index = [...idx, ...pad4(idx.length)];
  const indexFull = [...index, ...u32le(crc32(index))];
  const back = [...u32le(indexFull.length / 4 - 1), ...flags];
  const footer = [...u32le(crc32(back)), ...back, 0x59, 0x5a];
  return Uint8Array.from([...header, ...block, ...indexFull, ...footer]);
}

/** A minimal pickle writer. */
export class Pickle {
  private readonly b: number[] = [0x80, 0x04];

  private str(s: string): this {
    const u = Buffer.from(s, 'utf8');
    if (u.length < 256) this.b.push(0x8c, u.length, ...u);
    else this.b.push(0x58, ...u32le(u.length), ...u);
    return this;
  }

  /** STACK_GLOBAL module.name */
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).op(0x93);
  }

  /** GLOBAL (protocol 0..3 form) */
  global(module: string, name: string): this {
    this.b.push(0x63, ...Buffer.from(`${module}\n${name}\n`, 'ascii'));
    return this;
  }

  unicode(s: string): this {
    return this.str(s);
  }

  int(v: number): this {
    this.b.push(0x4a, ...u32le(v));
    return this;
  }

  none(): this {
    return this.op(0x4e);
  }

  op(...codes: number[]): this {
    this.b.push(...codes);
    return this;
  }

  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  tuple1(): this {
    return this.op(0x85);
  }
  tuple2(): this {
    return this.op(0x86);
  }
  tuple3(): this {
    return this.op(0x87);
  }
  reduce(): this {
    return this.op(0x52);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  newobj(): this {
    return this.op(0x81);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  setitems(): this {
    return this.op(0x75);
  }
  build(): this {
    return this.op(0x62);
  }

  bytes(): Uint8Array {
    return Uint8Array.from([...this.b, 0x2e]);
  }
}

export const NAVSIM_METRIC_CACHE = ['navsim.planning.metric_caching.metric_cache', 'MetricCache'] as const;
