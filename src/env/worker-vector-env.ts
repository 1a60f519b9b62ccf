/**
 * `WorkerVectorEnv`: `VectorEnv` with its environments stepped by several threads, for the
 * rollouts of PPO and GAIL (`drivekit env train-ppo --workers N`). The policy still runs once per
 * step on this thread over every environment; only the environment steps are spread.
 *
 * ```ts
 * const env = await WorkerVectorEnv.create(8, { map: 3 }, { seed: 0, workers: 4 });
 * try {
 *   let { obs } = env.reset();
 *   const r = env.step(actions);           // synchronous, as VectorEnv.step
 * } finally {
 *   await env.close();                     // the worker threads keep the process alive until then
 * }
 * ```
 *
 * - `workers` threads step the environments, this thread included (`--workers N` means N threads
 *   doing the work on every command): this thread steps the first slice of environments, and
 *   `workers - 1` threads of a `WorkerPool` step one contiguous slice each (at most one thread
 *   per environment). `workers: 1` starts no thread.
 * - Results are bit-identical to `new VectorEnv(numEnvs, config, options)` for any number of
 *   workers: env i is a `DrivingEnv` seeded `seed + i` wherever it runs, the actions reach it as
 *   the same doubles, and the batched observations, rewards, flags, final observations and infos
 *   come back in env order.
 * - Transport: one `SharedArrayBuffer` holds the actions, the observations (each thread writes its
 *   rows in place), rewards, flags and final observations; each thread's infos cross as
 *   `v8.serialize` bytes (exact numbers). Threads are woken with `Atomics.notify` and this thread
 *   sleeps in `Atomics.wait` until every slice has answered: one round trip per step, no
 *   `postMessage`. A step cannot be batched further (the policy needs each observation).
 * - A slice that throws (e.g. a non-finite action) fails the step with its error rebuilt here
 *   (`InputError` stays one); a thread that exits (crash, `process.exit`) fails it with a
 *   `DrivekitError` (field `worker`); a thread silent for `stepTimeoutMs` fails it too. After a
 *   failure the env refuses further steps; `close()` still releases the threads.
 * - Not for a custom `mapSource` (a function cannot cross threads).
 */
import * as v8 from 'node:v8';
import { ConfigError, DrivekitError } from '../core/errors.js';
import { WorkerPool, defaultWorkers, deserializeError, serializeError, type SerializedError } from '../core/worker-pool.js';
import type { EnvConfigInput } from './config.js';
import { DrivingEnv, type ResetInfo, type StepInfo } from './env.js';
import type { VectorStepResult } from './vector-env.js';

export interface WorkerVectorEnvOptions {
  /** Env i draws its reset() seeds from a stream seeded with `seed + i` (default 0). */
  seed?: number;
  /** Maps kept per env (see `DrivingEnvOptions.mapCacheSize`). */
  mapCacheSize?: number;
  /** Reset finished environments inside step() (default true). */
  autoReset?: boolean;
  /** Threads stepping the environments, this one included (default: the cores); capped at numEnvs. */
  workers?: number;
  /** A thread that has not answered a step after this long fails it (default 300 000 ms). */
  stepTimeoutMs?: number;
  /** Fault injection (tests): the last thread exits with code 70 when asked for its step number `exitAtStep` (1-based). */
  exitAtStep?: number;
}

const OP_RESET = 1;
const OP_RESET_SEEDED = 2;
const OP_STEP = 3;
const OP_DENSITY = 4;
const OP_CLOSE = 5;

// Control words per thread (Int32, `STRIDE` apart).
const C_REQ = 0; // request sequence number (this thread increments it)
const C_REPLY = 1; // the sequence number the slice last answered
const C_OP = 2;
const C_STATUS = 3; // 0 ok, 1 error (the payload is a SerializedError)
const C_DEAD = 4; // 1 once the slice's thread exited
const C_READY = 5; // 1 once the slice's envs are built
const C_LEN = 6; // payload bytes
const STRIDE = 8;

/** Bytes of each slice's payload region (serialized infos): about 0.5 kB per StepInfo, generously. */
function payloadCapacity(count: number): number {
  return 4096 + 2048 * count;
}

/** The shared buffers (plain data: `SharedArrayBuffer`s cross threads by reference). */
interface SharedBuffers {
  ctl: SharedArrayBuffer;
  /** Float64: [density, seeds (numEnvs), actions (2 numEnvs)]. */
  params: SharedArrayBuffer;
  obs: SharedArrayBuffer;
  finalObs: SharedArrayBuffer;
  rewards: SharedArrayBuffer;
  /** Uint8: terminated (numEnvs), truncated (numEnvs), has-final-obs (numEnvs). */
  flags: SharedArrayBuffer;
  payload: SharedArrayBuffer;
}

