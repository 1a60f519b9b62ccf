/**
 * NAVSIM PDM scoring speed: ONE run checks the targets of issues 3 and 14 and prints them with
 * pass/fail.
 *
 *  1. proposals / s on one thread, golden scenes, 2 and 64 proposals per scene (target >= 6,000;
 *     Python ~60): `scoreProposals` warm (scene prepared, EP normaliser row cached), as GRPO scores
 *     G samples of one scene; v1.1 and v2.2. Also "cold" 2-proposal scoring (parse + prepare).
 *  2. whole-scene scoring through the CLI, in-process, one thread: `drivekit navsim score --json
 *     --version v1.1` over the 39 v1.1 golden files repeated to a few hundred scenes in ONE call
 *     (read + JSON.parse + parse + PDM-Closed + the trajectory; target <= 1 ms / scene, Python
 *     ~100 ms); plus `--workers 2` (the CLI's process-wide pool, warm after the warm-up calls, as
 *     the single thread is; best whole call, as its ordered lines come in bursts), a fresh built
 *     CLI process per call (start-up and JIT warm-up
 *     included; needs `npm run build`), and the worker pool's scaling.
 *  3. scene input (issue 14), the 39 v1.1 golden scenes x `--input-repeat` (20) as JSON files and
 *     as one packed Arrow file (`drivekit navsim pack`), one thread, in-process:
 *     - input only: JSON = read + parse (`readSceneFile` + `parseScene`) per file; Arrow = read +
 *       decode the whole file (`readScenesArrow`), per scene. Target: Arrow >= 2x faster.
 *     - whole scene: input + PDM-Closed + scoring the scene's trajectory (`scoreSceneJson` /
 *       `scoreParsedScene`, what `drivekit navsim score` runs per scene), best window of one pass
 *       over the 39 scenes (Arrow: plus its share of the file read); target <= 1 ms / scene =
 *       100x NAVSIM's Python `pdm_score` (~100 ms / scene); also the whole CLI call on each input
 *       (call time / scenes).
 *
 * Shared, loaded machines: every case runs many short rounds and reports the best round (the
 * least-disturbed estimate of one free core), the median round and the process CPU-time rate;
 * the machine's load average and a fixed arithmetic loop (calibration, best and median) are
 * recorded. "pass" is judged on the best round; the median column shows what a loaded machine
 * gives. For the CLI call the per-scene output times are split into windows of one pass over
 * the 39 files: best window = amortised time of a pass that ran undisturbed.
 *
 *   npx tsx benchmarks/navsim-score.ts [--repeat 8] [--min-seconds 2] [--workers 1,2] [--cases warm,cold,cli,pool,input] [--input-repeat 20]
 * Writes bench-results/navsim-score.json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { main } from '../src/cli/main.js';
import { readScenesArrow, writeScenesArrow } from '../src/navsim/arrow-scenes.js';
import { ScenePool, closeSharedScenePools } from '../src/navsim/pool.js';
import { parseScene } from '../src/navsim/scene-json.js';
import { pdmClosedFor, readSceneFile, scoreParsedScene, scoreSceneJson } from '../src/navsim/score-scene.js';
import { prepareScene, scoreProposals } from '../src/navsim/scorer.js';
import { Rng } from '../src/core/rng.js';
import type { PDMScene, PDMVersion } from '../src/navsim/types.js';
import { calibrationMs, calibrationSink, machineLine, machineRecord, median } from './lib/calibration.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const repeat = Number(arg('repeat', '8'));
const minSeconds = Number(arg('min-seconds', '2'));
const cases = new Set(arg('cases', 'warm,cold,cli,pool,input').split(','));
const inputRepeat = Number(arg('input-repeat', '20'));
const workerCounts = arg('workers', '1,2').split(',').filter(Boolean).map(Number);
const V1 = process.env.DRIVEKIT_PDM_GOLDEN ?? path.resolve('test/golden/pdm_v1');
const V2 = process.env.DRIVEKIT_PDM_V2_GOLDEN ?? path.resolve('test/golden/pdm_v2');
const TARGET_PROPOSALS_PER_S = 6000;
const TARGET_MS_PER_SCENE = 1.0;
/** NAVSIM's Python `pdm_score` per v1.1 scene (PDM-Closed + scoring), ms: the 100x reference. */
const PYTHON_MS_PER_SCENE = 100;
const TARGET_ARROW_SPEEDUP = 2;

