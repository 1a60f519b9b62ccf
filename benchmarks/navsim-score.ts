/**
 * NAVSIM PDM scoring speed.
 *
 *  1. proposals / s on one thread on the golden scenes, 2 and 64 proposals per scene:
 *     - "warm": the scene is prepared and its EP normaliser (PDM-Closed) is cached, as in GRPO where
 *       G samples of one scene are scored together;
 *     - "cold 2": a fresh parse + prepare of every scene for each call (NAVSIM evaluation; the Python
 *       reference needs ~32 ms per scene of 2 proposals, ~60 proposals / s).
 *  2. whole-scene scoring through the CLI (`drivekit navsim score`, in-process, one call): PDM-Closed
 *     + the scene trajectory for the v1.1 golden scenes repeated to a few hundred scenes (reference:
 *     ~100 ms per scene).
 *  3. the worker pool's scaling on the same scenes.
 *
 *   npx tsx benchmarks/navsim-score.ts [--repeat 8] [--min-seconds 3] [--workers 1,2]
 * (--repeat: copies of the 39 v1.1 scenes in the CLI / pool runs; --min-seconds: per timed loop)
 * Prints a table and writes bench-results/navsim-score.json. The machine's load average and a
 * fixed arithmetic loop (calibration) are recorded: shared machines can be many times slower.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { main } from '../src/cli/main.js';
import { ScenePool } from '../src/navsim/pool.js';
import { parseScene } from '../src/navsim/scene-json.js';
import { pdmClosedFor, scoreScene } from '../src/navsim/score-scene.js';
import { prepareScene, scoreProposals } from '../src/navsim/scorer.js';
import { Rng } from '../src/core/rng.js';
import type { PdmScene, PdmVersion } from '../src/navsim/types.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const repeat = Number(arg('repeat', '8'));
const minSeconds = Number(arg('min-seconds', '3'));

/** Runs `once` twice (JIT warm-up), then repeatedly for at least `minSeconds`; returns [reps, ms]. */
function timeLoop(once: () => void): [number, number] {
  once();
  once();
  let reps = 0;
  const t = performance.now();
  while (performance.now() - t < minSeconds * 1000) {
    once();
    reps++;
  }
  return [reps, performance.now() - t];
}
const workerCounts = arg('workers', '1,2').split(',').map(Number);
const V1 = process.env.DRIVEKIT_PDM_GOLDEN ?? path.resolve('../shared/golden/pdm_v1');
const V2 = process.env.DRIVEKIT_PDM_V2_GOLDEN ?? path.resolve('../shared/golden/pdm_v2');

function calibrationMs(): number {
  const t = performance.now();
  let s = 0;
  for (let i = 0; i < 2e7; i++) s += i * 0.5;
  if (s < 0) console.log(s);
  return performance.now() - t;
}

const files = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
const v1Files = files(V1);
const v2Files = files(V2);
const load = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
const v1Json = v1Files.map(load);
const v2Json = v2Files.map(load);

