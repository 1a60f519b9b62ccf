/**
 * Expert demonstrations for BC and GAIL: the scripted expert driven over many scenario seeds,
 * cleaned, and stored as an episode-structured Arrow IPC file (one row per transition).
 *
 *   const report = await recordExpertDemonstrations({ out: 'demos.arrow', seeds: range(0, 100), frames: 50_000 });
 *   const demos = await readDemonstrations('demos.arrow', { expectObsDim: 259, expectActDim: 2 });
 *   demos.obs      // Float32Array [numFrames * 259]     demos.actions  // [numFrames * 2]
 *
 * Columns: `obs` and `next_obs` (FixedSizeList<Float32>[obs_dim]), `action` ([2], the expert's
 * action clipped to the Box, as sent to the env), `reward` (Float32), `terminated`, `truncated`
 * (Bool), `episode_id`, `seed`, `step` (Int32: the frame's index in its original episode). Schema
 * metadata: `drivekit.format`, `obs_dim`, `action_dim`, `env_config`, `cleaning`, `counts`,
 * `policy` (JSON strings).
 *
 * Cleaning (per episode, in this order; a frame is counted under the first rule that drops it):
 *  1. near-standstill: the ego is below `standstillKmh` both before and after the step (waiting,
 *     not launching: the first step from rest reaches about 0.9 km/h);
 *  2. steering spike: the steering jumps by more than `maxSteeringDelta` from both the previous
 *     and the next frame, in the same direction (a one-frame peak);
 *  3. recovery window: in an episode that ends in a failure (crash or out of road), the last
 *     `recoveryWindow` frames are exempt from rules 1-2 (they hold the corrections made just
 *     before the failure; counted as `recovery_exempt` when a rule would have dropped them);
 *  4. short trajectory: an episode left with fewer than `minEpisodeLength` frames is dropped.
 * Dropped frames leave the other transitions intact: `next_obs` is always the env's next
 * observation, not the next kept row.
 */
import * as fs from 'node:fs';
import { ArrowFileReader, ArrowFileWriter, col, type TableSchema } from '../../core/arrow.js';
import { tempPathFor } from '../../core/atomic.js';
import { ConfigError, InputError } from '../../core/errors.js';
import type { BackendName } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { WorkerPool } from '../../core/worker-pool.js';
import type { EnvConfig, EnvConfigInput } from '../../env/config.js';
import { DrivingEnv, type DrivingEnvOptions } from '../../env/env.js';
import { makePolicy, type EgoPolicy } from '../../env/policies.js';
import { mixSeed } from '../../core/rng.js';

export const DEMONSTRATIONS_FORMAT = 'drivekit.demonstrations/1';

/**
 * How the action-noise and expert-mixture draws are streamed (`RecordExpertOptions.noiseStreams`):
 * `'run'`, one stream through the episodes in order (the episodes depend on the ones before them,
 * so the recording runs in one thread); `'episode'`, one stream per episode derived from
 * (`noiseSeed`, the episode's scenario seed) alone (see `episodeNoiseRng`), so the recording can
 * be split over threads and an episode does not depend on which seeds come before it.
 */
export type NoiseStreams = 'run' | 'episode';
export const NOISE_STREAMS: readonly NoiseStreams[] = ['run', 'episode'];

const STREAM_EPISODE_NOISE = 0x6e7365; // "nse"

/**
 * The noise / expert-mixture stream of one episode in `noiseStreams: 'episode'` mode:
 * `new Rng(mixSeed(mixSeed(noiseSeed, 0x6e7365), seed)).jump()`, with `mixSeed` the 32-bit
 * avalanche (murmur3 fmix32) that the map generator's streams use too. For one `noiseSeed`, distinct scenario seeds
 * (mod 2^32) give distinct generator seeds (each step is a bijection of 32-bit integers); the
 * tag 0x6e7365 ("nse") names the purpose, as the map generator's tags name theirs.
 */
export function episodeNoiseRng(noiseSeed: number, seed: number): Rng {
  return new Rng(mixSeed(mixSeed(noiseSeed, STREAM_EPISODE_NOISE), seed)).jump();
}

export interface DemoCleaning {
  /** Near-standstill speed (km/h): frames below it before and after the step are dropped; 0 disables. */
  standstillKmh: number;
  /** Steering spike threshold (steering units in [-1, 1]); null disables. */
  maxSteeringDelta: number | null;
  /** Frames before a failure kept whatever rules 1-2 say; 0 disables. */
  recoveryWindow: number;
  /** Episodes left with fewer frames are dropped; 0 disables. */
  minEpisodeLength: number;
}

export const DEFAULT_DEMO_CLEANING: Readonly<DemoCleaning> = Object.freeze({
  standstillKmh: 0.5,
  maxSteeringDelta: 0.3,
  recoveryWindow: 10,
  minEpisodeLength: 20,
});

/** Cleaning that keeps every frame. */
export const NO_DEMO_CLEANING: Readonly<DemoCleaning> = Object.freeze({ standstillKmh: 0, maxSteeringDelta: null, recoveryWindow: 0, minEpisodeLength: 0 });

/** Frames each rule dropped (and how many the recovery window saved). */
export interface CleaningCounts {
  standstill: number;
  steering_spike: number;
  short_trajectory: number;
  recovery_exempt: number;
}

/** The per-frame signals the cleaning rules look at (one entry per transition). */
export interface EpisodeSignals {
  /** Steering action of each frame. */
  steering: ArrayLike<number>;
  /** Ego speed (km/h) before each step. */
  speedBefore: ArrayLike<number>;
  /** Ego speed (km/h) after each step. */
  speedAfter: ArrayLike<number>;
  /** The episode ended in a crash or out of road. */
  failed: boolean;
}

