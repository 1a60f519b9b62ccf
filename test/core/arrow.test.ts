import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompressionType, compressionRegistry, tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ArrowFileReader, ArrowFileWriter, col, readArrowFile, writeArrowFile } from '../../src/core/arrow.js';
import { Rng } from '../../src/core/rng.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-arrow-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const schema = {
  token: col.utf8(),
  step: col.int32(),
  reward: col.float32(),
  done: col.bool(),
  hidden: col.vector([4, 3]), // [L, H] per row
  action: col.vector(2),
};

function makeBatch(rows: number, seed: number) {
  const r = new Rng(seed);
  return {
    token: Array.from({ length: rows }, (_, i) => `scene-${seed}-${i}-é`),
    step: Int32Array.from({ length: rows }, (_, i) => seed * 1000 + i),
    reward: r.fillNormal(new Float32Array(rows)),
    done: Array.from({ length: rows }, (_, i) => i % 3 === 0),
    hidden: r.fillNormal(new Float32Array(rows * 12)),
    action: r.fillUniform(new Float32Array(rows * 2), -1, 1),
  };
}

describe('Arrow IPC file round trip', () => {
  it('writes batches incrementally and reads them back exactly, with metadata and shapes', async () => {
    const p = path.join(tmp, 'rt.arrow');
    const w = await ArrowFileWriter.open(p, schema, { metadata: { config: '{"seed":1}' } });
    expect(fs.existsSync(p)).toBe(false); // nothing at the target until close
    const batches = [makeBatch(5, 1), makeBatch(3, 2), makeBatch(7, 3)];
    for (const b of batches) await w.writeBatch(b);
    expect(w.numRows).toBe(15);
    await w.close();
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const r = await ArrowFileReader.open(p, schema);
    expect(r.numBatches).toBe(3);
    expect(r.metadata).toEqual({ config: '{"seed":1}' });
    expect(r.shapeOf('hidden')).toEqual([4, 3]);
    expect(await r.batchRowCounts()).toEqual([5, 3, 7]);
    for (let i = 0; i < 3; i++) {
      const got = await r.readBatch(i);
      const want = batches[i]!;
      expect(got.numRows).toBe(want.token.length);
      expect(got.token).toEqual(want.token);
      expect(Array.from(got.step)).toEqual(Array.from(want.step));
      expect(got.reward).toEqual(want.reward);
      expect(Array.from(got.done)).toEqual(want.done.map(Number));
      expect(got.hidden).toEqual(want.hidden);
      expect(got.action).toEqual(want.action);
    }
    await r.close();

    // apache-arrow's own reader agrees (the file is a standard IPC file).
    const table = tableFromIPC(fs.readFileSync(p));
    expect(table.numRows).toBe(15);
    expect(String(table.schema.fields.find((f) => f.name === 'hidden')!.type)).toBe('FixedSizeList[12]<Float32>');
    expect(table.schema.fields.find((f) => f.name === 'hidden')!.metadata.get('drivekit.shape')).toBe('[4,3]');
  });

  it('reads a file without a schema argument, and readAll concatenates', async () => {
    const p = path.join(tmp, 'all.arrow');
    const b = makeBatch(10, 9);
    await writeArrowFile(p, schema, b, { batchSize: 4 });
    const r = await ArrowFileReader.open(p);
    expect(r.numBatches).toBe(3);
    expect(r.schema).toEqual(schema);
    await r.close();
    const all = await readArrowFile(p, schema);
    expect(all.numRows).toBe(10);
    expect(all.hidden).toEqual(b.hidden);
    expect(all.token).toEqual(b.token);
  });

  it('writes an empty table with its schema', async () => {
    const p = path.join(tmp, 'empty.arrow');
    const w = await ArrowFileWriter.open(p, { x: col.float32() });
    await w.close();
    const r = await ArrowFileReader.open(p, { x: col.float32() });
    expect(r.numBatches).toBe(0);
    await expect(r.readBatch(0)).rejects.toThrow('invalid batch index 0. Should be an integer in [0, 0)');
    await r.close();
  });
});

describe('lazy batch access', () => {
  it('reads batch 7 of 20 touching only that batch (plus the footer)', async () => {
    const p = path.join(tmp, 'many.arrow');
    const big = { id: col.int32(), hidden: col.vector([16, 32]) }; // 2 KiB per row
    const w = await ArrowFileWriter.open(p, big);
    for (let i = 0; i < 20; i++) {
      const rows = 64;
      const hidden = new Float32Array(rows * 512);
      for (let k = 0; k < hidden.length; k++) hidden[k] = i + k / hidden.length;
      await w.writeBatch({ id: Int32Array.from({ length: rows }, (_, k) => i * rows + k), hidden });
    }
    await w.close();
    const fileSize = fs.statSync(p).size;
    expect(fileSize).toBeGreaterThan(20 * 64 * 2048);

    const r = await ArrowFileReader.open(p, big);
    const afterOpen = r.bytesRead;
    expect(afterOpen).toBeLessThan(8192); // footer + magic only
    const b7 = await r.readBatch(7);
    const perBatch = r.bytesRead - afterOpen;
    // One batch body (64 rows x 2 KiB + ids) plus its metadata, not the 2.6 MB file.
    expect(perBatch).toBeGreaterThan(64 * 2048);
    expect(perBatch).toBeLessThan(64 * 2048 + 4096);
    expect(b7.id[0]).toBe(7 * 64);
    expect(b7.hidden[0]).toBe(7);
    expect(b7.hidden[b7.hidden.length - 1]).toBeCloseTo(7 + (b7.hidden.length - 1) / b7.hidden.length, 5);
    // Concurrent reads are serialised on the one handle and return the right batches.
    const [a, b] = await Promise.all([r.readBatch(3), r.readBatch(19)]);
    expect([a.id[0], b.id[0]]).toEqual([3 * 64, 19 * 64]);
    await r.close();
    await expect(r.readBatch(0)).rejects.toThrow('reader is closed');
  });
});

