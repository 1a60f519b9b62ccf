/**
 * One worker-thread pool for every parallel path of drivekit (metric-cache building, environment
 * evaluation over seeds, expert recording, the queue workers' shard jobs, and the rollout envs of
 * PPO / GAIL, where each thread runs one long task serving its slice of envs over a
 * SharedArrayBuffer: `env/worker-vector-env.ts`): a task is plain data, a handler is a
 * named export of a drivekit module (`(task) => result`, or a Promise of it), and `parallelMap`
 * runs a list of tasks with `workers` threads and returns the results in task order, so the
 * output never depends on the number of workers or on which worker finished first.
 *
 * ```ts
 * const shards = await parallelMap(tasks, {
 *   workers: 4,                                   // <= 1: this thread, by `local`
 *   module: 'navsim/score-pool',                  // under src/ (or dist/cjs, dist/esm)
 *   handler: 'buildShardTask',                    // its export, run in the worker
 *   local: buildShardTask,                        // the same function, for workers <= 1
 *   onResult: (r, i, done) => bar.update(done),
 * });
 * ```
 *
 * - `workers` threads are started (at most one per task); each takes the next task as it frees.
 * - A handler that throws rejects the map with the worker's error rebuilt in this thread
 *   (`InputError` / `ConfigError` stay themselves, with their fields); a worker that dies
 *   (crash, `process.exit`, out of memory) rejects it with a `DrivekitError` (field `worker`).
 *   The other workers are terminated either way.
 * - Workers load the module as `navsim/pool.ts` does (the CommonJS build by `require`, the ESM
 *   build by `import`, a TypeScript source bundled once by esbuild, else the `tsx` loader).
 * - `defaultWorkers()` is what `--workers` means when absent on every CLI command: the number of
 *   cores (`os.availableParallelism()`).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, DrivekitError, InputError, UsageError } from './errors.js';

/** The number of cores this process may use (at least 1): the default of every `--workers`. */
export function defaultWorkers(): number {
  return Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) | 0);
}

/** This file's path, from `__filename` (CJS build) or the stack trace (ESM build, source). */
function thisFile(): string | null {
  if (typeof __filename === 'string' && /worker-pool\.(?:c?js|ts)$/.test(__filename)) return __filename;
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n')) {
    const m = /((?:file:\/\/)?\/[^\s()]*worker-pool\.(?:js|ts|mjs|cjs))/.exec(line);
    if (m) return m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
  }
  return null;
}

/**
 * The file of drivekit module `rel` (e.g. `'navsim/score-pool'`): next to this file's folder
 * (`src/`, `dist/esm/` or `dist/cjs/`, same extension), else `dist/cjs/<rel>.js` under the
 * working folder.
 */
export function resolveDrivekitModule(rel: string): string {
  const candidates: string[] = [];
  const me = thisFile();
  if (me) candidates.push(path.join(path.dirname(path.dirname(me)), `${rel}${path.extname(me)}`));
  candidates.push(path.resolve(`dist/cjs/${rel}.js`));
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new DrivekitError(`worker pool: no module ${rel} found (tried ${candidates.join(', ')}). Build drivekit (npm run build).`, {
    field: 'module', expected: 'a drivekit module', found: rel,
  });
}

const bundleCache = new Map<string, string>();

/**
 * `modulePath` (TypeScript) and everything it imports as one CommonJS text, by esbuild; null when
 * esbuild cannot be loaded or the module does not bundle (then the worker uses tsx). Built once per
 * process and module; packages stay `require` calls.
 */