/** Validates cleaning options (merged over the defaults); ConfigError names the field. */
export function resolveDemoCleaning(input: Partial<DemoCleaning> = {}): DemoCleaning {
  const known = Object.keys(DEFAULT_DEMO_CLEANING);
  for (const k of Object.keys(input)) {
    if (!known.includes(k)) throw new ConfigError(ConfigError.format({ field: `cleaning.${k}`, expected: `one of ${known.join(', ')}`, found: k }), { field: `cleaning.${k}`, expected: known, found: k });
  }
  const c: DemoCleaning = { ...DEFAULT_DEMO_CLEANING, ...input };
  const bad = (field: string, expected: string, found: unknown): never => {
    throw new ConfigError(ConfigError.format({ field: `cleaning.${field}`, expected, found }), { field: `cleaning.${field}`, expected, found });
  };
  if (!(c.standstillKmh >= 0) || !Number.isFinite(c.standstillKmh)) bad('standstillKmh', 'a number >= 0', c.standstillKmh);
  if (c.maxSteeringDelta !== null && !(c.maxSteeringDelta > 0 && Number.isFinite(c.maxSteeringDelta))) bad('maxSteeringDelta', 'a number > 0 or null', c.maxSteeringDelta);
  if (!Number.isInteger(c.recoveryWindow) || c.recoveryWindow < 0) bad('recoveryWindow', 'an integer >= 0', c.recoveryWindow);
  if (!Number.isInteger(c.minEpisodeLength) || c.minEpisodeLength < 0) bad('minEpisodeLength', 'an integer >= 0', c.minEpisodeLength);
  return c;
}

/** Applies the cleaning rules to one episode: `keep[t]` is 1 for kept frames. */
export function cleanEpisode(ep: EpisodeSignals, cleaning: DemoCleaning): { keep: Uint8Array; counts: CleaningCounts } {
  const n = ep.steering.length;
  if (ep.speedBefore.length !== n || ep.speedAfter.length !== n) {
    throw new InputError(`cleanEpisode: steering, speedBefore and speedAfter must have one value per frame (found ${n}, ${ep.speedBefore.length}, ${ep.speedAfter.length}).`, {
      field: 'speedBefore',
      expected: n,
      found: ep.speedBefore.length,
    });
  }
  const keep = new Uint8Array(n).fill(1);
  const counts: CleaningCounts = { standstill: 0, steering_spike: 0, short_trajectory: 0, recovery_exempt: 0 };
  const windowStart = ep.failed ? n - cleaning.recoveryWindow : n;
  const d = cleaning.maxSteeringDelta;
  for (let t = 0; t < n; t++) {
    let rule: 'standstill' | 'steering_spike' | null = null;
    if (cleaning.standstillKmh > 0 && ep.speedBefore[t]! < cleaning.standstillKmh && ep.speedAfter[t]! < cleaning.standstillKmh) rule = 'standstill';
    else if (d !== null && t > 0 && t < n - 1) {
      const up = ep.steering[t]! - ep.steering[t - 1]!;
      const down = ep.steering[t]! - ep.steering[t + 1]!;
      if (Math.abs(up) > d && Math.abs(down) > d && Math.sign(up) === Math.sign(down)) rule = 'steering_spike';
    }
    if (rule === null) continue;
    if (t >= windowStart) counts.recovery_exempt++;
    else {
      keep[t] = 0;
      counts[rule]++;
    }
  }
  let kept = 0;
  for (let t = 0; t < n; t++) kept += keep[t]!;
  if (kept > 0 && kept < cleaning.minEpisodeLength) {
    counts.short_trajectory = kept;
    keep.fill(0);
  }
  return { keep, counts };
}

/** The Arrow columns of a demonstrations file with observations of `obsDim` values. */
export function demonstrationsSchema(obsDim: number, actDim = 2) {
  return {
    obs: col.vector([obsDim]),
    action: col.vector([actDim]),
    reward: col.float32(),
    next_obs: col.vector([obsDim]),
    terminated: col.bool(),
    truncated: col.bool(),
    episode_id: col.int32(),
    seed: col.int32(),
    step: col.int32(),
  } satisfies TableSchema;
}

type DemoSchema = ReturnType<typeof demonstrationsSchema>;

export interface RecordCounts {
  episodes_recorded: number;
  episodes_kept: number;
  /** Episodes that ended in a crash or out of road. */
  episodes_failed: number;
  frames_recorded: number;
  frames_kept: number;
  dropped: CleaningCounts;
}