describe('schema validation', () => {
  const p = path.join(tmp, 'schema.arrow');
  const written = { obs: col.vector([259]), reward: col.float32(), step: col.int32() };

  it('names the file, column, expected and found type or size', async () => {
    await writeArrowFile(p, written, { obs: new Float32Array(259 * 2), reward: [1, 2], step: [0, 1] });
    await expect(ArrowFileReader.open(p, { ...written, obs: col.vector([258]) })).rejects.toThrow(
      `${p}: schema mismatch:\n  column 'obs': expected list size 258 (shape [258]), found list size 259`,
    );
    await expect(ArrowFileReader.open(p, { ...written, reward: col.int32() })).rejects.toThrow("column 'reward': expected Int32, found Float32");
    await expect(ArrowFileReader.open(p, { ...written, done: col.bool() })).rejects.toThrow(
      "column 'done': missing (expected Bool; found columns: obs, reward, step)",
    );
    await expect(ArrowFileReader.open(p, { obs: col.vector([7, 37]) })).rejects.toThrow(
      "column 'obs': expected shape [7, 37], found shape [259] (list size 259 matches)",
    );
    // A subset of columns is fine.
    const r = await ArrowFileReader.open(p, { reward: col.float32() });
    expect(Array.from((await r.readBatch(0)).reward)).toEqual([1, 2]);
    await r.close();
  });

  it('rejects bad batches before writing and keeps the old file', async () => {
    const before = fs.readFileSync(p);
    const w = await ArrowFileWriter.open(p, written);
    await expect(w.writeBatch({ obs: new Float32Array(259), reward: [1, 2], step: [0, 1] })).rejects.toThrow(
      `${p}: column 'reward' has 2 rows but column 'obs' has 1`,
    );
    await expect(w.writeBatch({ obs: new Float32Array(100), reward: [1], step: [0] })).rejects.toThrow(
      "column 'obs': 100 values is not a multiple of the row size 259",
    );
    await expect(w.writeBatch({ obs: new Float32Array(259), reward: [1], step: [0.5] })).rejects.toThrow("column 'step': row 0 = 0.5 is not an int32");
    await expect(w.writeBatch({ obs: new Float32Array(259), reward: [1], step: [0], extra: [1] } as any)).rejects.toThrow("unknown column(s) 'extra'");
    await w.abort();
    expect(fs.readFileSync(p).equals(before)).toBe(true);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('rejects non-Arrow and stream-format files clearly', async () => {
    const junk = path.join(tmp, 'junk.arrow');
    fs.writeFileSync(junk, 'not arrow at all, just some text');
    await expect(ArrowFileReader.open(junk)).rejects.toThrow(`${junk}: not a readable Arrow IPC file`);
  });
});

/**
 * A store-only Zstandard codec (RFC 8878 frames made of raw blocks): real zstd framing that any
 * zstd decoder accepts, without a compression library, so the test can produce a ZSTD-marked file.
 */
const storeOnlyZstd = {
  encode(data: Uint8Array): Uint8Array {
    const blocks = Math.max(1, Math.ceil(data.length / 131072));
    const out = new Uint8Array(9 + 3 * blocks + data.length);
    out.set([0x28, 0xb5, 0x2f, 0xfd, 0xa0]); // magic; single segment, 4-byte content size
    new DataView(out.buffer).setUint32(5, data.length, true);
    let at = 9;
    for (let b = 0; b < blocks; b++) {
      const chunk = data.subarray(b * 131072, (b + 1) * 131072);
      const h = (chunk.length << 3) | (b === blocks - 1 ? 1 : 0); // raw block type 0
      out.set([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], at);
      out.set(chunk, at + 3);
      at += 3 + chunk.length;
    }
    return out;
  },
  decode(frame: Uint8Array): Uint8Array {
    const n = new DataView(frame.buffer, frame.byteOffset).getUint32(5, true);
    const out = new Uint8Array(n);
    let at = 9;
    let o = 0;
    for (;;) {
      const h = frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16);
      const size = h >> 3;
      out.set(frame.subarray(at + 3, at + 3 + size), o);
      o += size;
      at += 3 + size;
      if (h & 1) break;
    }
    return out;
  },
};

describe('compressed files', () => {
  it('reads compressed batches only when a codec is registered, else says so', async () => {
    const p = path.join(tmp, 'zstd.arrow');
    const x = Float32Array.from({ length: 40000 }, (_, i) => i / 7); // > one 128 KiB raw block
    compressionRegistry.set(CompressionType.ZSTD, storeOnlyZstd);
    try {
      await writeArrowFile(p, { x: col.float32() }, { x }, { compression: 'zstd' });
      expect((await readArrowFile(p, { x: col.float32() })).x).toEqual(x);
    } finally {
      compressionRegistry.set(CompressionType.ZSTD, {});
    }
    const r = await ArrowFileReader.open(p, { x: col.float32() });
    await expect(r.readBatch(0)).rejects.toThrow(`${p}: batch 0 is ZSTD-compressed and no codec is available`);
    await r.close();
    await expect(ArrowFileWriter.open(path.join(tmp, 'z.arrow'), { x: col.float32() }, { compression: 'lz4' })).rejects.toThrow(
      'lz4 compression needs a codec registered',
    );
  });
});
