/**
 * Driving metrics over episodes (MetaDrive evaluation buckets, spec §4.4): success
 * (arrive_dest), crash, out-of-road, max-step (none of the first three), route completion,
 * episode reward and length, and steering smoothness (jerk of the steering action).
 */

/** What one episode contributes. */
export interface EpisodeOutcome {
  seed: number;
  arrive_dest: boolean;
  crash: boolean;
  out_of_road: boolean;
  max_step: boolean;
  route_completion: number;
  episode_reward: number;
  episode_length: number;
  /** Mean speed over the episode (km/h). */
  mean_velocity: number;
  /** Mean |Δ² steering| / dt² of the applied steering action (1/s²). */
  steering_jerk: number;
  cost: number;
}

export interface DrivingSummary {
  episodes: number;
  success_rate: number;
  crash_rate: number;
  out_of_road_rate: number;
  max_step_rate: number;
  route_completion: number;
  episode_reward: number;
  episode_length: number;
  mean_velocity: number;
  steering_jerk: number;
  cost: number;
}

/**
 * Mean absolute second difference of a steering sequence divided by dt² (0 for < 3 samples).
 * The sequence is the applied steering action per env step (dt = 0.1 s in MetaDrive).
 */
export function steeringJerk(steering: ArrayLike<number>, dt: number): number {
  if (!(dt > 0)) throw new Error(`steeringJerk: dt must be > 0, found ${dt}.`);
  const n = steering.length;
  if (n < 3) return 0;
  let s = 0;
  for (let i = 2; i < n; i++) s += Math.abs(steering[i]! - 2 * steering[i - 1]! + steering[i - 2]!);
  return s / (n - 2) / (dt * dt);
}

/** Outcome bucket: success / crash / out_of_road / max_step, in that priority. */
export function outcomeOf(e: Pick<EpisodeOutcome, 'arrive_dest' | 'crash' | 'out_of_road'>): 'success' | 'crash' | 'out_of_road' | 'max_step' {
  if (e.arrive_dest) return 'success';
  if (e.crash) return 'crash';
  if (e.out_of_road) return 'out_of_road';
  return 'max_step';
}

/** Means over episodes; rates use the exclusive buckets of `outcomeOf`. */
export function summarizeDriving(episodes: readonly EpisodeOutcome[]): DrivingSummary {
  const n = episodes.length;
  if (n === 0) throw new Error('summarizeDriving: no episodes.');
  const mean = (f: (e: EpisodeOutcome) => number) => episodes.reduce((s, e) => s + f(e), 0) / n;
  const rate = (b: ReturnType<typeof outcomeOf>) => episodes.filter((e) => outcomeOf(e) === b).length / n;
  return {
    episodes: n,
    success_rate: rate('success'),
    crash_rate: rate('crash'),
    out_of_road_rate: rate('out_of_road'),
    max_step_rate: rate('max_step'),
    route_completion: mean((e) => e.route_completion),
    episode_reward: mean((e) => e.episode_reward),
    episode_length: mean((e) => e.episode_length),
    mean_velocity: mean((e) => e.mean_velocity),
    steering_jerk: mean((e) => e.steering_jerk),
    cost: mean((e) => e.cost),
  };
}
