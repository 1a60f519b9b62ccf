/**
 * A scripted expert for demonstrations (spec §5.4 [TS suggestion]): uses privileged map and
 * traffic state. Lateral: pure pursuit on a lane of the route (through successors on the next
 * route roads). Longitudinal: IDM in SI units towards a cruise speed well above the traffic's
 * 30 km/h, capped by a curvature speed limit with braking distance. Overtaking: when a slower
 * (or parked) vehicle is ahead, it moves to an adjacent route-compatible lane with a longer free
 * gap, if the gaps in that lane are safe; it also changes lanes when the route requires it.
 */
import type { Lane } from '../world/lane.js';
import type { DrivingEnv } from './env.js';
import type { EnvRoad, RoadMap } from './road-map.js';
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
  /** Look-ahead distance = clamp(gain * v + base, min, max) (m). */
  lookaheadGain: number;
  lookaheadBase: number;
}

export const DEFAULT_EXPERT_OPTIONS: Readonly<ExpertOptions> = Object.freeze({
  cruiseKmh: 65,
  maxLateralAccel: 3.0,
  comfortDecel: 2.5,
  minGap: 4,
  timeHeadway: 1.0,
  idmAccel: 2.5,
  idmDecel: 3.0,
  lookaheadGain: 0.6,
  lookaheadBase: 4,
});

