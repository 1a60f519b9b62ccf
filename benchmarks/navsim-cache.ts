/**
 * Metric cache and proposal-scoring pool throughput (issue 11):
 *
 *  1. cache build, scenes / s: `buildMetricCache` over generated seeds (scene generation, PDM-Closed
 *     for v1.1 and v2.2, the probe, Arrow shards, sha256), one thread, and `buildSeedMetricCache`
 *     with 2 workers; also the split without generation (PDM-Closed + probe + write) and the
 *     cache's size per scene.
 *  2. opening: `openMetricCache` (manifest + sha256 of every shard) and the first decode + prepare
 *     of a scene (what a worker pays once per scene).
 *  3. pool proposals / s at G = 8 (GRPO's group), warm scenes, v1.1 and v2.2: 0 workers (this
 *     thread), 1 and 2 worker threads, batches of `--batch` scenes (`scoreBatch`, as a trainer
 *     calls it). Each case runs several rounds; best and median are reported.
 *
 *   npx tsx benchmarks/navsim-cache.ts [--scenes 24] [--batch 8] [--rounds 5]
 * Writes bench-results/navsim-cache.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { Rng } from '../src/core/rng.js';
import { buildMetricCache, cacheEntry, openMetricCache, seedScenes, writeMetricCache } from '../src/navsim/metric-cache.js';
import { ProposalScorePool, buildSeedMetricCache } from '../src/navsim/score-pool.js';
import type { PDMVersion } from '../src/navsim/types.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const N = Number(arg('scenes', '24'));
const BATCH = Number(arg('batch', '8'));
const ROUNDS = Number(arg('rounds', '5'));
const G = 8;
const SEED0 = 20_000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-bench-cache-'));
const dir = path.join(tmp, 'cache');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// 1. build
let t = performance.now();
buildMetricCache(dir, seedScenes(SEED0, SEED0 + N), { shardSize: 64 });
const buildS = (performance.now() - t) / 1000;
const sources = [...seedScenes(SEED0, SEED0 + N)];
t = performance.now();
const entries = sources.map((s, i) => cacheEntry(s, ['v1.1', 'v2.2'], i));
const pdmS = (performance.now() - t) / 1000;
t = performance.now();
writeMetricCache(path.join(tmp, 'rewrite'), entries, { shardSize: 64 });
const writeS = (performance.now() - t) / 1000;
const bytes = fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
t = performance.now();
await buildSeedMetricCache(path.join(tmp, 'parallel'), { start: SEED0, end: SEED0 + N }, { shardSize: Math.ceil(N / 4), workers: 2 });
const build2S = (performance.now() - t) / 1000;

// 2. open + first decode/prepare
t = performance.now();
const cache = openMetricCache(dir);
const openMs = performance.now() - t;
t = performance.now();
for (let i = 0; i < N; i++) cache.scene(i);
const decodeMs = (performance.now() - t) / N;

// 3. pool
const rng = new Rng(7);
/** G proposals per scene: the human-like constant-velocity fan with noise (ego frame). */
function group(i: number): Float64Array {
  const v = Math.max(2, Math.hypot(cache.scene(i).scene.ego.vx, cache.scene(i).scene.ego.vy));
  const out = new Float64Array(G * 24);
  for (let g = 0; g < G; g++) {
    const speed = v * rng.uniform(0.5, 1.2);
    const curv = rng.uniform(-0.02, 0.02);
    for (let k = 0; k < 8; k++) {
      const s = speed * 0.5 * (k + 1);
      out[g * 24 + 3 * k] = Math.sin(curv * s) / curv;
      out[g * 24 + 3 * k + 1] = (1 - Math.cos(curv * s)) / curv;
      out[g * 24 + 3 * k + 2] = curv * s;
    }
  }
  return out;
}
const groups = Array.from({ length: N }, (_, i) => group(i));

interface PoolCase { workers: number; version: PDMVersion; best: number; median: number }
const poolCases: PoolCase[] = [];
for (const workers of [0, 1, 2]) {
  const pool = ProposalScorePool.open(dir, { workers });
  for (const version of ['v1.1', 'v2.2'] as const) {
    await pool.warm(undefined, { version });
    await pool.scoreBatch(groups.map((p, i) => ({ scene: i, poses: p, count: G })), { version }); // warm-up (JIT, prepared rows)
    const rates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (let start = 0; start < N; start += BATCH) {
        const items = [];
        for (let i = start; i < Math.min(N, start + BATCH); i++) items.push({ scene: i, poses: groups[i]!, count: G });
        await pool.scoreBatch(items, { version });
      }
      rates.push((N * G) / ((performance.now() - t0) / 1000));
    }
    poolCases.push({ workers, version, best: Math.max(...rates), median: median(rates) });
  }
  await pool.close();
}
fs.rmSync(tmp, { recursive: true, force: true });

const result = {
  benchmark: 'navsim-cache',
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadavg: os.loadavg(),
  scenes: N,
  build: {
    scenesPerS: N / buildS,
    scenesPerS2Workers: N / build2S,
    pdmClosedAndProbeMsPerScene: (1000 * pdmS) / N,
    writeMsPerScene: (1000 * writeS) / N,
    bytesPerScene: bytes / N,
  },
  open: { openMs, firstDecodeAndPrepareMsPerScene: decodeMs },
  pool: { G, batch: BATCH, rounds: ROUNDS, proposalsPerS: poolCases },
};

console.log(`NAVSIM metric cache, ${N} generated scenes (seeds ${SEED0}..${SEED0 + N - 1}), ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`);
console.log('');
console.log('| step | value |');
console.log('|---|---|');
console.log(`| cache build (generate + PDM-Closed x2 + probe + write) | ${result.build.scenesPerS.toFixed(2)} scenes/s |`);
console.log(`| cache build, 2 workers (4 shards) | ${result.build.scenesPerS2Workers.toFixed(2)} scenes/s |`);
console.log(`| PDM-Closed v1.1 + v2.2 + probe, per scene | ${result.build.pdmClosedAndProbeMsPerScene.toFixed(1)} ms |`);
console.log(`| shard write (Arrow + sha256), per scene | ${result.build.writeMsPerScene.toFixed(2)} ms |`);
console.log(`| cache size per scene | ${(result.build.bytesPerScene / 1024).toFixed(0)} KiB |`);
console.log(`| open (manifest + sha256 of all shards) | ${openMs.toFixed(1)} ms |`);
console.log(`| first decode + prepare, per scene | ${decodeMs.toFixed(2)} ms |`);
console.log('');
console.log(`| pool, G = ${G}, batches of ${BATCH} scenes | version | proposals/s best | median |`);
console.log('|---|---|---|---|');
for (const c of poolCases) console.log(`| ${c.workers === 0 ? 'this thread (0 workers)' : `${c.workers} worker${c.workers > 1 ? 's' : ''}`} | ${c.version} | ${c.best.toFixed(0)} | ${c.median.toFixed(0)} |`);

fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync('bench-results/navsim-cache.json', JSON.stringify(result, null, 2) + '\n');
