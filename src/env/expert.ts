/**
 * A scripted expert for demonstrations (spec §5.4 [TS suggestion]): uses privileged map and
 * traffic state. Lateral: pure pursuit on a lane of the route (through successors on the next
 * route roads). Longitudinal: IDM in SI units towards a cruise speed well above the traffic's
 * 30 km/h, capped by a curvature speed limit with braking distance. Overtaking: when a slower
 * (or parked) vehicle is ahead, it moves to an adjacent route-compatible lane with a longer free
 * gap, if the gaps in that lane are safe; it also changes lanes when the route requires it.
 */
import { wrapAngle } from '../geometry/angle.js';
import type { Lane } from '../world/lane.js';
import type { DrivingEnv } from './env.js';
import type { EnvRoad, RoadMap } from './road-map.js';
import { InteractionPlanner } from './expert-planner.js';
import { alongSpeed, laneAt, movesAlong, pathCoordinate, routePath, type PathLane } from './expert-paths.js';
import type { TrafficVehicle } from './traffic.js';
import type { Vehicle } from './vehicle.js';

export interface ExpertOptions {
  /** Cruise speed (km/h). */
  cruiseKmh: number;
  /** Lateral acceleration allowed in curves (m/s^2). */
  maxLateralAccel: number;
  /** Deceleration used to plan for curves (m/s^2). */
  comfortDecel: number;
  /** IDM: minimum gap s0 (m), time headway T (s), max accel a (m/s^2), comfortable decel b. */
  minGap: number;
  timeHeadway: number;
  idmAccel: number;
  idmDecel: number;
  /** Steering = atan(L kappa) + headingGain * course error + atan(lateralGain * e / (v + 1)). */
  headingGain: number;
  lateralGain: number;
  /** Lateral error is clipped to this (m), which bounds the lane-change approach angle. */
  maxLateralError: number;
}

export const DEFAULT_EXPERT_OPTIONS: Readonly<ExpertOptions> = Object.freeze({
  cruiseKmh: 65,
  maxLateralAccel: 3.0,
  comfortDecel: 2.5,
  minGap: 4,
  timeHeadway: 1.0,
  idmAccel: 2.5,
  idmDecel: 3.0,
  headingGain: 0.8,
  lateralGain: 1.0,
  maxLateralError: 1.5,
});


interface LaneScan {
  /** Gap (m, bumper to bumper) to the nearest vehicle ahead; Infinity when none. */
  frontGap: number;
  frontSpeed: number;
  /** Gap to the nearest vehicle behind; Infinity when none. */
  backGap: number;
  backSpeed: number;
}

const LOOK_AHEAD_PATH = 120;

export class ExpertPolicy {
  readonly name = 'expert';
  readonly options: ExpertOptions;
  /** Lane being changed to (null when lane keeping). */
  private targetLane: Lane | null = null;
  readonly planner = new InteractionPlanner();

  constructor(options: Partial<ExpertOptions> = {}) {
    this.options = { ...DEFAULT_EXPERT_OPTIONS, ...options };
  }

  reset(): void {
    this.targetLane = null;
  }

  act(env: DrivingEnv): [number, number] {
    const map = env.map;
    const nav = env.navigation;
    const ego = env.ego;
    const road = nav.currentRoad;
    const next = nav.nextRoad;
    const lanes = road.lanes;

    // The lane we are on, seen on the current reference road.
    let cur = nav.currentLane;
    if (map.roadOf(cur) !== road) {
      if (next !== null && map.roadOf(cur) === next) {
        // Already past the checkpoint update window: treat the next road as current.
        return this.drive(env, cur, map.roadOf(cur), nav.map.routeRoads[nav.refIndex + 2] ?? null);
      }
      cur = nearestLane(lanes, ego.x, ego.y);
    }
    return this.drive(env, cur, road, next);
  }

