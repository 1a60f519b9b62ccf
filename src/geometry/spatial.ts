/**
 * A static uniform-grid spatial index over axis-aligned boxes (items are their bounds: lanes,
 * polyline segments, vehicles). Built once in O(n) into a compact CSR layout; "what is near
 * here" queries visit only the cells they touch and return each item once. Rebuilding for
 * moving objects every step is cheap (two passes over the items).
 *
 * Queries return candidates whose bounds touch the query region; callers run their exact test.
 */

/** Fills `out` (4 per item: minX, minY, maxX, maxY) with the bounds of each polyline segment. */
export function segmentBounds(points: ArrayLike<number>, out: Float64Array = new Float64Array(Math.max(0, 2 * (points.length - 2)))): Float64Array {
  const n = points.length / 2 - 1;
  for (let i = 0; i < n; i++) {
    const ax = points[2 * i]!, ay = points[2 * i + 1]!, bx = points[2 * i + 2]!, by = points[2 * i + 3]!;
    out[4 * i] = Math.min(ax, bx);
    out[4 * i + 1] = Math.min(ay, by);
    out[4 * i + 2] = Math.max(ax, bx);
    out[4 * i + 3] = Math.max(ay, by);
  }
  return out;
}

export interface GridIndexOptions {
  /** Cell edge in world units (default: chosen from the item sizes). */
  cellSize?: number;
  /** Upper bound on the number of cells (the cell grows to respect it). Default 2^20. */
  maxCells?: number;
}

export class GridIndex {
  readonly count: number;
  readonly cellSize: number;
  readonly nx: number;
  readonly ny: number;
  readonly minX: number;
  readonly minY: number;
  /** Item bounds, 4 per item. */
  readonly bounds: Float64Array;
  private readonly cellStart: Int32Array;
  private readonly cellItems: Int32Array;
  private readonly stamp: Uint32Array;
  private epoch = 0;

