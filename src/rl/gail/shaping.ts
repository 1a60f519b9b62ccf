/**
 * Optional shaping terms for the driving env, added to the reward at every step (each weight 0
 * turns its term off; each is logged as `shaping/<name>`):
 *
 * - `laneKeeping`: −w·|lateral offset in the lane| (metres, from observation feature 8,
 *   `(2·lat/4.5 + 1)/2`);
 * - `offRoad`: −w on a step that ends out of the road;
 * - `smoothness`: −w·|Δ steering| between consecutive applied actions of the same episode;
 * - `progress`: +w·Δ route completion (fraction of the route, so w = 100 gives points per %).
 */
import type { ShapingFn } from '../ppo/ppo.js';

export interface DrivingShapingWeights {
  laneKeeping: number;
  offRoad: number;
  smoothness: number;
  progress: number;
}

export const NO_SHAPING: Readonly<DrivingShapingWeights> = Object.freeze({ laneKeeping: 0, offRoad: 0, smoothness: 0, progress: 0 });

/** The lateral offset (m) encoded in feature 8 of the driving observation. */
export function lateralOffsetFromObs(feature: number): number {
  return ((2 * feature - 1) * 4.5) / 2;
}

/** A `ShapingFn` for `numEnvs` driving envs (it keeps each env's previous steering and progress). */
export function drivingShaping(weights: Partial<DrivingShapingWeights>, numEnvs: number, obsDim = 259): ShapingFn {
  const w = { ...NO_SHAPING, ...weights };
  const prevSteer = new Float64Array(numEnvs).fill(NaN);
  const prevProgress = new Float64Array(numEnvs);
  return (infos, actions, n, obs) => {
    const parts = {
      lane_keeping: new Float32Array(n),
      off_road: new Float32Array(n),
      smoothness: new Float32Array(n),
      progress: new Float32Array(n),
    };
    const total = new Float32Array(n);
    const actDim = actions.length / n;
    for (let i = 0; i < n; i++) {
      const info = (infos[i] ?? {}) as { out_of_road?: boolean; route_completion?: number; arrive_dest?: boolean; crash?: boolean; max_step?: boolean };
      const steer = actions[i * actDim]!;
      if (w.laneKeeping) parts.lane_keeping[i] = -w.laneKeeping * Math.abs(lateralOffsetFromObs(obs[i * obsDim + 8]!));
      if (w.offRoad && info.out_of_road) parts.off_road[i] = -w.offRoad;
      if (w.smoothness && Number.isFinite(prevSteer[i]!)) parts.smoothness[i] = -w.smoothness * Math.abs(steer - prevSteer[i]!);
      const rc = info.route_completion ?? prevProgress[i]!;
      if (w.progress) parts.progress[i] = w.progress * (rc - prevProgress[i]!);
      // A finished episode (auto-reset) starts the next one from scratch.
      const ended = !!info.arrive_dest || !!info.out_of_road || !!info.crash || !!info.max_step;
      prevSteer[i] = ended ? NaN : steer;
      prevProgress[i] = ended ? 0 : rc;
      total[i] = parts.lane_keeping[i]! + parts.off_road[i]! + parts.smoothness[i]! + parts.progress[i]!;
    }
    return { total, parts };
  };
}
