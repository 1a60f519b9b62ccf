/**
 * `PDMPath` of the PDM planner (`utils/pdm_path.py`): a discrete (x, y, heading) path with
 * unwrapped headings, cumulative progress, linear interpolation by progress (scipy `interp1d`
 * order of operations), shapely-style projection and the fast `substring` of the corridor.
 */
import { ArrayPack } from '../core/array-pack.js';
import { unwrapAngles } from '../geometry/angle.js';
import { pointToSegment, projectOnPolyline } from './pdm-closed-geometry.js';
import { interpBracket } from './interpolate.js';

const BLOCK = 16;

/**
 * A lower bound of the distance from (px, py) to anything inside the box at `b[o..o+3]`, shrunk by
 * a relative 1e-12 so that rounding never prunes a segment that ties or wins (0 inside the box).
 */
function boxLowerBound(b: Float64Array, o: number, px: number, py: number): number {
  const dx = px < b[o]! ? b[o]! - px : px > b[o + 2]! ? px - b[o + 2]! : 0;
  const dy = py < b[o + 1]! ? b[o + 1]! - py : py > b[o + 3]! ? py - b[o + 3]! : 0;
  if (dx === 0 && dy === 0) return 0;
  return Math.sqrt(dx * dx + dy * dy) * (1 - 1e-12);
}

export class PDMPath {
  /** Number of discrete states. */
  readonly n: number;
  /** Interleaved x, y of the states (the shapely linestring). */
  readonly xy: Float64Array;
  /** Unwrapped headings. */
  readonly heading: Float64Array;
  /** Cumulative progress along the states (np.cumsum of segment norms). */
  readonly progress: Float64Array;
  /** Total length (progress[-1] = shapely `length`). */
  readonly length: number;
  /** Segment lengths (GEOS `LineSegment::getLength`) and bounds [minX, minY, maxX, maxY] per segment. */
  private readonly segLen: Float64Array;
  private readonly segBox: Float64Array;
  /** Bounds of blocks of BLOCK consecutive segments (coarse pruning for `project`). */
  private readonly blockBox: Float64Array;

