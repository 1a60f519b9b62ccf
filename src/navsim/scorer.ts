/**
 * The NAVSIM PDM scorer, batched over many proposals of one scene: PDMS v1.1 (NC, DAC, DDC, EP,
 * TTC, C) and EPDMS v2.2 (NC, DAC, DDC, TLC, EP, TTC, LK, HC, EC, human-penalty filter, one-stage
 * aggregation), with configurable weights.
 *
 * Public API (stable; PDM-Closed and the CLI build on it):
 * - `scoreProposals(scene, proposals, opts)`: every sub-metric and the score per proposal. Each
 *   proposal is scored exactly as NAVSIM scores the pair [PDM-Closed, proposal] (EP normalised
 *   against the PDM-Closed trajectory, from `opts.pdmClosedStates` or the scene's pinned one).
 * - `prepareScene(scene, version)`: the per-scene context (observation, drivable map, centerline,
 *   history, human-filter and previous-frame results), cached per scene object.
 * - Lower-level pieces for planners: `proposalsToReferenceStates`, `simulateProposals`
 *   (simulate.ts), `evaluateBatch(ctx, states, n)` (raw metrics of simulated states against any
 *   observation, e.g. PDM-Closed's constant-velocity forecast) and `aggregateBatch` (NAVSIM's
 *   `_aggregate_scores` over the whole batch, as PDM-Closed uses it to pick its proposal).
 */
import { boundsOverlap, boxBounds, boxesIntersect, segmentIntersectsBox } from '../geometry/box.js';
import { allComfortable, comfortChecks, extendedComfort, type ExtendedComfortResult } from './comfort.js';
import { historyStates, initialStateArray, referenceStatesFromPoses, referenceStatesFromStateTrajectory } from './interpolate.js';
import { Centerline, DrivableMap, PolyFlag, buildDrivableMap, routeLaneIds } from './map.js';
import { buildObservation, type PdmObservation } from './observation.js';
import { pairwiseSum } from './savgol.js';
import { simulateProposals } from './simulate.js';
import {
  NUM_STATES,
  NavsimInputError,
  PACIFICA,
  STATE_SIZE as STATE_SIZE_IMPORT,
  StateIndex,
  type ComfortDetail,
  type EgoAreas,
  type PdmScene,
  type PdmVersion,
  type PdmWeights,
  type PoseTrajectory,
  type ProposalScores,
} from './types.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_HEADING = StateIndex.HEADING;
const S_X = StateIndex.X;
const S_Y = StateIndex.Y;
const S_VELOCITY_X = StateIndex.VELOCITY_X;
const S_VELOCITY_Y = StateIndex.VELOCITY_Y;
const STATE_SIZE = STATE_SIZE_IMPORT;

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

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

export function defaultWeights(version: PdmVersion): PdmWeights {
  return version === 'v1.1'
    ? { progress: 5, ttc: 5, comfort: 2, drivingDirection: 0, laneKeeping: 0, historyComfort: 0, extendedComfort: 0 }
    : { progress: 5, ttc: 5, comfort: 0, drivingDirection: 0, laneKeeping: 2, historyComfort: 2, extendedComfort: 2 };
}

const TTC_FUTURE_IDCS = [0, 3, 6, 9] as const;
const DEG30 = 30 * (Math.PI / 180);
const DEG150 = 150 * (Math.PI / 180);

// ---------------------------------------------------------------------------------------------
// Scoring context
// ---------------------------------------------------------------------------------------------

/** What the scorer needs besides the simulated states (a metric cache). */
export interface ScoringContext {
  version: PdmVersion;
  observation: PdmObservation;
  map: DrivableMap;
  centerline: Centerline;
  /** v2.2 history-comfort samples (n x 11) prepended to the states, or null (HC = 1). */
  history: Float64Array | null;
}

/** Per-scene cache for `scoreProposals`. */
export interface PreparedScene extends ScoringContext {
  scene: PdmScene;
  initialState: Float64Array;
  routeLaneIds: string[];
  /** Lazily computed results, keyed by use. */
  cache: {
    pdm?: { key: Float64Array; result: BatchMetrics; states: Float64Array; reference: Float64Array; details?: BatchMetrics };
    human?: { result: BatchMetrics | null; states: Float64Array | null; reference: Float64Array | null; details?: BatchMetrics };
    previous?: { states: Float64Array; intervalS: number } | null;
  };
}

const prepared = new WeakMap<PdmScene, Map<PdmVersion, PreparedScene>>();