  private drive(env: DrivingEnv, cur: Lane, road: EnvRoad, next: EnvRoad | null): [number, number] {
    const map = env.map;
    const ego = env.ego;
    const o = this.options;
    const lanes = road.lanes;
    const v = ego.speed;
    if (this.targetLane !== null && map.roadOf(this.targetLane) !== road) this.targetLane = null;
    if (this.targetLane === cur) this.targetLane = null;

    const allowed = allowedLanes(map, road, next);
    const curIdx = lanes.indexOf(cur);
    const egoLong = cur.localCoordinates(ego.x, ego.y).long;
    const remaining = cur.length - egoLong;
    const canChange = remaining > 12 && road.lanes.length > 1 && cur.lineTypes.some((t) => t === 'broken');
    const scans = lanes.map((l) => this.scanLane(map, l, road, env.navigation.map.routeRoads, ego, env.traffic.alive));
    const cruise = o.cruiseKmh / 3.6;

    if (this.targetLane !== null) {
      // Abort an unsafe change (someone closed the gap).
      const s = scans[lanes.indexOf(this.targetLane)]!;
      if (!this.safeToEnter(s, v) && Math.abs(this.targetLane.localCoordinates(ego.x, ego.y).lat) > lanes[0]!.width * 0.75) this.targetLane = null;
    }
    if (this.targetLane === null && canChange) {
      if (!allowed.includes(curIdx)) {
        const k = curIdx < allowed[0]! ? curIdx + 1 : curIdx - 1;
        if (this.safeToEnter(scans[k]!, v)) this.targetLane = lanes[k]!;
      } else {
        const here = scans[curIdx]!;
        const blocked = here.frontGap < 60 && here.frontSpeed < cruise - 2;
        if (blocked) {
          let best = -1;
          let bestGap = here.frontGap + 10;
          for (const k of [curIdx - 1, curIdx + 1]) {
            if (k < 0 || k >= lanes.length || !allowed.includes(k)) continue;
            const s = scans[k]!;
            const gapValue = s.frontSpeed >= cruise - 2 ? Infinity : s.frontGap;
            if (gapValue > bestGap && this.safeToEnter(s, v)) {
              best = k;
              bestGap = gapValue;
            }
          }
          if (best >= 0) this.targetLane = lanes[best]!;
        }
      }
    }
    const track = this.targetLane ?? cur;

    // Lateral: Stanley-style tracking of the lane (curvature feed-forward + course and offset
    // feedback) at the vehicle centre, along the tracked lane's route continuation.
    const path = routePath(map, track, road, env.navigation.map.routeRoads, LOOK_AHEAD_PATH);
    const trackLong = track.localCoordinates(ego.x, ego.y).long;
    const steer = this.steering(ego, path, trackLong);

    // Longitudinal: curvature limit and IDM on the vehicles in our corridor.
    let vDesired = Math.min(cruise, (ego.maxSpeedKmh - 3) / 3.6);
    for (const p of path) {
      const start = p.offset - trackLong;
      if (start > v * v / (2 * o.comfortDecel) + 30) break;
      if (p.lane.kind !== 'circular') continue;
      const vCurve = Math.sqrt(o.maxLateralAccel * p.lane.radius);
      const vAllowed = Math.sqrt(vCurve * vCurve + 2 * o.comfortDecel * Math.max(0, start));
      if (vAllowed < vDesired) vDesired = vAllowed;
    }
    // Route requires a lane change we could not make yet: slow down near the road end.
    if (!allowed.includes(lanes.indexOf(track)) && remaining < 40) vDesired = Math.min(vDesired, 3 + remaining / 5);
    let front = scans[curIdx]!;
    if (this.targetLane !== null) {
      const t = scans[lanes.indexOf(this.targetLane)]!;
      if (t.frontGap < front.frontGap) front = t;
    }
    const pathFront = corridorFront(path, trackLong, ego, env.traffic.alive);
    if (pathFront.gap < front.frontGap) front = { ...front, frontGap: pathFront.gap, frontSpeed: pathFront.speed };
    // Traffic that is changing into our lane counts as ahead of us once it is level with us.
    for (const t of env.traffic.alive) {
      const tgt = t.policy.steeringTargetLane;
      if (tgt === null || t.lane === tgt || (tgt !== track && tgt !== cur)) continue;
      const v = t.vehicle;
      const sO = tgt.localCoordinates(v.x, v.y).long - tgt.localCoordinates(ego.x, ego.y).long;
      if (sO < -ego.length / 2 || sO > 60) continue;
      const gap = Math.max(0.1, sO - (ego.length + v.length) / 2);
      if (gap < front.frontGap) front = { ...front, frontGap: gap, frontSpeed: alongSpeed(path, trackLong + sO, v) };
    }
    let acc = o.idmAccel * (1 - Math.pow(v / Math.max(vDesired, 0.1), 4));
    if (front.frontGap < 100) {
      const dv = v - front.frontSpeed;
      const sStar = o.minGap + Math.max(0, v * o.timeHeadway + (v * dv) / (2 * Math.sqrt(o.idmAccel * o.idmDecel)));
      acc -= o.idmAccel * Math.pow(sStar / Math.max(front.frontGap, 0.1), 2);
    }
    // Interactions (junctions, merges, cut-ins, lane changes of traffic): the fastest
    // longitudinal plan, not faster than car following, whose predicted motion stays clear of
    // every traffic vehicle's predicted occupancy.
    acc = this.planner.choose(env, path, trackLong, track.localCoordinates(ego.x, ego.y).lat, acc, vDesired);
    // Throttle/brake from the desired acceleration with the ego's own (privileged) constants.
    const dt = env.config.physics_world_step_size;
    const m = ego.params.mass;
    let tb: number;
    if (acc >= 0) tb = acc / ((4 * ego.maxEngineForce) / m);
    else tb = acc / ((4 * ego.maxBrakeForce) / (m * dt));
    if (acc >= 0 && tb < 0.02 && v > 0.5) tb = 0.02; // keep the engine on: exact 0 coasts with brake 2
    return [steer, Math.max(-1, Math.min(1, tb))];
  }