class Views {
  readonly ctl: Int32Array;
  readonly params: Float64Array;
  readonly obs: Float32Array;
  readonly finalObs: Float32Array;
  readonly rewards: Float32Array;
  readonly flags: Uint8Array;
  readonly payload: Uint8Array;
  constructor(
    readonly b: SharedBuffers,
    readonly numEnvs: number,
  ) {
    this.ctl = new Int32Array(b.ctl);
    this.params = new Float64Array(b.params);
    this.obs = new Float32Array(b.obs);
    this.finalObs = new Float32Array(b.finalObs);
    this.rewards = new Float32Array(b.rewards);
    this.flags = new Uint8Array(b.flags);
    this.payload = new Uint8Array(b.payload);
  }
  seed(i: number): number {
    return this.params[1 + i]!;
  }
  action(i: number, j: number): number {
    return this.params[1 + this.numEnvs + 2 * i + j]!;
  }
}

/** Envs [start, start + count) of the vector, writing into the shared views (the loop of `VectorEnv`). */
class Slice {
  readonly envs: DrivingEnv[] = [];
  readonly obsSize: number;
  private readonly a = [0, 0];
  constructor(
    config: EnvConfigInput,
    seedBase: number,
    readonly start: number,
    readonly count: number,
    private readonly autoReset: boolean,
    mapCacheSize: number | undefined,
  ) {
    for (let j = 0; j < count; j++) this.envs.push(new DrivingEnv(config, { seed: seedBase + start + j, ...(mapCacheSize !== undefined ? { mapCacheSize } : {}) }));
    this.obsSize = this.envs[0]!.obsSize;
  }

  reset(v: Views, seeded: boolean): ResetInfo[] {
    return this.envs.map((e, j) => e.resetInto(v.obs, (this.start + j) * this.obsSize, seeded ? { seed: v.seed(this.start + j) } : {}));
  }

  step(v: Views): StepInfo[] {
    const n = v.numEnvs;
    const d = this.obsSize;
    const infos: StepInfo[] = new Array(this.count);
    const a = this.a;
    for (let j = 0; j < this.count; j++) {
      const i = this.start + j;
      a[0] = v.action(i, 0);
      a[1] = v.action(i, 1);
      const off = i * d;
      const r = this.envs[j]!.stepInto(a, v.obs, off);
      v.rewards[i] = r.reward;
      v.flags[i] = r.terminated ? 1 : 0;
      v.flags[n + i] = r.truncated ? 1 : 0;
      infos[j] = r.info;
      const fin = (r.terminated || r.truncated) && this.autoReset;
      v.flags[2 * n + i] = fin ? 1 : 0;
      if (fin) {
        v.finalObs.set(v.obs.subarray(off, off + d), off);
        this.envs[j]!.resetInto(v.obs, off);
      }
    }
    return infos;
  }

  setTrafficDensity(d: number): void {
    for (const e of this.envs) e.trafficDensity = d;
  }
}

/** A worker thread's slice (plain data). */
export interface VectorSliceTask {
  buffers: SharedBuffers;
  numEnvs: number;
  obsSize: number;
  /** The slice's index (1..threads-1; slice 0 runs in the owning thread). */
  thread: number;
  start: number;
  count: number;
  config: EnvConfigInput;
  seed: number;
  autoReset: boolean;
  mapCacheSize?: number;
  payloadOffset: number;
  payloadCapacity: number;
  exitAtStep?: number;
}

/**
 * The worker side (a `WorkerPool` handler): builds the slice's envs, says ready, then answers
 * requests until `close` (this thread blocks in `Atomics.wait` between them). Returns 'closed'.
 */
