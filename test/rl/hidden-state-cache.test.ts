import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { col, writeArrowFile } from '../../src/core/arrow.js';
import { HiddenStateCache, HiddenStateCacheWriter, writeHiddenStateCache, writeSyntheticCache } from '../../src/rl/data/hidden-state-cache.js';
import { makeSyntheticRows, selectRows } from '../../src/rl/data/il-data.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-cache-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('hidden-state cache', () => {
  const rows = makeSyntheticRows({ rows: 23, condLength: 6, condDim: 5, seed: 3, conditioningOnly: false });

  it('round-trips rows exactly through record batches and reads rows lazily in any order', async () => {
    const file = path.join(tmp, 'rt.arrow');
    await writeHiddenStateCache(file, rows, { rowsPerBatch: 4 });
    const cache = await HiddenStateCache.open(file, { condLength: 6, condDim: 5 });
    expect(cache.numRows).toBe(23);
    expect(cache.numBatches).toBe(6); // 5 x 4 + 3
    expect([cache.condLength, cache.condDim]).toEqual([6, 5]);
    expect(cache.metadata['drivekit.format']).toBe('drivekit-hidden-state-cache');
    const idx = [22, 0, 5, 5, 13];
    const got = await cache.readRows(idx);
    const want = selectRows(rows, idx);
    expect(got.tokens).toEqual(['synthetic-22', 'synthetic-0', 'synthetic-5', 'synthetic-5', 'synthetic-13']);
    expect(got.cond).toEqual(want.cond);
    expect(got.history).toEqual(want.history);
    expect(got.status).toEqual(want.status);
    expect(got.target).toEqual(want.target);
    await cache.close();
  });

  it('reads only the batches it needs', async () => {
    const file = path.join(tmp, 'lazy.arrow');
    const big = makeSyntheticRows({ rows: 40, condLength: 32, condDim: 32, seed: 1 });
    await writeHiddenStateCache(file, big, { rowsPerBatch: 1 });
    const size = fs.statSync(file).size;
    const cache = await HiddenStateCache.open(file);
    const afterOpen = cache.bytesRead;
    await cache.readRows([7]);
    const one = cache.bytesRead - afterOpen;
    expect(one).toBeGreaterThan(32 * 32 * 4); // the row's conditioning
    expect(one).toBeLessThan(size / 10); // but not the file
    await cache.close();
  });

  it('rejects a cache whose conditioning length or width differs from the planner, naming field, expected and found', async () => {
    const file = path.join(tmp, 'rt.arrow');
    await expect(HiddenStateCache.open(file, { condLength: 6, condDim: 1536 })).rejects.toThrow(
      /conditioning width H \(column 'cond' dim 1\): expected 1536 from the planner config, found 5/,
    );
    await expect(HiddenStateCache.open(file, { condLength: 2800, condDim: 5, source: 'checkpoint ckpt/model.json' })).rejects.toThrow(
      /conditioning length L \(column 'cond' dim 0\): expected 2800 from checkpoint ckpt\/model.json, found 6/,
    );
  });

  it('rejects files with missing columns or wrong shapes', async () => {
    const noTarget = path.join(tmp, 'no-target.arrow');
    await writeArrowFile(noTarget, { token: col.utf8(), cond: col.vector([2, 2]), history: col.vector([4, 3]), status: col.vector([8]) }, {
      token: ['a'], cond: new Float32Array(4), history: new Float32Array(12), status: new Float32Array(8),
    });
    await expect(HiddenStateCache.open(noTarget)).rejects.toThrow(/missing column\(s\) 'target'/);
    const badStatus = path.join(tmp, 'bad-status.arrow');
    await writeArrowFile(badStatus, { token: col.utf8(), cond: col.vector([2, 2]), history: col.vector([4, 3]), status: col.vector([7]), target: col.vector([8, 3]) }, {
      token: ['a'], cond: new Float32Array(4), history: new Float32Array(12), status: new Float32Array(7), target: new Float32Array(24),
    });
    await expect(HiddenStateCache.open(badStatus)).rejects.toThrow(/column 'status': expected FixedSizeList<Float32> of shape \[8\], found shape \[7\]/);
    // A flat conditioning column (no shape metadata) is accepted when the planner gives L and H.
    const flat = path.join(tmp, 'flat.arrow');
    await writeArrowFile(flat, { token: col.utf8(), cond: col.vector([4]), history: col.vector([12]), status: col.vector([8]), target: col.vector([24]) }, {
      token: ['a'], cond: Float32Array.from([1, 2, 3, 4]), history: new Float32Array(12), status: new Float32Array(8), target: new Float32Array(24),
    });
    await expect(HiddenStateCache.open(flat)).rejects.toThrow(/no \[L, H\] shape in its field metadata/);
    const c = await HiddenStateCache.open(flat, { condLength: 2, condDim: 2 });
    expect(Array.from((await c.readRows([0])).cond)).toEqual([1, 2, 3, 4]);
    await c.close();
  });

  it('rejects non-finite targets naming the row, and never leaves a partial file behind', async () => {
    const bad = { ...rows, target: rows.target.slice() };
    bad.target[3 * 24 + 5] = Number.NaN;
    const file = path.join(tmp, 'nan.arrow');
    await writeHiddenStateCache(file, bad, { rowsPerBatch: 8 });
    const cache = await HiddenStateCache.open(file);
    await expect(cache.readRows([3])).rejects.toThrow(/field 'target' of row 3 \(token synthetic-3\) holds NaN/);
    await cache.close();
    const keep = path.join(tmp, 'keep.arrow');
    await writeHiddenStateCache(keep, rows);
    const before = fs.readFileSync(keep);
    const w = await HiddenStateCacheWriter.open(keep, { condLength: 6, condDim: 5 });
    await expect(w.append(makeSyntheticRows({ rows: 2, condLength: 6, condDim: 4 }))).rejects.toThrow(/conditioning \[6, 4\] but the cache was opened for \[6, 5\]/);
    await w.abort();
    expect(fs.readFileSync(keep).equals(before)).toBe(true);
  });

  it('writes a seeded synthetic cache in chunks, the same for the same seed', async () => {
    const a = path.join(tmp, 'syn-a.arrow'), b = path.join(tmp, 'syn-b.arrow');
    await writeSyntheticCache(a, { rows: 10, condLength: 4, condDim: 3, seed: 9, chunkRows: 3 });
    await writeSyntheticCache(b, { rows: 10, condLength: 4, condDim: 3, seed: 9, chunkRows: 3 });
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    const c = await HiddenStateCache.open(a);
    expect(c.numRows).toBe(10);
    const r = await c.readRows([9]);
    expect(r.tokens[0]).toBe('synthetic-9');
    // targets are forward arcs: x grows along the horizon
    expect(r.target[21]!).toBeGreaterThan(r.target[0]!);
    await c.close();
  });
});
