/**
 * Planar geometry used by PDM-Closed, with the semantics of the GEOS calls that the Python
 * planner makes through shapely: closed `intersects`, `distance`, area `centroid`, linear
 * referencing (`project`), and the square-capped `buffer` of the driving corridor.
 *
 * Polygons are closed rings: a Float64Array `[x0, y0, x1, y1, ..., x0, y0]` (first point
 * repeated, as shapely stores them). Orientation tests are exact (Shewchuk-style expansion
 * arithmetic, as GEOS's `CGAlgorithmsDD::orientationIndex`), so touching boundaries count the
 * way they do in GEOS.
 */

import { ArrayPack } from '../core/array-pack.js';
import { boxBounds } from '../geometry/box.js';
import { PACIFICA } from './types.js';

export type Ring = Float64Array;

// ---------------------------------------------------------------------------------------------
// Exact orientation

const SPLITTER = 134217729; // 2^27 + 1 (Veltkamp split for doubles)
const ORIENT_ERRBOUND = (3 + 16 * 2 ** -53) * 2 ** -53;

function twoProduct(a: number, b: number, out: number[]): void {
  const x = a * b;
  let c = SPLITTER * a;
  const ahi = c - (c - a);
  const alo = a - ahi;
  c = SPLITTER * b;
  const bhi = c - (c - b);
  const blo = b - bhi;
  const y = alo * blo - (x - ahi * bhi - alo * bhi - ahi * blo);
  out.push(y, x);
}

/** Adds `b` to the nonoverlapping expansion `e` (Shewchuk's Grow-Expansion, zero-eliminating). */
function growExpansion(e: number[], b: number): number[] {
  const h: number[] = [];
  let q = b;
  for (const ei of e) {
    const x = q + ei;
    const bv = x - q;
    const av = x - bv;
    const err = q - av + (ei - bv);
    if (err !== 0) h.push(err);
    q = x;
  }
  if (q !== 0 || h.length === 0) h.push(q);
  return h;
}

function exactOrientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  // det = (bx-ax)(cy-ay) - (by-ay)(cx-ax) = bx*cy - bx*ay - ax*cy - by*cx + by*ax + ay*cx
  const terms: number[] = [];
  twoProduct(bx, cy, terms);
  twoProduct(-bx, ay, terms);
  twoProduct(-ax, cy, terms);
  twoProduct(-by, cx, terms);
  twoProduct(by, ax, terms);
  twoProduct(ay, cx, terms);
  let e: number[] = [0];
  for (const t of terms) if (t !== 0) e = growExpansion(e, t);
  for (let i = e.length - 1; i >= 0; i--) {
    const v = e[i]!;
    if (v > 0) return 1;
    if (v < 0) return -1;
  }
  return 0;
}

/** Orientation of c relative to the directed line a->b: 1 left (CCW), -1 right, 0 collinear. Exact. */
export function orientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const detLeft = (bx - ax) * (cy - ay);
  const detRight = (by - ay) * (cx - ax);
  const det = detLeft - detRight;
  const bound = ORIENT_ERRBOUND * (Math.abs(detLeft) + Math.abs(detRight)) * 4 + 1e-300;
  if (det > bound) return 1;
  if (det < -bound) return -1;
  return exactOrientation(ax, ay, bx, by, cx, cy);
}

// ---------------------------------------------------------------------------------------------
// Rings, boxes, footprints

/** A closed ring from `[[x, y], ...]` (closes it when the last point differs from the first). */
export function ringFromPoints(points: ReadonlyArray<ReadonlyArray<number>>): Ring {
  const n = points.length;
  const first = points[0];
  const last = points[n - 1];
  const closed = n > 0 && first !== undefined && last !== undefined && first[0] === last[0] && first[1] === last[1];
  const m = closed ? n : n + 1;
  const r = new Float64Array(2 * m);
  for (let i = 0; i < n; i++) {
    r[2 * i] = points[i]![0]!;
    r[2 * i + 1] = points[i]![1]!;
  }
  if (!closed && n > 0) {
    r[2 * n] = first![0]!;
    r[2 * n + 1] = first![1]!;
  }
  return r;
}

