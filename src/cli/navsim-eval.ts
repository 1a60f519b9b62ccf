/**
 * `drivekit navsim eval` and `drivekit navsim stats`: the synthetic NAVSIM benchmark.
 *
 *   drivekit navsim eval (--checkpoint DIR | --baseline cv|pdm-closed|human) --seeds A:B [--version v1.1|v2.2]
 *                        [--json] [--cache DIR] [--workers N] [--seed S] [--steps K]
 *   drivekit navsim stats (--split train|val|test | --seeds A:B) [--n N] [--cache DIR] [--json]
 *
 * `eval --json` prints one object: `n`, `pdms` (mean v1.1 PDMS in [0, 1]), `epdms` (mean v2.2
 * EPDMS), `metrics` (`{"v1.1": {nc, dac, ddc, ep, ttc, c}, "v2.2": {nc, dac, ddc, tlc, ep, ttc, lk,
 * hc, ec}}`, means over the scenes where a metric is defined, null where it never is),
 * `reversing_fraction` (share of plans whose last waypoint goes backwards along the plan's direction,
 * `lastWaypointReverses`), `ec_defined` (scenes with a previous frame, where EC exists), the agent
 * and the seeds. Without `--json` one row in NAVSIM's table layout is printed.
 *
 * Agents: `cv` drives on at the ego's current speed along its current heading (ego +x); `human`
 * is the logged future; `pdm-closed` is PDM-Closed's cached trajectory (privileged: it sees the
 * map and the agents) at 0.5 .. 4 s, the one of each version; `--checkpoint` a DiffusionPlanner
 * checkpoint folder (`model.safetensors` + `model.json`, or the `last/` inside a run folder)
 * conditioned on scene tokens, sampled from seeded noise (`--seed`, one stream per scene) by
 * ReCogDrive's evaluation sampler (`get_action`: DDIM with eta = 1, std >= 1e-4, noise clipped to
 * ±1; spec §2.3) or, with `--sampler deterministic`, by plain DDIM (eta = 0); loaded with
 * `DiffusionPlanner.fromCheckpoint`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic.js';
import { InputError } from '../core/errors.js';
import { progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { mixSeed } from '../core/rng.js';
import { type CachedScene, MetricCache, PDM_VERSIONS, cacheEntry, openMetricCache, seedScenes } from '../navsim/metric-cache.js';
import { ProposalScorePool, lastWaypointReverses } from '../navsim/score-pool.js';
import { EgoStatusMlp } from '../navsim/ego-mlp.js';
import { pdmClosedStates, runPDMClosedOnScene } from '../navsim/pdm-closed.js';
import { type GeneratedScene, generateScene, previousFrameScene } from '../navsim/scenegen.js';
import { NAVSIM_SPLITS, parseSeedRange, sceneStats, splitRange, type SeedRange } from '../navsim/splits.js';
import { STATE_SIZE, StateIndex, type PDMScene, type PDMVersion } from '../navsim/types.js';
import { UsageError, WORKERS_HELP, flagError, intOption, parseArgs, workersOption } from './args.js';
import type { CliIO } from './main.js';

const EVAL_USAGE = `drivekit navsim eval (--checkpoint DIR | --baseline cv|mlp|pdm-closed|human) --seeds A:B [options]

  mean PDMS (v1.1) and EPDMS (v2.2) of an agent on generated scenes
  --checkpoint DIR  DiffusionPlanner checkpoint (model.safetensors + model.json, or a run folder's last/)
  --baseline B      cv (constant velocity), mlp (ego-status MLP), pdm-closed (privileged), human (logged future)
  --mlp FILE        the MLP's JSON checkpoint (read if it exists, else trained and written there)
  --mlp-seeds A:B   the MLP's training scenes when it is trained here (default train:1000)
  --seeds A:B       seeds A .. B-1, or train | val | test[:N] (splits: ${Object.entries(NAVSIM_SPLITS).map(([k, r]) => `${k} ${r.start}..${r.end - 1}`).join(', ')})
  --version V       only v1.1 or v2.2 (default: both)
  --cache DIR       a metric cache holding these seeds (default: PDM-Closed runs here, once per scene)
  --workers N       ${WORKERS_HELP}; scoring threads read --cache (without it: this thread)
  --seed S          seed of the planner's noise (0; one stream per scene, so results do not depend on batching)
  --sampler S       stochastic (default: ReCogDrive's evaluation, DDIM eta = 1, std >= 1e-4, noise clip 1)
                    or deterministic (plain DDIM, eta = 0)
  --steps K         DDIM steps (default: the checkpoint's)
  --tokens L        scene tokens per sample when the checkpoint does not record it (data.json condLength)
  --queue URL       plan and score shards of seeds as jobs on a Redis queue (redis://host:port; run
                    \`drivekit queue worker\` on any number of machines; see docs/scale-out.md)
  --queue-dir DIR   shard outputs, a folder every worker sees at the same path (.drivekit-queue)
  --shard-size N    seeds per queued shard (default 1/16 of the seeds, at most 64)
  --out FILE.csv    also write every scene's scores as CSV, as NAVSIM's per-token table (token, seed,
                    reversing, then each version's score and sub-metrics, an average row last)
  --json            one JSON object
  --quiet           no progress`;

const STATS_USAGE = `drivekit navsim stats (--split train|val|test | --seeds A:B) [--n N] [--cache DIR] [--json]

  scene statistics: driving commands, lead vehicle and lead braking, junction share, ego speed,
  mean PDMS / EPDMS of the human future
  --n N   the first N seeds of the range (default 200)`;

/** Golden metric names -> NAVSIM table columns. */
const SHORT: Record<string, string> = {
  no_at_fault_collisions: 'nc',
  drivable_area_compliance: 'dac',
  driving_direction_compliance: 'ddc',
  traffic_light_compliance: 'tlc',
  ego_progress: 'ep',
  time_to_collision_within_bound: 'ttc',
  comfort: 'c',
  lane_keeping: 'lk',
  history_comfort: 'hc',
  two_frame_extended_comfort: 'ec',
};