export function serveVectorEnvSlice(task: VectorSliceTask): string {
  const v = new Views(task.buffers, task.numEnvs);
  const ctl = v.ctl;
  const base = task.thread * STRIDE;
  const onExit = () => {
    Atomics.store(ctl, base + C_DEAD, 1);
    Atomics.notify(ctl, base + C_REPLY);
  };
  process.on('exit', onExit);
  try {
    const slice = new Slice(task.config, task.seed, task.start, task.count, task.autoReset, task.mapCacheSize);
    Atomics.store(ctl, base + C_READY, 1);
    Atomics.notify(ctl, base + C_READY);
    let last = 0;
    let steps = 0;
    for (;;) {
      const seq = Atomics.load(ctl, base + C_REQ);
      if (seq === last) {
        Atomics.wait(ctl, base + C_REQ, last, 250);
        continue;
      }
      last = seq;
      const op = ctl[base + C_OP]!;
      let status = 0;
      let bytes: Buffer;
      try {
        let payload: unknown = null;
        if (op === OP_STEP) {
          steps++;
          if (task.exitAtStep === steps) process.exit(70);
          payload = slice.step(v);
        } else if (op === OP_RESET || op === OP_RESET_SEEDED) payload = slice.reset(v, op === OP_RESET_SEEDED);
        else if (op === OP_DENSITY) slice.setTrafficDensity(v.params[0]!);
        else if (op !== OP_CLOSE) throw new DrivekitError(`worker vector env: unknown request ${op}.`, { field: 'op', expected: 'a request code', found: op });
        bytes = v8.serialize(payload);
        if (bytes.length > task.payloadCapacity) {
          throw new DrivekitError(`worker vector env: the infos of envs ${task.start}..${task.start + task.count - 1} take ${bytes.length} bytes, more than the ${task.payloadCapacity} reserved.`, { field: 'infos', expected: `<= ${task.payloadCapacity} bytes`, found: bytes.length });
        }
      } catch (e) {
        status = 1;
        const se = serializeError(e);
        bytes = v8.serialize({ ...se, message: se.message.slice(0, 2000), expected: String(se.expected ?? '').slice(0, 200), found: String(se.found ?? '').slice(0, 200) });
      }
      v.payload.set(bytes, task.payloadOffset);
      ctl[base + C_LEN] = bytes.length;
      ctl[base + C_STATUS] = status;
      Atomics.store(ctl, base + C_REPLY, seq);
      Atomics.notify(ctl, base + C_REPLY);
      if (op === OP_CLOSE) return 'closed';
    }
  } finally {
    process.off('exit', onExit);
  }
}

/** Timings of the steps so far (seconds), for benchmarks: this thread's slice, then the wait for the others. */
export interface WorkerVectorEnvStats {
  steps: number;
  localSeconds: number;
  waitSeconds: number;
  decodeSeconds: number;
}

export class WorkerVectorEnv {
  readonly numEnvs: number;
  readonly obsSize: number;
  /** Threads stepping the environments, this one included. */
  readonly threads: number;
  /** Env ranges per thread: slice k has envs [starts[k], starts[k] + counts[k]). */
  readonly starts: readonly number[];
  readonly counts: readonly number[];
  readonly stats: WorkerVectorEnvStats = { steps: 0, localSeconds: 0, waitSeconds: 0, decodeSeconds: 0 };
  private readonly v: Views;
  private readonly local: Slice;
  private readonly pool: WorkerPool | null;
  private readonly tasks: Promise<string>[];
  private readonly taskErrors: (Error | null)[];
  private readonly offsets: number[];
  private readonly stepTimeoutMs: number;
  private failed: Error | null = null;
  private closed = false;
  /** True once every slice was ready (a failed start closes without asking the threads). */
  private started = false;

  private constructor(v: Views, local: Slice, pool: WorkerPool | null, tasks: Promise<string>[], taskErrors: (Error | null)[], layout: { starts: number[]; counts: number[]; offsets: number[] }, stepTimeoutMs: number) {
    this.v = v;
    this.numEnvs = v.numEnvs;
    this.obsSize = local.obsSize;
    this.local = local;
    this.pool = pool;
    this.tasks = tasks;
    this.taskErrors = taskErrors;
    this.starts = layout.starts;
    this.counts = layout.counts;
    this.threads = layout.starts.length;
    this.offsets = layout.offsets;
    this.stepTimeoutMs = stepTimeoutMs;
  }

