/**
 * Raw metrics of a batch of simulated states (`evaluateBatch`): one function per metric, as
 * NAVSIM's `PDMScorer` computes them (NC, DAC, DDC, TLC, raw EP, TTC, comfort / history comfort,
 * LK), over the ego areas of every state. Each evaluation works in its own `ScorerWorkspace`.
 */
import { ArrayPack } from '../../core/array-pack.js';
import { boundsOverlap, boxBounds, boxesIntersect, segmentIntersectsBox } from '../../geometry/box.js';
import { allComfortable, comfortChecks } from '../comfort.js';
import { type DrivableMap, PolyFlag } from '../map.js';
import type { PDMObservation } from '../observation.js';
import { pairwiseSum } from '../savgol.js';
import { NUM_STATES, PACIFICA, STATE_SIZE as STATE_SIZE_IMPORT, StateIndex, type ComfortDetail, type EgoAreas } from '../types.js';
import { SCORER_THRESHOLDS, type ScoringContext } from './context.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_HEADING = StateIndex.HEADING;
const S_X = StateIndex.X;
const S_Y = StateIndex.Y;
const S_VELOCITY_X = StateIndex.VELOCITY_X;
const S_VELOCITY_Y = StateIndex.VELOCITY_Y;
const STATE_SIZE = STATE_SIZE_IMPORT;

const TTC_FUTURE_IDCS = [0, 3, 6, 9] as const;
const DEG30 = 30 * (Math.PI / 180);
const DEG150 = 150 * (Math.PI / 180);