  /**
   * @param states interleaved (x, y, heading) triples, as a baseline's `discrete_path`.
   * @param unwrapped the headings already unwrapped (e.g. `heading` of a path with the same raw
   *   headings, as `parallelDiscretePath` keeps them); computed when absent.
   */
  constructor(states: ArrayLike<number>, unwrapped?: Float64Array) {
    const n = Math.floor(states.length / 3);
    if (n < 2) throw new RangeError(`PDMPath: needs at least 2 states, found ${n}.`);
    this.n = n;
    const nb = Math.ceil((n - 1) / BLOCK);
    // one backing store for the six arrays (see ArrayPack)
    const pack = new ArrayPack(ArrayPack.f64Bytes(2 * n + n + n + (n - 1) + 4 * (n - 1) + 4 * nb));
    this.xy = pack.f64(2 * n);
    this.heading = pack.f64(n);
    for (let i = 0; i < n; i++) {
      this.xy[2 * i] = states[3 * i]!;
      this.xy[2 * i + 1] = states[3 * i + 1]!;
      this.heading[i] = states[3 * i + 2]!;
    }
    if (unwrapped && unwrapped.length === n) this.heading.set(unwrapped);
    else unwrapAngles(this.heading);
    this.progress = pack.f64(n);
    this.segLen = pack.f64(n - 1);
    this.segBox = pack.f64(4 * (n - 1));
    let acc = 0;
    for (let i = 1; i < n; i++) {
      const ax = this.xy[2 * i - 2]!;
      const ay = this.xy[2 * i - 1]!;
      const bx = this.xy[2 * i]!;
      const by = this.xy[2 * i + 1]!;
      const dx = bx - ax;
      const dy = by - ay;
      const len = Math.sqrt(dx * dx + dy * dy);
      this.segLen[i - 1] = len;
      acc += len;
      this.progress[i] = acc;
      const b = 4 * (i - 1);
      this.segBox[b] = Math.min(ax, bx);
      this.segBox[b + 1] = Math.min(ay, by);
      this.segBox[b + 2] = Math.max(ax, bx);
      this.segBox[b + 3] = Math.max(ay, by);
    }
    this.length = acc;
    this.blockBox = pack.f64(4 * nb);
    for (let b = 0; b < nb; b++) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = b * BLOCK; i < Math.min(n - 1, (b + 1) * BLOCK); i++) {
        x0 = Math.min(x0, this.segBox[4 * i]!);
        y0 = Math.min(y0, this.segBox[4 * i + 1]!);
        x1 = Math.max(x1, this.segBox[4 * i + 2]!);
        y1 = Math.max(y1, this.segBox[4 * i + 3]!);
      }
      this.blockBox[4 * b] = x0;
      this.blockBox[4 * b + 1] = y0;
      this.blockBox[4 * b + 2] = x1;
      this.blockBox[4 * b + 3] = y1;
    }
  }

  /**
   * `linestring.project(point)` (GEOS `LengthIndexOfPoint`: the first segment of minimum distance,
   * measure = cumulative length + projection factor x segment length). Segments whose bounding
   * box is farther than the best distance so far cannot win and are skipped.
   */
  project(px: number, py: number): number {
    const xy = this.xy;
    const sb = this.segBox;
    const bb = this.blockBox;
    let minDistance = Infinity;
    let best = -1;
    const nseg = this.n - 1;
    // blocks and segments in index order, so the first minimum wins as in GEOS
    for (let b = 0; b * BLOCK < nseg; b++) {
      if (boxLowerBound(bb, 4 * b, px, py) > minDistance) continue;
      const end = Math.min(nseg, (b + 1) * BLOCK);
      for (let i = b * BLOCK; i < end; i++) {
        if (boxLowerBound(sb, 4 * i, px, py) > minDistance) continue;
        const d = pointToSegment(px, py, xy[2 * i]!, xy[2 * i + 1]!, xy[2 * i + 2]!, xy[2 * i + 3]!);
        if (d < minDistance) {
          minDistance = d;
          best = i;
        }
      }
    }
    if (best < 0) return 0;
    const ax = xy[2 * best]!;
    const ay = xy[2 * best + 1]!;
    const bx = xy[2 * best + 2]!;
    const by = xy[2 * best + 3]!;
    let pf: number;
    if (px === ax && py === ay) pf = 0;
    else if (px === bx && py === by) pf = 1;
    else {
      const dx = bx - ax;
      const dy = by - ay;
      pf = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy);
    }
    const start = this.progress[best]!;
    if (pf <= 0.0) return start;
    if (pf <= 1.0) return start + pf * this.segLen[best]!;
    return start + this.segLen[best]!;
  }

  /** Reference implementation of `project` without pruning (for tests). */
  projectExhaustive(px: number, py: number): number {
    return projectOnPolyline(this.xy, px, py);
  }

  /**
   * `interpolate(distances, as_array=True)` for one distance: clips to [1e-5, length], linear
   * interpolation (`slope * (d - x_lo) + y_lo`), heading wrapped with atan2, NaN set to 0.
   * Writes x, y, heading at `out[offset..offset+2]`.
   */
  interpolateInto(distance: number, out: Float64Array, offset: number): void {
    const p = this.progress;
    const n = this.n;
    let d = distance;
    // np.clip(d, 1e-5, length): NaN stays NaN
    if (d < 1e-5) d = 1e-5;
    if (d > this.length) d = this.length;
    const idx = interpBracket(p, n, d);
    const i0 = idx - 1;
    const xLo = p[i0]!;
    const dxk = p[idx]! - xLo;
    const t = d - xLo;
    let x = ((this.xy[2 * idx]! - this.xy[2 * i0]!) / dxk) * t + this.xy[2 * i0]!;
    let y = ((this.xy[2 * idx + 1]! - this.xy[2 * i0 + 1]!) / dxk) * t + this.xy[2 * i0 + 1]!;
    let h = ((this.heading[idx]! - this.heading[i0]!) / dxk) * t + this.heading[i0]!;
    h = Math.atan2(Math.sin(h), Math.cos(h));
    if (Number.isNaN(x)) x = 0;
    if (Number.isNaN(y)) y = 0;
    if (Number.isNaN(h)) h = 0;
    out[offset] = x;
    out[offset + 1] = y;
    out[offset + 2] = h;
  }

  /** Interpolated (x, y) at a distance along the path with shapely `interpolate` semantics. */
  private pointAt(distance: number): [number, number] {
    const d = Math.min(Math.max(distance, 0), this.length);
    const p = this.progress;
    for (let i = 1; i < this.n; i++) {
      if (p[i]! >= d) {
        const seg = p[i]! - p[i - 1]!;
        const f = seg > 0 ? (d - p[i - 1]!) / seg : 0;
        const ax = this.xy[2 * i - 2]!;
        const ay = this.xy[2 * i - 1]!;
        return [ax + f * (this.xy[2 * i]! - ax), ay + f * (this.xy[2 * i + 1]! - ay)];
      }
    }
    return [this.xy[2 * this.n - 2]!, this.xy[2 * this.n - 1]!];
  }

  /**
   * `substring(start, end)`: the states whose progress lies in [start, end] (both clipped to
   * [0, length]); when fewer than two qualify, shapely's `ops.substring` (interpolated end
   * points). Returns interleaved x, y (a single point when start equals end); with `scratch`
   * (long enough), the states are written there and a view of it is returned.
   */
  substring(start: number, end: number, scratch?: Float64Array): Float64Array {
    const s = Math.min(Math.max(start, 0), this.length);
    const e = Math.min(Math.max(end, 0), this.length);
    // count, then copy (no growing number array)
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      const p = this.progress[i]!;
      if (s <= p && p <= e) count++;
    }
    if (count > 1) {
      const sel = scratch !== undefined && scratch.length >= 2 * count ? scratch.subarray(0, 2 * count) : new Float64Array(2 * count);
      let k = 0;
      for (let i = 0; i < this.n; i++) {
        const p = this.progress[i]!;
        if (s <= p && p <= e) {
          sel[k++] = this.xy[2 * i]!;
          sel[k++] = this.xy[2 * i + 1]!;
        }
      }
      return sel;
    }
    // shapely.ops.substring
    if (s === e) return new Float64Array(this.pointAt(s));
    const reverse = s > e;
    const a = reverse ? e : s;
    const b = reverse ? s : e;
    const out: number[] = [...this.pointAt(a)];
    for (let i = 0; i < this.n; i++) {
      const p = this.progress[i]!;
      if (p > a && p < b) out.push(this.xy[2 * i]!, this.xy[2 * i + 1]!);
    }
    out.push(...this.pointAt(b));
    if (reverse) {
      const r: number[] = [];
      for (let i = out.length - 2; i >= 0; i -= 2) r.push(out[i]!, out[i + 1]!);
      return new Float64Array(r);
    }
    return new Float64Array(out);
  }
}