export interface RecordExpertOptions {
  /** Output Arrow file (written atomically; an existing file is replaced only on success). */
  out: string;
  /** Scenario seeds, one episode each, in order. */
  seeds: readonly number[];
  /** Stop after the episode in which the kept frames reach this many (default: all seeds). */
  frames?: number;
  /** Env config (start_seed/num_scenarios are set to cover `seeds` when absent). */
  env?: EnvConfigInput;
  /** Map source etc. for the DrivingEnv. */
  envOptions?: DrivingEnvOptions;
  cleaning?: Partial<DemoCleaning>;
  /** The expert (default `makePolicy('expert')`). */
  policy?: EgoPolicy;
  /** Rows per record batch (default 4096). */
  batchRows?: number;
  /**
   * DART-style noise injection (Laskey et al. 2017): the env executes the expert's action plus
   * Gaussian noise of these standard deviations ([steering, throttle]), while the stored `action`
   * stays the expert's clean label. The expert then shows how to recover from the small drifts a
   * cloned policy makes, which plain demonstrations never contain. Default none.
   */
  actionNoise?: readonly [number, number];
  /** Seed of the noise and expert-mixture streams (default 0). */
  noiseSeed?: number;
  /**
   * `'run'` (default): one noise / mixture stream, `new Rng(noiseSeed).jump()`, runs through the
   * episodes in order, so a noisy or mixed recording plays in one thread whatever `workers`.
   * `'episode'`: each episode draws from its own stream, `episodeNoiseRng(noiseSeed, seed)`, so
   * such recordings run in worker threads, byte-identical to one thread, and an episode is the
   * same whichever seeds are recorded with it. The two modes give different (equally valid) noise.
   */
  noiseStreams?: NoiseStreams;
  /**
   * DAgger (Ross et al. 2011): another policy drives (its action, from the observation, is what
   * the env executes, before any noise) while the stored label stays the expert's action on the
   * states the driver visits. With `expertProbability` β, each step is driven by the expert
   * instead (DAgger's mixture πᵢ = β·π* + (1 − β)·π̂ᵢ).
   */
  driver?: (obs: Float32Array) => ArrayLike<number>;
  /**
   * DAgger with a saved policy: this folder (policy.safetensors + policy.json) drives with its
   * deterministic action, loaded here or by each worker thread (instead of `driver`; the backend
   * must be initialised).
   */
  driverDir?: string;
  expertProbability?: number;
  /**
   * Threads playing the episodes (default 1: this thread); the output does not depend on it. See
   * `recordExpertDemonstrations` for what runs in this thread whatever the number.
   */
  workers?: number;
  /** Seeds per worker shard (default: a quarter of a thread's share, at most 8). */
  shardSize?: number;
  /** Called after every episode. */
  onEpisode?: (e: { seed: number; length: number; kept: number; outcome: string; counts: RecordCounts }) => void;
}

export interface RecordReport {
  out: string;
  counts: RecordCounts;
  /** Seeds actually played (the frames budget may stop before the last one). */
  seedsPlayed: number[];
  obsDim: number;
  actDim: number;
  cleaning: DemoCleaning;
  envConfig: EnvConfig;
  /** Wall time of recording (env + expert + cleaning) and of writing, in seconds. */
  recordSeconds: number;
  writeSeconds: number;
  /** Threads that played the episodes (1: this thread). */
  threads: number;
  /** With `workers` > 1 but played in this thread: why. */
  sequentialReason?: string;
  /** How the noise and expert-mixture draws were streamed. */
  noiseStreams: NoiseStreams;
}

/** Growing Float32/Int32/Uint8 column buffer for one record batch. */
class Rows {
  len = 0;
  constructor(
    readonly obsDim: number,
    readonly cap: number,
    readonly cols = {
      obs: new Float32Array(cap * obsDim),
      action: new Float32Array(cap * 2),
      reward: new Float32Array(cap),
      next_obs: new Float32Array(cap * obsDim),
      terminated: new Uint8Array(cap),
      truncated: new Uint8Array(cap),
      episode_id: new Int32Array(cap),
      seed: new Int32Array(cap),
      step: new Int32Array(cap),
    },
  ) {}
  view() {
    const n = this.len, d = this.obsDim, c = this.cols;
    return {
      obs: c.obs.subarray(0, n * d),
      action: c.action.subarray(0, n * 2),
      reward: c.reward.subarray(0, n),
      next_obs: c.next_obs.subarray(0, n * d),
      terminated: c.terminated.subarray(0, n),
      truncated: c.truncated.subarray(0, n),
      episode_id: c.episode_id.subarray(0, n),
      seed: c.seed.subarray(0, n),
      step: c.step.subarray(0, n),
    };
  }
}

/** One played and cleaned episode: its kept transitions, and what the counts need. */
/** The per-transition columns shared by an episode buffer, a recorded episode and a record batch. */
export interface TransitionColumns {
  obs: Float32Array;
  next_obs: Float32Array;
  action: Float32Array;
  reward: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
}

/** Copies transition `t` of `from` to row `k` of `to` (observations `obsDim` wide, 2 actions). */
function copyTransition(from: TransitionColumns, t: number, to: TransitionColumns, k: number, obsDim: number): void {
  to.obs.set(from.obs.subarray(t * obsDim, (t + 1) * obsDim), k * obsDim);
  to.next_obs.set(from.next_obs.subarray(t * obsDim, (t + 1) * obsDim), k * obsDim);
  to.action[2 * k] = from.action[2 * t]!;
  to.action[2 * k + 1] = from.action[2 * t + 1]!;
  to.reward[k] = from.reward[t]!;
  to.terminated[k] = from.terminated[t]!;
  to.truncated[k] = from.truncated[t]!;
}

export interface RecordedEpisode extends TransitionColumns {
  seed: number;
  /** Frames played. */
  length: number;
  outcome: string;
  failed: boolean;
  dropped: CleaningCounts;
  /** Frames kept (the rows of the columns). */
  kept: number;
  step: Int32Array;
}

interface PlayerOptions {
  cleaning: DemoCleaning;
  noise: readonly [number, number] | null;
  noiseSeed: number;
  noiseStreams: NoiseStreams;
  driver?: (obs: Float32Array) => ArrayLike<number>;
  beta: number;
}

/** Plays episodes on one env, one seed at a time, and cleans each (memory: the longest episode). */
class EpisodePlayer {
  private readonly obsDim: number;
  private readonly noiseRng: Rng;
  private epObs: Float32Array;
  private epNext: Float32Array;
  private epAct: Float32Array;
  private epRew: Float32Array;
  private epTerm: Uint8Array;
  private epTrunc: Uint8Array;
  private epSteer: Float64Array;
  private epV0: Float64Array;
  private epV1: Float64Array;
  constructor(
    private readonly env: DrivingEnv,
    private readonly policy: EgoPolicy,
    private readonly o: PlayerOptions,
  ) {
    const obsDim = (this.obsDim = env.obsSize);
    this.noiseRng = new Rng(o.noiseSeed).jump();
    this.epObs = new Float32Array(1024 * obsDim);
    this.epNext = new Float32Array(1024 * obsDim);
    this.epAct = new Float32Array(1024 * 2);
    this.epRew = new Float32Array(1024);
    this.epTerm = new Uint8Array(1024);
    this.epTrunc = new Uint8Array(1024);
    this.epSteer = new Float64Array(1024);
    this.epV0 = new Float64Array(1024);
    this.epV1 = new Float64Array(1024);
  }

