/**
 * NAVSIM's own metric caches on the command line (see docs/navsim.md):
 *
 *   drivekit navsim import-cache CACHE_DIR --out scenes.arrow|DIR [--concurrency N] [--verify N] [--force] [--quiet]
 *   drivekit navsim score SCENES... --trajectories FILE.json [--version v1.1|v2.2] [--json]
 *   drivekit navsim eval --cache SCENES (--trajectories FILE.json | --checkpoint DIR) --out results.csv [--version v1.1|v2.2] [--json]
 *
 * SCENES is an Arrow scenes file (`.arrow`), a drivekit metric cache folder (`manifest.json`), or
 * a NAVSIM metric cache folder (read directly). A trajectory file is NAVSIM's agent output per
 * token: `{token: [[x, y, heading] x 8]}` (ego rear-axle frame, 0.5 s steps).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic.js';
import { InputError } from '../core/errors.js';
import { progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { formatPDMTable, pdmTable, type PDMSceneResult } from '../metrics/pdm-table.js';
import { readScenesArrow, sceneToJson, writeScenesArrow } from '../navsim/arrow-scenes.js';
import { MANIFEST_FILE, METRIC_NAMES, MetricCacheWriter, cacheEntry, openMetricCache, scoreCachedScene, type CachedScene } from '../navsim/metric-cache.js';
import { listNavsimCache, readNavsimCacheFile, type NavsimCacheFileRef } from '../navsim/nuplan-cache/index.js';
import { parseScene } from '../navsim/scene-json.js';
import type { PDMScene, PDMVersion } from '../navsim/types.js';
import { UsageError, flagError, intOption, parseArgs, usageText } from './args.js';
import type { CliIO } from './main.js';

export const IMPORT_USAGE = `drivekit navsim import-cache CACHE_DIR --out scenes.arrow|DIR [options]

  read a NAVSIM v1.1 metric cache (metadata CSV rows resolved by their last four path parts under
  CACHE_DIR, or a walk of the folder without metadata) into drivekit scenes, one per token (the
  token is the scene name), PDM-Closed's trajectory kept; a file that fails is reported as a JSON
  line {token, file, error} on stderr and the others go on (exit code 1)
  --out PATH     an Arrow scenes file (.arrow), or a folder: a drivekit metric cache (v1.1, sharded)
  --concurrency N  files read and decoded at once, in this thread (default 4; xz runs off the main
                 thread's stack, pickle decoding on it); --workers N is its old name (files, not threads)
  --verify N     afterwards, rescore N sampled scenes from the written output and from the .pkl
                 again (PDM-Closed's own plan) and compare bit for bit (default 0)
  --shard-size N scenes per shard of a folder output (256)
  --force        replace an existing output
  --quiet        no progress bar`;

export const SCORE_TRAJECTORIES_USAGE = `drivekit navsim score SCENES... --trajectories FILE.json [options]

  score, per scene, the trajectory its token has in FILE.json ({token: [[x, y, heading] x 8]},
  ego rear-axle frame, 0.5 s steps); one JSON line {"name": token, "metrics"} per scene; a scene
  without a trajectory or a trajectory without a scene is a line {"name", "error"} (exit code 1)
  SCENES          .arrow scenes files, drivekit metric cache folders or NAVSIM metric cache folders
  --version V     v1.1 (default for v1 scenes) or v2.2
  --json          only the JSON lines (no summary table)`;

export const EVAL_CACHE_USAGE = `drivekit navsim eval --cache SCENES (--trajectories FILE.json | --checkpoint DIR) --out results.csv [options]

  NAVSIM-style agent evaluation on imported scenes: writes NAVSIM's per-token CSV (pandas index,
  token, valid, every sub-metric, score; a last row "average") to --out and the summary next to
  it (results.json), and prints the summary
  --cache SCENES     an .arrow scenes file, a drivekit metric cache folder or a NAVSIM metric cache folder
  --trajectories F   the agent's output per token ({token: [[x, y, heading] x 8]})
  --checkpoint DIR   or plan with a DiffusionPlanner checkpoint (scene tokens of each scene; a v1.1
                     cache has no ego history: the constant-velocity past is used)
  --seed S           noise seed of the checkpoint's DDIM (0); --steps K, --tokens L as for eval --seeds
  --version V        v1.1 (default) or v2.2
  --json             the summary as one JSON object`;

// ---------------------------------------------------------------------------------------------
// import-cache

interface Failure {
  token: string;
  file: string;
  error: string;
}

/** Reads the listed files with `workers` in flight, in listing order; failures are reported and skipped. */
async function* importAll(refs: NavsimCacheFileRef[], workers: number, onFail: (f: Failure) => void): AsyncGenerator<{ ref: NavsimCacheFileRef; scene: PDMScene; residual: number }> {
  const pending: Promise<{ ref: NavsimCacheFileRef; scene?: PDMScene; residual?: number; error?: unknown }>[] = [];
  let next = 0;
  const start = () => {
    const ref = refs[next++]!;
    pending.push(
      readNavsimCacheFile(ref).then(
        (r) => ({ ref, scene: r.scene, residual: r.diagnostics.maxBoxResidual }),
        (error: unknown) => ({ ref, error }),
      ),
    );
  };
  while (next < refs.length && pending.length < workers) start();
  while (pending.length > 0) {
    const r = await pending.shift()!;
    if (next < refs.length) start();
    if (r.error !== undefined || !r.scene) {
      const e = r.error;
      if (!(e instanceof InputError)) throw e;
      onFail({ token: r.ref.token, file: r.ref.file, error: e.message });
      continue;
    }
    yield { ref: r.ref, scene: r.scene, residual: r.residual ?? 0 };
  }
}

