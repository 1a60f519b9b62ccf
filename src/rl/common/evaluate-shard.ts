/**
 * `evaluatePolicy` split over seeds: a shard is plain data (the policy folder, a slice of the
 * seeds, the evaluation's settings) and its result the shard's episode outcomes, so shards run in
 * worker threads (`parallelMap`, `drivekit env evaluate --workers N`) or as queue jobs on other
 * machines (`drivekit env evaluate --queue URL`), and the merged summary equals a one-thread
 * evaluation's: every episode is seeded by (seed, run, scenario) alone and the env config is built
 * for the whole evaluation's seed range (`seedBounds`), so an episode does not depend on its shard.
 *
 * ```ts
 * const r = await evaluatePolicyParallel({ policyDir: 'runs/bc', seeds: range(5000, 5100), runs: 2 }, { workers: 4 });
 * ```
 */
import * as path from 'node:path';
import { init, type BackendRequest } from '../../core/backend.js';
import { InputError } from '../../core/errors.js';
import { defaultWorkers, parallelMap } from '../../core/worker-pool.js';
import type { EnvConfigInput } from '../../env/config.js';
import type { EpisodeOutcome } from '../../metrics/driving.js';
import { ActorCriticPolicy } from '../../models/mlp-policy.js';
import { evaluatePolicy, summarizeEvaluation, type EvaluationResult } from './evaluate.js';
import type { VecNormalizeState } from './running-norm.js';

/** The settings of an evaluation (plain data; `EvaluateOptions` less the callbacks, plus the policy folder). */
export interface EvalSpec {
  /** A policy folder (policy.safetensors + policy.json), as `ActorCriticPolicy.load` reads. */
  policyDir: string;
  seeds: number[];
  runs?: number;
  density?: number;
  deterministic?: boolean;
  envConfig?: EnvConfigInput;
  varyTraffic?: boolean;
  numEnvs?: number;
  seed?: number;
  /** The tfjs backend of the shard's thread (default wasm). */
  backend?: BackendRequest;
}

/** One shard: the spec with a slice of its seeds and the whole range's bounds. */
export interface EvalShardTask extends EvalSpec {
  seedBounds: [number, number];
}

export interface EvalShardResult {
  /** outcomes[run][i]: the episode of the shard's seeds[i]. */
  outcomes: EpisodeOutcome[][];
  steps: number;
  deterministic: boolean;
  traffic_density: number;
  vary_traffic: boolean;
}

/** Plays one shard (the handler of the workers and of the queue's `env-evaluate` jobs). */
export async function evaluateShardTask(task: EvalShardTask): Promise<EvalShardResult> {
  await init({ backend: task.backend ?? 'wasm' });
  const { policy, extra } = await ActorCriticPolicy.load(task.policyDir);
  try {
    const r = evaluatePolicy(policy, {
      seeds: task.seeds,
      seedBounds: task.seedBounds,
      runs: task.runs,
      density: task.density,
      deterministic: task.deterministic,
      normalizer: (extra.normalizer as VecNormalizeState | null | undefined) ?? null,
      envConfig: task.envConfig,
      varyTraffic: task.varyTraffic,
      numEnvs: task.numEnvs,
      seed: task.seed,
      source: path.join(task.policyDir, 'policy.json'),
    });
    return { outcomes: r.outcomes, steps: r.steps, deterministic: r.deterministic, traffic_density: r.traffic_density, vary_traffic: r.vary_traffic };
  } finally {
    policy.dispose();
  }
}

/** The shards of `spec`: consecutive slices of `shardSize` seeds (default: 4 per worker, at least 1 seed each). */
export function evalShards(spec: EvalSpec, shardSize: number): EvalShardTask[] {
  const seeds = spec.seeds;
  if (seeds.length === 0) throw new InputError(InputError.format({ field: 'seeds', expected: 'at least one seed', found: [] }), { field: 'seeds', expected: 'at least one seed', found: [] });
  let lo = Infinity, hi = -Infinity;
  for (const s of seeds) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  const out: EvalShardTask[] = [];
  for (let i = 0; i < seeds.length; i += shardSize) out.push({ ...spec, seeds: seeds.slice(i, i + shardSize), seedBounds: [lo, hi] });
  return out;
}

/** Joins shard results (in shard order) into the evaluation's summary; `seconds` is the wall time. */
export function mergeEvalShards(results: readonly EvalShardResult[], seconds: number): EvaluationResult {
  const runs = results[0]!.outcomes.length;
  const outcomes: EpisodeOutcome[][] = Array.from({ length: runs }, (_, r) => results.flatMap((s) => s.outcomes[r]!));
  const first = results[0]!;
  const steps = results.reduce((a, s) => a + s.steps, 0);
  return summarizeEvaluation(outcomes, { deterministic: first.deterministic, traffic_density: first.traffic_density, vary_traffic: first.vary_traffic, steps, seconds });
}

/**
 * `evaluatePolicy` of the policy at `spec.policyDir` with `workers` threads (default: the cores),
 * each loading the policy once per shard; equal to the one-thread evaluation but for the timings.
 */
export async function evaluatePolicyParallel(
  spec: EvalSpec,
  opts: { workers?: number; shardSize?: number; onShard?: (episodes: number, done: number, total: number) => void } = {},
): Promise<EvaluationResult> {
  const workers = opts.workers ?? defaultWorkers();
  const shardSize = opts.shardSize ?? (workers <= 1 ? spec.seeds.length : Math.max(1, Math.ceil(spec.seeds.length / (4 * workers))));
  const tasks = evalShards(spec, shardSize);
  const t0 = performance.now();
  const results = await parallelMap(tasks, {
    workers,
    module: 'rl/common/evaluate-shard',
    handler: 'evaluateShardTask',
    local: evaluateShardTask,
    onResult: (r, _i, done) => opts.onShard?.(r.outcomes.length * (r.outcomes[0]?.length ?? 0), done, tasks.length),
  });
  return mergeEvalShards(results, (performance.now() - t0) / 1000);
}