/**
 * nuPlan `OrientedBox.geometry` ring: FL, RL, RR, FR, FL about the centre, each corner from
 * `translate_longitudinally_and_laterally` (lateral unit vector from cos/sin(h + pi/2)).
 */
export function boxRing(cx: number, cy: number, heading: number, length: number, width: number, out?: Ring): Ring {
  const r = out ?? new Float64Array(10);
  const hl = length / 2;
  const hw = width / 2;
  const c = Math.cos(heading);
  const s = Math.sin(heading);
  const cl = Math.cos(heading + Math.PI / 2);
  const sl = Math.sin(heading + Math.PI / 2);
  // FRONT_LEFT (+hl, +hw), REAR_LEFT (-hl, +hw), REAR_RIGHT (-hl, -hw), FRONT_RIGHT (+hl, -hw)
  r[0] = cx + (hw * cl + hl * c);
  r[1] = cy + (hw * sl + hl * s);
  r[2] = cx + (hw * cl + -hl * c);
  r[3] = cy + (hw * sl + -hl * s);
  r[4] = cx + (-hw * cl + -hl * c);
  r[5] = cy + (-hw * sl + -hl * s);
  r[6] = cx + (-hw * cl + hl * c);
  r[7] = cy + (-hw * sl + hl * s);
  r[8] = r[0];
  r[9] = r[1];
  return r;
}

/** Centre of the ego box from the rear-axle pose (`translate_longitudinally`). */
export function egoCenter(x: number, y: number, heading: number): [number, number] {
  const d = PACIFICA.rearAxleToCenter;
  return [x + d * Math.cos(heading), y + d * Math.sin(heading)];
}

/** `CarFootprint.build_from_rear_axle(pose, pacifica).oriented_box.geometry`. */
export function egoFootprintRing(x: number, y: number, heading: number, out?: Ring): Ring {
  const [cx, cy] = egoCenter(x, y, heading);
  return boxRing(cx, cy, heading, PACIFICA.length, PACIFICA.width, out);
}