  /** Builds the envs (slice 0 here, the others in `workers - 1` threads) and waits until every slice is ready. */
  static async create(numEnvs: number, config: EnvConfigInput = {}, options: WorkerVectorEnvOptions = {}): Promise<WorkerVectorEnv> {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new ConfigError(ConfigError.format({ field: 'numEnvs', expected: 'an integer >= 1', found: numEnvs }), { field: 'numEnvs', expected: 'an integer >= 1', found: numEnvs });
    const workers = options.workers ?? defaultWorkers();
    if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(ConfigError.format({ field: 'workers', expected: 'an integer >= 1', found: workers }), { field: 'workers', expected: 'an integer >= 1', found: workers });
    const threads = Math.min(workers, numEnvs);
    const starts: number[] = [];
    const counts: number[] = [];
    for (let k = 0, s = 0; k < threads; k++) {
      const c = Math.floor(numEnvs / threads) + (k < numEnvs % threads ? 1 : 0);
      starts.push(s);
      counts.push(c);
      s += c;
    }
    const capacities = counts.map((c, k) => (k === 0 ? 0 : payloadCapacity(c)));
    const offsets: number[] = [];
    let payloadBytes = 0;
    for (const c of capacities) {
      offsets.push(payloadBytes);
      payloadBytes += c;
    }
    const seed = options.seed ?? 0;
    const autoReset = options.autoReset ?? true;
    const local = new Slice(config, seed, 0, counts[0]!, autoReset, options.mapCacheSize);
    const obsSize = local.obsSize;
    const buffers: SharedBuffers = {
      ctl: new SharedArrayBuffer(4 * STRIDE * threads),
      params: new SharedArrayBuffer(8 * (1 + 3 * numEnvs)),
      obs: new SharedArrayBuffer(4 * numEnvs * obsSize),
      finalObs: new SharedArrayBuffer(4 * numEnvs * obsSize),
      rewards: new SharedArrayBuffer(4 * numEnvs),
      flags: new SharedArrayBuffer(3 * numEnvs),
      payload: new SharedArrayBuffer(Math.max(payloadBytes, 8)),
    };
    const v = new Views(buffers, numEnvs);
    const pool = threads > 1 ? new WorkerPool(threads - 1) : null;
    const tasks: Promise<string>[] = [];
    const taskErrors: (Error | null)[] = new Array(threads).fill(null);
    for (let k = 1; k < threads; k++) {
      const task: VectorSliceTask = {
        buffers, numEnvs, obsSize, thread: k, start: starts[k]!, count: counts[k]!, config, seed, autoReset,
        ...(options.mapCacheSize !== undefined ? { mapCacheSize: options.mapCacheSize } : {}),
        payloadOffset: offsets[k]!, payloadCapacity: capacities[k]!,
        ...(options.exitAtStep !== undefined && k === threads - 1 ? { exitAtStep: options.exitAtStep } : {}),
      };
      const p = pool!.run<string>('env/worker-vector-env', 'serveVectorEnvSlice', task);
      p.catch((e: Error) => {
        taskErrors[k] = e;
      });
      tasks.push(p);
    }
    const env = new WorkerVectorEnv(v, local, pool, tasks, taskErrors, { starts, counts, offsets }, options.stepTimeoutMs ?? 300_000);
    try {
      await Promise.all(tasks.map((p, j) => Promise.race([p.then(() => { throw new DrivekitError(`worker vector env: slice ${j + 1} returned before it was ready.`, { field: 'worker' }); }), env.whenReady(j + 1)])));
    } catch (e) {
      await env.close();
      throw e;
    }
    env.started = true;
    return env;
  }

