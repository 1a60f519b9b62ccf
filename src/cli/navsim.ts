/**
 * `drivekit navsim`: NAVSIM PDM scoring from the command line.
 *
 *   drivekit navsim score <scene.json | scenes.arrow>... [--version v1.1|v2.2] [--json] [--workers N]
 *   drivekit navsim pack <scene.json>... --out <scenes.arrow>
 *   drivekit navsim render <scene.json> --out <scene.svg|scene.png>   (navsim-render.ts)
 *   drivekit navsim import-cache CACHE_DIR --out <scenes.arrow|DIR>     (navsim-import.ts; also score/eval --trajectories)
 *
 * `score` prints one JSON line per scene, `{"name", "metrics": {...}}`, with the golden files'
 * metric keys (NaN as null); a golden file (`{input, expected}`) is scored from its `input`. A file
 * that cannot be read or scored gives `{"name", "file", "error"}` and the others are still scored;
 * the exit code is 1 when any scene failed. Without `--json` a PDMS / EPDMS table follows the lines.
 * `pack` validates scenes and writes them to one Arrow IPC file (the multi-scene layout).
 */
import { formatPDMTable, pdmTable, type PDMSceneResult } from '../metrics/pdm-table.js';
import { sharedScenePool, type PoolSceneResult } from '../navsim/pool.js';
import { parseScene } from '../navsim/scene-json.js';
import { defaultVersion, readSceneFile, scoreParsedScene, scoreSceneJson } from '../navsim/score-scene.js';
import type { PDMScene, PDMVersion } from '../navsim/types.js';
import { HelpRequest, UsageError, WORKERS_HELP, ensureParentDir, parseArgs, usageText, workersOption } from './args.js';
import { checkSceneFile } from './files.js';
import type { CliIO } from './main.js';

const SCORE_USAGE = `drivekit navsim score <scene.json|scenes.arrow>... [options]

  score every scene (PDM-Closed runs unless the scene pins pdm_closed_trajectory); one JSON line
  per scene: {"name", "metrics"}; a file or scene that cannot be scored gives {"name", "file", "error"},
  the others are still scored, and the exit code is 1
  --version V     v1.1 (PDMS) or v2.2 (EPDMS) (default: from the scene schema, v1 -> v1.1, v2 -> v2.2)
  --json          only the JSON lines (no summary table)
  --workers N     ${WORKERS_HELP}: this one and N-1 worker threads
  --trajectories F  score each scene's token's plan from F ({token: [[x, y, heading] x 8]}) instead
                  (SCENES may then be NAVSIM metric cache folders; see docs/navsim.md)`;

const PACK_USAGE = `drivekit navsim pack <scene.json>... --out <scenes.arrow>

  validate scenes and write them to one Arrow IPC file (the folder of --out is created)
  --out FILE      the Arrow file to write (required)`;

const USAGE = `drivekit navsim <subcommand> [options]

  score    PDMS / EPDMS of scene files (.json or .arrow)
  pack     validate scene JSON files and write one Arrow file
  render   draw one scene with its trajectories coloured by score (see navsim render --help)
  cache    NAVSIM metric cache: build from scenes or seeds, verify (see docs/navsim-cache.md)
  import-cache  read NAVSIM's own metric cache (v1.1 .pkl files) into drivekit scenes (see docs/navsim.md)
  eval     mean PDMS / EPDMS of a checkpoint or a baseline (cv, pdm-closed, human) on seeds
  stats    scene statistics of a split (commands, lead braking, junctions, human PDMS)
  train-il    imitation learning of the diffusion planner on generated scenes or a cache
  train-grpo  DiffGRPO with a BC anchor from an IL checkpoint (see docs/grpo.md)

Run \`drivekit navsim <subcommand> --help\` for its options and defaults.`;

interface SceneJob {
  file: string;
  name: string;
  /** A scene decoded from an Arrow file (scored as it is: no JSON in between); absent for a JSON file, read when it is scored. */
  scene?: PDMScene;
  error?: string;
}

/**
 * The Arrow module, loaded on first use: apache-arrow takes ~0.2 s to load, a quarter of a
 * 312-scene call of JSON files that never need it.
 */
function arrowScenes(): Promise<typeof import('../navsim/arrow-scenes.js')> {
  return import('../navsim/arrow-scenes.js');
}

/**
 * Expands the arguments into jobs; JSON files stay unread (streamed), Arrow files are read here.
 * A missing, empty or foreign file becomes a job holding its error.
 */
