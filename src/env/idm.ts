/**
 * MetaDrive's IDMPolicy (spec §5.3): IDM longitudinal control in km/h with MetaDrive's constants,
 * PID lane keeping, and the speed-gain lane-change heuristic (no MOBIL). Acts once per env step.
 */
import type { Rng } from '../core/rng.js';
import { wrapAngle } from '../geometry/angle.js';
import type { Lane } from '../world/lane.js';
import { laneLocal } from './lane-math.js';
import type { EnvRoad, RoadMap } from './road-map.js';
import type { Vehicle } from './vehicle.js';

export const IDM = Object.freeze({
  NORMAL_SPEED: 30, // km/h
  CREEP_SPEED: 5,
  MAX_SPEED: 100,
  DISTANCE_WANTED: 10,
  TIME_WANTED: 1.5,
  DELTA: 10,
  ACC_FACTOR: 1.0,
  DEACC_FACTOR: -5,
  LANE_CHANGE_FREQ: 50,
  LANE_CHANGE_SPEED_INCREASE: 10,
  SAFE_LANE_CHANGE_DISTANCE: 15,
  MAX_LONG_DIST: 30,
  /** Surrounding objects are those within this distance (m). */
  SURROUNDING_RANGE: 50,
});

/** A vehicle in the scene with the lane it is localised on. */
export interface SceneObject {
  vehicle: Vehicle;
  lane: Lane | null;
}

export class PIDController {
  private p = 0;
  private i = 0;
  private d = 0;
  constructor(readonly kp: number, readonly ki: number, readonly kd: number) {}
  reset(): void {
    this.p = this.i = this.d = 0;
  }
  /** MetaDrive PIDController.get_result: -(kp e + ki Σe + kd Δe). */
  result(error: number): number {
    this.i += error;
    this.d = error - this.p;
    this.p = error;
    return -this.kp * this.p - this.ki * this.i - this.kd * this.d;
  }
}

const FB_SCRATCH = new Float64Array(2);

export interface FrontBack {
  front: SceneObject | null;
  frontDist: number;
  back: SceneObject | null;
  backDist: number;
}

/**
 * Nearest objects ahead/behind on `lane` (and ahead on `nextLane` when the lane ends), by
 * centre-to-centre longitudinal distance, within `maxDist` (FrontBackObjects).
 */
export function findFrontBack(objects: readonly SceneObject[], self: SceneObject, lane: Lane, nextLane: Lane | null, maxDist: number): FrontBack {
  const v = self.vehicle;
  const q = FB_SCRATCH;
  const curLong = laneLocal(lane, v.x, v.y, q)[0]!;
  const leftLong = lane.length - curLong;
  const r: FrontBack = { front: null, frontDist: maxDist, back: null, backDist: maxDist };
  const r2 = IDM.SURROUNDING_RANGE * IDM.SURROUNDING_RANGE;
  for (const o of objects) {
    if (o === self || o.lane === null) continue;
    if (o.lane !== lane && o.lane !== nextLane) continue;
    const dx = o.vehicle.x - v.x, dy = o.vehicle.y - v.y;
    if (dx * dx + dy * dy > r2) continue; // only surrounding objects (within 50 m)
    if (o.lane === lane) {
      const d = laneLocal(lane, o.vehicle.x, o.vehicle.y, q)[0]! - curLong;
      if (d > 0 && d < r.frontDist) {
        r.front = o;
        r.frontDist = d;
      } else if (d <= 0 && -d < r.backDist) {
        r.back = o;
        r.backDist = -d;
      }
    } else if (nextLane !== null) {
      const d = laneLocal(nextLane, o.vehicle.x, o.vehicle.y, q)[0]! + leftLong;
      if (d < r.frontDist) {
        r.front = o;
        r.frontDist = d;
      }
    }
  }
  return r;
}

/** Chooses the road after `road` (traffic: random; ego: its route). */
export type RoadChooser = (road: EnvRoad) => EnvRoad | null;

export class IDMPolicy {
  routingTargetLane: Lane | null = null;
  nextRoad: EnvRoad | null = null;
  targetSpeed: number = IDM.NORMAL_SPEED;
  overtakeTimer: number;
  private readonly headingPid = new PIDController(1.7, 0.01, 3.5);
  private readonly lateralPid = new PIDController(0.3, 0.002, 0.05);
  /** The lane steered to at the last act() (for rendering and tests). */
  steeringTargetLane: Lane | null = null;

