/**
 * Runs a policy for one episode per seed and collects MetaDrive-style outcomes.
 */
import { steeringJerk, summarizeDriving, type DrivingSummary, type EpisodeOutcome } from '../metrics/driving.js';
import type { DrivingEnv } from './env.js';
import type { EgoPolicy } from './policies.js';

export interface RolloutResult {
  policy: string;
  episodes: EpisodeOutcome[];
  summary: DrivingSummary;
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
  const steer: number[] = [];
  let speedSum = 0;
  let cost = 0;
  for (let t = 0; ; t++) {
    const action = policy.act(env, obs);
    const r = env.step(action);
    onStep?.(t, action, r.reward);
    steer.push(r.info.steering);
    speedSum += r.info.velocity;
    cost += r.info.cost;
    obs = r.obs;
    if (r.terminated || r.truncated) {
      const i = r.info;
      return {
        seed,
        arrive_dest: i.arrive_dest,
        crash: i.crash,
        out_of_road: i.out_of_road,
        max_step: !i.arrive_dest && !i.crash && !i.out_of_road,
        route_completion: i.route_completion,
        episode_reward: i.episode_reward,
        episode_length: i.episode_length,
        mean_velocity: speedSum / i.episode_length,
        steering_jerk: steeringJerk(steer, env.config.physics_world_step_size * env.config.decision_repeat),
        cost,
      };
    }
  }
}

export function rollout(env: DrivingEnv, policy: EgoPolicy, seeds: readonly number[]): RolloutResult {
  const episodes = seeds.map((s) => runEpisode(env, policy, s));
  return { policy: policy.name, episodes, summary: summarizeDriving(episodes) };
}
