/**
 * PDM-Closed, the reference planner of NAVSIM's metric cache (`pdm_closed_planner.py`,
 * `abstract_pdm_closed_planner.py`, `abstract_pdm_planner.py`). It provides the EP normaliser:
 *
 *  1. starting lane: the on-route lane under the rear axle with the smallest heading error (its
 *     speed limit sets the IDM targets; fallback 15 m/s);
 *  2. paths: the scene's PDM centerline and two copies shifted by -1 m / +1 m;
 *  3. observation: constant-velocity forecasts of the objects at t = 0, red lights on on-route
 *     lane connectors as static obstacles;
 *  4. 3 paths x 5 IDM speed fractions = 15 proposals unrolled for 4 s;
 *  5. each proposal is tracked by the LQR and propagated by the kinematic bicycle, then scored
 *     against the forecast (no history; v2 without extended comfort);
 *  6. the first best proposal is extended to 5 s; the cache keeps its 51 poses (velocities 0).
 */
import { type Ring, egoCenter, egoFootprintRing, locatePointInRing, EXTERIOR, INTERIOR, ringDistance } from './pdm-closed-geometry.js';
import { DEFAULT_GENERATOR, DEFAULT_IDM_POLICY, type IdmPolicyConfig, ProposalGenerator } from './pdm-closed-idm.js';
import { ForecastObservation, type PDMRedLight, type PDMTrackedObject } from './pdm-closed-observation.js';
import { PDMPath, parallelDiscretePath, pathNormals } from './pdm-closed-path.js';
import { initialStateArray } from './interpolate.js';
import { pdmClosedInputFromScene } from './pdm-closed-input.js';
import { forecastToScorerObservation } from './pdm-closed-observation.js';
import { selectProposal } from './pdm-closed-select.js';
import { aggregateBatch, argmaxFirst, evaluateBatch, prepareScene } from './scorer.js';
import { simulateProposals } from './simulate.js';
import { STATE_SIZE as STATE_SIZE_IMPORT, type PDMScene, type PDMVersion } from './types.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const STATE_SIZE = STATE_SIZE_IMPORT;

/** A lane of the map as PDM-Closed sees it. */
export interface PDMClosedLane {
  id: string;
  type: 'LANE' | 'LANE_CONNECTOR';
  polygon: Ring;
  /** Baseline (x, y, heading) triples. */
  centerline: Float64Array;
  /** null: no speed limit (fallback target velocity). */
  speedLimitMps: number | null;
  onRoute: boolean;
}

/** Everything PDM-Closed reads from a scene. */
export interface PDMClosedInput {
  /** Ego time stamp in integer microseconds. */
  timestampUs: number;
  /** Rear-axle pose (global) and rear-axle velocity / acceleration (ego frame). */
  ego: { x: number; y: number; heading: number; vx: number; vy: number; ax: number; ay: number; steeringAngle: number };
  /** PDM centerline (x, y, heading) triples; also the progress path of the scorer. */
  centerline: Float64Array;
  lanes: PDMClosedLane[];
  /** Tracked objects at t = 0. */
  objects: PDMTrackedObject[];
  /** Lane-connector ids whose light is red at t = 0. */
  redLightLaneIds: string[];
}

export interface PDMClosedConfig {
  /** Lateral offsets of the extra paths [m] (the centerline is always path 0). */
  lateralOffsets: number[];
  idm: IdmPolicyConfig;
  /** Map radius for the observation [m]. */
  mapRadius: number;
  proposalPoses: number;
  trajectoryPoses: number;
  sampleInterval: number;
  /**
   * Score every proposal fully (default false: proposals that cannot be chosen are skipped, see
   * `selectProposal`; the choice is the same, their `scores` entries are -Infinity).
   */
  exhaustiveScores?: boolean;
}

export const DEFAULT_PDM_CLOSED: Readonly<PDMClosedConfig> = Object.freeze({
  lateralOffsets: [-1.0, 1.0],
  idm: DEFAULT_IDM_POLICY,
  mapRadius: 100,
  proposalPoses: DEFAULT_GENERATOR.proposalPoses,
  trajectoryPoses: DEFAULT_GENERATOR.trajectoryPoses,
  sampleInterval: DEFAULT_GENERATOR.sampleInterval,
  exhaustiveScores: false,
});

