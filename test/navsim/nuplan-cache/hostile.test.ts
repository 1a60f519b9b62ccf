/**
 * Hostile and foreign input for the NAVSIM metric-cache reader: every case is an `InputError`
 * naming the file and the token, raised before anything outside the allow-list could be called.
 * Pickles are written by hand as bytes; xz streams by `xzStore` (no Python at test time).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { NavsimCacheError, listNavsimCache, metricCacheToScene, readNavsimCacheFile, unpickleRestricted, V1_METRIC_CACHE_FIELDS } from '../../../src/navsim/nuplan-cache/index.js';
import { decompressXz } from '../../../src/navsim/nuplan-cache/xz.js';
import { parseWkb } from '../../../src/navsim/nuplan-cache/wkb.js';
import { NAVSIM_CACHE_V1_DIR } from '../../golden-dirs.js';
import { NAVSIM_METRIC_CACHE, Pickle, xzStore } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-navsim-hostile-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const SAMPLE = path.join(NAVSIM_CACHE_V1_DIR, 'metric_cache', 'drivekit_ref_log', 'unknown', 'straight_cruise', 'metric_cache.pkl');
const ctx = { file: '/cache/log/unknown/tok/metric_cache.pkl', token: 'tok' };

/** Writes `bytes` as `<tmp>/<case>/log/unknown/<token>/metric_cache.pkl`. */
function cacheFile(caseName: string, token: string, bytes: Uint8Array): string {
  const file = path.join(tmp, caseName, 'log', 'unknown', token, 'metric_cache.pkl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

function thrown(f: () => unknown): NavsimCacheError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NavsimCacheError);
    expect(e).toBeInstanceOf(InputError);
    return e as NavsimCacheError;
  }
  throw new Error('expected an error');
}

async function rejected(p: Promise<unknown>): Promise<NavsimCacheError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NavsimCacheError);
    return e as NavsimCacheError;
  }
  throw new Error('expected a rejection');
}

