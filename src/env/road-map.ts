/**
 * The env's view of a map: roads (directed node pairs with lanes, index 0 = leftmost), the
 * ego route, the blocks that spawn traffic, lane successors and a uniform grid that answers
 * "which lanes are near (x, y)" in O(1). Built from `world` maps by `fromWorldMap` (see
 * world-adapter.ts) or by hand in tests with `buildRoadMap`.
 */
import type { Lane } from '../world/lane.js';
import { laneKey } from '../world/lane.js';

export interface EnvRoad {
  /** "from->to". */
  readonly key: string;
  readonly from: string;
  readonly to: string;
  /** Lanes, index 0 = leftmost (next to the centre line). */
  readonly lanes: readonly Lane[];
  /** 'junction' for lane connectors inside intersections/roundabouts (world RoadKind). */
  readonly kind: string;
}

/** A block that spawns traffic (every block except the first, spec §5.2). */
export interface TrafficBlock {
  /** Block type letter (C, S, r, R, X, T, O). */
  readonly type: string;
  /** Lanes where traffic may spawn (slots every 10 m). */
  readonly spawnLanes: readonly Lane[];
  /** Key of the road whose entry by the ego wakes this block's traffic (pre-block socket road). */
  readonly triggerRoad: string;
}

export interface RoadMapSpec {
  /** Every road of the network, both directions. */
  roads: { from: string; to: string; lanes: readonly Lane[]; kind?: string }[];
  /** Route as a node list (checkpoints), spawn road first. */
  route: string[];
  blocks: TrafficBlock[];
  laneWidth: number;
  laneNum: number;
  /** Free-form identification (scenario seed, map string). */
  name?: string;
  /** Optional explicit lane successors (laneKey -> laneKeys); otherwise derived from geometry. */
  successors?: Map<string, string[]>;
  /** The object this map was made from (e.g. the world PGMap), for rendering. */
  source?: unknown;
}

export interface RoadMap {
  readonly name: string;
  readonly laneWidth: number;
  readonly laneNum: number;
  readonly roads: ReadonlyMap<string, EnvRoad>;
  readonly lanes: readonly Lane[];
  readonly route: readonly string[];
  /** Route roads in order (route[i] -> route[i+1]). */
  readonly routeRoads: readonly EnvRoad[];
  readonly blocks: readonly TrafficBlock[];
  /** Σ over route roads of the lane-0 length (spec §1.5). */
  readonly totalLength: number;
  roadOf(lane: Lane): EnvRoad;
  successors(lane: Lane): readonly Lane[];
  predecessors(lane: Lane): readonly Lane[];
  /** Roads that start where `road` ends (excluding its own reverse). */
  nextRoads(road: EnvRoad): readonly EnvRoad[];
  /** Lanes whose surface may contain points within `margin` of (x, y) (grid query, superset). */
  lanesNear(x: number, y: number): readonly Lane[];
  /** Bounding box [minX, minY, maxX, maxY] of all lanes. */
  readonly bounds: readonly [number, number, number, number];
  /** The object this map was made from (e.g. the world PGMap), if any. */
  readonly source: unknown;
}

export const roadKey = (from: string, to: string): string => `${from}->${to}`;

const GRID_CELL = 8;
/** Lanes are registered in every cell within width/2 + this margin of their centre line. */
const GRID_MARGIN = 4;

/**
 * Uniform grid over the map's bounding box: each cell holds the lanes registered in it (in
 * registration order). Cells with the same lane list share one array, and the cell -> list
 * table is an Int32Array, so a map costs a few kB of GC-traced memory and a query is two
 * array reads (no hashing, no allocation).
 */