type BaselineName = 'cv' | 'mlp' | 'pdm-closed' | 'human';
type Agent = { kind: 'baseline'; name: BaselineName } | { kind: 'checkpoint'; dir: string };

/** Plans of every scene for a version: n x 8 x 3, ego frame. */
type Planner = (scenes: readonly CachedScene[], version: PDMVersion) => Promise<Float64Array>;

/** Constant velocity: the ego's current speed along its heading (+x of the ego frame). */
export function constantVelocityPlan(scene: PDMScene, out = new Float64Array(24), offset = 0): Float64Array {
  const v = Math.hypot(scene.ego.vx, scene.ego.vy);
  for (let k = 0; k < 8; k++) {
    out[offset + 3 * k] = v * 0.5 * (k + 1);
    out[offset + 3 * k + 1] = 0;
    out[offset + 3 * k + 2] = 0;
  }
  return out;
}

/** The logged human future (8 poses at 0.5 s) in the ego frame. */
export function humanPlan(scene: PDMScene, out = new Float64Array(24), offset = 0): Float64Array {
  const t = scene.humanTrajectory ?? scene.trajectory;
  if (!t || t.poses.length < 24) {
    throw new InputError(InputError.format({ file: scene.name, field: 'human_trajectory', expected: '8 poses', found: t ? t.poses.length / 3 : null }), {
      file: scene.name, field: 'human_trajectory', expected: '8 poses', found: t ? t.poses.length / 3 : null,
    });
  }
  const e = scene.ego;
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  for (let k = 0; k < 8; k++) {
    const [x, y, h] = [t.poses[3 * k]!, t.poses[3 * k + 1]!, t.poses[3 * k + 2]!];
    if (t.frame === 'global') {
      const dx = x - e.x, dy = y - e.y;
      out[offset + 3 * k] = c * dx + s * dy;
      out[offset + 3 * k + 1] = -s * dx + c * dy;
      out[offset + 3 * k + 2] = Math.atan2(Math.sin(h - e.heading), Math.cos(h - e.heading));
    } else {
      out[offset + 3 * k] = x;
      out[offset + 3 * k + 1] = y;
      out[offset + 3 * k + 2] = h;
    }
  }
  return out;
}

/** PDM-Closed's cached states at 0.5 .. 4 s (every 5th 0.1 s state) in the ego frame. */
export function pdmClosedPlan(c: CachedScene, version: PDMVersion, out = new Float64Array(24), offset = 0): Float64Array {
  const st = c.pdmClosed[version]!;
  const e = c.scene.ego;
  const co = Math.cos(e.heading), si = Math.sin(e.heading);
  for (let k = 0; k < 8; k++) {
    const o = 5 * (k + 1) * STATE_SIZE;
    const dx = st[o + StateIndex.X]! - e.x, dy = st[o + StateIndex.Y]! - e.y;
    const h = st[o + StateIndex.HEADING]! - e.heading;
    out[offset + 3 * k] = co * dx + si * dy;
    out[offset + 3 * k + 1] = -si * dx + co * dy;
    out[offset + 3 * k + 2] = Math.atan2(Math.sin(h), Math.cos(h));
  }
  return out;
}

/** The previous frame of a cached scene as a scene (generated scenes carry one), or null. */
function previousScene(c: CachedScene): PDMScene | null {
  const pf = c.scene.previousFrame;
  return pf && pf.form === 'scene' ? pf.scene : null;
}

/**
 * A baseline's plans at each scene's previous frame (v2.2 EC compares the plan with the one made
 * there); rows of scenes without a previous frame are NaN. PDM-Closed runs on the previous frame
 * here (not cached).
 */