/** PDM-Closed's own plan (0.5 .. 4 s of its cached states) in the ego frame: a fixed probe. */
function pdmPlan(scene: PDMScene): Float64Array {
  const st = scene.pdmClosedTrajectory!;
  const e = scene.ego;
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  const out = new Float64Array(24);
  for (let k = 0; k < 8; k++) {
    const o = 5 * (k + 1) * 11;
    const dx = st[o]! - e.x, dy = st[o + 1]! - e.y, h = st[o + 2]! - e.heading;
    out[3 * k] = c * dx + s * dy;
    out[3 * k + 1] = -s * dx + c * dy;
    out[3 * k + 2] = Math.atan2(Math.sin(h), Math.cos(h));
  }
  return out;
}

function scoreOne(scene: PDMScene, poses: Float64Array, version: PDMVersion, pdm?: Float64Array): Record<string, number | null> {
  const entry: CachedScene = { index: 0, name: scene.name, seed: null, scene, pdmClosed: {}, pdmClosedSource: {}, humanMetrics: {} };
  const states = pdm ?? scene.pdmClosedTrajectory;
  if (!states) {
    const c = cacheEntry({ scene }, [version]);
    entry.pdmClosed = c.pdmClosed;
  } else entry.pdmClosed[version] = states;
  const r = scoreCachedScene(entry, poses, 1, { version });
  const out: Record<string, number | null> = {};
  for (const n of METRIC_NAMES[version]) {
    const v = r.metrics[n]![0]!;
    out[n] = Number.isFinite(v) ? v : null;
  }
  out.score = Number.isFinite(r.score[0]!) ? r.score[0]! : null;
  return out;
}