  private grow(need: number): void {
    if (need <= this.epRew.length) return;
    const cap = Math.max(need, 2 * this.epRew.length);
    const g = <T extends Float32Array | Float64Array | Uint8Array>(a: T, k: number): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * k);
      b.set(a);
      return b;
    };
    const d = this.obsDim;
    this.epObs = g(this.epObs, d);
    this.epNext = g(this.epNext, d);
    this.epAct = g(this.epAct, 2);
    this.epRew = g(this.epRew, 1);
    this.epTerm = g(this.epTerm, 1);
    this.epTrunc = g(this.epTrunc, 1);
    this.epSteer = g(this.epSteer, 1);
    this.epV0 = g(this.epV0, 1);
    this.epV1 = g(this.epV1, 1);
  }

  play(seed: number): RecordedEpisode {
    const { env, policy } = this;
    const { noise, beta, driver } = this.o;
    const noiseRng = this.o.noiseStreams === 'episode' ? episodeNoiseRng(this.o.noiseSeed, seed) : this.noiseRng;
    const obsDim = this.obsDim;
    const action = [0, 0];
    const noiseAction = [0, 0];
    const driverAction = [0, 0];
    let { obs } = env.reset({ seed });
    policy.reset(env);
    let speed = env.ego.speedKmh;
    let n = 0;
    let outcome = 'max_step';
    for (;;) {
      const a = policy.act(env, obs);
      // Clipped to the Box and rounded to float32, so the stored action is exactly what the env got.
      action[0] = Math.fround(Math.max(-1, Math.min(1, a[0])));
      action[1] = Math.fround(Math.max(-1, Math.min(1, a[1])));
      if (!Number.isFinite(action[0]) || !Number.isFinite(action[1])) {
        throw new InputError(InputError.format({ file: policy.name, field: 'action', expected: 'finite values', found: a }, `(seed ${seed}, step ${n})`), { file: policy.name, field: 'action', expected: 'finite values', found: a });
      }
      let applied: number[] = action;
      if (driver && !(beta > 0 && noiseRng.uniform() < beta)) {
        const d = driver(obs);
        applied = driverAction;
        applied[0] = Math.fround(Math.max(-1, Math.min(1, d[0]!)));
        applied[1] = Math.fround(Math.max(-1, Math.min(1, d[1]!)));
        if (!Number.isFinite(applied[0]!) || !Number.isFinite(applied[1]!)) {
          throw new InputError(InputError.format({ field: 'driver action', expected: 'finite values', found: [d[0], d[1]] }, `(seed ${seed}, step ${n})`), { field: 'driver action', expected: 'finite values', found: [d[0], d[1]] });
        }
      }
      if (noise) {
        const base = applied;
        applied = noiseAction;
        applied[0] = Math.fround(Math.max(-1, Math.min(1, base[0]! + noise[0] * noiseRng.normal())));
        applied[1] = Math.fround(Math.max(-1, Math.min(1, base[1]! + noise[1] * noiseRng.normal())));
      }
      const r = env.step(applied);
      this.grow(n + 1);
      this.epObs.set(obs, n * obsDim);
      this.epNext.set(r.obs, n * obsDim);
      this.epAct[2 * n] = action[0]!;
      this.epAct[2 * n + 1] = action[1]!;
      this.epRew[n] = r.reward;
      this.epTerm[n] = r.terminated ? 1 : 0;
      this.epTrunc[n] = r.truncated ? 1 : 0;
      this.epSteer[n] = action[0]!;
      this.epV0[n] = speed;
      this.epV1[n] = r.info.velocity;
      speed = r.info.velocity;
      obs = r.obs;
      n++;
      if (r.terminated || r.truncated) {
        const i = r.info;
        outcome = i.arrive_dest ? 'arrive_dest' : i.crash ? 'crash' : i.out_of_road ? 'out_of_road' : 'max_step';
        break;
      }
    }
    const failed = outcome === 'crash' || outcome === 'out_of_road';
    const { keep, counts } = cleanEpisode({ steering: this.epSteer.subarray(0, n), speedBefore: this.epV0.subarray(0, n), speedAfter: this.epV1.subarray(0, n), failed }, this.o.cleaning);
    let kept = 0;
    for (let t = 0; t < n; t++) kept += keep[t]!;
    const ep: RecordedEpisode = {
      seed, length: n, outcome, failed, dropped: counts, kept,
      obs: new Float32Array(kept * obsDim), next_obs: new Float32Array(kept * obsDim), action: new Float32Array(kept * 2), reward: new Float32Array(kept),
      terminated: new Uint8Array(kept), truncated: new Uint8Array(kept), step: new Int32Array(kept),
    };
    const played: TransitionColumns = { obs: this.epObs, next_obs: this.epNext, action: this.epAct, reward: this.epRew, terminated: this.epTerm, truncated: this.epTrunc };
    for (let t = 0, k = 0; t < n; t++) {
      if (!keep[t]) continue;
      copyTransition(played, t, ep, k, obsDim);
      ep.step[k] = t;
      k++;
    }
    return ep;
  }
}