export interface BBox {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function ringBBox(r: Ring): BBox {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < r.length; i += 2) {
    const x = r[i]!;
    const y = r[i + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
}

function bboxOverlap(a: BBox, b: BBox, pad = 0): boolean {
  return a.minX <= b.maxX + pad && b.minX <= a.maxX + pad && a.minY <= b.maxY + pad && b.minY <= a.maxY + pad;
}

// ---------------------------------------------------------------------------------------------
// Point location and segment predicates

export const EXTERIOR = 0;
export const BOUNDARY = 1;
export const INTERIOR = 2;

/** Location of a point relative to a ring (GEOS `RayCrossingCounter`): EXTERIOR, BOUNDARY or INTERIOR. */
export function locatePointInRing(px: number, py: number, r: Ring): number {
  let crossings = 0;
  const n = r.length / 2;
  for (let i = 1; i < n; i++) {
    const x1 = r[2 * i - 2]!;
    const y1 = r[2 * i - 1]!;
    const x2 = r[2 * i]!;
    const y2 = r[2 * i + 1]!;
    // point on a vertex / horizontal segment
    if (px === x1 && py === y1) return BOUNDARY;
    if (y1 === py && y2 === py) {
      const minx = Math.min(x1, x2);
      const maxx = Math.max(x1, x2);
      if (px >= minx && px <= maxx) return BOUNDARY;
      continue;
    }
    if ((y1 > py && y2 <= py) || (y2 > py && y1 <= py)) {
      let orient = orientation(x1, y1, x2, y2, px, py);
      if (orient === 0) return BOUNDARY;
      if (y2 < y1) orient = -orient;
      if (orient > 0) crossings++;
    }
  }
  return crossings % 2 === 1 ? INTERIOR : EXTERIOR;
}

function onSegment(ax: number, ay: number, bx: number, by: number, px: number, py: number): boolean {
  return px >= Math.min(ax, bx) && px <= Math.max(ax, bx) && py >= Math.min(ay, by) && py <= Math.max(ay, by);
}

/** Closed segment intersection test (touching and collinear overlap count). */
export function segmentsIntersect(
  ax: number, ay: number, bx: number, by: number,
  cx: number, cy: number, dx: number, dy: number,
): boolean {
  if (Math.max(ax, bx) < Math.min(cx, dx) || Math.max(cx, dx) < Math.min(ax, bx)) return false;
  if (Math.max(ay, by) < Math.min(cy, dy) || Math.max(cy, dy) < Math.min(ay, by)) return false;
  const o1 = orientation(ax, ay, bx, by, cx, cy);
  const o2 = orientation(ax, ay, bx, by, dx, dy);
  const o3 = orientation(cx, cy, dx, dy, ax, ay);
  const o4 = orientation(cx, cy, dx, dy, bx, by);
  if (o1 * o2 < 0 && o3 * o4 < 0) return true;
  if (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) return true;
  if (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) return true;
  if (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) return true;
  if (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by)) return true;
  return false;
}

/** Proper crossing (interiors of both segments cross at one point). */
function segmentsCrossProperly(
  ax: number, ay: number, bx: number, by: number,
  cx: number, cy: number, dx: number, dy: number,
): boolean {
  const o1 = orientation(ax, ay, bx, by, cx, cy);
  const o2 = orientation(ax, ay, bx, by, dx, dy);
  const o3 = orientation(cx, cy, dx, dy, ax, ay);
  const o4 = orientation(cx, cy, dx, dy, bx, by);
  return o1 * o2 < 0 && o3 * o4 < 0;
}

/** Closed-set polygon intersection (shapely `intersects`) of two simple rings. */
export function ringsIntersect(a: Ring, b: Ring, aBox?: BBox, bBox?: BBox): boolean {
  if (!bboxOverlap(aBox ?? ringBBox(a), bBox ?? ringBBox(b))) return false;
  const na = a.length / 2;
  const nb = b.length / 2;
  for (let i = 1; i < na; i++) {
    const ax = a[2 * i - 2]!;
    const ay = a[2 * i - 1]!;
    const bx = a[2 * i]!;
    const by = a[2 * i + 1]!;
    for (let j = 1; j < nb; j++) {
      if (segmentsIntersect(ax, ay, bx, by, b[2 * j - 2]!, b[2 * j - 1]!, b[2 * j]!, b[2 * j + 1]!)) return true;
    }
  }
  if (locatePointInRing(a[0]!, a[1]!, b) !== EXTERIOR) return true;
  if (locatePointInRing(b[0]!, b[1]!, a) !== EXTERIOR) return true;
  return false;
}

/** `a.within(b)` for simple rings: no point of a outside b, and some interior point shared. */
export function ringWithin(a: Ring, b: Ring): boolean {
  const na = a.length / 2;
  const nb = b.length / 2;
  let interior = false;
  for (let i = 0; i < na - 1; i++) {
    const loc = locatePointInRing(a[2 * i]!, a[2 * i + 1]!, b);
    if (loc === EXTERIOR) return false;
    if (loc === INTERIOR) interior = true;
    // edge midpoints catch edges that leave b between two boundary vertices
    const mx = (a[2 * i]! + a[2 * i + 2]!) / 2;
    const my = (a[2 * i + 1]! + a[2 * i + 3]!) / 2;
    const mloc = locatePointInRing(mx, my, b);
    if (mloc === EXTERIOR) return false;
    if (mloc === INTERIOR) interior = true;
  }
  for (let i = 1; i < na; i++) {
    for (let j = 1; j < nb; j++) {
      if (
        segmentsCrossProperly(
          a[2 * i - 2]!, a[2 * i - 1]!, a[2 * i]!, a[2 * i + 1]!,
          b[2 * j - 2]!, b[2 * j - 1]!, b[2 * j]!, b[2 * j + 1]!,
        )
      ) {
        return false;
      }
    }
  }
  if (!interior) {
    const c = ringCentroid(a);
    interior = locatePointInRing(c[0], c[1], b) === INTERIOR;
  }
  return interior;
}

/**
 * Closed intersection of two convex quadrilaterals given as closed rings of 5 points, by the
 * separating-axis test (touching counts).
 */
export function convexQuadsIntersect(a: Ring, b: Ring): boolean {
  return !separatedOnAxesAt(a, 0, b, 0) && !separatedOnAxesAt(b, 0, a, 0);
}

// ---------------------------------------------------------------------------------------------
// Distances (GEOS `Distance::pointToSegment`, `segmentToSegment`, `DistanceOp`)

export function pointToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  if (ax === bx && ay === by) return Math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
  const len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
  const r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2;
  if (r <= 0.0) return Math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
  if (r >= 1.0) return Math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by));
  const s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2;
  return Math.abs(s) * Math.sqrt(len2);
}