class LaneGrid {
  private readonly x0: number;
  private readonly y0: number;
  private readonly nx: number;
  private readonly ny: number;
  /** Per cell: index into `sets`, or -1. */
  private readonly cellSet: Int32Array;
  private readonly sets: (readonly Lane[])[] = [];
  private static readonly EMPTY: readonly Lane[] = [];
  constructor(lanes: readonly Lane[], bounds: readonly [number, number, number, number]) {
    const pad = GRID_MARGIN + GRID_CELL;
    this.x0 = Math.floor((bounds[0] - pad) / GRID_CELL);
    this.y0 = Math.floor((bounds[1] - pad) / GRID_CELL);
    this.nx = Math.max(1, Math.floor((bounds[2] + pad) / GRID_CELL) - this.x0 + 1);
    this.ny = Math.max(1, Math.floor((bounds[3] + pad) / GRID_CELL) - this.y0 + 1);
    // Lane indices per cell, in registration order.
    const cells: (number[] | undefined)[] = new Array(this.nx * this.ny);
    const p = new Float64Array(2);
    const stamp = new Int32Array(this.nx * this.ny).fill(-1);
    for (let li = 0; li < lanes.length; li++) {
      const lane = lanes[li]!;
      const r = lane.width / 2 + GRID_MARGIN;
      const n = Math.max(2, Math.ceil(lane.length / 2) + 1);
      for (let i = 0; i < n; i++) {
        lane.position((i * lane.length) / (n - 1), 0, p);
        const x0 = Math.floor((p[0]! - r) / GRID_CELL), x1 = Math.floor((p[0]! + r) / GRID_CELL);
        const y0 = Math.floor((p[1]! - r) / GRID_CELL), y1 = Math.floor((p[1]! + r) / GRID_CELL);
        for (let cx = x0; cx <= x1; cx++) {
          for (let cy = y0; cy <= y1; cy++) {
            const k = this.index(cx, cy);
            if (k < 0 || stamp[k] === li) continue;
            stamp[k] = li;
            (cells[k] ??= []).push(li);
          }
        }
      }
    }
    // Intern equal lists (hash of the indices, then an exact comparison).
    this.cellSet = new Int32Array(this.nx * this.ny).fill(-1);
    const setIdx: number[][] = [];
    const buckets = new Map<number, number[]>();
    for (let k = 0; k < cells.length; k++) {
      const c = cells[k];
      if (!c) continue;
      let h = c.length;
      for (const li of c) h = (Math.imul(h, 0x9e3779b1) + li) | 0;
      const bucket = buckets.get(h);
      let id = -1;
      if (bucket) {
        for (const cand of bucket) {
          const o = setIdx[cand]!;
          if (o.length === c.length && o.every((v, i) => v === c[i])) {
            id = cand;
            break;
          }
        }
      }
      if (id < 0) {
        id = setIdx.length;
        setIdx.push(c);
        this.sets.push(c.map((li) => lanes[li]!));
        if (bucket) bucket.push(id);
        else buckets.set(h, [id]);
      }
      this.cellSet[k] = id;
    }
  }
  /** Cell index of grid coordinates, -1 outside the grid. */
  private index(cx: number, cy: number): number {
    const ix = cx - this.x0, iy = cy - this.y0;
    if (ix < 0 || iy < 0 || ix >= this.nx || iy >= this.ny) return -1;
    return iy * this.nx + ix;
  }
  query(x: number, y: number): readonly Lane[] {
    const k = this.index(Math.floor(x / GRID_CELL), Math.floor(y / GRID_CELL));
    if (k < 0) return LaneGrid.EMPTY;
    const id = this.cellSet[k]!;
    return id < 0 ? LaneGrid.EMPTY : this.sets[id]!;
  }
}

/** Endpoints closer than this (m) connect lanes when successors are derived from geometry. */
const CONNECT_TOL = 0.05;

