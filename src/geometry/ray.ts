/**
 * Exact 2-D ray casting: a ray `origin + t * dir` (t >= 0; `dir` need not be unit, distances are
 * in units of |dir|, so pass a unit direction to get metres) against oriented boxes, axis-aligned
 * boxes, segments, circles and corner rings (as built by box.ts). Every function returns the
 * smallest t of a hit, or Infinity. A ray starting inside a box hits it at t = 0 (MetaDrive's
 * lidar ignores only the ego's own body, which callers leave out).
 *
 * `castRays` runs a whole lidar sweep against a set of oriented boxes, with an optional
 * `GridIndex` pre-filter.
 */
import type { GridIndex } from './spatial.js';

/** Slab test against the axis-aligned box [x0, x1] x [y0, y1]. */
export function rayAabb(ox: number, oy: number, dx: number, dy: number, x0: number, y0: number, x1: number, y1: number, maxT = Infinity): number {
  let t0 = 0, t1 = maxT;
  if (dx === 0) {
    if (ox < x0 || ox > x1) return Infinity;
  } else {
    let ta = (x0 - ox) / dx, tb = (x1 - ox) / dx;
    if (ta > tb) [ta, tb] = [tb, ta];
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
    if (t0 > t1) return Infinity;
  }
  if (dy === 0) {
    if (oy < y0 || oy > y1) return Infinity;
  } else {
    let ta = (y0 - oy) / dy, tb = (y1 - oy) / dy;
    if (ta > tb) [ta, tb] = [tb, ta];
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
    if (t0 > t1) return Infinity;
  }
  return t0;
}

/**
 * Ray vs an oriented box centred at (cx, cy) with `heading` and half extents (halfLength
 * along the heading, halfWidth across): the ray is moved into the box frame and slab-tested.
 */
export function rayOrientedBox(
  ox: number, oy: number, dx: number, dy: number,
  cx: number, cy: number, heading: number, halfLength: number, halfWidth: number,
  maxT = Infinity,
): number {
  const c = Math.cos(heading), s = Math.sin(heading);
  const rx = ox - cx, ry = oy - cy;
  const lox = c * rx + s * ry, loy = -s * rx + c * ry;
  const ldx = c * dx + s * dy, ldy = -s * dx + c * dy;
  return rayAabb(lox, loy, ldx, ldy, -halfLength, -halfWidth, halfLength, halfWidth, maxT);
}

/** Ray vs the segment (ax, ay)-(bx, by); collinear overlaps return the nearest overlapping t. */
export function raySegment(ox: number, oy: number, dx: number, dy: number, ax: number, ay: number, bx: number, by: number): number {
  const ex = bx - ax, ey = by - ay;
  const denom = dx * ey - dy * ex;
  const wx = ax - ox, wy = ay - oy;
  if (denom === 0) {
    // Parallel: a hit only when collinear.
    if (wx * dy - wy * dx !== 0) return Infinity;
    const dd = dx * dx + dy * dy;
    if (dd === 0) return Infinity;
    const ta = (wx * dx + wy * dy) / dd;
    const tb = ((bx - ox) * dx + (by - oy) * dy) / dd;
    const lo = Math.min(ta, tb), hi = Math.max(ta, tb);
    if (hi < 0) return Infinity;
    return Math.max(0, lo);
  }
  const t = (wx * ey - wy * ex) / denom;
  const u = (wx * dy - wy * dx) / denom;
  if (t < 0 || u < 0 || u > 1) return Infinity;
  return t;
}

/** Ray vs a circle of radius r centred at (cx, cy); origin inside gives 0. */
export function rayCircle(ox: number, oy: number, dx: number, dy: number, cx: number, cy: number, r: number): number {
  const fx = ox - cx, fy = oy - cy;
  const a = dx * dx + dy * dy;
  const c = fx * fx + fy * fy - r * r;
  if (c <= 0) return 0;
  const b = fx * dx + fy * dy;
  if (b >= 0 || a === 0) return Infinity;
  const disc = b * b - a * c;
  if (disc < 0) return Infinity;
  return (-b - Math.sqrt(disc)) / a;
}

/** Ray vs a closed ring of `n` vertices at `offset` (e.g. a box ring from boxCorners, n = 4). */
export function rayRing(ox: number, oy: number, dx: number, dy: number, ring: ArrayLike<number>, offset = 0, n = (ring.length - offset) / 2): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const t = raySegment(ox, oy, dx, dy, ring[offset + 2 * i]!, ring[offset + 2 * i + 1]!, ring[offset + 2 * j]!, ring[offset + 2 * j + 1]!);
    if (t < best) best = t;
  }
  // A ray starting inside the ring hits it at 0 (same convention as the box functions).
  if (best < Infinity && pointInRing(ox, oy, ring, offset, n)) return 0;
  return best;
}

