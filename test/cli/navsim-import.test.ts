/**
 * `drivekit navsim import-cache`, `navsim score --trajectories` and `navsim eval --cache
 * --trajectories` on NAVSIM's own v1.1 metric caches (the 39 vendored samples).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { pyFloat } from '../../src/cli/navsim-import.js';
import { DiffusionPlanner } from '../../src/models/planner.js';
import { savePlannerWeights } from '../../src/models/weights.js';
import { readScenesArrow } from '../../src/navsim/arrow-scenes.js';
import { openMetricCache } from '../../src/navsim/metric-cache.js';
import { NAVSIM_CACHE_V1_DIR } from '../golden-dirs.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-navsim-import-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const CACHE = path.join(NAVSIM_CACHE_V1_DIR, 'metric_cache');
const TRAJ = path.join(NAVSIM_CACHE_V1_DIR, 'trajectories.json');
const expected = JSON.parse(fs.readFileSync(path.join(NAVSIM_CACHE_V1_DIR, 'expected.json'), 'utf8')) as Record<string, Record<string, number>>;
const KEYS = ['no_at_fault_collisions', 'drivable_area_compliance', 'driving_direction_compliance', 'ego_progress', 'time_to_collision_within_bound', 'comfort', 'score'];

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function expectNavsimMetrics(token: string, m: Record<string, number>): void {
  for (const k of KEYS) {
    if (k === 'ego_progress' || k === 'score') expect(Math.abs(m[k]! - expected[token]![k]!), `${token} ${k}`).toBeLessThanOrEqual(1e-9);
    else expect(m[k], `${token} ${k}`).toBe(expected[token]![k]);
  }
}

/** A small NAVSIM cache: some samples copied (metadata rows from another machine), one file corrupted. */
function smallCache(name: string, tokens: string[], corrupt?: string): string {
  const root = path.join(tmp, name);
  const rows = ['file_name'];
  for (const t of tokens) {
    const rel = path.join('drivekit_ref_log', 'unknown', t, 'metric_cache.pkl');
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    const bytes = Buffer.from(fs.readFileSync(path.join(CACHE, rel)));
    if (t === corrupt) bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(path.join(root, rel), bytes);
    rows.push(`/cluster/exp/metric_cache/${rel}`);
  }
  fs.mkdirSync(path.join(root, 'metadata'), { recursive: true });
  fs.writeFileSync(path.join(root, 'metadata', 'metric_cache_metadata_node_0.csv'), rows.join('\n') + '\n');
  return root;
}

