/**
 * Lane paths for scene generation: a chain of consecutive MetaDrive lanes seen as one curve with
 * an arc-length coordinate `s` (exact lane geometry, no resampling), plus the lane-chain searches
 * that place the ego on the route and the traffic on nearby lanes.
 *
 * Lateral offsets here are positive to the LEFT (world convention); MetaDrive lanes use `lat`
 * positive to the right, so `position(s, left)` calls `lane.position(long, -left)`.
 */
import type { Rng } from '../core/rng.js';
import type { PGMap } from '../world/generator.js';
import type { Lane } from '../world/lane.js';
import { roadKey, type Road, type RoadNetwork } from '../world/network.js';

/** A chain of lanes (each one's end is the next one's start) with arc length `s` from the first start. */
export class LanePath {
  readonly lanes: readonly Lane[];
  /** Arc length at the start of each lane, plus the total length at the end. */
  readonly starts: Float64Array;
  readonly length: number;

  constructor(lanes: readonly Lane[]) {
    if (lanes.length === 0) throw new Error('LanePath: needs at least one lane.');
    this.lanes = lanes;
    this.starts = new Float64Array(lanes.length + 1);
    for (let i = 0; i < lanes.length; i++) this.starts[i + 1] = this.starts[i]! + lanes[i]!.length;
    this.length = this.starts[lanes.length]!;
  }

  /** Index of the lane holding arc length `s` (clamped to the first / last lane). */
  laneIndexAt(s: number): number {
    const n = this.lanes.length;
    if (s <= 0) return 0;
    if (s >= this.length) return n - 1;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= s) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** World point at arc length `s` and `left` metres to the left; beyond the ends it extrapolates along the end tangent. */
  position(s: number, left = 0, out: Float64Array = new Float64Array(2)): Float64Array {
    const i = this.laneIndexAt(s);
    const lane = this.lanes[i]!;
    const long = s - this.starts[i]!;
    if (long < 0 || long > lane.length) {
      const at = long < 0 ? 0 : lane.length;
      lane.position(at, -left, out);
      const h = lane.headingAt(at);
      const d = long - at;
      out[0] = out[0]! + d * Math.cos(h);
      out[1] = out[1]! + d * Math.sin(h);
      return out;
    }
    return lane.position(long, -left, out);
  }

  /** Heading (rad) of the path at `s` (the end headings beyond the ends). */
  heading(s: number): number {
    const i = this.laneIndexAt(s);
    const lane = this.lanes[i]!;
    return lane.headingAt(Math.min(lane.length, Math.max(0, s - this.starts[i]!)));
  }

  /** Signed curvature (1/m, positive turning left) of the centre line at `s`. */
  curvature(s: number): number {
    const lane = this.lanes[this.laneIndexAt(s)]!;
    if (lane.kind === 'straight' || s < 0 || s > this.length) return 0;
    return (lane.clockwise ? -1 : 1) / lane.radius;
  }

  /** The lane at `s`. */
  laneAt(s: number): Lane {
    return this.lanes[this.laneIndexAt(s)]!;
  }

  /**
   * Path coordinates `(s, left)` of a world point, searching lanes that overlap [sFrom, sTo];
   * null when no lane there has the point within `maxLateral` of its centre line.
   */
  locate(x: number, y: number, sFrom: number, sTo: number, maxLateral = 6): { s: number; left: number } | null {
    let best: { s: number; left: number } | null = null;
    const i0 = this.laneIndexAt(sFrom);
    const i1 = this.laneIndexAt(sTo);
    for (let i = i0; i <= i1; i++) {
      const lane = this.lanes[i]!;
      const { long, lat } = lane.localCoordinates(x, y);
      if (long < -0.5 || long > lane.length + 0.5 || Math.abs(lat) > maxLateral) continue;
      if (!best || Math.abs(lat) < Math.abs(best.left)) best = { s: this.starts[i]! + long, left: -lat };
    }
    return best;
  }

  /** Centre line sampled about every `step` metres over [s0, s1] as flat [x, y, heading] * n (both ends included). */
  sample(s0: number, s1: number, step: number): Float64Array {
    const n = Math.max(2, Math.ceil((s1 - s0) / step - 1e-9) + 1);
    const out = new Float64Array(3 * n);
    const p = new Float64Array(2);
    for (let k = 0; k < n; k++) {
      const s = s0 + ((s1 - s0) * k) / (n - 1);
      this.position(s, 0, p);
      out[3 * k] = p[0]!;
      out[3 * k + 1] = p[1]!;
      out[3 * k + 2] = this.heading(s);
    }
    return out;
  }
}

/** Keys of roads whose lanes are tapers (ramp merge/diverge lanes); vehicles never drive them. */
function taperKeys(map: PGMap): Set<string> {
  return new Set(map.tapers.keys());
}

