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
 * - Workers reuse the loader of `pool.ts` (built module, or the TypeScript source bundled once).
 */
import { Worker } from 'node:worker_threads';
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
import { parallelMap } from '../core/worker-pool.js';
import { resolveNavsimModule, workerModuleLoader } from './pool.js';


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
// worker side (runs in each worker thread; also what the in-process mode calls)

interface WorkerItem {
  scene: number;
  poses: Float64Array;
  count: number;
  previous?: Float64Array;
}
interface WorkerRequest {
  id: number;
  op: 'score' | 'warm';
  dir: string;
  items: WorkerItem[];
  options: CachedScoreOptions;
}
interface WorkerReply {
  id: number;
  results?: { score: Float64Array; names: string[]; values: Float64Array[] }[];
  error?: { message: string; name: string; file?: string; field?: string; expected?: unknown; found?: unknown };
}

const workerCaches = new Map<string, MetricCache>();

/** A cache-building task: generate seeds [start, end), cache them, write shard `file` into `staging`. */
interface BuildRequest {
  id: number;
  op: 'build-shard';
  staging: string;
  file: string;
  start: number;
  end: number;
  versions: PDMVersion[];
}

/** The worker's handler of a cache-building task (exported for the worker bundle). */
export function buildShardWorkerHandle(msg: BuildRequest): { id: number; shard?: WrittenShard; error?: WorkerReply['error'] } {
  try {
    const entries = [...seedScenes(msg.start, msg.end)].map((src, i) => cacheEntry(src, msg.versions, i));
    return { id: msg.id, shard: writeShardFile(msg.staging, msg.file, entries, msg.versions) };
  } catch (e) {
    const d = e instanceof DrivekitError ? e : null;
    return { id: msg.id, error: { message: (e as Error)?.message ?? String(e), name: (e as Error)?.name ?? 'Error', ...(d ? { file: d.file, field: d.field, expected: d.expected, found: d.found } : {}) } };
  }
}

/** The worker's handler (exported for the worker bundle): scores the items of one request. */
export function scorePoolWorkerHandle(msg: WorkerRequest): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  try {
    let cache = workerCaches.get(msg.dir);
    if (!cache) {
      cache = openMetricCache(msg.dir, { checkHashes: 'load' });
      workerCaches.set(msg.dir, cache);
    }
    const transfer: ArrayBuffer[] = [];
    const results = msg.items.map((it) => {
      const c = cache.scene(it.scene);
      if (msg.op === 'warm') {
        scoreCachedScene(c, new Float64Array(24), 1, msg.options); // decodes and prepares the scene
        return { score: new Float64Array(0), names: [], values: [] };
      }
      const r = scoreCachedScene(c, it.poses, it.count, it.previous ? { ...msg.options, previousPoses: it.previous } : msg.options);
      const names = Object.keys(r.metrics);
      const values = names.map((n) => r.metrics[n]!);
      transfer.push(r.score.buffer as ArrayBuffer, ...values.map((v) => v.buffer as ArrayBuffer));
      return { score: r.score, names, values };
    });
    return { reply: { id: msg.id, results }, transfer };
  } catch (e) {
    const d = e instanceof DrivekitError ? e : null;
    return {
      reply: {
        id: msg.id,
        error: {
          message: (e as Error)?.message ?? String(e),
          name: (e as Error)?.name ?? 'Error',
          ...(d ? { file: d.file, field: d.field, expected: d.expected, found: d.found } : {}),
        },
      },
      transfer: [],
    };
  }
}

function workerSource(modulePath: string): string {
  return `
const { parentPort } = require('node:worker_threads');
const ready = ${workerModuleLoader(modulePath)};
parentPort.on('message', async (msg) => {
  if (msg.op === 'crash') process.exit(msg.code);
  let mod;
  try { mod = await ready; } catch (e) {
    parentPort.postMessage({ id: msg.id, error: { name: 'Error', message: 'worker could not load the scorer: ' + (e && e.message) } });
    return;
  }
  if (msg.op === 'build-shard') { parentPort.postMessage(mod.buildShardWorkerHandle(msg)); return; }
  const { reply, transfer } = mod.scorePoolWorkerHandle(msg);
  parentPort.postMessage(reply, transfer);
});
`;
}

/** Rebuilds a worker's error in this thread (an `InputError` stays one, with its fields). */
function errorFromReply(e: NonNullable<WorkerReply['error']>): Error {
  const details = { file: e.file, field: e.field, expected: e.expected, found: e.found };
  if (e.name === 'InputError') return new InputError(e.message, details);
  if (e.name === 'ConfigError') return new ConfigError(e.message, details);
  if (e.name === 'DrivekitError') return new DrivekitError(e.message, details);
  return new Error(e.message);
}

// ---------------------------------------------------------------------------------------------
// calling side

interface Pending {
  resolve: (r: ProposalScoreResult[]) => void;
  reject: (e: Error) => void;
  worker: number;
}

interface Slot {
  worker: Worker;
  alive: boolean;
  inFlight: Set<number>;
}

export class ProposalScorePool {
  readonly cache: MetricCache;
  /** Worker threads (0: the calling thread scores). */
  readonly size: number;
  readonly modulePath: string | null;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
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
    if (n > 0) {
      const src = workerSource(this.modulePath!);
      for (let i = 0; i < n; i++) {
        const w = new Worker(src, { eval: true });
        const slot: Slot = { worker: w, alive: true, inFlight: new Set() };
        w.on('message', (msg: WorkerReply) => this.onMessage(slot, msg));
        w.on('error', (err) => this.onDeath(i, `worker ${i} failed: ${err.message}`));
        w.on('exit', (code) => this.onDeath(i, `worker ${i} exited with code ${code}`));
        w.unref();
        this.slots.push(slot);
      }
    }
  }

  /** Workers still running. */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  private onMessage(slot: Slot, msg: WorkerReply): void {
    slot.inFlight.delete(msg.id);
    if (slot.inFlight.size === 0) slot.worker.unref();
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      p.reject(errorFromReply(msg.error));
      return;
    }
    p.resolve(
      msg.results!.map((r) => ({ score: r.score, metrics: Object.fromEntries(r.names.map((n, k) => [n, r.values[k]!])) })),
    );
  }

  private onDeath(i: number, why: string): void {
    const slot = this.slots[i]!;
    if (!slot.alive) return;
    slot.alive = false;
    if (this.closed) return;
    for (const id of slot.inFlight) {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.reject(new DrivekitError(`ProposalScorePool: ${why} while scoring; its scenes move to the other workers.`, { field: 'worker', expected: 'a live worker', found: why }));
    }
    slot.inFlight.clear();
  }

  /** The live worker that owns scene `index`: `index % size`, else the next live one. */
  private owner(index: number): number {
    for (let k = 0; k < this.size; k++) {
      const w = (index + k) % this.size;
      if (this.slots[w]!.alive) return w;
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

  private post(w: number, req: Omit<WorkerRequest, 'id'>): Promise<ProposalScoreResult[]> {
    const slot = this.slots[w]!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      slot.inFlight.add(id);
      slot.worker.ref();
      slot.worker.postMessage({ id, ...req });
    });
  }

  /** Fault injection (tests): worker `i` exits with `code` as a crashing scorer would, before its next task. */
  crashWorker(i: number, code = 70): void {
    this.slots[i]?.worker.postMessage({ op: 'crash', code });
  }

  /** Terminates the workers; later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new DrivekitError('ProposalScorePool: closed while scoring.', { field: 'pool', expected: 'an open pool', found: 'closed' }));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
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
