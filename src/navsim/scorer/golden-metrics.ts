/**
 * A proposal's metrics under the golden files' key names (`expected.metrics` of the NAVSIM
 * reference outputs), as the parity tests, the CLI and the worker pool report them.
 */
import type { PdmVersion, ProposalScores } from '../types.js';

/** PDMS v1.1 metrics of one proposal under the golden files' key names (`expected.metrics`). */
export type PdmsMetrics = {
  no_at_fault_collisions: number;
  drivable_area_compliance: number;
  driving_direction_compliance: number;
  ego_progress: number;
  time_to_collision_within_bound: number;
  comfort: number;
  score: number;
};

/** EPDMS v2.2 metrics of one proposal under the golden files' key names (EC is null when it is NaN). */
export type EpdmsMetrics = {
  no_at_fault_collisions: number;
  drivable_area_compliance: number;
  driving_direction_compliance: number;
  traffic_light_compliance: number;
  ego_progress: number;
  time_to_collision_within_bound: number;
  lane_keeping: number;
  history_comfort: number;
  two_frame_extended_comfort: number | null;
  score: number;
};

/** The metrics of a version: `PdmsMetrics` for 'v1.1', `EpdmsMetrics` for 'v2.2', their union for `PdmVersion`. */
export type PdmMetricsOf<V extends PdmVersion> = V extends 'v1.1' ? PdmsMetrics : EpdmsMetrics;

/** Metrics of one proposal under the golden files' key names (`expected.metrics`). */
export function toGoldenMetrics(s: ProposalScores, version: 'v1.1'): PdmsMetrics;
export function toGoldenMetrics(s: ProposalScores, version: 'v2.2'): EpdmsMetrics;
export function toGoldenMetrics(s: ProposalScores, version: PdmVersion): PdmsMetrics | EpdmsMetrics;
export function toGoldenMetrics(s: ProposalScores, version: PdmVersion): PdmsMetrics | EpdmsMetrics {
  if (version === 'v1.1') {
    return {
      no_at_fault_collisions: s.noAtFaultCollisions,
      drivable_area_compliance: s.drivableAreaCompliance,
      driving_direction_compliance: s.drivingDirectionCompliance,
      ego_progress: s.egoProgress,
      time_to_collision_within_bound: s.timeToCollisionWithinBound,
      comfort: s.comfort,
      score: s.score,
    };
  }
  return {
    no_at_fault_collisions: s.noAtFaultCollisions,
    drivable_area_compliance: s.drivableAreaCompliance,
    driving_direction_compliance: s.drivingDirectionCompliance,
    traffic_light_compliance: s.trafficLightCompliance,
    ego_progress: s.egoProgress,
    time_to_collision_within_bound: s.timeToCollisionWithinBound,
    lane_keeping: s.laneKeeping,
    history_comfort: s.historyComfort,
    two_frame_extended_comfort: Number.isNaN(s.extendedComfort) ? null : s.extendedComfort,
    score: s.score,
  };
}