function previousBaselinePlanner(name: 'cv' | 'pdm-closed' | 'human'): Planner {
  const pdmMemo = new Map<string, Float64Array>();
  return async (scenes, version) => {
    const out = new Float64Array(scenes.length * 24).fill(NaN);
    scenes.forEach((c, i) => {
      const prev = previousScene(c);
      if (!prev) return;
      if (name === 'cv') constantVelocityPlan(prev, out, i * 24);
      else if (name === 'human') humanPlan(prev, out, i * 24);
      else {
        const key = `${version}/${c.name}`;
        let states = pdmMemo.get(key);
        if (!states) pdmMemo.set(key, (states = pdmClosedStates(runPDMClosedOnScene(prev, version))));
        pdmClosedPlan({ ...c, scene: prev, pdmClosed: { [version]: states } }, version, out, i * 24);
      }
    });
    return out;
  };
}

/** The generated scene of a cached scene's seed (the MLP and the planner need its status / tokens). */
function generatedOf(c: CachedScene): GeneratedScene {
  if (c.seed === null) throw new InputError(InputError.format({ file: c.name, field: 'seed', expected: 'a generated scene (planner inputs come from its seed)', found: null }), { file: c.name, field: 'seed', expected: 'a generated scene', found: null });
  return generateScene(c.seed);
}

/**
 * The ego-status MLP (NAVSIM's "Ego Status MLP", `navsim/ego-mlp.ts`) from `--mlp FILE` (its JSON
 * checkpoint) or trained here, deterministically, on the human futures of `--mlp-seeds` (default
 * train:1000; written to `--mlp FILE` when that file does not exist yet).
 */
export function egoMlpFor(file: string | undefined, seeds: SeedRange, quiet: boolean): EgoStatusMlp {
  if (file !== undefined && fs.existsSync(file)) return EgoStatusMlp.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  const n = seeds.end - seeds.start;
  const status = new Float32Array(n * 8), target = new Float32Array(n * 24);
  const bar = progress({ total: n, label: 'MLP training scenes', mode: quiet ? 'silent' : 'auto' });
  try {
    for (let i = 0; i < n; i++) {
      const g = generateScene(seeds.start + i);
      status.set(g.status, i * 8);
      target.set(g.target, i * 24);
      bar.update(i + 1);
    }
  } finally {
    bar.stop();
  }
  const mlp = EgoStatusMlp.train(status, target, n);
  if (file !== undefined) writeFileAtomicSync(file, JSON.stringify({ ...mlp.toJSON(), trainSeeds: [seeds.start, seeds.end] }) + '\n');
  return mlp;
}

/** The MLP's plans at the current frames and (`previous`) at the previous frames. */
export function mlpPlanners(mlp: EgoStatusMlp): { plan: Planner; planPrevious: Planner } {
  const memo = new Map<string, { cur: Float64Array; prev: Float64Array }>();
  const get = (c: CachedScene) => {
    let m = memo.get(c.name);
    if (!m) {
      const g = generatedOf(c);
      memo.set(c.name, (m = { cur: mlp.plan(g.status), prev: mlp.plan(g.previous.status) }));
    }
    return m;
  };
  const make = (which: 'cur' | 'prev'): Planner => async (scenes) => {
    const out = new Float64Array(scenes.length * 24);
    scenes.forEach((c, i) => out.set(get(c)[which], i * 24));
    return out;
  };
  return { plan: make('cur'), planPrevious: make('prev') };
}

function baselinePlanner(name: 'cv' | 'pdm-closed' | 'human'): Planner {
  return async (scenes, version) => {
    const out = new Float64Array(scenes.length * 24);
    scenes.forEach((c, i) => {
      if (name === 'cv') constantVelocityPlan(c.scene, out, i * 24);
      else if (name === 'human') humanPlan(c.scene, out, i * 24);
      else pdmClosedPlan(c, version, out, i * 24);
    });
    return out;
  };
}

/** The checkpoint folder holding model.safetensors: DIR itself or DIR/last (`resolvePlannerCheckpoint`). */
async function checkpointDir(dir: string): Promise<string> {
  // loaded here: the models module pulls in tfjs, which the baselines never need
  const { resolvePlannerCheckpoint } = await import('../models/planner-checkpoint.js');
  const ck = resolvePlannerCheckpoint(dir);
  if (path.basename(ck.weightsPath) !== 'model.safetensors') {
    const expected = 'a checkpoint folder (model.safetensors + model.json) or a run folder (its last/)';
    throw new InputError(`${dir}: expected ${expected}, found a .safetensors file; save it as a folder with DiffusionPlanner.save(dir).`, { file: dir, field: '--checkpoint', expected, found: 'a .safetensors file' });
  }
  return ck.dir;
}

/** How `navsim eval` samples a checkpoint: ReCogDrive's stochastic `get_action` (the default) or plain DDIM. */
export type EvalSampler = 'stochastic' | 'deterministic';