export function segmentToSegment(
  ax: number, ay: number, bx: number, by: number,
  cx: number, cy: number, dx: number, dy: number,
): number {
  if (ax === bx && ay === by) return pointToSegment(ax, ay, cx, cy, dx, dy);
  if (cx === dx && cy === dy) return pointToSegment(dx, dy, ax, ay, bx, by);
  let noIntersection = false;
  if (
    Math.max(ax, bx) < Math.min(cx, dx) || Math.max(cx, dx) < Math.min(ax, bx) ||
    Math.max(ay, by) < Math.min(cy, dy) || Math.max(cy, dy) < Math.min(ay, by)
  ) {
    noIntersection = true;
  } else {
    const denom = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
    if (denom === 0) noIntersection = true;
    else {
      const rNum = (ay - cy) * (dx - cx) - (ax - cx) * (dy - cy);
      const sNum = (ay - cy) * (bx - ax) - (ax - cx) * (by - ay);
      const s = sNum / denom;
      const r = rNum / denom;
      if (r < 0 || r > 1 || s < 0 || s > 1) noIntersection = true;
    }
  }
  if (noIntersection) {
    return Math.min(
      pointToSegment(ax, ay, cx, cy, dx, dy),
      pointToSegment(bx, by, cx, cy, dx, dy),
      pointToSegment(cx, cy, ax, ay, bx, by),
      pointToSegment(dx, dy, ax, ay, bx, by),
    );
  }
  return 0.0;
}

/** `pointToSegment` of point `p[ip..ip+1]` and segment `s[is..is+3]` (the same arithmetic, no number boxed across the call). */
function pointToSegmentAt(p: Ring, ip: number, s: Ring, is: number): number {
  const px = p[ip]!, py = p[ip + 1]!;
  const ax = s[is]!, ay = s[is + 1]!, bx = s[is + 2]!, by = s[is + 3]!;
  if (ax === bx && ay === by) return Math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
  const len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
  const r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2;
  if (r <= 0.0) return Math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
  if (r >= 1.0) return Math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by));
  const q = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2;
  return Math.abs(q) * Math.sqrt(len2);
}

/**
 * `segmentToSegment` of the segment of `a` at value index `ia` and the one of `b` at `jb` (the same
 * arithmetic), reading the coordinates from the rings: a coordinate passed to a call V8 does not
 * inline is boxed into a heap number, and the leader search runs this for every candidate pair.
 */
function segmentToSegmentAt(a: Ring, ia: number, b: Ring, jb: number): number {
  const ax = a[ia]!, ay = a[ia + 1]!, bx = a[ia + 2]!, by = a[ia + 3]!;
  const cx = b[jb]!, cy = b[jb + 1]!, dx = b[jb + 2]!, dy = b[jb + 3]!;
  if (ax === bx && ay === by) return pointToSegmentAt(a, ia, b, jb);
  if (cx === dx && cy === dy) return pointToSegmentAt(b, jb + 2, a, ia);
  let noIntersection = false;
  if (
    Math.max(ax, bx) < Math.min(cx, dx) || Math.max(cx, dx) < Math.min(ax, bx) ||
    Math.max(ay, by) < Math.min(cy, dy) || Math.max(cy, dy) < Math.min(ay, by)
  ) {
    noIntersection = true;
  } else {
    const denom = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
    if (denom === 0) noIntersection = true;
    else {
      const rNum = (ay - cy) * (dx - cx) - (ax - cx) * (dy - cy);
      const sNum = (ay - cy) * (bx - ax) - (ax - cx) * (by - ay);
      const s = sNum / denom;
      const r = rNum / denom;
      if (r < 0 || r > 1 || s < 0 || s > 1) noIntersection = true;
    }
  }
  if (noIntersection) {
    return Math.min(pointToSegmentAt(a, ia, b, jb), pointToSegmentAt(a, ia + 2, b, jb), pointToSegmentAt(b, jb, a, ia), pointToSegmentAt(b, jb + 2, a, ia));
  }
  return 0.0;
}