/** Builds (or returns the cached) scoring context of a scene for a version. */
export function prepareScene(scene: PdmScene, version: PdmVersion): PreparedScene {
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

// ---------------------------------------------------------------------------------------------
// Raw metrics of a batch of simulated states
// ---------------------------------------------------------------------------------------------

/** Raw per-proposal metrics of `evaluateBatch` (before EP normalisation and aggregation). */
export interface BatchMetrics {
  n: number;
  numStates: number;
  noAtFaultCollisions: Float64Array;
  drivableAreaCompliance: Float64Array;
  drivingDirectionCompliance: Float64Array;
  trafficLightCompliance: Float64Array;
  timeToCollisionWithinBound: Float64Array;
  /** v1.1 comfort, or v2.2 history comfort. */
  comfort: Float64Array;
  laneKeeping: Float64Array;
  progressRaw: Float64Array;
  collisionTimeIdx: Float64Array; // Infinity = none
  ttcTimeIdx: Float64Array;
  comfortDetail: ComfortDetail[];
  /** Present with `keepDetails`. */
  egoAreas?: EgoAreas[];
  laneKeepingDeviation?: Float64Array[];
}

/** Ego box corners (FL, RL, RR, FR) and centre per state: 10 numbers per state. */
export function egoCoords(states: Float64Array, count: number, out: Float64Array = new Float64Array(count * 10)): Float64Array {
  const hl = PACIFICA.halfLength;
  const hw = PACIFICA.halfWidth;
  const r2c = PACIFICA.rearAxleToCenter;
  const halfPi = Math.PI / 2.0;
  for (let i = 0; i < count; i++) {
    const o = i * STATE_SIZE;
    const h = states[o + S_HEADING]!;
    const c = Math.cos(h);
    const s = Math.sin(h);
    const cx = states[o + S_X]! + r2c * c;
    const cy = states[o + S_Y]! + r2c * s;
    const cl = Math.cos(h + halfPi);
    const sl = Math.sin(h + halfPi);
    const q = i * 10;
    out[q] = cx + (hw * cl + hl * c);
    out[q + 1] = cy + (hw * sl + hl * s);
    out[q + 2] = cx + (hw * cl + -hl * c);
    out[q + 3] = cy + (hw * sl + -hl * s);
    out[q + 4] = cx + (-hw * cl + -hl * c);
    out[q + 5] = cy + (-hw * sl + -hl * s);
    out[q + 6] = cx + (-hw * cl + hl * c);
    out[q + 7] = cy + (-hw * sl + hl * s);
    out[q + 8] = cx;
    out[q + 9] = cy;
  }
  return out;
}

/**
 * `np.hypot(vx, vy)` of a velocity. Simulated states have vy = 0 exactly, where hypot is |vx|
 * exactly; `Math.hypot` (slow in V8) is used otherwise.
 */
function speedOf(vx: number, vy: number): number {
  return vy === 0 ? Math.abs(vx) : Math.hypot(vx, vy);
}

/** nuPlan `get_agent_relative_angle` (NaN when the points coincide). */
function relativeAngle(ex: number, ey: number, eh: number, ax: number, ay: number): number {
  const vx = ax - ex;
  const vy = ay - ey;
  const norm = Math.sqrt(vx * vx + vy * vy);
  const dot = Math.cos(eh) * (vx / norm) + Math.sin(eh) * (vy / norm);
  return Math.acos(dot);
}

/** Workspace reused across `evaluateBatch` calls. */
class EvalScratch {
  coords = new Float64Array(0);
  boxBounds = new Float64Array(0);
  multipleLanes = new Uint8Array(0);
  nonDrivable = new Uint8Array(0);
  oncoming = new Uint8Array(0);
  centerInInter = new Uint8Array(0);
  axleInInter = new Uint8Array(0);
  cand = new Int32Array(256);
  laneIds = new Int32Array(256);
  laneCounts = new Int32Array(256);
  ttcBox = new Float64Array(8);
  ttcBounds = new Float64Array(4);
  stamp = new Int32Array(64);
  stampValue = 0;
  /** Per corner: the drivable polygon that last contained it (-1 none), valid for `lastDrivableMap`. */
  lastDrivable = new Int32Array(4).fill(-1);
  lastDrivableMap: DrivableMap | null = null;
  ensure(count: number): void {
    if (this.multipleLanes.length < count) {
      this.coords = new Float64Array(count * 10);
      this.boxBounds = new Float64Array(count * 4);
      this.multipleLanes = new Uint8Array(count);
      this.nonDrivable = new Uint8Array(count);
      this.oncoming = new Uint8Array(count);
      this.centerInInter = new Uint8Array(count);
      this.axleInInter = new Uint8Array(count);
    }
  }
  ensureCand(n: number): void {
    if (this.cand.length < n) {
      this.cand = new Int32Array(n);
      this.laneIds = new Int32Array(n);
      this.laneCounts = new Int32Array(n);
    }
  }
}
const ws = new EvalScratch();

/**
 * Whether state i has a corner outside every drivable-area polygon (`non_drivable_area`). The
 * drivable polygon that held the same corner of the previous query is tried first (consecutive
 * states mostly stay in it; any containing polygon decides, so the answer is unchanged).
 */
function stateNonDrivable(map: DrivableMap, coords: Float64Array, i: number): boolean {
  const { cellStart, cellItems, flags, polygons } = map;
  const last = ws.lastDrivable;
  if (ws.lastDrivableMap !== map) {
    last.fill(-1);
    ws.lastDrivableMap = map;
  }
  const q = i * 10;
  for (let c = 0; c < 4; c++) {
    const px = coords[q + 2 * c]!;
    const py = coords[q + 2 * c + 1]!;
    const hint = last[c]!;
    if (hint >= 0 && polygons[hint]!.containsStrict(px, py)) continue;
    const cell = map.cellOf(px, py);
    if (cell < 0) return true; // this corner is off the map: not drivable
    let inDrivable = false;
    for (let k = cellStart[cell]!, end = cellStart[cell + 1]!; k < end; k++) {
      const idx = cellItems[k]!;
      if (idx !== hint && flags[idx]! & PolyFlag.DrivableArea && polygons[idx]!.containsStrict(px, py)) {
        inDrivable = true;
        last[c] = idx;
        break;
      }
    }
    if (!inDrivable) return true; // one corner outside is enough
  }
  return false;
}

/** Centre of state i: bit 1 = on an on-route lane, bit 2 = in an intersection (when `wantInter`). */
function centreFlags(map: DrivableMap, coords: Float64Array, i: number, wantInter: boolean): number {
  const { cellStart, cellItems, flags, polygons } = map;
  const cx = coords[i * 10 + 8]!;
  const cy = coords[i * 10 + 9]!;
  let onRoute = false;
  let inInter = false;
  const cell = map.cellOf(cx, cy);
  if (cell >= 0) {
    for (let k = cellStart[cell]!, end = cellStart[cell + 1]!; k < end; k++) {
      const idx = cellItems[k]!;
      const fl = flags[idx]!;
      const wantRoute = !onRoute && (fl & PolyFlag.OnRoute) !== 0;
      const wantI = wantInter && !inInter && (fl & PolyFlag.Intersection) !== 0;
      if (!wantRoute && !wantI) continue;
      if (!polygons[idx]!.containsStrict(cx, cy)) continue;
      if (wantRoute) onRoute = true;
      if (wantI) inInter = true;
    }
  }
  return (onRoute ? 1 : 0) | (inInter ? 2 : 0);
}

/**
 * `_calculate_ego_area` for states [from, to), split by use so that work nobody reads is skipped:
 * - eager: non-drivable (any corner outside every drivable-area polygon; DAC), oncoming (centre
 *   off every on-route lane; DDC) and, for v2.2 or with details, centre-in-intersection;
 * - lazy (`multipleLanesAt`, `axleInIntersectionAt`): the lane membership of the corners and the
 *   rear axle in an intersection, read only by NC / TTC at states with an actual overlap (and
 *   computed for every state when details are kept). Flags: 0 unknown, 1 false, 2 true.
 */
function computeEgoAreas(ctx: ScoringContext, states: Float64Array, from: number, to: number, wantCentre: boolean, wantInter: boolean, eagerAll: boolean): void {
  const { map } = ctx;
  ws.ensureCand(map.size + 1);
  const { coords, nonDrivable, oncoming, centerInInter, multipleLanes, axleInInter } = ws;
  for (let i = from; i < to; i++) {
    nonDrivable[i] = stateNonDrivable(map, coords, i) ? 1 : 0;
    if (wantCentre) {
      const f = centreFlags(map, coords, i, wantInter);
      oncoming[i] = f & 1 ? 0 : 1;
      centerInInter[i] = f & 2 ? 1 : 0;
    } else {
      oncoming[i] = 0;
      centerInInter[i] = 0;
    }
    multipleLanes[i] = 0;
    axleInInter[i] = 0;
    if (eagerAll) {
      multipleLanesAt(map, i);
      axleInIntersectionAt(map, states, i);
    }
  }
}

/** Lazy `multiple_lanes` of state i: corners in more than one lane, no lane holding all four. */
function multipleLanesAt(map: DrivableMap, i: number): boolean {
  const known = ws.multipleLanes[i]!;
  if (known !== 0) return known === 2;
  const { coords, laneIds, laneCounts } = ws;
  const { cellStart, cellItems, flags, polygons } = map;
  const q = i * 10;
  let nLanes = 0;
  for (let c = 0; c < 4; c++) {
    const px = coords[q + 2 * c]!;
    const py = coords[q + 2 * c + 1]!;
    const cell = map.cellOf(px, py);
    if (cell < 0) continue;
    for (let k = cellStart[cell]!, end = cellStart[cell + 1]!; k < end; k++) {
      const idx = cellItems[k]!;
      if (!(flags[idx]! & PolyFlag.Lane) || !polygons[idx]!.containsStrict(px, py)) continue;
      let s = 0;
      while (s < nLanes && laneIds[s] !== idx) s++;
      if (s === nLanes) {
        laneIds[nLanes] = idx;
        laneCounts[nLanes] = 0;
        nLanes++;
      }
      laneCounts[s]!++;
    }
  }
  let allFourInOne = false;
  for (let s = 0; s < nLanes; s++) if (laneCounts[s] === 4) allFourInOne = true;
  const r = nLanes > 1 && !allFourInOne;
  ws.multipleLanes[i] = r ? 2 : 1;
  return r;
}

/** Lazy: the rear axle of state i strictly inside an intersection. */
function axleInIntersectionAt(map: DrivableMap, states: Float64Array, i: number): boolean {
  const known = ws.axleInInter[i]!;
  if (known !== 0) return known === 2;
  const { cellStart, cellItems, flags, polygons } = map;
  const o = i * STATE_SIZE;
  const ax = states[o + S_X]!;
  const ay = states[o + S_Y]!;
  let axle = false;
  const acell = map.cellOf(ax, ay);
  if (acell >= 0) {
    for (let k = cellStart[acell]!, end = cellStart[acell + 1]!; k < end && !axle; k++) {
      const idx = cellItems[k]!;
      if (flags[idx]! & PolyFlag.Intersection && polygons[idx]!.containsStrict(ax, ay)) axle = true;
    }
  }
  ws.axleInInter[i] = axle ? 2 : 1;
  return axle;
}

/** Union bounds of all objects per observation step (+inf / -inf for empty steps), cached. */
const stepBoundsCache = new WeakMap<PdmObservation, Float64Array>();
function observationStepBounds(obs: PdmObservation): Float64Array {
  let sb = stepBoundsCache.get(obs);
  if (sb) return sb;
  sb = new Float64Array(obs.numSteps * 4);
  for (let t = 0; t < obs.numSteps; t++) {
    let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
    for (let e = obs.stepStart[t]!, end = obs.stepStart[t + 1]!; e < end; e++) {
      a = Math.min(a, obs.bounds[4 * e]!);
      b = Math.min(b, obs.bounds[4 * e + 1]!);
      c = Math.max(c, obs.bounds[4 * e + 2]!);
      d = Math.max(d, obs.bounds[4 * e + 3]!);
    }
    sb[4 * t] = a;
    sb[4 * t + 1] = b;
    sb[4 * t + 2] = c;
    sb[4 * t + 3] = d;
  }
  stepBoundsCache.set(obs, sb);
  return sb;
}

/** What the per-proposal metric functions read; built by `beginBatch`. */
interface BatchEnv {
  ctx: ScoringContext;
  states: Float64Array;
  numStates: number;
  v2: boolean;
  obs: PdmObservation;
  map: DrivableMap;
  stepBounds: Float64Array;
}

/** Ego corners and box bounds of all `count` states into the workspace; resets the stamps. */
function beginBatch(ctx: ScoringContext, states: Float64Array, count: number, numStates: number): BatchEnv {
  ws.ensure(count);
  egoCoords(states, count, ws.coords);
  const { coords, boxBounds: bb } = ws;
  for (let i = 0; i < count; i++) boxBounds(coords, i * 10, bb, 4 * i);
  const obs = ctx.observation;
  // per-proposal ignore lists as stamps over object indices
  if (ws.stamp.length < obs.objects.length) ws.stamp = new Int32Array(obs.objects.length);
  if (ws.stampValue > 1 << 30) {
    ws.stamp.fill(0);
    ws.stampValue = 0;
  }
  return { ctx, states, numStates, v2: ctx.version === 'v2.2', obs, map: ctx.map, stepBounds: observationStepBounds(obs) };
}

/** NC of proposal p (at-fault collisions); the first at-fault step goes to `collisionTimeIdx[p]`. */
function noAtFaultCollisionsOf(env: BatchEnv, p: number, collisionTimeIdx: Float64Array): number {
  const { states, numStates, obs, map, stepBounds } = env;
  const { coords, boxBounds: bb, nonDrivable, stamp } = ws;
  const cent = obs.centroids;
  const base = p * numStates;
  let nc = 1;
  const ncStamp = ++ws.stampValue;
  const stepsObs = Math.min(numStates, obs.numSteps);
  for (let t = 0; t < stepsObs; t++) {
    const i = base + t;
    const so = i * STATE_SIZE;
    if (!boundsOverlap(bb, 4 * i, stepBounds, 4 * t)) continue;
    for (let e = obs.stepStart[t]!, end = obs.stepStart[t + 1]!; e < end; e++) {
      const obj = obs.objIndex[e]!;
      if (stamp[obj] === ncStamp) continue;
      if (!boundsOverlap(bb, 4 * i, obs.bounds, 4 * e)) continue;
      if (!boxesIntersect(coords, i * 10, obs.corners, 8 * e)) continue;
      const object = obs.objects[obj]!;
      // get_collision_type
      const egoSpeed = speedOf(states[so + S_VELOCITY_X]!, states[so + S_VELOCITY_Y]!);
      let atFault: boolean;
      if (egoSpeed <= SCORER_THRESHOLDS.stoppedSpeedCollision) {
        atFault = false; // STOPPED_EGO
      } else if (!object.isAgent || object.speed <= SCORER_THRESHOLDS.stoppedSpeedCollision) {
        atFault = true; // STOPPED_TRACK
      } else if (relativeAngle(states[so]!, states[so + 1]!, states[so + 2]!, cent[2 * e]!, cent[2 * e + 1]!) > DEG150) {
        atFault = false; // ACTIVE_REAR
      } else if (segmentIntersectsBox(coords[i * 10]!, coords[i * 10 + 1]!, coords[i * 10 + 6]!, coords[i * 10 + 7]!, obs.corners, 8 * e)) {
        atFault = true; // ACTIVE_FRONT
      } else {
        atFault = nonDrivable[i] === 1 || multipleLanesAt(map, i); // ACTIVE_LATERAL
      }
      if (atFault) {
        nc = Math.min(nc, object.isAgent ? 0 : 0.5);
        if (t < collisionTimeIdx[p]!) collisionTimeIdx[p] = t;
      } else {
        stamp[obj] = ncStamp;
      }
    }
  }
  return nc;
}

/** DDC of proposal p from the oncoming flags (`scratch`: numStates values). */
function drivingDirectionOf(env: BatchEnv, p: number, scratch: Float64Array): number {
  const { numStates, v2 } = env;
  const { coords, oncoming, centerInInter } = ws;
  const base = p * numStates;
  scratch[0] = 0;
  for (let t = 1; t < numStates; t++) {
    const q = (base + t) * 10;
    const dx = coords[q + 8]! - coords[q - 10 + 8]!;
    const dy = coords[q + 9]! - coords[q - 10 + 9]!;
    const d = Math.sqrt(dx * dx + dy * dy);
    const counts = oncoming[base + t] === 1 && !(v2 && centerInInter[base + t] === 1);
    scratch[t] = counts ? d : 0;
  }
  let maxWindow = -Infinity;
  const H = SCORER_THRESHOLDS.drivingDirectionHorizonSteps;
  for (let t = 0; t < numStates; t++) {
    const s0 = Math.max(0, t - H);
    const s = pairwiseSum(scratch, s0, t + 1 - s0);
    if (s > maxWindow) maxWindow = s;
  }
  return maxWindow < SCORER_THRESHOLDS.drivingDirectionCompliance ? 1 : maxWindow < SCORER_THRESHOLDS.drivingDirectionViolation ? 0.5 : 0;
}

/** TLC (v2.2) of proposal p: 0 when the ego box touches a red-light polygon. */
function trafficLightOf(env: BatchEnv, p: number): number {
  const { numStates, obs } = env;
  const { coords, boxBounds: bb } = ws;
  const base = p * numStates;
  const stepsObs = Math.min(numStates, obs.numSteps);
  for (let t = 0; t < stepsObs; t++) {
    const i = base + t;
    for (let r = obs.redStepStart[t]!, end = obs.redStepStart[t + 1]!; r < end; r++) {
      const poly = obs.redLights[obs.redIndex[r]!]!.polygon;
      if (poly.intersectsRing(coords.subarray(i * 10, i * 10 + 8), 4, bb.subarray(4 * i, 4 * i + 4))) return 0;
    }
  }
  return 1;
}

/** Raw progress of proposal p: centre progress along the centerline from the first to the last state, >= 0. */
function progressRawOf(env: BatchEnv, p: number): number {
  const { numStates, ctx } = env;
  const coords = ws.coords;
  const q0 = p * numStates * 10;
  const q1 = (p * numStates + numStates - 1) * 10;
  const p0 = ctx.centerline.project(coords[q0 + 8]!, coords[q0 + 9]!);
  const p1 = ctx.centerline.project(coords[q1 + 8]!, coords[q1 + 9]!);
  const prog = p1 - p0;
  return prog < 0 ? 0 : prog;
}

/** TTC of proposal p; the first failing step goes to `ttcTimeIdx[p]`. */
function timeToCollisionOf(env: BatchEnv, p: number, ttcTimeIdx: Float64Array): number {
  const { states, numStates, v2, obs, map, stepBounds } = env;
  const { coords, boxBounds: bb, nonDrivable, stamp, ttcBox, ttcBounds } = ws;
  const cent = obs.centroids;
  const base = p * numStates;
  let ttc = 1;
  const ttcStamp = ++ws.stampValue;
  const ttcSteps = v2 ? numStates - 9 : numStates;
  for (let t = 0; t < ttcSteps; t++) {
    const i = base + t;
    const so = i * STATE_SIZE;
    const speed = speedOf(states[so + S_VELOCITY_X]!, states[so + S_VELOCITY_Y]!);
    if (speed < SCORER_THRESHOLDS.stoppedSpeedTtc) continue;
    const h = states[so + S_HEADING]!;
    let dxps = NaN;
    let dyps = NaN;
    for (let fi = 0; fi < TTC_FUTURE_IDCS.length; fi++) {
      const f = TTC_FUTURE_IDCS[fi]!;
      const tf = t + f;
      if (tf >= obs.numSteps) continue;
      if (obs.stepStart[tf] === obs.stepStart[tf + 1]) continue; // no object at that step
      if (dxps !== dxps) {
        dxps = Math.cos(h) * speed;
        dyps = Math.sin(h) * speed;
      }
      const dtf = f * 0.1;
      const ox = dxps * dtf;
      const oy = dyps * dtf;
      // bounds of the shifted box = shifted bounds (rounding is monotone, so this is exact)
      ttcBounds[0] = bb[4 * i]! + ox;
      ttcBounds[1] = bb[4 * i + 1]! + oy;
      ttcBounds[2] = bb[4 * i + 2]! + ox;
      ttcBounds[3] = bb[4 * i + 3]! + oy;
      if (!boundsOverlap(ttcBounds, 0, stepBounds, 4 * tf)) continue;
      const q = i * 10;
      for (let c = 0; c < 4; c++) {
        ttcBox[2 * c] = coords[q + 2 * c]! + ox;
        ttcBox[2 * c + 1] = coords[q + 2 * c + 1]! + oy;
      }
      for (let e = obs.stepStart[tf]!, end = obs.stepStart[tf + 1]!; e < end; e++) {
        const obj = obs.objIndex[e]!;
        if (stamp[obj] === ttcStamp) continue;
        if (!boundsOverlap(ttcBounds, 0, obs.bounds, 4 * e)) continue;
        if (!boxesIntersect(ttcBox, 0, obs.corners, 8 * e)) continue;
        const angle = relativeAngle(states[so]!, states[so + 1]!, h, cent[2 * e]!, cent[2 * e + 1]!);
        const ahead = angle < DEG30;
        const behind = angle > DEG150;
        // risky (multiple lanes, non-drivable, rear axle in an intersection) is read only when it matters
        if (ahead || (!behind && (nonDrivable[i] === 1 || multipleLanesAt(map, i) || axleInIntersectionAt(map, states, i)))) {
          ttc = 0;
          if (t < ttcTimeIdx[p]!) ttcTimeIdx[p] = t;
        } else {
          stamp[obj] = ttcStamp;
        }
      }
    }
  }
  return ttc;
}

const ALL_COMFORTABLE: Readonly<ComfortDetail> = Object.freeze({ lon_acceleration: true, lat_acceleration: true, jerk: true, lon_jerk: true, yaw_accel: true, yaw_rate: true });

/** Comfort (v1.1) or history comfort (v2.2, over history + states; all true without history) of proposal p. */
function comfortOf(env: BatchEnv, p: number, history: Float64Array | null, firstFail: boolean): ComfortDetail {
  const { states, numStates, v2 } = env;
  const base = p * numStates;
  if (!v2) return comfortChecks(states, base * STATE_SIZE, numStates, false, firstFail);
  if (history && history.length > 0) {
    const nh = history.length / STATE_SIZE;
    const joined = new Float64Array((nh + numStates) * STATE_SIZE);
    joined.set(history, 0);
    joined.set(states.subarray(base * STATE_SIZE, (base + numStates) * STATE_SIZE), nh * STATE_SIZE);
    return comfortChecks(joined, 0, nh + numStates, true, firstFail);
  }
  return { ...ALL_COMFORTABLE };
}

/** LK (v2.2) of proposal p; per-state centerline deviations into `dev` when given (NaN in intersections). */
function laneKeepingOf(env: BatchEnv, p: number, dev: Float64Array | null): number {
  const { numStates, ctx } = env;
  const { coords, centerInInter } = ws;
  const base = p * numStates;
  let lk = 1;
  let counter = 0;
  for (let t = 0; t < numStates; t++) {
    const i = base + t;
    if (centerInInter[i] === 1) {
      if (dev) dev[t] = NaN;
      continue;
    }
    const d = ctx.centerline.distance(coords[i * 10 + 8]!, coords[i * 10 + 9]!);
    if (dev) dev[t] = d;
    if (d > SCORER_THRESHOLDS.laneKeepingDeviation) counter++;
    else counter = 0;
    if (counter >= SCORER_THRESHOLDS.laneKeepingHorizonSteps) {
      lk = 0;
      if (!dev) break;
    }
  }
  return lk;
}

function emptyBatchMetrics(n: number, numStates: number): BatchMetrics {
  return {
    n,
    numStates,
    noAtFaultCollisions: new Float64Array(n),
    drivableAreaCompliance: new Float64Array(n),
    drivingDirectionCompliance: new Float64Array(n),
    trafficLightCompliance: new Float64Array(n),
    timeToCollisionWithinBound: new Float64Array(n),
    comfort: new Float64Array(n),
    laneKeeping: new Float64Array(n),
    progressRaw: new Float64Array(n),
    collisionTimeIdx: new Float64Array(n).fill(Infinity),
    ttcTimeIdx: new Float64Array(n).fill(Infinity),
    comfortDetail: [],
  };
}

/**
 * Raw metrics of `n` simulated proposals (`states`: n x numStates x 11) against a scoring context:
 * NC, DAC, DDC, TLC (v2.2), raw progress, TTC, comfort (v1.1) / history comfort (v2.2), LK (v2.2).
 */
export function evaluateBatch(
  ctx: ScoringContext,
  states: Float64Array,
  n: number,
  opts: {
    numStates?: number;
    keepDetails?: boolean;
    history?: Float64Array | null;
    /**
     * Stop the comfort checks of a proposal at the first failing one: `comfort` is unchanged, but
     * `comfortDetail` then reports the checks after it as false (PDM-Closed reads only `comfort`).
     */
    comfortFirstFail?: boolean;
  } = {},
): BatchMetrics {
  const numStates = opts.numStates ?? NUM_STATES;
  const v2 = ctx.version === 'v2.2';
  const keep = opts.keepDetails === true;
  const history = opts.history === undefined ? ctx.history : opts.history;
  const count = n * numStates;
  const env = beginBatch(ctx, states, count, numStates);
  computeEgoAreas(ctx, states, 0, count, true, v2 || keep, keep);
  const { nonDrivable, oncoming, centerInInter } = ws;
  const out = emptyBatchMetrics(n, numStates);
  if (keep) {
    out.egoAreas = [];
    out.laneKeepingDeviation = [];
  }
  const scratch = new Float64Array(numStates);
  for (let p = 0; p < n; p++) {
    const base = p * numStates;
    out.noAtFaultCollisions[p] = noAtFaultCollisionsOf(env, p, out.collisionTimeIdx);
    let dac = 1;
    for (let t = 0; t < numStates; t++) if (nonDrivable[base + t]) dac = 0;
    out.drivableAreaCompliance[p] = dac;
    out.drivingDirectionCompliance[p] = drivingDirectionOf(env, p, scratch);
    out.trafficLightCompliance[p] = v2 ? trafficLightOf(env, p) : 1;
    out.progressRaw[p] = progressRawOf(env, p);
    out.timeToCollisionWithinBound[p] = timeToCollisionOf(env, p, out.ttcTimeIdx);
    const detail = comfortOf(env, p, history, opts.comfortFirstFail === true);
    out.comfortDetail.push(detail);
    out.comfort[p] = allComfortable(detail) ? 1 : 0;
    const dev = keep ? new Float64Array(numStates) : null;
    out.laneKeeping[p] = v2 ? laneKeepingOf(env, p, dev) : 1;
    if (keep) {
      out.egoAreas!.push({
        multipleLanes: ws.multipleLanes.slice(base, base + numStates).map((f) => (f === 2 ? 1 : 0)),
        nonDrivableArea: nonDrivable.slice(base, base + numStates),
        oncomingTraffic: oncoming.slice(base, base + numStates),
        centerInIntersection: centerInInter.slice(base, base + numStates),
      });
      out.laneKeepingDeviation!.push(dev ?? new Float64Array(0));
    }
  }
  return out;
}

/** np.argmax: the first maximum, a NaN counting as the maximum. */
export function argmaxFirst(scores: ArrayLike<number>): number {
  let arg = 0;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i]!;
    const b = scores[arg]!;
    if (Number.isNaN(b)) break;
    if (s > b || Number.isNaN(s)) arg = i;
  }
  return arg;
}

