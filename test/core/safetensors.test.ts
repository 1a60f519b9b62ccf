import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  parseSafetensors,
  readSafetensors,
  readSafetensorsSync,
  serializeSafetensors,
  writeSafetensors,
  writeSafetensorsSync,
  SafetensorsError,
  SafetensorsReader,
  type SafeTensor,
} from '../../src/core/safetensors.js';
import { withAtomicFile } from '../../src/core/atomic.js';
import { DIT_DIR } from '../golden-dirs.js';

const GOLDEN = path.join(DIT_DIR, 'weights.safetensors');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-st-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Builds a safetensors buffer from a raw header object and data bytes (for corrupt-file tests). */
function rawFile(header: unknown, data: Uint8Array, headerLenOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLenOverride ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('float16 / bfloat16 conversion', () => {
  it('encodes and decodes special and boundary values bit-exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // max half
      [65520, 0x7c00], // rounds to Inf (half-way to 2^16, ties to even = Inf)
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie -> even (0)
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units -> even (2)
      [1 + 2 ** -11, 0x3c00], // tie -> even (1.0)
      [1 + 3 * 2 ** -11, 0x3c02], // tie -> even (1 + 2^-9)
      [0.1, 0x2e66],
    ];
    for (const [v, bits] of cases) {
      expect(numberToFloat16Bits(v), `f16(${v})`).toBe(bits);
    }
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x2e66)).toBe(0.0999755859375);
    expect(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN)))).toBe(true);
    // Every finite half survives decode -> encode.
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads
      const back = numberToFloat16Bits(float16BitsToNumber(h));
      if (back !== h) throw new Error(`half 0x${h.toString(16)} round-tripped to 0x${back.toString(16)}`);
    }
  });

  it('rounds bfloat16 to nearest even and keeps NaN a NaN', () => {
    expect(numberToBfloat16Bits(1)).toBe(0x3f80);
    expect(numberToBfloat16Bits(-0)).toBe(0x8000);
    expect(numberToBfloat16Bits(Infinity)).toBe(0x7f80);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(numberToBfloat16Bits(3.4e38)).toBe(0x7f80); // overflows to Inf like torch
    expect(Number.isNaN(bfloat16BitsToNumber(numberToBfloat16Bits(NaN)))).toBe(true);
    expect(bfloat16BitsToNumber(0x4049)).toBe(3.140625);
  });
});