/** A shard of a parallel recording (plain data): seeds played in order on a fresh env. */
export interface RecordShardTask {
  seeds: number[];
  /** The env config of the whole recording (start_seed/num_scenarios cover every seed). */
  env: EnvConfigInput;
  cleaning: DemoCleaning;
  /** DAgger: this policy folder drives, deterministically. */
  driverDir?: string;
  /** Action noise, expert mixture and their seed: only with per-episode streams (absent: none). */
  noise?: readonly [number, number] | null;
  expertProbability?: number;
  noiseSeed?: number;
  noiseStreams?: NoiseStreams;
  /** The tfjs backend for the driver (the recording thread's). */
  backend?: BackendName;
}

/** Loads a policy folder as a deterministic driver (tfjs loaded only when a driver is used). */
async function loadDriver(dir: string, backend: BackendName | undefined): Promise<{ act: (obs: Float32Array) => ArrayLike<number>; dispose: () => void }> {
  if (backend) {
    const { init } = await import('../../core/backend.js');
    await init({ backend });
  }
  const { ActorCriticPolicy } = await import('../../models/mlp-policy.js');
  const { policy } = await ActorCriticPolicy.load(dir);
  return { act: (o) => policy.act(o, 1, { deterministic: true }).actions, dispose: () => policy.dispose() };
}

/** Plays one shard (the worker threads' handler): the episodes of `task.seeds`, in order, cleaned. */
export async function recordExpertShard(task: RecordShardTask): Promise<RecordedEpisode[]> {
  const env = new DrivingEnv(task.env);
  const driver = task.driverDir !== undefined ? await loadDriver(task.driverDir, task.backend) : null;
  try {
    const player = new EpisodePlayer(env, makePolicy('expert'), {
      cleaning: task.cleaning,
      noise: task.noise ?? null,
      noiseSeed: task.noiseSeed ?? 0,
      noiseStreams: task.noiseStreams ?? 'run',
      beta: task.expertProbability ?? 0,
      ...(driver ? { driver: driver.act } : {}),
    });
    return task.seeds.map((s) => player.play(s));
  } finally {
    driver?.dispose();
  }
}

/**
 * Why a recording cannot be split over threads (null when it can): an episode must depend on its
 * seed alone, and every input must cross threads as data.
 */
export function recordSequentialReason(opts: RecordExpertOptions, config: EnvConfig): string | null {
  if (opts.policy) return 'a custom expert policy (an object) cannot cross threads';
  if (opts.driver) return 'a driver function cannot cross threads (give driverDir)';
  if (opts.envOptions) return 'env options (a map source) cannot cross threads';
  // With per-episode streams an episode's noise and mixture draws depend on its seed alone.
  const perEpisode = opts.noiseStreams === 'episode';
  if (!perEpisode && opts.actionNoise && (opts.actionNoise[0] > 0 || opts.actionNoise[1] > 0)) return 'the action-noise stream runs through the episodes in order (per-episode noise streams lift this)';
  if (!perEpisode && opts.driverDir !== undefined && (opts.expertProbability ?? 0) > 0) return 'the expert-mixture stream runs through the episodes in order (per-episode noise streams lift this)';
  if (config.random_traffic) return 'random_traffic draws from a stream that runs through the episodes';
  if (config.lidar.gaussian_noise > 0 || config.lidar.dropout_prob > 0) return 'lidar noise draws from a stream that runs through the episodes';
  return null;
}

/**
 * Plays the expert over `seeds` on a `DrivingEnv`, cleans each episode and writes the kept
 * transitions with their metadata. Memory is one episode plus one record batch (with workers:
 * the shards in flight).
 *
 * With `workers` > 1 the seeds are split into shards of consecutive seeds played by worker
 * threads and written here in seed order: the file is byte-identical to one thread's (every
 * episode depends on its seed alone; the frames budget stops at the same episode). Recordings
 * whose episodes share a stream (random traffic, lidar noise; action noise and the DAgger mixture
 * with the default `noiseStreams: 'run'`) or whose inputs are functions run in this thread
 * (`RecordReport.sequentialReason` says why). With `noiseStreams: 'episode'` each episode's
 * action-noise and mixture draws come from `episodeNoiseRng(noiseSeed, seed)`, so noisy and DAgger
 * recordings run in threads too (and an episode does not depend on the seeds recorded before it).
 */
