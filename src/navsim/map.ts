/**
 * The scorer's drivable-area map (`PDMDrivableMap`): prepared polygons of ROADBLOCK, LANE,
 * LANE_CONNECTOR, INTERSECTION, CARPARK_AREA (and DRIVABLE_AREA) with a uniform grid over their
 * bounds, and the centerline path (`PDMPath`) with GEOS `project` / `distance` semantics.
 */
import { ArrayPack } from '../core/array-pack.js';
import { PreparedPolygon, pointSegmentDistance } from '../geometry/polygon.js';
import type { PDMScene } from './types.js';

export type DrivableLayer = 'ROADBLOCK' | 'LANE' | 'LANE_CONNECTOR' | 'INTERSECTION' | 'CARPARK_AREA' | 'DRIVABLE_AREA';

const LAYER_ORDER: readonly DrivableLayer[] = ['ROADBLOCK', 'LANE', 'LANE_CONNECTOR', 'INTERSECTION', 'CARPARK_AREA', 'DRIVABLE_AREA'];

/** Polygon kinds as bit flags. */
export const enum PolyFlag {
  DrivableArea = 1, // ROADBLOCK, INTERSECTION, CARPARK_AREA, DRIVABLE_AREA
  Lane = 2, // LANE, LANE_CONNECTOR
  OnRoute = 4, // lane whose id is a route lane id
  Intersection = 8,
}

let cellScratch = new Int32Array(0);

export class DrivableMap {
  readonly polygons: PreparedPolygon[] = [];
  readonly ids: string[] = [];
  readonly layers: DrivableLayer[] = [];
  readonly flags: Uint8Array;
  private readonly cellSize: number;
  private readonly gx0: number;
  private readonly gy0: number;
  private readonly nx: number;
  private readonly ny: number;
  /** CSR of polygon indices per grid cell. */
  readonly cellStart: Int32Array;
  readonly cellItems: Int32Array;