const files = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
const v1Files = files(V1);
const v2Files = files(V2);
const load = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
const v1Json = v1Files.map(load);
const v2Json = v2Files.map(load);

const calib: number[] = [];

interface Round {
  ms: number;
  cpuMs: number;
}
/** Warm-up, then rounds of `once` for at least `minSeconds` (>= 8 rounds), a calibration between rounds. */
function rounds(once: () => void): Round[] {
  once();
  once();
  const out: Round[] = [];
  const t0 = performance.now();
  while (out.length < 8 || performance.now() - t0 < minSeconds * 1000) {
    calib.push(calibrationMs());
    const c = process.cpuUsage();
    const t = performance.now();
    once();
    const ms = performance.now() - t;
    const cu = process.cpuUsage(c);
    out.push({ ms, cpuMs: (cu.user + cu.system) / 1000 });
  }
  return out;
}

interface Row {
  case: string;
  /** 'proposals/s' (higher is better) or 'ms/scene' (lower is better). */
  unit: 'proposals/s' | 'ms/scene';
  target: number | null;
  best: number;
  median: number;
  cpu: number;
  pass: boolean | null;
  scenesPerRound: number;
  rounds: number;
}
const rows: Row[] = [];

function rateRow(label: string, perRound: number, rs: Round[], target: number | null): void {
  const best = perRound / (Math.min(...rs.map((r) => r.ms)) / 1000);
  const med = perRound / (median(rs.map((r) => r.ms)) / 1000);
  const cpu = (perRound * rs.length) / (rs.reduce((a, r) => a + r.cpuMs, 0) / 1000);
  rows.push({ case: label, unit: 'proposals/s', target, best, median: med, cpu, pass: target === null ? null : best >= target, scenesPerRound: 0, rounds: rs.length });
}

/** K proposals per scene: the scene's trajectory plus seeded perturbations of it (ego frame, 8 x 0.5 s). */
function proposalsFor(scene: PDMScene, k: number, rng: Rng): Float64Array {
  const base = scene.trajectory!.poses;
  const n = base.length / 3;
  const out = new Float64Array(k * 8 * 3);
  for (let p = 0; p < k; p++) {
    const sx = p === 0 ? 1 : 1 + rng.normal(0, 0.15);
    const dy = p === 0 ? 0 : rng.normal(0, 0.5);
    for (let i = 0; i < 8; i++) {
      const j = Math.min(i, n - 1);
      out[p * 24 + 3 * i] = base[3 * j]! * sx;
      out[p * 24 + 3 * i + 1] = base[3 * j + 1]! + (dy * (i + 1)) / 8;
      out[p * 24 + 3 * i + 2] = base[3 * j + 2]!;
    }
  }
  return out;
}

function pdmStatesOf(s: PDMScene, version: PDMVersion): Float64Array {
  const r = pdmClosedFor(s, version);
  const out = new Float64Array((r.poses.length / 3) * 11);
  for (let t = 0; t < r.poses.length / 3; t++) out.set(r.poses.subarray(3 * t, 3 * t + 3), 11 * t);
  return out;
}

function benchWarm(json: any[], version: PDMVersion, k: number): void {
  const rng = new Rng(11);
  const scenes = json.map((j) => parseScene(j)).filter((s) => s.trajectory);
  const props = scenes.map((s) => proposalsFor(s, k, rng));
  const preps = scenes.map((s) => prepareScene(s, version));
  const pdm = scenes.map((s) => s.pdmClosedTrajectory ?? pdmStatesOf(s, version));
  const rs = rounds(() => scenes.forEach((_s, i) => scoreProposals(preps[i]!, props[i]!, { version, pdmClosedStates: pdm[i]! })));
  rateRow(`proposals/s, warm, ${k} per scene, ${version} golden (${scenes.length} scenes)`, scenes.length * k, rs, TARGET_PROPOSALS_PER_S);
}

function benchCold2(json: any[], version: PDMVersion): void {
  // fresh scene objects every call: parse + prepare + PDM-Closed row + 2 proposals (planner excluded)
  const rng = new Rng(12);
  const pinned = json.map((j) => {
    const s = parseScene(j);
    return { pdm: s.pdmClosedTrajectory ?? pdmStatesOf(s, version), props: s.trajectory ? proposalsFor(s, 2, rng) : null };
  });
  const n = pinned.filter((p) => p.props).length;
  const rs = rounds(() =>
    json.forEach((j, i) => {
      if (pinned[i]!.props) scoreProposals(parseScene(j), pinned[i]!.props!, { version, pdmClosedStates: pinned[i]!.pdm });
    }),
  );
  rateRow(`proposals/s, cold (parse + prepare), 2 per scene, ${version} golden`, 2 * n, rs, null);
}

