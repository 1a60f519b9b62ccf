/**
 * Runs a policy for one episode per seed and collects MetaDrive-style outcomes.
 */
import { steeringJerk, summarizeDriving, type DrivingSummary, type EpisodeOutcome } from '../metrics/driving.js';
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

export function rollout(env: DrivingEnv, policy: EgoPolicy, seeds: readonly number[]): RolloutResult {
  const episodes = seeds.map((s) => runEpisode(env, policy, s));
  return { policy: policy.name, episodes, summary: summarizeDriving(episodes) };
}