/**
 * Simulates reference poses: `reference` holds N proposals x (P+1) poses x (x, y, heading); the
 * result is N x (P+1) x 11 simulated states (StateIndex layout), starting from the ego state.
 */
export type ProposalSimulator = (reference: Float64Array, numProposals: number, input: PDMClosedInput) => Float64Array;

let refScratch = new Float64Array(0);
/**
 * The reference states of PDM-Closed's simulation, a scratch buffer (simulateProposals keeps
 * nothing of them): only x, y, heading are ever written, the other 8 values stay 0.
 */
function refScratchFor(size: number): Float64Array {
  if (refScratch.length !== size) refScratch = new Float64Array(size);
  return refScratch;
}

/**
 * `PDMSimulator.simulate_proposals` for PDM-Closed: the proposal poses themselves are the LQR
 * reference (no re-interpolation), tracked from the initial ego state with the batched LQR and
 * propagated with the kinematic bicycle.
 */
export const simulatePDMProposals: ProposalSimulator = (reference, numProposals, input) => {
  const numStates = reference.length / 3 / numProposals;
  const refs = refScratchFor(numProposals * numStates * STATE_SIZE);
  for (let i = 0; i < numProposals * numStates; i++) {
    refs[i * STATE_SIZE] = reference[3 * i]!;
    refs[i * STATE_SIZE + 1] = reference[3 * i + 1]!;
    refs[i * STATE_SIZE + 2] = reference[3 * i + 2]!;
  }
  return simulateProposals(refs, numProposals, initialStateArray(input.ego), numStates);
};

/** Scores N simulated proposals against the forecast; returns one score per proposal. */
export type ProposalScorer = (
  simulated: Float64Array,
  numProposals: number,
  observation: ForecastObservation,
  centerline: PDMPath,
  input: PDMClosedInput,
) => Float64Array;

export interface PDMClosedResult {
  /** Index of the chosen proposal (lateral * 5 + longitudinal). */
  proposalIndex: number;
  /**
   * Scores of all proposals; with the default `exhaustiveScores: false` a proposal that could not
   * be chosen (its score's upper bound is below the chosen one's) is not fully scored: -Infinity.
   */
  scores: Float64Array;
  /** The chosen trajectory: (trajectoryPoses + 1) x (x, y, heading), rear axle, global. */
  poses: Float64Array;
  /** Time stamps of the poses in integer microseconds. */
  timesUs: number[];
  /** Simulated states of all proposals (N x (P+1) x 11). */
  simulated: Float64Array;
  /** Speed limit used for the IDM targets (null: fallback). */
  speedLimitMps: number | null;
  startingLaneId: string | null;
}

/** `_get_starting_lane`: on-route lane under the rear axle with the smallest heading error. */
export function startingLane(input: PDMClosedInput): PDMClosedLane | null {
  const { x, y, heading } = input.ego;
  const route = input.lanes.filter((l) => l.onRoute);
  let best: PDMClosedLane | null = null;
  let bestErr = Infinity;
  for (const lane of route) {
    if (locatePointInRing(x, y, lane.polygon) === EXTERIOR) continue;
    const c = lane.centerline;
    let arg = 0;
    let dmin = Infinity;
    for (let i = 0; i < c.length / 3; i++) {
      const dx = x - c[3 * i]!;
      const dy = y - c[3 * i + 1]!;
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d < dmin) {
        dmin = d;
        arg = i;
      }
    }
    const e = c[3 * arg + 2]! - heading;
    const err = Math.abs(Math.atan2(Math.sin(e), Math.cos(e)));
    if (err < bestErr || best === null) {
      best = lane;
      bestErr = err;
    }
  }
  if (best) return best;
  // fallback: a route lane containing the ego centre, else the one closest to the footprint
  const [cx, cy] = egoCenter(x, y, heading);
  const footprint = egoFootprintRing(x, y, heading);
  let closest = Infinity;
  for (const lane of route) {
    if (locatePointInRing(cx, cy, lane.polygon) === INTERIOR) return lane;
    const d = ringDistance(lane.polygon, footprint);
    if (d < closest) {
      best = lane;
      closest = d;
    }
  }
  return best;
}

