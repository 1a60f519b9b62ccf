/**
 * `ProposalScorePool`: scores groups of proposals against a metric cache, in worker threads that
 * keep the decoded scenes, their PDM-Closed states and their prepared scoring contexts warm (the
 * GRPO reward and the evaluation use it). Plain arrays in and out:
 *
 * ```ts
 * const pool = ProposalScorePool.open('cache/', { workers: 2 });   // 0 workers: this thread
 * const { score, metrics } = await pool.score(17, poses, 8, { version: 'v1.1' }); // poses: G*8*3, ego frame
 * const many = await pool.scoreBatch([{ scene: 0, poses: a, count: 8 }, { scene: 'gen_000005', poses: b, count: 8 }], { version: 'v2.2' });
 * await pool.close();
 * ```
 *
 * - `score[g]` is the PDMS (v1.1) or EPDMS (v2.2) of proposal g with the given weights;
 *   `metrics[name][g]` every sub-metric under the golden / NAVSIM key names (`METRIC_NAMES`), NaN
 *   where undefined (EC without a previous frame). Equal, bit for bit, to `scoreScene`.
 * - Scene i always goes to worker `i % workers` (so each worker decodes and prepares only its
 *   share, once); a worker loads a shard on first use and checks its sha256.
 * - A worker that dies (crash, `process.exit`, out of memory) rejects its calls in flight with a
 *   `DrivekitError` (field `worker`), never a hang; its scenes move to the next live worker. With
 *   no live worker left every call rejects.
 * - The threads are a `WorkerPool` (`core/worker-pool.ts`: one task per thread named by the
 *   call, no respawn, idle threads do not keep the process alive); workers load this module (the
 *   built one, or the TypeScript source bundled once) and run `scorePoolTask`.
 */
import { ConfigError, DrivekitError, InputError } from '../core/errors.js';
import {
  type BuildMetricCacheOptions,
  type CachedScoreOptions,
  MetricCache,
  type MetricCacheManifest,
  MetricCacheWriter,
  PDM_VERSIONS,
  type ProposalScoreResult,
  type WrittenShard,
  cacheEntry,
  openMetricCache,
  scoreCachedScene,
  seedScenes,
  shardFileName,
  writeShardFile,
} from './metric-cache.js';
import type { PDMVersion } from './types.js';
import { WorkerPool, parallelMap, transferResult } from '../core/worker-pool.js';
import { resolveNavsimModule } from './pool.js';


export interface ProposalScorePoolOptions {
  /** Worker threads (default 0: score in the calling thread). */
  workers?: number;
  /** Module the workers load (default: `score-pool` next to `pool.ts`; env `DRIVEKIT_NAVSIM_POOL_MODULE`). */
  modulePath?: string;
}

/** Options of one scoring call: the version, weights and pose layout (`CachedScoreOptions`). */
export type PoolScoreCallOptions = CachedScoreOptions;

