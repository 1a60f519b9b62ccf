/**
 * Polylines on flat typed arrays `[x0, y0, x1, y1, ...]`: arc length, projection of a point
 * (nearest point, arc-length coordinate, signed offset), interpolation by arc length, heading,
 * resampling. Offsets are positive to the LEFT of the direction of travel (cross product sign);
 * note that MetaDrive lane coordinates (world/lane.ts) use lat positive to the right.
 */

export type Points = ArrayLike<number>;

function count(points: Points): number {
  if (points.length % 2 !== 0) throw new Error(`polyline: expected an even number of coordinates, found ${points.length}.`);
  return points.length / 2;
}

/** Cumulative arc length at every vertex (first entry 0). */
export function cumulativeLengths(points: Points, out?: Float64Array): Float64Array {
  const n = count(points);
  const cum = out ?? new Float64Array(n);
  if (cum.length < n) throw new Error(`cumulativeLengths: out has ${cum.length} entries, needs ${n}.`);
  if (n === 0) return cum;
  cum[0] = 0;
  for (let i = 1; i < n; i++) {
    cum[i] = cum[i - 1]! + Math.hypot(points[2 * i]! - points[2 * i - 2]!, points[2 * i + 1]! - points[2 * i - 1]!);
  }
  return cum;
}

/** Total arc length. */
export function polylineLength(points: Points): number {
  const n = count(points);
  let s = 0;
  for (let i = 1; i < n; i++) s += Math.hypot(points[2 * i]! - points[2 * i - 2]!, points[2 * i + 1]! - points[2 * i - 1]!);
  return s;
}

export interface Projection {
  /** Arc-length coordinate of the nearest point. */
  s: number;
  /** Euclidean distance to the nearest point. */
  distance: number;
  /** Signed offset: +distance when the point is left of the polyline, -distance when right. */
  lateral: number;
  /** Segment index (vertex i to i+1) holding the nearest point. */
  segment: number;
  /** Position of the nearest point within its segment, in [0, 1]. */
  t: number;
  x: number;
  y: number;
}

/**
 * Projects (px, py) onto the polyline: the nearest point over all segments (ties keep the
 * first). `from`/`to` restrict the search to segments [from, to) (e.g. around a previous hit).
 */
export function projectOnPolyline(
  points: Points,
  px: number,
  py: number,
  cum: Float64Array = cumulativeLengths(points),
  from = 0,
  to = count(points) - 1,
): Projection {
  const n = count(points);
  if (n === 0) throw new Error('projectOnPolyline: empty polyline.');
  if (n === 1) {
    const d = Math.hypot(px - points[0]!, py - points[1]!);
    return { s: 0, distance: d, lateral: d, segment: 0, t: 0, x: points[0]!, y: points[1]! };
  }
  const lo = Math.max(0, from);
  const hi = Math.min(n - 1, to);
  let best = Infinity, bestSeg = lo, bestT = 0;
  for (let i = lo; i < hi; i++) {
    const ax = points[2 * i]!, ay = points[2 * i + 1]!;
    const dx = points[2 * i + 2]! - ax, dy = points[2 * i + 3]! - ay;
    const len2 = dx * dx + dy * dy;
    let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const qx = ax + t * dx - px, qy = ay + t * dy - py;
    const d2 = qx * qx + qy * qy;
    if (d2 < best) {
      best = d2;
      bestSeg = i;
      bestT = t;
    }
  }
  const ax = points[2 * bestSeg]!, ay = points[2 * bestSeg + 1]!;
  const dx = points[2 * bestSeg + 2]! - ax, dy = points[2 * bestSeg + 3]! - ay;
  const x = ax + bestT * dx, y = ay + bestT * dy;
  const distance = Math.sqrt(best);
  const cross = dx * (py - ay) - dy * (px - ax);
  return {
    s: cum[bestSeg]! + bestT * (cum[bestSeg + 1]! - cum[bestSeg]!),
    distance,
    lateral: cross >= 0 ? distance : -distance,
    segment: bestSeg,
    t: bestT,
    x,
    y,
  };
}

/** Distance from (px, py) to the polyline. */
export function distanceToPolyline(points: Points, px: number, py: number): number {
  const n = count(points);
  if (n === 1) return Math.hypot(px - points[0]!, py - points[1]!);
  let best = Infinity;
  for (let i = 0; i + 1 < n; i++) {
    const ax = points[2 * i]!, ay = points[2 * i + 1]!;
    const dx = points[2 * i + 2]! - ax, dy = points[2 * i + 3]! - ay;
    const len2 = dx * dx + dy * dy;
    let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const qx = ax + t * dx - px, qy = ay + t * dy - py;
    const d2 = qx * qx + qy * qy;
    if (d2 < best) best = d2;
  }
  return Math.sqrt(best);
}