describe('drivekit navsim import-cache', () => {
  it('imports all 39 samples to an Arrow scenes file (token = name, PDM-Closed kept) that rescores to NAVSIM pdm_score; --verify rechecks a sample', async () => {
    const out = path.join(tmp, 'all.arrow');
    const r = await run(['navsim', 'import-cache', CACHE, '--out', out, '--verify', '3', '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out[0]!);
    expect(summary).toMatchObject({ out, format: 'arrow-scenes', scenes: 39, failed: 0, listed: 39 });
    expect(summary.verify.ok).toBe(true);
    expect(summary.verify.checked).toHaveLength(3);
    const scenes = readScenesArrow(out);
    expect(scenes.map((s) => s.name).sort()).toEqual(Object.keys(expected).sort());
    expect(scenes.every((s) => s.pdmClosedTrajectory !== null && s.pdmClosedTrajectory.length === 51 * 11)).toBe(true);

    const s = await run(['navsim', 'score', out, '--trajectories', TRAJ, '--json']);
    expect(s.code).toBe(0);
    expect(s.out).toHaveLength(39);
    for (const line of s.out.map((l) => JSON.parse(l))) expectNavsimMetrics(line.name, line.metrics);
    // an existing output is kept unless --force
    const again = await run(['navsim', 'import-cache', CACHE, '--out', out, '--quiet']);
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/all\.arrow: expected a new file, found "an existing file"\. Pass --force/);
  });

  it('a failing file is reported by token and path while the rest are imported (into a drivekit metric cache folder)', async () => {
    const root = smallCache('with-bad', ['straight_cruise', 'parked_vehicle_hit', 'lead_brake_follow'], 'parked_vehicle_hit');
    fs.appendFileSync(path.join(root, 'metadata', 'metric_cache_metadata_node_0.csv'), '/cluster/exp/metric_cache/drivekit_ref_log/unknown/ghost/metric_cache.pkl\n');
    const out = path.join(tmp, 'with-bad-out');
    const r = await run(['navsim', 'import-cache', root, '--out', out, '--quiet', '--concurrency', '2']);
    expect(r.code).toBe(1);
    const errs = r.err.map((l) => JSON.parse(l));
    expect(errs.map((e) => e.token).sort()).toEqual(['ghost', 'parked_vehicle_hit']);
    const bad = errs.find((e) => e.token === 'parked_vehicle_hit');
    expect(bad.file).toBe(path.join(root, 'drivekit_ref_log', 'unknown', 'parked_vehicle_hit', 'metric_cache.pkl'));
    expect(bad.error).toMatch(/token parked_vehicle_hit: xz: expected a complete, uncorrupted xz stream/);
    expect(errs.find((e) => e.token === 'ghost').error).toMatch(/metric_cache_metadata_node_0\.csv:5: token ghost: file_name/);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ format: 'metric-cache', scenes: 2, failed: 2, listed: 4 });
    const cache = openMetricCache(out);
    expect(cache.manifest.names).toEqual(['straight_cruise', 'lead_brake_follow']);
    expect(cache.versions).toEqual(['v1.1']);
    expect(cache.scene('lead_brake_follow').pdmClosedSource['v1.1']).toBe('pinned');

    // eval on the folder: NAVSIM's per-token CSV and the summary beside it
    const trajs = JSON.parse(fs.readFileSync(TRAJ, 'utf8'));
    const tfile = path.join(tmp, 'two.json');
    fs.writeFileSync(tfile, JSON.stringify({ straight_cruise: trajs.straight_cruise, lead_brake_follow: trajs.lead_brake_follow }));
    const csv = path.join(tmp, 'eval', 'results.csv');
    const e = await run(['navsim', 'eval', '--cache', out, '--trajectories', tfile, '--out', csv, '--json']);
    expect(e.code).toBe(0);
    const summary = JSON.parse(e.out[0]!);
    expect(summary).toMatchObject({ version: 'v1.1', n: 2, valid: 2, failed: [], csv, summary: path.join(tmp, 'eval', 'results.json') });
    const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['', 'token', 'valid', ...KEYS]);
    expect(rows.map((r) => r[1])).toEqual(['token', 'straight_cruise', 'lead_brake_follow', 'average']);
    for (const row of rows.slice(1, 3)) {
      expect(row[2]).toBe('True');
      expectNavsimMetrics(row[1]!, Object.fromEntries(KEYS.map((k, i) => [k, Number(row[3 + i])])));
    }
    const mean = (expected.straight_cruise!.score! + expected.lead_brake_follow!.score!) / 2;
    expect(Math.abs(Number(rows[3]![9]) - mean)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(summary.pdms - mean)).toBeLessThanOrEqual(1e-9);
    expect(JSON.parse(fs.readFileSync(summary.summary, 'utf8')).pdms).toBe(summary.pdms);

    // --checkpoint instead of --trajectories: a tiny DiffusionPlanner on the scene tokens of imported scenes
    const ck = path.join(tmp, 'ckpt');
    fs.mkdirSync(ck, { recursive: true });
    const planner = DiffusionPlanner.create({ preset: 'tiny', condDim: 24 }, { seed: 3 });
    await savePlannerWeights(planner, path.join(ck, 'model.safetensors'));
    fs.writeFileSync(path.join(ck, 'model.json'), JSON.stringify(planner.config));
    fs.writeFileSync(path.join(ck, 'data.json'), JSON.stringify({ condLength: 8 }));
    planner.dispose();
    const before = tf.memory().numTensors;
    const runCk = async (name: string) => {
      const r = await run(['navsim', 'eval', '--cache', out, '--checkpoint', ck, '--out', path.join(tmp, 'eval', name), '--json', '--steps', '2']);
      expect(r.code).toBe(0);
      return { summary: JSON.parse(r.out[0]!), csv: fs.readFileSync(path.join(tmp, 'eval', name), 'utf8') };
    };
    const a = await runCk('ck-a.csv');
    const b = await runCk('ck-b.csv');
    expect(tf.memory().numTensors).toBe(before);
    expect(a.summary).toMatchObject({ n: 2, valid: 2 });
    expect(a.summary.pdms).toBeGreaterThanOrEqual(0);
    expect(a.summary.pdms).toBeLessThanOrEqual(1);
    expect(b.csv).toBe(a.csv);
    expect(a.csv.split('\n').slice(1, 3).map((l) => l.split(',')[1])).toEqual(['straight_cruise', 'lead_brake_follow']);
  }, 120_000);
});

describe('drivekit navsim score --trajectories', () => {
  it('reads a NAVSIM cache folder directly; a scene without a trajectory and a trajectory without a scene are reported by token (exit 1)', async () => {
    const root = smallCache('direct', ['straight_cruise', 'ped_crossing_hit']);
    const trajs = JSON.parse(fs.readFileSync(TRAJ, 'utf8'));
    const tfile = path.join(tmp, 'partial.json');
    fs.writeFileSync(tfile, JSON.stringify({ straight_cruise: trajs.straight_cruise, not_a_scene: trajs.straight_cruise }));
    const r = await run(['navsim', 'score', root, '--trajectories', tfile, '--json']);
    expect(r.code).toBe(1);
    const lines = r.out.map((l) => JSON.parse(l));
    expect(lines.map((l) => l.name)).toEqual(['straight_cruise', 'ped_crossing_hit', 'not_a_scene']);
    expectNavsimMetrics('straight_cruise', lines[0].metrics);
    expect(lines[1].error).toBe(`${tfile}: token ped_crossing_hit: no trajectory for this scene`);
    expect(lines[2].error).toBe(`${tfile}: token not_a_scene: a trajectory without a scene`);
  });

  it('a malformed trajectory file names the token', async () => {
    const tfile = path.join(tmp, 'bad-traj.json');
    fs.writeFileSync(tfile, JSON.stringify({ straight_cruise: [[0, 0, 0], [1, 'x', 0]] }));
    const r = await run(['navsim', 'score', path.join(tmp, 'all.arrow'), '--trajectories', tfile]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/bad-traj\.json: straight_cruise: expected at least 2 poses .* found "pose 1: \[1,\\"x\\",0\]"/);
  });

  it('writes floats as pandas does (Python repr)', () => {
    expect([1, 0, 0.5, 1e-5, 0.0001, 0.913096, 1.5e16, null, NaN].map(pyFloat)).toEqual(['1.0', '0.0', '0.5', '1e-05', '0.0001', '0.913096', '1.5e+16', '', '']);
  });
});