/** The CLI over `list` in one call; per-scene times from the output lines. */
async function cliCall(list: string[], extra: string[] = []): Promise<{ ms: number; cpuMs: number; lineTimes: number[] }> {
  const lineTimes: number[] = [];
  const io = { out: () => void lineTimes.push(performance.now()), err: () => undefined };
  const c = process.cpuUsage();
  const t = performance.now();
  const code = await main(['navsim', 'score', '--json', '--version', 'v1.1', ...extra, ...list], io);
  const ms = performance.now() - t;
  const cu = process.cpuUsage(c);
  if (code !== 0 || lineTimes.length !== list.length) throw new Error(`CLI run failed: exit ${code}, ${lineTimes.length} lines for ${list.length} scenes`);
  return { ms, cpuMs: (cu.user + cu.system) / 1000, lineTimes: [t, ...lineTimes] };
}

async function benchCli(): Promise<void> {
  const list: string[] = [];
  for (let r = 0; r < repeat; r++) list.push(...v1Files);
  await cliCall(v1Files); // warm-up (JIT)
  await cliCall(v1Files);
  // one call over all scenes, repeated for at least minSeconds
  const calls: { ms: number; cpuMs: number; lineTimes: number[] }[] = [];
  const t0 = performance.now();
  while (calls.length < 2 || performance.now() - t0 < minSeconds * 1000) {
    calib.push(calibrationMs());
    calls.push(await cliCall(list));
  }
  const per = (ms: number) => ms / list.length;
  // windows of one pass over the 39 files inside the long calls
  const best = Math.min(...passWindows(calls, v1Files.length));
  rows.push({
    case: `CLI whole scene (read + parse + PDM-Closed + trajectory), v1.1 golden x${repeat} = ${list.length} scenes per call, 1 thread`,
    unit: 'ms/scene',
    target: TARGET_MS_PER_SCENE,
    best,
    median: median(calls.map((c) => per(c.ms))),
    cpu: median(calls.map((c) => per(c.cpuMs))),
    pass: best <= TARGET_MS_PER_SCENE,
    scenesPerRound: list.length,
    rounds: calls.length,
  });
  // the same call with --workers 2 (throughput with both cores): the CLI's process-wide pool
  // keeps its workers between calls, so after the warm-up calls they are warm as the single
  // thread is; best = the fastest whole call
  if (workerCounts.includes(2)) {
    await cliCall(v1Files, ['--workers', '2']);
    await cliCall(list, ['--workers', '2']);
    const wc: { ms: number; cpuMs: number; lineTimes: number[] }[] = [];
    const t1 = performance.now();
    while (wc.length < 2 || performance.now() - t1 < minSeconds * 1000) wc.push(await cliCall(list, ['--workers', '2']));
    // lines come out in input order, so with two threads they come in bursts (the lines a
    // descheduled thread held back): windows of lines are meaningless here, the best whole call is not
    const wb = Math.min(...wc.map((c) => per(c.ms)));
    rows.push({ case: `CLI whole scene, --workers 2 (warm pool), ${list.length} scenes per call (best call)`, unit: 'ms/scene', target: TARGET_MS_PER_SCENE, best: wb, median: median(wc.map((c) => per(c.ms))), cpu: median(wc.map((c) => per(c.cpuMs))), pass: wb <= TARGET_MS_PER_SCENE, scenesPerRound: list.length, rounds: wc.length });
  }
  // a fresh `drivekit navsim score` process (built CLI): start-up, module load and JIT warm-up included
  const bin = path.resolve('bin/drivekit.cjs');
  if (fs.existsSync(path.resolve('dist/cjs/cli/main.js'))) {
    for (const w of workerCounts.filter((x) => x === 1 || x === 2)) {
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        const r = spawnSync(process.execPath, [bin, 'navsim', 'score', '--json', '--version', 'v1.1', '--workers', String(w), ...list], { encoding: 'utf8', maxBuffer: 64 << 20 });
        times.push(performance.now() - t);
        const lines = r.stdout.split('\n').filter(Boolean).length;
        if (r.status !== 0 || lines !== list.length) throw new Error(`fresh CLI failed: exit ${r.status}, ${lines} lines for ${list.length} scenes: ${r.stderr}`);
      }
      rows.push({ case: `fresh CLI process (node bin/drivekit.cjs), --workers ${w}, ${list.length} scenes, wall incl. start-up`, unit: 'ms/scene', target: null, best: Math.min(...times) / list.length, median: median(times) / list.length, cpu: NaN, pass: null, scenesPerRound: list.length, rounds: times.length });
    }
  }
}