  /** Resolves once slice k is ready (or its task failed, or the env closed: the race above decides). */
  private async whenReady(k: number): Promise<void> {
    const ctl = this.v.ctl;
    const i = k * STRIDE + C_READY;
    while (Atomics.load(ctl, i) === 0 && !this.taskErrors[k] && !this.closed) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  get observationSpace() {
    return this.local.envs[0]!.observationSpace;
  }
  get actionSpace() {
    return this.local.envs[0]!.actionSpace;
  }

  /** Sets the traffic density used by every env's next reset (curricula). */
  setTrafficDensity(d: number): void {
    if (!(d >= 0 && d <= 1)) throw new RangeError(`DrivingEnv.trafficDensity: expected a number in [0, 1], found ${d}.`);
    this.v.params[0] = d;
    this.request(OP_DENSITY, () => {
      this.local.setTrafficDensity(d);
      return [];
    });
  }

  /** Resets every env (env i with seeds[i] when given). Returns a copy of the batched obs. */
  reset(seeds?: readonly number[]): { obs: Float32Array; infos: ResetInfo[] } {
    if (seeds !== undefined && seeds.length !== this.numEnvs) throw new Error(`VectorEnv.reset: expected ${this.numEnvs} seeds, found ${seeds.length}.`);
    if (seeds) for (let i = 0; i < this.numEnvs; i++) this.v.params[1 + i] = seeds[i]!;
    const infos = this.request(seeds ? OP_RESET_SEEDED : OP_RESET, () => this.local.reset(this.v, seeds !== undefined)) as ResetInfo[];
    return { obs: this.v.obs.slice(), infos };
  }

  /** Steps every env with actions [N * 2] (row i = env i); the same result as `VectorEnv.step`. */
  step(actions: ArrayLike<number>): VectorStepResult {
    const n = this.numEnvs;
    if (actions.length !== 2 * n) throw new Error(`VectorEnv.step: expected ${2 * n} action values (${n} envs x 2), found ${actions.length}.`);
    const p = this.v.params;
    for (let k = 0; k < 2 * n; k++) p[1 + n + k] = actions[k]!;
    const infos = this.request(OP_STEP, () => this.local.step(this.v)) as StepInfo[];
    this.stats.steps++;
    const v = this.v;
    const d = this.obsSize;
    const finalObs: (Float32Array | null)[] = new Array(n).fill(null);
    for (let i = 0; i < n; i++) if (v.flags[2 * n + i]) finalObs[i] = v.finalObs.slice(i * d, (i + 1) * d);
    return { obs: v.obs.slice(), rewards: v.rewards.slice(), terminated: v.flags.slice(0, n), truncated: v.flags.slice(n, 2 * n), infos, finalObs };
  }

  /**
   * Sends `op` to every worker slice, runs `local` on slice 0 meanwhile, waits for all and
   * returns the slices' payloads concatenated in env order; the first failure (in slice order) throws.
   */
  private request(op: number, local: () => unknown[]): unknown[] {
    if (this.closed) throw new DrivekitError('worker vector env: closed.', { field: 'env', expected: 'an open env', found: 'closed' });
    if (this.failed) throw new DrivekitError(`worker vector env: an earlier step failed (${this.failed.message}); make a new env.`, { field: 'env', expected: 'a working env', found: 'failed' });
    const ctl = this.v.ctl;
    const seqs: number[] = [0];
    for (let k = 1; k < this.threads; k++) {
      const b = k * STRIDE;
      ctl[b + C_OP] = op;
      seqs.push((Atomics.add(ctl, b + C_REQ, 1) + 1) | 0); // int32 wrap, as stored
      Atomics.notify(ctl, b + C_REQ);
    }
    const t0 = performance.now();
    let err: Error | null = null;
    const parts: unknown[][] = new Array(this.threads);
    try {
      parts[0] = local();
    } catch (e) {
      err = e as Error;
    }
    const t1 = performance.now();
    let decode = 0;
    for (let k = 1; k < this.threads; k++) {
      const why = this.waitReply(k, seqs[k]!);
      if (why) {
        err ??= why;
        continue;
      }
      const b = k * STRIDE;
      const td = performance.now();
      const bytes = this.v.payload.subarray(this.offsets[k]!, this.offsets[k]! + ctl[b + C_LEN]!);
      const payload = v8.deserialize(bytes) as unknown;
      decode += performance.now() - td;
      if (ctl[b + C_STATUS] !== 0) err ??= deserializeError(payload as SerializedError);
      else parts[k] = (payload as unknown[] | null) ?? [];
    }
    const t2 = performance.now();
    this.stats.localSeconds += (t1 - t0) / 1000;
    this.stats.waitSeconds += (t2 - t1 - decode) / 1000;
    this.stats.decodeSeconds += decode / 1000;
    if (err) {
      this.failed = err;
      throw err;
    }
    return parts.flat();
  }

  /** Waits for slice k's answer to request `seq`; an Error when its thread exited or timed out. */
  private waitReply(k: number, seq: number): Error | null {
    const ctl = this.v.ctl;
    const b = k * STRIDE;
    const deadline = performance.now() + this.stepTimeoutMs;
    const range = `${this.starts[k]}..${this.starts[k]! + this.counts[k]! - 1}`;
    for (;;) {
      const got = Atomics.load(ctl, b + C_REPLY);
      if (got === seq) return null;
      if (Atomics.load(ctl, b + C_DEAD) === 1 || this.taskErrors[k]) {
        const cause = this.taskErrors[k]?.message ?? 'it exited';
        return new DrivekitError(`worker vector env: the thread stepping envs ${range} stopped (${cause}).`, { field: 'worker', expected: 'a live worker', found: 'exited' });
      }
      if (performance.now() > deadline) return new DrivekitError(`worker vector env: the thread stepping envs ${range} did not answer within ${this.stepTimeoutMs} ms.`, { field: 'worker', expected: `an answer within ${this.stepTimeoutMs} ms`, found: 'no answer' });
      Atomics.wait(ctl, b + C_REPLY, got, 100);
    }
  }

  /** Stops the worker threads (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.started && !this.failed && this.pool) {
      try {
        this.request(OP_CLOSE, () => []);
        await Promise.allSettled(this.tasks);
      } catch {
        // a dead or silent thread: terminated below
      }
    }
    this.closed = true;
    await this.pool?.close();
  }
}