/**
 * The proposal `aggregateBatch` ranks first (np.argmax of its scores), computing only what that
 * choice depends on, as PDM-Closed needs it:
 * - every proposal: DAC (stopping at the first non-drivable state), then NC, DDC and TLC only where
 *   DAC = 1, and the raw progress only where the multiplicative metrics are non-zero, which fixes
 *   the EP normaliser and every EP;
 * - then, in order of the upper bound of the score (TTC, comfort and LK taken as 1), TTC, comfort
 *   and LK only for proposals whose bound can still reach the best exact score so far.
 * `scores` holds the exact aggregated score of every proposal that was fully scored, 0 for those
 * with a zero multiplicative metric, and -Infinity for those skipped because they could not be
 * chosen; the index is the one `aggregateBatch` + np.argmax give. States with a non-finite value,
 * or negative weights, fall back to the full `evaluateBatch` + `aggregateBatch`.
 */
export function selectProposal(
  ctx: ScoringContext,
  states: Float64Array,
  n: number,
  opts: { numStates?: number; weights?: PdmWeights } = {},
): { index: number; scores: Float64Array } {
  const numStates = opts.numStates ?? NUM_STATES;
  const version = ctx.version;
  const v2 = version === 'v2.2';
  const w = opts.weights ?? defaultWeights(version);
  const count = n * numStates;
  let finite = true;
  for (let k = 0, end = count * STATE_SIZE; k < end; k++) if (!Number.isFinite(states[k]!)) finite = false;
  const weightsOk = Object.values(w).every((x) => x >= 0);
  if (!finite || !weightsOk || n === 0) {
    const m = evaluateBatch(ctx, states, n, { numStates, comfortFirstFail: true });
    const scores = aggregateBatch(m, version, w).scores;
    return { index: argmaxFirst(scores), scores };
  }
  const env = beginBatch(ctx, states, count, numStates);
  const map = ctx.map;
  ws.ensureCand(map.size + 1);
  const { coords, nonDrivable, oncoming, centerInInter, multipleLanes, axleInInter } = ws;
  const needCentre = v2 || w.drivingDirection !== 0;
  const m = emptyBatchMetrics(n, numStates);
  const mult = new Float64Array(n);
  const scratch = new Float64Array(numStates);
  let norm = -Infinity;
  for (let p = 0; p < n; p++) {
    const base = p * numStates;
    let dac = 1;
    for (let i = base; i < base + numStates; i++) {
      multipleLanes[i] = 0;
      axleInInter[i] = 0;
      const nd = stateNonDrivable(map, coords, i);
      nonDrivable[i] = nd ? 1 : 0;
      if (nd) {
        dac = 0; // the score is 0 whatever else holds: nothing more of this proposal is read
        break;
      }
    }
    m.drivableAreaCompliance[p] = dac;
    m.drivingDirectionCompliance[p] = 1;
    m.trafficLightCompliance[p] = 1;
    let prod = 0;
    if (dac === 1) {
      if (needCentre) {
        for (let i = base; i < base + numStates; i++) {
          const f = centreFlags(map, coords, i, v2);
          oncoming[i] = f & 1 ? 0 : 1;
          centerInInter[i] = f & 2 ? 1 : 0;
        }
        m.drivingDirectionCompliance[p] = drivingDirectionOf(env, p, scratch);
      }
      m.noAtFaultCollisions[p] = noAtFaultCollisionsOf(env, p, m.collisionTimeIdx);
      prod = multiplicative(m, p, false);
      if (v2 && prod !== 0) {
        m.trafficLightCompliance[p] = trafficLightOf(env, p);
        prod = multiplicative(m, p, true);
      }
      if (prod !== 0) m.progressRaw[p] = progressRawOf(env, p);
    }
    mult[p] = prod;
    norm = Math.max(norm, m.progressRaw[p]! * prod);
  }
  // upper bounds: TTC, comfort / history comfort and LK at 1
  const ep = new Float64Array(n);
  const bound = new Float64Array(n);
  const order: number[] = [];
  m.timeToCollisionWithinBound.fill(1);
  m.comfort.fill(1);
  m.laneKeeping.fill(1);
  for (let p = 0; p < n; p++) {
    ep[p] = normalisedProgress(m.progressRaw[p]!, mult[p]!, norm, v2);
    bound[p] = mult[p]! * weightedScore(version, w, ep[p]!, m, p, NaN, false);
    if (mult[p]! !== 0) order.push(p);
  }
  order.sort((a, b) => bound[b]! - bound[a]! || a - b);
  const scores = new Float64Array(n); // 0 for a zero multiplicative metric
  let best = -1;
  let bestScore = -Infinity;
  for (const p of order) {
    const ub = bound[p]!;
    if (best >= 0 && (ub < bestScore || (ub === bestScore && p > best))) {
      scores[p] = -Infinity;
      continue;
    }
    m.timeToCollisionWithinBound[p] = timeToCollisionOf(env, p, m.ttcTimeIdx);
    m.comfort[p] = allComfortable(comfortOf(env, p, ctx.history, true)) ? 1 : 0;
    if (v2) m.laneKeeping[p] = laneKeepingOf(env, p, null);
    const s = mult[p]! * weightedScore(version, w, ep[p]!, m, p, NaN, false);
    scores[p] = s;
    if (best < 0 || s > bestScore || (s === bestScore && p < best)) {
      best = p;
      bestScore = s;
    }
  }
  return { index: argmaxFirst(scores), scores };
}