function bundleTs(modulePath: string): string | null {
  const hit = bundleCache.get(modulePath);
  if (hit !== undefined) return hit;
  let text: string;
  try {
    const esbuild = createRequire(modulePath)('esbuild') as typeof import('esbuild');
    const r = esbuild.buildSync({
      entryPoints: [modulePath],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    text = r.outputFiles[0]!.text;
  } catch {
    return null;
  }
  bundleCache.set(modulePath, text);
  return text;
}

function isCommonJsDir(file: string): boolean {
  // nearest package.json decides (dist/cjs has {"type": "commonjs"})
  let dir = path.dirname(file);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type !== 'module';
      } catch {
        return true;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return true;
    dir = up;
  }
}

/**
 * A JavaScript expression, evaluated in a worker (`require` in scope), giving a Promise of the
 * module at `modulePath`: `require` (CommonJS build), the esbuild bundle (TypeScript source), the
 * tsx loader (source without esbuild), or `import` (ESM build).
 */
export function workerModuleLoader(modulePath: string): string {
  const isTs = modulePath.endsWith('.ts');
  const isCjs = !isTs && (modulePath.endsWith('.cjs') || (modulePath.endsWith('.js') && isCommonJsDir(modulePath)));
  let bundled: string | null = null;
  if (isCjs) return `Promise.resolve(require(${JSON.stringify(modulePath)}))`;
  if (isTs && (bundled = bundleTs(modulePath)) !== null) {
    // running from source: the module and its imports as one CommonJS text (no loader in the worker);
    // its `require`s resolve from the module's folder, as the module's own imports would
    const req = `require('node:module').createRequire(${JSON.stringify(modulePath)})`;
    return `Promise.resolve((() => { const module = { exports: {} }; (function (exports, module, require, __filename, __dirname) {\n${bundled}\n})(module.exports, module, ${req}, ${JSON.stringify(modulePath)}, ${JSON.stringify(path.dirname(modulePath))}); return module.exports; })())`;
  }
  if (isTs) {
    const tsxApi = createRequire(modulePath).resolve('tsx/esm/api');
    return `(() => { require(${JSON.stringify(tsxApi)}).register(); return import(${JSON.stringify(pathToFileURL(modulePath).href)}); })()`;
  }
  return `import(${JSON.stringify(pathToFileURL(modulePath).href)})`;
}

/** A worker's error as plain data (what crosses the thread). */
export interface SerializedError {
  name: string;
  message: string;
  file?: string;
  field?: string;
  expected?: unknown;
  found?: unknown;
}

/** An error as plain data, keeping a drivekit error's fields. */
export function serializeError(e: unknown): SerializedError {
  const d = e instanceof DrivekitError ? e : null;
  return {
    name: (e as Error)?.name ?? 'Error',
    message: (e as Error)?.message ?? String(e),
    ...(d ? { file: d.file, field: d.field, expected: d.expected, found: d.found } : {}),
  };
}

/** Rebuilds a serialized error (an `InputError` stays one, with its fields). */
export function deserializeError(e: SerializedError): Error {
  const details = { file: e.file, field: e.field, expected: e.expected, found: e.found };
  if (e.name === 'InputError') return new InputError(e.message, details);
  if (e.name === 'ConfigError') return new ConfigError(e.message, details);
  if (e.name === 'UsageError') return new UsageError(e.message, details);
  if (e.name === 'DrivekitError') return new DrivekitError(e.message, details);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Key of a handler result that names buffers to transfer (see `transferResult`). */
const TRANSFER_KEY = 'drivekit.worker-pool.transfer';

/**
 * A handler's result whose `buffers` are transferred, not copied, to the calling thread (the
 * caller receives `value`). Outside a worker (`local` runs) use `value` directly.
 */
export function transferResult<T>(value: T, buffers: ArrayBuffer[]): { value: T; transfer: ArrayBuffer[] } {
  return { value, transfer: buffers, [Symbol.for(TRANSFER_KEY)]: true } as { value: T; transfer: ArrayBuffer[] };
}

/**
 * The worker's program: loads each module once (by its loader expression, sent with the first task
 * of that module to this thread) and runs `mod[handler](task, ...args)`.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const modules = new Map();
const T = Symbol.for(${JSON.stringify(TRANSFER_KEY)});
const serialize = (e) => ({ name: (e && e.name) || 'Error', message: String(e && e.message !== undefined ? e.message : e), file: e && e.file, field: e && e.field, expected: e && e.expected, found: e && e.found });
parentPort.on('message', async (msg) => {
  if (msg.op === 'crash') process.exit(msg.code);
  try {
    let ready = modules.get(msg.module);
    if (!ready) {
      if (msg.loader === undefined) throw new Error('worker pool: module ' + msg.module + ' was never sent to this thread');
      modules.set(msg.module, (ready = new Function('require', 'return ' + msg.loader)(require)));
    }
    const mod = await ready;
    const fn = mod[msg.handler];
    if (typeof fn !== 'function') throw new Error('the worker module has no function ' + msg.handler);
    const result = await (msg.args ? fn(msg.task, ...msg.args) : fn(msg.task));
    if (result && result[T] === true) parentPort.postMessage({ id: msg.id, result: result.value }, result.transfer);
    else parentPort.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: serialize(e) });
  }
});
`;

interface Job {
  id: number;
  module: string;
  loader: string;
  handler: string;
  task: unknown;
  args: unknown[] | undefined;
  /** The thread that must run it, or -1 for any. */
  thread: number;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  /** Tasks posted to it and not answered yet (at most `depth`). */
  jobs: Job[];
  index: number;
  alive: boolean;
  /** Modules whose loader this thread has been sent. */
  sent: Set<string>;
}

/** Options of a `WorkerPool` beyond its size. */
export interface WorkerPoolOptions {
  /**
   * Tasks in flight per thread (default 1). With 2 a thread holds the next task while it runs one,
   * so it never idles waiting for the calling thread.
   */
  depth?: number;
  /** Replace a thread that dies (default true); false: the pool shrinks, and with no thread left every task rejects. */
  respawn?: boolean;
  /** Idle threads keep the process alive (default true, until `close()`); false: only threads with work do. */
  keepAlive?: boolean;
}

/** Per-call options of `WorkerPool.run`. */
export interface RunOptions {
  /** Extra arguments of the handler after the task. */
  args?: unknown[];
  /** Run on this thread (0 .. size-1) only; rejects if it has died. */
  thread?: number;
}

/**
 * A fixed number of worker threads that run `handler(task)` of drivekit modules, `depth` tasks per
 * thread at a time, the next waiting task going to the least-loaded thread (or to the thread a task
 * names). A thread that dies rejects its tasks with a `DrivekitError` (field `worker`, `found` the
 * reason) and is replaced (unless `respawn: false`), so the pool keeps its size. The threads keep
 * the process alive until `close()` (unless `keepAlive: false`).
 */
export class WorkerPool {
  readonly size: number;
  readonly depth: number;
  private readonly respawn: boolean;
  private readonly keepAlive: boolean;
  private readonly threads: Thread[] = [];
  private readonly waiting: Job[] = [];
  private readonly loaders = new Map<string, string>();
  private nextId = 0;
  private closed = false;
  private crashNext: number | null = null;

  constructor(size: number = defaultWorkers(), options: WorkerPoolOptions = {}) {
    if (!Number.isInteger(size) || size < 1) throw new ConfigError(ConfigError.format({ field: 'workers', expected: 'an integer >= 1', found: size }), { field: 'workers', expected: 'an integer >= 1', found: size });
    const depth = options.depth ?? 1;
    if (!Number.isInteger(depth) || depth < 1) throw new ConfigError(ConfigError.format({ field: 'depth', expected: 'an integer >= 1', found: depth }), { field: 'depth', expected: 'an integer >= 1', found: depth });
    this.size = size;
    this.depth = depth;
    this.respawn = options.respawn ?? true;
    this.keepAlive = options.keepAlive ?? true;
    for (let i = 0; i < size; i++) this.threads.push(this.spawn(i));
  }

  private spawn(index: number): Thread {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    if (!this.keepAlive) worker.unref();
    const t: Thread = { worker, jobs: [], index, alive: true, sent: new Set() };
    worker.on('message', (m: { id: number; result?: unknown; error?: SerializedError }) => {
      const k = t.jobs.findIndex((j) => j.id === m.id);
      if (k < 0) return;
      const job = t.jobs[k]!;
      t.jobs.splice(k, 1);
      if (m.error) job.reject(deserializeError(m.error));
      else job.resolve(m.result);
      this.pump();
    });
    const die = (why: string) => {
      if (this.threads[t.index] !== t || !t.alive) return;
      t.alive = false;
      const jobs = t.jobs.splice(0);
      if (!this.closed && this.respawn) this.threads[t.index] = this.spawn(t.index);
      for (const job of jobs) job.reject(new DrivekitError(`worker pool: worker ${t.index} ${why} while running ${job.handler}.`, { field: 'worker', expected: 'a live worker', found: why }));
      if (!this.closed && this.liveThreads === 0) {
        for (const job of this.waiting.splice(0)) job.reject(noWorkerLeft(this.size));
      }
      this.pump();
    };
    worker.on('error', (err) => die(`failed (${err.message})`));
    worker.on('exit', (code) => die(`exited with code ${code}`));
    return t;
  }

  /** Threads still running (less than `size` only with `respawn: false`). */
  get liveThreads(): number {
    let n = 0;
    for (const t of this.threads) if (t.alive) n++;
    return n;
  }

  /** Whether thread `i` is running. */
  isAlive(i: number): boolean {
    return this.threads[i]?.alive === true;
  }

  /** Resolves (and, from TypeScript source, bundles) `module` now rather than at its first task. */
  preload(module: string): void {
    this.loader(module);
  }

  private loader(module: string): string {
    let l = this.loaders.get(module);
    if (l === undefined) {
      l = workerModuleLoader(path.isAbsolute(module) ? module : resolveDrivekitModule(module));
      this.loaders.set(module, l);
    }
    return l;
  }

  /**
   * Runs `handler(task, ...args)` of `module` (relative to drivekit's source root, or a file path)
   * in a thread (`opts.thread`: that one).
   */
  run<R>(module: string, handler: string, task: unknown, opts: RunOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(new DrivekitError('worker pool: closed.', { field: 'pool', expected: 'an open pool', found: 'closed' }));
    const thread = opts.thread ?? -1;
    if (thread >= 0 && !this.isAlive(thread)) {
      return Promise.reject(new DrivekitError(`worker pool: worker ${thread} is not running.`, { field: 'worker', expected: 'a live worker', found: `worker ${thread} dead` }));
    }
    if (this.liveThreads === 0) return Promise.reject(noWorkerLeft(this.size));
    let loader: string;
    try {
      loader = this.loader(module);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, module, loader, handler, task, args: opts.args, thread, resolve: resolve as (r: unknown) => void, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return; // (and no unref: close() awaits the threads' exit)
    for (let w = 0; w < this.waiting.length; ) {
      const job = this.waiting[w]!;
      let t: Thread | null = null;
      if (job.thread >= 0) {
        const c = this.threads[job.thread]!;
        if (!c.alive) {
          this.waiting.splice(w, 1);
          job.reject(new DrivekitError(`worker pool: worker ${job.thread} is not running.`, { field: 'worker', expected: 'a live worker', found: `worker ${job.thread} dead` }));
          continue;
        }
        if (c.jobs.length < this.depth) t = c;
      } else {
        // the least-loaded live thread with room (the first of equals)
        let load = this.depth;
        for (const c of this.threads) {
          if (c.alive && c.jobs.length < load) {
            t = c;
            load = c.jobs.length;
          }
        }
      }
      if (t === null) {
        w++;
        continue;
      }
      this.waiting.splice(w, 1);
      t.jobs.push(job);
      if (!this.keepAlive) t.worker.ref();
      if (this.crashNext !== null) {
        t.worker.postMessage({ op: 'crash', code: this.crashNext });
        this.crashNext = null;
      }
      const first = !t.sent.has(job.module);
      if (first) t.sent.add(job.module);
      // the loader (for a TypeScript source: the whole bundle) goes to each thread once
      t.worker.postMessage({ id: job.id, module: job.module, ...(first ? { loader: job.loader } : {}), handler: job.handler, task: job.task, ...(job.args ? { args: job.args } : {}) });
    }
    if (!this.keepAlive) for (const t of this.threads) if (t.alive && t.jobs.length === 0) t.worker.unref();
  }

  /** Fault injection (tests): the thread that takes the next task exits with `code` first. */
  crashNextTask(code = 70): void {
    this.crashNext = code;
  }

  /** Fault injection (tests): thread `i` exits with `code` before its next task. */
  crashThread(i: number, code = 70): void {
    const t = this.threads[i];
    if (t?.alive) t.worker.postMessage({ op: 'crash', code });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Terminates the threads; waiting and running tasks reject. */
  async close(): Promise<void> {
    this.closed = true;
    const err = () => new DrivekitError('worker pool: closed while running.', { field: 'pool', expected: 'an open pool', found: 'closed' });
    for (const j of this.waiting.splice(0)) j.reject(err());
    const running = this.threads.flatMap((t) => t.jobs.splice(0));
    for (const j of running) j.reject(err());
    // an unref'd thread would let the process exit before its termination is awaited
    await Promise.all(this.threads.map((t) => (t.worker.ref(), t.worker.terminate())));
  }
}

function noWorkerLeft(size: number): DrivekitError {
  return new DrivekitError(`worker pool: no worker left (all ${size} died).`, { field: 'worker', expected: 'a live worker', found: 'none' });
}

export interface ParallelMapOptions<T, R> {
  /** Threads (default `defaultWorkers()`); <= 1 runs every task in this thread with `local`. */
  workers?: number;
  /** The module the workers load, relative to drivekit's source root (`'navsim/score-pool'`), or a file path. */
  module: string;
  /** Its export that runs one task. */
  handler: string;
  /** The same handler, imported, for `workers <= 1`. */
  local: (task: T) => R | Promise<R>;
  /** Called as each result arrives (in completion order) with its task index and the count done. */
  onResult?: (result: R, index: number, done: number) => void;
  /** A pool to use (kept open) instead of starting `workers` threads for this call. */
  pool?: WorkerPool;
  /** Fault injection (tests): the thread taking the first task exits with this code first. */
  crashCode?: number;
}

/** Runs `tasks` with `workers` threads; results in task order (see the file header). */
export async function parallelMap<T, R>(tasks: readonly T[], opts: ParallelMapOptions<T, R>): Promise<R[]> {
  const n = opts.pool?.size ?? opts.workers ?? defaultWorkers();
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(ConfigError.format({ field: 'workers', expected: 'an integer >= 1', found: n }), { field: 'workers', expected: 'an integer >= 1', found: n });
  const out: R[] = new Array(tasks.length);
  let done = 0;
  if (!opts.pool && (n <= 1 || tasks.length <= 1)) {
    for (let i = 0; i < tasks.length; i++) {
      out[i] = await opts.local(tasks[i]!);
      done++;
      opts.onResult?.(out[i]!, i, done);
    }
    return out;
  }
  const pool = opts.pool ?? new WorkerPool(Math.min(n, tasks.length));
  if (opts.crashCode !== undefined) pool.crashNextTask(opts.crashCode);
  try {
    // every task is queued at once; the first failure rejects (the pool is closed, rejecting the rest)
    await Promise.all(
      tasks.map(async (task, i) => {
        out[i] = await pool.run<R>(opts.module, opts.handler, task);
        done++;
        opts.onResult?.(out[i]!, i, done);
      }),
    );
    return out;
  } finally {
    if (!opts.pool) await pool.close();
  }
}
