import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Float32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENES_ARROW_COLUMNS, readScenesArrow, sceneToJson, scenesToArrowTable, writeScenesArrow } from '../../src/navsim/arrow-scenes.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { NavsimInputError, type PdmScene } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const V1 = PDM_V1_DIR;
const V2 = PDM_V2_DIR;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-arrow-scenes-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const load = (dir: string) =>
  fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => parseScene(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))));

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
