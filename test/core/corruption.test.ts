/**
 * Issue #16: corrupted inputs must not pass silently. Arrow caches, datasets and demonstrations
 * carry a row count and per-column CRC-32 per batch (`drivekit.integrity`); damaged files are
 * `InputError`s naming the file (and the batch/column), never raw apache-arrow errors; safetensors
 * and caches with NaN/Inf are errors naming the tensor, or the column and row.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ArrowFileReader, col, INTEGRITY_KEY, writeArrowFile } from '../../src/core/arrow.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/core/checkpoint.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { parseSafetensors, readSafetensors, type SafeTensor, SafetensorsError, serializeSafetensors, writeSafetensors } from '../../src/core/safetensors.js';
import { makeSyntheticRows } from '../../src/rl/data/il-data.js';
import { HiddenStateCache, HiddenStateCacheWriter } from '../../src/rl/data/hidden-state-cache.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-corrupt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const schema = { token: col.utf8(), step: col.int32(), x: col.float32(), done: col.bool(), v: col.vector([3, 2]) };
const ROWS = 64;

async function writeTable(p: string, seed = 1): Promise<void> {
  const r = new Rng(seed);
  await writeArrowFile(
    p,
    schema,
    {
      token: Array.from({ length: ROWS }, (_, i) => `scene-${i}`),
      step: Array.from({ length: ROWS }, (_, i) => i),
      x: r.fillNormal(new Float32Array(ROWS)),
      done: Array.from({ length: ROWS }, (_, i) => i % 3 === 0),
      v: r.fillNormal(new Float32Array(ROWS * 6)),
    },
    { batchSize: 8, metadata: { note: 'test' } },
  );
}

/** Reads everything and closes; errors propagate. */
async function readAll(p: string): Promise<string> {
  const r = await ArrowFileReader.open(p, schema);
  try {
    return JSON.stringify(await r.readAll(), (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
  } finally {
    await r.close();
  }
}

/** Byte position of record batch `i`'s header `length` (int64) in an Arrow file, via the footer. */
async function rowCountPosition(p: string, i: number): Promise<number> {
  const r = await ArrowFileReader.open(p, schema);
  const block = (r as unknown as { reader: { footer: { getRecordBatch(i: number): { offset: number | bigint } } } }).reader.footer.getRecordBatch(i);
  await r.close();
  const bytes = fs.readFileSync(p);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  let at = Number(block.offset);
  if (dv.getInt32(at, true) === -1) at += 4;
  const msg = at + 4; // flatbuffer Message
  const table = (pos: number) => pos + dv.getUint32(pos, true);
  const field = (t: number, k: number) => {
    const vt = t - dv.getInt32(t, true);
    return t + dv.getUint16(vt + 4 + 2 * k, true);
  };
  const root = table(msg);
  const header = table(field(root, 2)); // Message.header
  return field(header, 0); // RecordBatch.length
}

async function expectInputError(p: string, check: (e: InputError) => void = () => undefined): Promise<InputError> {
  let err: unknown;
  try {
    await readAll(p);
  } catch (e) {
    err = e;
  }
  expect(err, 'should fail').toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.file).toBe(p);
  check(e);
  return e;
}

describe('Arrow integrity record', () => {
  it('is written in the schema metadata, hidden from metadata, and checked', async () => {
    const p = path.join(tmp, 'ok.arrow');
    await writeTable(p);
    const r = await ArrowFileReader.open(p, schema);
    expect(r.checked).toBe(true);
    expect(r.recordedRows).toBe(ROWS);
    expect(r.metadata).toEqual({ note: 'test' });
    expect(JSON.parse(r.arrowSchema.metadata.get(INTEGRITY_KEY)!).batches).toHaveLength(8);
    expect((await r.readAll()).numRows).toBe(ROWS);
    await r.close();
  });

  it("the first batch's row count flipped to 0 is an error naming the file and batch 0 (not 56 rows)", async () => {
    const p = path.join(tmp, 'zero-rows.arrow');
    await writeTable(p);
    const bytes = fs.readFileSync(p);
    const at = await rowCountPosition(p, 0);
    expect(bytes.readBigInt64LE(at)).toBe(8n);
    bytes.writeBigInt64LE(0n, at);
    fs.writeFileSync(p, bytes);
    const e = await expectInputError(p);
    expect(e.field).toBe('batch 0');
    expect([e.expected, e.found]).toEqual([8, 0]);
    expect(e.message).toContain('batch 0');
  });

  it('a flipped value in a column is a checksum error naming the batch and the column', async () => {
    const p = path.join(tmp, 'flip.arrow');
    await writeTable(p);
    const clean = await readAll(p);
    const bytes = fs.readFileSync(p);
    // Find the float32 value x[row 20] (batch 2) in the body and flip one bit of its mantissa.
    const r = await ArrowFileReader.open(p, schema);
    const x20 = (await r.readBatch(2)).x[4]!;
    await r.close();
    const pat = Buffer.from(Float32Array.of(x20).buffer);
    const at = bytes.indexOf(pat);
    expect(at).toBeGreaterThan(0);
    bytes[at] ^= 1;
    fs.writeFileSync(p, bytes);
    expect(clean).not.toBe('');
    const e = await expectInputError(p);
    expect(e.field).toBe("batch 2, column 'x'");
    expect(e.message).toContain('checksum mismatch');
  });

  it('files without the record (older drivekit, other writers) still open, unchecked', async () => {
    const p = path.join(tmp, 'legacy.arrow');
    fs.writeFileSync(p, tableToIPC(tableFromArrays({ x: Float32Array.of(1, 2, 3) }), 'file'));
    const r = await ArrowFileReader.open(p, { x: col.float32() });
    expect(r.checked).toBe(false);
    expect(r.recordedRows).toBeNull();
    expect(Array.from((await r.readAll()).x)).toEqual([1, 2, 3]);
    await r.close();
  });
});

describe('damaged Arrow files are InputErrors naming the file', () => {
  it('an empty file', async () => {
    const p = path.join(tmp, 'empty.arrow');
    fs.writeFileSync(p, '');
    const e = await expectInputError(p);
    expect(e.message).toBe(`${p}: empty file, not an Arrow IPC file.`);
  });

  it('truncated files, cut anywhere, say "truncated" or name the damage', async () => {
    const p = path.join(tmp, 'full.arrow');
    await writeTable(p);
    const bytes = fs.readFileSync(p);
    for (const cut of [6, 8, 100, 700, bytes.length >> 1, bytes.length - 200, bytes.length - 10, bytes.length - 1]) {
      const q = path.join(tmp, `cut-${cut}.arrow`);
      fs.writeFileSync(q, bytes.subarray(0, cut));
      const e = await expectInputError(q);
      expect(e.message, `cut at ${cut}`).toMatch(/truncated/);
    }
  });

  it('an Arrow stream is called a stream, junk is "not a readable Arrow IPC file"', async () => {
    const s = path.join(tmp, 'stream.arrow');
    fs.writeFileSync(s, tableToIPC(tableFromArrays({ x: Float32Array.of(1) }), 'stream'));
    expect((await expectInputError(s)).message).toContain('is an Arrow IPC stream, not an IPC file');
    const j = path.join(tmp, 'junk.arrow');
    fs.writeFileSync(j, 'not arrow at all, just text');
    expect((await expectInputError(j)).message).toContain('not a readable Arrow IPC file');
  });

  it('a corrupted block offset in the footer names the batch (no "not safe to convert" TypeError)', async () => {
    const p = path.join(tmp, 'footer.arrow');
    await writeTable(p);
    const bytes = fs.readFileSync(p);
    // Block structs are (offset i64, metaDataLength i32, pad, bodyLength i64); batch 0's offset is 8.
    const footerLen = bytes.readInt32LE(bytes.length - 10);
    const footerStart = bytes.length - 10 - footerLen;
    const rel = bytes.subarray(footerStart).indexOf(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]));
    expect(rel).toBeGreaterThan(0);
    bytes.writeBigInt64LE(0x00f2_fedc_ba98_7654n, footerStart + rel);
    fs.writeFileSync(p, bytes);
    const e = await expectInputError(p);
    expect(e.field).toBe('batch 0');
  });

  it('1,000 random mutations: the same data, or an InputError naming the file; none hangs', async () => {
    const p = path.join(tmp, 'fuzz-src.arrow');
    await writeTable(p, 7);
    const clean = await readAll(p);
    const orig = fs.readFileSync(p);
    const q = path.join(tmp, 'fuzz.arrow');
    const rng = new Rng(2026);
    const outcomes = { same: 0, inputError: 0 };
    let slowest = 0;
    for (let t = 0; t < 1000; t++) {
      const b = Buffer.from(orig);
      const mode = t % 4;
      if (mode === 0) b[rng.int(0, b.length)] ^= 1 << rng.int(0, 8); // bit flip
      else if (mode === 1) b[rng.int(0, b.length)] = rng.int(0, 256); // byte
      else if (mode === 2) b.fill(0xff, rng.int(0, b.length)).subarray(0, 0); // 0xff tail
      else {
        const at = rng.int(0, b.length - 8);
        b.writeInt32LE(rng.int(-2147483648, 2147483647), at); // a garbage int32
      }
      const bytes = mode === 2 ? b.subarray(0, Math.min(b.length, rng.int(1, b.length) + 8)) : b;
      fs.writeFileSync(q, bytes);
      const t0 = performance.now();
      try {
        expect(await readAll(q), `mutation ${t} read different data without an error`).toBe(clean);
        outcomes.same++;
      } catch (e) {
        if (!(e instanceof InputError)) throw new Error(`mutation ${t} (mode ${mode}) gave ${(e as Error).constructor.name}: ${(e as Error).message}`);
        expect(e.file).toBe(q);
        outcomes.inputError++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(outcomes.same + outcomes.inputError).toBe(1000);
    expect(outcomes.inputError).toBeGreaterThan(300);
    expect(slowest).toBeLessThan(2000);
  }, 120_000);
});

describe('hidden-state cache', () => {
  it('a NaN in cond is an InputError naming the column and the row', async () => {
    const p = path.join(tmp, 'nan-cond.arrow');
    const rows = makeSyntheticRows({ rows: 10, condLength: 3, condDim: 4, seed: 1 });
    rows.cond[7 * 12 + 5] = Number.NaN;
    const w = await HiddenStateCacheWriter.open(p, { condLength: 3, condDim: 4, rowsPerBatch: 4 });
    await w.append(rows);
    await w.close();
    const cache = await HiddenStateCache.open(p);
    // Rows in clean batches still read, with their values.
    const ok = await cache.readRows([0, 1]);
    expect(Array.from(ok.cond.subarray(0, 24))).toEqual(Array.from(rows.cond.subarray(0, 24)));
    const err = await cache.readRows([7]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ file: p, field: 'cond[row 7]', found: Number.NaN });
    await cache.close();
  });

  it("a cache whose first batch's row count was flipped fails at open, naming the batch", async () => {
    const p = path.join(tmp, 'flip-cache.arrow');
    const w = await HiddenStateCacheWriter.open(p, { condLength: 2, condDim: 3, rowsPerBatch: 8 });
    await w.append(makeSyntheticRows({ rows: 64, condLength: 2, condDim: 3, seed: 3 }));
    await w.close();
    const bytes = fs.readFileSync(p);
    const cacheSchema = { token: col.utf8() };
    const r = await ArrowFileReader.open(p, cacheSchema);
    const block = (r as unknown as { reader: { footer: { getRecordBatch(i: number): { offset: number | bigint; metaDataLength: number } } } }).reader.footer.getRecordBatch(0);
    await r.close();
    // The header's `length` is the first int64 equal to 8 after the message's vtable.
    const start = Number(block.offset);
    const meta = bytes.subarray(start, start + block.metaDataLength);
    const rel = meta.indexOf(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), 8);
    meta.writeBigInt64LE(0n, rel);
    fs.writeFileSync(p, bytes);
    const err = await HiddenStateCache.open(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ file: p, field: 'batch 0' });
  });
});