export async function checkpointPlanner(dirArg: string, opts: { seed: number; steps?: number; tokens?: number; sampler?: EvalSampler; quiet: boolean }, io: CliIO): Promise<{ plan: Planner; planPrevious: Planner; dispose: () => void }> {
  const dir = await checkpointDir(dirArg);
  const { init } = await import('../core/backend.js');
  const backend = await init({ backend: 'auto' });
  if (!opts.quiet) io.err(`tfjs backend: ${backend}`);
  const { DiffusionPlanner } = await import('../models/planner.js');
  const planner = await DiffusionPlanner.fromCheckpoint(dir);
  const dataJson = path.join(dir, 'data.json');
  const recorded = fs.existsSync(dataJson) ? (JSON.parse(fs.readFileSync(dataJson, 'utf8')) as { condLength?: number }).condLength : undefined;
  const L = recorded ?? opts.tokens;
  if (L === undefined) throw new UsageError(`${dir} records no conditioning length (data.json condLength); give --tokens L.`, { field: '--tokens', expected: 'an integer >= 1', found: undefined });
  const tf = await import('@tensorflow/tfjs');
  const { rowsOfGenerated } = await import('../rl/data/scene-dataset.js');
  const byScene = new Map<string, Float64Array>();
  const generated = new Map<string, GeneratedScene>();
  const genOf = (c: CachedScene) => {
    let g = generated.get(c.name);
    if (!g) generated.set(c.name, (g = generatedOf(c)));
    return g;
  };
  // the previous frame (v2.2 EC) is planned with its own noise stream (a fresh sample, as an agent replanning would)
  const make = (previous: boolean): Planner => async (scenes) => {
    const out = new Float64Array(scenes.length * 24);
    const key = (c: CachedScene) => (previous ? `${c.name}#previous` : c.name);
    const todo = scenes.filter((c) => !byScene.has(key(c)));
    const B = 16;
    for (let start = 0; start < todo.length; start += B) {
      const chunk = todo.slice(start, start + B);
      const seeds = chunk.map((c) => (previous ? mixSeed(c.seed!, 0x707276) : c.seed!));
      const { rows } = rowsOfGenerated(chunk.map((c) => (previous ? previousFrameScene(genOf(c)) : genOf(c))), { numTokens: L, width: planner.config.condDim });
      // one noise stream per scene (seeded by --seed and the scene's seed): results do not depend on batching
      const traj = new Float32Array(chunk.length * 24);
      for (let j = 0; j < chunk.length; j++) {
        const r = tf.tidy(() => {
          const s = planner.sample(
            {
              hiddenStates: tf.tensor3d(rows.cond.subarray(j * L * rows.condDim, (j + 1) * L * rows.condDim), [1, L, rows.condDim]),
              history: tf.tensor2d(rows.history.subarray(j * 12, (j + 1) * 12), [1, 12]),
              status: tf.tensor2d(rows.status.subarray(j * 8, (j + 1) * 8), [1, 8]),
            },
            { rng: new Rng(mixSeed(opts.seed, seeds[j]!)), deterministic: opts.sampler === 'deterministic', ...(opts.steps !== undefined ? { steps: opts.steps } : {}) },
          );
          s.normalized.dispose();
          return s.trajectory;
        });
        traj.set(r.dataSync() as Float32Array, j * 24);
        r.dispose();
      }
      chunk.forEach((c, j) => byScene.set(key(c), Float64Array.from(traj.subarray(j * 24, (j + 1) * 24))));
    }
    scenes.forEach((c, i) => out.set(byScene.get(key(c))!, i * 24));
    return out;
  };
  return { plan: make(false), planPrevious: make(true), dispose: () => planner.dispose() };
}

/** Cached scenes of a seed range: from a cache folder (every seed must be in it) or computed here. */
function scenesForSeeds(range: SeedRange, versions: readonly PDMVersion[], cacheDir: string | undefined, quiet: boolean): { cache: MetricCache; indices: number[] } {
  if (cacheDir !== undefined) {
    const cache = openMetricCache(cacheDir);
    for (const v of versions) {
      if (!cache.versions.includes(v)) {
        throw new InputError(InputError.format({ file: cacheDir, field: 'versions', expected: `a cache holding ${v}`, found: cache.versions }), { file: cacheDir, field: 'versions', expected: v, found: cache.versions });
      }
    }
    const bySeed = new Map<number, number>();
    cache.manifest.seeds.forEach((s, i) => {
      if (s !== null) bySeed.set(s, i);
    });
    const indices: number[] = [];
    for (let seed = range.start; seed < range.end; seed++) {
      const i = bySeed.get(seed);
      if (i === undefined) {
        throw new InputError(InputError.format({ file: cacheDir, field: 'seeds', expected: `seed ${seed} in the cache`, found: 'no such scene' }, 'Build the cache for these seeds (drivekit navsim cache --seeds A:B).'), {
          file: cacheDir, field: 'seeds', expected: seed, found: 'no such scene',
        });
      }
      indices.push(i);
    }
    return { cache, indices };
  }
  const bar = progress({ total: range.end - range.start, label: 'scenes + PDM-Closed', mode: quiet ? 'silent' : 'auto' });
  const entries: CachedScene[] = [];
  try {
    for (const s of seedScenes(range.start, range.end)) {
      entries.push(cacheEntry(s, versions, entries.length));
      bar.update(entries.length);
    }
  } finally {
    bar.stop();
  }
  return { cache: MetricCache.fromEntries(entries, versions), indices: entries.map((_, i) => i) };
}