/** The three proposal paths: the centerline, then one per lateral offset. */
export function proposalPaths(centerline: Float64Array, lateralOffsets: number[]): PDMPath[] {
  const center = new PDMPath(centerline);
  const paths = [center];
  if (lateralOffsets.length === 0) return paths;
  // the shifted paths keep the raw headings, so their unwrapped headings are the centre's; the
  // normal of every state is computed once for all offsets (the same cos / sin values); normals
  // and shifted states go through scratch buffers (PDMPath copies what it keeps)
  const n = Math.floor(centerline.length / 3);
  if (pathScratch.length < 5 * n) pathScratch = new Float64Array(5 * n);
  const normals = pathNormals(centerline, pathScratch.subarray(0, 2 * n));
  const shifted = pathScratch.subarray(2 * n, 5 * n);
  for (const o of lateralOffsets) paths.push(new PDMPath(parallelDiscretePath(centerline, o, normals, shifted), center.heading));
  return paths;
}
let pathScratch = new Float64Array(0);

/** The forecast observation PDM-Closed plans and scores against. */
export function pdmClosedObservation(input: PDMClosedInput, config: PDMClosedConfig = DEFAULT_PDM_CLOSED): ForecastObservation {
  const routeLanes = new Map(input.lanes.filter((l) => l.onRoute).map((l) => [l.id, l]));
  const redLights: PDMRedLight[] = [];
  for (const id of input.redLightLaneIds) {
    const lane = routeLanes.get(String(id));
    if (lane) redLights.push({ laneConnectorId: String(id), polygon: lane.polygon });
  }
  const intervalSteps = Math.trunc(1 / config.sampleInterval);
  const samples = Math.max(config.proposalPoses + intervalSteps, config.trajectoryPoses);
  return new ForecastObservation(input.ego, input.objects, redLights, {
    observationSamples: samples,
    sampleResolution: 2,
    mapRadius: config.mapRadius,
    sampleInterval: config.sampleInterval,
  });
}

/** Steps 1-4: the generator with all proposals unrolled (not yet simulated). */
export function generatePDMClosedProposals(
  input: PDMClosedInput,
  config: PDMClosedConfig = DEFAULT_PDM_CLOSED,
): { generator: ProposalGenerator; observation: ForecastObservation; paths: PDMPath[]; lane: PDMClosedLane | null } {
  const lane = startingLane(input);
  const paths = proposalPaths(input.centerline, config.lateralOffsets);
  const observation = pdmClosedObservation(input, config);
  const generator = new ProposalGenerator(paths, observation, lane ? lane.speedLimitMps : null, config.idm, {
    proposalPoses: config.proposalPoses,
    trajectoryPoses: config.trajectoryPoses,
    sampleInterval: config.sampleInterval,
    leadingAgentUpdateRate: 2,
  });
  generator.generate(input.ego.x, input.ego.y, input.ego.vx);
  return { generator, observation, paths, lane };
}

/** Runs PDM-Closed end to end with the given simulator and scorer. */
export function runPDMClosed(
  input: PDMClosedInput,
  simulate: ProposalSimulator,
  score: ProposalScorer,
  config: PDMClosedConfig = DEFAULT_PDM_CLOSED,
): PDMClosedResult {
  const { generator, observation, paths, lane } = generatePDMClosedProposals(input, config);
  const N = generator.numProposals;
  const P = config.proposalPoses;
  const T = config.trajectoryPoses;
  let simulated: Float64Array;
  if (simulate === simulatePDMProposals) {
    // the default simulator: the generator's poses go straight into its reference states
    const refs = refScratchFor(N * (P + 1) * STATE_SIZE);
    for (let p = 0; p < N; p++) {
      for (let t = 0; t <= P; t++) {
        const src = (p * (T + 1) + t) * 3;
        const dst = (p * (P + 1) + t) * STATE_SIZE;
        refs[dst] = generator.states[src]!;
        refs[dst + 1] = generator.states[src + 1]!;
        refs[dst + 2] = generator.states[src + 2]!;
      }
    }
    simulated = simulateProposals(refs, N, initialStateArray(input.ego), P + 1);
  } else {
    const reference = new Float64Array(N * (P + 1) * 3);
    for (let p = 0; p < N; p++) reference.set(generator.states.subarray(p * (T + 1) * 3, (p * (T + 1) + P) * 3 + 3), p * (P + 1) * 3);
    simulated = simulate(reference, N, input);
  }
  const scores = score(simulated, N, observation, paths[0]!, input);
  const arg = argmaxFirst(scores);
  generator.extend(arg);
  const poses = generator.poses(arg);
  const step = Math.trunc(config.sampleInterval * 1e6);
  const timesUs: number[] = [];
  for (let t = 0; t <= config.trajectoryPoses; t++) timesUs.push(input.timestampUs + t * step);
  return {
    proposalIndex: arg,
    scores,
    poses,
    timesUs,
    simulated,
    speedLimitMps: lane ? lane.speedLimitMps : null,
    startingLaneId: lane ? lane.id : null,
  };
}

