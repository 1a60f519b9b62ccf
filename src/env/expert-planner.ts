/**
 * Interaction layer of the scripted expert: a longitudinal plan search against predicted
 * traffic occupancy (privileged state).
 *
 * Traffic prediction. Every active traffic vehicle near the ego follows its lanes towards the
 * road its IDM has already chosen (`policy.nextRoad`, so its turn at the next junction is
 * known). Its future distance along that path is an interval: from a slow bound (current speed,
 * mild braking) to a fast bound (full throttle, the vehicle's own engine force, up to a bit
 * above the IDM target speed). A vehicle that is changing lanes, or that must change lanes
 * because its lane does not lead to its next road, also occupies the path of the target lane.
 * IDM traffic sees only the vehicles on its own lane (or the next one), so it neither yields at
 * junctions nor looks before changing into a lane the ego occupies on another road: the expert
 * must stay out of these sets.
 *
 * Plan search. Candidate plans are constant accelerations, from the car-following (IDM)
 * acceleration down to hard braking, with the speed kept in [0, v_desired]. The ego box
 * (inflated) is moved along its route path for each plan; the first plan (fastest) that stays
 * clear of every predicted occupancy over the horizon is executed. A plan that ends inside a
 * junction is followed until it leaves it, since stopping there leaves the ego in the path of
 * crossing traffic. Followers in the ego's own lane are ignored: their IDM follows the ego. When
 * every plan conflicts, the one whose first conflict comes latest wins (braking cannot avoid a
 * car that runs into the ego from behind or from the side; accelerating may).
 */
import type { Lane } from '../world/lane.js';
import type { DrivingEnv } from './env.js';
import { laneLocal } from './lane-math.js';
import type { RoadMap } from './road-map.js';
import { laneAt, movesAlong, pathCoordinate, trafficPath, type PathLane } from './expert-paths.js';
import type { TrafficVehicle } from './traffic.js';
import { IDM } from './idm.js';
import { boxesOverlap, type Vehicle } from './vehicle.js';

export interface PlannerOptions {
  /** Time step (s) and horizon (s) of the prediction; plans ending in a junction run to maxHorizon. */
  dt: number;
  horizon: number;
  maxHorizon: number;
  /** Traffic within this distance (m) of the ego is predicted. */
  range: number;
  /** Ego box inflation (m): added to the length (split front/back) and to the width. */
  lengthMargin: number;
  widthMargin: number;
  /** Slow bound of traffic motion: deceleration (m/s^2) from the current speed. */
  trafficSlowDecel: number;
  /** Fast bound of traffic motion: target speed (m/s) reached at full throttle. */
  trafficFastSpeed: number;
  /** Candidate plan accelerations below the car-following one (m/s^2), descending. */
  accels: readonly number[];
}

export const DEFAULT_PLANNER_OPTIONS: Readonly<PlannerOptions> = Object.freeze({
  dt: 0.25,
  horizon: 5,
  maxHorizon: 9,
  range: 70,
  lengthMargin: 2.0,
  widthMargin: 0.6,
  trafficSlowDecel: 0.5,
  trafficFastSpeed: (IDM.NORMAL_SPEED + 3) / 3.6,
  accels: [1.0, 0, -1.5, -3, -5, -8],
});

/** One hypothesis of a traffic vehicle's motion: its path and lateral offset. */
interface Hypothesis {
  path: PathLane[];
  s0: number;
  lat0: number;
  /** Lateral offset approaches 0 at this rate (m/s); 0 = keeps lat0. */
  latRate: number;
}

interface Actor {
  v: Vehicle;
  hyps: Hypothesis[];
  /** Slow/fast bounds of the distance travelled at each prediction step. */
  lo: Float64Array;
  hi: Float64Array;
  /** Predicted poses: per step, per hypothesis, per sample: x, y, heading. */
  poses: Float64Array;
  samples: number;
  /** Bounding radius around all poses of a step (per step: cx, cy, r). */
  bound: Float64Array;
}

