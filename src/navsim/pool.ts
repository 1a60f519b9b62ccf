/**
 * A worker-thread pool that scores many scenes in parallel, on `WorkerPool` (`core/worker-pool.ts`,
 * the one pool of drivekit). Work is plain data: each task is a scene JSON object (`pdm_ref_scene`,
 * or a golden file with `input`), a parsed scene (from an Arrow file) or a JSON file name, plus
 * options, and each result is `{name, metrics}` or `{name, error}`, so nothing but structured-clone
 * data crosses threads.
 *
 * Workers load the scorer from a module that exports `score-scene`'s functions (`scoreSceneJson`,
 * `scoreParsedScene`, `scoreSceneFileTask`). Resolution order: `options.modulePath`, env
 * `DRIVEKIT_NAVSIM_MODULE`, then `score-scene` next to this file (`dist/cjs/navsim/score-scene.js`
 * or the ESM one when this file runs from the build; not the navsim `index`, whose Arrow and
 * scene-generator imports cost a worker ~0.2 s to load). A `.ts` module (running from source) is
 * bundled once by esbuild (a dev dependency, present wherever the sources run) into one CommonJS
 * text that each worker evaluates once, so no worker compiles TypeScript; without esbuild the
 * worker registers the `tsx` loader instead.
 * Each worker holds `depth` scenes (default 2: one scoring, the next already waiting, so a worker
 * never idles while the calling thread is busy), handed out to the least-loaded worker as it frees.
 * A worker that dies answers its scenes with error results and is not replaced; idle workers do not
 * keep the process alive. `sharedScenePool` keeps one pool per process and size for callers that
 * score in many calls (the CLI's `--workers`), so later calls find warm, compiled workers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DrivekitError } from '../core/errors.js';
import { WorkerPool, workerModuleLoader } from '../core/worker-pool.js';
import type { PdmScene } from './types.js';

/** Options passed to `scoreSceneJson` in the worker (plain data). */
export interface PoolScoreOptions {
  version?: 'v1.1' | 'v2.2';
  [key: string]: unknown;
}

/** One scene's outcome (what the CLI prints per line). */
export type PoolSceneResult =
  | { name: string; metrics: Record<string, number | null>; error?: undefined }
  | { name: string; error: string; metrics?: undefined };

export interface ScenePoolOptions {
  /** Number of worker threads (default: available parallelism, at least 1). */
  workers?: number;
  /** Module exporting `score-scene`'s scoring functions; see the resolution order above. */
  modulePath?: string;
  /** Scenes in flight per worker (default 2: one scoring, one waiting). */
  depth?: number;
}

/** This file's path, from `__filename` (CJS build) or the stack trace (ESM build, source). */
function thisFile(): string | null {
  // CJS build: __filename (checked: `node -e` defines a global __filename of "[eval]")
  if (typeof __filename === 'string' && /pool\.(?:c?js|ts)$/.test(__filename)) return __filename;
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n')) {
    const m = /((?:file:\/\/)?\/[^\s()]*pool\.(?:js|ts|mjs|cjs))/.exec(line);
    if (m) return m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
  }
  return null;
}

/** The module the workers load (see the resolution order in the file comment). */
export function resolveScorerModule(explicit?: string): string {
  return resolveNavsimModule('score-scene', explicit, 'DRIVEKIT_NAVSIM_MODULE', ['index']);
}

/**
 * A navsim module for workers: `explicit`, then env `envVar`, then `name` (or a `fallbacks` name)
 * next to this file, then `dist/cjs/navsim/<name>.js`.
 */
export function resolveNavsimModule(name: string, explicit: string | undefined, envVar: string, fallbacks: string[] = []): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(path.resolve(explicit));
  const env = process.env[envVar];
  if (env) candidates.push(path.resolve(env));
  const me = thisFile();
  if (me) {
    const dir = path.dirname(me);
    const ext = path.extname(me);
    for (const n of [name, ...fallbacks]) candidates.push(path.join(dir, `${n}${ext}`));
  }
  candidates.push(path.resolve(`dist/cjs/navsim/${name}.js`));
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(
    `ScenePool: no ${name} module found (tried ${candidates.join(', ')}). Build drivekit (npm run build) or pass modulePath / set ${envVar}.`,
  );
}

/** The module loader of `core/worker-pool.ts` (one loader for every worker of drivekit). */
export { workerModuleLoader };

/** A failed task as a result: a dead worker is named as such, anything else by its message. */
function failure(name: string, e: unknown): PoolSceneResult {
  if (e instanceof DrivekitError && e.field === 'worker') {
    return { name, error: e.found === 'none' ? 'no worker left' : `worker crashed: worker ${String(e.found)}` };
  }
  return { name, error: String((e as Error)?.message ?? e) };
}