async function planJobs(files: string[]): Promise<SceneJob[]> {
  const jobs: SceneJob[] = [];
  for (const file of files) {
    let kind: 'json' | 'arrow';
    try {
      kind = await checkSceneFile(file);
    } catch (e) {
      jobs.push({ file, name: file, error: (e as Error).message });
      continue;
    }
    if (kind === 'json') {
      jobs.push({ file, name: file });
      continue;
    }
    try {
      const { readScenesArrow } = await arrowScenes();
      const scenes = readScenesArrow(file);
      if (scenes.length === 0) jobs.push({ file, name: file, error: `${file}: expected at least one scene, found an Arrow file with 0 rows.` });
      for (const s of scenes) jobs.push({ file, name: s.name, scene: s });
    } catch (e) {
      jobs.push({ file, name: file, error: (e as Error).message });
    }
  }
  return jobs;
}

/** The job's decoded scene, dropped from the job (scored once: it can be collected after). */
function release(job: SceneJob): PDMScene {
  const s = job.scene!;
  job.scene = undefined;
  return s;
}

/** Scene JSON objects of one job (a JSON file may hold one scene, a golden file, or an array). */
function readJob(job: SceneJob): { name: string; json: unknown }[] {
  const parsed: unknown = readSceneFile(job.file); // its error is prefixed with the file by line(), as the pool's
  if (Array.isArray(parsed) && parsed.length === 0) throw new Error(`${job.file}: expected a scene object or a non-empty array of scenes, found an empty array [].`);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((j, i) => {
    const root = (j as any)?.input && !(j as any)?.schema ? (j as any).input : j;
    const name = typeof root?.name === 'string' ? root.name : Array.isArray(parsed) ? `${job.file}#${i}` : job.file;
    return { name, json: j };
  });
}

function line(r: PoolSceneResult, file: string): string {
  if (r.error !== undefined) return JSON.stringify({ name: r.name, file, error: r.error.includes(file) ? r.error : `${file}: ${r.error}` });
  return JSON.stringify({ name: r.name, metrics: r.metrics });
}

function versionOf(json: unknown): PDMVersion {
  const root = (json as any)?.input && !(json as any)?.schema ? (json as any).input : json;
  return root?.schema === 'pdm_ref_scene/v2' ? 'v2.2' : 'v1.1';
}

async function scoreCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { version: 'string', json: 'boolean', workers: 'number' }, SCORE_USAGE);
  const files = opts._;
  if (files.length === 0) throw new UsageError(`drivekit navsim score: no scene files given.\n${usageText(SCORE_USAGE)}`, { field: 'files', expected: 'one or more scene files', found: [] });
  const version = opts.version as string | undefined;
  if (version !== undefined && version !== 'v1.1' && version !== 'v2.2') {
    throw new UsageError(`Option --version: expected v1.1 or v2.2, found ${JSON.stringify(version)}.`, { field: '--version', expected: 'v1.1 or v2.2', found: version });
  }
  const workers = workersOption(opts);
  const scoreOptions = version ? { version: version as PDMVersion } : {};
  const tables = new Map<PDMVersion, PDMSceneResult[]>();
  let failed = 0;
  const emit = (r: PoolSceneResult, file: string, v: PDMVersion) => {
    io.out(line(r, file));
    if (r.error !== undefined) failed++;
    if (!opts.json) {
      if (!tables.has(v)) tables.set(v, []);
      tables.get(v)!.push(r.error !== undefined ? { name: r.name, error: r.error } : { name: r.name, metrics: r.metrics });
    }
  };
  const jobs = await planJobs(files);
  const fixed = version as PDMVersion | undefined;
  type Line = { r: PoolSceneResult; v: PDMVersion };
  /** The lines of one job scored in this thread. */
  const here = (job: SceneJob): Line[] => {
    if (job.error !== undefined) return [{ r: { name: job.name, error: job.error }, v: fixed ?? 'v1.1' }];
    if (job.scene !== undefined) {
      const scene = job.scene;
      job.scene = undefined; // scored once: let it (and its cached scoring context) go
      return [{ r: scoreParsedScene(scene, { ...scoreOptions, source: job.file }), v: fixed ?? defaultVersion(scene) }];
    }
    let items: { name: string; json: unknown }[];
    try {
      items = readJob(job);
    } catch (e) {
      return [{ r: { name: job.file, error: (e as Error).message }, v: fixed ?? 'v1.1' }];
    }
    return items.map((it) => ({ r: scoreSceneJson(it.json, { ...scoreOptions, source: job.file }), v: fixed ?? versionOf(it.json) }));
  };
  const helpers = workers > 1 ? Math.min(workers - 1, jobs.length - 1) : 0;
  if (helpers === 0) {
    for (const job of jobs) for (const l of here(job)) emit(l.r, job.file, l.v);
  } else {
    // this thread and `helpers` workers take the next file as they free; lines are printed in
    // input order. JSON files are read by whoever scores them. The pool is the process-wide one:
    // a later call in the same process finds its workers warm.
    const pool = sharedScenePool({ workers: helpers });
    const guess = (r: PoolSceneResult): PDMVersion => fixed ?? (r.error !== undefined ? 'v1.1' : 'lane_keeping' in r.metrics ? 'v2.2' : 'v1.1');
    const done: (Line[] | undefined)[] = new Array(jobs.length);
    let next = 0;
    let printed = 0;
    const flush = () => {
      while (printed < jobs.length && done[printed] !== undefined) {
        for (const l of done[printed]!) emit(l.r, jobs[printed]!.file, l.v);
        done[printed] = [];
        printed++;
      }
    };
    const viaPool = async () => {
      for (let i = next++; i < jobs.length; i = next++) {
        const j = jobs[i]!;
        const rs: PoolSceneResult[] =
          j.error !== undefined
            ? [{ name: j.name, error: j.error }]
            : j.scene !== undefined
              ? [await pool.scoreParsed(release(j), scoreOptions)]
              : await pool.scoreFileAll(j.file, scoreOptions);
        if (rs.length === 0) rs.push({ name: j.file, error: `${j.file}: expected a scene object or a non-empty array of scenes, found an empty array [].` });
        done[i] = rs.map((r) => ({ r, v: guess(r) }));
        flush();
      }
    };
    const inThisThread = async () => {
      for (let i = next++; i < jobs.length; i = next++) {
        done[i] = here(jobs[i]!);
        flush();
        await new Promise((resolve) => setImmediate(resolve)); // let worker results and new tasks through
      }
    };
    // one loop per task slot of the pool (workers x depth), so every worker always holds work
    await Promise.all([...Array.from({ length: pool.size * pool.depth }, viaPool), inThisThread()]);
  }
  for (const [v, rows] of tables) io.out(formatPDMTable(pdmTable(rows, v)));
  return failed > 0 ? 1 : 0;
}