/** K proposals per scene: the scene's trajectory plus seeded perturbations of it (ego frame, 8 x 0.5 s). */
function proposalsFor(scene: PdmScene, k: number, rng: Rng): Float64Array {
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

interface Row {
  case: string;
  scenes: number;
  proposals: number;
  ms: number;
  msPerScene: number;
  proposalsPerS: number;
}
const rows: Row[] = [];

function benchWarm(label: string, json: any[], version: PdmVersion, k: number): void {
  const rng = new Rng(11);
  const scenes = json.map((j) => parseScene(j)).filter((s) => s.trajectory);
  const props = scenes.map((s) => proposalsFor(s, k, rng));
  const preps = scenes.map((s) => prepareScene(s, version));
  const pdm = scenes.map((s) => (s.pdmClosedTrajectory ? s.pdmClosedTrajectory : pdmStatesOf(s, version)));
  const once = () => scenes.forEach((_s, i) => scoreProposals(preps[i]!, props[i]!, { version, pdmClosedStates: pdm[i]! }));
  const [reps, ms] = timeLoop(once);
  const n = reps * scenes.length;
  rows.push({ case: label, scenes: n, proposals: n * k, ms, msPerScene: ms / n, proposalsPerS: (n * k) / (ms / 1000) });
}

function pdmStatesOf(s: PdmScene, version: PdmVersion): Float64Array {
  const r = pdmClosedFor(s, version);
  const out = new Float64Array((r.poses.length / 3) * 11);
  for (let t = 0; t < r.poses.length / 3; t++) out.set(r.poses.subarray(3 * t, 3 * t + 3), 11 * t);
  return out;
}

function benchCold2(label: string, json: any[], version: PdmVersion): void {
  // fresh scene objects every call: parse + prepare + PDM-Closed row + 2 proposals, planner excluded
  const rng = new Rng(12);
  const pinned = json.map((j) => {
    const s = parseScene(j);
    return { pdm: s.pdmClosedTrajectory ?? pdmStatesOf(s, version), props: s.trajectory ? proposalsFor(s, 2, rng) : null };
  });
  const once = () =>
    json.forEach((j, i) => {
      if (!pinned[i]!.props) return;
      scoreProposals(parseScene(j), pinned[i]!.props!, { version, pdmClosedStates: pinned[i]!.pdm });
    });
  const [reps, ms] = timeLoop(once);
  const n = reps * pinned.filter((p) => p.props).length;
  rows.push({ case: label, scenes: n, proposals: 2 * n, ms, msPerScene: ms / n, proposalsPerS: (2 * n) / (ms / 1000) });
}

async function benchCli(): Promise<void> {
  const args = ['navsim', 'score', '--json', '--version', 'v1.1'];
  const list: string[] = [];
  for (let r = 0; r < repeat; r++) list.push(...v1Files);
  let lines = 0;
  const io = { out: () => void lines++, err: () => undefined };
  await main([...args, ...v1Files], io); // warm-up (JIT)
  await main([...args, ...v1Files], io);
  lines = 0;
  const t = performance.now();
  const code = await main([...args, ...list], io);
  const ms = performance.now() - t;
  if (code !== 0 || lines !== list.length) throw new Error(`CLI run failed: exit ${code}, ${lines} lines for ${list.length} scenes`);
  rows.push({ case: `CLI whole scene (PDM-Closed + trajectory), v1.1 golden x${repeat}, 1 thread`, scenes: list.length, proposals: list.length, ms, msPerScene: ms / list.length, proposalsPerS: list.length / (ms / 1000) });
}

async function benchPool(workers: number): Promise<void> {
  const scenes: unknown[] = [];
  for (let r = 0; r < repeat; r++) scenes.push(...v1Json);
  const pool = new ScenePool({ workers });
  try {
    await pool.scoreAll(v1Json.slice(0, workers * 2), { version: 'v1.1' }); // start + warm the workers
    const t = performance.now();
    const res = await pool.scoreAll(scenes, { version: 'v1.1' });
    const ms = performance.now() - t;
    const failed = res.filter((r) => r.error !== undefined).length;
    if (failed) throw new Error(`${failed} pool results failed`);
    rows.push({ case: `pool whole scene, ${workers} worker(s)`, scenes: scenes.length, proposals: scenes.length, ms, msPerScene: ms / scenes.length, proposalsPerS: scenes.length / (ms / 1000) });
  } finally {
    await pool.close();
  }
}

const calibBefore = calibrationMs();
const loadBefore = os.loadavg()[0]!;
benchWarm('warm, 2 proposals/scene, v1.1 golden', v1Json, 'v1.1', 2);
benchWarm('warm, 64 proposals/scene, v1.1 golden', v1Json, 'v1.1', 64);
benchWarm('warm, 2 proposals/scene, v2.2 golden', v2Json, 'v2.2', 2);
benchWarm('warm, 64 proposals/scene, v2.2 golden', v2Json, 'v2.2', 64);
benchCold2('cold (parse + prepare), 2 proposals/scene, v1.1 golden', v1Json, 'v1.1');
benchCold2('cold (parse + prepare), 2 proposals/scene, v2.2 golden', v2Json, 'v2.2');
await benchCli();
// whole scene without the CLI's JSON I/O: parse + PDM-Closed + score
{
  const [reps, ms] = timeLoop(() => v1Json.forEach((j) => scoreScene(parseScene(j), null, { version: 'v1.1', pdmClosed: 'planner' })));
  const n = reps * v1Json.length;
  rows.push({ case: 'scoreScene whole scene (parse + planner + score), v1.1 golden, 1 thread', scenes: n, proposals: n, ms, msPerScene: ms / n, proposalsPerS: n / (ms / 1000) });
}
for (const w of workerCounts) await benchPool(w);
const calibAfter = calibrationMs();

const header = ['case', 'scenes', 'proposals/s', 'ms/scene'];
console.log(header.join(' | '));
for (const r of rows) console.log([r.case.padEnd(70), String(r.scenes).padStart(6), r.proposalsPerS.toFixed(0).padStart(9), r.msPerScene.toFixed(3).padStart(9)].join(' | '));
const env = {
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  loadAverage1m: { before: loadBefore, after: os.loadavg()[0]! },
  calibrationMs2e7MulAdd: { before: calibBefore, after: calibAfter },
};
console.log(`node ${env.node}, ${env.cpus} cpus, load ${loadBefore.toFixed(1)} -> ${env.loadAverage1m.after.toFixed(1)}, calibration loop ${calibBefore.toFixed(0)} / ${calibAfter.toFixed(0)} ms (~17 ms on an idle modern core)`);
fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync('bench-results/navsim-score.json', JSON.stringify({ benchmark: 'navsim-score', date: new Date().toISOString(), env, repeat, rows }, null, 2) + '\n');