// ---------------------------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------------------------

function multiplicative(m: BatchMetrics, i: number, v2: boolean): number {
  let prod = m.noAtFaultCollisions[i]! * m.drivableAreaCompliance[i]!;
  if (v2) prod = prod * m.drivingDirectionCompliance[i]! * m.trafficLightCompliance[i]!;
  return prod;
}

/**
 * NAVSIM `PDMScorer._aggregate_scores` over a whole batch (EP normalised by the batch maximum),
 * as PDM-Closed uses it. v2.2 leaves EC out (and HC is whatever `evaluateBatch` computed).
 * Returns the scores and the normalised EP per proposal.
 */
export function aggregateBatch(m: BatchMetrics, version: PdmVersion, weights: PdmWeights = defaultWeights(version)): { scores: Float64Array; egoProgress: Float64Array } {
  const v2 = version === 'v2.2';
  const n = m.n;
  const mult = new Float64Array(n);
  let maxRaw = -Infinity;
  for (let i = 0; i < n; i++) {
    mult[i] = multiplicative(m, i, v2);
    maxRaw = Math.max(maxRaw, m.progressRaw[i]! * mult[i]!);
  }
  const ep = new Float64Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ep[i] = normalisedProgress(m.progressRaw[i]!, mult[i]!, maxRaw, v2);
    scores[i] = mult[i]! * weightedScore(version, weights, ep[i]!, m, i, NaN, false);
  }
  return { scores, egoProgress: ep };
}