/**
 * For each route road, which lanes can continue lane by lane to the end of the route
 * (`reach[k][i]`, computed backwards from the last road, whose lanes all reach).
 */
export function routeReachability(map: PGMap): boolean[][] {
  const roads = map.routeRoads;
  const tapers = taperKeys(map);
  const reach: boolean[][] = roads.map((r) => r.lanes.map(() => false));
  for (let k = roads.length - 1; k >= 0; k--) {
    const road = roads[k]!;
    const taper = tapers.has(roadKey(road.from, road.to));
    road.lanes.forEach((lane, i) => {
      if (taper) return;
      if (k === roads.length - 1) {
        reach[k]![i] = true;
        return;
      }
      const next = roads[k + 1]!;
      reach[k]![i] = map.network.laneSuccessors(lane).some((l) => l.id.from === next.from && l.id.to === next.to && reach[k + 1]![l.id.index]!);
    });
  }
  return reach;
}

/**
 * The lane chain along the route from lane `laneIndex` of route road `roadIndex` to the end of the
 * route, keeping the lane index where it can (else the nearest reachable index).
 */
export function routeLaneChain(map: PGMap, reach: boolean[][], roadIndex: number, laneIndex: number): Lane[] {
  const roads = map.routeRoads;
  if (!reach[roadIndex]?.[laneIndex]) throw new Error(`routeLaneChain: lane ${laneIndex} of route road ${roadIndex} does not reach the route end.`);
  const out: Lane[] = [roads[roadIndex]!.lanes[laneIndex]!];
  for (let k = roadIndex + 1; k < roads.length; k++) {
    const prev = out[out.length - 1]!;
    const next = roads[k]!;
    const cands = map.network.laneSuccessors(prev).filter((l) => l.id.from === next.from && l.id.to === next.to && reach[k]![l.id.index]);
    cands.sort((a, b) => Math.abs(a.id.index - prev.id.index) - Math.abs(b.id.index - prev.id.index) || a.id.index - b.id.index);
    out.push(cands[0]!);
  }
  return out;
}

/**
 * A random lane chain through `lane`: `back` metres of predecessors and `ahead` metres of
 * successors (fewer where the network ends). Taper roads are avoided. Returns the path and the
 * arc length of `lane`'s start on it.
 */
export function randomLaneChain(map: PGMap, lane: Lane, back: number, ahead: number, rng: Rng): { path: LanePath; laneStart: number } {
  const tapers = taperKeys(map);
  const ok = (l: Lane) => !tapers.has(roadKey(l.id.from, l.id.to));
  const net: RoadNetwork = map.network;
  const before: Lane[] = [];
  let acc = 0;
  let cur = lane;
  while (acc < back) {
    const preds = net.lanePredecessors(cur).filter(ok);
    if (preds.length === 0) break;
    cur = preds.length === 1 ? preds[0]! : rng.choice(preds);
    before.unshift(cur);
    acc += cur.length;
  }
  const after: Lane[] = [];
  acc = lane.length;
  cur = lane;
  while (acc < ahead) {
    const succ = net.laneSuccessors(cur).filter(ok);
    if (succ.length === 0) break;
    cur = succ.length === 1 ? succ[0]! : rng.choice(succ);
    after.push(cur);
    acc += cur.length;
  }
  const path = new LanePath([...before, lane, ...after]);
  return { path, laneStart: path.starts[before.length]! };
}

/** Whether a road carries lane connectors (junction interior). */
export function isConnectorRoad(road: Road): boolean {
  return road.kind === 'junction';
}

/**
 * Curvature speed limits along a path, on a 1 m grid from `s0`: min(v_max, sqrt(a_lat / |kappa|)),
 * then lowered so that every later limit can be reached by braking at `decel` (backward pass).
 */
export function speedProfile(path: LanePath, s0: number, s1: number, vMax: number, aLat: number, decel: number): { s0: number; v: Float64Array } {
  const n = Math.max(2, Math.ceil(s1 - s0) + 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.abs(path.curvature(s0 + i));
    v[i] = k > 1e-6 ? Math.min(vMax, Math.sqrt(aLat / k)) : vMax;
  }
  for (let i = n - 2; i >= 0; i--) v[i] = Math.min(v[i]!, Math.sqrt(v[i + 1]! * v[i + 1]! + 2 * decel));
  return { s0, v };
}

/** Profile value at `s` (linear between grid points, clamped at the ends). */
export function profileAt(p: { s0: number; v: Float64Array }, s: number): number {
  const x = s - p.s0;
  if (x <= 0) return p.v[0]!;
  const n = p.v.length;
  if (x >= n - 1) return p.v[n - 1]!;
  const i = Math.floor(x);
  const t = x - i;
  return p.v[i]! * (1 - t) + p.v[i + 1]! * t;
}