/** One scene's proposals in a batched call. */
export interface ProposalBatchItem {
  /** Global index or scene name (token) in the cache. */
  scene: number | string;
  /** count x K x 3 values (x, y, heading in the ego frame; K = 8 at 0.5 s by default). */
  poses: Float64Array;
  count: number;
  /** v2.2 EC: the agent's plan at the scene's previous frame (8 x 3; `CachedScoreOptions.previousPoses`). */
  previous?: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// worker side (runs in each worker thread)

interface WorkerItem {
  scene: number;
  poses: Float64Array;
  count: number;
  previous?: Float64Array;
}

/** One call's items for one worker (plain data). */
export interface ScorePoolTask {
  op: 'score' | 'warm';
  dir: string;
  items: WorkerItem[];
  options: CachedScoreOptions;
}

/** What crosses back per item: the score and the metric columns (transferred, not copied). */
interface WorkerResult {
  score: Float64Array;
  names: string[];
  values: Float64Array[];
}

const workerCaches = new Map<string, MetricCache>();

/**
 * The workers' handler (run by `WorkerPool`): scores the items of one call against the cache at
 * `dir` (opened once per worker, shard hashes checked on load); throws on bad input (the pool
 * rebuilds the error in the calling thread).
 */
export function scorePoolTask(task: ScorePoolTask): { value: WorkerResult[]; transfer: ArrayBuffer[] } {
  let cache = workerCaches.get(task.dir);
  if (!cache) {
    cache = openMetricCache(task.dir, { checkHashes: 'load' });
    workerCaches.set(task.dir, cache);
  }
  const transfer: ArrayBuffer[] = [];
  const results = task.items.map((it) => {
    const c = cache.scene(it.scene);
    if (task.op === 'warm') {
      scoreCachedScene(c, new Float64Array(24), 1, task.options); // decodes and prepares the scene
      return { score: new Float64Array(0), names: [], values: [] };
    }
    const r = scoreCachedScene(c, it.poses, it.count, it.previous ? { ...task.options, previousPoses: it.previous } : task.options);
    const names = Object.keys(r.metrics);
    const values = names.map((n) => r.metrics[n]!);
    transfer.push(r.score.buffer as ArrayBuffer, ...values.map((v) => v.buffer as ArrayBuffer));
    return { score: r.score, names, values };
  });
  return transferResult(results, transfer);
}

// ---------------------------------------------------------------------------------------------
// calling side

export class ProposalScorePool {
  readonly cache: MetricCache;
  /** Worker threads (0: the calling thread scores). */
  readonly size: number;
  readonly modulePath: string | null;
  private readonly pool: WorkerPool | null;
  private closed = false;

  /** Opens the cache at `dir` (format and shard hashes checked) and starts the workers. */
  static open(cacheOrDir: string | MetricCache, options: ProposalScorePoolOptions = {}): ProposalScorePool {
    return new ProposalScorePool(typeof cacheOrDir === 'string' ? openMetricCache(cacheOrDir) : cacheOrDir, options);
  }

  constructor(cache: MetricCache, options: ProposalScorePoolOptions = {}) {
    const n = options.workers ?? 0;
    if (!Number.isInteger(n) || n < 0) {
      throw new ConfigError(ConfigError.format({ field: 'workers', expected: 'an integer >= 0', found: n }), { field: 'workers', expected: 'an integer >= 0', found: n });
    }
    if (n > 0 && cache.manifest.shards.length === 0 && cache.numScenes > 0) {
      throw new ConfigError(ConfigError.format({ field: 'workers', expected: '0 for an in-memory cache (workers read shard files)', found: n }), {
        field: 'workers', expected: '0 for an in-memory cache', found: n,
      });
    }
    this.cache = cache;
    this.size = n;
    this.modulePath = n > 0 ? resolveNavsimModule('score-pool', options.modulePath, 'DRIVEKIT_NAVSIM_POOL_MODULE') : null;
    // a dead worker is not replaced: its scenes move to the next live worker (`owner`)
    this.pool = n > 0 ? new WorkerPool(n, { respawn: false, keepAlive: false }) : null;
    this.pool?.preload(this.modulePath!);
  }

  /** Workers still running. */
  get liveWorkers(): number {
    return this.pool?.liveThreads ?? 0;
  }

  /** The live worker that owns scene `index`: `index % size`, else the next live one. */
  private owner(index: number): number {
    for (let k = 0; k < this.size; k++) {
      const w = (index + k) % this.size;
      if (this.pool!.isAlive(w)) return w;
    }
    throw new DrivekitError(`ProposalScorePool: no worker left (all ${this.size} died).`, { field: 'worker', expected: 'a live worker', found: 'none' });
  }
  private check(item: ProposalBatchItem, k: number): WorkerItem {
    const index = this.cache.indexOf(item.scene);
    if (!(item.poses instanceof Float64Array)) {
      throw new InputError(InputError.format({ field: 'poses', expected: 'a Float64Array', found: Object.prototype.toString.call(item.poses) }), { field: 'poses', expected: 'a Float64Array', found: typeof item.poses });
    }
    if (!Number.isInteger(item.count) || item.count < 0 || item.poses.length < item.count * k * 3) {
      const expected = `count >= 0 and count x ${k} x 3 pose values`;
      const found = `count ${item.count}, ${item.poses.length} values`;
      throw new InputError(InputError.format({ file: this.cache.manifest.names[index], field: 'poses', expected, found }), { file: this.cache.manifest.names[index], field: 'poses', expected, found });
    }
    if (item.previous !== undefined && (!(item.previous instanceof Float64Array) || item.previous.length < k * 3)) {
      const expected = `a Float64Array of ${k} x 3 pose values`;
      const found = item.previous instanceof Float64Array ? `${item.previous.length} values` : typeof item.previous;
      throw new InputError(InputError.format({ file: this.cache.manifest.names[index], field: 'previous', expected, found }), { file: this.cache.manifest.names[index], field: 'previous', expected, found });
    }
    return { scene: index, poses: item.poses, count: item.count, ...(item.previous !== undefined ? { previous: item.previous } : {}) };
  }

