/**
 * NAVSIM v2.2's human-penalty filter: for an original (not synthetic) frame, the logged human
 * trajectory is simulated and scored alone (without history); every sub-metric the human fails
 * (value 0) is forgiven, i.e. set to 1, for every proposal of the scene.
 */
import { simulateProposals } from '../simulate.js';
import type { ProposalScores } from '../types.js';
import type { BatchMetrics } from './metrics.js';
import { evaluateBatch } from './metrics.js';
import type { PreparedScene } from './context.js';
import { proposalsToReferenceStates } from './proposals.js';

/** The sub-metrics the filter can forgive, by name. */
export type FilteredMetrics = Pick<
  ProposalScores,
  'noAtFaultCollisions' | 'drivableAreaCompliance' | 'drivingDirectionCompliance' | 'trafficLightCompliance' | 'egoProgress' | 'timeToCollisionWithinBound' | 'laneKeeping' | 'historyComfort'
>;

/** The filtered metrics in NAVSIM's order, with their golden-file names (`forgivenMetrics`). */
export const HUMAN_FILTER_METRICS: readonly (readonly [keyof FilteredMetrics, string])[] = [
  ['noAtFaultCollisions', 'no_at_fault_collisions'],
  ['drivableAreaCompliance', 'drivable_area_compliance'],
  ['drivingDirectionCompliance', 'driving_direction_compliance'],
  ['trafficLightCompliance', 'traffic_light_compliance'],
  ['egoProgress', 'ego_progress'],
  ['timeToCollisionWithinBound', 'time_to_collision_within_bound'],
  ['laneKeeping', 'lane_keeping'],
  ['historyComfort', 'history_comfort'],
];

/** The human run's values for the filter (its EP counts as 1: the human is never forgiven EP). */
export function humanFilterValues(human: BatchMetrics): FilteredMetrics {
  return {
    noAtFaultCollisions: human.noAtFaultCollisions[0]!,
    drivableAreaCompliance: human.drivableAreaCompliance[0]!,
    drivingDirectionCompliance: human.drivingDirectionCompliance[0]!,
    trafficLightCompliance: human.trafficLightCompliance[0]!,
    egoProgress: 1,
    timeToCollisionWithinBound: human.timeToCollisionWithinBound[0]!,
    laneKeeping: human.laneKeeping[0]!,
    historyComfort: human.historyComfort[0]!,
  };
}

/**
 * A proposal's metrics after the filter: each metric the human fails becomes 1; its golden name
 * goes to `forgiven` (in NAVSIM's order) when that changed the proposal's value.
 */
export function applyHumanFilter(values: FilteredMetrics, human: FilteredMetrics, forgiven: string[]): FilteredMetrics {
  const out = { ...values };
  for (const [key, name] of HUMAN_FILTER_METRICS) {
    if (human[key] === 0) {
      if (out[key] !== 1) forgiven.push(name);
      out[key] = 1;
    }
  }
  return out;
}

/** v2.2 human-filter run: the logged human trajectory simulated and scored alone, without history (cached on `prep`). */
export function humanRun(prep: PreparedScene): { result: BatchMetrics | null; states: Float64Array | null; reference: Float64Array | null } {
  if (prep.cache.human) return prep.cache.human;
  const scene = prep.scene;
  let entry: { result: BatchMetrics | null; states: Float64Array | null; reference: Float64Array | null } = { result: null, states: null, reference: null };
  if (prep.version === 'v2.2' && scene.sceneType === 'original' && scene.humanTrajectory) {
    const { refs } = proposalsToReferenceStates(scene, [{ poses: scene.humanTrajectory.poses, frame: scene.humanTrajectory.frame, intervalS: scene.humanTrajectory.intervalS }]);
    const states = simulateProposals(refs, 1, prep.initialState);
    entry = { result: evaluateBatch(prep, states, 1, { history: null }), states, reference: refs };
  }
  prep.cache.human = entry;
  return entry;
}