const mean = (xs: ArrayLike<number>): number | null => {
  let s = 0, n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isNaN(xs[i]!)) {
      s += xs[i]!;
      n++;
    }
  }
  return n > 0 ? s / n : null;
};

export interface EvalResult {
  agent: string;
  seeds: [number, number];
  n: number;
  pdms: number | null;
  epdms: number | null;
  metrics: Partial<Record<PDMVersion, Record<string, number | null>>>;
  reversing_fraction: number;
  /** Scenes where v2.2 EC is defined (a previous frame exists). */
  ec_defined: number;
  seconds: number;
}

/** Per-scene results of an agent, per version, in scene order (what shards of a queued eval return). */
export interface AgentScores {
  /** Plans whose last waypoint reverses, and plans seen (over every version). */
  reversing: number;
  plans: number;
  /** The scenes' names and seeds, in order (absent in shard files of older versions). */
  names?: string[];
  seeds?: (number | null)[];
  /** Per version: each scene's score and sub-metrics, and (`reversing`) 1 where its plan's last waypoint reverses. */
  versions: { version: PDMVersion; score: number[]; metrics: Record<string, number[]>; reversing?: number[] }[];
}

/**
 * Plans and scores the scenes (`workers` pool threads, 0: this thread); no averaging. With
 * `planPrevious`, v2.2's EC compares each plan with the agent's own plan at the scene's previous
 * frame (rows of NaN: no previous frame, the scorer's default).
 */
export async function scoreAgent(plan: Planner, cache: MetricCache, indices: readonly number[], versions: readonly PDMVersion[], workers: number, planPrevious?: Planner): Promise<AgentScores> {
  const scenes = indices.map((i) => cache.scene(i));
  const pool = new ProposalScorePool(cache, { workers });
  const out: AgentScores = { reversing: 0, plans: 0, names: scenes.map((c) => c.name), seeds: scenes.map((c) => c.seed), versions: [] };
  try {
    for (const version of versions) {
      const plans = await plan(scenes, version);
      const reversing = scenes.map((_, i) => (lastWaypointReverses(plans, i) ? 1 : 0));
      for (const r of reversing) out.reversing += r;
      out.plans += scenes.length;
      const prevPlans = version === 'v2.2' && planPrevious ? await planPrevious(scenes, version) : null;
      const previousOf = (i: number) => {
        const p = prevPlans?.subarray(i * 24, (i + 1) * 24);
        return p && !Number.isNaN(p[0]!) ? { previous: p } : {};
      };
      const rs = await pool.scoreBatch(indices.map((s, i) => ({ scene: s, poses: plans.subarray(i * 24, (i + 1) * 24), count: 1, ...previousOf(i) })), { version });
      const metrics: Record<string, number[]> = {};
      for (const name of Object.keys(rs[0]?.metrics ?? {})) metrics[name] = rs.map((r) => r.metrics[name]![0]!);
      out.versions.push({ version, score: rs.map((r) => r.score[0]!), metrics, reversing });
    }
  } finally {
    await pool.close();
  }
  return out;
}

/** Shards' scores joined in shard order (each shard: the same versions, in the same order). */
export function mergeAgentScores(parts: readonly AgentScores[]): AgentScores {
  const first = parts[0]!;
  const every = <T>(get: (p: AgentScores) => T[] | undefined): T[] | undefined => (parts.every((p) => get(p) !== undefined) ? parts.flatMap((p) => get(p)!) : undefined);
  const names = every((p) => p.names), seeds = every((p) => p.seeds);
  return {
    reversing: parts.reduce((a, p) => a + p.reversing, 0),
    plans: parts.reduce((a, p) => a + p.plans, 0),
    ...(names ? { names } : {}),
    ...(seeds ? { seeds } : {}),
    versions: first.versions.map((v, k) => {
      const reversing = every((p) => p.versions[k]!.reversing);
      return {
        version: v.version,
        score: parts.flatMap((p) => p.versions[k]!.score),
        metrics: Object.fromEntries(Object.keys(v.metrics).map((name) => [name, parts.flatMap((p) => p.versions[k]!.metrics[name]!)])),
        ...(reversing ? { reversing } : {}),
      };
    }),
  };
}