/**
 * Polygon-to-polygon distance (0 when they intersect), as GEOS `DistanceOp`: containment first,
 * then the minimum `segmentToSegment` over all edge pairs. Pairs whose bounding boxes are farther
 * apart than the best distance so far cannot lower the minimum and are skipped (same result).
 */
export function ringDistance(a: Ring, b: Ring): number {
  if (locatePointInRing(a[0]!, a[1]!, b) !== EXTERIOR) return 0;
  if (locatePointInRing(b[0]!, b[1]!, a) !== EXTERIOR) return 0;
  let best = Infinity;
  const na = a.length / 2;
  const nb = b.length / 2;
  for (let i = 1; i < na; i++) {
    const ax = a[2 * i - 2]!, ay = a[2 * i - 1]!, bx = a[2 * i]!, by = a[2 * i + 1]!;
    const aminX = Math.min(ax, bx), amaxX = Math.max(ax, bx), aminY = Math.min(ay, by), amaxY = Math.max(ay, by);
    for (let j = 1; j < nb; j++) {
      const cx = b[2 * j - 2]!, cy = b[2 * j - 1]!, dx = b[2 * j]!, dy = b[2 * j + 1]!;
      if (best !== Infinity) {
        const gx = Math.max(0, Math.min(cx, dx) - amaxX, aminX - Math.max(cx, dx));
        const gy = Math.max(0, Math.min(cy, dy) - amaxY, aminY - Math.max(cy, dy));
        if (Math.sqrt(gx * gx + gy * gy) * (1 - 1e-12) > best) continue;
      }
      const d = segmentToSegmentAt(a, 2 * i - 2, b, 2 * j - 2);
      if (d < best) {
        best = d;
        if (best === 0) return 0;
      }
    }
  }
  return best;
}

/** Distance from a point to a polygon (0 inside). */
export function pointToRingDistance(px: number, py: number, r: Ring): number {
  if (locatePointInRing(px, py, r) !== EXTERIOR) return 0;
  let best = Infinity;
  const n = r.length / 2;
  for (let i = 1; i < n; i++) {
    const d = pointToSegment(px, py, r[2 * i - 2]!, r[2 * i - 1]!, r[2 * i]!, r[2 * i + 1]!);
    if (d < best) best = d;
  }
  return best;
}

/** Area centroid of a ring (GEOS `Centroid`: triangle fan about the first vertex). */
export function ringCentroid(r: Ring): [number, number] {
  const n = r.length / 2;
  const bx = r[0]!;
  const by = r[1]!;
  // GEOS: isPositiveArea = !isCCW(ring); sign flips make the result orientation-independent
  const positive = !ringIsCCW(r);
  const sign = positive ? 1.0 : -1.0;
  let cx3 = 0;
  let cy3 = 0;
  let area2sum = 0;
  for (let i = 0; i < n - 1; i++) {
    const x1 = r[2 * i]!;
    const y1 = r[2 * i + 1]!;
    const x2 = r[2 * i + 2]!;
    const y2 = r[2 * i + 3]!;
    const tx = bx + x1 + x2;
    const ty = by + y1 + y2;
    const a2 = (x1 - bx) * (y2 - by) - (x2 - bx) * (y1 - by);
    cx3 += sign * a2 * tx;
    cy3 += sign * a2 * ty;
    area2sum += sign * a2;
  }
  if (area2sum !== 0) return [cx3 / 3 / area2sum, cy3 / 3 / area2sum];
  // degenerate (zero area): GEOS falls back to the line centroid; the mean of the vertices is close
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n - 1; i++) {
    sx += r[2 * i]!;
    sy += r[2 * i + 1]!;
  }
  return [sx / Math.max(1, n - 1), sy / Math.max(1, n - 1)];
}

/** Ring orientation (GEOS `Orientation::isCCW`, via the signed area). */
export function ringIsCCW(r: Ring): boolean {
  let s = 0;
  const n = r.length / 2;
  for (let i = 0; i < n - 1; i++) s += r[2 * i]! * r[2 * i + 3]! - r[2 * i + 2]! * r[2 * i + 1]!;
  return s > 0;
}

