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
import { boxesOverlap, type Vehicle } from './vehicle.js';

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

interface PathLane {
  lane: Lane;
  /** Lane of a junction road (no lane lines). */
  junction?: boolean;
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
    const pathFront = corridorFront(path, trackLong, ego, others);
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
    // Yield to vehicles whose predicted motion crosses our path (junctions, merges, cut-ins).
    const conflict = Math.min(this.conflictGap(env, path, trackLong, vDesired), this.junctionGap(env, path, trackLong, vDesired));
    if (conflict < front.frontGap) front = { ...front, frontGap: conflict, frontSpeed: 0 };
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

  /**
   * Predicts the ego along its path at max(v, 4 m/s) and every nearby traffic vehicle along its
   * lanes at constant speed for 4 s; at the first overlap of the (inflated) boxes, returns the
   * gap to the point where the ego would be, so that IDM stops before it. Infinity when none.
   */
  private conflictGap(env: DrivingEnv, path: readonly PathLane[], trackLong: number, vDesired: number): number {
    const ego = env.ego;
    const map = env.map;
    const o = this.options;
    const cands: { path: PathLane[]; s0: number; lat: number; latRate: number; latEnd: number; v: Vehicle }[] = [];
    for (const t of env.traffic.alive) {
      const v = t.vehicle;
      if (Math.hypot(v.x - ego.x, v.y - ego.y) > 60 || t.lane === null) continue;
      // Vehicles in our corridor ahead/behind are handled by car following.
      if (pathCoordinate(path, v, ego.width / 2 + v.width / 2 + 0.4) !== null) continue;
      if (v.speed < 0.3) continue;
      const lane = t.lane;
      const p = trafficPath(map, lane, t.policy.nextRoad);
      const loc = lane.localCoordinates(v.x, v.y);
      // Lateral drift relative to the lane (right positive), e.g. a lane change in progress;
      // an IDM lane change just decided counts as moving at >= 1 m/s towards the target lane.
      let latRate = -v.speed * Math.sin(v.heading - lane.headingAt(Math.max(0, Math.min(lane.length, loc.long))));
      let latEnd = loc.lat + Math.sign(latRate) * 4;
      const target = t.policy.steeringTargetLane;
      if (target !== null && target !== lane && map.roadOf(target) === map.roadOf(lane)) {
        const tl = target.localCoordinates(v.x, v.y).lat; // our lat seen from the target lane
        latEnd = loc.lat - tl;
        const dir = Math.sign(latEnd - loc.lat);
        if (latRate * dir < 1) latRate = dir * 1;
      }
      cands.push({ path: p, s0: loc.long, lat: loc.lat, latRate, latEnd, v });
    }
    if (cands.length === 0) return Infinity;
    const pos = new Float64Array(2);
    // The ego's "go" plan: accelerate towards the desired speed (at least 4 m/s).
    const vGoal = Math.max(vDesired, 4);
    let sE = trackLong;
    let vE = ego.speed;
    const dtp = 0.2;
    for (let k = 1; k <= 20; k++) {
      const t = k * dtp;
      const aE = vE < vGoal ? o.idmAccel : 0;
      sE += vE * dtp + 0.5 * aE * dtp * dtp;
      vE = Math.min(vGoal, vE + aE * dtp);
      const le = laneAt(path, sE);
      const longE = Math.min(le.lane.length, sE - le.offset);
      le.lane.position(longE, 0, pos);
      const ex = pos[0]!, ey = pos[1]!, eh = le.lane.headingAt(longE);
      for (const c of cands) {
        const sO = c.s0 + c.v.speed * t;
        const lo = laneAt(c.path, sO);
        const longO = Math.min(lo.lane.length, sO - lo.offset);
        const latO = c.latRate >= 0 ? Math.min(c.latEnd, c.lat + c.latRate * t) : Math.max(c.latEnd, c.lat + c.latRate * t);
        lo.lane.position(longO, latO, pos);
        if (boxesOverlap(ex, ey, eh, ego.length + 2, ego.width + 0.8, pos[0]!, pos[1]!, lo.lane.headingAt(longO), c.v.length, c.v.width)) {
          // The other would be ahead of us at the conflict: stop before it. Beside or behind
          // us (it would run into our side): braking does not help, keep going.
          const fwd = (pos[0]! - ex) * Math.cos(eh) + (pos[1]! - ey) * Math.sin(eh);
          if (fwd < 0) return Infinity;
          // Wait before the junction when the conflict is inside it and we are not in yet.
          for (const p of path) {
            if (p.offset > sE - ego.length / 2) break;
            if (!p.junction) continue;
            const entry = p.offset - trackLong - ego.length / 2 - 1;
            if (entry > 0) return entry;
            break;
          }
          return Math.max(0.1, sE - trackLong - ego.length / 2 - 3);
        }
      }
    }
    return Infinity;
  }

