import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { VERSION } from '../../src/core/version.js';
import {
  METRIC_CACHE_FORMAT,
  METRIC_NAMES,
  MetricCache,
  buildMetricCache,
  cacheEntry,
  openMetricCache,
  scoreCachedScene,
  seedScenes,
  verifyMetricCache,
  writeMetricCache,
} from '../../src/navsim/metric-cache.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { generateScene } from '../../src/navsim/scenegen.js';
import { readSceneFile, scoreScene, defaultVersion } from '../../src/navsim/score-scene.js';
import type { PdmScene, PdmVersion } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';
import { proposals } from './proposals.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-metric-cache-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const loadGolden = (dir: string, n: number): PdmScene[] =>
  fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().slice(0, n).map((f) => parseScene(readSceneFile(path.join(dir, f)), { source: f }));

/** The bits of a Float64Array (NaN-safe exact comparison). */
const bits = (a: Float64Array | number[]) => Array.from(new BigUint64Array(Float64Array.from(a).buffer), String);

function expectCachedEqualsDirect(original: PdmScene, cache: MetricCache, version: PdmVersion, G: number, seed: number): void {
  const poses = proposals(G, Math.max(2, Math.hypot(original.ego.vx, original.ego.vy)), seed);
  const direct = scoreScene(original, poses, { version });
  const cached = scoreCachedScene(cache.scene(original.name), poses, G, { version });
  expect(bits(cached.score)).toEqual(bits(direct.proposals.map((p) => p.score)));
  for (const name of METRIC_NAMES[version]) {
    expect(bits(cached.metrics[name]!), `${original.name} ${version} ${name}`).toEqual(bits(direct.metrics.map((m) => (m as Record<string, number | null>)[name] ?? NaN)));
  }
}

