/**
 * Runs a policy for one episode per seed and collects MetaDrive-style outcomes.
 *
 * ```ts
 * const r = rollout(env, policy, seeds);                       // every outcome kept
 * rollout(env, policy, seeds, { onEpisode: write, keepEpisodes: false }); // streamed, O(1) memory
 * ```
 */
import { outcomeOf, steeringJerk, type DrivingSummary, type EpisodeOutcome } from '../metrics/driving.js';
import type { DrivingEnv, StepInfo } from './env.js';
import type { EgoPolicy } from './policies.js';

export interface RolloutResult {
  policy: string;
  episodes: EpisodeOutcome[];
  summary: DrivingSummary;
}

/**
 * One episode's outcome built step by step: `add(info)` after every env step, `outcome(info)`
 * with the last step's info. Shared by `runEpisode` and batched evaluation (`rl/common/evaluate`),
 * so both summarise episodes the same way.
 */
export class EpisodeAccumulator {
  private readonly steer: number[] = [];
  private speedSum = 0;
  private cost = 0;

  /** `dt`: seconds per env step (physics_world_step_size x decision_repeat), for the steering jerk. */
  constructor(readonly seed: number, private readonly dt: number) {}

  static forEnv(env: DrivingEnv, seed: number): EpisodeAccumulator {
    return new EpisodeAccumulator(seed, env.config.physics_world_step_size * env.config.decision_repeat);
  }

  add(info: StepInfo): void {
    this.steer.push(info.steering);
    this.speedSum += info.velocity;
    this.cost += info.cost;
  }

  /** The outcome, from the info of the episode's last step. */
  outcome(i: StepInfo): EpisodeOutcome {
    return {
      seed: this.seed,
      arrive_dest: i.arrive_dest,
      crash: i.crash,
      out_of_road: i.out_of_road,
      max_step: !i.arrive_dest && !i.crash && !i.out_of_road,
      route_completion: i.route_completion,
      episode_reward: i.episode_reward,
      episode_length: i.episode_length,
      mean_velocity: this.speedSum / i.episode_length,
      steering_jerk: steeringJerk(this.steer, this.dt),
      cost: this.cost,
    };
  }
}

/** Plays one episode of scenario `seed`; `onStep` sees every transition. */
export function runEpisode(
  env: DrivingEnv,
  policy: EgoPolicy,
  seed: number,
  onStep?: (step: number, action: [number, number], reward: number) => void,
): EpisodeOutcome {
  let { obs } = env.reset({ seed });
  policy.reset(env);
  const acc = EpisodeAccumulator.forEnv(env, seed);
  for (let t = 0; ; t++) {
    const action = policy.act(env, obs);
    const r = env.step(action);
    onStep?.(t, action, r.reward);
    acc.add(r.info);
    obs = r.obs;
    if (r.terminated || r.truncated) return acc.outcome(r.info);
  }
}

/**
 * `summarizeDriving` without keeping the episodes: sums in episode order, so the summary is
 * bit-identical to `summarizeDriving(all episodes)`.
 */
export class DrivingSummaryAccumulator {
  private n = 0;
  private readonly counts = { success: 0, crash: 0, out_of_road: 0, max_step: 0 };
  private readonly sums = { route_completion: 0, episode_reward: 0, episode_length: 0, mean_velocity: 0, steering_jerk: 0, cost: 0 };

  add(e: EpisodeOutcome): void {
    this.n++;
    this.counts[outcomeOf(e)]++;
    for (const k of Object.keys(this.sums) as (keyof typeof this.sums)[]) this.sums[k] += e[k];
  }

  get episodes(): number {
    return this.n;
  }

  summary(): DrivingSummary {
    const n = this.n;
    if (n === 0) throw new Error('summarizeDriving: no episodes.');
    return {
      episodes: n,
      success_rate: this.counts.success / n,
      crash_rate: this.counts.crash / n,
      out_of_road_rate: this.counts.out_of_road / n,
      max_step_rate: this.counts.max_step / n,
      route_completion: this.sums.route_completion / n,
      episode_reward: this.sums.episode_reward / n,
      episode_length: this.sums.episode_length / n,
      mean_velocity: this.sums.mean_velocity / n,
      steering_jerk: this.sums.steering_jerk / n,
      cost: this.sums.cost / n,
    };
  }
}

export interface RolloutOptions {
  /** Called with each episode's outcome as soon as it finishes (e.g. to append a JSONL line). */
  onEpisode?: (e: EpisodeOutcome) => void;
  /** Keep every outcome in `episodes` (default true); false keeps memory constant in the seed count. */
  keepEpisodes?: boolean;
}

/** One episode per seed, in order. Seeds may be any iterable (a generator for huge ranges). */
export function rollout(env: DrivingEnv, policy: EgoPolicy, seeds: Iterable<number>, options: RolloutOptions = {}): RolloutResult {
  const keep = options.keepEpisodes ?? true;
  const episodes: EpisodeOutcome[] = [];
  const acc = new DrivingSummaryAccumulator();
  for (const s of seeds) {
    const e = runEpisode(env, policy, s);
    acc.add(e);
    if (keep) episodes.push(e);
    options.onEpisode?.(e);
  }
  return { policy: policy.name, episodes, summary: acc.summary() };
}