async function packCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { out: 'string' }, PACK_USAGE);
  const out = opts.out as string | undefined;
  if (!out) throw new UsageError(`drivekit navsim pack: --out <scenes.arrow> is required.\n${usageText(PACK_USAGE)}`, { field: '--out', expected: 'a file name', found: undefined });
  if (opts._.length === 0) throw new UsageError(`drivekit navsim pack: no scene files given.\n${usageText(PACK_USAGE)}`, { field: 'files', expected: 'one or more scene files', found: [] });
  const scenes: PDMScene[] = [];
  let failed = 0;
  for (const job of await planJobs(opts._)) {
    try {
      if (job.error !== undefined) throw new Error(job.error);
      for (const it of readJob(job)) {
        try {
          scenes.push(parseScene(it.json, { source: job.file }));
        } catch (e) {
          failed++;
          io.err(JSON.stringify({ name: it.name, file: job.file, error: (e as Error).message }));
        }
      }
    } catch (e) {
      failed++;
      io.err(JSON.stringify({ name: job.name, file: job.file, error: (e as Error).message }));
    }
  }
  if (failed > 0) {
    io.err(`drivekit navsim pack: ${failed} scene(s) invalid; ${out} not written.`);
    return 1;
  }
  const { writeScenesArrow } = await arrowScenes();
  ensureParentDir(out);
  writeScenesArrow(out, scenes);
  io.out(JSON.stringify({ out, scenes: scenes.length }));
  return 0;
}

/** Entry point of `drivekit navsim`. */
export async function navsimCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  // NAVSIM's own metric caches (navsim-import.ts): import-cache, score/eval with --trajectories
  if (sub === 'import-cache') return (await import('./navsim-import.js')).navsimImportCacheCommand(rest, io);
  if (sub === 'score' && rest.includes('--trajectories')) return (await import('./navsim-import.js')).navsimScoreTrajectoriesCommand(rest, io);
  if (sub === 'eval' && (rest.includes('--trajectories') || (rest.includes('--cache') && !rest.includes('--seeds') && !rest.includes('--baseline')))) {
    return (await import('./navsim-import.js')).navsimEvalCacheCommand(rest, io);
  }
  if (sub === 'score') return scoreCommand(rest, io);
  if (sub === 'pack') return packCommand(rest, io);
  if (sub === 'render') return (await import('./navsim-render.js')).navsimRenderCommand(rest, io);
  if (sub === 'cache') return (await import('./navsim-cache.js')).navsimCacheCommand(rest, io);
  if (sub === 'eval' || sub === 'stats') return (await import('./navsim-eval.js')).navsimEvalCommand(sub, rest, io);
  if (sub === 'train-il' || sub === 'train-grpo') return (await import('./navsim-train.js')).navsimTrainCommand(sub, rest, io);
  if (sub === '--help' || sub === '-h') throw new HelpRequest(usageText(USAGE));
  if (sub === undefined) throw new UsageError(usageText(USAGE));
  throw new UsageError(`drivekit navsim: unknown subcommand '${sub}'. Valid: score, pack, render.\n${usageText(USAGE)}`, { field: 'subcommand', expected: 'score, pack or render', found: sub });
}