async function importCacheCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { out: 'string', concurrency: 'number', workers: 'number', verify: 'number', 'shard-size': 'number', force: 'boolean', quiet: 'boolean' }, IMPORT_USAGE);
  const [dir, ...extra] = opts._;
  if (!dir || extra.length > 0) throw new UsageError(`drivekit navsim import-cache: give one CACHE_DIR.\n${usageText(IMPORT_USAGE)}`, { field: 'CACHE_DIR', expected: 'one folder', found: opts._ });
  const out = opts.out as string | undefined;
  if (!out) throw new UsageError(`drivekit navsim import-cache: --out is required.\n${usageText(IMPORT_USAGE)}`, { field: '--out', expected: 'an .arrow file or a folder', found: undefined });
  if (opts.concurrency !== undefined && opts.workers !== undefined) throw new UsageError('drivekit navsim import-cache: give --concurrency (or its old name --workers), not both.', { field: '--concurrency', expected: 'one of --concurrency, --workers', found: 'both' });
  const workers = intOption(opts, opts.workers !== undefined ? 'workers' : 'concurrency', 4, { min: 1, max: 256 });
  const verifyN = intOption(opts, 'verify', 0, { min: 0 });
  const shardSize = intOption(opts, 'shard-size', 256, { min: 1 });
  const toArrow = out.endsWith('.arrow');
  if (toArrow && fs.existsSync(out) && !opts.force) {
    throw new InputError(InputError.format({ file: out, expected: 'a new file', found: 'an existing file' }, 'Pass --force to replace it.'), { file: out, expected: 'a new file', found: 'an existing file' });
  }
  const t0 = performance.now();
  const listing = listNavsimCache(dir);
  const failures: Failure[] = [];
  const fail = (f: Failure) => {
    failures.push(f);
    io.err(JSON.stringify(f));
  };
  for (const u of listing.unresolved) fail({ token: u.token ?? '', file: u.file ?? '', error: u.message });
  const bar = progress({ total: listing.files.length, label: 'navsim import-cache', mode: opts.quiet ? 'silent' : 'auto' });
  let count = 0, residual = 0, done = 0;
  const names = new Set<string>();
  const writer = toArrow ? null : new MetricCacheWriter(out, ['v1.1'], shardSize, { force: Boolean(opts.force), source: { navsimMetricCache: listing.root, files: listing.files.length } });
  const scenes: PDMScene[] = [];
  try {
    for await (const r of importAll(listing.files, workers, (f) => {
      fail(f);
      bar.update(++done, { failed: failures.length });
    })) {
      if (names.has(r.scene.name)) {
        fail({ token: r.ref.token, file: r.ref.file, error: `${r.ref.file}: token ${r.ref.token}: listed twice (the first is kept)` });
      } else {
        names.add(r.scene.name);
        residual = Math.max(residual, r.residual);
        if (writer) writer.add({ ...cacheEntry({ scene: r.scene }, ['v1.1'], count) });
        else scenes.push(r.scene);
        count++;
      }
      bar.update(++done, { failed: failures.length });
    }
    if (writer) writer.finish();
    else writeScenesArrow(out, scenes);
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - t0) / 1e3;
  const summary: Record<string, unknown> = {
    out, format: toArrow ? 'arrow-scenes' : 'metric-cache', scenes: count, failed: failures.length, listed: listing.files.length + listing.unresolved.length,
    metadata: listing.metadata.length > 0 ? listing.metadata : 'walk', seconds: Number(seconds.toFixed(3)), scenes_per_s: Number((count / Math.max(seconds, 1e-9)).toFixed(1)),
    max_box_residual_m: residual,
  };
  if (verifyN > 0 && count > 0) summary.verify = await verifyImport(out, toArrow, listing.files, verifyN);
  io.out(JSON.stringify(summary));
  const verifyFailed = summary.verify !== undefined && !(summary.verify as { ok: boolean }).ok;
  return failures.length > 0 || verifyFailed ? 1 : 0;
}

