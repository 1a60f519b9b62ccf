import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Float32, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENES_ARROW_COLUMNS, readScenesArrow, sceneToJson, scenesFromArrowTable, scenesToArrowTable, writeScenesArrow } from '../../src/navsim/arrow-scenes.js';
import { decodeScenesFast } from '../../src/navsim/arrow-scenes-decode.js';
import { readSceneFile } from '../../src/navsim/scene-file.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreParsedScene, scoreScene, scoreSceneJson } from '../../src/navsim/scoring.js';
import { NavsimInputError, type PdmScene } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const V1 = PDM_V1_DIR;
const V2 = PDM_V2_DIR;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-arrow-scenes-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const goldenFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
const load = (dir: string) => goldenFiles(dir).map((f) => parseScene(JSON.parse(fs.readFileSync(f, 'utf8'))));

describe('Arrow scene layout', () => {
  const scenes: PdmScene[] = [...load(V1), ...load(V2)];

  it('round-trips every golden scene exactly (Float64, absent frames, previous frames, pinned trajectories)', () => {
    const file = path.join(tmp, 'all.arrow');
    writeScenesArrow(file, scenes, 16);
    const back = readScenesArrow(file);
    expect(back.length).toBe(scenes.length);
    const diff = scenes.filter((s, i) => !isDeepStrictEqual(s, back[i])).map((s) => s.name);
    expect(diff).toEqual([]);
    expect(scenes.some((s) => s.previousFrame?.form === 'scene')).toBe(true);
    expect(scenes.some((s) => s.pdmClosedTrajectory !== null)).toBe(true);
    // sceneToJson is the inverse of parseScene
    for (const s of scenes.slice(0, 10)) expect(isDeepStrictEqual(parseScene(sceneToJson(s)), s)).toBe(true);
  });

  it('keeps absent agent frames and UTM-sized coordinates', () => {
    const s = structuredClone(scenes.find((x) => x.name === 'global_traj_large_coords')!);
    s.agents[0]!.states[3] = null;
    const file = path.join(tmp, 'one.arrow');
    writeScenesArrow(file, [s]);
    const [b] = readScenesArrow(file);
    expect(b!.agents[0]!.states[3]).toBeNull();
    expect(b!.ego.x).toBe(s.ego.x);
    expect(b!.ego.x).toBeGreaterThan(6e5);
  });

  it('names the file and the column for a wrong layout, and file, row, scene and field for bad values', () => {
    const wrong = path.join(tmp, 'wrong.arrow');
    const t = scenesToArrowTable(scenes.slice(0, 1));
    const cols: Record<string, any> = {};
    for (const [name] of SCENES_ARROW_COLUMNS) cols[name] = t.getChild(name);
    cols.timestamp_us = vectorFromArray([0], new Float32());
    fs.writeFileSync(wrong, tableToIPC(new Table(cols), 'file'));
    expect(() => readScenesArrow(wrong)).toThrow(/wrong\.arrow: column 'timestamp_us': expected Float64, found Float32/);

    const missing = path.join(tmp, 'missing.arrow');
    delete cols.timestamp_us;
    fs.writeFileSync(missing, tableToIPC(new Table(cols), 'file'));
    expect(() => readScenesArrow(missing)).toThrow(/column 'timestamp_us': expected Float64, found no such column/);

    const bad = structuredClone(scenes[0]!);
    bad.ego.vx = NaN;
    const badFile = path.join(tmp, 'bad.arrow');
    writeScenesArrow(badFile, [scenes[1]!, bad]);
    let err: unknown;
    try {
      readScenesArrow(badFile);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NavsimInputError);
    expect((err as Error).message).toMatch(new RegExp(`bad\\.arrow: row 1: scene "${bad.name}": field 'ego.vx': expected a finite number, found NaN`));

    const notArrow = path.join(tmp, 'x.arrow');
    fs.writeFileSync(notArrow, 'hello');
    expect(() => readScenesArrow(notArrow)).toThrow(NavsimInputError);
  });

  it('does not touch an existing file when writing fails', () => {
    const file = path.join(tmp, 'keep.arrow');
    fs.writeFileSync(file, 'old');
    const broken = structuredClone(scenes[0]!) as any;
    broken.agents = 5; // not an array: conversion throws before the rename
    expect(() => writeScenesArrow(file, [broken])).toThrow();
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
  });
});