/** A fixed set of workers scoring scenes; `close()` when done. */
export class ScenePool {
  readonly size: number;
  readonly modulePath: string;
  /** Tasks in flight per worker: the next scene waits in the worker, so it never idles on the caller. */
  readonly depth: number;
  private readonly pool: WorkerPool;
  private nextId = 0;
  private closed = false;
  /** Set by `sharedScenePool`: closing removes the pool from the shared set. */
  onClose: (() => void) | null = null;

  constructor(options: ScenePoolOptions = {}) {
    const n = options.workers ?? Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) | 0);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ScenePool: invalid workers: ${n}. Should be an integer >= 1.`);
    const depth = options.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`ScenePool: invalid depth: ${depth}. Should be an integer >= 1.`);
    this.size = n;
    this.depth = depth;
    this.modulePath = resolveScorerModule(options.modulePath);
    // a dead worker is not replaced (a scorer that crashes would crash again); idle workers do not
    // keep the process alive
    this.pool = new WorkerPool(n, { depth, respawn: false, keepAlive: false });
    this.pool.preload(this.modulePath);
  }

  private call(handler: string, task: unknown, args: unknown[], name: string, all: boolean): Promise<PoolSceneResult | PoolSceneResult[]> {
    if (this.closed) return Promise.reject(new Error('ScenePool: closed'));
    return this.pool.run<PoolSceneResult | PoolSceneResult[]>(this.modulePath, handler, task, { args }).catch((e: unknown) => {
      const r = failure(name, e);
      return all ? [r] : r;
    });
  }

  /** Scores one scene (JSON object) in some worker. */
  score(scene: unknown, options: PoolScoreOptions = {}): Promise<PoolSceneResult> {
    const id = this.nextId++;
    const name = typeof (scene as any)?.name === 'string' ? (scene as any).name : typeof (scene as any)?.input?.name === 'string' ? (scene as any).input.name : `scene ${id}`;
    return this.call('scoreSceneJson', scene, [options], name, false) as Promise<PoolSceneResult>;
  }

  /**
   * Scores a parsed scene (e.g. from an Arrow file: `readScenesArrow`) in some worker, as it is
   * (structured-cloned, no JSON in between); the same result as `score` of its JSON.
   */
  scoreParsed(scene: PdmScene, options: PoolScoreOptions = {}): Promise<PoolSceneResult> {
    return this.call('scoreParsedScene', scene, [options], scene.name, false) as Promise<PoolSceneResult>;
  }

  /**
   * Scores a scene JSON file (a scene or a golden file); the worker reads and parses it, so the
   * calling thread never holds the scene. A file that cannot be read gives an error result.
   */
  scoreFile(file: string, options: PoolScoreOptions = {}): Promise<PoolSceneResult> {
    return this.call('scoreSceneFileTask', file, [options, false], file, false) as Promise<PoolSceneResult>;
  }

  /**
   * Scores every scene of a JSON file (one scene, a golden file, or an array of either) in one
   * worker, one result per scene in file order, as the in-process CLI does; a file that cannot be
   * read gives one error result.
   */
  scoreFileAll(file: string, options: PoolScoreOptions = {}): Promise<PoolSceneResult[]> {
    return this.call('scoreSceneFileTask', file, [options, true], file, true) as Promise<PoolSceneResult[]>;
  }

  /** Scores many scenes; results in input order. */
  scoreAll(scenes: ReadonlyArray<unknown>, options: PoolScoreOptions = {}): Promise<PoolSceneResult[]> {
    return Promise.all(scenes.map((s) => this.score(s, options)));
  }

  /** Terminates the workers (scenes still in flight get error results). */
  async close(): Promise<void> {
    this.closed = true;
    this.onClose?.();
    await this.pool.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Workers still running (a crashed worker is dropped). */
  get liveWorkers(): number {
    return this.pool.liveThreads;
  }
}

const shared = new Map<string, ScenePool>();

/**
 * A process-wide pool of `workers` threads, created on first use and kept (idle workers do not
 * keep the process alive), so that repeated calls in one process (the CLI's `main` called from a
 * notebook or a benchmark) reuse warm workers instead of starting and compiling new ones.
 * `close()` on it removes it; `closeSharedScenePools()` closes them all.
 */
export function sharedScenePool(options: ScenePoolOptions = {}): ScenePool {
  const modulePath = resolveScorerModule(options.modulePath);
  const key = `${options.workers ?? 'auto'}|${options.depth ?? 2}|${modulePath}`;
  let pool = shared.get(key);
  if (pool && !pool.isClosed && pool.liveWorkers === 0) void pool.close(); // every worker crashed: start anew
  if (!pool || pool.isClosed) {
    pool = new ScenePool({ ...options, modulePath });
    const p = pool;
    p.onClose = () => {
      if (shared.get(key) === p) shared.delete(key);
    };
    shared.set(key, p);
  }
  return pool;
}

/** Closes every pool made by `sharedScenePool`. */
export async function closeSharedScenePools(): Promise<void> {
  await Promise.all([...shared.values()].map((p) => p.close()));
}