describe('safetensors round trip', () => {
  const specials = Float32Array.from([0, -0, 1, -1.5, 65504, 1e-8, Infinity, -Infinity, NaN, 3.14159]);
  const tensors: Record<string, SafeTensor> = {
    f32: { dtype: 'F32', shape: [2, 5], data: Float32Array.from(specials) },
    f16: { dtype: 'F16', shape: [10], data: Float32Array.from(specials) },
    bf16: { dtype: 'BF16', shape: [5, 2], data: Float32Array.from(specials) },
    i32: { dtype: 'I32', shape: [3], data: Int32Array.from([-2147483648, 0, 2147483647]) },
    i64: { dtype: 'I64', shape: [4], data: Int32Array.from([-2147483648, -1, 0, 2147483647]) },
    f64: { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    u8: { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 128, 255]) },
    flag: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.from([7]) },
    empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
  };
  const metadata = { format: 'pt', note: 'drivekit test ✓' };

  it('preserves every dtype, shape and the metadata', () => {
    const bytes = serializeSafetensors(tensors, metadata);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0); // padded like the reference writer
    const { tensors: back, metadata: meta } = parseSafetensors(bytes);
    expect(meta).toEqual(metadata);
    expect([...back.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.get(name)!;
      expect(b.dtype, name).toBe(t.dtype);
      expect(b.shape, name).toEqual(t.shape);
    }
    expect(Array.from(back.get('f32')!.data)).toEqual(Array.from(specials));
    // F16: 1e-8 underflows to the nearest subnormal (2^-24 * 0 = 0), 3.14159 rounds to 3.140625.
    expect(Array.from(back.get('f16')!.data)).toEqual([0, -0, 1, -1.5, 65504, 0, Infinity, -Infinity, NaN, 3.140625]);
    expect(Array.from(back.get('bf16')!.data)).toEqual([0, -0, 1, -1.5, 65536, bfloat16BitsToNumber(numberToBfloat16Bits(1e-8)), Infinity, -Infinity, NaN, 3.140625]);
    expect(Object.is(back.get('f16')!.data[1], -0)).toBe(true);
    expect(Array.from(back.get('i32')!.data)).toEqual([-2147483648, 0, 2147483647]);
    expect(back.get('i64')!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(back.get('i64')!.data)).toEqual([-2147483648, -1, 0, 2147483647]);
    expect(Array.from(back.get('f64')!.data)).toEqual([Math.PI, -1e300]);
    expect(Array.from(back.get('u8')!.data)).toEqual([0, 128, 255]);
    expect(Array.from(back.get('flag')!.data)).toEqual([1, 0]);
    expect(Array.from(back.get('scalar')!.data)).toEqual([7]);
    expect(back.get('empty')!.data.length).toBe(0);
  });

  it('lays data out aligned: larger elements first, then by name; header keys sorted', () => {
    const bytes = serializeSafetensors({
      b: { dtype: 'F16', shape: [3], data: new Float32Array(3) },
      a: { dtype: 'F32', shape: [1], data: new Float32Array(1) },
      c: { dtype: 'I64', shape: [1], data: new Int32Array(1) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd();
    expect(header).toBe(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"b":{"dtype":"F16","shape":[3],"data_offsets":[12,18]},"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}',
    );
  });

  it('writes and reads files, sync and async, accepting a Map', async () => {
    const p = path.join(tmp, 'rt.safetensors');
    await writeSafetensors(p, new Map(Object.entries(tensors)), metadata);
    // The specials hold NaN and ±Inf: reading them back needs the finiteness check off.
    const a = await readSafetensors(p, { finite: false });
    writeSafetensorsSync(p, tensors);
    const b = readSafetensorsSync(p, { finite: false });
    expect(Array.from(a.tensors.get('f64')!.data)).toEqual([Math.PI, -1e300]);
    expect(a.metadata).toEqual(metadata);
    expect(b.metadata).toEqual({});
    expect(b.tensors.size).toBe(Object.keys(tensors).length);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('rejects I64 values outside the int32 range, naming the tensor, element and byte offset', () => {
    const data = new Uint8Array(16);
    const dv = new DataView(data.buffer);
    dv.setBigInt64(0, 5n, true);
    dv.setBigInt64(8, 2n ** 31n, true);
    const header = { steps: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } };
    const bytes = rawFile(header, data);
    const dataStart = bytes.length - 16;
    expect(() => parseSafetensors(bytes, 'ckpt.safetensors')).toThrow(
      `ckpt.safetensors: tensor "steps" at byte ${dataStart + 8}: I64 element 1 = 2147483648 is outside the int32 range`,
    );
  });

  it('refuses to serialise inconsistent tensors with messages naming them', () => {
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      'tensor "w" has 3 elements but shape [2, 2] needs 4',
    );
    expect(() => serializeSafetensors({ w: { dtype: 'I32', shape: [1], data: new Float32Array(1) } })).toThrow(
      'tensor "w" with dtype I32 needs Int32Array data, found Float32Array',
    );
    expect(() => serializeSafetensors({ w: { dtype: 'Q8' as any, shape: [1], data: new Uint8Array(1) } })).toThrow('unsupported dtype "Q8"');
  });
});

describe('corrupt and truncated files', () => {
  const good = serializeSafetensors({
    a: { dtype: 'F32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
    b: { dtype: 'F32', shape: [2], data: Float32Array.from([5, 6]) },
  });
  const expectErr = (bytes: Uint8Array, msg: string | RegExp) => {
    let err: unknown;
    try {
      parseSafetensors(bytes, 'bad.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toMatch(msg);
  };

  it('reports a file shorter than the length prefix', () => {
    expectErr(good.subarray(0, 5), 'bad.safetensors: at byte 0: truncated file: 5 bytes, expected at least 8');
  });

  it('reports a header length beyond the file', () => {
    expectErr(good.subarray(0, 20), /^bad\.safetensors: at byte 0: header length \d+ extends beyond the end of the file \(file has 20 bytes/);
    expectErr(rawFile('{}', new Uint8Array(0), 2 ** 40), 'exceeds the 100000000-byte limit');
  });

  it('reports truncated data with the tensor and its byte offset', () => {
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    // Layout is a (16 bytes) then b (8 bytes); cut 4 bytes from the end.
    expectErr(good.subarray(0, good.length - 4), `bad.safetensors: tensor "b" at byte ${8 + n + 16}: data_offsets [16, 24] extend beyond the end of the file (data section has 20 bytes)`);
  });

  it('reports bad JSON, non-object headers and bad entries', () => {
    expectErr(rawFile('{"a": ', new Uint8Array(0)), /^bad\.safetensors: at byte 8: header is not valid JSON/);
    expectErr(rawFile('[1,2]   ', new Uint8Array(0)), "header should start with '{', found \"[\"");
    expectErr(rawFile({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), 'tensor "a" at byte 8: unsupported dtype "F8"');
    expectErr(rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), 'shape should be an array of non-negative integers, found [-1]');
    expectErr(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)), 'data_offsets should be [begin, end]');
  });

  it('reports overlapping, gapped, mis-sized and trailing data', () => {
    const h = (x: object) => rawFile(x, new Uint8Array(16));
    const start = (x: object) => 8 + new TextEncoder().encode(JSON.stringify(x)).length;
    const overlap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectErr(h(overlap), `tensor "b" at byte ${start(overlap) + 4}: data_offsets [4, 12] overlaps the previous tensor`);
    const gap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } };
    expectErr(h(gap), `tensor "b" at byte ${start(gap) + 12}: data_offsets [12, 16] leaves a gap`);
    const size = { a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } };
    expectErr(h(size), `tensor "a" at byte ${start(size)}: byte size mismatch: dtype F32 x shape [3] needs 12 bytes, data_offsets [0, 16] give 16`);
    const trailing = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expectErr(h(trailing), `at byte ${start(trailing) + 8}: 8 trailing bytes after the last tensor`);
  });

  it('names the file path when reading from disk', () => {
    const p = path.join(tmp, 'truncated.safetensors');
    fs.writeFileSync(p, good.subarray(0, good.length - 1));
    expect(() => readSafetensorsSync(p)).toThrow(`${p}: tensor "b"`);
  });
});