/**
 * The scorer for PDM-Closed's own proposals: NAVSIM's `PDMScorer` of the version (v1.1 PDMS;
 * v2.2 without extended comfort and without history, so HC = 1) against the constant-velocity
 * forecast, on the scene's drivable map and centerline, aggregated over the 15-proposal batch.
 * By default only what the choice depends on is computed (`selectProposal`: skipped proposals
 * score -Infinity); `exhaustive` scores every proposal fully.
 */
export function pdmClosedScorer(scene: PDMScene, version: PDMVersion, exhaustive = false): ProposalScorer {
  return (simulated, numProposals, observation) => {
    const prep = prepareScene(scene, version);
    const ctx = {
      version,
      observation: forecastToScorerObservation(observation),
      map: prep.map,
      centerline: prep.centerline,
      history: null,
    };
    if (!exhaustive) return selectProposal(ctx, simulated, numProposals).scores;
    const m = evaluateBatch(ctx, simulated, numProposals, { history: null, comfortFirstFail: true });
    return aggregateBatch(m, version).scores;
  };
}

/** PDM-Closed's cached trajectory as scorer states: 51 x 11, only x, y, heading filled. */
export function pdmClosedStates(result: PDMClosedResult): Float64Array {
  const n = result.poses.length / 3;
  const out = new Float64Array(n * STATE_SIZE);
  for (let t = 0; t < n; t++) {
    out[t * STATE_SIZE] = result.poses[3 * t]!;
    out[t * STATE_SIZE + 1] = result.poses[3 * t + 1]!;
    out[t * STATE_SIZE + 2] = result.poses[3 * t + 2]!;
  }
  return out;
}

/**
 * Runs PDM-Closed on a parsed scene with the scorer of `version` (the two versions can pick
 * different proposals). Returns the planner result; `pdmClosedStates(result)` is the EP normaliser.
 */
export function runPDMClosedOnScene(scene: PDMScene, version: PDMVersion, config: PDMClosedConfig = DEFAULT_PDM_CLOSED): PDMClosedResult {
  return runPDMClosed(pdmClosedInputFromScene(scene), simulatePDMProposals, pdmClosedScorer(scene, version, config.exhaustiveScores === true), config);
}

/** @deprecated Renamed `PDMClosedConfig`. */
export type PdmClosedConfig = PDMClosedConfig;
/** @deprecated Renamed `PDMClosedInput`. */
export type PdmClosedInput = PDMClosedInput;
/** @deprecated Renamed `PDMClosedLane`. */
export type PdmClosedLane = PDMClosedLane;
/** @deprecated Renamed `PDMClosedResult`. */
export type PdmClosedResult = PDMClosedResult;
/** @deprecated Renamed `generatePDMClosedProposals`. */
export const generatePdmClosedProposals = generatePDMClosedProposals;
/** @deprecated Renamed `runPDMClosed`. */
export const runPdmClosed = runPDMClosed;
/** @deprecated Renamed `runPDMClosedOnScene`. */
export const runPdmClosedOnScene = runPDMClosedOnScene;
/** @deprecated Renamed `simulatePDMProposals`. */
export const simulatePdmProposals = simulatePDMProposals;