describe('safetensors', () => {
  const tensors = (): Map<string, SafeTensor> =>
    new Map<string, SafeTensor>([
      ['layer.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
      ['layer.bias', { dtype: 'F16', shape: [2], data: Float32Array.of(0.5, -0.5) }],
      ['eta.eta_logit', { dtype: 'F32', shape: [1], data: Float32Array.of(Infinity) }],
      ['steps', { dtype: 'I64', shape: [1], data: Int32Array.of(7) }],
    ]);

  for (const [what, value] of [['NaN', Number.NaN], ['+Inf', Infinity], ['-Inf', -Infinity]] as const) {
    it(`a checkpoint with one ${what} weight does not load; the error names the tensor`, async () => {
      const t = tensors();
      (t.get('layer.weight')!.data as Float32Array)[4] = value;
      const dir = path.join(tmp, `ckpt-${what}`);
      await saveCheckpoint(dir, { tensors: t, config: { a: 1 } });
      const err = await loadCheckpoint(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SafetensorsError);
      expect(err).toBeInstanceOf(InputError);
      expect(err).toMatchObject({ field: 'layer.weight', tensor: 'layer.weight', found: value });
      expect((err as Error).message).toContain('element 4');
    });
  }

  it('a NaN in an F16 tensor is found too; ±Inf in eta_logit is allowed; finite: false reads anything', async () => {
    const p = path.join(tmp, 'f16.safetensors');
    const t = tensors();
    (t.get('layer.bias')!.data as Float32Array)[1] = Number.NaN;
    await writeSafetensors(p, t);
    await expect(readSafetensors(p)).rejects.toMatchObject({ field: 'layer.bias' });
    expect(Number.isNaN((await readSafetensors(p, { finite: false })).tensors.get('layer.bias')!.data[1])).toBe(true);
    await writeSafetensors(p, tensors());
    expect((await readSafetensors(p)).tensors.get('eta.eta_logit')!.data[0]).toBe(Infinity);
  });

  it('corruption kinds: truncation, bad header length, bad JSON, random bytes: all InputErrors naming the file', () => {
    const orig = serializeSafetensors(tensors());
    const clean = JSON.stringify([...parseSafetensors(orig, 'x', { finite: true }).tensors].map(([k, v]) => [k, Array.from(v.data)]));
    const kinds = new Map<string, number>();
    const rng = new Rng(5);
    // safetensors has no checksum: a flip in the data can only be caught when it makes a value
    // non-finite, and one in a tensor name or shape digit can still be a valid file (the model
    // loader then reports the unknown name or shape). What must never happen is a raw error.
    const attempt = (bytes: Uint8Array, kind: string, sameRequired = true) => {
      try {
        const got = parseSafetensors(bytes, 'ckpt.safetensors', { finite: true });
        if (sameRequired) expect(JSON.stringify([...got.tensors].map(([k, v]) => [k, Array.from(v.data)])), `${kind}: different data without an error`).toBe(clean);
        kinds.set('same', (kinds.get('same') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof InputError)) throw new Error(`${kind} gave ${(e as Error).constructor.name}: ${(e as Error).message}`);
        expect(e.file).toBe('ckpt.safetensors');
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
    };
    for (let cut = 0; cut < orig.length; cut += 7) attempt(orig.subarray(0, cut), 'truncated');
    for (const n of [0n, 3n, 2n ** 40n, 2n ** 63n]) {
      const b = Uint8Array.from(orig);
      new DataView(b.buffer).setBigUint64(0, n, true);
      attempt(b, 'header length');
    }
    const bad = Uint8Array.from(orig);
    bad[9] = 0x7b; // '{{'
    attempt(bad, 'bad JSON');
    for (let t = 0; t < 500; t++) {
      const b = Uint8Array.from(orig);
      const at = rng.int(0, b.length);
      b[at] ^= 1 << rng.int(0, 8);
      attempt(b, 'bit flip', at < 8);
    }
    expect(kinds.get('truncated')).toBeGreaterThan(10);
    expect(kinds.get('header length')).toBe(4);
    expect(kinds.get('bad JSON')).toBe(1);
    expect(kinds.get('bit flip')).toBeGreaterThan(50);
  });
});