describe('restricted unpickling', () => {
  it('refuses os.system via GLOBAL + REDUCE (protocol 2 form), naming the function, the file and the token', () => {
    const p = new Pickle().global('os', 'system').unicode('touch /tmp/pwned').tuple1().reduce().bytes();
    const e = thrown(() => unpickleRestricted(p, ctx));
    expect(e.found).toBe('os.system');
    expect(e.file).toBe(ctx.file);
    expect(e.token).toBe('tok');
    expect(e.message).toContain('/cache/log/unknown/tok/metric_cache.pkl');
    expect(e.message).toContain('token tok');
    expect(e.message).toContain('"os.system"');
  });

  it('refuses builtins.eval via STACK_GLOBAL + REDUCE, and posix.system, subprocess.Popen, builtins.exec', () => {
    for (const [m, n] of [['builtins', 'eval'], ['builtins', 'exec'], ['posix', 'system'], ['subprocess', 'Popen'], ['builtins', '__import__']] as const) {
      const p = new Pickle().stackGlobal(m, n).unicode('1+1').tuple1().reduce().bytes();
      expect(thrown(() => unpickleRestricted(p, ctx)).found).toBe(`${m}.${n}`);
    }
  });

  it('refuses INST (protocol 0) of a foreign class, a NAVSIM class outside the list, persistent ids and extension codes', () => {
    const inst = Uint8Array.from([0x28, ...Buffer.from('ios\nsystem\n'), 0x2e]);
    expect(thrown(() => unpickleRestricted(inst, ctx)).found).toBe('os.system');
    const agent = new Pickle().stackGlobal('navsim.agents.abstract_agent', 'AbstractAgent').emptyTuple().newobj().bytes();
    expect(thrown(() => unpickleRestricted(agent, ctx)).found).toBe('navsim.agents.abstract_agent.AbstractAgent');
    const persid = new Pickle().unicode('x').op(0x51).bytes();
    expect(thrown(() => unpickleRestricted(persid, ctx)).found).toBe('persistent id "x"');
    const ext = new Pickle().op(0x82, 7).bytes();
    expect(thrown(() => unpickleRestricted(ext, ctx)).found).toBe('extension code 7');
  });

  it('allows getattr only for a known member of an allowed enum', () => {
    const layer = ['nuplan.common.maps.maps_datatypes', 'SemanticMapLayer'] as const;
    const ok = new Pickle().stackGlobal('builtins', 'getattr').stackGlobal(...layer).unicode('LANE').tuple2().reduce().bytes();
    expect(unpickleRestricted(ok, ctx)).toMatchObject({ enumName: 'nuplan.common.maps.maps_datatypes.SemanticMapLayer', member: 'LANE' });
    const dunder = new Pickle().stackGlobal('builtins', 'getattr').stackGlobal(...layer).unicode('__init__').tuple2().reduce().bytes();
    expect(thrown(() => unpickleRestricted(dunder, ctx)).found).toContain('__init__');
    const onPath = new Pickle().stackGlobal('builtins', 'getattr').stackGlobal('pathlib', 'PosixPath').unicode('__globals__').tuple2().reduce().bytes();
    expect(thrown(() => unpickleRestricted(onPath, ctx)).found).toContain('builtins.getattr');
    // calling an enum class directly is no way around it
    const call = new Pickle().stackGlobal(...layer).unicode('LANE').tuple1().reduce().bytes();
    expect(thrown(() => unpickleRestricted(call, ctx)).message).toContain('well-formed pickle');
  });

  it('reads numpy arrays through _reconstruct: numeric (C order) and 1-D object arrays (as lists)', () => {
    const recon = (p: Pickle) => p.stackGlobal('numpy.core.multiarray', '_reconstruct').stackGlobal('numpy', 'ndarray').int(0).tuple1().op(0x43, 1, 0x62).tuple3().reduce();
    const dtype = (p: Pickle, code: string, order: string) => p.stackGlobal('numpy', 'dtype').unicode(code).op(0x89, 0x88).tuple3().reduce().mark().int(3).unicode(order).none().none().none().int(-1).int(-1).int(0).tuple().build();
    // float64 [2, 2]
    const f = recon(new Pickle()).mark().int(1).int(2).int(2).tuple2();
    dtype(f, 'f8', '<').op(0x89).op(0x43, 32, ...new Uint8Array(Float64Array.of(1, 2.5, -3, 4).buffer)).tuple().build();
    const arr = unpickleRestricted(f.bytes(), ctx) as { shape: number[]; data: Float64Array };
    expect(arr.shape).toEqual([2, 2]);
    expect(Array.from(arr.data)).toEqual([1, 2.5, -3, 4]);
    // object array of two strings
    const o = recon(new Pickle()).mark().int(1).int(2).tuple1();
    dtype(o, 'O', '|').op(0x89).op(0x5d).unicode('a').op(0x61).unicode('b').op(0x61).tuple().build();
    expect(unpickleRestricted(o.bytes(), ctx)).toEqual(['a', 'b']);
  });

  it('a truncated pickle or a non-pickle is an error naming file and token', () => {
    const good = new Pickle().stackGlobal(...NAVSIM_METRIC_CACHE).emptyTuple().newobj().bytes();
    const e = thrown(() => unpickleRestricted(good.subarray(0, good.length - 3), ctx));
    expect(e.message).toMatch(/token tok: pickle: expected a well-formed pickle/);
    expect(thrown(() => unpickleRestricted(Buffer.from('not a pickle at all'), ctx)).token).toBe('tok');
  });
});