  /**
   * Gap acceptance before a junction: when the next junction on our path starts within 40 m,
   * every moving traffic vehicle is predicted along its lanes; if one comes within 2.8 m
   * (centre to centre) of our junction path while we would be in it, stop at the entry.
   * Once inside a junction we keep going.
   */
  private junctionGap(env: DrivingEnv, path: readonly PathLane[], trackLong: number, vDesired: number): number {
    const ego = env.ego;
    let first = -1;
    for (let i = 0; i < path.length; i++) {
      if (path[i]!.junction) {
        first = i;
        break;
      }
    }
    if (first < 0) return Infinity;
    const entry = path[first]!.offset - trackLong;
    if (entry - ego.length / 2 < 0.5 || entry > 40) return Infinity;
    // Our junction path, sampled every 2 m.
    const pts: number[] = [];
    let jLen = 0;
    const pos = new Float64Array(2);
    for (let i = first; i < path.length && path[i]!.junction; i++) {
      const l = path[i]!.lane;
      for (let s = 0; s <= l.length; s += 2) {
        l.position(s, 0, pos);
        pts.push(pos[0]!, pos[1]!);
      }
      jLen += l.length;
    }
    const vPlan = Math.max(4, Math.min(vDesired, Math.max(ego.speed, 4)));
    const tIn = Math.max(0, (entry - ego.length / 2) / vPlan - 1.5);
    const tOut = (entry + jLen + ego.length) / vPlan + 1.0;
    const map = env.map;
    const c = Math.cos(ego.heading), sn = Math.sin(ego.heading);
    for (const t of env.traffic.alive) {
      const v = t.vehicle;
      if (t.lane === null || v.speed < 0.5) continue;
      const dx = v.x - ego.x, dy = v.y - ego.y;
      if (dx * dx + dy * dy > 80 * 80) continue;
      // Followers (behind us, same direction) are not crossing traffic.
      if (dx * c + dy * sn < 0 && Math.cos(v.heading - ego.heading) > 0.85) continue;
      const lane = t.lane;
      const tp = trafficPath(map, lane, t.policy.nextRoad);
      const s0 = lane.localCoordinates(v.x, v.y).long;
      for (let tt = tIn; tt <= tOut; tt += 0.25) {
        const sO = s0 + v.speed * tt;
        const lo = laneAt(tp, sO);
        lo.lane.position(Math.min(lo.lane.length, sO - lo.offset), 0, pos);
        const px = pos[0]!, py = pos[1]!;
        for (let k = 0; k < pts.length; k += 2) {
          const ddx = pts[k]! - px, ddy = pts[k + 1]! - py;
          if (ddx * ddx + ddy * ddy < 2.8 * 2.8) return Math.max(0.1, entry - ego.length / 2 - 1);
        }
      }
    }
    return Infinity;
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
 * The lane sequence from `lane` along the route (`routeRoads` given) or along same-index
 * successors, until `maxLen` metres.
 */
function routePath(map: RoadMap, lane: Lane, road: EnvRoad, routeRoads: readonly EnvRoad[] | null, maxLen: number): PathLane[] {
  const out: PathLane[] = [{ lane, offset: 0, junction: road.kind === 'junction' }];
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
    out.push({ lane: nextLane, offset, junction: map.roadOf(nextLane).kind === 'junction' });
    offset += nextLane.length;
    cur = nextLane;
  }
  return out;
}

/** A traffic vehicle's lane followed by same-index successors toward its planned next road. */
function trafficPath(map: RoadMap, lane: Lane, nextRoad: EnvRoad | null): PathLane[] {
  const out: PathLane[] = [{ lane, offset: 0 }];
  let cur = lane;
  let offset = lane.length;
  for (let i = 0; i < 3 && offset < 80; i++) {
    const succ = map.successors(cur);
    const onNext = nextRoad !== null && i === 0 ? succ.filter((l) => map.roadOf(l) === nextRoad) : succ;
    const pool = onNext.length > 0 ? onNext : succ;
    const nl = pool.find((l) => l.id.index === cur.id.index) ?? pool[0];
    if (!nl) break;
    out.push({ lane: nl, offset });
    offset += nl.length;
    cur = nl;
  }
  return out;
}

/** The path lane containing path distance `s` (the last one past the end). */
function laneAt(path: readonly PathLane[], s: number): PathLane {
  for (const p of path) if (s <= p.offset + p.lane.length) return p;
  return path[path.length - 1]!;
}

/** Path distance of a vehicle whose centre lies within `halfWidth` of the path; else null. */
function pathCoordinate(path: readonly PathLane[], v: Vehicle, halfWidth: number): number | null {
  for (const p of path) {
    const { long, lat } = p.lane.localCoordinates(v.x, v.y);
    if (long >= -1 && long <= p.lane.length + 1 && Math.abs(lat) <= halfWidth) return p.offset + long;
  }
  return null;
}

/** Speed of `v` along the path direction at path distance `s` (>= 0). */
function alongSpeed(path: readonly PathLane[], s: number, v: Vehicle): number {
  const p = laneAt(path, s);
  const h = p.lane.headingAt(Math.min(p.lane.length, Math.max(0, s - p.offset)));
  return Math.max(0, v.speed * Math.cos(v.heading - h));
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
      speed = alongSpeed(path, s, v);
    }
  }
  return { gap: Math.max(gap, 0), speed };
}
