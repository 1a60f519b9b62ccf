/**
 * Evaluation of a policy network on the driving env over fixed scenario seeds, MetaDrive style:
 * one episode per seed per run, success / crash / out-of-road rates, route completion and
 * steering jerk (`metrics/driving.ts`, episodes summarised by `env/rollout.ts`'s
 * `EpisodeAccumulator`), as means over runs with their spread (std, min, max).
 *
 *   const { policy, extra } = await ActorCriticPolicy.load('runs/bc');
 *   const r = evaluatePolicy(policy, { seeds: range(5000, 5100), runs: 5, density: 0.1, normalizer: extra.normalizer });
 *   r.success_rate; r.spread.success_rate.std; r.per_run[2].crash_rate;
 *
 * Loop: `numEnvs` episode slots stepped in lock-step with one batched `policy.act` per step over
 * the active slots (deterministic: the Gaussian mean; else sampled from each episode's own
 * stream); actions clipped to [-1, 1] as the env does; a finished slot takes the next (run, seed)
 * episode. Each episode runs in its own `DrivingEnv` (maps are built once and shared), seeded by
 * (`seed`, run, scenario) alone, so results do not depend on `numEnvs` or the order of episodes.
 *
 * What varies between runs. In `DrivingEnv`, the map, the spawn lane and the ego's vehicle
 * parameters are keyed off the scenario seed and never change. What a reset draws from the env's
 * own stream is the traffic when `random_traffic` is on (otherwise traffic is keyed off the
 * scenario too) and, per step, lidar noise/dropout when `lidar.gaussian_noise`/`dropout_prob` are
 * set (0 by default). Evaluation turns `random_traffic` on by default (`varyTraffic`), so run r
 * sees other traffic (vehicle positions, and so which slots get a vehicle) on the same maps;
 * with `varyTraffic: false` and a deterministic policy every run is identical. Stochastic
 * actions (`deterministic: false`) also differ between runs.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { observationSize, resolveEnvConfig, type EnvConfigInput } from '../../env/config.js';
import { DrivingEnv, type MapSource, type StepInfo } from '../../env/env.js';
import { EpisodeAccumulator } from '../../env/rollout.js';
import { worldMapSource } from '../../env/world-adapter.js';
import { summarizeDriving, type DrivingSummary, type EpisodeOutcome } from '../../metrics/driving.js';
import { sampleGaussian } from '../../models/distributions.js';
import type { ActorCriticPolicy } from '../../models/mlp-policy.js';
import { VecNormalize, type VecNormalizeState } from './running-norm.js';

export interface EvaluateOptions {
  /** Scenario seeds: one episode each, per run. */
  seeds: readonly number[];
  /** Independent runs over the same seeds (default 1). */
  runs?: number;
  /** Traffic density (default: `envConfig`'s, else the env default 0.1). */
  density?: number;
  /** Gaussian mean instead of a sample (default true). */
  deterministic?: boolean;
  /** Observation statistics the policy was trained with (`policy.json`'s `normalizer`); frozen. */
  normalizer?: VecNormalizeState | null;
  /** Other env settings (map, horizon, lidar noise, ...); `start_seed`/`num_scenarios` are set from `seeds`. */
  envConfig?: EnvConfigInput;
  /** Where maps come from (default the world generator); cached across episodes. */
  mapSource?: MapSource;
  /** Traffic drawn per (run, scenario) instead of per scenario (default true; see the header). */
  varyTraffic?: boolean;
  /** Episodes stepped together (default 8). */
  numEnvs?: number;
  /** Root seed of the per-run streams (default 0). */
  seed?: number;
  /**
   * The scenario range [lo, hi] the env config is built for (default: the min and max of `seeds`);
   * a shard of a larger evaluation passes the whole evaluation's range (`evaluatePolicyParallel`).
   */
  seedBounds?: [number, number];
  /** How errors name the policy (e.g. its policy.json). */
  source?: string;
  /** Called after every env step of every episode (recording). */
  onStep?: (e: EvalStepEvent) => void;
  /** Called when an episode ends. */
  onEpisode?: (e: { run: number; index: number; outcome: EpisodeOutcome }) => void;
}

export interface EvalStepEvent {
  run: number;
  /** Index of the seed in `seeds`. */
  index: number;
  seed: number;
  /** 0 right after reset, then the number of steps taken. */
  step: number;
  env: DrivingEnv;
  done: boolean;
}

/** The metrics reported with a spread over runs. */
export const EVAL_METRICS = ['success_rate', 'crash_rate', 'out_of_road_rate', 'max_step_rate', 'route_completion', 'steering_jerk', 'episode_reward', 'episode_length', 'mean_velocity', 'cost'] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];

