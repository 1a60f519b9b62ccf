import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateScene, sceneTokens } from '../../src/navsim/index.js';
import { readScenesArrow } from '../../src/node.js';
import { HiddenStateCache } from '../../src/rl/data/hidden-state-cache.js';
import { defaultScenesPath, readScenesJsonl, writeSceneDataset } from '../../src/rl/data/scene-dataset.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-scene-dataset-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeSceneDataset', () => {
  it('writes the planner cache and the scenes (Arrow) for the given seeds', async () => {
    const file = path.join(dir, 'train.arrow');
    const seeds = [3, 5, 9];
    const progress: number[] = [];
    const r = await writeSceneDataset(file, seeds, { numTokens: 16, width: 32, chunkRows: 2, onProgress: (d) => progress.push(d) });
    expect(r).toEqual({ rows: 3, path: file, scenesPath: path.join(dir, 'train.scenes.arrow') });
    expect(progress).toEqual([2, 3]);
    const cache = await HiddenStateCache.open(file, { condLength: 16, condDim: 32 });
    try {
      expect(cache.numRows).toBe(3);
      expect(cache.metadata['drivekit.dataset']).toBe('drivekit-scene-dataset');
      const rows = await cache.readRows([0, 1, 2]);
      expect(rows.tokens).toEqual(['scenegen-3', 'scenegen-5', 'scenegen-9']);
      const g = generateScene(5);
      expect(Array.from(rows.cond.subarray(16 * 32, 2 * 16 * 32))).toEqual(Array.from(sceneTokens(g, { numTokens: 16, width: 32 })));
      expect(Array.from(rows.history.subarray(12, 24))).toEqual(Array.from(g.history));
      expect(Array.from(rows.status.subarray(8, 16))).toEqual(Array.from(g.status));
      expect(Array.from(rows.target.subarray(24, 48))).toEqual(Array.from(g.target));
    } finally {
      await cache.close();
    }
    const scenes = readScenesArrow(r.scenesPath);
    expect(scenes.map((s) => s.name)).toEqual(['scenegen-3', 'scenegen-5', 'scenegen-9']);
    expect(scenes[1]!.humanTrajectory!.poses.length).toBe(24);
  }, 30_000);

  it('streams the scenes as JSON lines when asked', async () => {
    const file = path.join(dir, 'val.arrow');
    const r = await writeSceneDataset(file, [11], { numTokens: 4, width: 8, scenesFormat: 'jsonl' });
    expect(r.scenesPath).toBe(defaultScenesPath(file, 'jsonl'));
    const scenes = readScenesJsonl(r.scenesPath);
    expect(scenes.map((s) => s.name)).toEqual(['scenegen-11']);
    fs.writeFileSync(path.join(dir, 'bad.jsonl'), '{"schema": "pdm_ref_scene/v2"\n');
    expect(() => readScenesJsonl(path.join(dir, 'bad.jsonl'))).toThrow(/bad.jsonl:1: not JSON/);
  }, 30_000);

  it('rejects bad arguments and leaves an existing file untouched on failure', async () => {
    const file = path.join(dir, 'keep.arrow');
    fs.writeFileSync(file, 'old');
    await expect(writeSceneDataset(file, [], { numTokens: 4, width: 8 })).rejects.toThrow(/seeds is empty/);
    await expect(writeSceneDataset(file, [1, 1], { numTokens: 4, width: 8 })).rejects.toThrow(/seeds\[1\] = 1 appears twice/);
    await expect(writeSceneDataset(file, [1], { numTokens: 0, width: 8 })).rejects.toThrow(/invalid numTokens 0/);
    await expect(writeSceneDataset(file, [1], { numTokens: 4, width: 8, sceneGen: { leadProbability: 2 } })).rejects.toThrow(/leadProbability/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.existsSync(defaultScenesPath(file))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 30_000);
});