/** Per-scene times of windows of `n` consecutive output lines inside the calls. */
function passWindows(calls: { lineTimes: number[] }[], n: number): number[] {
  const windows: number[] = [];
  for (const c of calls) for (let w = 0; w + n < c.lineTimes.length; w += n) windows.push((c.lineTimes[w + n]! - c.lineTimes[w]!) / n);
  return windows;
}

async function benchPool(workers: number): Promise<void> {
  const scenes: unknown[] = [];
  for (let r = 0; r < repeat; r++) scenes.push(...v1Json);
  const pool = new ScenePool({ workers });
  try {
    await pool.scoreAll(v1Json.slice(0, Math.max(2, workers * 2)), { version: 'v1.1' }); // start + warm the workers
    await pool.scoreAll(v1Json, { version: 'v1.1' });
    const w: number[] = [];
    const t0 = performance.now();
    while (w.length < 2 || performance.now() - t0 < minSeconds * 1000) {
      const t = performance.now();
      const res = await pool.scoreAll(scenes, { version: 'v1.1' });
      w.push((performance.now() - t) / scenes.length);
      const failed = res.filter((r) => r.error !== undefined).length;
      if (failed) throw new Error(`${failed} pool results failed`);
    }
    rows.push({ case: `pool whole scene (plain data in), ${workers} worker(s)`, unit: 'ms/scene', target: null, best: Math.min(...w), median: median(w), cpu: NaN, pass: null, scenesPerRound: scenes.length, rounds: w.length });
  } finally {
    await pool.close();
  }
}

/** One input comparison row (issue 14). */
interface InputRow {
  what: string;
  json: { best: number; median: number };
  arrow: { best: number; median: number };
}
const inputRows: InputRow[] = [];

/** Best and median of per-scene times. */
const stats = (xs: number[]) => ({ best: Math.min(...xs), median: median(xs) });