/** Index i of the segment holding arc length s (cum[i] <= s <= cum[i+1]), by binary search. */
export function segmentAt(cum: Float64Array, s: number, n = cum.length): number {
  if (n < 2) return 0;
  if (s <= cum[0]!) return 0;
  if (s >= cum[n - 1]!) return n - 2;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! <= s) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Point at arc length `s`; `s` outside [0, length] extrapolates along the first / last segment
 * (as shapely's interpolate clamps; pass `clamp = true` for that).
 */
export function interpolatePolyline(
  points: Points,
  s: number,
  cum: Float64Array = cumulativeLengths(points),
  out: Float64Array = new Float64Array(2),
  clamp = false,
): Float64Array {
  const n = count(points);
  if (n === 0) throw new Error('interpolatePolyline: empty polyline.');
  if (n === 1) {
    out[0] = points[0]!;
    out[1] = points[1]!;
    return out;
  }
  const total = cum[n - 1]!;
  const sc = clamp ? Math.min(Math.max(s, 0), total) : s;
  const i = segmentAt(cum, sc, n);
  const segLen = cum[i + 1]! - cum[i]!;
  const t = segLen > 0 ? (sc - cum[i]!) / segLen : 0;
  out[0] = points[2 * i]! + t * (points[2 * i + 2]! - points[2 * i]!);
  out[1] = points[2 * i + 1]! + t * (points[2 * i + 3]! - points[2 * i + 1]!);
  return out;
}

/** Heading (rad) of the segment at arc length `s`. */
export function polylineHeadingAt(points: Points, s: number, cum: Float64Array = cumulativeLengths(points)): number {
  const n = count(points);
  if (n < 2) throw new Error('polylineHeadingAt: needs at least 2 points.');
  let i = segmentAt(cum, s, n);
  // Skip zero-length segments.
  while (i + 1 < n - 1 && cum[i + 1]! - cum[i]! === 0) i++;
  return Math.atan2(points[2 * i + 3]! - points[2 * i + 1]!, points[2 * i + 2]! - points[2 * i]!);
}

/** Points every `step` metres from the start, the end point included. */
export function resamplePolyline(points: Points, step: number): Float64Array {
  if (!(step > 0)) throw new Error(`resamplePolyline: step must be > 0, found ${step}.`);
  const cum = cumulativeLengths(points);
  const n = count(points);
  const total = n ? cum[n - 1]! : 0;
  const m = Math.floor(total / step + 1e-9) + 1;
  const last = total - (m - 1) * step > 1e-9 ? 1 : 0;
  const out = new Float64Array(2 * (m + last));
  const p = new Float64Array(2);
  for (let k = 0; k < m; k++) {
    interpolatePolyline(points, k * step, cum, p, true);
    out[2 * k] = p[0]!;
    out[2 * k + 1] = p[1]!;
  }
  if (last) {
    out[2 * m] = points[2 * n - 2]!;
    out[2 * m + 1] = points[2 * n - 1]!;
  }
  return out;
}

/** A polyline with its cumulative lengths precomputed, for repeated queries. */
export class Polyline {
  readonly points: Float64Array;
  readonly cum: Float64Array;
  readonly length: number;
  readonly count: number;

  constructor(points: Points) {
    this.points = Float64Array.from(points as ArrayLike<number>);
    this.count = count(this.points);
    if (this.count < 2) throw new Error(`Polyline: needs at least 2 points, found ${this.count}.`);
    this.cum = cumulativeLengths(this.points);
    this.length = this.cum[this.count - 1]!;
  }

  project(x: number, y: number, from?: number, to?: number): Projection {
    return projectOnPolyline(this.points, x, y, this.cum, from, to);
  }

  interpolate(s: number, out?: Float64Array, clamp = false): Float64Array {
    return interpolatePolyline(this.points, s, this.cum, out, clamp);
  }

  headingAt(s: number): number {
    return polylineHeadingAt(this.points, s, this.cum);
  }

  distance(x: number, y: number): number {
    return distanceToPolyline(this.points, x, y);
  }

  resample(step: number): Polyline {
    return new Polyline(resamplePolyline(this.points, step));
  }
}
