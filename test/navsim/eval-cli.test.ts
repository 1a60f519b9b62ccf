import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DiffusionPlanner } from '../../src/models/planner.js';
import { savePlannerWeights } from '../../src/models/weights.js';
import { openMetricCache, writeMetricCache } from '../../src/navsim/metric-cache.js';
import { NAVSIM_SPLITS, parseSeedRange, splitOfSeed } from '../../src/navsim/splits.js';
import { ConfigError } from '../../src/core/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-navsim-eval-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cacheDir = path.join(tmp, 'cache');
const SEEDS = '20000:20004';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

beforeAll(async () => {
  const r = await run(['navsim', 'cache', '--seeds', SEEDS, '--out', cacheDir, '--shard-size', '3', '--quiet']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out[0]!)).toMatchObject({ scenes: 4, shards: 2, versions: ['v1.1', 'v2.2'] });
}, 120_000);

describe('navsim splits', () => {
  it('are disjoint seed ranges; A:B is half-open', () => {
    const rs = Object.values(NAVSIM_SPLITS);
    for (const a of rs) for (const b of rs) if (a !== b) expect(a.end <= b.start || b.end <= a.start).toBe(true);
    expect(parseSeedRange('5:9')).toEqual({ start: 5, end: 9 });
    expect(parseSeedRange('test:10')).toEqual({ start: 20000, end: 20010 });
    expect(splitOfSeed(10500)).toBe('val');
    expect(splitOfSeed(15000)).toBe(null);
    expect(() => parseSeedRange('9:5')).toThrow(ConfigError);
  });
});