async function benchInput(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-bench-input-'));
  try {
    const list: string[] = [];
    for (let r = 0; r < inputRepeat; r++) list.push(...v1Files);
    const arrowFile = path.join(tmp, 'scenes.arrow');
    writeScenesArrow(arrowFile, list.map((f) => parseScene(readSceneFile(f))));
    const n = list.length;
    const per = v1Files.length;

    // input only: rounds over all n scenes
    const jsonIn = rounds(() => list.forEach((f) => parseScene(readSceneFile(f))));
    const arrowIn = rounds(() => {
      if (readScenesArrow(arrowFile).length !== n) throw new Error('Arrow read: wrong scene count');
    });
    const inRow: InputRow = {
      what: `input only (read + parse / decode), ${n} scenes`,
      json: stats(jsonIn.map((r) => r.ms / n)),
      arrow: stats(arrowIn.map((r) => r.ms / n)),
    };
    inputRows.push(inRow);
    const speedup = inRow.json.best / inRow.arrow.best;
    rows.push({ case: `input only, JSON files: read + JSON.parse + parseScene, ${n} scenes`, unit: 'ms/scene', target: null, best: inRow.json.best, median: inRow.json.median, cpu: cpuPer(jsonIn, n), pass: null, scenesPerRound: n, rounds: jsonIn.length });
    rows.push({ case: `input only, one Arrow file: read + columnar decode, ${n} scenes (target: >= ${TARGET_ARROW_SPEEDUP}x JSON; ${speedup.toFixed(1)}x)`, unit: 'ms/scene', target: inRow.json.best / TARGET_ARROW_SPEEDUP, best: inRow.arrow.best, median: inRow.arrow.median, cpu: cpuPer(arrowIn, n), pass: speedup >= TARGET_ARROW_SPEEDUP, scenesPerRound: n, rounds: arrowIn.length });

    // whole scene: per-scene end times inside each pass; windows of one pass over the 39 scenes
    const whole = (once: () => number[]): { windows: number[]; calls: number[]; cpu: number[] } => {
      once();
      once();
      const windows: number[] = [];
      const calls: number[] = [];
      const cpu: number[] = [];
      const t0 = performance.now();
      while (calls.length < 3 || performance.now() - t0 < minSeconds * 1000) {
        calib.push(calibrationMs());
        const c = process.cpuUsage();
        const times = once();
        const cu = process.cpuUsage(c);
        calls.push((times[times.length - 1]! - times[0]!) / n);
        cpu.push((cu.user + cu.system) / 1000 / n);
        for (let w = 0; w + per < times.length; w += per) windows.push((times[w + per]! - times[w]!) / per);
      }
      return { windows, calls, cpu };
    };
    const jsonWhole = whole(() => {
      const times = [performance.now()];
      for (const f of list) {
        if (scoreSceneJson(readSceneFile(f), { version: 'v1.1' }).error !== undefined) throw new Error(`${f} failed`);
        times.push(performance.now());
      }
      return times;
    });
    let readShare = 0;
    const arrowWhole = whole(() => {
      const t = performance.now();
      const scenes = readScenesArrow(arrowFile);
      const times = [performance.now()];
      readShare = (times[0]! - t) / n;
      for (let i = 0; i < scenes.length; i++) {
        const s = scenes[i]!;
        scenes[i] = null!; // as the CLI does: a scored scene (and its cached context) can go
        if (scoreParsedScene(s, { version: 'v1.1' }).error !== undefined) throw new Error(`${s.name} failed`);
        times.push(performance.now());
      }
      times[0] = t; // the call (and its first window) starts with the file read
      return times;
    });
    // Arrow windows after the first leave the read out: add its share (read / n) back
    const arrowWindows = arrowWhole.windows.map((w, i) => (i % Math.floor(n / per) === 0 ? w : w + readShare));
    const row: InputRow = { what: 'whole scene (input + PDM-Closed + scoring), best window of 39', json: stats(jsonWhole.windows), arrow: stats(arrowWindows) };
    inputRows.push(row);
    inputRows.push({ what: `whole scene, whole pass over ${n} scenes`, json: stats(jsonWhole.calls), arrow: stats(arrowWhole.calls) });
    // process CPU time of a whole pass (this thread, V8's GC and compiler threads): what the pass
    // costs in CPU whatever share of the cores the other jobs left it
    inputRows.push({ what: `whole scene, whole pass, process CPU time`, json: stats(jsonWhole.cpu), arrow: stats(arrowWhole.cpu) });
    for (const [label, st] of [['JSON files', row.json], ['one Arrow file', row.arrow]] as const) {
      rows.push({ case: `whole scene from ${label} (input + PDM-Closed + scoring), 1 thread, ${n} scenes; ${(PYTHON_MS_PER_SCENE / st.best).toFixed(0)}x Python`, unit: 'ms/scene', target: TARGET_MS_PER_SCENE, best: st.best, median: st.median, cpu: NaN, pass: st.best <= TARGET_MS_PER_SCENE, scenesPerRound: n, rounds: label === 'JSON files' ? jsonWhole.calls.length : arrowWhole.calls.length });
    }
    // the CLI call on each input (in-process, one thread): call time / scenes
    const cliPer = async (args: string[]): Promise<number[]> => {
      const out: number[] = [];
      for (let k = 0; k < 5; k++) {
        let lines = 0;
        const t = performance.now();
        const code = await main(['navsim', 'score', '--json', '--version', 'v1.1', '--workers', '1', ...args], { out: () => void lines++, err: () => undefined });
        if (code !== 0 || lines !== n) throw new Error(`CLI failed: exit ${code}, ${lines} lines`);
        if (k >= 1) out.push((performance.now() - t) / n); // the first call warms up
      }
      return out;
    };
    inputRows.push({ what: `\`drivekit navsim score --workers 1\` call / scenes (${n})`, json: stats(await cliPer(list)), arrow: stats(await cliPer([arrowFile])) });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function cpuPer(rs: Round[], n: number): number {
  return rs.reduce((a, r) => a + r.cpuMs, 0) / rs.length / n;
}

const loadBefore = os.loadavg()[0]!;
for (let i = 0; i < 10; i++) calib.push(calibrationMs());
if (cases.has('warm')) {
  benchWarm(v1Json, 'v1.1', 2);
  benchWarm(v1Json, 'v1.1', 64);
  benchWarm(v2Json, 'v2.2', 2);
  benchWarm(v2Json, 'v2.2', 64);
}
if (cases.has('cold')) {
  benchCold2(v1Json, 'v1.1');
  benchCold2(v2Json, 'v2.2');
}
if (cases.has('cli')) await benchCli();
if (cases.has('pool')) for (const w of workerCounts) await benchPool(w);
if (cases.has('input')) await benchInput();
await closeSharedScenePools();
const loadAfter = os.loadavg()[0]!;

const fmt = (r: Row, v: number) => (Number.isNaN(v) ? '-' : r.unit === 'proposals/s' ? v.toFixed(0) : v.toFixed(3));
const header = ['case'.padEnd(100), 'unit'.padEnd(11), 'target'.padStart(8), 'best'.padStart(9), 'median'.padStart(9), 'cpu-time'.padStart(9), 'pass'];
console.log(header.join(' | '));
for (const r of rows) {
  const tgt = r.target === null ? '-' : (r.unit === 'proposals/s' ? '>= ' : '<= ') + String(Number(r.target.toPrecision(3)));
  console.log([r.case.padEnd(100), r.unit.padEnd(11), tgt.padStart(8), fmt(r, r.best).padStart(9), fmt(r, r.median).padStart(9), fmt(r, r.cpu).padStart(9), r.pass === null ? '-' : r.pass ? 'PASS' : 'FAIL'].join(' | '));
}
if (inputRows.length > 0) {
  // issue 14: JSON vs Arrow input, ms per scene, and the 100x-Python reference
  console.log('');
  console.log(['scene input (v1.1 golden, 1 thread)'.padEnd(62), 'JSON best', 'JSON med', 'Arrow best', 'Arrow med', 'JSON/Arrow', 'x Python (Arrow best)'].join(' | '));
  for (const r of inputRows) {
    const ratio = r.json.best / r.arrow.best;
    const whole = r.what.startsWith('whole') || r.what.includes('navsim score');
    console.log([r.what.padEnd(62), r.json.best.toFixed(3).padStart(9), r.json.median.toFixed(3).padStart(8), r.arrow.best.toFixed(3).padStart(10), r.arrow.median.toFixed(3).padStart(9), `${ratio.toFixed(2)}x`.padStart(10), whole ? `${(PYTHON_MS_PER_SCENE / r.arrow.best).toFixed(0)}x` : '-'].join(' | '));
  }
  const inp = inputRows[0]!;
  const wh = inputRows[1]!;
  console.log(
    `targets: Arrow input >= ${TARGET_ARROW_SPEEDUP}x faster than JSON input: ${inp.json.best / inp.arrow.best >= TARGET_ARROW_SPEEDUP ? 'PASS' : 'FAIL'} (${(inp.json.best / inp.arrow.best).toFixed(1)}x); ` +
      `whole scene <= ${TARGET_MS_PER_SCENE} ms (>= 100x Python's ~${PYTHON_MS_PER_SCENE} ms): Arrow ${wh.arrow.best <= TARGET_MS_PER_SCENE ? 'PASS' : 'FAIL'} (${wh.arrow.best.toFixed(3)} ms, ${(PYTHON_MS_PER_SCENE / wh.arrow.best).toFixed(0)}x), ` +
      `JSON ${wh.json.best <= TARGET_MS_PER_SCENE ? 'PASS' : 'FAIL'} (${wh.json.best.toFixed(3)} ms, ${(PYTHON_MS_PER_SCENE / wh.json.best).toFixed(0)}x)`,
  );
}
const env = machineRecord(loadBefore, loadAfter, calib);
console.log(machineLine(env, 'pass = best round meets the target.'));
if (calibrationSink() === 42) console.log('');
fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync('bench-results/navsim-score.json', JSON.stringify({ benchmark: 'navsim-score', date: new Date().toISOString(), env, repeat, targets: { proposalsPerS: TARGET_PROPOSALS_PER_S, msPerScene: TARGET_MS_PER_SCENE, arrowInputSpeedup: TARGET_ARROW_SPEEDUP, pythonMsPerScene: PYTHON_MS_PER_SCENE }, rows, input: inputRows }, null, 2) + '\n');