  /** `bounds`: 4 numbers per item (minX, minY, maxX, maxY). */
  constructor(bounds: ArrayLike<number>, opts: GridIndexOptions = {}) {
    if (bounds.length % 4 !== 0) throw new Error(`GridIndex: bounds length must be a multiple of 4, found ${bounds.length}.`);
    const n = bounds.length / 4;
    this.count = n;
    this.bounds = Float64Array.from(bounds);
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, sumSize = 0;
    for (let i = 0; i < n; i++) {
      const b0 = this.bounds[4 * i]!, b1 = this.bounds[4 * i + 1]!, b2 = this.bounds[4 * i + 2]!, b3 = this.bounds[4 * i + 3]!;
      if (!(b2 >= b0) || !(b3 >= b1)) throw new Error(`GridIndex: item ${i} has invalid bounds [${b0}, ${b1}, ${b2}, ${b3}].`);
      if (b0 < minX) minX = b0;
      if (b1 < minY) minY = b1;
      if (b2 > maxX) maxX = b2;
      if (b3 > maxY) maxY = b3;
      sumSize += Math.max(b2 - b0, b3 - b1);
    }
    if (n === 0) minX = minY = maxX = maxY = 0;
    let cell = opts.cellSize ?? Math.max(1e-6, n ? (2 * sumSize) / n : 1);
    if (!(cell > 0)) throw new Error(`GridIndex: cellSize must be > 0, found ${opts.cellSize}.`);
    const maxCells = opts.maxCells ?? 1 << 20;
    const w = maxX - minX, h = maxY - minY;
    while ((Math.floor(w / cell) + 1) * (Math.floor(h / cell) + 1) > maxCells) cell *= 2;
    this.cellSize = cell;
    this.minX = minX;
    this.minY = minY;
    this.nx = Math.floor(w / cell) + 1;
    this.ny = Math.floor(h / cell) + 1;
    const cells = this.nx * this.ny;
    const counts = new Int32Array(cells + 1);
    for (let i = 0; i < n; i++) {
      const [cx0, cy0, cx1, cy1] = this.cellRange(this.bounds[4 * i]!, this.bounds[4 * i + 1]!, this.bounds[4 * i + 2]!, this.bounds[4 * i + 3]!);
      for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) counts[cy * this.nx + cx + 1]!++;
    }
    for (let c = 0; c < cells; c++) counts[c + 1]! += counts[c]!;
    this.cellStart = counts;
    this.cellItems = new Int32Array(counts[cells]!);
    const fill = counts.slice(0, cells);
    for (let i = 0; i < n; i++) {
      const [cx0, cy0, cx1, cy1] = this.cellRange(this.bounds[4 * i]!, this.bounds[4 * i + 1]!, this.bounds[4 * i + 2]!, this.bounds[4 * i + 3]!);
      for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) this.cellItems[fill[cy * this.nx + cx]!++] = i;
    }
    this.stamp = new Uint32Array(n);
  }

  private cellRange(x0: number, y0: number, x1: number, y1: number): [number, number, number, number] {
    const clampX = (v: number) => Math.min(this.nx - 1, Math.max(0, v));
    const clampY = (v: number) => Math.min(this.ny - 1, Math.max(0, v));
    return [
      clampX(Math.floor((x0 - this.minX) / this.cellSize)),
      clampY(Math.floor((y0 - this.minY) / this.cellSize)),
      clampX(Math.floor((x1 - this.minX) / this.cellSize)),
      clampY(Math.floor((y1 - this.minY) / this.cellSize)),
    ];
  }

  private nextEpoch(): number {
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  /** Items whose bounds intersect the box (touching counts). Appends to `out` and returns it. */
  queryBox(x0: number, y0: number, x1: number, y1: number, out: number[] = []): number[] {
    if (this.count === 0) return out;
    const gx1 = this.minX + this.nx * this.cellSize, gy1 = this.minY + this.ny * this.cellSize;
    if (x1 < this.minX || y1 < this.minY || x0 > gx1 || y0 > gy1) return out;
    const ep = this.nextEpoch();
    const [cx0, cy0, cx1, cy1] = this.cellRange(x0, y0, x1, y1);
    const b = this.bounds;
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = cy * this.nx + cx;
        for (let k = this.cellStart[c]!; k < this.cellStart[c + 1]!; k++) {
          const i = this.cellItems[k]!;
          if (this.stamp[i] === ep) continue;
          this.stamp[i] = ep;
          if (b[4 * i]! > x1 || b[4 * i + 2]! < x0 || b[4 * i + 1]! > y1 || b[4 * i + 3]! < y0) continue;
          out.push(i);
        }
      }
    }
    return out;
  }

  /** Items whose bounds come within `radius` of (x, y) (box test against the disc's bounds). */
  queryPoint(x: number, y: number, radius = 0, out: number[] = []): number[] {
    return this.queryBox(x - radius, y - radius, x + radius, y + radius, out);
  }

  /** Items whose bounds the segment (x0, y0)-(x1, y1) crosses (exact slab test per item). */
  querySegment(x0: number, y0: number, x1: number, y1: number, out: number[] = []): number[] {
    const cand = this.queryBox(Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1));
    const dx = x1 - x0, dy = y1 - y0;
    const b = this.bounds;
    for (const i of cand) {
      let t0 = 0, t1 = 1;
      let ok = true;
      for (let axis = 0; axis < 2 && ok; axis++) {
        const o = axis === 0 ? x0 : y0;
        const d = axis === 0 ? dx : dy;
        const lo = b[4 * i + axis]!, hi = b[4 * i + 2 + axis]!;
        if (d === 0) {
          if (o < lo || o > hi) ok = false;
        } else {
          let ta = (lo - o) / d, tb = (hi - o) / d;
          if (ta > tb) [ta, tb] = [tb, ta];
          if (ta > t0) t0 = ta;
          if (tb < t1) t1 = tb;
          if (t0 > t1) ok = false;
        }
      }
      if (ok) out.push(i);
    }
    return out;
  }

  /**
   * The item minimising `distance(i)` among those whose bounds lie within `maxDistance` of
   * (x, y); `distance` must be >= the distance to the item's bounds. Returns index -1 if none.
   */
  nearest(x: number, y: number, maxDistance: number, distance: (i: number) => number): { index: number; distance: number } {
    let best = -1, bestD = Infinity;
    for (const i of this.queryPoint(x, y, maxDistance)) {
      const d = distance(i);
      if (d <= maxDistance && d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return { index: best, distance: bestD };
  }
}