function normalisedProgress(raw: number, mult: number, norm: number, v2: boolean): number {
  if (v2) {
    if (norm > SCORER_THRESHOLDS.progressDistance) return Math.min(1, Math.max(0, raw / norm));
    return 1;
  }
  if (norm > SCORER_THRESHOLDS.progressDistance) return (raw * mult) / norm;
  return mult === 0 ? 0 : 1;
}

/** Weighted average of the weighted metrics (EC included only when `withEc` and finite). */
function weightedScore(version: PdmVersion, w: PdmWeights, ep: number, m: BatchMetrics, i: number, ec: number, withEc: boolean, override?: { ttc: number; lk: number; hc: number }): number {
  const ttc = override ? override.ttc : m.timeToCollisionWithinBound[i]!;
  if (version === 'v1.1') {
    const num = ep * w.progress + ttc * w.ttc + m.comfort[i]! * w.comfort + m.drivingDirectionCompliance[i]! * w.drivingDirection;
    return num / (w.progress + w.ttc + w.comfort + w.drivingDirection);
  }
  const lk = override ? override.lk : m.laneKeeping[i]!;
  const hc = override ? override.hc : m.comfort[i]!;
  let num = ep * w.progress + ttc * w.ttc + lk * w.laneKeeping + hc * w.historyComfort;
  let den = w.progress + w.ttc + w.laneKeeping + w.historyComfort;
  if (withEc && Number.isFinite(ec)) {
    num += ec * w.extendedComfort;
    den += w.extendedComfort;
  }
  return num / den;
}

