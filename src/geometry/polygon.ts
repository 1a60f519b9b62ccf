/**
 * Planar polygon predicates with shapely / GEOS semantics, on flat Float64Array rings.
 *
 * A ring is a Float64Array `[x0, y0, x1, y1, ...]` of n vertices, open (the closing edge from the
 * last vertex back to the first is implicit; a repeated closing vertex is tolerated and only adds a
 * zero-length edge). Polygons are a shell ring plus optional hole rings.
 *
 * Semantics follow GEOS, which shapely 2 calls:
 * - orientation uses an exact predicate (a floating filter, then exact BigInt arithmetic), like
 *   GEOS `Orientation::index`;
 * - point location uses GEOS `RayCrossingCounter` rules (upward edges include their start vertex,
 *   downward edges their end vertex; a point on any edge is ON the boundary);
 * - `intersects` is closed: touching boundaries count; `containsStrict` (shapely `contains` of a
 *   point, `within`) excludes the boundary;
 * - the centroid is GEOS `Centroid` (area-weighted fan triangles from the first vertex).
 */
import { ArrayPack } from '../core/array-pack.js';

/** Point location relative to an area. */
export const enum Location {
  Exterior = 0,
  Boundary = 1,
  Interior = 2,
}

// ---------------------------------------------------------------------------------------------
// Exact orientation
// ---------------------------------------------------------------------------------------------

const EPS = 2 ** -53;
/** Shewchuk's ccwerrboundA. */
const CCW_ERRBOUND_A = (3 + 16 * EPS) * EPS;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Exact value of a finite double times 2^1074, as a BigInt. */
function scaledBigInt(v: number): bigint {
  f64[0] = v;
  const hi = LITTLE_ENDIAN ? u32[1]! : u32[0]!;
  const lo = LITTLE_ENDIAN ? u32[0]! : u32[1]!;
  const negative = hi >>> 31 === 1;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let shift = 0;
  if (exp !== 0) {
    mant |= 1n << 52n;
    shift = exp - 1;
  }
  const r = mant << BigInt(shift);
  return negative ? -r : r;
}

function exactOrient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const AX = scaledBigInt(ax);
  const AY = scaledBigInt(ay);
  const BX = scaledBigInt(bx);
  const BY = scaledBigInt(by);
  const CX = scaledBigInt(cx);
  const CY = scaledBigInt(cy);
  const det = (AX - CX) * (BY - CY) - (AY - CY) * (BX - CX);
  return det > 0n ? 1 : det < 0n ? -1 : 0;
}

/**
 * Sign of the orientation of c relative to the directed line a -> b: +1 if c is to the left
 * (counter-clockwise), -1 to the right, 0 if collinear. Exact for finite inputs.
 */
export function orient2d(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const detLeft = (ax - cx) * (by - cy);
  const detRight = (ay - cy) * (bx - cx);
  const det = detLeft - detRight;
  let detSum: number;
  if (detLeft > 0) {
    if (detRight <= 0) return det > 0 ? 1 : det < 0 ? -1 : 0;
    detSum = detLeft + detRight;
  } else if (detLeft < 0) {
    if (detRight >= 0) return det > 0 ? 1 : det < 0 ? -1 : 0;
    detSum = -detLeft - detRight;
  } else {
    return det > 0 ? 1 : det < 0 ? -1 : 0;
  }
  const errBound = CCW_ERRBOUND_A * detSum;
  if (det >= errBound || -det >= errBound) return det > 0 ? 1 : -1;
  if (!Number.isFinite(det)) return det > 0 ? 1 : det < 0 ? -1 : 0;
  return exactOrient(ax, ay, bx, by, cx, cy);
}

// ---------------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------------

/** Closed segment intersection test (touching endpoints and collinear overlap count). */
export function segmentsIntersect(
  p1x: number, p1y: number, p2x: number, p2y: number,
  q1x: number, q1y: number, q2x: number, q2y: number,
): boolean {
  // envelope test first (GEOS LineIntersector)
  if (Math.min(p1x, p2x) > Math.max(q1x, q2x) || Math.max(p1x, p2x) < Math.min(q1x, q2x)) return false;
  if (Math.min(p1y, p2y) > Math.max(q1y, q2y) || Math.max(p1y, p2y) < Math.min(q1y, q2y)) return false;
  const pq1 = orient2d(p1x, p1y, p2x, p2y, q1x, q1y);
  const pq2 = orient2d(p1x, p1y, p2x, p2y, q2x, q2y);
  if ((pq1 > 0 && pq2 > 0) || (pq1 < 0 && pq2 < 0)) return false;
  const qp1 = orient2d(q1x, q1y, q2x, q2y, p1x, p1y);
  const qp2 = orient2d(q1x, q1y, q2x, q2y, p2x, p2y);
  if ((qp1 > 0 && qp2 > 0) || (qp1 < 0 && qp2 < 0)) return false;
  // collinear case: the envelopes overlap (checked above), so the segments overlap
  return true;
}