  constructor(entries: { id: string; layer: DrivableLayer; shell: Float64Array; holes?: Float64Array[] }[], routeLaneIds: readonly string[]) {
    const route = new Set(routeLaneIds);
    const flags: number[] = [];
    for (const e of entries) {
      const p = new PreparedPolygon(e.shell, e.holes ?? []);
      this.polygons.push(p);
      this.ids.push(e.id);
      this.layers.push(e.layer);
      let f = 0;
      if (e.layer === 'ROADBLOCK' || e.layer === 'INTERSECTION' || e.layer === 'CARPARK_AREA' || e.layer === 'DRIVABLE_AREA') f |= PolyFlag.DrivableArea;
      if (e.layer === 'LANE' || e.layer === 'LANE_CONNECTOR') {
        f |= PolyFlag.Lane;
        if (route.has(e.id)) f |= PolyFlag.OnRoute;
      }
      if (e.layer === 'INTERSECTION') f |= PolyFlag.Intersection;
      flags.push(f);
    }
    this.flags = Uint8Array.from(flags);
    // uniform grid over finite polygon bounds
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const p of this.polygons) {
      const b = p.bounds;
      if (!(b[0]! <= b[2]! && b[1]! <= b[3]!) || !Number.isFinite(b[0]! + b[1]! + b[2]! + b[3]!)) continue;
      minX = Math.min(minX, b[0]!); minY = Math.min(minY, b[1]!); maxX = Math.max(maxX, b[2]!); maxY = Math.max(maxY, b[3]!);
    }
    if (!(minX <= maxX)) { minX = 0; minY = 0; maxX = 1; maxY = 1; }
    const extent = Math.max(maxX - minX, maxY - minY, 1);
    this.cellSize = Math.max(extent / 64, 5);
    this.gx0 = minX;
    this.gy0 = minY;
    this.nx = Math.max(1, Math.ceil((maxX - minX) / this.cellSize) + 1);
    this.ny = Math.max(1, Math.ceil((maxY - minY) / this.cellSize) + 1);
    const ncell = this.nx * this.ny;
    // counts and fill pointers in scratch; cell starts and items share one backing store (ArrayPack)
    if (cellScratch.length < 2 * ncell + 1) cellScratch = new Int32Array(2 * ncell + 1);
    const counts = cellScratch.subarray(0, ncell + 1);
    counts.fill(0);
    const ranges: number[][] = [];
    this.polygons.forEach((p) => {
      const b = p.bounds;
      if (!Number.isFinite(b[0]! + b[1]! + b[2]! + b[3]!) || !(b[0]! <= b[2]!)) { ranges.push([1, 0, 1, 0]); return; }
      const r = [this.cx(b[0]!), this.cx(b[2]!), this.cy(b[1]!), this.cy(b[3]!)];
      ranges.push(r);
      for (let i = r[0]!; i <= r[1]!; i++) for (let j = r[2]!; j <= r[3]!; j++) counts[j * this.nx + i + 1]!++;
    });
    for (let c = 0; c < ncell; c++) counts[c + 1]! += counts[c]!;
    const pack = new ArrayPack(ArrayPack.i32Bytes(ncell + 1) + ArrayPack.i32Bytes(counts[ncell]!));
    this.cellStart = pack.i32(ncell + 1);
    this.cellStart.set(counts);
    const fill = cellScratch.subarray(ncell + 1, 2 * ncell + 1);
    fill.set(counts.subarray(0, ncell));
    this.cellItems = pack.i32(counts[ncell]!);
    ranges.forEach((r, k) => {
      for (let i = r[0]!; i <= r[1]!; i++) for (let j = r[2]!; j <= r[3]!; j++) this.cellItems[fill[j * this.nx + i]!++] = k;
    });
  }

  private cx(x: number): number {
    return Math.min(this.nx - 1, Math.max(0, Math.floor((x - this.gx0) / this.cellSize)));
  }

  private cy(y: number): number {
    return Math.min(this.ny - 1, Math.max(0, Math.floor((y - this.gy0) / this.cellSize)));
  }

  /** Grid cell of a point, or -1 outside the grid. */
  cellOf(px: number, py: number): number {
    const i = Math.floor((px - this.gx0) / this.cellSize);
    const j = Math.floor((py - this.gy0) / this.cellSize);
    if (!(i >= 0 && j >= 0 && i < this.nx && j < this.ny)) return -1;
    return j * this.nx + i;
  }

  /** Writes into `out` the polygons whose bounds cell contains (px, py) (a superset of containers). */
  candidates(px: number, py: number, out: Int32Array): number {
    if (!(px >= this.gx0 - this.cellSize && py >= this.gy0 - this.cellSize)) return 0;
    const i = Math.floor((px - this.gx0) / this.cellSize);
    const j = Math.floor((py - this.gy0) / this.cellSize);
    if (!(i >= 0 && j >= 0 && i < this.nx && j < this.ny)) return 0;
    const c = j * this.nx + i;
    let n = 0;
    for (let k = this.cellStart[c]!, end = this.cellStart[c + 1]!; k < end; k++) out[n++] = this.cellItems[k]!;
    return n;
  }

  /** Whether the point lies strictly inside some polygon with all bits of `flag`. */
  inLayer(px: number, py: number, flag: number, scratch: Int32Array): boolean {
    const n = this.candidates(px, py, scratch);
    for (let q = 0; q < n; q++) {
      const k = scratch[q]!;
      if ((this.flags[k]! & flag) === flag && this.polygons[k]!.containsStrict(px, py)) return true;
    }
    return false;
  }

  get size(): number {
    return this.polygons.length;
  }
}

/** Route lane ids of a golden scene: the `on_route` lanes. */
export function routeLaneIds(scene: PDMScene): string[] {
  return scene.map.lanes.filter((l) => l.onRoute).map((l) => l.id);
}