export interface PlanDebug {
  actors: number;
  chosen: number;
  firstConflict: number;
  conflictWith: number;
}

const SCRATCH = new Float64Array(2);

export class InteractionPlanner {
  readonly options: PlannerOptions;
  /** The last decision (for debugging and tests). */
  last: PlanDebug = { actors: 0, chosen: 0, firstConflict: Infinity, conflictWith: -1 };

  constructor(options: Partial<PlannerOptions> = {}) {
    this.options = { ...DEFAULT_PLANNER_OPTIONS, ...options };
  }

  /**
   * The acceleration to execute: `aFollow` (car following) when its plan is clear, else the
   * fastest clear lower plan, else the plan whose first conflict comes last.
   */
  choose(env: DrivingEnv, path: readonly PathLane[], egoS: number, egoLat: number, aFollow: number, vDesired: number): number {
    const o = this.options;
    const steps = Math.round(o.maxHorizon / o.dt);
    const actors = this.predict(env, path, egoS, steps);
    this.last = { actors: actors.length, chosen: aFollow, firstConflict: Infinity, conflictWith: -1 };
    if (actors.length === 0) return aFollow;
    const cands = [aFollow];
    for (const a of o.accels) if (a < aFollow - 1e-9) cands.push(a);
    // With the safety margins first; when no plan is clear with them, with the bare boxes.
    let best = aFollow;
    let bestT = -1;
    let bestWith = -1;
    for (const margins of [true, false]) {
      bestT = -1;
      for (const a of cands) {
        const r = this.firstConflict(env, path, egoS, egoLat, a, vDesired, actors, steps, margins);
        if (r.t === Infinity) {
          this.last.chosen = a;
          return a;
        }
        // The latest first conflict; on a tie, the slower plan if the other vehicle is ahead.
        if (r.t > bestT + 1e-9 || (Math.abs(r.t - bestT) <= 1e-9 && r.ahead)) {
          bestT = r.t;
          best = a;
          bestWith = r.id;
        }
      }
    }
    this.last.chosen = best;
    this.last.firstConflict = bestT;
    this.last.conflictWith = bestWith;
    return best;
  }

  /** Time of the first predicted overlap of plan `a` with any actor (Infinity when none). */
  private firstConflict(
    env: DrivingEnv, path: readonly PathLane[], egoS: number, egoLat: number, a: number, vDesired: number, actors: readonly Actor[], steps: number, margins: boolean,
  ): { t: number; id: number; ahead: boolean } {
    const o = this.options;
    const ego = env.ego;
    const L = ego.length + (margins ? o.lengthMargin : 0);
    const W = ego.width + (margins ? o.widthMargin : 0);
    const reach = Math.sqrt((L / 2) * (L / 2) + (W / 2) * (W / 2));
    const vCap = Math.max(vDesired, 0);
    let s = egoS;
    let v = ego.speed;
    const horizonSteps = Math.round(o.horizon / o.dt);
    // Lane changes: the lateral offset from the tracked path shrinks at ~1.2 m/s.
    const latTime = Math.max(1, Math.abs(egoLat) / 1.2);
    const pos = SCRATCH;
    for (let k = 1; k <= steps; k++) {
      const t = k * o.dt;
      const vNext = Math.min(Math.max(v + a * o.dt, 0), Math.max(vCap, a < 0 ? 0 : v));
      s += 0.5 * (v + vNext) * o.dt;
      v = vNext;
      const p = laneAt(path, s);
      const long = Math.min(p.lane.length, s - p.offset);
      const lat = egoLat * Math.max(0, 1 - t / latTime);
      p.lane.position(long, lat, pos);
      const ex = pos[0]!, ey = pos[1]!;
      const eh = p.lane.headingAt(long);
      for (const act of actors) {
        const b = (k - 1) * 3;
        const dx = act.bound[b]! - ex, dy = act.bound[b + 1]! - ey;
        const rr = act.bound[b + 2]! + reach;
        if (dx * dx + dy * dy > rr * rr) continue;
        const n = act.hyps.length * act.samples;
        const base = (k - 1) * n * 3;
        for (let i = 0; i < n; i++) {
          const q = base + i * 3;
          if (boxesOverlap(ex, ey, eh, L, W, act.poses[q]!, act.poses[q + 1]!, act.poses[q + 2]!, act.v.length, act.v.width)) {
            const ahead = (act.poses[q]! - ex) * Math.cos(eh) + (act.poses[q + 1]! - ey) * Math.sin(eh) > 0;
            return { t, id: act.v.id, ahead };
          }
        }
      }
      if (k >= horizonSteps && !inJunction(path, s, ego.length)) break;
    }
    return { t: Infinity, id: -1, ahead: false };
  }