// ---------------------------------------------------------------------------------------------
// Polylines: linear referencing (GEOS `LengthIndexedLine`)

/** `LineString.project(point)`: length along `xy` (interleaved x, y) of the nearest point. */
export function projectOnPolyline(xy: Float64Array, px: number, py: number): number {
  const n = xy.length / 2;
  if (n === 1) return 0;
  let minDistance = Infinity;
  let ptMeasure = 0;
  let segmentStartMeasure = 0;
  for (let i = 0; i < n - 1; i++) {
    const ax = xy[2 * i]!;
    const ay = xy[2 * i + 1]!;
    const bx = xy[2 * i + 2]!;
    const by = xy[2 * i + 3]!;
    const segLen = Math.sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay));
    const segDistance = pointToSegment(px, py, ax, ay, bx, by);
    // LineSegment::projectionFactor
    let pf: number;
    if (px === ax && py === ay) pf = 0;
    else if (px === bx && py === by) pf = 1;
    else {
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      pf = ((px - ax) * dx + (py - ay) * dy) / len2;
    }
    let measure: number;
    if (pf <= 0.0) measure = segmentStartMeasure;
    else if (pf <= 1.0) measure = segmentStartMeasure + pf * segLen;
    else measure = segmentStartMeasure + segLen;
    if (segDistance < minDistance) {
      ptMeasure = measure;
      minDistance = segDistance;
    }
    segmentStartMeasure += segLen;
  }
  return ptMeasure;
}