// ---------------------------------------------------------------------------------------------
// Public scoring
// ---------------------------------------------------------------------------------------------

/** A trajectory to score: poses (x, y, heading) from t0 + interval, NAVSIM default 8 x 0.5 s. */
export interface Trajectory {
  poses: ArrayLike<number> | readonly (readonly number[])[];
  frame?: 'ego' | 'global';
  intervalS?: number;
}

export interface ScoreOptions {
  version: PdmVersion;
  weights?: Partial<PdmWeights>;
  /** Attach simulated / reference states, ego areas and LK deviations to each result. */
  returnStates?: boolean;
  /**
   * EP normaliser: the PDM-Closed trajectory as cached states (n x 11 at 0.1 s from t0, n >= 41),
   * e.g. `runPdmClosed(scene)`. Defaults to the scene's pinned `pdm_closed_trajectory`.
   */
  pdmClosedStates?: Float64Array;
  /** For a flat Float64Array of proposals: poses per proposal (default 8) and spacing (0.5 s). */
  posesPerProposal?: number;
  intervalS?: number;
  /** v2.2: apply the human-penalty filter for original frames (default true). */
  humanFilter?: boolean;
  /** v2.2: previous frame's simulated states for EC (41 x 11) and its time offset (s). */
  previous?: { states: Float64Array; intervalS: number } | null;
}

function flattenPoses(p: Trajectory['poses']): Float64Array {
  if (p instanceof Float64Array) return p;
  const arr = p as ArrayLike<unknown>;
  if (arr.length > 0 && Array.isArray(arr[0])) {
    const rows = p as readonly (readonly number[])[];
    const out = new Float64Array(rows.length * 3);
    rows.forEach((r, i) => {
      out[3 * i] = r[0]!;
      out[3 * i + 1] = r[1]!;
      out[3 * i + 2] = r[2]!;
    });
    return out;
  }
  return Float64Array.from(p as ArrayLike<number>);
}

/**
 * Reference states (P x 41 x 11) of proposals given as trajectories or a flat ego-frame pose array.
 * Throws `NavsimInputError` on non-finite poses or wrong sizes.
 */
