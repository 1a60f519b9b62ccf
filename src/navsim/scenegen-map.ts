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
import { intersectionPolygons, laneSurface, roadPolygon } from '../world/polygons.js';

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
    if (!connector) areas.push({ id: key, type: 'ROADBLOCK', polygon: ringJson(roadPolygon(road, opts.step)) });
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