export interface Spread {
  /** Sample standard deviation over runs (n − 1; 0 for one run). */
  std: number;
  min: number;
  max: number;
}

export type EvaluationResult = Record<EvalMetric, number> & {
  /** Per metric: spread of the per-run means. */
  spread: Record<EvalMetric, Spread>;
  runs: number;
  /** Episodes played in all (runs x seeds). */
  episodes: number;
  per_run: DrivingSummary[];
  /** outcomes[run][i]: the episode of seeds[i] in that run. */
  outcomes: EpisodeOutcome[][];
  deterministic: boolean;
  traffic_density: number;
  vary_traffic: boolean;
  steps: number;
  seconds: number;
  episodes_per_second: number;
  steps_per_second: number;
};

/** A 32-bit seed for the episode of `scenario` in a run whose stream seed is `runSeed`. */
function episodeSeed(runSeed: number, scenario: number): number {
  let h = (runSeed ^ Math.imul(scenario + 1, 0x9e3779b1)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function spreadOf(xs: number[]): Spread {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { std: Math.sqrt(v), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Plays `runs` x `seeds` episodes with `policy` and summarises them (see the file header). */
export function evaluatePolicy(policy: ActorCriticPolicy, options: EvaluateOptions): EvaluationResult {
  const source = options.source ?? 'policy';
  const seeds = options.seeds;
  if (seeds.length === 0) throw new InputError(InputError.format({ field: 'seeds', expected: 'at least one seed', found: [] }), { field: 'seeds', expected: 'at least one seed', found: [] });
  const runs = options.runs ?? 1;
  const numEnvs = options.numEnvs ?? 8;
  for (const [field, v] of [['runs', runs], ['numEnvs', numEnvs]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(InputError.format({ field, expected: 'an integer >= 1', found: v }), { field, expected: 'an integer >= 1', found: v });
  }
  const deterministic = options.deterministic ?? true;
  const varyTraffic = options.varyTraffic ?? true;
  let lo = Infinity, hi = -Infinity;
  for (const x of seeds) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (options.seedBounds) [lo, hi] = options.seedBounds;
  const cfgInput: EnvConfigInput = { random_traffic: varyTraffic, ...options.envConfig, start_seed: lo, num_scenarios: hi - lo + 1 };
  if (options.density !== undefined) cfgInput.traffic_density = options.density;
  const cfg = resolveEnvConfig(cfgInput);
  const d = observationSize(cfg);
  const pc = policy.config;
  if (pc.obsDim !== d) {
    throw new InputError(InputError.format({ file: source, field: 'policy.obsDim', expected: `${d} (the driving env's observation width)`, found: pc.obsDim }, 'The checkpoint is for another environment or observation configuration.'), { file: source, field: 'policy.obsDim', expected: d, found: pc.obsDim });
  }
  if (pc.actionType !== 'box' || pc.actionDim !== 2) {
    throw new InputError(InputError.format({ file: source, field: 'policy.action', expected: 'box:2 ([steering, throttle_brake])', found: `${pc.actionType}:${pc.actionDim}` }), { file: source, field: 'policy.action', expected: 'box:2', found: `${pc.actionType}:${pc.actionDim}` });
  }
  let norm: VecNormalize | null = null;
  if (options.normalizer) {
    const width = options.normalizer.obsRms?.mean.length ?? d;
    if (width !== d) throw new InputError(InputError.format({ file: source, field: 'normalizer.obsRms.mean', expected: `${d} values`, found: `${width} values` }), { file: source, field: 'normalizer', expected: d, found: width });
    norm = VecNormalize.fromState(options.normalizer, 1);
    norm.training = false;
  }

  const mapSource = options.mapSource ?? worldMapSource;
  const maps = new Map<number, ReturnType<MapSource>>();
  const cachedMaps: MapSource = (s, c) => {
    let m = maps.get(s);
    if (!m) {
      // Bounded (oldest first out), so evaluating over any number of seeds keeps memory flat.
      if (maps.size >= 256) maps.delete(maps.keys().next().value!);
      maps.set(s, (m = mapSource(s, c)));
    }
    return m;
  };
  const root = new Rng(options.seed ?? 0);
  const runSeeds = root.split(runs).map((r) => r.seedInt());
  const queue: { run: number; index: number }[] = [];
  for (let r = 0; r < runs; r++) for (let i = 0; i < seeds.length; i++) queue.push({ run: r, index: i });
  const outcomes: EpisodeOutcome[][] = Array.from({ length: runs }, () => new Array<EpisodeOutcome>(seeds.length));
  const logStd = policy.logStd();

  interface Slot {
    run: number;
    index: number;
    seed: number;
    env: DrivingEnv;
    acc: EpisodeAccumulator;
    rng: Rng;
    step: number;
  }
  const slots: (Slot | null)[] = new Array(numEnvs).fill(null);
  const obs = new Float32Array(numEnvs * d);
  let next = 0;
  const start = (k: number): void => {
    const job = queue[next++];
    if (!job) {
      slots[k] = null;
      return;
    }
    const seed = seeds[job.index]!;
    const es = episodeSeed(runSeeds[job.run]!, seed);
    const env = new DrivingEnv(cfg, { seed: es, mapSource: cachedMaps });
    env.resetInto(obs, k * d, { seed });
    const slot: Slot = { run: job.run, index: job.index, seed, env, acc: EpisodeAccumulator.forEnv(env, seed), rng: new Rng(es ^ 0x5eed), step: 0 };
    slots[k] = slot;
    options.onStep?.({ run: slot.run, index: slot.index, seed, step: 0, env, done: false });
  };
  const t0 = performance.now();
  for (let k = 0; k < numEnvs; k++) start(k);

  let steps = 0;
  const action = [0, 0];
  const lp = new Float32Array(1);
  const sampled = new Float32Array(2);
  for (;;) {
    const active: number[] = [];
    for (let k = 0; k < numEnvs; k++) if (slots[k]) active.push(k);
    if (active.length === 0) break;
    const n = active.length;
    let batch: Float32Array = obs.subarray(0, n * d);
    if (active[n - 1] !== n - 1) {
      batch = new Float32Array(n * d);
      active.forEach((k, i) => batch.set(obs.subarray(k * d, (k + 1) * d), i * d));
    }
    if (norm) batch = norm.normalizeObs(batch, n, false);
    // The mean (forward's head) rather than act(): a non-finite row is reported with its episode and step below.
    const head = tf.tidy(() => policy.forward(tf.tensor2d(batch, [n, d])).head);
    const means = head.dataSync() as Float32Array;
    head.dispose();
    for (let i = 0; i < n; i++) {
      const k = active[i]!;
      const s = slots[k]!;
      let a0 = means[2 * i]!, a1 = means[2 * i + 1]!;
      if (!deterministic) {
        sampleGaussian(means.subarray(2 * i, 2 * i + 2), logStd, 1, s.rng, false, sampled, lp);
        a0 = sampled[0]!;
        a1 = sampled[1]!;
      }
      if (!Number.isFinite(a0) || !Number.isFinite(a1)) {
        throw new InputError(InputError.format({ file: source, field: 'action', expected: 'finite values', found: [a0, a1] }, `The policy gave a non-finite action at step ${s.step} (run ${s.run}, seed ${s.seed}).`), { file: source, field: 'action', expected: 'finite values', found: [a0, a1] });
      }
      action[0] = a0 < -1 ? -1 : a0 > 1 ? 1 : a0;
      action[1] = a1 < -1 ? -1 : a1 > 1 ? 1 : a1;
      const r = s.env.stepInto(action, obs, k * d);
      steps++;
      s.step++;
      const info: StepInfo = r.info;
      s.acc.add(info);
      const done = r.terminated || r.truncated;
      options.onStep?.({ run: s.run, index: s.index, seed: s.seed, step: s.step, env: s.env, done });
      if (done) {
        const outcome = s.acc.outcome(info);
        outcomes[s.run]![s.index] = outcome;
        options.onEpisode?.({ run: s.run, index: s.index, outcome });
        start(k);
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return summarizeEvaluation(outcomes, { deterministic, traffic_density: cfg.traffic_density, vary_traffic: cfg.random_traffic, steps, seconds });
}

/** The summary of `evaluatePolicy` from its outcomes (`outcomes[run][i]`), as a merge of shards does. */
export function summarizeEvaluation(
  outcomes: EpisodeOutcome[][],
  meta: { deterministic: boolean; traffic_density: number; vary_traffic: boolean; steps: number; seconds: number },
): EvaluationResult {
  const { steps, seconds } = meta;
  const runs = outcomes.length;
  const perRun = outcomes.map((eps) => summarizeDriving(eps));
  const means = {} as Record<EvalMetric, number>;
  const spread = {} as Record<EvalMetric, Spread>;
  for (const m of EVAL_METRICS) {
    const xs = perRun.map((s) => s[m]);
    means[m] = xs.reduce((a, b) => a + b, 0) / xs.length;
    spread[m] = spreadOf(xs);
  }
  const episodes = runs * (outcomes[0]?.length ?? 0);
  return {
    ...means,
    spread,
    runs,
    episodes,
    per_run: perRun,
    outcomes,
    deterministic: meta.deterministic,
    traffic_density: meta.traffic_density,
    vary_traffic: meta.vary_traffic,
    steps,
    seconds,
    episodes_per_second: episodes / Math.max(seconds, 1e-9),
    steps_per_second: steps / Math.max(seconds, 1e-9),
  };
}