  /** Scores `count` proposals of one scene. */
  async score(scene: number | string, poses: Float64Array, count: number, options: PoolScoreCallOptions): Promise<ProposalScoreResult> {
    return (await this.scoreBatch([{ scene, poses, count }], options))[0]!;
  }

  /** Scores the proposals of many scenes (one message per worker); results in input order. */
  async scoreBatch(items: readonly ProposalBatchItem[], options: PoolScoreCallOptions): Promise<ProposalScoreResult[]> {
    return this.run('score', items, options);
  }

  /** Decodes and prepares scenes in their workers ahead of time (default: every scene). */
  async warm(scenes?: readonly (number | string)[], options: Pick<PoolScoreCallOptions, 'version'> = { version: this.cache.versions[0]! }): Promise<void> {
    const list = scenes ?? Array.from({ length: this.cache.numScenes }, (_, i) => i);
    await this.run('warm', list.map((s) => ({ scene: s, poses: new Float64Array(0), count: 0 })), { version: options.version });
  }

  private async run(op: 'score' | 'warm', items: readonly ProposalBatchItem[], options: PoolScoreCallOptions): Promise<ProposalScoreResult[]> {
    if (this.closed) throw new DrivekitError('ProposalScorePool: closed.', { field: 'pool', expected: 'an open pool', found: 'closed' });
    const k = options.posesPerProposal ?? 8;
    const checked = items.map((it) => this.check(it, k));
    if (this.size === 0) {
      // in this thread: the same handler the workers run, on the already open cache
      return checked.map((it) => {
        const c = this.cache.scene(it.scene);
        if (op === 'warm') {
          scoreCachedScene(c, new Float64Array(24), 1, options);
          return { score: new Float64Array(0), metrics: {} };
        }
        return scoreCachedScene(c, it.poses, it.count, it.previous ? { ...options, previousPoses: it.previous } : options);
      });
    }
    const byWorker = new Map<number, number[]>();
    checked.forEach((it, j) => {
      const w = this.owner(it.scene);
      if (!byWorker.has(w)) byWorker.set(w, []);
      byWorker.get(w)!.push(j);
    });
    const out: ProposalScoreResult[] = new Array(items.length);
    await Promise.all(
      [...byWorker].map(async ([w, idx]) => {
        const rs = await this.post(w, { op, dir: this.cache.dir, items: idx.map((j) => checked[j]!), options: { ...options } });
        idx.forEach((j, m) => (out[j] = rs[m]!));
      }),
    );
    return out;
  }

  private async post(w: number, task: ScorePoolTask): Promise<ProposalScoreResult[]> {
    let rs: WorkerResult[];
    try {
      rs = await this.pool!.run<WorkerResult[]>(this.modulePath!, 'scorePoolTask', task, { thread: w });
    } catch (e) {
      if (e instanceof DrivekitError && e.field === 'worker') {
        const why = `worker ${w} ${String(e.found)}`;
        throw new DrivekitError(`ProposalScorePool: ${why} while scoring; its scenes move to the other workers.`, { field: 'worker', expected: 'a live worker', found: why });
      }
      throw e;
    }
    return rs.map((r) => ({ score: r.score, metrics: Object.fromEntries(r.names.map((n, k) => [n, r.values[k]!])) }));
  }

  /** Fault injection (tests): worker `i` exits with `code` as a crashing scorer would, before its next task. */
  crashWorker(i: number, code = 70): void {
    this.pool?.crashThread(i, code);
  }