describe('drivekit navsim cache', () => {
  it('verify passes on the built cache and fails naming the scene and field after a change', async () => {
    const ok = await run(['navsim', 'cache', 'verify', cacheDir, '--sample', '0.5', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out[0]!)).toMatchObject({ ok: true });
    const cache = openMetricCache(cacheDir);
    const entries = [0, 1, 2, 3].map((i) => ({ ...cache.scene(i), humanMetrics: { ...cache.scene(i).humanMetrics } }));
    const h = Float64Array.from(entries[2]!.humanMetrics['v2.2']!);
    h[6] = 0.5; // lane_keeping
    entries[2]!.humanMetrics['v2.2'] = h;
    const bad = path.join(tmp, 'bad-cache');
    writeMetricCache(bad, entries, { shardSize: 3 });
    const r = await run(['navsim', 'cache', 'verify', bad, '--scenes', entries[2]!.name, '--json']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out[0]!);
    expect(rep.mismatches).toEqual([{ scene: entries[2]!.name, field: 'human_metrics_v2_2.lane_keeping', expected: 1, found: 0.5 }]);
  }, 120_000);

  it('refuses to overwrite an existing cache (exit 1, manifest kept) and checks its flags', async () => {
    const r = await run(['navsim', 'cache', '--seeds', '20000:20001', '--out', cacheDir, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('--force');
    expect(openMetricCache(cacheDir).numScenes).toBe(4);
    expect((await run(['navsim', 'cache', '--seeds', '3:1', '--out', path.join(tmp, 'x')])).code).toBe(2);
    expect((await run(['navsim', 'cache', '--out', path.join(tmp, 'x')])).code).toBe(2);
  });
});

describe('drivekit navsim eval', () => {
  const evalJson = async (args: string[]) => {
    const r = await run(['navsim', 'eval', ...args, '--json', '--quiet']);
    expect(r.code, r.err.join('\n')).toBe(0);
    return JSON.parse(r.out[0]!);
  };

  it('baselines: one JSON object with n, pdms, epdms, every sub-metric (ec included) and the reversing fraction', async () => {
    const cv = await evalJson(['--baseline', 'cv', '--seeds', SEEDS, '--cache', cacheDir]);
    const human = await evalJson(['--baseline', 'human', '--seeds', SEEDS, '--cache', cacheDir]);
    const pdm = await evalJson(['--baseline', 'pdm-closed', '--seeds', SEEDS, '--cache', cacheDir]);
    for (const r of [cv, human, pdm]) {
      expect(r.n).toBe(4);
      expect(r.pdms).toBeGreaterThanOrEqual(0);
      expect(r.pdms).toBeLessThanOrEqual(1);
      expect(Object.keys(r.metrics['v1.1'])).toEqual(['nc', 'dac', 'ddc', 'ep', 'ttc', 'c']);
      expect(Object.keys(r.metrics['v2.2'])).toEqual(['nc', 'dac', 'ddc', 'tlc', 'ep', 'ttc', 'lk', 'hc', 'ec']);
      expect(r.reversing_fraction).toBe(0);
    }
    // generated scenes carry the previous frame (0.5 s earlier): EC is defined everywhere, each
    // agent's plan compared with its own plan there
    for (const r of [cv, human, pdm]) {
      expect(r.ec_defined).toBe(4);
      expect(r.metrics['v2.2'].ec).toBeGreaterThanOrEqual(0);
      expect(r.metrics['v2.2'].ec).toBeLessThanOrEqual(1);
    }
    // the human future is clean; constant velocity is not
    expect(human.metrics['v1.1'].nc).toBe(1);
    expect(human.metrics['v1.1'].dac).toBe(1);
    expect(cv.pdms).toBeLessThan(human.pdms);
    expect(pdm.pdms).toBeGreaterThan(0.95);
  }, 120_000);

  it('--baseline mlp: the ego-status MLP trained on --mlp-seeds, written to --mlp and read back with the same numbers', async () => {
    const file = path.join(tmp, 'mlp.json');
    const a = await evalJson(['--baseline', 'mlp', '--mlp', file, '--mlp-seeds', 'train:24', '--seeds', SEEDS, '--cache', cacheDir]);
    expect(fs.existsSync(file)).toBe(true);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).trainSeeds).toEqual([0, 24]);
    const b = await evalJson(['--baseline', 'mlp', '--mlp', file, '--seeds', SEEDS, '--cache', cacheDir]);
    expect(a.agent).toBe('mlp');
    expect(b.pdms).toBe(a.pdms);
    expect(b.metrics).toEqual(a.metrics);
    expect(a.ec_defined).toBe(4);
    expect(a.pdms).toBeGreaterThan(0);
    const bad = await run(['navsim', 'eval', '--baseline', 'cv', '--mlp', file, '--seeds', SEEDS, '--json', '--quiet']);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('gives the same numbers with and without a cache, and with 2 scoring workers', async () => {
    const a = await evalJson(['--baseline', 'cv', '--seeds', SEEDS, '--version', 'v1.1']);
    const b = await evalJson(['--baseline', 'cv', '--seeds', SEEDS, '--version', 'v1.1', '--cache', cacheDir, '--workers', '2']);
    expect(a.epdms).toBe(null);
    expect(b.pdms).toBe(a.pdms);
    expect(b.metrics).toEqual(a.metrics);
  }, 120_000);

  it('--out FILE.csv: one CSV row per scene (NAVSIM per-token table) whose means are the JSON means, then an average row', async () => {
    const file = path.join(tmp, 'cv-scores.csv');
    const r = await evalJson(['--baseline', 'cv', '--seeds', SEEDS, '--cache', cacheDir, '--out', file]);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    const head = lines[0]!.split(',');
    expect(head.slice(0, 4)).toEqual(['token', 'seed', 'reversing', 'v1.1.pdms']);
    expect(head).toContain('v1.1.ego_progress');
    expect(head).toContain('v2.2.epdms');
    expect(head).toContain('v2.2.two_frame_extended_comfort');
    expect(lines).toHaveLength(1 + 4 + 1);
    const rows = lines.slice(1, 5).map((l) => l.split(','));
    expect(rows.map((x) => x[1])).toEqual(['20000', '20001', '20002', '20003']);
    const col = (name: string) => rows.map((x) => Number(x[head.indexOf(name)]));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(avg(col('v1.1.pdms'))).toBeCloseTo(r.pdms, 12);
    expect(avg(col('v2.2.epdms'))).toBeCloseTo(r.epdms, 12);
    expect(avg(col('v1.1.ego_progress'))).toBeCloseTo(r.metrics['v1.1'].ep, 12);
    expect(avg(col('v2.2.two_frame_extended_comfort'))).toBeCloseTo(r.metrics['v2.2'].ec, 12);
    const last = lines[5]!.split(',');
    expect(last[0]).toBe('average');
    expect(Number(last[head.indexOf('v1.1.pdms')])).toBeCloseTo(r.pdms, 12);
    // a plan that reverses at its last waypoint is marked in its row
    const { formatScoresCsv } = await import('../../src/cli/navsim-eval.js');
    const csv = formatScoresCsv({
      reversing: 1, plans: 2, names: ['a', 'b'], seeds: [1, null],
      versions: [{ version: 'v2.2', score: [0.5, 1], metrics: { two_frame_extended_comfort: [NaN, 1] }, reversing: [0, 1] }],
    });
    expect(csv).toBe('token,seed,reversing,v2.2.epdms,v2.2.two_frame_extended_comfort\na,1,0,0.5,\nb,,1,1,1\naverage,,0.5,0.75,1\n');
  }, 120_000);

  it('a seed missing from the cache is an input error naming it (exit 1); bad flags exit 2', async () => {
    const r = await run(['navsim', 'eval', '--baseline', 'cv', '--seeds', '20000:20006', '--cache', cacheDir, '--json']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('seed 20004');
    expect((await run(['navsim', 'eval', '--baseline', 'zigzag', '--seeds', SEEDS])).code).toBe(2);
    expect((await run(['navsim', 'eval', '--seeds', SEEDS])).code).toBe(2);
    expect((await run(['navsim', 'eval', '--baseline', 'cv', '--seeds', SEEDS, '--workers', '2'])).code).toBe(2);
  });

  it('--checkpoint: a tiny DiffusionPlanner on scene tokens, stochastic (default) or deterministic DDIM, leak-free', async () => {
    const dir = path.join(tmp, 'ckpt', 'last');
    fs.mkdirSync(dir, { recursive: true });
    const planner = DiffusionPlanner.create({ preset: 'tiny', condDim: 24 }, { seed: 3 });
    await savePlannerWeights(planner, path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(planner.config));
    fs.writeFileSync(path.join(dir, 'data.json'), JSON.stringify({ condLength: 8 }));
    planner.dispose();
    const before = tf.memory().numTensors;
    const a = await evalJson(['--checkpoint', path.join(tmp, 'ckpt'), '--seeds', '20000:20002', '--cache', cacheDir]);
    const b = await evalJson(['--checkpoint', dir, '--seeds', '20000:20002', '--cache', cacheDir]);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.n).toBe(2);
    expect(a.pdms).toBeGreaterThanOrEqual(0);
    expect(a.pdms).toBeLessThanOrEqual(1);
    expect(b.pdms).toBe(a.pdms);
    expect(b.metrics).toEqual(a.metrics);
    const c = await evalJson(['--checkpoint', dir, '--seeds', '20000:20002', '--cache', cacheDir, '--seed', '5']);
    expect(c.metrics).not.toEqual(a.metrics);
    // the default is ReCogDrive's stochastic get_action sampler; --sampler deterministic is plain DDIM
    const d1 = await evalJson(['--checkpoint', dir, '--seeds', '20000:20002', '--cache', cacheDir, '--sampler', 'deterministic']);
    const d2 = await evalJson(['--checkpoint', dir, '--seeds', '20000:20002', '--cache', cacheDir, '--sampler', 'deterministic']);
    const s = await evalJson(['--checkpoint', dir, '--seeds', '20000:20002', '--cache', cacheDir, '--sampler', 'stochastic']);
    expect(d2.metrics).toEqual(d1.metrics);
    expect(s.metrics).toEqual(a.metrics);
    expect(d1.metrics).not.toEqual(a.metrics);
    expect(tf.memory().numTensors).toBe(before);
    expect((await run(['navsim', 'eval', '--checkpoint', dir, '--seeds', '20000:20002', '--sampler', 'greedy'])).code).toBe(2);
    expect((await run(['navsim', 'eval', '--baseline', 'cv', '--seeds', '20000:20002', '--sampler', 'deterministic'])).code).toBe(2);
  }, 180_000);

  it('stats: commands, lead braking, junction share and human PDMS of a split', async () => {
    const r = await run(['navsim', 'stats', '--seeds', SEEDS, '--cache', cacheDir, '--json', '--quiet']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out[0]!);
    expect(s.n).toBe(4);
    const shares = Object.values(s.commands as Record<string, number>);
    expect(shares.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    for (const k of ['lead', 'leadBraking', 'junction']) expect(s[k]).toBeGreaterThanOrEqual(0);
    expect(s.humanPdms).toBeGreaterThan(0.8);
    expect(s.humanPdms).toBeLessThanOrEqual(1);
  }, 120_000);
});