/** cos and sin of heading + pi/2 of every state (interleaved), as `parallelDiscretePath` uses them; into `out` when given. */
export function pathNormals(states: ArrayLike<number>, out: Float64Array = new Float64Array(2 * Math.floor(states.length / 3))): Float64Array {
  const n = Math.floor(states.length / 3);
  for (let i = 0; i < n; i++) {
    const theta = states[3 * i + 2]! + Math.PI / 2;
    out[2 * i] = Math.cos(theta);
    out[2 * i + 1] = Math.sin(theta);
  }
  return out;
}

/**
 * `parallel_discrete_path`: every state moved by `offset` along heading + pi/2 (raw heading);
 * `normals` (from `pathNormals(states)`) saves recomputing them for another offset; written to
 * `out` when given (3 values per state).
 */
export function parallelDiscretePath(
  states: ArrayLike<number>,
  offset: number,
  normals: Float64Array = pathNormals(states),
  out: Float64Array = new Float64Array(3 * Math.floor(states.length / 3)),
): Float64Array {
  const n = Math.floor(states.length / 3);
  for (let i = 0; i < n; i++) {
    out[3 * i] = states[3 * i]! + normals[2 * i]! * offset;
    out[3 * i + 1] = states[3 * i + 1]! + normals[2 * i + 1]! * offset;
    out[3 * i + 2] = states[3 * i + 2]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMPath`. */
export const PdmPath = PDMPath;
/** @deprecated Renamed `PDMPath`. */
export type PdmPath = PDMPath;