  private steering(ego: Vehicle, path: readonly PathLane[], trackLong: number): number {
    const o = this.options;
    const v = ego.speed;
    const wheelbase = ego.params.frontAxle + ego.params.rearAxle;
    // Reference slightly ahead to compensate the 0.1 s decision delay.
    const sRef = trackLong + v * 0.1;
    const ref = laneAt(path, sRef);
    const loc = ref.lane.localCoordinates(ego.x, ego.y);
    const pathHeading = ref.lane.headingAt(Math.min(ref.lane.length, Math.max(0, sRef - ref.offset)));
    const kappa = ref.lane.kind === 'circular' ? (ref.lane.clockwise ? -1 : 1) / ref.lane.radius : 0;
    const ff = Math.atan(wheelbase * kappa);
    const beta = Math.atan((ego.params.rearAxle / wheelbase) * Math.tan(ego.steeringAngle));
    const courseErr = wrapAngle(pathHeading - (ego.heading + beta));
    const e = Math.max(-o.maxLateralError, Math.min(o.maxLateralError, loc.lat));
    const delta = ff + o.headingGain * courseErr + Math.atan((o.lateralGain * e) / (v + 1));
    return Math.max(-1, Math.min(1, delta / ego.maxSteering));
  }

  private safeToEnter(s: LaneScan, v: number): boolean {
    const frontNeed = Math.max(10, (v - s.frontSpeed) * 2.5 + 6);
    const backNeed = Math.max(8, (s.backSpeed - v) * 3 + 8);
    return s.frontGap > frontNeed && s.backGap > backNeed;
  }

  /** Nearest vehicles ahead/behind on `lane` (and its route continuation), bumper to bumper. */
  private scanLane(map: RoadMap, lane: Lane, road: EnvRoad, routeRoads: readonly EnvRoad[], ego: Vehicle, traffic: readonly TrafficVehicle[]): LaneScan {
    // Along the route (a same-index continuation could be another junction connector).
    const path = routePath(map, lane, road, routeRoads, LOOK_AHEAD_PATH);
    const egoLong = lane.localCoordinates(ego.x, ego.y).long;
    const r: LaneScan = { frontGap: Infinity, frontSpeed: 0, backGap: Infinity, backSpeed: 0 };
    for (const t of traffic) {
      const v = t.vehicle;
      // Moving vehicles count when localised on a lane of this path (crossing or merging ones
      // are left to the interaction planner); stopped ones whenever they intrude.
      if (v.speed >= 0.5 && !path.some((p) => p.lane === t.lane)) continue;
      const s = pathCoordinate(path, v, lane.width / 2 + 0.2);
      if (s === null || !movesAlong(path, s, v)) continue;
      const d = s - egoLong;
      const half = (ego.length + v.length) / 2;
      const along = alongSpeed(path, s, v);
      if (d >= 0) {
        const gap = d - half;
        if (gap < r.frontGap) {
          r.frontGap = gap;
          r.frontSpeed = along;
        }
      } else {
        const gap = -d - half;
        if (gap < r.backGap) {
          r.backGap = gap;
          r.backSpeed = along;
        }
      }
    }
    return r;
  }
}

/** Lanes of `road` that continue onto `next` (all lanes when none does or on the last road). */
function allowedLanes(map: RoadMap, road: EnvRoad, next: EnvRoad | null): number[] {
  const all = road.lanes.map((_, i) => i);
  if (next === null) return all;
  const ok = all.filter((i) => map.successors(road.lanes[i]!).some((s) => map.roadOf(s) === next));
  return ok.length > 0 ? ok : all;
}

function nearestLane(lanes: readonly Lane[], x: number, y: number): Lane {
  let best = lanes[0]!;
  let bestD = Infinity;
  for (const l of lanes) {
    const d = Math.abs(l.localCoordinates(x, y).lat);
    if (d < bestD) {
      bestD = d;
      best = l;
    }
  }
  return best;
}

/**
 * Nearest leader ahead whose body intrudes into the ego's corridor along the path: a vehicle
 * on a lane of the path moving along it, or a stopped one. Moving vehicles on other lanes that
 * cross or merge into the corridor are left to the interaction planner, which predicts them.
 */
function corridorFront(path: readonly PathLane[], egoLong: number, ego: Vehicle, traffic: readonly TrafficVehicle[]): { gap: number; speed: number } {
  let gap = Infinity, speed = 0;
  for (const t of traffic) {
    const v = t.vehicle;
    if (v.speed >= 0.5 && !path.some((p) => p.lane === t.lane)) continue;
    const s = pathCoordinate(path, v, ego.width / 2 + v.width / 2 + 0.4);
    if (s === null || !movesAlong(path, s, v)) continue;
    const d = s - egoLong - (ego.length + v.length) / 2;
    if (s - egoLong > 0 && d < gap) {
      gap = d;
      speed = alongSpeed(path, s, v);
    }
  }
  return { gap: Math.max(gap, 0), speed };
}