export async function recordExpertDemonstrations(opts: RecordExpertOptions): Promise<RecordReport> {
  if (opts.seeds.length === 0) throw new ConfigError(ConfigError.format({ field: 'seeds', expected: 'at least one seed', found: [] }), { field: 'seeds', expected: 'at least one seed', found: [] });
  if (opts.frames !== undefined && !(Number.isInteger(opts.frames) && opts.frames > 0)) {
    throw new ConfigError(ConfigError.format({ field: 'frames', expected: 'an integer > 0', found: opts.frames }), { field: 'frames', expected: 'an integer > 0', found: opts.frames });
  }
  if (opts.driver && opts.driverDir !== undefined) throw new ConfigError('recordExpertDemonstrations: give driver or driverDir, not both.', { field: 'driverDir', expected: 'driver or driverDir', found: 'both' });
  const noiseStreams = opts.noiseStreams ?? 'run';
  if (!NOISE_STREAMS.includes(noiseStreams)) {
    throw new ConfigError(ConfigError.format({ field: 'noiseStreams', expected: `one of ${NOISE_STREAMS.join(', ')}`, found: noiseStreams }), { field: 'noiseStreams', expected: NOISE_STREAMS, found: noiseStreams });
  }
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(ConfigError.format({ field: 'workers', expected: 'an integer >= 1', found: workers }), { field: 'workers', expected: 'an integer >= 1', found: workers });
  const cleaning = resolveDemoCleaning(opts.cleaning);
  const lo = Math.min(...opts.seeds), hi = Math.max(...opts.seeds);
  const envCfg: EnvConfigInput = { start_seed: lo, num_scenarios: hi - lo + 1, ...opts.env };
  const env = new DrivingEnv(envCfg, opts.envOptions);
  const policy = opts.policy ?? makePolicy('expert');
  const obsDim = env.obsSize;
  const actDim = 2;
  const schema = demonstrationsSchema(obsDim, actDim);
  const batchRows = opts.batchRows ?? 4096;
  const counts: RecordCounts = { episodes_recorded: 0, episodes_kept: 0, episodes_failed: 0, frames_recorded: 0, frames_kept: 0, dropped: { standstill: 0, steering_spike: 0, short_trajectory: 0, recovery_exempt: 0 } };
  const seedsPlayed: number[] = [];
  const noise = opts.actionNoise && (opts.actionNoise[0] > 0 || opts.actionNoise[1] > 0) ? opts.actionNoise : null;
  const beta = opts.expertProbability ?? 0;
  const reason = workers > 1 ? recordSequentialReason(opts, env.config) : null;
  const threads = workers > 1 && reason === null ? Math.min(workers, opts.seeds.length) : 1;
  const hasDriver = opts.driver !== undefined || opts.driverDir !== undefined;

  // Pass 1: record into a temporary Arrow file (the counts for the metadata are known only at the end).
  const rawPath = tempPathFor(opts.out);
  const t0 = performance.now();
  let raw: ArrowFileWriter<DemoSchema> | null = await ArrowFileWriter.open(rawPath, schema);
  let recordSeconds = 0;
  let localDriver: { act: (obs: Float32Array) => ArrayLike<number>; dispose: () => void } | null = null;
  try {
    if (noise && !(noise[0] >= 0 && noise[1] >= 0 && Number.isFinite(noise[0]) && Number.isFinite(noise[1]))) {
      throw new InputError(InputError.format({ field: 'actionNoise', expected: 'two finite standard deviations >= 0', found: noise }), { field: 'actionNoise', expected: 'two finite numbers >= 0', found: noise });
    }
    if (!(beta >= 0 && beta <= 1)) throw new InputError(InputError.format({ field: 'expertProbability', expected: 'a number in [0, 1]', found: beta }), { field: 'expertProbability', expected: 'in [0, 1]', found: beta });
    const rows = new Rows(obsDim, batchRows);
    const flush = async () => {
      if (rows.len > 0) await raw!.writeBatch(rows.view());
      rows.len = 0;
    };
    const budgetReached = () => opts.frames !== undefined && counts.frames_kept >= opts.frames;
    // Appends an episode's kept rows, in seed order, whichever thread played it.
    const append = async (ep: RecordedEpisode) => {
      seedsPlayed.push(ep.seed);
      counts.episodes_recorded++;
      if (ep.failed) counts.episodes_failed++;
      counts.frames_recorded += ep.length;
      counts.dropped.standstill += ep.dropped.standstill;
      counts.dropped.steering_spike += ep.dropped.steering_spike;
      counts.dropped.short_trajectory += ep.dropped.short_trajectory;
      counts.dropped.recovery_exempt += ep.dropped.recovery_exempt;
      const episodeId = counts.episodes_kept;
      const cols = rows.cols;
      for (let t = 0; t < ep.kept; t++) {
        const k = rows.len;
        copyTransition(ep, t, cols, k, obsDim);
        cols.episode_id[k] = episodeId;
        cols.seed[k] = ep.seed;
        cols.step[k] = ep.step[t]!;
        rows.len++;
        if (rows.len === batchRows) await flush();
      }
      if (ep.kept > 0) counts.episodes_kept++;
      counts.frames_kept += ep.kept;
      opts.onEpisode?.({ seed: ep.seed, length: ep.length, kept: ep.kept, outcome: ep.outcome, counts });
    };
    if (threads <= 1) {
      if (opts.driverDir !== undefined) localDriver = await loadDriver(opts.driverDir, undefined);
      const driver = opts.driver ?? localDriver?.act;
      const player = new EpisodePlayer(env, policy, { cleaning, noise, noiseSeed: opts.noiseSeed ?? 0, noiseStreams, beta, ...(driver ? { driver } : {}) });
      for (const seed of opts.seeds) {
        if (budgetReached()) break;
        await append(player.play(seed));
      }
    } else {
      const shardSize = opts.shardSize ?? Math.min(8, Math.max(1, Math.ceil(opts.seeds.length / (4 * threads))));
      const shards: number[][] = [];
      for (let i = 0; i < opts.seeds.length; i += shardSize) shards.push(opts.seeds.slice(i, i + shardSize));
      const backend = opts.driverDir !== undefined ? ((await import('../../core/backend.js')).currentBackend() ?? 'wasm') : undefined;
      // Noise and mixture reach the threads only with per-episode streams (recordSequentialReason).
      const streams = noiseStreams === 'episode' ? { noise, expertProbability: beta, noiseSeed: opts.noiseSeed ?? 0, noiseStreams } : {};
      const base: Omit<RecordShardTask, 'seeds'> = { env: envCfg, cleaning, ...(opts.driverDir !== undefined ? { driverDir: opts.driverDir, backend } : {}), ...streams };
      const pool = new WorkerPool(Math.min(threads, shards.length));
      // Shards in flight: two per thread; results are appended in shard order as they complete.
      const inFlight = new Map<number, Promise<RecordedEpisode[]>>();
      let next = 0;
      const submit = () => {
        while (next < shards.length && inFlight.size < 2 * pool.size) {
          const p = pool.run<RecordedEpisode[]>('rl/data/demonstrations', 'recordExpertShard', { ...base, seeds: shards[next]! });
          p.catch(() => {}); // awaited in order below; a later shard's failure must not go unhandled meanwhile
          inFlight.set(next++, p);
        }
      };
      try {
        submit();
        outer: for (let i = 0; i < shards.length; i++) {
          const eps = await inFlight.get(i)!;
          inFlight.delete(i);
          for (const ep of eps) {
            if (budgetReached()) break outer;
            await append(ep);
          }
          if (!budgetReached()) submit();
        }
      } finally {
        await pool.close();
      }
    }
    await flush();
    await raw.close();
    raw = null;
    recordSeconds = (performance.now() - t0) / 1000;

    // Pass 2: copy the batches into the output with the final metadata.
    const t1 = performance.now();
    const metadata: Record<string, string> = {
      'drivekit.format': DEMONSTRATIONS_FORMAT,
      obs_dim: String(obsDim),
      action_dim: String(actDim),
      env_config: JSON.stringify(env.config),
      cleaning: JSON.stringify(cleaning),
      counts: JSON.stringify(counts),
      policy: JSON.stringify({
        name: policy.name,
        seeds: seedsPlayed.length > 0 ? [seedsPlayed[0], seedsPlayed[seedsPlayed.length - 1]! + 1] : [],
        frames_budget: opts.frames ?? null,
        action_noise: noise,
        // 'run' keeps the keys (and bytes) of files recorded before noise_streams existed; 'episode'
        // also records the seed of a mixture-only recording.
        noise_seed: noise || (noiseStreams === 'episode' && hasDriver && beta > 0) ? (opts.noiseSeed ?? 0) : null,
        ...(noiseStreams === 'episode' ? { noise_streams: noiseStreams } : {}),
        driver: hasDriver ? { expert_probability: beta } : null,
      }),
    };
    const reader = await ArrowFileReader.open(rawPath, schema);
    const w = await ArrowFileWriter.open(opts.out, schema, { metadata });
    try {
      for (let b = 0; b < reader.numBatches; b++) {
        const { numRows: _rows, ...columns } = await reader.readBatch(b);
        await w.writeBatch(columns);
      }
      await w.close();
    } catch (e) {
      await w.abort();
      throw e;
    } finally {
      await reader.close();
    }
    return { out: opts.out, counts, seedsPlayed, obsDim, actDim, cleaning, envConfig: env.config, recordSeconds, writeSeconds: (performance.now() - t1) / 1000, threads, ...(reason !== null ? { sequentialReason: reason } : {}), noiseStreams };
  } finally {
    localDriver?.dispose();
    if (raw) await raw.abort();
    await fs.promises.rm(rawPath, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// reading

export interface ReadDemonstrationsOptions {
  /** The policy's observation width; a file with another width is an InputError. */
  expectObsDim?: number;
  /** The policy's action width; a file with another width is an InputError. */
  expectActDim?: number;
  /** Read `next_obs` too (default true; GAIL and BC do not need it, and it doubles the memory). */
  nextObs?: boolean;
}

export interface DemonstrationsMetadata {
  envConfig: Record<string, unknown> | null;
  cleaning: DemoCleaning | null;
  counts: RecordCounts | null;
  policy: Record<string, unknown> | null;
  /** Every schema metadata entry as stored. */
  raw: Record<string, string>;
}

export interface Demonstrations {
  file: string;
  numFrames: number;
  obsDim: number;
  actDim: number;
  /** [numFrames * obsDim] */
  obs: Float32Array;
  /** [numFrames * actDim] */
  actions: Float32Array;
  rewards: Float32Array;
  /** [numFrames * obsDim], or null when not read. */
  nextObs: Float32Array | null;
  terminated: Uint8Array;
  truncated: Uint8Array;
  episodeId: Int32Array;
  seed: Int32Array;
  step: Int32Array;
  metadata: DemonstrationsMetadata;
}

function widthError(file: string, field: string, expected: number, found: number, what: string): InputError {
  return new InputError(
    InputError.format({ file, field, expected: `${expected} values per row (${what})`, found: `${found} values per row` }, `Record demonstrations with the same environment configuration as the policy, or check --obs/--action widths.`),
    { file, field, expected, found },
  );
}

function parseJson(file: string, key: string, raw: Record<string, string>): unknown {
  const s = raw[key];
  if (s === undefined) return null;
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new InputError(InputError.format({ file, field: `metadata.${key}`, expected: 'JSON', found: s.slice(0, 60) }), { file, field: `metadata.${key}`, expected: 'JSON', found: s, cause: e });
  }
}

/**
 * Reads a demonstrations file. A missing column, a column of another type, or an observation /
 * action width other than `expectObsDim` / `expectActDim` is an InputError naming the file, the
 * column, the expected and the found width.
 */
export async function readDemonstrations(file: string, opts: ReadDemonstrationsOptions = {}): Promise<Demonstrations> {
  let probe: ArrowFileReader;
  try {
    probe = await ArrowFileReader.open(file);
  } catch (e) {
    const found = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new InputError(InputError.format({ file, expected: 'an Arrow IPC file of demonstrations', found }), { file, expected: 'an Arrow IPC file of demonstrations', found, cause: e });
  }
  let obsDim: number, actDim: number;
  const raw = probe.metadata;
  try {
    const fileSchema = probe.schema;
    const vectorWidth = (name: string): number => {
      const c = fileSchema[name];
      if (!c) throw new InputError(InputError.format({ file, field: name, expected: 'a FixedSizeList<Float32> column', found: `no such column (columns: ${Object.keys(fileSchema).join(', ')})` }), { file, field: name, expected: 'column', found: 'missing' });
      if (c.kind !== 'vector') throw new InputError(InputError.format({ file, field: name, expected: 'a FixedSizeList<Float32> column', found: c.kind }), { file, field: name, expected: 'vector', found: c.kind });
      return c.shape.reduce((a, b) => a * b, 1);
    };
    obsDim = vectorWidth('obs');
    actDim = vectorWidth('action');
    if (opts.expectObsDim !== undefined && obsDim !== opts.expectObsDim) throw widthError(file, 'obs', opts.expectObsDim, obsDim, 'the observation width');
    if (opts.expectActDim !== undefined && actDim !== opts.expectActDim) throw widthError(file, 'action', opts.expectActDim, actDim, 'the action width');
    if (opts.nextObs ?? true) {
      const nextDim = vectorWidth('next_obs');
      if (nextDim !== obsDim) throw widthError(file, 'next_obs', obsDim, nextDim, "the width of column 'obs'");
    }
    const metaObs = raw.obs_dim;
    if (metaObs !== undefined && Number(metaObs) !== obsDim) throw widthError(file, 'metadata.obs_dim', obsDim, Number(metaObs), "the width of column 'obs'");
  } finally {
    await probe.close();
  }
  const full = demonstrationsSchema(obsDim, actDim);
  const { next_obs: _skip, ...withoutNext } = full;
  const schema: TableSchema = (opts.nextObs ?? true) ? full : withoutNext;
  let r: ArrowFileReader;
  try {
    r = await ArrowFileReader.open(file, schema);
  } catch (e) {
    // A column of the wrong type (e.g. reward as Float64, or missing episode_id).
    const msg = (e as Error).message;
    const m = /column '([^']+)'/.exec(msg);
    throw new InputError(msg, { file, field: m?.[1], expected: 'the demonstrations schema', found: msg, cause: e });
  }
  try {
    const all = (await r.readAll()) as unknown as Record<string, unknown> & { numRows: number };
    return {
      file,
      numFrames: all.numRows,
      obsDim,
      actDim,
      obs: all.obs as Float32Array,
      actions: all.action as Float32Array,
      rewards: all.reward as Float32Array,
      nextObs: (all.next_obs as Float32Array | undefined) ?? null,
      terminated: all.terminated as Uint8Array,
      truncated: all.truncated as Uint8Array,
      episodeId: all.episode_id as Int32Array,
      seed: all.seed as Int32Array,
      step: all.step as Int32Array,
      metadata: {
        envConfig: parseJson(file, 'env_config', raw) as Record<string, unknown> | null,
        cleaning: parseJson(file, 'cleaning', raw) as DemoCleaning | null,
        counts: parseJson(file, 'counts', raw) as RecordCounts | null,
        policy: parseJson(file, 'policy', raw) as Record<string, unknown> | null,
        raw,
      },
    };
  } finally {
    await r.close();
  }
}