export function proposalsToReferenceStates(
  scene: PdmScene,
  proposals: readonly Trajectory[] | Float64Array,
  opts: { posesPerProposal?: number; intervalS?: number } = {},
): { refs: Float64Array; count: number } {
  const list: PoseTrajectory[] = [];
  if (proposals instanceof Float64Array) {
    const k = opts.posesPerProposal ?? 8;
    if (!(Number.isInteger(k) && k >= 1)) throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: posesPerProposal must be a positive integer, found ${k}`, scene.name, 'posesPerProposal');
    if (proposals.length % (3 * k) !== 0) {
      throw new NavsimInputError(
        `scene ${JSON.stringify(scene.name)}: proposals: expected a multiple of ${3 * k} values (${k} poses x 3), found ${proposals.length}`,
        scene.name,
        'proposals',
      );
    }
    const count = proposals.length / (3 * k);
    for (let p = 0; p < count; p++) list.push({ frame: 'ego', poses: proposals.subarray(3 * k * p, 3 * k * (p + 1)), intervalS: opts.intervalS ?? 0.5 });
  } else {
    proposals.forEach((t) => list.push({ frame: t.frame ?? 'ego', poses: flattenPoses(t.poses), intervalS: t.intervalS ?? opts.intervalS ?? 0.5 }));
  }
  const refs = new Float64Array(list.length * NUM_STATES * STATE_SIZE);
  list.forEach((t, p) => {
    const n = Math.floor(t.poses.length / 3);
    if (n < 1 || t.poses.length !== 3 * n) {
      throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: proposals[${p}].poses: expected n x 3 values with n >= 1, found ${t.poses.length}`, scene.name, `proposals[${p}].poses`);
    }
    for (let i = 0; i < t.poses.length; i++) {
      if (!Number.isFinite(t.poses[i]!)) {
        throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: proposals[${p}].poses[${Math.floor(i / 3)}][${i % 3}]: expected a finite number, found ${t.poses[i]}`, scene.name, `proposals[${p}].poses`);
      }
    }
    if (!(t.intervalS > 0 && Number.isFinite(t.intervalS))) {
      throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: proposals[${p}].intervalS: expected a positive number, found ${t.intervalS}`, scene.name, `proposals[${p}].intervalS`);
    }
    referenceStatesFromPoses(scene.ego, scene.timestampUs, t.poses, n, t.frame, t.intervalS, refs, p * NUM_STATES * STATE_SIZE);
  });
  return { refs, count: list.length };
}

function pdmRow(prep: PreparedScene, pdmStates: Float64Array) {
  const c = prep.cache.pdm;
  if (c && c.key === pdmStates) return c;
  if (pdmStates.length < NUM_STATES * STATE_SIZE || pdmStates.length % STATE_SIZE !== 0) {
    throw new NavsimInputError(
      `scene ${JSON.stringify(prep.scene.name)}: pdmClosedStates: expected n x 11 values with n >= 41, found ${pdmStates.length}`,
      prep.scene.name,
      'pdmClosedStates',
    );
  }
  for (let i = 0; i < pdmStates.length; i++) {
    if (!Number.isFinite(pdmStates[i]!)) throw new NavsimInputError(`scene ${JSON.stringify(prep.scene.name)}: pdmClosedStates[${i}]: expected a finite number, found ${pdmStates[i]}`, prep.scene.name, 'pdmClosedStates');
  }
  const reference = referenceStatesFromStateTrajectory(pdmStates, prep.scene.timestampUs);
  const states = simulateProposals(reference, 1, prep.initialState);
  // ego areas / LK deviations of this row are evaluated only when asked (`rowDetails`)
  const result = evaluateBatch(prep, states, 1);
  const entry = { key: pdmStates, result, states, reference };
  prep.cache.pdm = entry;
  return entry;
}

/** Ego areas and LK deviations of a cached single-row run (evaluated once, on first request). */
function rowDetails(prep: PreparedScene, row: { states: Float64Array | null; details?: BatchMetrics }, history: Float64Array | null | undefined): BatchMetrics {
  if (!row.details) row.details = evaluateBatch(prep, row.states!, 1, { keepDetails: true, history });
  return row.details;
}

/** v2.2 human-filter run: the logged human trajectory simulated and scored alone, without history. */
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

/** Simulated states of the previous frame's plan and the frame interval (v2.2 EC), or null. */
export function previousFrameStates(prep: PreparedScene): { states: Float64Array; intervalS: number } | null {
  if (prep.cache.previous !== undefined) return prep.cache.previous;
  const scene = prep.scene;
  const pf = scene.previousFrame;
  let res: { states: Float64Array; intervalS: number } | null = null;
  if (pf) {
    let ts: number;
    let states: Float64Array;
    if (pf.form === 'states') {
      ts = pf.timestampUs;
      states = pf.simulatedStates.subarray(0, NUM_STATES * STATE_SIZE);
    } else {
      const ego = pf.form === 'scene' ? pf.scene.ego : pf.ego;
      const traj = pf.form === 'scene' ? pf.scene.trajectory! : pf.trajectory;
      ts = pf.form === 'scene' ? pf.scene.timestampUs : pf.timestampUs;
      const refs = referenceStatesFromPoses(ego, ts, traj.poses, traj.poses.length / 3, traj.frame, traj.intervalS);
      states = simulateProposals(refs, 1, initialStateArray(ego));
    }
    const intervalS = scene.timestampUs * 1e-6 - ts * 1e-6;
    // one-stage aggregation: adjacent only if the previous frame is at most 0.55 s earlier
    if (intervalS > 0 && intervalS <= 0.55) res = { states, intervalS };
  }
  prep.cache.previous = res;
  return res;
}

/** Golden-file names of the v2.2 sub-metrics filtered by the human run, in NAVSIM's order. */
const HUMAN_FILTER_METRICS = [
  'no_at_fault_collisions', 'drivable_area_compliance', 'driving_direction_compliance', 'traffic_light_compliance',
  'ego_progress', 'time_to_collision_within_bound', 'lane_keeping', 'history_comfort',
] as const;

/** Result of `scoreProposals` for one proposal plus per-scene extras. */
export interface ScoredProposals {
  proposals: ProposalScores[];
  /** The PDM-Closed row (EP normaliser) as scored in the same batch. */
  pdmClosed: ProposalScores;
  /** v2.2: the human-filter run, if applied. */
  human: ProposalScores | null;
  /** v2.2: extended comfort details per proposal (null without a previous frame). */
  extendedComfort: (ExtendedComfortResult | null)[];
}

/**
 * Scores many trajectories of one scene. Each proposal gets exactly the values NAVSIM's
 * `pdm_score` gives it when scored together with the PDM-Closed trajectory.
 */
export function scoreProposals(
  sceneOrPrepared: PdmScene | PreparedScene,
  proposals: readonly Trajectory[] | Float64Array,
  opts: ScoreOptions,
): ProposalScores[] {
  return scoreProposalsDetailed(sceneOrPrepared, proposals, opts).proposals;
}