export function buildRoadMap(spec: RoadMapSpec): RoadMap {
  const roads = new Map<string, EnvRoad>();
  const laneRoad = new Map<Lane, EnvRoad>();
  const lanes: Lane[] = [];
  for (const r of spec.roads) {
    const key = roadKey(r.from, r.to);
    if (roads.has(key)) throw new Error(`buildRoadMap: duplicate road ${key}.`);
    if (r.lanes.length === 0) throw new Error(`buildRoadMap: road ${key} has no lanes.`);
    const road: EnvRoad = { key, from: r.from, to: r.to, lanes: r.lanes, kind: r.kind ?? 'road' };
    roads.set(key, road);
    for (const l of r.lanes) {
      laneRoad.set(l, road);
      lanes.push(l);
    }
  }
  const routeRoads: EnvRoad[] = [];
  for (let i = 0; i + 1 < spec.route.length; i++) {
    const road = roads.get(roadKey(spec.route[i]!, spec.route[i + 1]!));
    if (!road) throw new Error(`buildRoadMap: route road ${roadKey(spec.route[i]!, spec.route[i + 1]!)} is not in the network.`);
    routeRoads.push(road);
  }
  if (routeRoads.length === 0) throw new Error(`buildRoadMap: the route needs at least 2 nodes, found ${JSON.stringify(spec.route)}.`);
  for (const b of spec.blocks) {
    if (!roads.has(b.triggerRoad)) throw new Error(`buildRoadMap: block ${b.type} trigger road ${b.triggerRoad} is not in the network.`);
  }

  // Lane successors: explicit, or lanes of roads starting at this road's end node whose start
  // point coincides with this lane's end point.
  const succ = new Map<Lane, Lane[]>();
  const pred = new Map<Lane, Lane[]>();
  for (const l of lanes) {
    succ.set(l, []);
    pred.set(l, []);
  }
  const byFrom = new Map<string, EnvRoad[]>();
  for (const r of roads.values()) {
    let arr = byFrom.get(r.from);
    if (!arr) byFrom.set(r.from, (arr = []));
    arr.push(r);
  }
  const byKey = new Map<string, Lane>();
  for (const l of lanes) byKey.set(laneKey(l.id), l);
  const a = new Float64Array(2);
  const b = new Float64Array(2);
  for (const road of roads.values()) {
    const nexts = (byFrom.get(road.to) ?? []).filter((r) => !(r.to === road.from && isReverse(road, r)));
    for (const lane of road.lanes) {
      let out: Lane[];
      if (spec.successors) {
        out = (spec.successors.get(laneKey(lane.id)) ?? []).map((k) => {
          const l = byKey.get(k);
          if (!l) throw new Error(`buildRoadMap: successor ${k} of ${laneKey(lane.id)} is not in the network.`);
          return l;
        });
      } else {
        lane.position(lane.length, 0, a);
        out = [];
        for (const nr of nexts) {
          for (const nl of nr.lanes) {
            nl.position(0, 0, b);
            if (Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!) < CONNECT_TOL) out.push(nl);
          }
        }
      }
      succ.set(lane, out);
      for (const nl of out) pred.get(nl)!.push(lane);
    }
  }
  const nextRoadsCache = new Map<EnvRoad, EnvRoad[]>();
  for (const road of roads.values()) {
    nextRoadsCache.set(road, (byFrom.get(road.to) ?? []).filter((r) => !isReverse(road, r)));
  }

  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const p = new Float64Array(2);
  for (const l of lanes) {
    const n = Math.max(2, Math.ceil(l.length / 2) + 1);
    const lats = [-l.width / 2, l.width / 2];
    for (let i = 0; i < n; i++) {
      for (const lat of lats) {
        l.position((i * l.length) / (n - 1), lat, p);
        minX = Math.min(minX, p[0]!);
        minY = Math.min(minY, p[1]!);
        maxX = Math.max(maxX, p[0]!);
        maxY = Math.max(maxY, p[1]!);
      }
    }
  }
  const grid = new LaneGrid(lanes, [minX, minY, maxX, maxY]);
  let totalLength = 0;
  for (const r of routeRoads) totalLength += r.lanes[0]!.length;

  // The closures below must not capture `spec` (it holds the source map).
  const mapName = spec.name ?? 'map';
  return {
    name: mapName,
    laneWidth: spec.laneWidth,
    laneNum: spec.laneNum,
    roads,
    lanes,
    route: spec.route.slice(),
    routeRoads,
    blocks: spec.blocks,
    totalLength,
    roadOf(lane) {
      const r = laneRoad.get(lane);
      if (!r) throw new Error(`RoadMap.roadOf: lane ${laneKey(lane.id)} is not in map ${mapName}.`);
      return r;
    },
    successors: (lane) => succ.get(lane) ?? [],
    predecessors: (lane) => pred.get(lane) ?? [],
    nextRoads: (road) => nextRoadsCache.get(road) ?? [],
    lanesNear: (x, y) => grid.query(x, y),
    bounds: [minX, minY, maxX, maxY],
    source: spec.source ?? null,
  };
}

/** MetaDrive negative roads: "-B->-A" mirrors "A->B". */
function isReverse(a: EnvRoad, b: EnvRoad): boolean {
  const neg = (n: string) => (n.startsWith('-') ? n.slice(1) : '-' + n);
  return b.from === neg(a.to) && b.to === neg(a.from);
}