/** Row ranges [start, end) of each episode (rows of one episode are contiguous). */
export function episodeRanges(d: Pick<Demonstrations, 'episodeId' | 'seed'>): { episodeId: number; seed: number; start: number; end: number }[] {
  const out: { episodeId: number; seed: number; start: number; end: number }[] = [];
  const n = d.episodeId.length;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || d.episodeId[i] !== d.episodeId[start]) {
      out.push({ episodeId: d.episodeId[start]!, seed: d.seed[start]!, start, end: i });
      start = i;
    }
  }
  return out;
}

/**
 * Concatenates demonstrations read from several files (e.g. the expert's and DAgger rounds') into
 * one set; episode ids are renumbered so episodes stay distinct. Widths must agree.
 */
export function concatDemonstrations(parts: readonly Demonstrations[]): Demonstrations {
  if (parts.length === 0) throw new InputError('concatDemonstrations: no demonstrations given.', { field: 'files', expected: '>= 1', found: 0 });
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  for (const p of parts) {
    if (p.obsDim !== first.obsDim) throw widthError(p.file, 'obs', first.obsDim, p.obsDim, `as in ${first.file}`);
    if (p.actDim !== first.actDim) throw widthError(p.file, 'action', first.actDim, p.actDim, `as in ${first.file}`);
  }
  const n = parts.reduce((a, p) => a + p.numFrames, 0);
  const cat = <T extends Float32Array | Int32Array | Uint8Array>(make: (k: number) => T, get: (p: Demonstrations) => T): T => {
    const out = make(parts.reduce((a, p) => a + get(p).length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(get(p), o);
      o += get(p).length;
    }
    return out;
  };
  const episodeId = new Int32Array(n);
  let o = 0;
  let offset = 0;
  for (const p of parts) {
    let max = -1;
    for (let i = 0; i < p.numFrames; i++) {
      episodeId[o + i] = p.episodeId[i]! + offset;
      max = Math.max(max, p.episodeId[i]!);
    }
    o += p.numFrames;
    offset += max + 1;
  }
  const nextObs = parts.every((p) => p.nextObs) ? cat((k) => new Float32Array(k), (p) => p.nextObs!) : null;
  return {
    file: parts.map((p) => p.file).join(','),
    numFrames: n,
    obsDim: first.obsDim,
    actDim: first.actDim,
    obs: cat((k) => new Float32Array(k), (p) => p.obs),
    actions: cat((k) => new Float32Array(k), (p) => p.actions),
    rewards: cat((k) => new Float32Array(k), (p) => p.rewards),
    nextObs,
    terminated: cat((k) => new Uint8Array(k), (p) => p.terminated),
    truncated: cat((k) => new Uint8Array(k), (p) => p.truncated),
    episodeId,
    seed: cat((k) => new Int32Array(k), (p) => p.seed),
    step: cat((k) => new Int32Array(k), (p) => p.step),
    metadata: first.metadata,
  };
}