/** `scoreProposals` with the PDM-Closed row, the human run and EC details. */
export function scoreProposalsDetailed(
  sceneOrPrepared: PdmScene | PreparedScene,
  proposals: readonly Trajectory[] | Float64Array,
  opts: ScoreOptions,
): ScoredProposals {
  const version = opts.version;
  if (version !== 'v1.1' && version !== 'v2.2') throw new NavsimInputError(`version: expected "v1.1" or "v2.2", found ${String(version)}`, undefined, 'version');
  const prep = 'observation' in sceneOrPrepared ? sceneOrPrepared : prepareScene(sceneOrPrepared, version);
  if (prep.version !== version) throw new NavsimInputError(`prepared scene is for ${prep.version}, not ${version}`, prep.scene.name, 'version');
  const scene = prep.scene;
  const weights = { ...defaultWeights(version), ...(opts.weights ?? {}) };
  for (const [k, v] of Object.entries(weights)) {
    if (!(Number.isFinite(v) && v >= 0)) throw new NavsimInputError(`weights.${k}: expected a finite number >= 0, found ${v}`, scene.name, `weights.${k}`);
  }
  const v2 = version === 'v2.2';
  const pdmStates = opts.pdmClosedStates ?? scene.pdmClosedTrajectory;
  if (!pdmStates) {
    throw new NavsimInputError(
      `scene ${JSON.stringify(scene.name)}: no EP normaliser: the scene pins no pdm_closed_trajectory; pass pdmClosedStates (e.g. from runPdmClosed)`,
      scene.name,
      'pdm_closed_trajectory',
    );
  }
  const pdm = pdmRow(prep, pdmStates);
  const { refs, count } = proposalsToReferenceStates(scene, proposals, opts);
  const states = simulateProposals(refs, count, prep.initialState);
  const m = evaluateBatch(prep, states, count, { keepDetails: opts.returnStates === true });
  const pm = pdm.result;
  const pdmMult = multiplicative(pm, 0, v2);
  const pdmR = pm.progressRaw[0]! * pdmMult;

  const human = v2 && opts.humanFilter !== false ? humanRun(prep).result : null;
  const previous = v2 ? (opts.previous !== undefined ? opts.previous : previousFrameStates(prep)) : null;

  const results: ProposalScores[] = [];
  const ecDetails: (ExtendedComfortResult | null)[] = [];
  for (let i = 0; i < count; i++) {
    const mult = multiplicative(m, i, v2);
    const norm = Math.max(pdmR, m.progressRaw[i]! * mult);
    const ep = normalisedProgress(m.progressRaw[i]!, mult, norm, v2);
    const r = baseScores(m, i, ep, mult, version, weights);
    if (v2) {
      // scorer's own pdm_score (no EC, before the human filter)
      r.scorerScore = mult * weightedScore(version, weights, ep, m, i, NaN, false);
      let nc = m.noAtFaultCollisions[i]!, dac = m.drivableAreaCompliance[i]!, ddc = m.drivingDirectionCompliance[i]!, tlc = m.trafficLightCompliance[i]!;
      let epF = ep, ttc = m.timeToCollisionWithinBound[i]!, lk = m.laneKeeping[i]!, hc = m.comfort[i]!;
      if (human) {
        const hv = [human.noAtFaultCollisions[0]!, human.drivableAreaCompliance[0]!, human.drivingDirectionCompliance[0]!, human.trafficLightCompliance[0]!, 1, human.timeToCollisionWithinBound[0]!, human.laneKeeping[0]!, human.comfort[0]!];
        const av = [nc, dac, ddc, tlc, epF, ttc, lk, hc];
        for (let k = 0; k < hv.length; k++) {
          if (hv[k] === 0) {
            if (av[k] !== 1) r.forgivenMetrics.push(HUMAN_FILTER_METRICS[k]!);
            av[k] = 1;
          }
        }
        [nc, dac, ddc, tlc, epF, ttc, lk, hc] = av as [number, number, number, number, number, number, number, number];
      }
      let ec = NaN;
      let ecd: ExtendedComfortResult | null = null;
      if (previous) {
        ecd = extendedComfort(states, i * NUM_STATES * STATE_SIZE, previous.states, 0, NUM_STATES, previous.intervalS);
        ec = ecd.value;
      }
      ecDetails.push(ecd);
      const multF = nc * dac * ddc * tlc;
      r.noAtFaultCollisions = nc;
      r.drivableAreaCompliance = dac;
      r.drivingDirectionCompliance = ddc;
      r.trafficLightCompliance = tlc;
      r.egoProgress = epF;
      r.timeToCollisionWithinBound = ttc;
      r.laneKeeping = lk;
      r.historyComfort = hc;
      r.extendedComfort = ec;
      r.multiplicativeProduct = multF;
      r.score = multF * weightedScore(version, weights, epF, m, i, ec, true, { ttc, lk, hc });
    } else {
      ecDetails.push(null);
    }
    if (opts.returnStates) {
      r.states = states.slice(i * NUM_STATES * STATE_SIZE, (i + 1) * NUM_STATES * STATE_SIZE);
      r.referenceStates = refs.slice(i * NUM_STATES * STATE_SIZE, (i + 1) * NUM_STATES * STATE_SIZE);
      r.egoAreas = m.egoAreas![i];
      if (v2) r.laneKeepingDeviation = m.laneKeepingDeviation![i];
    }
    results.push(r);
  }

  // the PDM-Closed row as NAVSIM reports it (normalised within the [pdm, first proposal] pair)
  const firstR = count > 0 ? m.progressRaw[0]! * multiplicative(m, 0, v2) : -Infinity;
  const pdmEp = normalisedProgress(pm.progressRaw[0]!, pdmMult, Math.max(pdmR, firstR), v2);
  const pdmScores = baseScores(pm, 0, pdmEp, pdmMult, version, weights);
  if (v2) pdmScores.scorerScore = pdmScores.score;
  pdmScores.states = pdm.states;
  pdmScores.referenceStates = pdm.reference;
  if (opts.returnStates) {
    const d = rowDetails(prep, pdm, undefined);
    pdmScores.egoAreas = d.egoAreas![0];
    if (v2) pdmScores.laneKeepingDeviation = d.laneKeepingDeviation![0];
  }

  let humanScores: ProposalScores | null = null;
  if (human) {
    const hr = humanRun(prep);
    const hMult = multiplicative(human, 0, true);
    const hEp = normalisedProgress(human.progressRaw[0]!, hMult, human.progressRaw[0]! * hMult, true);
    humanScores = baseScores(human, 0, hEp, hMult, version, weights);
    humanScores.scorerScore = humanScores.score;
    humanScores.states = hr.states!;
    humanScores.referenceStates = hr.reference!;
    if (opts.returnStates) {
      const d = rowDetails(prep, hr, null);
      humanScores.egoAreas = d.egoAreas![0];
      humanScores.laneKeepingDeviation = d.laneKeepingDeviation![0];
    }
  }
  return { proposals: results, pdmClosed: pdmScores, human: humanScores, extendedComfort: ecDetails };
}

function baseScores(m: BatchMetrics, i: number, ep: number, mult: number, version: PdmVersion, weights: PdmWeights): ProposalScores {
  const v2 = version === 'v2.2';
  const score = mult * weightedScore(version, weights, ep, m, i, NaN, false);
  return {
    noAtFaultCollisions: m.noAtFaultCollisions[i]!,
    drivableAreaCompliance: m.drivableAreaCompliance[i]!,
    drivingDirectionCompliance: m.drivingDirectionCompliance[i]!,
    trafficLightCompliance: v2 ? m.trafficLightCompliance[i]! : NaN,
    egoProgress: ep,
    timeToCollisionWithinBound: m.timeToCollisionWithinBound[i]!,
    comfort: v2 ? NaN : m.comfort[i]!,
    laneKeeping: v2 ? m.laneKeeping[i]! : NaN,
    historyComfort: v2 ? m.comfort[i]! : NaN,
    extendedComfort: NaN,
    score,
    multiplicativeProduct: mult,
    progressRaw: m.progressRaw[i]!,
    collisionTimeIdx: Number.isFinite(m.collisionTimeIdx[i]!) ? m.collisionTimeIdx[i]! : null,
    ttcTimeIdx: Number.isFinite(m.ttcTimeIdx[i]!) ? m.ttcTimeIdx[i]! : null,
    comfortDetail: m.comfortDetail[i]!,
    scorerScore: v2 ? score : NaN,
    forgivenMetrics: [],
  };
}

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