  /** Predicted occupancy of the traffic that matters to the ego. */
  private predict(env: DrivingEnv, path: readonly PathLane[], egoS: number, steps: number): Actor[] {
    const o = this.options;
    const ego = env.ego;
    const map = env.map;
    const egoLane = env.navigation.currentLane;
    const out: Actor[] = [];
    for (const t of env.traffic.alive) {
      const v = t.vehicle;
      if (!t.active || t.lane === null) continue;
      const dx = v.x - ego.x, dy = v.y - ego.y;
      if (dx * dx + dy * dy > o.range * o.range) continue;
      // A leader on a lane of our path: car following handles it. (A vehicle merging from
      // another lane, e.g. a connector into the same exit, stays in the prediction.)
      if (onPath(path, t.lane)) {
        const s = pathCoordinate(path, v, ego.width / 2 + v.width / 2 + 0.4);
        if (s !== null && s > egoS && movesAlong(path, s, v)) continue;
      }
      // Followers whose IDM sees the ego (our lane is their lane or their next lane).
      if (isFollower(t, egoLane, map, ego, dx, dy)) continue;
      const hyps = hypotheses(t, env);
      if (hyps.length === 0) continue;
      out.push(this.actorPoses(t, hyps, steps));
    }
    return out;
  }

  private actorPoses(t: TrafficVehicle, hyps: Hypothesis[], steps: number): Actor {
    const o = this.options;
    const v = t.vehicle;
    const lo = new Float64Array(steps + 1);
    const hi = new Float64Array(steps + 1);
    const aMax = Math.min((4 * v.maxEngineForce) / v.params.mass, 2 * v.params.friction * 9.81);
    const vFast = Math.max(v.speed, o.trafficFastSpeed);
    let vl = v.speed, vh = v.speed;
    for (let k = 1; k <= steps; k++) {
      const vl2 = Math.max(0, vl - o.trafficSlowDecel * o.dt);
      lo[k] = lo[k - 1]! + 0.5 * (vl + vl2) * o.dt;
      vl = vl2;
      const vh2 = Math.min(vFast, vh + aMax * o.dt);
      hi[k] = hi[k - 1]! + 0.5 * (vh + vh2) * o.dt;
      vh = vh2;
    }
    // Samples along [lo, hi] no further apart than 60 % of the vehicle length.
    const spread = hi[steps]! - lo[steps]!;
    const samples = Math.max(2, Math.min(12, Math.ceil(spread / (0.6 * v.length)) + 1));
    const poses = new Float64Array(steps * hyps.length * samples * 3);
    const bound = new Float64Array(steps * 3);
    const pos = SCRATCH;
    for (let k = 1; k <= steps; k++) {
      const time = k * o.dt;
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      for (let h = 0; h < hyps.length; h++) {
        const hy = hyps[h]!;
        const lat = hy.latRate > 0 ? Math.sign(hy.lat0) * Math.max(0, Math.abs(hy.lat0) - hy.latRate * time) : hy.lat0;
        for (let j = 0; j < samples; j++) {
          const d = lo[k]! + ((hi[k]! - lo[k]!) * j) / (samples - 1);
          const sO = hy.s0 + d;
          const p = laneAt(hy.path, sO);
          const long = Math.min(p.lane.length, sO - p.offset);
          p.lane.position(long, lat, pos);
          const q = (((k - 1) * hyps.length + h) * samples + j) * 3;
          poses[q] = pos[0]!;
          poses[q + 1] = pos[1]!;
          poses[q + 2] = p.lane.headingAt(long);
          if (pos[0]! < minX) minX = pos[0]!;
          if (pos[0]! > maxX) maxX = pos[0]!;
          if (pos[1]! < minY) minY = pos[1]!;
          if (pos[1]! > maxY) maxY = pos[1]!;
        }
      }
      const b = (k - 1) * 3;
      bound[b] = (minX + maxX) / 2;
      bound[b + 1] = (minY + maxY) / 2;
      const hx = (maxX - minX) / 2, hyy = (maxY - minY) / 2;
      bound[b + 2] = Math.sqrt(hx * hx + hyy * hyy) + Math.sqrt(v.length * v.length + v.width * v.width) / 2;
    }
    return { v, hyps, lo, hi, poses, samples, bound };
  }
}

