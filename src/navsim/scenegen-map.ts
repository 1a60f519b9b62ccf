/**
 * A procedural MetaDrive-style map (`world/`) cut out around the ego and written in the
 * `pdm_ref_scene` map form: ROADBLOCK areas (one per directed road outside junctions, nuPlan's
 * roadblocks), INTERSECTION areas (X/T junction areas, roundabouts with the island as a hole),
 * LANE (lanes of roadblocks) and LANE_CONNECTOR (lanes inside junctions) with centre lines, speed
 * limits and the route flag. As NAVSIM's metric caching does, only map objects within
 * `radius` metres of the ego are kept (bounding-box test).
 */
import type { PGMap } from '../world/generator.js';
import { laneKey, sampleLane, type Lane } from '../world/lane.js';
import { roadKey, type Road } from '../world/network.js';
import { intersectionPolygons, laneSurface } from '../world/polygons.js';

/**
 * Roadblock polygons are grown by this much (m) sideways and at both ends: neighbouring roadblocks
 * (the two directions of a curved road, consecutive roads) sample their shared border at different
 * points, and the slivers between the chords would otherwise be "non-drivable" for the scorer.
 */
export const ROADBLOCK_GROW = 0.05;

export interface SceneMapJson {
  areas: { id: string; type: 'ROADBLOCK' | 'INTERSECTION'; polygon: number[][]; holes?: number[][][] }[];
  lanes: {
    id: string;
    type: 'LANE' | 'LANE_CONNECTOR';
    roadblock_id: string;
    polygon: number[][];
    centerline: number[][];
    speed_limit_mps: number;
    on_route: boolean;
  }[];
}

export interface MapCutOptions {
  /** Centre of the cut (the ego). */
  center: readonly [number, number];
  /** Half size of the square kept around the centre (m); NAVSIM uses a 100 m radius. */
  radius: number;
  /** Keys (`roadKey`) of the route roads: their lanes are `on_route`. */
  routeRoads: ReadonlySet<string>;
  /** Speed limit of a road's lanes (m/s). */
  speedLimit: (road: Road) => number;
  /** Sampling step of polygons and centre lines (m). */
  step: number;
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

function ringJson(flat: Float64Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([round(flat[i]!), round(flat[i + 1]!)]);
  return out;
}

function centerlineJson(lane: Lane, step: number): number[][] {
  const pts = sampleLane(lane, step);
  const n = pts.length / 2;
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s = Math.min(lane.length, (i * lane.length) / (n - 1));
    out.push([round(pts[2 * i]!), round(pts[2 * i + 1]!), round(lane.headingAt(s))]);
  }
  return out;
}

/** Left edge of lane 0 forward, right edge of the last lane backward, both `grow` wider and longer. */
function grownRoadPolygon(road: Road, step: number, grow: number): Float64Array {
  const first = road.lanes[0]!;
  const last = road.lanes[road.lanes.length - 1]!;
  const edge = (lane: Lane, lat: number): number[] => {
    const len = lane.length + 2 * grow;
    const n = Math.max(2, Math.ceil(len / step) + 1);
    const pts: number[] = [];
    const p = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      lane.position(-grow + (i * len) / (n - 1), lat, p);
      pts.push(p[0]!, p[1]!);
    }
    return pts;
  };
  const left = edge(first, -(first.width / 2 + grow));
  const right = edge(last, last.width / 2 + grow);
  const out = new Float64Array(left.length + right.length);
  out.set(left, 0);
  for (let i = 0; i < right.length / 2; i++) {
    const j = right.length / 2 - 1 - i;
    out[left.length + 2 * i] = right[2 * j]!;
    out[left.length + 2 * i + 1] = right[2 * j + 1]!;
  }
  return out;
}

function boxesOverlap(b: readonly number[], minX: number, minY: number, maxX: number, maxY: number): boolean {
  return !(b[0]! > maxX || b[2]! < minX || b[1]! > maxY || b[3]! < minY);
}

function ringBox(flat: Float64Array): number[] {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    minX = Math.min(minX, flat[i]!);
    maxX = Math.max(maxX, flat[i]!);
    minY = Math.min(minY, flat[i + 1]!);
    maxY = Math.max(maxY, flat[i + 1]!);
  }
  return [minX, minY, maxX, maxY];
}

/** The map around `center` in `pdm_ref_scene` form. */
export function sceneMapJson(map: PGMap, opts: MapCutOptions): SceneMapJson {
  const [cx, cy] = opts.center;
  const r = opts.radius;
  const box = [cx - r, cy - r, cx + r, cy + r] as const;
  const areas: SceneMapJson['areas'] = [];
  const lanes: SceneMapJson['lanes'] = [];
  for (const road of map.network.roads()) {
    if (!boxesOverlap(road.bounds, ...box)) continue;
    const key = roadKey(road.from, road.to);
    const connector = road.kind === 'junction';
    if (!connector) areas.push({ id: key, type: 'ROADBLOCK', polygon: ringJson(grownRoadPolygon(road, opts.step, ROADBLOCK_GROW)) });
    const taper = map.tapers.get(key)?.mode;
    const limit = opts.speedLimit(road);
    for (const lane of road.lanes) {
      lanes.push({
        id: laneKey(lane.id),
        type: connector ? 'LANE_CONNECTOR' : 'LANE',
        roadblock_id: key,
        polygon: ringJson(laneSurface(lane, taper, opts.step)),
        centerline: centerlineJson(lane, opts.step),
        speed_limit_mps: round(limit),
        on_route: opts.routeRoads.has(key),
      });
    }
  }
  for (const { block, polygon } of intersectionPolygons(map, opts.step)) {
    if (!boxesOverlap(ringBox(polygon.outer), ...box)) continue;
    const area: SceneMapJson['areas'][number] = { id: `intersection_${block}`, type: 'INTERSECTION', polygon: ringJson(polygon.outer) };
    if (polygon.holes.length > 0) area.holes = polygon.holes.map(ringJson);
    areas.push(area);
  }
  return { areas, lanes };
}