/** GEOS `Distance::pointToSegment`. */
export function pointSegmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  if (ax === bx && ay === by) return Math.hypot(px - ax, py - ay);
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const r = ((px - ax) * dx + (py - ay) * dy) / len2;
  if (r <= 0) return Math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
  if (r >= 1) return Math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by));
  const s = ((ay - py) * dx - (ax - px) * dy) / len2;
  return Math.abs(s) * Math.sqrt(len2);
}

// ---------------------------------------------------------------------------------------------
// Point in ring (GEOS RayCrossingCounter)
// ---------------------------------------------------------------------------------------------

/**
 * Accumulates GEOS ray-crossing rules for one segment. Returns -1 if the point is on the
 * segment, 1 if the segment crosses the ray to the right of the point, else 0.
 */
function countSegment(px: number, py: number, x1: number, y1: number, x2: number, y2: number): number {
  if (x1 < px && x2 < px) return 0;
  if (px === x2 && py === y2) return -1;
  if (y1 === py && y2 === py) {
    const minx = x1 < x2 ? x1 : x2;
    const maxx = x1 < x2 ? x2 : x1;
    return px >= minx && px <= maxx ? -1 : 0;
  }
  if ((y1 > py && y2 <= py) || (y2 > py && y1 <= py)) {
    // both ends right of the point: the edge crosses the ray to +x right of it (the exact
    // orientation below would say so too), the usual case for the ray of an interior point
    if (x1 > px && x2 > px) return 1;
    let o = orient2d(x1, y1, x2, y2, px, py);
    if (o === 0) return -1;
    if (y2 < y1) o = -o;
    return o > 0 ? 1 : 0;
  }
  return 0;
}

/** Location of a point relative to a single ring (GEOS semantics, brute force over edges). */
export function locatePointInRing(px: number, py: number, ring: ArrayLike<number>): Location {
  return locatePointInRingN(px, py, ring, ring.length >> 1);
}

/** Signed area of a ring (positive for counter-clockwise). */
export function ringSignedArea(ring: ArrayLike<number>): number {
  const n = ring.length >> 1;
  let s = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) s += ring[2 * j]! * ring[2 * i + 1]! - ring[2 * i]! * ring[2 * j + 1]!;
  return s / 2;
}

/**
 * GEOS `Centroid` of a simple polygon shell (no holes): fan triangles from the first vertex,
 * weighted by their doubled signed area. Writes x, y into `out` and returns it. Falls back to the
 * vertex mean for a zero-area ring.
 */
export function ringCentroid(ring: ArrayLike<number>, out: Float64Array = new Float64Array(2)): Float64Array {
  const n = ring.length >> 1;
  const bx = ring[0]!;
  const by = ring[1]!;
  let cx = 0;
  let cy = 0;
  let area2 = 0;
  // GEOS iterates the closed coordinate sequence; the closing triangle is degenerate
  const positive = ringSignedArea(ring) <= 0; // GEOS: isPositiveArea = !isCCW
  const sign = positive ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const j = i + 1 === n ? 0 : i + 1;
    const p1x = ring[2 * i]!;
    const p1y = ring[2 * i + 1]!;
    const p2x = ring[2 * j]!;
    const p2y = ring[2 * j + 1]!;
    const a2 = (p1x - bx) * (p2y - by) - (p2x - bx) * (p1y - by);
    cx += sign * a2 * (bx + p1x + p2x);
    cy += sign * a2 * (by + p1y + p2y);
    area2 += sign * a2;
  }
  if (Math.abs(area2) > 0) {
    out[0] = cx / 3 / area2;
    out[1] = cy / 3 / area2;
  } else {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sx += ring[2 * i]!;
      sy += ring[2 * i + 1]!;
    }
    out[0] = n > 0 ? sx / n : NaN;
    out[1] = n > 0 ? sy / n : NaN;
  }
  return out;
}

