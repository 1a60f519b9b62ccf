/**
 * Reward, cost and termination of MetaDriveEnv (spec §4): the dense reward is REPLACED (not
 * added to) by the first matching terminal event in the order arrive_dest, out_of_road,
 * crash_vehicle, crash_object, crash_sidewalk; cost follows out_of_road, crash_vehicle,
 * crash_object; the horizon truncates (it does not terminate) unless truncate_as_terminate.
 * Also the road-contact tests behind out_of_road: centre on no lane surface, or the chassis box
 * touching a continuous/side line (lines are 0.075 m wide, as MetaDrive's collision bodies).
 */
import type { Lane } from '../world/lane.js';
import type { EnvConfig } from './config.js';
import { arcAbsLat, laneLat, laneLocal } from './lane-math.js';

export interface StepEvents {
  arriveDest: boolean;
  outOfRoad: boolean;
  crashVehicle: boolean;
  crashObject: boolean;
  crashSidewalk: boolean;
  maxStep: boolean;
}

export const NO_EVENTS: Readonly<StepEvents> = Object.freeze({
  arriveDest: false,
  outOfRoad: false,
  crashVehicle: false,
  crashObject: false,
  crashSidewalk: false,
  maxStep: false,
});

/**
 * r = driving_reward * Δlong * lateral_factor * sign + speed_reward * (v_kmh / max_kmh) * sign,
 * lateral_factor = clip(1 - 2|lat|/w, 0, 1) if use_lateral_reward else 1.
 */
export function denseReward(
  cfg: Pick<EnvConfig, 'driving_reward' | 'speed_reward' | 'use_lateral_reward'>,
  deltaLong: number,
  lat: number,
  laneWidth: number,
  speedKmh: number,
  maxSpeedKmh: number,
  sign = 1,
): number {
  const lateralFactor = cfg.use_lateral_reward ? Math.min(1, Math.max(0, 1 - (2 * Math.abs(lat)) / laneWidth)) : 1;
  return cfg.driving_reward * deltaLong * lateralFactor * sign + cfg.speed_reward * (speedKmh / maxSpeedKmh) * sign;
}

/** The step reward: the dense reward, replaced by the first terminal event that applies. */
export function stepReward(
  cfg: Pick<EnvConfig, 'success_reward' | 'out_of_road_penalty' | 'crash_vehicle_penalty' | 'crash_object_penalty' | 'crash_sidewalk_penalty'>,
  dense: number,
  e: StepEvents,
): number {
  if (e.arriveDest) return cfg.success_reward;
  if (e.outOfRoad) return -cfg.out_of_road_penalty;
  if (e.crashVehicle) return -cfg.crash_vehicle_penalty;
  if (e.crashObject) return -cfg.crash_object_penalty;
  if (e.crashSidewalk) return -cfg.crash_sidewalk_penalty;
  return dense;
}

export function stepCost(cfg: Pick<EnvConfig, 'out_of_road_cost' | 'crash_vehicle_cost' | 'crash_object_cost'>, e: StepEvents): number {
  if (e.outOfRoad) return cfg.out_of_road_cost;
  if (e.crashVehicle) return cfg.crash_vehicle_cost;
  if (e.crashObject) return cfg.crash_object_cost;
  return 0;
}

/** `terminated` and `truncated` of a step (gymnasium semantics). */
export function episodeDone(
  cfg: Pick<EnvConfig, 'out_of_road_done' | 'crash_vehicle_done' | 'crash_object_done' | 'truncate_as_terminate'>,
  e: StepEvents,
): { terminated: boolean; truncated: boolean } {
  let terminated = e.arriveDest || (e.outOfRoad && cfg.out_of_road_done) || (e.crashVehicle && cfg.crash_vehicle_done) || (e.crashObject && cfg.crash_object_done);
  let truncated = false;
  if (e.maxStep) {
    if (cfg.truncate_as_terminate) terminated = true;
    else if (!terminated) truncated = true;
  }
  return { terminated, truncated };
}

/** Half width of MetaDrive's line collision bodies (0.075 m wide boxes). */
export const LINE_HALF_WIDTH = 0.0375;

export interface LineContacts {
  continuous: boolean;
  broken: boolean;
}

/**
 * Which lane border lines the oriented box (corners FL, FR, RR, RL as x,y pairs) touches.
 * Each border is the strip 0 <= long <= length, |lat -/+ w/2| <= 0.0375 in lane coordinates; the
 * box is mapped into lane coordinates corner by corner (exact for straight lanes, a < 1 cm
 * approximation on arcs of radius >= 10 m) and tested by the separating-axis theorem.
 */
