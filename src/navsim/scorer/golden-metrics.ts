/**
 * A proposal's metrics under the golden files' key names (`expected.metrics` of the NAVSIM
 * reference outputs), as the parity tests, the CLI and the worker pool report them.
 */
import type { PDMVersion, ProposalScores } from '../types.js';

/** PDMS v1.1 metrics of one proposal under the golden files' key names (`expected.metrics`). */
export type PDMSMetrics = {
  no_at_fault_collisions: number;
  drivable_area_compliance: number;
  driving_direction_compliance: number;
  ego_progress: number;
  time_to_collision_within_bound: number;
  comfort: number;
  score: number;
};

/** EPDMS v2.2 metrics of one proposal under the golden files' key names (EC is null when it is NaN). */
export type EPDMSMetrics = {
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

/** The metrics of a version: `PDMSMetrics` for 'v1.1', `EPDMSMetrics` for 'v2.2', their union for `PDMVersion`. */
export type PDMMetricsOf<V extends PDMVersion> = V extends 'v1.1' ? PDMSMetrics : EPDMSMetrics;

/** Metrics of one proposal under the golden files' key names (`expected.metrics`). */
export function toGoldenMetrics(s: ProposalScores, version: 'v1.1'): PDMSMetrics;
export function toGoldenMetrics(s: ProposalScores, version: 'v2.2'): EPDMSMetrics;
export function toGoldenMetrics(s: ProposalScores, version: PDMVersion): PDMSMetrics | EPDMSMetrics;
export function toGoldenMetrics(s: ProposalScores, version: PDMVersion): PDMSMetrics | EPDMSMetrics {
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

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMMetricsOf`. */
export type PdmMetricsOf<V extends PDMVersion> = PDMMetricsOf<V>;
/** @deprecated Renamed `PDMSMetrics`. */
export type PdmsMetrics = PDMSMetrics;
/** @deprecated Renamed `EPDMSMetrics`. */
export type EpdmsMetrics = EPDMSMetrics;