function onPath(path: readonly PathLane[], lane: Lane): boolean {
  for (const p of path) if (p.lane === lane) return true;
  return false;
}

/** Whether `s` (ego centre) puts the ego body on a junction lane of the path. */
function inJunction(path: readonly PathLane[], s: number, egoLength: number): boolean {
  for (const p of path) {
    if (!p.junction) continue;
    if (s + egoLength / 2 >= p.offset && s - egoLength / 2 <= p.offset + p.lane.length) return true;
  }
  return false;
}

/**
 * A traffic vehicle behind the ego whose IDM has the ego as its front object (same lane, or
 * the ego on its next lane), so it follows the ego.
 */
function isFollower(t: TrafficVehicle, egoLane: Lane, map: RoadMap, ego: Vehicle, dx: number, dy: number): boolean {
  const c = Math.cos(ego.heading), s = Math.sin(ego.heading);
  if (dx * c + dy * s >= 0) return false;
  const lane = t.policy.routingTargetLane ?? t.lane;
  if (lane === null) return false;
  if (lane === egoLane) return true;
  for (const n of map.successors(lane)) if (n === egoLane) return true;
  return false;
}

/** The motion hypotheses of a traffic vehicle: its lane, plus a lane it is changing (or must change) to. */
function hypotheses(t: TrafficVehicle, env: DrivingEnv): Hypothesis[] {
  const map = env.map;
  const v = t.vehicle;
  const lane = t.lane!;
  const next = t.policy.nextRoad;
  const out: Hypothesis[] = [];
  laneLocal(lane, v.x, v.y, SCRATCH);
  out.push({ path: trafficPath(map, lane, next), s0: SCRATCH[0]!, lat0: SCRATCH[1]!, latRate: 0.8 });
  const road = map.roadOf(lane);
  let target = t.policy.steeringTargetLane;
  if (target === null || target === lane || map.roadOf(target) !== road) {
    target = null;
    // Its lane does not lead to its next road: its IDM will move towards a lane that does.
    if (next !== null && road.lanes.length > 1 && !map.successors(lane).some((l) => map.roadOf(l) === next)) {
      const idx = road.lanes.indexOf(lane);
      const okIdx = road.lanes.findIndex((l) => map.successors(l).some((n) => map.roadOf(n) === next));
      if (okIdx >= 0) target = road.lanes[okIdx < idx ? idx - 1 : idx + 1] ?? null;
    }
  }
  if (target !== null) {
    laneLocal(target, v.x, v.y, SCRATCH);
    out.push({ path: trafficPath(map, target, next), s0: SCRATCH[0]!, lat0: SCRATCH[1]!, latRate: 1.5 });
  }
  return out;
}