describe('foreign caches', () => {
  it('a MetricCache with v2 fields is an error naming the version, the file and the token', () => {
    const p = new Pickle().stackGlobal(...NAVSIM_METRIC_CACHE).emptyTuple().newobj().emptyDict().mark();
    for (const f of [...V1_METRIC_CACHE_FIELDS, 'past_human_trajectory', 'map_parameters']) p.unicode(f).none();
    const bytes = p.setitems().build().bytes();
    const e = thrown(() => metricCacheToScene(unpickleRestricted(bytes, ctx), ctx));
    expect(e.message).toContain('token tok: MetricCache');
    expect(e.message).toContain('past_human_trajectory, map_parameters of another NAVSIM version');
    expect(e.file).toBe(ctx.file);
  });

  it('another object where the MetricCache belongs, or a missing v1.1 field, is named', () => {
    const path2 = new Pickle().stackGlobal('navsim.planning.simulation.planner.pdm_planner.utils.pdm_path', 'PDMPath').emptyTuple().newobj().bytes();
    expect(thrown(() => metricCacheToScene(unpickleRestricted(path2, ctx), ctx)).found).toBe('navsim.planning.simulation.planner.pdm_planner.utils.pdm_path.PDMPath');
    const p = new Pickle().stackGlobal(...NAVSIM_METRIC_CACHE).emptyTuple().newobj().emptyDict().mark();
    for (const f of V1_METRIC_CACHE_FIELDS.filter((f) => f !== 'observation')) p.unicode(f).none();
    const e = thrown(() => metricCacheToScene(unpickleRestricted(p.setitems().build().bytes(), ctx), ctx));
    expect(e.field).toBe('token tok: MetricCache.observation');
  });
});

describe('xz streams', () => {
  const sample = fs.readFileSync(SAMPLE);

  it('a truncated stream names the file and the token', async () => {
    const file = cacheFile('truncated', 'cut_short', sample.subarray(0, sample.length - 40));
    const e = await rejected(readNavsimCacheFile(file));
    expect(e.message).toContain(file);
    expect(e.message).toContain('token cut_short: xz');
    expect(e.message).toContain('truncated');
  });

  it('a corrupted stream (flipped byte, bad check) names the file and the token', async () => {
    const bad = Buffer.from(sample);
    bad[bad.length >> 1] ^= 0xff;
    const file = cacheFile('corrupted', 'bit_rot', bad);
    const e = await rejected(readNavsimCacheFile(file));
    expect(e.message).toContain('token bit_rot: xz');
    expect(e.message).toContain('corrupted');
    const badCheck = Buffer.from(xzStore(Buffer.from('payload')));
    badCheck[badCheck.indexOf(Buffer.from('payload'))] ^= 1; // stored payload changed: its CRC32 check no longer matches
    await expect(decompressXz(badCheck, ctx)).rejects.toThrow(/corrupted/);
  });

  it('not an xz stream, or an empty file, is named', async () => {
    const e = await rejected(readNavsimCacheFile(cacheFile('plain', 'raw_pickle', new Pickle().none().bytes())));
    expect(e.message).toContain('token raw_pickle: xz: expected an xz stream');
    expect((await rejected(readNavsimCacheFile(cacheFile('empty', 'nothing', new Uint8Array(0))))).found).toBe('an empty file');
  });

  it('a hostile pickle inside a valid xz stream is refused by name through the file reader', async () => {
    const file = cacheFile('hostile', 'evil', xzStore(new Pickle().stackGlobal('os', 'system').unicode('id').tuple1().reduce().bytes()));
    const e = await rejected(readNavsimCacheFile(file));
    expect(e.found).toBe('os.system');
    expect(e.message).toContain(file);
    expect(e.message).toContain('token evil');
  });
});

describe('odd shapes', () => {
  it('BUILD with a __proto__ key on a plain list (route_lane_ids of a real sample) is an InputError, not a TypeError', async () => {
    const sample = path.join(NAVSIM_CACHE_V1_DIR, 'metric_cache', 'drivekit_ref_log', 'unknown', 'parked_vehicle_hit', 'metric_cache.pkl');
    const raw = Buffer.from(await decompressXz(fs.readFileSync(sample), ctx));
    const at = raw.indexOf(Buffer.from('\x8c\x06lane_0\x94a', 'latin1'), raw.indexOf(Buffer.from('route_lane_ids', 'latin1')));
    expect(at).toBeGreaterThan(0);
    const end = at + 10; // after APPEND: BUILD the list with the state {'__proto__': {}}
    const inject = Buffer.from('}\x8c\x09__proto__}sb', 'latin1');
    const file = cacheFile('proto', 'odd', xzStore(Buffer.concat([raw.subarray(0, end), inject, raw.subarray(end)])));
    const e = await rejected(readNavsimCacheFile(file));
    expect(e.message).toContain('token odd: MetricCache: expected a NAVSIM v1.1 metric cache of the expected shape');
    expect(String(e.found)).toMatch(/is not a function/);
    expect(({} as Record<string, unknown>).map).toBeUndefined();
  });
});