/** The means of `eval --json` from per-scene scores. */
export function summarizeAgent(agent: string, range: SeedRange, n: number, scores: AgentScores, seconds: number): EvalResult {
  const result: EvalResult = { agent, seeds: [range.start, range.end], n, pdms: null, epdms: null, metrics: {}, reversing_fraction: 0, ec_defined: 0, seconds: 0 };
  for (const { version, score, metrics: perScene } of scores.versions) {
    const metrics: Record<string, number | null> = {};
    for (const [name, list] of Object.entries(perScene)) {
      const vals = Float64Array.from(list);
      metrics[SHORT[name] ?? name] = mean(vals);
      if (name === 'two_frame_extended_comfort') result.ec_defined = vals.filter((x) => !Number.isNaN(x)).length;
    }
    result.metrics[version] = metrics;
    if (version === 'v1.1') result.pdms = mean(Float64Array.from(score));
    else result.epdms = mean(Float64Array.from(score));
  }
  result.reversing_fraction = scores.plans > 0 ? scores.reversing / scores.plans : 0;
  result.seconds = Number(seconds.toFixed(3));
  return result;
}

/**
 * Per-scene scores as CSV, NAVSIM's per-token table: `token` (the scene's name), `seed`,
 * `reversing` (1 where a version's plan reverses at its last waypoint), then per version its score
 * (`v1.1.pdms`, `v2.2.epdms`) and every sub-metric under NAVSIM's name (`v1.1.ego_progress`, ...).
 * An undefined value (EC without a previous frame) is an empty cell. The last row, `average`,
 * holds the means over the scenes where a value is defined, as NAVSIM's CSV ends.
 */
export function formatScoresCsv(scores: AgentScores): string {
  const n = scores.versions[0]?.score.length ?? 0;
  const cols: { name: string; values: ArrayLike<number> }[] = [];
  const rev = new Array<number>(n).fill(0);
  for (const v of scores.versions) {
    v.reversing?.forEach((r, i) => (rev[i] = Math.max(rev[i]!, r)));
    cols.push({ name: `${v.version}.${v.version === 'v1.1' ? 'pdms' : 'epdms'}`, values: v.score });
    for (const [name, values] of Object.entries(v.metrics)) cols.push({ name: `${v.version}.${name}`, values });
  }
  const cell = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '' : String(x));
  const lines = [['token', 'seed', 'reversing', ...cols.map((c) => c.name)].join(',')];
  for (let i = 0; i < n; i++) {
    lines.push([scores.names?.[i] ?? String(i), cell(scores.seeds?.[i]), String(rev[i]), ...cols.map((c) => cell(c.values[i]))].join(','));
  }
  lines.push(['average', '', cell(n > 0 ? rev.reduce((a, b) => a + b, 0) / n : null), ...cols.map((c) => cell(mean(c.values)))].join(','));
  return lines.join('\n') + '\n';
}

/** Scores an agent's plans on the scenes and averages (the JSON object of `eval --json`). */
export async function evaluateAgent(
  agent: string,
  plan: Planner,
  cache: MetricCache,
  indices: readonly number[],
  versions: readonly PDMVersion[],
  range: SeedRange,
  workers: number,
  planPrevious?: Planner,
  onScores?: (scores: AgentScores) => void,
): Promise<EvalResult> {
  const t0 = performance.now();
  const scores = await scoreAgent(plan, cache, indices, versions, workers, planPrevious);
  onScores?.(scores);
  return summarizeAgent(agent, range, indices.length, scores, (performance.now() - t0) / 1000);
}

/** What a queued `navsim eval` shard evaluates: the agent, seeds [start, end), the versions. */
export interface NavsimEvalShardTask {
  agent: { kind: 'baseline'; name: 'cv' | 'pdm-closed' | 'human' } | { kind: 'checkpoint'; dir: string; seed: number; steps?: number; tokens?: number; sampler?: EvalSampler };
  start: number;
  end: number;
  versions: PDMVersion[];
  /** A metric cache holding the seeds (a shared path), else the scenes are computed in the shard. */
  cacheDir?: string;
}

/** Runs one shard in this thread (the queue job of `navsim eval --queue`). */
export async function runNavsimEvalShard(task: NavsimEvalShardTask): Promise<AgentScores> {
  const { cache, indices } = scenesForSeeds({ start: task.start, end: task.end }, task.versions, task.cacheDir, true);
  const silent: CliIO = { out: () => {}, err: () => {} };
  const a = task.agent;
  const { plan, planPrevious, dispose } = a.kind === 'baseline' ? { plan: baselinePlanner(a.name), planPrevious: previousBaselinePlanner(a.name), dispose: () => {} } : await checkpointPlanner(a.dir, { seed: a.seed, steps: a.steps, tokens: a.tokens, sampler: a.sampler ?? 'stochastic', quiet: true }, silent);
  try {
    return await scoreAgent(plan, cache, indices, task.versions, 0, planPrevious);
  } finally {
    dispose();
  }
}

/** The folder of a checkpoint argument (for hashing its files in a job key). */
export async function navsimCheckpointDir(dir: string): Promise<string> {
  return checkpointDir(dir);
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : (100 * v).toFixed(1));

