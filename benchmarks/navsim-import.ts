/**
 * Reading NAVSIM's own v1.1 metric caches (issue 17), on the 39 vendored samples:
 *
 *  1. cold start: the first file (xz-decompress instantiates its WebAssembly module once);
 *  2. per scene, warm, one at a time: read (fs), xz, restricted unpickle, conversion to a
 *     PDMScene, and the whole import; scenes / s; the raw file read alone as the I/O floor;
 *  3. scenes / s with 4 files in flight (the CLI's default --workers);
 *  4. import + score (the sample trajectory, v1.1, PDM-Closed pinned from the cache) per scene.
 * Each measurement runs `--rounds` times over all files; the median round is reported, wall time
 * and (for the whole import) the process CPU time, which a loaded machine inflates less.
 * NAVSIM's Python `MetricCacheLoader` + `pdm_score` are not run here (no NAVSIM install): the
 * issue quotes tens of milliseconds per file for its loader.
 *
 *   npx tsx benchmarks/navsim-import.ts [--rounds 5] [--cache DIR] [--trajectories FILE]
 * Writes bench-results/navsim-import.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { listNavsimCache, readNavsimCacheFile } from '../src/navsim/nuplan-cache/index.js';
import { scoreScene } from '../src/navsim/score-scene.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const ROUNDS = Number(arg('rounds', '5'));
const CACHE = arg('cache', path.join('test', 'golden', 'navsim_metric_cache_v1', 'metric_cache'));
const TRAJ = arg('trajectories', path.join('test', 'golden', 'navsim_metric_cache_v1', 'trajectories.json'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const listing = listNavsimCache(CACHE);
const refs = listing.files;
const n = refs.length;
const trajectories = fs.existsSync(TRAJ) ? (JSON.parse(fs.readFileSync(TRAJ, 'utf8')) as Record<string, number[][]>) : {};
const bytesTotal = refs.reduce((s, r) => s + fs.statSync(r.file).size, 0);

// 1. cold start
let t = performance.now();
await readNavsimCacheFile(refs[0]!);
const coldMs = performance.now() - t;

// 2. sequential, per stage
const stage = { read: [] as number[], xz: [] as number[], unpickle: [] as number[], convert: [] as number[], total: [] as number[], readOnly: [] as number[], cpu: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  const sums = { read: 0, xz: 0, unpickle: 0, convert: 0 };
  const cpu0 = process.cpuUsage();
  t = performance.now();
  for (const ref of refs) {
    const imp = await readNavsimCacheFile(ref);
    for (const k of ['read', 'xz', 'unpickle', 'convert'] as const) sums[k] += imp.seconds[k];
  }
  stage.total.push((performance.now() - t) / n);
  const cpu = process.cpuUsage(cpu0);
  stage.cpu.push((cpu.user + cpu.system) / 1000 / n);
  for (const k of ['read', 'xz', 'unpickle', 'convert'] as const) stage[k].push((1000 * sums[k]) / n);
  t = performance.now();
  for (const ref of refs) await fs.promises.readFile(ref.file);
  stage.readOnly.push((performance.now() - t) / n);
}

// 3. four in flight
const concurrent: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = next++; i < n; i = next++) await readNavsimCacheFile(refs[i]!);
  }));
  concurrent.push(n / ((performance.now() - t) / 1000));
}

// 4. import + score
const importScore: number[] = [];
const scoreOnly: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  let scoreMs = 0;
  t = performance.now();
  for (const ref of refs) {
    const { scene } = await readNavsimCacheFile(ref);
    const plan = trajectories[ref.token];
    if (!plan) continue;
    const s0 = performance.now();
    scoreScene(scene, [{ poses: Float64Array.from(plan.flat()), frame: 'ego', intervalS: 0.5 }], { version: 'v1.1' });
    scoreMs += performance.now() - s0;
  }
  importScore.push((performance.now() - t) / n);
  scoreOnly.push(scoreMs / n);
}

const result = {
  benchmark: 'navsim-import',
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadavg: os.loadavg(),
  files: n,
  rounds: ROUNDS,
  bytesPerFile: bytesTotal / n,
  coldFirstFileMs: coldMs,
  perSceneMs: {
    read: median(stage.read), xz: median(stage.xz), unpickle: median(stage.unpickle), convert: median(stage.convert),
    importTotal: median(stage.total), importCpu: median(stage.cpu), readFileOnly: median(stage.readOnly),
  },
  scenesPerS: { sequential: 1000 / median(stage.total), fourInFlight: median(concurrent) },
  importAndScoreMsPerScene: median(importScore),
  scoreMsPerScene: median(scoreOnly),
};
fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync(path.join('bench-results', 'navsim-import.json'), JSON.stringify(result, null, 1) + '\n');

const f = (v: number, d = 2) => v.toFixed(d);
console.log(`NAVSIM v1.1 metric cache import, ${n} files (${f(bytesTotal / n / 1024, 1)} KiB each, xz), ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}, median of ${ROUNDS} rounds`);
console.log('');
console.log('| step | per scene |');
console.log('|---|---|');
console.log(`| first file (cold: WebAssembly instantiation) | ${f(coldMs, 1)} ms |`);
console.log(`| read the file (fs) | ${f(result.perSceneMs.read)} ms |`);
console.log(`| xz decompression | ${f(result.perSceneMs.xz)} ms |`);
console.log(`| restricted unpickle | ${f(result.perSceneMs.unpickle)} ms |`);
console.log(`| to PDMScene (box poses from polygons, map, PDM-Closed) | ${f(result.perSceneMs.convert)} ms |`);
console.log(`| whole import | ${f(result.perSceneMs.importTotal)} ms (${f(result.scenesPerS.sequential, 0)} scenes/s) |`);
console.log(`| whole import, CPU time (user + sys; robust to a loaded machine) | ${f(result.perSceneMs.importCpu)} ms (${f(1000 / result.perSceneMs.importCpu, 0)} scenes/s per core) |`);
console.log(`| 4 files in flight | ${f(1000 / result.scenesPerS.fourInFlight)} ms (${f(result.scenesPerS.fourInFlight, 0)} scenes/s) |`);
console.log(`| read only (I/O floor) | ${f(result.perSceneMs.readFileOnly, 3)} ms |`);
console.log(`| import + score (v1.1, PDM-Closed pinned) | ${f(result.importAndScoreMsPerScene)} ms (score alone ${f(result.scoreMsPerScene)} ms) |`);