describe('Arrow scene input: columnar decoding', () => {
  const scenes: PdmScene[] = [...load(V1), ...load(V2)];
  const file = path.join(tmp, 'columnar.arrow');
  writeScenesArrow(file, scenes, 16);

  it('decodes every golden row without a previous frame column by column, deep-equal to the scene reader', () => {
    const table = tableFromIPC(fs.readFileSync(file));
    const fast = decodeScenesFast(table);
    const slow = scenesFromArrowTable(table, file, undefined, { columnar: false });
    expect(fast.length).toBe(scenes.length);
    // the fast path declines exactly the rows with a previous frame (recursive JSON: the scene reader's)
    expect(fast.map((s) => s === null)).toEqual(scenes.map((s) => s.previousFrame !== null));
    const withPrev = scenes.filter((s) => s.previousFrame !== null).length;
    expect(withPrev).toBeGreaterThan(0);
    expect(withPrev).toBeLessThan(scenes.length / 2);
    const diff = fast.flatMap((s, i) => (s !== null && !isDeepStrictEqual(s, slow[i]) ? [slow[i]!.name] : []));
    expect(diff).toEqual([]);
    // own buffers, not views of the file (a scene sent to a worker clones only itself)
    const one = fast.find((s) => s !== null)!;
    expect(one.pdmClosedCenterline.byteLength).toBe(one.pdmClosedCenterline.buffer.byteLength);
    // the rows of a metric cache shard, one at a time and out of order
    const rows = [5, 0, scenes.length - 1];
    expect(isDeepStrictEqual(scenesFromArrowTable(table, file, rows), scenesFromArrowTable(table, file, rows, { columnar: false }))).toBe(true);
  });

  it('a scene read from Arrow scores bit for bit as its JSON file (every v1.1 and v2.2 golden scene)', () => {
    const files = [...goldenFiles(V1), ...goldenFiles(V2)];
    const fromArrow = readScenesArrow(file);
    expect(fromArrow.map((s) => s.name)).toEqual(scenes.map((s) => s.name));
    for (let i = 0; i < files.length; i++) {
      const json = readSceneFile(files[i]!);
      // toEqual compares numbers with Object.is: bit for bit (NaN, -0 included)
      expect(scoreParsedScene(fromArrow[i]!)).toEqual(scoreSceneJson(json));
    }
    // PDM-Closed's trajectory itself (the EP normaliser), also where a scene pins one
    for (const i of [0, 1, files.length - 1]) {
      const a = scoreScene(fromArrow[i]!, null, { pdmClosed: 'planner' });
      const b = scoreScene(parseScene(readSceneFile(files[i]!)), null, { pdmClosed: 'planner' });
      expect(a.pdmClosed.states).toEqual(b.pdmClosed.states);
      expect(a.proposals).toEqual(b.proposals);
    }
  });

  it('a value the scene reader rejects gives the scene reader\'s error (file, row, scene, field)', () => {
    const base = scenes.find((s) => s.agents.length > 0 && s.trajectory !== null && s.previousFrame === null)!;
    expect(base).toBeDefined();
    const cases: [string, (s: PdmScene) => void][] = [
      ['negative agent length', (s) => void (s.agents[0]!.length = -1)],
      ['duplicate agent id', (s) => void s.agents.push(structuredClone(s.agents[0]!))],
      ['agent state far off the map', (s) => void (s.agents[0]!.states.find((x) => x)!.vx = 2e7)],
      ['two-point area polygon', (s) => void (s.map.areas[0]!.polygon = new Float64Array([0, 0, 1, 1]))],
      ['lane centerline beyond the bound', (s) => void (s.map.lanes[0]!.centerline[1] = -3e7)],
      ['zero trajectory interval', (s) => void (s.trajectory!.intervalS = 0)],
      ['non-increasing history', (s) => void (s.history = [
        { timestampUs: 10, x: 0, y: 0, heading: 0, vx: 0, vy: 0, ax: 0, ay: 0 },
        { timestampUs: 10, x: 1, y: 0, heading: 0, vx: 0, vy: 0, ax: 0, ay: 0 },
      ])],
      ['unknown scene type', (s) => void ((s as any).sceneType = 'dreamt')],
    ];
    for (const [label, mutate] of cases) {
      const bad = structuredClone(base);
      mutate(bad);
      const table = scenesToArrowTable([scenes[1]!, bad]);
      const message = (columnar: boolean) => {
        try {
          scenesFromArrowTable(table, 'bad.arrow', undefined, { columnar });
        } catch (e) {
          expect(e, label).toBeInstanceOf(NavsimInputError);
          return (e as Error).message;
        }
        return `${label}: no error`;
      };
      const slow = message(false);
      expect(slow, label).toMatch(/^bad\.arrow: row 1: scene /);
      expect(message(true), label).toBe(slow);
    }
  });
});