describe('atomic writes', () => {
  it('leaves the previous file intact when serialisation fails', async () => {
    const p = path.join(tmp, 'keep.safetensors');
    await writeSafetensors(p, { w: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
    const before = fs.readFileSync(p);
    await expect(writeSafetensors(p, { w: { dtype: 'F32', shape: [3], data: Float32Array.from([1, 2]) } })).rejects.toThrow('needs 3');
    expect(fs.readFileSync(p).equals(before)).toBe(true);
  });

  it('leaves the previous file intact and no temp file when a write fails half-way', async () => {
    const p = path.join(tmp, 'half.bin');
    fs.writeFileSync(p, 'old contents');
    let tmpSeen = '';
    await expect(
      withAtomicFile(p, async (fh, tmpPath) => {
        tmpSeen = tmpPath;
        await fh.write(Buffer.from('new partial'));
        throw new Error('disk full (simulated)');
      }),
    ).rejects.toThrow('disk full (simulated)');
    expect(fs.readFileSync(p, 'utf8')).toBe('old contents');
    expect(path.dirname(tmpSeen)).toBe(tmp);
    expect(fs.existsSync(tmpSeen)).toBe(false);
  });
});

describe('golden ReCogDrive weights', () => {
  it('reads the real planner state_dict (93 F32 tensors, 376,268 values)', async () => {
    const { tensors, metadata } = await readSafetensors(GOLDEN);
    expect(tensors.size).toBe(93);
    expect(metadata.format).toBe('pt');
    let total = 0;
    for (const t of tensors.values()) {
      expect(t.dtype).toBe('F32');
      total += t.data.length;
    }
    // 376,268 parameters + 18 float buffers (12 x 100 + 5 x 5 + 24).
    expect(total).toBe(376_268 + 1200 + 25 + 24);
    expect(tensors.get('model.timestep_encoder.timestep_embedder.linear_1.weight')!.shape).toEqual([96, 256]);
    expect(tensors.get('model.transformer_blocks.0.adaLN_modulation.1.weight')!.shape).toEqual([576, 96]);
    expect(tensors.get('model.transformer_blocks.1.ffn.w12.weight')!.shape).toEqual([192, 96]);
    expect(tensors.get('action_decoder.fc2.weight')!.shape).toEqual([3, 64]);
    expect(tensors.get('model.rotary_embedder.inv_freq')!.shape).toEqual([24]);
    expect(tensors.get('eta.eta_logit')!.data[0]).toBe(Infinity);
    expect(tensors.get('ddim_sigmas')!.data.every((x) => x === 0)).toBe(true);
    // The schedule buffers equal golden.json's float32 values bit for bit.
    const golden = JSON.parse(fs.readFileSync(path.join(path.dirname(GOLDEN), 'golden.json'), 'utf8'));
    for (const key of ['ddpm_betas', 'ddpm_alphas_cumprod', 'ddim_alphas', 'ddim_sqrt_one_minus_alphas']) {
      expect(Array.from(tensors.get(key)!.data), key).toEqual(Array.from(Float32Array.from(golden.schedule[key].data)));
    }
  });

  it('re-serialises the golden file to the same tensors and metadata', async () => {
    const a = await readSafetensors(GOLDEN);
    const b = parseSafetensors(serializeSafetensors(a.tensors, a.metadata));
    expect(b.metadata).toEqual(a.metadata);
    for (const [name, t] of a.tensors) {
      const u = b.tensors.get(name)!;
      expect(u.shape).toEqual(t.shape);
      expect(Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    }
  });
});

describe('SafetensorsReader (lazy)', () => {
  it('reads the header only at open and single tensors on request', async () => {
    const r = await SafetensorsReader.open(GOLDEN);
    try {
      expect(r.names.length).toBe(93);
      expect(r.names[0]).toBe('ddpm_betas'); // file order
      expect(r.metadata.format).toBe('pt');
      const info = r.info('model.final_layer.linear.weight');
      expect(info).toMatchObject({ dtype: 'F32', shape: [40, 96], byteLength: 40 * 96 * 4 });
      const full = readSafetensorsSync(GOLDEN).tensors.get('model.final_layer.linear.weight')!;
      expect((await r.read('model.final_layer.linear.weight')).data).toEqual(full.data);
      await expect(r.read('nope')).rejects.toThrow(`${GOLDEN}: no tensor "nope".`);
    } finally {
      await r.close();
    }
  });

  it('validates the header against the file size with the same messages', async () => {
    const good = serializeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) }, b: { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
    const p = path.join(tmp, 'lazy-trunc.safetensors');
    fs.writeFileSync(p, good.subarray(0, good.length - 4));
    await expect(SafetensorsReader.open(p)).rejects.toThrow(`${p}: tensor "b" at byte`);
    fs.writeFileSync(p, good.subarray(0, 20));
    await expect(SafetensorsReader.open(p)).rejects.toThrow(`${p}: at byte 0: header length`);
    fs.writeFileSync(p, good.subarray(0, 3));
    await expect(SafetensorsReader.open(p)).rejects.toThrow(`${p}: at byte 0: truncated file: 3 bytes`);
  });
});