/** Distance from a point to a polyline. */
export function pointToPolylineDistance(xy: Float64Array, px: number, py: number): number {
  const n = xy.length / 2;
  if (n === 1) return Math.sqrt((px - xy[0]!) ** 2 + (py - xy[1]!) ** 2);
  let best = Infinity;
  for (let i = 0; i < n - 1; i++) {
    const d = pointToSegment(px, py, xy[2 * i]!, xy[2 * i + 1]!, xy[2 * i + 2]!, xy[2 * i + 3]!);
    if (d < best) best = d;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Driving corridor: LineString.buffer(halfWidth, cap_style=square)

/**
 * The square-capped buffer of a polyline, kept in closed form: one rectangle per segment (the
 * end segments lengthened by the radius, which is what a square cap adds) plus a disc at every
 * interior vertex (the round joins; GEOS approximates them with 16 chords per quadrant, which
 * differs from the disc by < 0.12 % of the radius). A single point buffers to an axis-aligned square.
 */
let corridorScratch = new Float64Array(0);

export class Corridor {
  /** Rectangles as closed rings, 10 numbers each (one buffer: no per-rectangle allocation). */
  readonly quads: Float64Array;
  /** Bounds per rectangle: minX, minY, maxX, maxY. */
  readonly quadBoxes: Float64Array;
  readonly numQuads: number;
  readonly joins: Float64Array;
  readonly radius: number;
  readonly bbox: BBox;

  constructor(xy: Float64Array, radius: number) {
    this.radius = radius;
    // drop consecutive duplicates (they add no area); the points only live during construction
    if (corridorScratch.length < xy.length) corridorScratch = new Float64Array(xy.length);
    const pts = corridorScratch;
    let len = 0;
    for (let i = 0; i + 1 < xy.length; i += 2) {
      if (len >= 2 && pts[len - 2] === xy[i] && pts[len - 1] === xy[i + 1]) continue;
      pts[len++] = xy[i]!;
      pts[len++] = xy[i + 1]!;
    }
    const n = len / 2;
    const nq = Math.max(1, n - 1);
    this.numQuads = nq;
    // quads, their boxes and the joins share one backing store (see ArrayPack)
    const nj = n === 1 ? 0 : 2 * Math.max(0, n - 2);
    const pack = new ArrayPack(ArrayPack.f64Bytes(10 * nq + 4 * nq + nj));
    const q = (this.quads = pack.f64(10 * nq));
    const qb = (this.quadBoxes = pack.f64(4 * nq));
    if (n === 1) {
      const x = pts[0]!;
      const y = pts[1]!;
      q.set([x - radius, y - radius, x + radius, y - radius, x + radius, y + radius, x - radius, y + radius, x - radius, y - radius]);
      this.joins = pack.f64(0);
    } else {
      const joins = pack.f64(nj);
      for (let i = 0; i < n - 1; i++) {
        let ax = pts[2 * i]!;
        let ay = pts[2 * i + 1]!;
        let bx = pts[2 * i + 2]!;
        let by = pts[2 * i + 3]!;
        const len = Math.sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay));
        const ux = (bx - ax) / len;
        const uy = (by - ay) / len;
        if (i === 0) {
          ax -= ux * radius;
          ay -= uy * radius;
        }
        if (i === n - 2) {
          bx += ux * radius;
          by += uy * radius;
        }
        const nx = -uy * radius;
        const ny = ux * radius;
        const o = 10 * i;
        q[o] = ax + nx;
        q[o + 1] = ay + ny;
        q[o + 2] = ax - nx;
        q[o + 3] = ay - ny;
        q[o + 4] = bx - nx;
        q[o + 5] = by - ny;
        q[o + 6] = bx + nx;
        q[o + 7] = by + ny;
        q[o + 8] = ax + nx;
        q[o + 9] = ay + ny;
        if (i > 0) {
          joins[2 * i - 2] = pts[2 * i]!;
          joins[2 * i - 1] = pts[2 * i + 1]!;
        }
      }
      this.joins = joins;
    }
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let k = 0; k < nq; k++) {
      boxBounds(q, 10 * k, qb, 4 * k);
      minX = Math.min(minX, qb[4 * k]!);
      minY = Math.min(minY, qb[4 * k + 1]!);
      maxX = Math.max(maxX, qb[4 * k + 2]!);
      maxY = Math.max(maxY, qb[4 * k + 3]!);
    }
    this.bbox = { minX, minY, maxX, maxY };
  }

  /** Closed intersection with a polygon ring. */
  intersects(ring: Ring, box: BBox = ringBBox(ring)): boolean {
    if (!bboxOverlap(this.bbox, box)) return false;
    const quad = ring.length === 10;
    const qb = this.quadBoxes;
    for (let i = 0; i < this.numQuads; i++) {
      if (qb[4 * i]! > box.maxX || qb[4 * i + 2]! < box.minX || qb[4 * i + 1]! > box.maxY || qb[4 * i + 3]! < box.minY) continue;
      if (quad) {
        if (!separatedOnAxesAt(this.quads, 10 * i, ring, 0) && !separatedOnAxesAt(ring, 0, this.quads, 10 * i)) return true;
      } else if (ringsIntersect(this.quads.subarray(10 * i, 10 * i + 10), ring, undefined, box)) {
        return true;
      }
    }
    const r = this.radius;
    for (let i = 0; i < this.joins.length; i += 2) {
      const x = this.joins[i]!;
      const y = this.joins[i + 1]!;
      if (x < box.minX - r || x > box.maxX + r || y < box.minY - r || y > box.maxY + r) continue;
      if (pointToRingDistance(x, y, ring) <= r) return true;
    }
    return false;
  }
}

/** SAT half-test on the 4 edge normals of the quad at `a[ao..]` against the quad at `b[bo..]`. */
function separatedOnAxesAt(a: Float64Array, ao: number, b: Float64Array, bo: number): boolean {
  for (let k = 0; k < 4; k++) {
    const nx = -(a[ao + 2 * k + 3]! - a[ao + 2 * k + 1]!);
    const ny = a[ao + 2 * k + 2]! - a[ao + 2 * k]!;
    let minA = Infinity, maxA = -Infinity, minB = Infinity, maxB = -Infinity;
    for (let i = 0; i < 4; i++) {
      const pa = a[ao + 2 * i]! * nx + a[ao + 2 * i + 1]! * ny;
      if (pa < minA) minA = pa;
      if (pa > maxA) maxA = pa;
      const pb = b[bo + 2 * i]! * nx + b[bo + 2 * i + 1]! * ny;
      if (pb < minB) minB = pb;
      if (pb > maxB) maxB = pb;
    }
    if (maxA < minB || maxB < minA) return true;
  }
  return false;
}