/** Builds the drivable map of a golden scene (areas and lanes, in NAVSIM's layer order). */
export function buildDrivableMap(scene: PDMScene, route: readonly string[] = routeLaneIds(scene)): DrivableMap {
  const entries: { id: string; layer: DrivableLayer; shell: Float64Array; holes?: Float64Array[] }[] = [];
  for (const layer of LAYER_ORDER) {
    for (const a of scene.map.areas) if (a.type === layer) entries.push({ id: a.id, layer, shell: a.polygon, holes: a.holes });
    for (const l of scene.map.lanes) if (l.type === layer) entries.push({ id: l.id, layer, shell: l.polygon, holes: l.holes });
  }
  return new DrivableMap(entries, route);
}

/**
 * A polyline (`PDMPath` linestring) with shapely `project` (GEOS `LengthIndexedLine.project`) and
 * `distance` semantics.
 */
const CL_BLOCK = 16;

export class Centerline {
  readonly xy: Float64Array;
  readonly n: number;
  /** Segment lengths (GEOS `LineSegment::getLength`). */
  private readonly segLen: Float64Array;
  private readonly segBounds: Float64Array;
  /** Length along the line at the start of each segment (the same running sum as GEOS). */
  private readonly segStart: Float64Array;
  /** Bounds of blocks of CL_BLOCK consecutive segments (coarse pruning for `project`). */
  private readonly blockBounds: Float64Array;
  // uniform grid over segment bounds for `distance`
  private gridCell = 1;
  private gx0 = 0;
  private gy0 = 0;
  private gnx = 0;
  private gny = 0;
  private gridStart: Int32Array | null = null;
  private gridItems: Int32Array | null = null;