  /** Terminates the workers; later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// parallel cache building

/** A cache-building task (plain data): generate seeds [start, end), cache them, write shard `file` into `staging`. */
export interface BuildShardTask {
  staging: string;
  file: string;
  start: number;
  end: number;
  versions: PDMVersion[];
}

/** Runs one `BuildShardTask` (the handler `parallelMap`'s workers run; pure: the shard's bytes depend only on the task). */
export function buildShardTask(task: BuildShardTask): WrittenShard {
  const entries = [...seedScenes(task.start, task.end)].map((src, i) => cacheEntry(src, task.versions, i));
  return writeShardFile(task.staging, task.file, entries, task.versions);
}

/** The shard tasks of seeds [start, end) in shards of `shardSize` (shard k: `shardFileName(k)`). */
export function seedShardTasks(staging: string, range: { start: number; end: number }, shardSize: number, versions: PDMVersion[]): BuildShardTask[] {
  const tasks: BuildShardTask[] = [];
  for (let s = range.start, k = 0; s < range.end; s += shardSize, k++) tasks.push({ staging, file: shardFileName(k), start: s, end: Math.min(range.end, s + shardSize), versions });
  return tasks;
}

/**
 * `buildMetricCache` for generated seeds [start, end) with `workers` threads (`parallelMap` of
 * `core/worker-pool.ts`): each worker takes the next shard's seeds, generates and caches them and
 * writes the shard into the staging folder; the manifest is written last and the folder renamed
 * into place, as in the one-thread build (the shards are byte-identical to it). A worker that dies
 * fails the build (nothing appears at `dir`).
 */
export async function buildSeedMetricCache(
  dir: string,
  range: { start: number; end: number },
  opts: BuildMetricCacheOptions & { workers?: number; modulePath?: string } = {},
): Promise<MetricCacheManifest> {
  const versions = [...(opts.versions ?? PDM_VERSIONS)];
  const shardSize = opts.shardSize ?? 256;
  const writer = new MetricCacheWriter(dir, versions, shardSize, { ...opts, source: opts.source ?? { seeds: [range.start, range.end] } });
  const tasks = seedShardTasks(writer.staging, range, shardSize, versions);
  let rows = 0;
  try {
    const results = await parallelMap(tasks, {
      workers: Math.max(1, opts.workers ?? 1),
      module: opts.modulePath ?? process.env.DRIVEKIT_NAVSIM_POOL_MODULE ?? 'navsim/score-pool',
      handler: 'buildShardTask',
      local: buildShardTask,
      onResult: (r) => opts.onProgress?.((rows += r.rows)),
    });
    for (const r of results) writer.addWrittenShard(r);
    return writer.finish();
  } catch (e) {
    writer.abort();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// plan checks

/** A last waypoint counts as reversing when it goes back by more than this (m) along the plan's direction. */
export const REVERSING_TOLERANCE_M = 0.05;

/**
 * Whether proposal `p` of `poses` (count x K x 3, ego frame) reverses at its last waypoint
 * (ReCogDrive #23): the last step, waypoint K-2 -> K-1, projected on the plan's direction (origin ->
 * waypoint K-2; the ego's heading, +x, while that is shorter than 0.5 m), is below
 * -`REVERSING_TOLERANCE_M`.
 */
export function lastWaypointReverses(poses: ArrayLike<number>, p: number, posesPerProposal = 8): boolean {
  const k = posesPerProposal;
  const o = p * k * 3;
  const px = k >= 2 ? poses[o + 3 * (k - 2)]! : 0;
  const py = k >= 2 ? poses[o + 3 * (k - 2) + 1]! : 0;
  const dx = poses[o + 3 * (k - 1)]! - px;
  const dy = poses[o + 3 * (k - 1) + 1]! - py;
  const len = Math.hypot(px, py);
  const [ux, uy] = len >= 0.5 ? [px / len, py / len] : [1, 0];
  return dx * ux + dy * uy < -REVERSING_TOLERANCE_M;
}

/** Share of the `count` proposals whose last waypoint reverses (`lastWaypointReverses`). */
export function reversingFraction(poses: ArrayLike<number>, count: number, posesPerProposal = 8): number {
  if (count === 0) return 0;
  let n = 0;
  for (let p = 0; p < count; p++) if (lastWaypointReverses(poses, p, posesPerProposal)) n++;
  return n / count;
}