/** Raw per-proposal metrics of `evaluateBatch` (before EP normalisation and aggregation). */
export interface BatchMetrics {
  n: number;
  numStates: number;
  noAtFaultCollisions: Float64Array;
  drivableAreaCompliance: Float64Array;
  drivingDirectionCompliance: Float64Array;
  trafficLightCompliance: Float64Array;
  timeToCollisionWithinBound: Float64Array;
  /** v1.1 comfort (1 in v2.2, which has none). */
  comfort: Float64Array;
  /** v2.2 history comfort, over history + states (1 in v1.1, which has none). */
  historyComfort: Float64Array;
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

/**
 * The scratch arrays of one batch evaluation (`evaluateBatch`, `selectProposal`): ego corners and
 * box bounds, per-state area flags, the lane/candidate buffers and the per-proposal ignore
 * stamps. One per thread (`sharedWorkspace`, grown to the largest batch) unless a context brings
 * its own (`ScoringContext.workspace`): batch evaluations run synchronously and never nest, and
 * nothing of a workspace outlives its evaluation (results are copied out), so reusing it gives the
 * same values while every scene no longer allocates ~70 KB of scratch.
 * @internal
 */
export class ScorerWorkspace {
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

let sharedWorkspace: ScorerWorkspace | null = null;

/**
 * Whether state i has a corner outside every drivable-area polygon (`non_drivable_area`). The
 * drivable polygon that held the same corner of the previous query is tried first (consecutive
 * states mostly stay in it; any containing polygon decides, so the answer is unchanged).
 */
/** @internal */
export function stateNonDrivable(ws: ScorerWorkspace, map: DrivableMap, coords: Float64Array, i: number): boolean {
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
    if (hint >= 0 && polygons[hint]!.containsStrictAt(coords, q + 2 * c)) continue;
    const cell = map.cellOf(px, py);
    if (cell < 0) return true; // this corner is off the map: not drivable
    let inDrivable = false;
    for (let k = cellStart[cell]!, end = cellStart[cell + 1]!; k < end; k++) {
      const idx = cellItems[k]!;
      if (idx !== hint && flags[idx]! & PolyFlag.DrivableArea && polygons[idx]!.containsStrictAt(coords, q + 2 * c)) {
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
/** @internal */
export function centreFlags(map: DrivableMap, coords: Float64Array, i: number, wantInter: boolean): number {
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
      if (!polygons[idx]!.containsStrictAt(coords, i * 10 + 8)) continue;
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
function computeEgoAreas(ws: ScorerWorkspace, ctx: ScoringContext, states: Float64Array, from: number, to: number, wantCentre: boolean, wantInter: boolean, eagerAll: boolean): void {
  const { map } = ctx;
  ws.ensureCand(map.size + 1);
  const { coords, nonDrivable, oncoming, centerInInter, multipleLanes, axleInInter } = ws;
  for (let i = from; i < to; i++) {
    nonDrivable[i] = stateNonDrivable(ws, map, coords, i) ? 1 : 0;
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
      multipleLanesAt(ws, map, i);
      axleInIntersectionAt(ws, map, states, i);
    }
  }
}

/** Lazy `multiple_lanes` of state i: corners in more than one lane, no lane holding all four. */
function multipleLanesAt(ws: ScorerWorkspace, map: DrivableMap, i: number): boolean {
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
      if (!(flags[idx]! & PolyFlag.Lane) || !polygons[idx]!.containsStrictAt(coords, q + 2 * c)) continue;
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
function axleInIntersectionAt(ws: ScorerWorkspace, map: DrivableMap, states: Float64Array, i: number): boolean {
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
      if (flags[idx]! & PolyFlag.Intersection && polygons[idx]!.containsStrictAt(states, o + S_X)) axle = true;
    }
  }
  ws.axleInInter[i] = axle ? 2 : 1;
  return axle;
}

/** Union bounds of all objects per observation step (+inf / -inf for empty steps), cached. */
// Cached per observation object (identity); dropped with it (WeakMap).
const stepBoundsCache = new WeakMap<PDMObservation, Float64Array>();
function observationStepBounds(obs: PDMObservation): Float64Array {
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

/** What the per-proposal metric functions read; built by `beginBatch`. @internal */
export interface BatchEnv {
  ctx: ScoringContext;
  states: Float64Array;
  numStates: number;
  v2: boolean;
  obs: PDMObservation;
  map: DrivableMap;
  stepBounds: Float64Array;
  ws: ScorerWorkspace;
}

/** Ego corners and box bounds of all `count` states into the workspace; resets the stamps. */
/** @internal */
export function beginBatch(ctx: ScoringContext, states: Float64Array, count: number, numStates: number): BatchEnv {
  const ws = ctx.workspace ?? (sharedWorkspace ??= new ScorerWorkspace());
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
  return { ctx, states, numStates, v2: ctx.version === 'v2.2', obs, map: ctx.map, stepBounds: observationStepBounds(obs), ws };
}

/** NC of proposal p (at-fault collisions); the first at-fault step goes to `collisionTimeIdx[p]`. */
/** @internal */
export function noAtFaultCollisionsOf(env: BatchEnv, p: number, collisionTimeIdx: Float64Array): number {
  const ws = env.ws;
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
        atFault = nonDrivable[i] === 1 || multipleLanesAt(ws, map, i); // ACTIVE_LATERAL
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
/** @internal */
export function drivingDirectionOf(env: BatchEnv, p: number, scratch: Float64Array): number {
  const ws = env.ws;
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
/** @internal */
export function trafficLightOf(env: BatchEnv, p: number): number {
  const ws = env.ws;
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
/** @internal */
export function progressRawOf(env: BatchEnv, p: number): number {
  const ws = env.ws;
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
/** @internal */
export function timeToCollisionOf(env: BatchEnv, p: number, ttcTimeIdx: Float64Array): number {
  const ws = env.ws;
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
        if (ahead || (!behind && (nonDrivable[i] === 1 || multipleLanesAt(ws, map, i) || axleInIntersectionAt(ws, map, states, i)))) {
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
/** @internal */
export function comfortOf(env: BatchEnv, p: number, history: Float64Array | null, firstFail: boolean): ComfortDetail {
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
/** @internal */
export function laneKeepingOf(env: BatchEnv, p: number, dev: Float64Array | null): number {
  const ws = env.ws;
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

/**
 * Fresh per-proposal metric arrays. `packed`: all eleven over one backing store (`ArrayPack`), for
 * metrics that stay internal (never transfer or hand out their arrays).
 * @internal
 */
export function emptyBatchMetrics(n: number, numStates: number, packed = false): BatchMetrics {
  const pack = packed ? new ArrayPack(ArrayPack.f64Bytes(11 * n)) : null;
  const arr = (): Float64Array => (pack ? pack.f64(n) : new Float64Array(n));
  return {
    n,
    numStates,
    noAtFaultCollisions: arr(),
    drivableAreaCompliance: arr(),
    drivingDirectionCompliance: arr(),
    trafficLightCompliance: arr(),
    timeToCollisionWithinBound: arr(),
    comfort: arr().fill(1),
    historyComfort: arr().fill(1),
    laneKeeping: arr(),
    progressRaw: arr(),
    collisionTimeIdx: arr().fill(Infinity),
    ttcTimeIdx: arr().fill(Infinity),
    comfortDetail: [],
  };
}

/**
 * Raw metrics of `n` simulated proposals (`states`: n x numStates x 11) against a scoring context:
 * NC, DAC, DDC, TLC (v2.2), raw progress, TTC, comfort (v1.1), history comfort (v2.2), LK (v2.2).
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
  const ws = env.ws;
  computeEgoAreas(ws, ctx, states, 0, count, true, v2 || keep, keep);
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
    if (v2) out.historyComfort[p] = allComfortable(detail) ? 1 : 0;
    else out.comfort[p] = allComfortable(detail) ? 1 : 0;
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