  constructor(points: Float64Array, stride = 3) {
    const n = Math.floor(points.length / stride);
    this.n = n;
    const m0 = Math.max(0, n - 1);
    const pack = new ArrayPack(ArrayPack.f64Bytes(2 * n + m0 + 4 * m0 + m0 + 4 * Math.ceil(m0 / CL_BLOCK)));
    this.xy = pack.f64(2 * n);
    for (let i = 0; i < n; i++) {
      this.xy[2 * i] = points[stride * i]!;
      this.xy[2 * i + 1] = points[stride * i + 1]!;
    }
    this.segLen = pack.f64(m0);
    this.segBounds = pack.f64(4 * m0);
    for (let i = 0; i + 1 < n; i++) {
      const dx = this.xy[2 * i + 2]! - this.xy[2 * i]!;
      const dy = this.xy[2 * i + 3]! - this.xy[2 * i + 1]!;
      this.segLen[i] = Math.sqrt(dx * dx + dy * dy);
      this.segBounds[4 * i] = Math.min(this.xy[2 * i]!, this.xy[2 * i + 2]!);
      this.segBounds[4 * i + 1] = Math.min(this.xy[2 * i + 1]!, this.xy[2 * i + 3]!);
      this.segBounds[4 * i + 2] = Math.max(this.xy[2 * i]!, this.xy[2 * i + 2]!);
      this.segBounds[4 * i + 3] = Math.max(this.xy[2 * i + 1]!, this.xy[2 * i + 3]!);
    }
    const m = m0;
    this.segStart = pack.f64(m);
    let start = 0;
    for (let i = 0; i < m; i++) {
      this.segStart[i] = start;
      start += this.segLen[i]!;
    }
    const nb = Math.ceil(m / CL_BLOCK);
    this.blockBounds = pack.f64(4 * nb);
    for (let b = 0; b < nb; b++) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = b * CL_BLOCK; i < Math.min(m, (b + 1) * CL_BLOCK); i++) {
        x0 = Math.min(x0, this.segBounds[4 * i]!);
        y0 = Math.min(y0, this.segBounds[4 * i + 1]!);
        x1 = Math.max(x1, this.segBounds[4 * i + 2]!);
        y1 = Math.max(y1, this.segBounds[4 * i + 3]!);
      }
      this.blockBounds[4 * b] = x0;
      this.blockBounds[4 * b + 1] = y0;
      this.blockBounds[4 * b + 2] = x1;
      this.blockBounds[4 * b + 3] = y1;
    }
  }

  /** shapely `line.project(point)`: distance along the line of the nearest point. */
  project(px: number, py: number): number {
    let minDistance = Infinity;
    let ptMeasure = -1;
    const xy = this.xy;
    const sb = this.segBounds;
    const bb = this.blockBounds;
    const m = this.n - 1;
    for (let b = 0; b * CL_BLOCK < m; b++) {
      // a block (segment) whose bounding box is not nearer than the best so far cannot win (strict
      // <); a segment's box lies inside its block's, so the block test skips only such segments
      const bdx = px < bb[4 * b]! ? bb[4 * b]! - px : px > bb[4 * b + 2]! ? px - bb[4 * b + 2]! : 0;
      const bdy = py < bb[4 * b + 1]! ? bb[4 * b + 1]! - py : py > bb[4 * b + 3]! ? py - bb[4 * b + 3]! : 0;
      if (bdx >= minDistance || bdy >= minDistance) continue;
      const end = Math.min(m, (b + 1) * CL_BLOCK);
      for (let i = b * CL_BLOCK; i < end; i++) {
        const ddx = px < sb[4 * i]! ? sb[4 * i]! - px : px > sb[4 * i + 2]! ? px - sb[4 * i + 2]! : 0;
        const ddy = py < sb[4 * i + 1]! ? sb[4 * i + 1]! - py : py > sb[4 * i + 3]! ? py - sb[4 * i + 3]! : 0;
        if (ddx >= minDistance || ddy >= minDistance) continue;
        const start = this.segStart[i]!;
        const ax = xy[2 * i]!, ay = xy[2 * i + 1]!, bx = xy[2 * i + 2]!, by = xy[2 * i + 3]!;
        const d = pointSegmentDistance(px, py, ax, ay, bx, by);
        if (d < minDistance) {
          minDistance = d;
          // LengthIndexOfPoint::segmentNearestMeasure
          let f: number;
          if (px === ax && py === ay) f = 0;
          else if (px === bx && py === by) f = 1;
          else {
            const dx = bx - ax, dy = by - ay;
            const len2 = dx * dx + dy * dy;
            f = len2 <= 0 ? NaN : ((px - ax) * dx + (py - ay) * dy) / len2;
          }
          if (f <= 0) ptMeasure = start;
          else if (f <= 1) ptMeasure = start + f * this.segLen[i]!;
          else ptMeasure = start + this.segLen[i]!;
        }
      }
    }
    if (this.n === 1) return 0;
    return ptMeasure;
  }

  private buildGrid(): void {
    const m = this.n - 1;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, total = 0;
    for (let i = 0; i < m; i++) {
      minX = Math.min(minX, this.segBounds[4 * i]!);
      minY = Math.min(minY, this.segBounds[4 * i + 1]!);
      maxX = Math.max(maxX, this.segBounds[4 * i + 2]!);
      maxY = Math.max(maxY, this.segBounds[4 * i + 3]!);
      total += this.segLen[i]!;
    }
    if (!Number.isFinite(minX + minY + maxX + maxY + total)) return;
    const cs = Math.max(total / m, (maxX - minX + maxY - minY) / 512, 1e-6) * 2;
    const nx = Math.floor((maxX - minX) / cs) + 1;
    const ny = Math.floor((maxY - minY) / cs) + 1;
    if (nx * ny > 1 << 20) return;
    const counts = new Int32Array(nx * ny + 1);
    const range = (i: number): [number, number, number, number] => [
      Math.floor((this.segBounds[4 * i]! - minX) / cs), Math.floor((this.segBounds[4 * i + 2]! - minX) / cs),
      Math.floor((this.segBounds[4 * i + 1]! - minY) / cs), Math.floor((this.segBounds[4 * i + 3]! - minY) / cs),
    ];
    for (let i = 0; i < m; i++) {
      const [a, b, c, d] = range(i);
      for (let y = c; y <= d; y++) for (let x = a; x <= b; x++) counts[y * nx + x + 1]!++;
    }
    for (let c = 0; c < nx * ny; c++) counts[c + 1]! += counts[c]!;
    const fill = counts.slice(0, nx * ny);
    const items = new Int32Array(counts[nx * ny]!);
    for (let i = 0; i < m; i++) {
      const [a, b, c, d] = range(i);
      for (let y = c; y <= d; y++) for (let x = a; x <= b; x++) items[fill[y * nx + x]!++] = i;
    }
    this.gridCell = cs;
    this.gx0 = minX;
    this.gy0 = minY;
    this.gnx = nx;
    this.gny = ny;
    this.gridStart = counts;
    this.gridItems = items;
  }

  /** shapely `Point.distance(line)`: minimum point-segment distance. */
  distance(px: number, py: number): number {
    const xy = this.xy;
    if (this.n === 1) return Math.hypot(px - xy[0]!, py - xy[1]!);
    if (this.gridStart === null && this.n > 16) this.buildGrid();
    if (this.gridStart !== null) {
      // ring search: after ring r, unvisited cells are farther than r·cell from the point
      const cs = this.gridCell;
      const ci = Math.floor((px - this.gx0) / cs);
      const cj = Math.floor((py - this.gy0) / cs);
      const start = this.gridStart;
      const items = this.gridItems!;
      const nx = this.gnx;
      const ny = this.gny;
      if (ci >= -8 && cj >= -8 && ci < nx + 8 && cj < ny + 8) {
        const maxR = Math.max(ci, nx - 1 - ci, cj, ny - 1 - cj);
        let best = Infinity;
        for (let r = 0; r <= maxR; r++) {
          const j0 = Math.max(0, cj - r);
          const j1 = Math.min(ny - 1, cj + r);
          for (let j = j0; j <= j1; j++) {
            const edgeRow = j === cj - r || j === cj + r;
            const i0 = Math.max(0, ci - r);
            const i1 = Math.min(nx - 1, ci + r);
            for (let i = i0; i <= i1; i++) {
              if (!edgeRow && i !== ci - r && i !== ci + r) {
                // interior of the ring's row: jump to the right edge
                if (ci + r <= i1) i = ci + r;
                else break;
              }
              const c = j * nx + i;
              for (let k = start[c]!, end = start[c + 1]!; k < end; k++) {
                const sg = items[k]!;
                const d = pointSegmentDistance(px, py, xy[2 * sg]!, xy[2 * sg + 1]!, xy[2 * sg + 2]!, xy[2 * sg + 3]!);
                if (d < best) best = d;
              }
            }
          }
          if (best <= r * cs) return best;
        }
        return best;
      }
    }
    let best = Infinity;
    const sb = this.segBounds;
    for (let i = 0; i + 1 < this.n; i++) {
      // cheap lower bound: distance to the segment's bounding box
      const ddx = px < sb[4 * i]! ? sb[4 * i]! - px : px > sb[4 * i + 2]! ? px - sb[4 * i + 2]! : 0;
      const ddy = py < sb[4 * i + 1]! ? sb[4 * i + 1]! - py : py > sb[4 * i + 3]! ? py - sb[4 * i + 3]! : 0;
      if (ddx >= best || ddy >= best) continue;
      const d = pointSegmentDistance(px, py, xy[2 * i]!, xy[2 * i + 1]!, xy[2 * i + 2]!, xy[2 * i + 3]!);
      if (d < best) best = d;
    }
    return best;
  }
}