describe('metadata', () => {
  it('a row that resolves nowhere is reported with the CSV row and the token; the other rows still resolve', () => {
    const root = path.join(tmp, 'meta', 'metric_cache');
    const good = path.join(root, 'log_a', 'unknown', 'present', 'metric_cache.pkl');
    fs.mkdirSync(path.dirname(good), { recursive: true });
    fs.copyFileSync(SAMPLE, good);
    fs.mkdirSync(path.join(root, 'metadata'), { recursive: true });
    const csv = path.join(root, 'metadata', 'metric_cache_metadata_node_0.csv');
    fs.writeFileSync(csv, 'file_name\n/elsewhere/exp/metric_cache/log_a/unknown/present/metric_cache.pkl\n/elsewhere/exp/metric_cache/log_a/unknown/ghost/metric_cache.pkl\nnot/a/cache.txt\n');
    const l = listNavsimCache(root);
    expect(l.files.map((f) => f.token)).toEqual(['present']);
    expect(l.unresolved.length).toBe(2);
    expect(l.unresolved[0]!.token).toBe('ghost');
    expect(l.unresolved[0]!.message).toContain(`${csv}:3`);
    expect(l.unresolved[0]!.message).toContain('token ghost');
    expect(l.unresolved[0]!.message).toContain(path.join(root, 'log_a', 'unknown', 'ghost', 'metric_cache.pkl'));
    expect(l.unresolved[1]!.message).toContain(`${csv}:4`);
  });

  it('a CSV without a file_name column is an InputError naming it; without metadata the folder is walked', () => {
    const root = path.join(tmp, 'meta2');
    fs.mkdirSync(path.join(root, 'metadata'), { recursive: true });
    fs.writeFileSync(path.join(root, 'metadata', 'm.csv'), 'path\n/x/a/b/c/metric_cache.pkl\n');
    expect(() => listNavsimCache(root)).toThrow(/m\.csv: header: expected a file_name column/);
    const walked = path.join(tmp, 'walked');
    const f = path.join(walked, 'l', 'unknown', 'tok1', 'metric_cache.pkl');
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.copyFileSync(SAMPLE, f);
    expect(listNavsimCache(walked)).toMatchObject({ metadata: [], unresolved: [], files: [{ token: 'tok1', logName: 'l', file: f, listedIn: 'walk' }] });
  });
});

describe('WKB', () => {
  it('reads big-endian and Z polygons, refuses truncated bytes', () => {
    // big-endian Polygon Z (EWKB flag), one ring of 4 points
    const pts = [[0, 0, 9], [1, 0, 9], [1, 1, 9], [0, 0, 9]];
    const be = Buffer.alloc(1 + 4 + 4 + 4 + pts.length * 24);
    let o = 0;
    be.writeUInt8(0, o++);
    be.writeUInt32BE(0x80000003, o); o += 4;
    be.writeUInt32BE(1, o); o += 4;
    be.writeUInt32BE(pts.length, o); o += 4;
    for (const p of pts) for (const v of p) { be.writeDoubleBE(v, o); o += 8; }
    expect(parseWkb(be)).toEqual({ type: 'Polygon', rings: [Float64Array.from([0, 0, 1, 0, 1, 1, 0, 0])] });
    expect(() => parseWkb(be.subarray(0, be.length - 1))).toThrow(/truncated/);
    expect(() => parseWkb(Buffer.concat([be, Buffer.from([0])]))).toThrow(/trailing/);
  });
});