/** Rescoring of a sample: the scene as written (reloaded) and as read again from its .pkl must agree bit for bit. */
async function verifyImport(out: string, toArrow: boolean, refs: NavsimCacheFileRef[], n: number): Promise<{ ok: boolean; checked: string[]; mismatches: { token: string; field: string; expected: unknown; found: unknown }[] }> {
  const written = new Map<string, { scene: PDMScene; pdm?: Float64Array }>();
  if (toArrow) for (const s of readScenesArrow(out)) written.set(s.name, { scene: s });
  else {
    const cache = openMetricCache(out);
    for (const name of cache.manifest.names) {
      const c = cache.scene(name);
      written.set(name, { scene: c.scene, pdm: c.pdmClosed['v1.1'] });
    }
  }
  const candidates = refs.filter((r) => written.has(r.token));
  const rng = new Rng(0);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform(0, 1) * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const picks = candidates.slice(0, n).sort((a, b) => (a.token < b.token ? -1 : 1));
  const mismatches: { token: string; field: string; expected: unknown; found: unknown }[] = [];
  for (const ref of picks) {
    const fresh = (await readNavsimCacheFile(ref)).scene;
    const w = written.get(ref.token)!;
    const a = JSON.stringify(sceneToJson(fresh)), b = JSON.stringify(sceneToJson(w.scene));
    if (a !== b) mismatches.push({ token: ref.token, field: 'scene', expected: 'the scene read from the .pkl', found: 'a different scene in the output' });
    const poses = pdmPlan(fresh);
    const ma = scoreOne(fresh, poses, 'v1.1');
    const mb = scoreOne(parseScene(sceneToJson(w.scene), { source: ref.token }), poses, 'v1.1', w.pdm);
    for (const k of Object.keys(ma)) if (!Object.is(ma[k], mb[k])) mismatches.push({ token: ref.token, field: k, expected: ma[k], found: mb[k] });
  }
  return { ok: mismatches.length === 0, checked: picks.map((p) => p.token), mismatches };
}

// ---------------------------------------------------------------------------------------------
// scene sources and trajectory files

interface SourceScene {
  name: string;
  scene: PDMScene;
  /** PDM-Closed states from a drivekit metric cache, per version. */
  pdm: Partial<Record<PDMVersion, Float64Array>>;
}

/** Scenes of an .arrow file, a drivekit metric cache folder or a NAVSIM metric cache folder; files that fail become errors. */
export async function loadSceneSource(spec: string): Promise<{ scenes: SourceScene[]; errors: Failure[] }> {
  if (!fs.existsSync(spec)) throw new InputError(InputError.format({ file: spec, expected: 'an .arrow scenes file or a metric cache folder', found: 'nothing' }), { file: spec, expected: 'scenes', found: 'nothing' });
  if (fs.statSync(spec).isFile()) return { scenes: readScenesArrow(spec).map((scene) => ({ name: scene.name, scene, pdm: {} })), errors: [] };
  if (fs.existsSync(path.join(spec, MANIFEST_FILE))) {
    const cache = openMetricCache(spec);
    return {
      scenes: cache.manifest.names.map((name) => {
        const c = cache.scene(name);
        return { name, scene: c.scene, pdm: c.pdmClosed };
      }),
      errors: [],
    };
  }
  const listing = listNavsimCache(spec);
  const errors: Failure[] = listing.unresolved.map((u) => ({ token: u.token ?? '', file: u.file ?? spec, error: u.message }));
  const scenes: SourceScene[] = [];
  for await (const r of importAll(listing.files, 4, (f) => errors.push(f))) scenes.push({ name: r.scene.name, scene: r.scene, pdm: {} });
  return { scenes, errors };
}

/** `{token: [[x, y, heading] x K]}` with K >= 2 finite poses each. */
export function readTrajectoryFile(file: string): Map<string, Float64Array> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const found = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InputError(InputError.format({ file, expected: 'a JSON file {token: [[x, y, heading], ...]}', found }), { file, expected: 'JSON', found, cause: e });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError(InputError.format({ file, expected: 'an object {token: [[x, y, heading], ...]}', found: Array.isArray(json) ? 'an array' : json }), { file, expected: 'an object', found: json });
  }
  const out = new Map<string, Float64Array>();
  for (const [token, poses] of Object.entries(json)) {
    const bad = (found: unknown) => new InputError(InputError.format({ file, field: token, expected: 'at least 2 poses [x, y, heading] of finite numbers (NAVSIM: 8 at 0.5 s)', found }), { file, field: token, expected: 'poses', found });
    if (!Array.isArray(poses) || poses.length < 2) throw bad(Array.isArray(poses) ? `${poses.length} poses` : poses);
    const flat = new Float64Array(poses.length * 3);
    poses.forEach((p, i) => {
      if (!Array.isArray(p) || p.length !== 3 || p.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw bad(`pose ${i}: ${JSON.stringify(p)}`);
      flat.set(p as number[], 3 * i);
    });
    out.set(token, flat);
  }
  return out;
}