export function lineContacts(lanes: readonly Lane[], corners: Float64Array, out: LineContacts = { continuous: false, broken: false }): LineContacts {
  out.continuous = false;
  out.broken = false;
  const ls = SCRATCH_S, lt = SCRATCH_T, q = SCRATCH_Q;
  // Box centre and circumradius, for a cheap per-lane rejection.
  const cx = (corners[0]! + corners[4]!) / 2, cy = (corners[1]! + corners[5]!) / 2;
  const ddx = corners[0]! - cx, ddy = corners[1]! - cy;
  const rad = Math.sqrt(ddx * ddx + ddy * ddy) + LINE_HALF_WIDTH;
  for (const lane of lanes) {
    const [leftType, rightType] = lane.lineTypes;
    const leftSolid = leftType === 'continuous' || leftType === 'side';
    const rightSolid = rightType === 'continuous' || rightType === 'side';
    const leftBroken = leftType === 'broken';
    const rightBroken = rightType === 'broken';
    if (!leftSolid && !rightSolid && !leftBroken && !rightBroken) continue;
    if (arcAbsLat(lane, cx, cy) > lane.width / 2 + rad) continue;
    laneLocal(lane, cx, cy, q);
    if (Math.abs(q[1]!) > lane.width / 2 + rad || q[0]! < -rad || q[0]! > lane.length + rad) continue;
    // The corners' lateral range first (no atan2 on arcs): most boxes touch no line band.
    if (!mayTouchBands(lane, corners, leftSolid || leftBroken, rightSolid || rightBroken)) continue;
    let minS = Infinity, maxS = -Infinity, minT = Infinity, maxT = -Infinity;
    for (let k = 0; k < 4; k++) {
      laneLocal(lane, corners[2 * k]!, corners[2 * k + 1]!, q);
      const long = q[0]!, lat = q[1]!;
      ls[k] = long;
      lt[k] = lat;
      if (long < minS) minS = long;
      if (long > maxS) maxS = long;
      if (lat < minT) minT = lat;
      if (lat > maxT) maxT = lat;
    }
    if (maxS < 0 || minS > lane.length) continue;
    const hw = lane.width / 2;
    for (let side = -1; side <= 1; side += 2) {
      const solid = side < 0 ? leftSolid : rightSolid;
      const broken = side < 0 ? leftBroken : rightBroken;
      if (!solid && !broken) continue;
      if ((solid && out.continuous) || (broken && out.broken)) continue;
      const e = side * hw;
      if (maxT < e - LINE_HALF_WIDTH || minT > e + LINE_HALF_WIDTH) continue;
      if (quadTouchesRect(ls, lt, 0, lane.length, e - LINE_HALF_WIDTH, e + LINE_HALF_WIDTH)) {
        if (solid) out.continuous = true;
        else out.broken = true;
      }
    }
    if (out.continuous && out.broken) break;
  }
  return out;
}

/** Whether the corners' lateral range meets the band of a left (-w/2) or right (+w/2) line. */
function mayTouchBands(lane: Lane, corners: Float64Array, left: boolean, right: boolean): boolean {
  let minT = Infinity, maxT = -Infinity;
  for (let k = 0; k < 4; k++) {
    const lat = laneLat(lane, corners[2 * k]!, corners[2 * k + 1]!);
    if (lat < minT) minT = lat;
    if (lat > maxT) maxT = lat;
  }
  const hw = lane.width / 2;
  if (left && !(maxT < -hw - LINE_HALF_WIDTH || minT > -hw + LINE_HALF_WIDTH)) return true;
  if (right && !(maxT < hw - LINE_HALF_WIDTH || minT > hw + LINE_HALF_WIDTH)) return true;
  return false;
}

const SCRATCH_S = new Float64Array(4);
const SCRATCH_T = new Float64Array(4);
const SCRATCH_Q = new Float64Array(2);
const RECT_S = new Float64Array(4);
const RECT_T = new Float64Array(4);

/** SAT: convex quad (s[k], t[k]) vs axis-aligned rect [s0, s1] x [t0, t1] (touching counts). */
function quadTouchesRect(s: Float64Array, t: Float64Array, s0: number, s1: number, t0: number, t1: number): boolean {
  let minS = Infinity, maxS = -Infinity, minT = Infinity, maxT = -Infinity;
  for (let k = 0; k < 4; k++) {
    minS = Math.min(minS, s[k]!);
    maxS = Math.max(maxS, s[k]!);
    minT = Math.min(minT, t[k]!);
    maxT = Math.max(maxT, t[k]!);
  }
  if (maxS < s0 || minS > s1 || maxT < t0 || minT > t1) return false;
  const rs = RECT_S, rt = RECT_T;
  rs[0] = s0; rs[1] = s1; rs[2] = s1; rs[3] = s0;
  rt[0] = t0; rt[1] = t0; rt[2] = t1; rt[3] = t1;
  for (let k = 0; k < 2; k++) {
    // Edge normals of the quad (two distinct directions for a parallelogram-like quad).
    const ns = -(t[k + 1]! - t[k]!);
    const nt = s[k + 1]! - s[k]!;
    let qMin = Infinity, qMax = -Infinity, rMin = Infinity, rMax = -Infinity;
    for (let j = 0; j < 4; j++) {
      const q = s[j]! * ns + t[j]! * nt;
      const r = rs[j]! * ns + rt[j]! * nt;
      qMin = Math.min(qMin, q);
      qMax = Math.max(qMax, q);
      rMin = Math.min(rMin, r);
      rMax = Math.max(rMax, r);
    }
    if (qMax < rMin || rMax < qMin) return false;
  }
  return true;
}
