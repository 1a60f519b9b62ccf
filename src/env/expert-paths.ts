/**
 * Paths for the scripted expert: lane sequences along the ego route or a traffic vehicle's
 * planned road, with path distances, and queries on them.
 */
import type { Lane } from '../world/lane.js';
import type { EnvRoad, RoadMap } from './road-map.js';
import type { Vehicle } from './vehicle.js';

export interface PathLane {
  lane: Lane;
  /** Lane of a junction road (no lane lines). */
  junction?: boolean;
  /** Path distance at the lane start (relative to the lane the ego tracks). */
  offset: number;
}

/**
 * The lane sequence from `lane` along the route (`routeRoads` given) or along same-index
 * successors, until `maxLen` metres.
 */
export function routePath(map: RoadMap, lane: Lane, road: EnvRoad, routeRoads: readonly EnvRoad[] | null, maxLen: number): PathLane[] {
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
export function trafficPath(map: RoadMap, lane: Lane, nextRoad: EnvRoad | null): PathLane[] {
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
export function laneAt(path: readonly PathLane[], s: number): PathLane {
  for (const p of path) if (s <= p.offset + p.lane.length) return p;
  return path[path.length - 1]!;
}

/** Path distance of a vehicle whose centre lies within `halfWidth` of the path; else null. */
export function pathCoordinate(path: readonly PathLane[], v: Vehicle, halfWidth: number): number | null {
  for (const p of path) {
    const { long, lat } = p.lane.localCoordinates(v.x, v.y);
    if (long >= -1 && long <= p.lane.length + 1 && Math.abs(lat) <= halfWidth) return p.offset + long;
  }
  return null;
}

/** Speed of `v` along the path direction at path distance `s` (>= 0). */
export function alongSpeed(path: readonly PathLane[], s: number, v: Vehicle): number {
  const p = laneAt(path, s);
  const h = p.lane.headingAt(Math.min(p.lane.length, Math.max(0, s - p.offset)));
  return Math.max(0, v.speed * Math.cos(v.heading - h));
}


/**
 * Whether a vehicle at path distance `s` moves along the path (a leader to follow) rather than
 * across or against it: stopped, or heading within ~45 degrees of the path direction.
 */
export function movesAlong(path: readonly PathLane[], s: number, v: Vehicle): boolean {
  if (v.speed < 0.5) return true;
  const p = laneAt(path, s);
  const h = p.lane.headingAt(Math.min(p.lane.length, Math.max(0, s - p.offset)));
  return Math.cos(v.heading - h) > 0.7;
}