interface TokenResult {
  name: string;
  metrics?: Record<string, number | null>;
  error?: string;
}

/** Scores every scene with its token's trajectory; missing on either side is an error line. */
async function scoreWithTrajectories(
  sources: string[] | { spec: string; scenes: SourceScene[]; errors: Failure[] }[],
  trajFile: string,
  version: PDMVersion | undefined,
  given?: Map<string, Float64Array>,
): Promise<{ results: TokenResult[]; version: PDMVersion }> {
  const trajectories = given ?? readTrajectoryFile(trajFile);
  const results: TokenResult[] = [];
  const seen = new Set<string>();
  let v: PDMVersion | undefined = version;
  for (const src of sources) {
    const spec = typeof src === 'string' ? src : src.spec;
    const { scenes, errors } = typeof src === 'string' ? await loadSceneSource(src) : src;
    for (const e of errors) results.push({ name: e.token, error: e.error });
    for (const s of scenes) {
      if (seen.has(s.name)) {
        results.push({ name: s.name, error: `${spec}: token ${s.name}: a second scene with this token (the first is scored)` });
        continue;
      }
      seen.add(s.name);
      const ver = v ?? (s.scene.schema === 'pdm_ref_scene/v2' ? 'v2.2' : 'v1.1');
      v ??= ver;
      const poses = trajectories.get(s.name);
      if (!poses) {
        results.push({ name: s.name, error: `${trajFile}: token ${s.name}: no trajectory for this scene` });
        continue;
      }
      try {
        const k = poses.length / 3;
        const entry: CachedScene = { index: 0, name: s.name, seed: null, scene: s.scene, pdmClosed: { ...s.pdm }, pdmClosedSource: {}, humanMetrics: {} };
        if (!entry.pdmClosed[ver]) entry.pdmClosed[ver] = s.scene.pdmClosedTrajectory ?? cacheEntry({ scene: s.scene }, [ver]).pdmClosed[ver]!;
        const r = scoreCachedScene(entry, poses, 1, { version: ver, posesPerProposal: k });
        const metrics: Record<string, number | null> = {};
        for (const n of METRIC_NAMES[ver]) metrics[n] = Number.isFinite(r.metrics[n]![0]!) ? r.metrics[n]![0]! : null;
        metrics.score = Number.isFinite(r.score[0]!) ? r.score[0]! : null;
        results.push({ name: s.name, metrics });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        results.push({ name: s.name, error: e.message });
      }
    }
  }
  for (const token of trajectories.keys()) if (!seen.has(token)) results.push({ name: token, error: `${trajFile}: token ${token}: a trajectory without a scene` });
  return { results, version: v ?? 'v1.1' };
}

function versionFlag(v: unknown): PDMVersion | undefined {
  if (v === undefined) return undefined;
  if (v !== 'v1.1' && v !== 'v2.2') throw flagError('version', 'v1.1 or v2.2', v);
  return v;
}

