/**
 * NAVSIM v1.1 metric caches (written by the real NAVSIM / nuPlan classes) read with no Python:
 * every sample imports, matches its drivekit JSON twin field by field, and rescoring the sample
 * trajectories reproduces NAVSIM's own pdm_score.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { listNavsimCache, readNavsimCacheFile, decodeNavsimCacheBytes, refOfFile, type ImportedScene } from '../../../src/navsim/nuplan-cache/index.js';
import { parseScene } from '../../../src/navsim/scene-json.js';
import { scoreScene } from '../../../src/navsim/score-scene.js';
import { decompressXz } from '../../../src/navsim/nuplan-cache/xz.js';
import { NAVSIM_CACHE_V1_DIR, PDM_V1_DIR } from '../../golden-dirs.js';
import { xzStore } from './helpers.js';

const CACHE = path.join(NAVSIM_CACHE_V1_DIR, 'metric_cache');
const trajectories = JSON.parse(fs.readFileSync(path.join(NAVSIM_CACHE_V1_DIR, 'trajectories.json'), 'utf8')) as Record<string, number[][]>;
const expected = JSON.parse(fs.readFileSync(path.join(NAVSIM_CACHE_V1_DIR, 'expected.json'), 'utf8')) as Record<string, Record<string, number>>;
const CONTINUOUS = new Set(['ego_progress', 'score']);

const imported = new Map<string, ImportedScene>();
beforeAll(async () => {
  for (const ref of listNavsimCache(CACHE).files) imported.set(ref.token, await readNavsimCacheFile(ref));
});

const bits = (a: ArrayLike<number>) => Array.from(new BigUint64Array(Float64Array.from(a).buffer), String);

describe('NAVSIM v1.1 metric cache import', () => {
  it('lists all 39 samples through the metadata CSV (rows from another machine resolved by their last four parts)', () => {
    const l = listNavsimCache(CACHE);
    expect(l.metadata.map((m) => path.basename(m))).toEqual(['metric_cache_metadata_node_0.csv']);
    expect(l.unresolved).toEqual([]);
    expect(l.files.length).toBe(39);
    expect(new Set(l.files.map((f) => f.token))).toEqual(new Set(Object.keys(expected)));
    for (const f of l.files) {
      expect(f.logName).toBe('drivekit_ref_log');
      expect(f.scenarioType).toBe('unknown');
      expect(f.file).toBe(path.join(CACHE, 'drivekit_ref_log', 'unknown', f.token, 'metric_cache.pkl'));
    }
    // the parent folder works too, and a walk (no metadata) finds the same files
    expect(listNavsimCache(NAVSIM_CACHE_V1_DIR).files.map((f) => f.file)).toEqual(l.files.map((f) => f.file));
  });

  it('scoring trajectories.json against every imported scene reproduces NAVSIM pdm_score (discrete metrics exactly, EP and score within 1e-9)', () => {
    expect(imported.size).toBe(39);
    let checked = 0;
    for (const [token, imp] of imported) {
      const poses = Float64Array.from(trajectories[token]!.flat());
      expect(poses.length).toBe(24);
      const r = scoreScene(imp.scene, [{ poses, frame: 'ego', intervalS: 0.5 }], { version: 'v1.1' });
      expect(r.pdmClosed.source).toBe('pinned');
      const m = r.metrics[0] as unknown as Record<string, number>;
      for (const [k, want] of Object.entries(expected[token]!)) {
        if (CONTINUOUS.has(k)) expect(Math.abs(m[k]! - want), `${token} ${k}`).toBeLessThanOrEqual(1e-9);
        else expect(m[k], `${token} ${k}`).toBe(want);
        checked++;
      }
    }
    expect(checked).toBe(39 * 7);
  });

  it('each imported scene equals its drivekit JSON twin: ego, PDM-Closed states and centreline bit for bit, map, route and agents', () => {
    for (const [token, imp] of imported) {
      const golden = JSON.parse(fs.readFileSync(path.join(PDM_V1_DIR, `${token}.json`), 'utf8'));
      const g = parseScene(golden, { source: token });
      const s = imp.scene;
      expect(s.name).toBe(token);
      expect(s.schema).toBe('pdm_ref_scene/v1');
      expect(s.ego).toEqual(g.ego);
      expect(s.timestampUs).toBe(g.timestampUs);
      // PDM-Closed as NAVSIM's planner computed it (kept, not rerun)
      expect(bits(s.pdmClosedTrajectory!)).toEqual(bits(golden.expected.pdm_closed.trajectory_states_10hz_5s.flat()));
      expect(bits(s.pdmClosedCenterline)).toEqual(bits(g.pdmClosedCenterline));
      // map: every drivable polygon with its id, layer and route flag
      const layers = (x: typeof s) => [...x.map.areas.map((a) => `${a.type}:${a.id}`), ...x.map.lanes.map((l) => `${l.type}:${l.id}:${l.onRoute}`)].sort();
      expect(layers(s)).toEqual(layers(g));
      for (const a of s.map.areas) expect(bits(a.polygon), `${token} ${a.id}`).toEqual(bits(g.map.areas.find((x) => x.id === a.id)!.polygon));
      for (const l of s.map.lanes) expect(bits(l.polygon), `${token} ${l.id}`).toEqual(bits(g.map.lanes.find((x) => x.id === l.id)!.polygon));
      expect(s.map.lanes.filter((l) => l.onRoute).map((l) => l.id).sort()).toEqual(golden.expected.route_lane_ids.slice().sort());
      // agents: ids, types, sizes; the 10 Hz poses (recovered from the polygons) of a direct_10hz twin
      // (nuPlan has no STATIC_OBJECT type: drivekit's static_object was cached as GENERIC_OBJECT, both static)
      const nuplanType = (t: string) => (t === 'static_object' ? 'generic_object' : t);
      expect(s.agents.map((a) => [a.id, a.type, a.length, a.width, a.height])).toEqual(g.agents.map((a) => [a.id, nuplanType(a.type), a.length, a.width, a.height]));
      if (g.observationMode === 'direct_10hz') {
        for (const a of s.agents) {
          const ga = g.agents.find((x) => x.id === a.id)!;
          expect(a.startFrame).toBe(ga.startFrame);
          a.states.forEach((st, i) => {
            const gs = ga.states[i]!;
            expect(st === null).toBe(gs === null);
            if (!st || !gs) return;
            for (const k of ['x', 'y', 'heading'] as const) expect(Math.abs(st[k] - gs[k]), `${token} ${a.id} ${i} ${k}`).toBeLessThanOrEqual(1e-9);
          });
        }
      }
      expect(imp.diagnostics.maxBoxResidual).toBeLessThanOrEqual(1e-9);
      // v1.1 red lights steer only PDM-Closed (kept): the scoring observation of the cache holds none
      expect(s.redLightLaneIds).toEqual([]);
      expect(s.trafficLightFrames2hz).toBeNull();
    }
  });

  it('reads a numpy 2 pickle (numpy._core names) to the same scene', async () => {
    const ref = listNavsimCache(CACHE).files.find((f) => f.token === 'lead_brake_follow')!;
    const raw = await decompressXz(fs.readFileSync(ref.file), { file: ref.file });
    const s = Buffer.from(raw).toString('latin1');
    expect(s).toContain('\x8c\x15numpy.core.multiarray');
    const np2 = s.replaceAll('\x8c\x15numpy.core.multiarray', '\x8c\x16numpy._core.multiarray').replaceAll('\x8c\x12numpy.core.numeric', '\x8c\x13numpy._core.numeric');
    expect(np2).not.toContain('numpy.core.');
    const d = await decodeNavsimCacheBytes(xzStore(Buffer.from(np2, 'latin1')), ref);
    expect(JSON.stringify(d.scene, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v))).toBe(
      JSON.stringify(imported.get('lead_brake_follow')!.scene, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)),
    );
  });

  it('reads a lone metric_cache.pkl path (token from its folder)', async () => {
    const file = path.join(CACHE, 'drivekit_ref_log', 'unknown', 'straight_cruise', 'metric_cache.pkl');
    expect(refOfFile(file)).toMatchObject({ token: 'straight_cruise', scenarioType: 'unknown', logName: 'drivekit_ref_log' });
    const r = await readNavsimCacheFile(file);
    expect(r.scene.name).toBe('straight_cruise');
    expect(r.scene.logName).toBe('drivekit_ref_log');
    await expect(readNavsimCacheFile(path.join(CACHE, 'nope', 'unknown', 'ghost', 'metric_cache.pkl'))).rejects.toThrow(/ghost.*readable metric_cache\.pkl.*ENOENT/);
    await expect(readNavsimCacheFile(path.join(CACHE, 'nope', 'unknown', 'ghost', 'metric_cache.pkl'))).rejects.toBeInstanceOf(InputError);
  });
});