  constructor(private readonly map: RoadMap, private readonly rng: Rng, private readonly chooseNext: RoadChooser) {
    this.overtakeTimer = rng.int(0, IDM.LANE_CHANGE_FREQ);
  }

  private allowedFor: EnvRoad | null = null;
  private allowedNext: EnvRoad | null = null;
  private allowed: number[] = [];
  private nextLaneCacheLane: Lane | null = null;
  private nextLaneCacheRoad: EnvRoad | null = null;
  private nextLaneCache: Lane | null = null;

  /** Lanes of `road` that continue onto the planned next road (all when none or all do). */
  private allowedLanes(road: EnvRoad): number[] {
    if (this.allowedFor === road && this.allowedNext === this.nextRoad) return this.allowed;
    const lanes = road.lanes;
    let allowed: number[] = lanes.map((_, i) => i);
    if (this.nextRoad !== null) {
      const a = allowed.filter((i) => this.map.successors(lanes[i]!).some((s) => this.map.roadOf(s) === this.nextRoad));
      if (a.length > 0 && a.length < lanes.length) allowed = a;
    }
    this.allowedFor = road;
    this.allowedNext = this.nextRoad;
    this.allowed = allowed;
    return allowed;
  }

  /** Successor of `lane` on the planned next road (same index preferred); cached for the target. */
  private nextLaneOf(lane: Lane): Lane | null {
    if (lane === this.nextLaneCacheLane && this.nextRoad === this.nextLaneCacheRoad) return this.nextLaneCache;
    const r = this.computeNextLane(lane);
    this.nextLaneCacheLane = lane;
    this.nextLaneCacheRoad = this.nextRoad;
    this.nextLaneCache = r;
    return r;
  }

  private computeNextLane(lane: Lane): Lane | null {
    const succ = this.map.successors(lane);
    if (succ.length === 0) return null;
    let best: Lane | null = null;
    for (const s of succ) {
      if (this.nextRoad !== null && this.map.roadOf(s) !== this.nextRoad) continue;
      if (best === null || s.id.index === lane.id.index) best = s;
    }
    return best;
  }

  /** MetaDrive move_to_next_road: keeps routing_target_lane on the vehicle's current road. */
  private moveToNextRoad(self: SceneObject): boolean {
    const lane = self.lane;
    if (this.routingTargetLane === null) {
      if (lane === null) return false;
      this.routingTargetLane = lane;
      this.nextRoad = this.chooseNext(this.map.roadOf(lane));
      return true;
    }
    if (lane === null) return true;
    const laneRoad = this.map.roadOf(lane);
    const targetRoad = this.map.roadOf(this.routingTargetLane);
    if (laneRoad !== targetRoad) {
      // Entered another road: continue on the connected lane of it (or the lane we are on).
      const succ = this.map.successors(this.routingTargetLane).find((s) => this.map.roadOf(s) === laneRoad);
      this.routingTargetLane = succ ?? lane;
      this.nextRoad = this.chooseNext(laneRoad);
      return true;
    }
    if (lane !== this.routingTargetLane) {
      // A lateral lane change completed.
      this.routingTargetLane = lane;
      this.overtakeTimer = this.rng.int(0, Math.floor(IDM.LANE_CHANGE_FREQ / 2));
    }
    return true;
  }

  /** Returns [steering, acceleration] before clipping (MetaDrive IDMPolicy.act). */
  act(self: SceneObject, objects: readonly SceneObject[]): [number, number] {
    const ok = this.moveToNextRoad(self);
    const target = this.routingTargetLane;
    if (!ok || target === null) return [0, -1];
    const { frontObj, frontDist, steerLane } = this.laneChangePolicy(self, objects, target);
    this.steeringTargetLane = steerLane;
    const steering = this.steeringControl(self.vehicle, steerLane);
    const acc = this.acceleration(self.vehicle, frontObj, frontDist);
    return [steering, acc];
  }

