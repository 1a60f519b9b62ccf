/**
 * The scorer's per-scene context: NAVSIM's `PDMScorerConfig` thresholds, the default weights, and
 * `prepareScene` (observation, drivable map, centre line, history), cached per scene object.
 */
import { historyStates, initialStateArray } from '../interpolate.js';
import { Centerline, type DrivableMap, buildDrivableMap, routeLaneIds } from '../map.js';
import { buildObservation, type PDMObservation } from '../observation.js';
import type { PDMScene, PDMVersion, PDMWeights } from '../types.js';
import type { BatchMetrics, ScorerWorkspace } from './metrics.js';

/** `PDMScorerConfig` thresholds (identical in v1.1 and v2.2). */
export const SCORER_THRESHOLDS = {
  drivingDirectionHorizonSteps: 10, // int(1.0 / 0.1)
  drivingDirectionCompliance: 2.0,
  drivingDirectionViolation: 6.0,
  stoppedSpeedTtc: 5e-3,
  stoppedSpeedCollision: 5e-2,
  progressDistance: 5.0,
  laneKeepingDeviation: 0.5,
  laneKeepingHorizonSteps: 20, // ceil(2.0 / 0.1)
} as const;

export function defaultWeights(version: PDMVersion): PDMWeights {
  return version === 'v1.1'
    ? { progress: 5, ttc: 5, comfort: 2, drivingDirection: 0, laneKeeping: 0, historyComfort: 0, extendedComfort: 0 }
    : { progress: 5, ttc: 5, comfort: 0, drivingDirection: 0, laneKeeping: 2, historyComfort: 2, extendedComfort: 2 };
}

/** What the scorer needs besides the simulated states (a metric cache). */
export interface ScoringContext {
  version: PDMVersion;
  observation: PDMObservation;
  map: DrivableMap;
  centerline: Centerline;
  /** v2.2 history-comfort samples (n x 11) prepended to the states, or null (HC = 1). */
  history: Float64Array | null;
  /** Scratch arrays of the batch evaluations on this context (default: the thread's shared one). @internal */
  workspace?: ScorerWorkspace;
}

/** Per-scene cache for `scoreProposals`. */
export interface PreparedScene extends ScoringContext {
  scene: PDMScene;
  initialState: Float64Array;
  routeLaneIds: string[];
  /** Lazily computed results, keyed by use. */
  cache: {
    pdm?: { key: Float64Array; result: BatchMetrics; states: Float64Array; reference: Float64Array; details?: BatchMetrics };
    human?: { result: BatchMetrics | null; states: Float64Array | null; reference: Float64Array | null; details?: BatchMetrics };
    previous?: { states: Float64Array; intervalS: number } | null;
  };
}

/**
 * Prepared scenes, cached per scene object (identity) and version: the observation, drivable map
 * and centre line are built once however often a scene is scored; a scene that is no longer
 * referenced drops its entry (WeakMap). Callers must not mutate a scene after scoring it.
 */
const prepared = new WeakMap<PDMScene, Map<PDMVersion, PreparedScene>>();

/** Builds (or returns the cached) scoring context of a scene for a version. */
export function prepareScene(scene: PDMScene, version: PDMVersion): PreparedScene {
  let byVersion = prepared.get(scene);
  if (!byVersion) {
    byVersion = new Map();
    prepared.set(scene, byVersion);
  }
  const hit = byVersion.get(version);
  if (hit) return hit;
  const v2 = version === 'v2.2';
  const route = routeLaneIds(scene);
  const ctx: PreparedScene = {
    version,
    scene,
    observation: buildObservation(scene, { numSteps: v2 ? 41 : 51, dropInitialOverlaps: v2, redLights: v2 }),
    map: buildDrivableMap(scene, route),
    centerline: new Centerline(scene.pdmClosedCenterline, 3),
    history: v2 && scene.history ? historyStates(scene.history) : null,
    initialState: initialStateArray(scene.ego),
    routeLaneIds: route,
    cache: {},
  };
  byVersion.set(version, ctx);
  return ctx;
}