/** Axis-aligned bounding box of a flat point array: [minX, minY, maxX, maxY]. */
export function ringBounds(ring: ArrayLike<number>, out: Float64Array = new Float64Array(4)): Float64Array {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < ring.length; i += 2) {
    const x = ring[i]!;
    const y = ring[i + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  out[0] = minX;
  out[1] = minY;
  out[2] = maxX;
  out[3] = maxY;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prepared polygon: y-band index over all ring edges (GEOS IndexedPointInAreaLocator analogue)
// ---------------------------------------------------------------------------------------------

/**
 * A polygon (shell + holes) prepared for fast repeated point location and intersection tests.
 * Edges of all rings are bucketed into horizontal bands; a point query only visits the edges of
 * its band, which gives exactly the result of the full ray-crossing count.
 */
const EMPTY_I32 = new Int32Array(0);
let edgeScratch = new Float64Array(0);
let countScratch = new Int32Array(0);
let rangeScratch = new Int32Array(0);
// cell grid states
const CELL_UNKNOWN = 0;
const CELL_EXTERIOR = 1;
const CELL_INTERIOR = 2;
const CELL_BOUNDARY = 3;

export class PreparedPolygon {
  /**
   * Point queries after which the cell grid is built. An exact band query is cheap (a few edges),
   * so the grid only pays off for polygons queried thousands of times (GRPO: many proposals of one
   * scene); scoring a scene once stays on the exact test.
   */
  static cellGridAfterQueries = 4096;
  /** [minX, minY, maxX, maxY] (of the shell). */
  readonly bounds: Float64Array;
  readonly rings: readonly Float64Array[];
  readonly numEdges: number;
  // edge list and y-band index, built on first use (many map polygons are never queried)
  private edgeList: Float64Array | null = null;
  private bandStart: Int32Array = EMPTY_I32;
  private bandEdges: Int32Array = EMPTY_I32;
  private numBands = 1;
  private y0 = 0;
  private invBandHeight = 0;
  // lazily built cell grid (CELL_* states), cells classified by their first query
  private queries = 0;
  private cells: Uint8Array | null = null;
  private cellSize = 1;
  private cx0 = 0;
  private cy0 = 0;
  private ncx = 0;
  private ncy = 0;

  constructor(shell: Float64Array, holes: readonly Float64Array[] = []) {
    const rings = holes.length === 0 ? [stripClosingVertex(shell)] : [stripClosingVertex(shell), ...holes.map(stripClosingVertex)];
    this.rings = rings;
    let m = 0;
    for (const r of rings) m += r.length >= 6 ? r.length >> 1 : 0;
    this.numEdges = m;
    this.bounds = ringBounds(rings[0]!);
  }

  /** Edge endpoints, 4 numbers per edge: x1, y1, x2, y2. */
  get edges(): Float64Array {
    return this.edgeList ?? this.buildIndex();
  }

  private buildIndex(): Float64Array {
    const m = this.numEdges;
    const minY = this.bounds[1]!;
    const maxY = this.bounds[3]!;
    const height = maxY - minY;
    const numBands = m > 0 && height > 0 && Number.isFinite(height) ? Math.max(1, Math.min(4096, m)) : 1;
    this.numBands = numBands;
    this.y0 = Number.isFinite(minY) ? minY : 0;
    this.invBandHeight = numBands > 1 ? numBands / height : 0;
    // edges, their band ranges and the band counts go through scratch buffers first (one pass);
    // the index keeps one backing store for edges, band starts and band edges (see ArrayPack)
    if (edgeScratch.length < 4 * m) edgeScratch = new Float64Array(4 * m);
    if (rangeScratch.length < 2 * m) rangeScratch = new Int32Array(2 * m);
    if (countScratch.length < 2 * (numBands + 1)) countScratch = new Int32Array(2 * (numBands + 1));
    const edges = edgeScratch;
    const ranges = rangeScratch;
    const counts = countScratch.subarray(0, numBands + 1);
    counts.fill(0);
    let e = 0;
    for (const r of this.rings) {
      const n = r.length >> 1;
      if (n < 3) continue;
      for (let i = 0; i < n; i++, e++) {
        const j = i + 1 === n ? 0 : i + 1;
        const ya = r[2 * i + 1]!;
        const yb = r[2 * j + 1]!;
        edges[4 * e] = r[2 * i]!;
        edges[4 * e + 1] = ya;
        edges[4 * e + 2] = r[2 * j]!;
        edges[4 * e + 3] = yb;
        const b0 = this.band(Math.min(ya, yb));
        const b1 = this.band(Math.max(ya, yb));
        ranges[2 * e] = b0;
        ranges[2 * e + 1] = b1;
        for (let b = b0; b <= b1; b++) counts[b + 1]!++;
      }
    }
    for (let b = 0; b < numBands; b++) counts[b + 1]! += counts[b]!;
    const fill = countScratch.subarray(numBands + 1, 2 * numBands + 1);
    fill.set(counts.subarray(0, numBands));
    const total = counts[numBands]!;
    const pack = new ArrayPack(ArrayPack.f64Bytes(4 * m) + ArrayPack.i32Bytes(numBands + 1) + ArrayPack.i32Bytes(total));
    const edgeList = pack.f64(4 * m);
    edgeList.set(edges.subarray(0, 4 * m));
    const bandStart = pack.i32(numBands + 1);
    bandStart.set(counts);
    const bandEdges = pack.i32(total);
    for (let k = 0; k < m; k++) {
      for (let b = ranges[2 * k]!, b1 = ranges[2 * k + 1]!; b <= b1; b++) bandEdges[fill[b]!++] = k;
    }
    this.bandStart = bandStart;
    this.bandEdges = bandEdges;
    this.edgeList = edgeList;
    return edgeList;
  }

  private band(y: number): number {
    if (this.numBands === 1) return 0;
    const b = Math.floor((y - this.y0) * this.invBandHeight);
    return b < 0 ? 0 : b >= this.numBands ? this.numBands - 1 : b;
  }

  /** Location of a point (GEOS semantics over shell and holes). */
  locate(px: number, py: number): Location {
    const bb = this.bounds;
    if (!(px >= bb[0]! && px <= bb[2]! && py >= bb[1]! && py <= bb[3]!)) return Location.Exterior;
    if (this.cells === null) {
      if (++this.queries === PreparedPolygon.cellGridAfterQueries) this.buildCells();
    } else {
      const i = Math.floor((px - this.cx0) / this.cellSize);
      const j = Math.floor((py - this.cy0) / this.cellSize);
      if (i >= 0 && j >= 0 && i < this.ncx && j < this.ncy) {
        const k = j * this.ncx + i;
        const c = this.cells[k]!;
        if (c === CELL_INTERIOR) return Location.Interior;
        if (c === CELL_EXTERIOR) return Location.Exterior;
        if (c === CELL_UNKNOWN) {
          // no edge touches this cell: every point of it has the query's location
          const loc = this.locateExact(px, py);
          if (loc !== Location.Boundary) this.cells[k] = loc === Location.Interior ? CELL_INTERIOR : CELL_EXTERIOR;
          return loc;
        }
      }
    }
    return this.locateExact(px, py);
  }

  /**
   * Builds a uniform grid over the bounds (up to 16384 cells) and marks every cell an edge may
   * touch (a conservative cover: each edge is split into pieces no longer than a cell, whose
   * slightly padded boxes are marked). An unmarked cell lies entirely inside or outside, so the
   * exact location of the first query in it classifies the whole cell; later queries there need
   * no edge loop. Marked cells always use the exact ray-crossing test. Building costs only the
   * edge rasterisation, so the grid pays off even for a single scene.
   */
  private buildCells(): void {
    const bb = this.bounds;
    const w = bb[2]! - bb[0]!;
    const h = bb[3]! - bb[1]!;
    if (!(w > 0 && h > 0 && Number.isFinite(w + h))) return;
    const cs = Math.max(Math.sqrt((w * h) / 16384), Math.max(w, h) / 4096);
    const ncx = Math.floor(w / cs) + 1;
    const ncy = Math.floor(h / cs) + 1;
    const cells = new Uint8Array(ncx * ncy);
    const x0 = bb[0]!;
    const y0 = bb[1]!;
    const pad = 1e-9 * (Math.abs(x0) + Math.abs(y0) + w + h);
    const edges = this.edges;
    const cellX = (x: number): number => Math.min(ncx - 1, Math.max(0, Math.floor((x - x0) / cs)));
    const cellY = (y: number): number => Math.min(ncy - 1, Math.max(0, Math.floor((y - y0) / cs)));
    for (let e = 0; e < this.numEdges; e++) {
      const ax = edges[4 * e]!, ay = edges[4 * e + 1]!, bx = edges[4 * e + 2]!, by = edges[4 * e + 3]!;
      const len = Math.hypot(bx - ax, by - ay);
      const pieces = Math.max(1, Math.ceil(len / cs));
      for (let k = 0; k < pieces; k++) {
        const t0 = k / pieces;
        const t1 = (k + 1) / pieces;
        const px0 = ax + (bx - ax) * t0, py0 = ay + (by - ay) * t0;
        const px1 = k + 1 === pieces ? bx : ax + (bx - ax) * t1, py1 = k + 1 === pieces ? by : ay + (by - ay) * t1;
        const i0 = cellX(Math.min(px0, px1) - pad), i1 = cellX(Math.max(px0, px1) + pad);
        const j0 = cellY(Math.min(py0, py1) - pad), j1 = cellY(Math.max(py0, py1) + pad);
        for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) cells[j * ncx + i] = CELL_BOUNDARY;
      }
    }
    this.cellSize = cs;
    this.cx0 = x0;
    this.cy0 = y0;
    this.ncx = ncx;
    this.ncy = ncy;
    this.cells = cells;
  }

  /** Exact location by the ray-crossing count over the edges of the point's band. */
  locateExact(px: number, py: number): Location {
    const bb = this.bounds;
    if (!(px >= bb[0]! && px <= bb[2]! && py >= bb[1]! && py <= bb[3]!)) return Location.Exterior;
    const edges = this.edgeList ?? this.buildIndex();
    const b = this.band(py);
    let crossings = 0;
    for (let i = this.bandStart[b]!, end = this.bandStart[b + 1]!; i < end; i++) {
      const e = 4 * this.bandEdges[i]!;
      const c = countSegment(px, py, edges[e]!, edges[e + 1]!, edges[e + 2]!, edges[e + 3]!);
      if (c < 0) return Location.Boundary;
      crossings += c;
    }
    return crossings % 2 === 1 ? Location.Interior : Location.Exterior;
  }

  /** Strict interior test (shapely `contains(point)` / `point.within(polygon)`). */
  containsStrict(px: number, py: number): boolean {
    return this.locate(px, py) === Location.Interior;
  }

  /**
   * `containsStrict(xy[o], xy[o + 1])` (the same answer, the same query count), for hot loops: the
   * point is read from the array and the exact band test runs inline, so no coordinate crosses a
   * call that is not inlined (each such crossing allocates a heap number).
   */
  containsStrictAt(xy: Float64Array, o: number): boolean {
    const px = xy[o]!;
    const py = xy[o + 1]!;
    const bb = this.bounds;
    if (!(px >= bb[0]! && px <= bb[2]! && py >= bb[1]! && py <= bb[3]!)) return false;
    if (this.cells !== null) return this.locate(px, py) === Location.Interior;
    if (++this.queries === PreparedPolygon.cellGridAfterQueries) this.buildCells();
    // locateExact, inline
    const edges = this.edgeList ?? this.buildIndex();
    const b = this.band(py);
    let crossings = 0;
    for (let i = this.bandStart[b]!, end = this.bandStart[b + 1]!; i < end; i++) {
      const e = 4 * this.bandEdges[i]!;
      const c = countSegment(px, py, edges[e]!, edges[e + 1]!, edges[e + 2]!, edges[e + 3]!);
      if (c < 0) return false;
      crossings += c;
    }
    return crossings % 2 === 1;
  }

  /**
   * Closed intersection with a simple ring given as a flat array of n vertices (e.g. a box from
   * `boxCorners`), with that ring's bounds. Touching counts.
   */
  intersectsRing(ring: ArrayLike<number>, n: number, ringBoundsArr: ArrayLike<number>): boolean {
    const bb = this.bounds;
    if (ringBoundsArr[0]! > bb[2]! || ringBoundsArr[2]! < bb[0]! || ringBoundsArr[1]! > bb[3]! || ringBoundsArr[3]! < bb[1]!) {
      return false;
    }
    for (let i = 0; i < n; i++) {
      if (this.locate(ring[2 * i]!, ring[2 * i + 1]!) !== Location.Exterior) return true;
    }
    const edges = this.edges;
    for (let e = 0; e < this.numEdges; e++) {
      const x1 = edges[4 * e]!;
      const y1 = edges[4 * e + 1]!;
      const x2 = edges[4 * e + 2]!;
      const y2 = edges[4 * e + 3]!;
      if (Math.max(x1, x2) < ringBoundsArr[0]! || Math.min(x1, x2) > ringBoundsArr[2]!) continue;
      if (Math.max(y1, y2) < ringBoundsArr[1]! || Math.min(y1, y2) > ringBoundsArr[3]!) continue;
      // a polygon vertex inside the ring
      if (locatePointInRingN(x1, y1, ring, n) !== Location.Exterior) return true;
      for (let i = 0; i < n; i++) {
        const j = i + 1 === n ? 0 : i + 1;
        if (segmentsIntersect(x1, y1, x2, y2, ring[2 * i]!, ring[2 * i + 1]!, ring[2 * j]!, ring[2 * j + 1]!)) return true;
      }
    }
    return false;
  }
}

/** `locatePointInRing` over the first n vertices of a flat array. */
export function locatePointInRingN(px: number, py: number, ring: ArrayLike<number>, n: number): Location {
  if (n < 3) return Location.Exterior;
  let crossings = 0;
  let x1 = ring[2 * n - 2]!;
  let y1 = ring[2 * n - 1]!;
  for (let i = 0; i < n; i++) {
    const x2 = ring[2 * i]!;
    const y2 = ring[2 * i + 1]!;
    const c = countSegment(px, py, x1, y1, x2, y2);
    if (c < 0) return Location.Boundary;
    crossings += c;
    x1 = x2;
    y1 = y2;
  }
  return crossings % 2 === 1 ? Location.Interior : Location.Exterior;
}

/**
 * Closed intersection of two simple rings of na and nb vertices stored at offsets ao and bo of
 * flat arrays (touching counts). Exact predicates; no bounding-box pre-check.
 */
export function ringsIntersect(a: ArrayLike<number>, ao: number, na: number, b: ArrayLike<number>, bo: number, nb: number): boolean {
  for (let i = 0; i < na; i++) {
    const ia = ao + 2 * i;
    const ja = ao + 2 * (i + 1 === na ? 0 : i + 1);
    const p1x = a[ia]!;
    const p1y = a[ia + 1]!;
    const p2x = a[ja]!;
    const p2y = a[ja + 1]!;
    for (let k = 0; k < nb; k++) {
      const ib = bo + 2 * k;
      const jb = bo + 2 * (k + 1 === nb ? 0 : k + 1);
      if (segmentsIntersect(p1x, p1y, p2x, p2y, b[ib]!, b[ib + 1]!, b[jb]!, b[jb + 1]!)) return true;
    }
  }
  // no boundary crossing: either disjoint or one contains the other
  if (locateInOffsetRing(a[ao]!, a[ao + 1]!, b, bo, nb) !== Location.Exterior) return true;
  if (locateInOffsetRing(b[bo]!, b[bo + 1]!, a, ao, na) !== Location.Exterior) return true;
  return false;
}

function locateInOffsetRing(px: number, py: number, ring: ArrayLike<number>, off: number, n: number): Location {
  if (n < 3) return Location.Exterior;
  let crossings = 0;
  let x1 = ring[off + 2 * n - 2]!;
  let y1 = ring[off + 2 * n - 1]!;
  for (let i = 0; i < n; i++) {
    const x2 = ring[off + 2 * i]!;
    const y2 = ring[off + 2 * i + 1]!;
    const c = countSegment(px, py, x1, y1, x2, y2);
    if (c < 0) return Location.Boundary;
    crossings += c;
    x1 = x2;
    y1 = y2;
  }
  return crossings % 2 === 1 ? Location.Interior : Location.Exterior;
}

/** Closed intersection of a segment with a simple ring at offset `off` with n vertices. */
export function segmentIntersectsRing(
  x1: number, y1: number, x2: number, y2: number, ring: ArrayLike<number>, off: number, n: number,
): boolean {
  for (let k = 0; k < n; k++) {
    const ib = off + 2 * k;
    const jb = off + 2 * (k + 1 === n ? 0 : k + 1);
    if (segmentsIntersect(x1, y1, x2, y2, ring[ib]!, ring[ib + 1]!, ring[jb]!, ring[jb + 1]!)) return true;
  }
  return locateInOffsetRing(x1, y1, ring, off, n) !== Location.Exterior;
}

/** Drops a repeated closing vertex, if any. */
export function stripClosingVertex(ring: Float64Array): Float64Array {
  const n = ring.length >> 1;
  if (n >= 2 && ring[0] === ring[2 * n - 2] && ring[1] === ring[2 * n - 1]) return ring.subarray(0, 2 * n - 2);
  return ring;
}