describe('metric cache', () => {
  const generated = [...seedScenes(0, 3)];
  const dirGen = path.join(tmp, 'gen');
  const manifest = buildMetricCache(dirGen, generated, { shardSize: 2, source: { seeds: [0, 3] } });

  it('writes a manifest with format, versions, per-shard rows and sha256', () => {
    const m = JSON.parse(fs.readFileSync(path.join(dirGen, 'manifest.json'), 'utf8'));
    expect(m.format).toBe(METRIC_CACHE_FORMAT);
    expect(m.drivekitVersion).toBe(VERSION);
    expect(m.versions).toEqual(['v1.1', 'v2.2']);
    expect(m.shards.map((s: any) => [s.file, s.rows, s.firstIndex])).toEqual([['shard-00000.arrow', 2, 0], ['shard-00001.arrow', 1, 2]]);
    expect(m.shards[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.seeds).toEqual([0, 1, 2]);
    expect(manifest.names).toEqual(generated.map((g) => g.scene.name));
  });

  it('scores generated scenes bit for bit as direct scoring (both versions, G = 8)', () => {
    const cache = openMetricCache(dirGen);
    for (const [i, g] of generated.entries()) {
      // a fresh parse: direct scoring runs PDM-Closed itself
      const original = parseScene(generateScene(g.seed!).scene);
      expect(cache.scene(i).pdmClosedSource['v1.1']).toBe('planner');
      for (const v of ['v1.1', 'v2.2'] as const) expectCachedEqualsDirect(original, cache, v, 8, 10 + i);
    }
  });

  it('scores golden v1.1 and v2.2 scenes bit for bit as direct scoring', () => {
    const scenes = [...loadGolden(PDM_V1_DIR, 100), ...loadGolden(PDM_V2_DIR, 100).filter((s) => s.schema === 'pdm_ref_scene/v2').sort((a, b) => Number(b.previousFrame !== null) - Number(a.previousFrame !== null)).slice(0, 14)];
    const dir = path.join(tmp, 'golden');
    const entries = scenes.map((s, i) => cacheEntry({ scene: s }, [defaultVersion(s)], i));
    // one version per cache (v1 scenes at v1.1, v2 scenes at v2.2)
    const v1 = entries.filter((e) => e.scene.schema === 'pdm_ref_scene/v1');
    const v2 = entries.filter((e) => e.scene.schema === 'pdm_ref_scene/v2');
    writeMetricCache(dir + '1', v1, { versions: ['v1.1'], shardSize: 5 });
    writeMetricCache(dir + '2', v2, { versions: ['v2.2'], shardSize: 5 });
    const c1 = openMetricCache(dir + '1');
    const c2 = openMetricCache(dir + '2');
    expect(v2.some((e) => e.scene.previousFrame !== null)).toBe(true);
    expect(v1.some((e) => e.pdmClosedSource['v1.1'] === 'pinned')).toBe(true);
    for (const s of scenes) {
      const fresh = parseScene(readSceneFile(path.join(s.schema === 'pdm_ref_scene/v1' && fs.existsSync(path.join(PDM_V1_DIR, `${s.name}.json`)) ? PDM_V1_DIR : PDM_V2_DIR, `${s.name}.json`)));
      const version = defaultVersion(s);
      expectCachedEqualsDirect(fresh.name === s.name ? fresh : s, version === 'v1.1' ? c1 : c2, version, 4, 7);
      // the scene's own trajectory (probe) equals the golden scoring too
      const probe = (version === 'v1.1' ? c1 : c2).scene(s.name).humanMetrics[version]!;
      const direct = scoreScene(s, null, { version });
      expect(probe[METRIC_NAMES[version].length]).toBe(direct.proposals[0]!.score);
    }
  });

  it('keeps at most maxShardTables shard tables; scenes decoded from a dropped shard stay', () => {
    const cache = openMetricCache(dirGen, { maxShardTables: 1 });
    const a = cache.scene(0);
    const c = cache.scene(2); // loads shard 1, drops shard 0's table
    expect(cache.scene(0)).toBe(a);
    expect(cache.scene(1).name).toBe(generated[1]!.scene.name); // shard 0 read again
    expect(cache.scene(2)).toBe(c);
  });

  it('keeps shard tables within maxShardBytes (default 1 GiB): a cache that fits is read once per shard', () => {
    // shard 0 holds scenes 0 and 1, shard 1 scene 2: the order goes shard 0, 1, 0
    const order = [0, 2, 1];
    const all = openMetricCache(dirGen, { checkHashes: 'load' });
    for (const i of order) all.scene(i);
    expect(all.shardReads).toBe(2); // every table stayed
    all.release();
    for (const i of order) all.scene(i);
    expect(all.shardReads).toBe(4); // release() drops them
    // a budget below one shard keeps only the table in use: going back to shard 0 reads it again
    const one = openMetricCache(dirGen, { checkHashes: 'load', maxShardBytes: 1 });
    for (const i of order) one.scene(i);
    expect(one.shardReads).toBe(3);
    expect(one.scene(0).name).toBe(generated[0]!.scene.name); // decoded scenes stay
    expect(one.shardReads).toBe(3);
    expect(() => openMetricCache(dirGen, { maxShardBytes: 0 })).toThrow(/maxShardBytes.*a number >= 1.*0/s);
  });

  it('detects a corrupted shard and names it', () => {
    const dir = path.join(tmp, 'corrupt');
    fs.cpSync(dirGen, dir, { recursive: true });
    const f = path.join(dir, 'shard-00001.arrow');
    const b = fs.readFileSync(f);
    b[Math.floor(b.length / 2)] ^= 0x01;
    fs.writeFileSync(f, b);
    let err: unknown;
    try {
      openMetricCache(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(f);
    expect((err as InputError).field).toBe('sha256');
    // lazily checked: the intact shard reads, the corrupted one fails when loaded
    const lazy = openMetricCache(dir, { checkHashes: 'load' });
    expect(lazy.scene(0).name).toBe(generated[0]!.scene.name);
    expect(() => lazy.scene(2)).toThrow(InputError);
  });

  it('rejects another format version naming both versions', () => {
    const dir = path.join(tmp, 'oldformat');
    fs.cpSync(dirGen, dir, { recursive: true });
    const mf = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    m.format = 'drivekit.navsim.metric-cache/0';
    fs.writeFileSync(mf, JSON.stringify(m));
    let err: any;
    try {
      openMetricCache(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err.field).toBe('format');
    expect(err.expected).toBe(METRIC_CACHE_FORMAT);
    expect(err.found).toBe('drivekit.navsim.metric-cache/0');
    expect(err.message).toContain('drivekit.navsim.metric-cache/0');
    expect(err.message).toContain(METRIC_CACHE_FORMAT);
    // the right format from another scorer revision is refused too (its numbers would differ)
    m.format = METRIC_CACHE_FORMAT;
    m.scorerVersion = 'navsim-pdm-v1.1+v2.2/pdm-closed-default/0';
    fs.writeFileSync(mf, JSON.stringify(m));
    expect(() => openMetricCache(dir)).toThrow(expect.objectContaining({ field: 'scorerVersion', found: 'navsim-pdm-v1.1+v2.2/pdm-closed-default/0' }));
  });

  it('verify passes on a sound cache and names the scene and field of a changed value', () => {
    const ok = verifyMetricCache(dirGen, { sample: 1 });
    expect(ok.ok).toBe(true);
    expect(ok.checked.length).toBe(3);
    // a cache built by a "buggy" library: one PDM-Closed value off by one ulp, hashes consistent
    const cache = openMetricCache(dirGen);
    const entries = [0, 1, 2].map((i) => cache.scene(i));
    const bad = entries.map((e) => ({ ...e, pdmClosed: { ...e.pdmClosed }, humanMetrics: { ...e.humanMetrics } }));
    const s = Float64Array.from(bad[1]!.pdmClosed['v2.2']!);
    const j = s.findIndex((x, k) => k >= 33 && x > 1); // a non-zero value of state 3
    s[j] = s[j]! * (1 + 2 ** -52);
    bad[1]!.pdmClosed['v2.2'] = s;
    const h = Float64Array.from(bad[2]!.humanMetrics['v1.1']!);
    h[3] = h[3]! + 0.25; // ego_progress
    bad[2]!.humanMetrics['v1.1'] = h;
    const dir = path.join(tmp, 'buggy');
    writeMetricCache(dir, bad, { shardSize: 2 });
    const r = verifyMetricCache(dir, { scenes: [bad[1]!.name, bad[2]!.name] });
    expect(r.ok).toBe(false);
    expect(r.mismatches.map((m) => [m.scene, m.field])).toEqual([
      [bad[1]!.name, `pdm_closed_v2_2[${j}]`],
      [bad[2]!.name, 'human_metrics_v1_1.ego_progress'],
    ]);
  });

  it('never overwrites an existing cache without force, and a bad version is an InputError', () => {
    expect(() => writeMetricCache(dirGen, [], {})).toThrow(InputError);
    expect(fs.existsSync(path.join(dirGen, 'manifest.json'))).toBe(true);
    const cache = openMetricCache(dirGen);
    expect(() => cache.scene('no_such_scene')).toThrow(InputError);
    const e = cacheEntry(generated[0]!, ['v1.1']);
    expect(() => scoreCachedScene(e, new Float64Array(24), 1, { version: 'v2.2' })).toThrow(InputError);
  });
});