function pointInRing(px: number, py: number, ring: ArrayLike<number>, offset: number, n: number): boolean {
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = ring[offset + 2 * i]!, yi = ring[offset + 2 * i + 1]!;
    const xj = ring[offset + 2 * j]!, yj = ring[offset + 2 * j + 1]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Oriented boxes for `castRays`: 5 numbers per box (cx, cy, heading, halfLength, halfWidth). */
export const BOX_STRIDE = 5;

export interface CastRaysOptions {
  /** Number of rays (default 240, MetaDrive's lidar). */
  numRays?: number;
  /** Range (default 50 m). */
  range?: number;
  /** Angle of ray 0 relative to `heading` (default 0: straight ahead); rays go counter-clockwise. */
  startAngle?: number;
  /** Index over the boxes' bounds (e.g. `new GridIndex(boxBoundsOf(boxes))`) to skip far ones. */
  index?: GridIndex;
  /** Box to leave out (the ego), -1 for none. */
  exclude?: number;
}

/** Axis-aligned bounds (4 per box) of oriented boxes in the `castRays` layout. */
export function orientedBoxBounds(boxes: ArrayLike<number>, count = boxes.length / BOX_STRIDE, out: Float64Array = new Float64Array(4 * count)): Float64Array {
  for (let i = 0; i < count; i++) {
    const o = BOX_STRIDE * i;
    const c = Math.abs(Math.cos(boxes[o + 2]!)), s = Math.abs(Math.sin(boxes[o + 2]!));
    const hl = boxes[o + 3]!, hw = boxes[o + 4]!;
    const ex = c * hl + s * hw, ey = s * hl + c * hw;
    out[4 * i] = boxes[o]! - ex;
    out[4 * i + 1] = boxes[o + 1]! - ey;
    out[4 * i + 2] = boxes[o]! + ex;
    out[4 * i + 3] = boxes[o + 1]! + ey;
  }
  return out;
}

/**
 * A lidar sweep from (ox, oy): ray i points at `heading + startAngle + i * 2π / numRays`;
 * `out[i]` = hit distance / range, 1 when nothing is within range (MetaDrive's cloud points).
 */
export function castRays(
  ox: number, oy: number, heading: number,
  boxes: ArrayLike<number>, count: number,
  out: Float32Array | Float64Array,
  opts: CastRaysOptions = {},
): Float32Array | Float64Array {
  const numRays = opts.numRays ?? 240;
  const range = opts.range ?? 50;
  const exclude = opts.exclude ?? -1;
  if (out.length < numRays) throw new Error(`castRays: out has ${out.length} entries, needs ${numRays}.`);
  out.fill(1, 0, numRays);
  let cand: number[];
  if (opts.index) cand = opts.index.queryPoint(ox, oy, range);
  else {
    cand = [];
    for (let i = 0; i < count; i++) cand.push(i);
  }
  const step = (2 * Math.PI) / numRays;
  const a0 = heading + (opts.startAngle ?? 0);
  for (const b of cand) {
    if (b === exclude) continue;
    const o = BOX_STRIDE * b;
    const cx = boxes[o]!, cy = boxes[o + 1]!, h = boxes[o + 2]!, hl = boxes[o + 3]!, hw = boxes[o + 4]!;
    const rad = Math.hypot(hl, hw);
    const dist = Math.hypot(cx - ox, cy - oy);
    if (dist - rad > range) continue;
    // Only rays within the box's angular extent can hit it.
    let lo = 0, hi = numRays - 1;
    if (dist > rad) {
      const center = Math.atan2(cy - oy, cx - ox) - a0;
      const half = Math.asin(Math.min(1, rad / dist));
      lo = Math.floor((center - half) / step);
      hi = Math.ceil((center + half) / step);
    }
    for (let k = lo; k <= hi; k++) {
      const i = ((k % numRays) + numRays) % numRays;
      const ang = a0 + i * step;
      const t = rayOrientedBox(ox, oy, Math.cos(ang), Math.sin(ang), cx, cy, h, hl, hw, range);
      if (t < Infinity) {
        const v = t / range;
        if (v < out[i]!) out[i] = v;
      }
    }
  }
  return out;
}