/** One row in NAVSIM's table layout (v1.1 columns, then the EPDMS columns). */
export function formatEvalTable(rows: readonly EvalResult[]): string {
  const head = ['agent', 'NC', 'DAC', 'TTC', 'C', 'EP', 'PDMS', '|', 'NC', 'DAC', 'DDC', 'TLC', 'EP', 'TTC', 'LK', 'HC', 'EC', 'EPDMS', '|', 'rev'];
  const lines = rows.map((r) => {
    const a = r.metrics['v1.1'] ?? {};
    const b = r.metrics['v2.2'] ?? {};
    return [r.agent, pct(a.nc), pct(a.dac), pct(a.ttc), pct(a.c), pct(a.ep), pct(r.pdms), '|', pct(b.nc), pct(b.dac), pct(b.ddc), pct(b.tlc), pct(b.ep), pct(b.ttc), pct(b.lk), pct(b.hc), pct(b.ec), pct(r.epdms), '|', pct(r.reversing_fraction)];
  });
  const widths = head.map((h, k) => Math.max(h.length, ...lines.map((l) => l[k]!.length)));
  const fmt = (cells: string[]) => cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join(' ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

async function evalCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(
    args,
    { checkpoint: 'string', baseline: 'string', seeds: 'string', version: 'string', json: 'boolean', cache: 'string', workers: 'number', seed: 'number', steps: 'number', tokens: 'number', sampler: 'string', quiet: 'boolean', queue: 'string', 'queue-dir': 'string', 'shard-size': 'number', mlp: 'string', 'mlp-seeds': 'string', out: 'string' },
    EVAL_USAGE,
  );
  const checkpoint = opts.checkpoint as string | undefined;
  const baseline = opts.baseline as string | undefined;
  if ((checkpoint === undefined) === (baseline === undefined)) {
    throw new UsageError(`give --checkpoint DIR or --baseline cv|mlp|pdm-closed|human (one of them).\n${EVAL_USAGE}`, { field: '--baseline', expected: 'one of --checkpoint, --baseline', found: checkpoint ?? baseline });
  }
  if (baseline !== undefined && baseline !== 'cv' && baseline !== 'mlp' && baseline !== 'pdm-closed' && baseline !== 'human') {
    throw flagError('baseline', 'cv, mlp, pdm-closed or human', baseline);
  }
  const seedsText = opts.seeds as string | undefined;
  if (seedsText === undefined) throw new UsageError(`--seeds A:B is required.\n${EVAL_USAGE}`, { field: '--seeds', expected: 'A:B', found: undefined });
  const range = parseSeedRange(seedsText, '--seeds');
  const v = opts.version as string | undefined;
  if (v !== undefined && v !== 'v1.1' && v !== 'v2.2') throw flagError('version', 'v1.1 or v2.2', v);
  const versions: PDMVersion[] = v ? [v] : [...PDM_VERSIONS];
  const cacheDir = opts.cache as string | undefined;
  if (opts.workers !== undefined && opts.workers !== 1 && cacheDir === undefined) throw new UsageError('--workers needs --cache DIR (workers read the cache files).', { field: '--workers', expected: '1 without --cache', found: opts.workers });
  const threads = workersOption(opts);
  // N threads score: N worker threads of the pool (0: this thread), which read the cache files
  const workers = cacheDir !== undefined && threads > 1 ? threads : 0;
  const quiet = Boolean(opts.quiet);
  const samplerText = (opts.sampler as string | undefined) ?? 'stochastic';
  if (samplerText !== 'stochastic' && samplerText !== 'deterministic') throw flagError('sampler', 'stochastic or deterministic', samplerText);
  const sampler: EvalSampler = samplerText;
  if (opts.sampler !== undefined && checkpoint === undefined) throw new UsageError('--sampler goes with --checkpoint.', { field: '--sampler', expected: 'only with --checkpoint', found: opts.sampler });
  const scoresFile = opts.out as string | undefined;
  const writeScores = (scores: AgentScores) => {
    if (scoresFile === undefined) return;
    fs.mkdirSync(path.dirname(path.resolve(scoresFile)), { recursive: true });
    writeFileAtomicSync(scoresFile, formatScoresCsv(scores));
  };
  const agent: Agent = checkpoint !== undefined ? { kind: 'checkpoint', dir: checkpoint } : { kind: 'baseline', name: baseline as BaselineName };
  if (agent.kind !== 'baseline' || agent.name !== 'mlp') {
    for (const f of ['mlp', 'mlp-seeds']) if (opts[f] !== undefined) throw new UsageError(`--${f} goes with --baseline mlp.`, { field: `--${f}`, expected: 'only with --baseline mlp', found: opts[f] });
  }
  if (opts.queue !== undefined && agent.kind === 'baseline' && agent.name === 'mlp') throw new UsageError('--baseline mlp does not run through --queue (its model is trained or read in this process).', { field: '--queue', expected: 'no --queue with --baseline mlp', found: opts.queue });
  if (opts.queue !== undefined) {
    const { submitNavsimEval } = await import('../queue/submit.js');
    const steps = intOption(opts, 'steps', undefined, { min: 1 });
    const tokens = intOption(opts, 'tokens', undefined, { min: 1 });
    const shardAgent = agent.kind === 'baseline' ? { kind: 'baseline' as const, name: agent.name as 'cv' | 'pdm-closed' | 'human' } : { kind: 'checkpoint' as const, dir: agent.dir, seed: intOption(opts, 'seed', 0), sampler, ...(steps !== undefined ? { steps } : {}), ...(tokens !== undefined ? { tokens } : {}) };
    const bar = progress({ total: range.end - range.start, label: 'navsim eval', mode: quiet || opts.json ? 'silent' : 'auto' });
    let r: EvalResult;
    try {
      r = await submitNavsimEval(agent.kind === 'baseline' ? agent.name : agent.dir, { agent: shardAgent, versions, ...(cacheDir !== undefined ? { cacheDir } : {}) }, range, {
        redis: String(opts.queue),
        queueDir: opts['queue-dir'] as string | undefined,
        shardSize: intOption(opts, 'shard-size', undefined, { min: 1 }),
        onScenes: (k) => bar.tick(k),
        onScores: writeScores,
      });
    } finally {
      bar.stop();
    }
    io.out(opts.json ? JSON.stringify(r) : formatEvalTable([r]));
    return 0;
  }
  const mlp = agent.kind === 'baseline' && agent.name === 'mlp' ? egoMlpFor(opts.mlp as string | undefined, parseSeedRange(String(opts['mlp-seeds'] ?? 'train:1000'), '--mlp-seeds'), quiet) : null;
  const { cache, indices } = scenesForSeeds(range, versions, cacheDir, quiet);
  let plan: Planner;
  let planPrevious: Planner | undefined;
  let dispose = () => {};
  if (mlp) ({ plan, planPrevious } = mlpPlanners(mlp));
  else if (agent.kind === 'baseline') {
    const name = agent.name as 'cv' | 'pdm-closed' | 'human';
    plan = baselinePlanner(name);
    planPrevious = previousBaselinePlanner(name);
  } else {
    const steps = intOption(opts, 'steps', undefined, { min: 1 });
    const tokens = intOption(opts, 'tokens', undefined, { min: 1 });
    ({ plan, planPrevious, dispose } = await checkpointPlanner(agent.dir, { seed: intOption(opts, 'seed', 0), steps, tokens, sampler, quiet }, io));
  }
  let r: EvalResult;
  try {
    r = await evaluateAgent(agent.kind === 'baseline' ? agent.name : agent.dir, plan, cache, indices, versions, range, workers, planPrevious, writeScores);
  } finally {
    dispose();
  }
  io.out(opts.json ? JSON.stringify(r) : formatEvalTable([r]));
  return 0;
}

async function statsCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { split: 'string', seeds: 'string', n: 'number', cache: 'string', json: 'boolean', quiet: 'boolean' }, STATS_USAGE);
  if ((opts.split === undefined) === (opts.seeds === undefined)) throw new UsageError(`give --split or --seeds (one of them).\n${STATS_USAGE}`, { field: '--split', expected: 'one of --split, --seeds', found: opts.split ?? opts.seeds });
  const full = opts.split !== undefined ? splitRange(String(opts.split), '--split') : parseSeedRange(String(opts.seeds), '--seeds');
  const n = intOption(opts, 'n', 200, { min: 1 });
  const range = { start: full.start, end: Math.min(full.end, full.start + n) };
  const { cache, indices } = scenesForSeeds(range, PDM_VERSIONS, opts.cache as string | undefined, Boolean(opts.quiet));
  const scenes = indices.map((i) => cache.scene(i));
  // the generator's own lead vehicle and command (regenerated: the cache keeps the scene, not its info)
  const info = scenes.map((c) => {
    const g = generateScene(c.seed!);
    return { leadId: g.info.leadId, command: g.info.command };
  });
  const stats = { split: opts.split ?? null, ...sceneStats(scenes, range, info) };
  if (opts.json) io.out(JSON.stringify(stats));
  else {
    const p = (x: number) => `${(100 * x).toFixed(1)} %`;
    io.out(`${stats.split ?? 'seeds'} ${range.start}..${range.end - 1} (${stats.n} scenes)`);
    io.out(`  commands     ${Object.entries(stats.commands).map(([k, x]) => `${k} ${p(x)}`).join(', ')}`);
    io.out(`  lead vehicle ${p(stats.lead)}, braking ${p(stats.leadBraking)}`);
    io.out(`  junction     ${p(stats.junction)}`);
    io.out(`  ego speed    ${stats.egoSpeed.toFixed(2)} m/s`);
    io.out(`  human        PDMS ${pct(stats.humanPdms)}, EPDMS ${pct(stats.humanEpdms)}`);
  }
  return 0;
}

/** Entry point of `drivekit navsim eval` / `drivekit navsim stats`. */
export async function navsimEvalCommand(sub: 'eval' | 'stats', args: string[], io: CliIO): Promise<number> {
  return sub === 'eval' ? evalCommand(args, io) : statsCommand(args, io);
}