/** `navsim score SCENES --trajectories FILE`. */
export async function navsimScoreTrajectoriesCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { trajectories: 'string', version: 'string', json: 'boolean' }, SCORE_TRAJECTORIES_USAGE);
  const file = opts.trajectories as string | undefined;
  if (!file) throw new UsageError(`--trajectories FILE.json is required.\n${usageText(SCORE_TRAJECTORIES_USAGE)}`, { field: '--trajectories', expected: 'a JSON file', found: undefined });
  if (opts._.length === 0) throw new UsageError(`no scenes given.\n${usageText(SCORE_TRAJECTORIES_USAGE)}`, { field: 'SCENES', expected: 'scenes', found: [] });
  const { results, version } = await scoreWithTrajectories(opts._, file, versionFlag(opts.version));
  for (const r of results) io.out(JSON.stringify(r.error !== undefined ? { name: r.name, error: r.error } : { name: r.name, metrics: r.metrics }));
  if (!opts.json) io.out(formatPDMTable(pdmTable(results as PDMSceneResult[], version)));
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

/** Python's `repr` of a float (as pandas writes it): shortest round trip, exponent below 1e-4 or from 1e16. */
export function pyFloat(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(v);
}

/**
 * Plans of a DiffusionPlanner checkpoint for imported scenes: conditioning from `sceneTokens` of
 * each scene, status [command (from the centre line), vx, vy, ax, ay]; a v1.1 cache holds no ego
 * history, so the history is the constant-velocity past (x = vx * t at t = -1.5, -1, -0.5, 0).
 * Deterministic DDIM from noise seeded by `seed` and the scene's index in token order.
 */