  private laneChangePolicy(self: SceneObject, objs: readonly SceneObject[], target: Lane): { frontObj: SceneObject | null; frontDist: number; steerLane: Lane } {
    const road = this.map.roadOf(target);
    const lanes = road.lanes;
    const idx = lanes.indexOf(target);
    const fb = findFrontBack(objs, self, target, this.nextLaneOf(target), IDM.MAX_LONG_DIST);
    const allowed = this.allowedLanes(road);
    if (!allowed.includes(idx)) {
      const goLeft = idx > allowed[allowed.length - 1]!;
      const k = goLeft ? idx - 1 : idx + 1;
      const s = this.side(objs, self, lanes, k);
      if (s === null || s.backDist < IDM.SAFE_LANE_CHANGE_DISTANCE || s.frontDist < 5) {
        this.targetSpeed = IDM.CREEP_SPEED;
        return { frontObj: fb.front, frontDist: fb.frontDist, steerLane: target };
      }
      this.targetSpeed = IDM.NORMAL_SPEED;
      return { frontObj: s.front, frontDist: s.frontDist, steerLane: lanes[k]! };
    }
    const v = self.vehicle.speedKmh;
    if (Math.abs(v - IDM.NORMAL_SPEED) > 3 && fb.front !== null && Math.abs(fb.front.vehicle.speedKmh - IDM.NORMAL_SPEED) > 3 && this.overtakeTimer > IDM.LANE_CHANGE_FREQ) {
      const frontSpeed = fb.front.vehicle.speedKmh;
      const left = this.side(objs, self, lanes, idx - 1);
      const ls = sideSpeed(left);
      if (ls !== null && ls - frontSpeed > IDM.LANE_CHANGE_SPEED_INCREASE && allowed.includes(idx - 1)) {
        return { frontObj: left!.front, frontDist: left!.frontDist, steerLane: lanes[idx - 1]! };
      }
      const right = this.side(objs, self, lanes, idx + 1);
      const rs = sideSpeed(right);
      if (rs !== null && rs - frontSpeed > IDM.LANE_CHANGE_SPEED_INCREASE && allowed.includes(idx + 1)) {
        return { frontObj: right!.front, frontDist: right!.frontDist, steerLane: lanes[idx + 1]! };
      }
    }
    this.targetSpeed = IDM.NORMAL_SPEED;
    this.overtakeTimer++;
    return { frontObj: fb.front, frontDist: fb.frontDist, steerLane: target };
  }

  private side(objs: readonly SceneObject[], self: SceneObject, lanes: readonly Lane[], k: number): FrontBack | null {
    const l = lanes[k];
    return l ? findFrontBack(objs, self, l, this.computeNextLane(l), IDM.MAX_LONG_DIST) : null;
  }

  private steeringControl(v: Vehicle, lane: Lane): number {
    const q = laneLocal(lane, v.x, v.y, FB_SCRATCH);
    const long = q[0]!, lat = q[1]!;
    const laneHeading = lane.headingAt(long + 1);
    let steering = this.headingPid.result(-wrapAngle(laneHeading - v.heading));
    steering += this.lateralPid.result(-lat);
    return steering;
  }

  /** IDM acceleration with MetaDrive's mixed units (km/h speeds, metre gaps). */
  private acceleration(v: Vehicle, front: SceneObject | null, dist: number): number {
    const target = this.targetSpeed === 0 ? 1e-2 : this.targetSpeed;
    let acc = IDM.ACC_FACTOR * (1 - Math.pow(Math.max(v.speedKmh, 0) / target, IDM.DELTA));
    if (front !== null) {
      acc -= IDM.ACC_FACTOR * Math.pow(desiredGap(v, front.vehicle) / notZero(dist), 2);
    }
    return acc;
  }
}

/** "Front speed" of a side lane for the overtake rule (null = lane unavailable). */
function sideSpeed(s: FrontBack | null): number | null {
  if (s === null) return null;
  if (s.front !== null) return s.front.vehicle.speedKmh;
  return s.frontDist > IDM.SAFE_LANE_CHANGE_DISTANCE && s.backDist > IDM.SAFE_LANE_CHANGE_DISTANCE ? IDM.MAX_SPEED : null;
}

/** d* = d0 + v tau + v dv / (2 sqrt(a b)), speeds in km/h (IDMPolicy.desired_gap). */
export function desiredGap(ego: Vehicle, front: Vehicle): number {
  const ab = -IDM.ACC_FACTOR * IDM.DEACC_FACTOR;
  const ch = Math.cos(ego.heading), sh = Math.sin(ego.heading);
  const dvx = ego.speedKmh * ch - front.speedKmh * Math.cos(front.heading);
  const dvy = ego.speedKmh * sh - front.speedKmh * Math.sin(front.heading);
  const dv = dvx * ch + dvy * sh;
  return IDM.DISTANCE_WANTED + ego.speedKmh * IDM.TIME_WANTED + (ego.speedKmh * dv) / (2 * Math.sqrt(ab));
}

function notZero(x: number, eps = 1e-2): number {
  return Math.abs(x) > eps ? x : x >= 0 ? eps : -eps;
}