interface PathLane {
  lane: Lane;
  /** Path distance at the lane start (relative to the lane the ego tracks). */
  offset: number;
}

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
    const others: Vehicle[] = [];
    for (const t of env.traffic.alive) others.push(t.vehicle);

    // The lane we are on, seen on the current reference road.
    let cur = nav.currentLane;
    if (map.roadOf(cur) !== road) {
      if (next !== null && map.roadOf(cur) === next) {
        // Already past the checkpoint update window: treat the next road as current.
        return this.drive(env, cur, map.roadOf(cur), nav.map.routeRoads[nav.refIndex + 2] ?? null, others);
      }
      cur = nearestLane(lanes, ego.x, ego.y);
    }
    return this.drive(env, cur, road, next, others);
  }

  private drive(env: DrivingEnv, cur: Lane, road: EnvRoad, next: EnvRoad | null, others: Vehicle[]): [number, number] {
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
    const scans = lanes.map((l) => this.scanLane(map, l, road, next, ego, others));
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

    // Lateral: pure pursuit on the tracked lane and its route continuation.
    const path = routePath(map, track, road, env.navigation.map.routeRoads, LOOK_AHEAD_PATH);
    const trackLong = track.localCoordinates(ego.x, ego.y).long;
    const ld = Math.min(20, Math.max(5, o.lookaheadGain * v + o.lookaheadBase));
    const target = pointAlong(path, trackLong + ld);
    const rearAxle = ego.params.rearAxle;
    const rx = ego.x - rearAxle * Math.cos(ego.heading);
    const ry = ego.y - rearAxle * Math.sin(ego.heading);
    const alpha = Math.atan2(target[1] - ry, target[0] - rx) - ego.heading;
    const wheelbase = ego.params.frontAxle + ego.params.rearAxle;
    const dist = Math.hypot(target[0] - rx, target[1] - ry);
    const delta = Math.atan2(2 * wheelbase * Math.sin(alpha), Math.max(dist, 1e-3));
    const steer = Math.max(-1, Math.min(1, delta / ego.maxSteering));

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
    const pathFront = corridorFront(path, trackLong, ego, others);
    if (pathFront.gap < front.frontGap) front = { ...front, frontGap: pathFront.gap, frontSpeed: pathFront.speed };
    let acc = o.idmAccel * (1 - Math.pow(v / Math.max(vDesired, 0.1), 4));
    if (front.frontGap < 100) {
      const dv = v - front.frontSpeed;
      const sStar = o.minGap + Math.max(0, v * o.timeHeadway + (v * dv) / (2 * Math.sqrt(o.idmAccel * o.idmDecel)));
      acc -= o.idmAccel * Math.pow(sStar / Math.max(front.frontGap, 0.1), 2);
    }
    // Throttle/brake from the desired acceleration with the ego's own (privileged) constants.
    const dt = env.config.physics_world_step_size;
    const m = ego.params.mass;
    let tb: number;
    if (acc >= 0) tb = acc / ((4 * ego.maxEngineForce) / m);
    else tb = acc / ((4 * ego.maxBrakeForce) / (m * dt));
    if (acc >= 0 && tb < 0.02 && v > 0.5) tb = 0.02; // keep the engine on: exact 0 coasts with brake 2
    return [steer, Math.max(-1, Math.min(1, tb))];
  }

  private safeToEnter(s: LaneScan, v: number): boolean {
    const frontNeed = Math.max(10, (v - s.frontSpeed) * 2.5 + 6);
    const backNeed = Math.max(8, (s.backSpeed - v) * 3 + 8);
    return s.frontGap > frontNeed && s.backGap > backNeed;
  }

  /** Nearest vehicles ahead/behind on `lane` (and its route continuation), bumper to bumper. */
  private scanLane(map: RoadMap, lane: Lane, road: EnvRoad, _next: EnvRoad | null, ego: Vehicle, others: readonly Vehicle[]): LaneScan {
    const path = routePath(map, lane, road, null, LOOK_AHEAD_PATH);
    const egoLong = lane.localCoordinates(ego.x, ego.y).long;
    const r: LaneScan = { frontGap: Infinity, frontSpeed: 0, backGap: Infinity, backSpeed: 0 };
    for (const v of others) {
      const s = pathCoordinate(path, v, lane.width / 2 + 0.2);
      if (s === null) continue;
      const d = s - egoLong;
      const half = (ego.length + v.length) / 2;
      if (d >= 0) {
        const gap = d - half;
        if (gap < r.frontGap) {
          r.frontGap = gap;
          r.frontSpeed = v.speed;
        }
      } else {
        const gap = -d - half;
        if (gap < r.backGap) {
          r.backGap = gap;
          r.backSpeed = v.speed;
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
 * The lane sequence from `lane` along the route (`routeRoads` given) or along same-index
 * successors, until `maxLen` metres.
 */
function routePath(map: RoadMap, lane: Lane, road: EnvRoad, routeRoads: readonly EnvRoad[] | null, maxLen: number): PathLane[] {
  const out: PathLane[] = [{ lane, offset: 0 }];
  let offset = lane.length;
  let cur = lane;
  let ri = routeRoads ? routeRoads.indexOf(road) : -1;
  while (offset < maxLen && out.length < 8) {
    const succ = map.successors(cur);
    let nextLane: Lane | null = null;
    if (routeRoads && ri >= 0 && ri + 1 < routeRoads.length) {
      const nr = routeRoads[ri + 1]!;
      const onRoute = succ.filter((s) => map.roadOf(s) === nr);
      nextLane = onRoute.find((s) => s.id.index === cur.id.index) ?? onRoute[0] ?? null;
      if (nextLane === null) {
        // No geometric successor: jump to the nearest lane of the next route road.
        const end = cur.position(cur.length, 0);
        let bestD = Infinity;
        for (const l of nr.lanes) {
          const p = l.position(0, 0);
          const d = Math.hypot(p[0]! - end[0]!, p[1]! - end[1]!);
          if (d < bestD) {
            bestD = d;
            nextLane = l;
          }
        }
      }
      ri++;
    } else if (!routeRoads) {
      nextLane = succ.find((s) => s.id.index === cur.id.index) ?? succ[0] ?? null;
    }
    if (nextLane === null) break;
    out.push({ lane: nextLane, offset });
    offset += nextLane.length;
    cur = nextLane;
  }
  return out;
}

/** The world point at path distance `s` (extrapolated past the end along the last lane). */
function pointAlong(path: readonly PathLane[], s: number): [number, number] {
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    if (s <= p.offset + p.lane.length || i === path.length - 1) {
      const q = p.lane.position(Math.max(0, s - p.offset), 0);
      return [q[0]!, q[1]!];
    }
  }
  const q = path[0]!.lane.position(s, 0);
  return [q[0]!, q[1]!];
}

/** Path distance of a vehicle whose centre lies within `halfWidth` of the path; else null. */
function pathCoordinate(path: readonly PathLane[], v: Vehicle, halfWidth: number): number | null {
  for (const p of path) {
    const { long, lat } = p.lane.localCoordinates(v.x, v.y);
    if (long >= -1 && long <= p.lane.length + 1 && Math.abs(lat) <= halfWidth) return p.offset + long;
  }
  return null;
}

/** Nearest vehicle ahead whose body intrudes into the ego's corridor along the path. */
function corridorFront(path: readonly PathLane[], egoLong: number, ego: Vehicle, others: readonly Vehicle[]): { gap: number; speed: number } {
  let gap = Infinity, speed = 0;
  for (const v of others) {
    const s = pathCoordinate(path, v, ego.width / 2 + v.width / 2 + 0.4);
    if (s === null) continue;
    const d = s - egoLong - (ego.length + v.length) / 2;
    if (s - egoLong > 0 && d < gap) {
      gap = d;
      speed = v.speed;
    }
  }
  return { gap: Math.max(gap, 0), speed };
}