async function checkpointPlans(scenes: SourceScene[], dirArg: string, opts: { seed: number; steps?: number; tokens?: number }): Promise<Map<string, Float64Array>> {
  const { resolvePlannerCheckpoint } = await import('../models/planner-checkpoint.js');
  const dir = resolvePlannerCheckpoint(dirArg).dir;
  const { init } = await import('../core/backend.js');
  await init({ backend: 'auto' });
  const { DiffusionPlanner } = await import('../models/planner.js');
  const { sceneTokens, sceneCommand } = await import('../navsim/scene-tokens.js');
  const { DRIVING_COMMANDS } = await import('../navsim/scenegen.js');
  const tf = await import('@tensorflow/tfjs');
  const planner = await DiffusionPlanner.fromCheckpoint(dir);
  try {
    const dataJson = path.join(dir, 'data.json');
    const L = (fs.existsSync(dataJson) ? (JSON.parse(fs.readFileSync(dataJson, 'utf8')) as { condLength?: number }).condLength : undefined) ?? opts.tokens;
    if (L === undefined) throw new UsageError(`${dir} records no conditioning length (data.json condLength); give --tokens L.`, { field: '--tokens', expected: 'an integer >= 1', found: undefined });
    const H = planner.config.condDim;
    const out = new Map<string, Float64Array>();
    const order = [...scenes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    order.forEach((sc, i) => {
      const e = sc.scene.ego;
      const status = new Float32Array(8);
      status[DRIVING_COMMANDS.indexOf(sceneCommand(sc.scene))] = 1;
      status.set([e.vx, e.vy, e.ax, e.ay], 4);
      const history = new Float32Array(12);
      for (let j = 0; j < 4; j++) history[3 * j] = e.vx * (j - 3) * 0.5;
      const r = tf.tidy(() => {
        const smp = planner.sample(
          { hiddenStates: tf.tensor3d(sceneTokens(sc.scene, { numTokens: L, width: H }), [1, L, H]), history: tf.tensor2d(history, [1, 12]), status: tf.tensor2d(status, [1, 8]) },
          { rng: new Rng(opts.seed * 1_000_003 + i), deterministic: true, ...(opts.steps !== undefined ? { steps: opts.steps } : {}) },
        );
        smp.normalized.dispose();
        return smp.trajectory;
      });
      out.set(sc.name, Float64Array.from(r.dataSync() as Float32Array));
      r.dispose();
    });
    return out;
  } finally {
    planner.dispose();
  }
}

/** `navsim eval --cache SCENES (--trajectories FILE | --checkpoint DIR) --out results.csv`. */
export async function navsimEvalCacheCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(
    args,
    { cache: 'string', trajectories: 'string', checkpoint: 'string', out: 'string', version: 'string', json: 'boolean', quiet: 'boolean', seed: 'number', steps: 'number', tokens: 'number' },
    EVAL_CACHE_USAGE,
  );
  const cache = opts.cache as string | undefined;
  const file = opts.trajectories as string | undefined;
  const out = opts.out as string | undefined;
  if (!cache) throw new UsageError(`--cache SCENES is required.\n${usageText(EVAL_CACHE_USAGE)}`, { field: '--cache', expected: 'scenes', found: undefined });
  const checkpoint = opts.checkpoint as string | undefined;
  if ((file === undefined) === (checkpoint === undefined)) {
    throw new UsageError(`give one of --trajectories FILE.json and --checkpoint DIR.\n${usageText(EVAL_CACHE_USAGE)}`, { field: '--trajectories', expected: 'one of --trajectories, --checkpoint', found: [file, checkpoint] });
  }
  if (!out) throw new UsageError(`--out results.csv is required.\n${usageText(EVAL_CACHE_USAGE)}`, { field: '--out', expected: 'a .csv file', found: undefined });
  const version0 = versionFlag(opts.version);
  let results: TokenResult[], version: PDMVersion;
  if (checkpoint !== undefined) {
    const loaded = await loadSceneSource(cache);
    const plans = await checkpointPlans(loaded.scenes, checkpoint, { seed: intOption(opts, 'seed', 0), steps: intOption(opts, 'steps', undefined, { min: 1 }), tokens: intOption(opts, 'tokens', undefined, { min: 1 }) });
    ({ results, version } = await scoreWithTrajectories([{ spec: cache, ...loaded }], `--checkpoint ${checkpoint}`, version0, plans));
  } else {
    ({ results, version } = await scoreWithTrajectories([cache], file!, version0));
  }
  const names = [...METRIC_NAMES[version], 'score'];
  const lines = [',' + ['token', 'valid', ...names].join(',')];
  const sums = new Float64Array(names.length), counts = new Float64Array(names.length);
  results.forEach((r, i) => {
    const vals = names.map((n) => r.metrics?.[n] ?? null);
    vals.forEach((v, k) => {
      if (v !== null) {
        sums[k]! += v;
        counts[k]!++;
      }
    });
    lines.push([String(i), r.name, r.error === undefined ? 'True' : 'False', ...vals.map(pyFloat)].join(','));
  });
  const means = names.map((_, k) => (counts[k]! > 0 ? sums[k]! / counts[k]! : null));
  const valid = results.every((r) => r.error === undefined);
  lines.push([String(results.length), 'average', valid ? 'True' : 'False', ...means.map(pyFloat)].join(','));
  const summary = {
    version, n: results.length, valid: results.filter((r) => r.error === undefined).length, failed: results.filter((r) => r.error !== undefined).map((r) => ({ token: r.name, error: r.error })),
    [version === 'v1.1' ? 'pdms' : 'epdms']: means[names.length - 1], metrics: Object.fromEntries(names.slice(0, -1).map((n, k) => [n, means[k]])), csv: out,
  };
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileAtomicSync(out, lines.join('\n') + '\n');
  const summaryFile = out.replace(/\.csv$/i, '') + '.json';
  writeFileAtomicSync(summaryFile, JSON.stringify({ ...summary, summary: summaryFile }, null, 1) + '\n');
  if (opts.json) io.out(JSON.stringify({ ...summary, summary: summaryFile }));
  else {
    for (const f of summary.failed) io.err(JSON.stringify(f));
    io.out(formatPDMTable(pdmTable(results as PDMSceneResult[], version)));
    io.out(`per-token CSV: ${out}; summary: ${summaryFile}`);
  }
  return valid ? 0 : 1;
}

/** `navsim import-cache`. */
export async function navsimImportCacheCommand(args: string[], io: CliIO): Promise<number> {
  return importCacheCommand(args, io);
}

