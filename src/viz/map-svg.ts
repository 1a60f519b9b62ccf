/**
 * Bird's-eye SVG of a procedural map: sidewalks, lane surfaces (tapers as triangles), junction
 * areas, painted lines (broken / solid white, yellow centre), the route, and optional layers
 * that the env adds: vehicles as rotated boxes, trajectories and lidar rays.
 */
import type { PGMap } from '../world/generator.js';
import { intersectionPolygons, laneSurface, mapLines, sidewalkPolygons } from '../world/polygons.js';
import { roadKey } from '../world/network.js';
import { SvgCanvas, type SvgAttrs } from './svg.js';
import { drawTitle } from './svg-overlays.js';

export interface VehicleBox {
  x: number;
  y: number;
  heading: number;
  length: number;
  width: number;
  /** Fill colour (default: traffic blue; use `ego: true` for the ego colour). */
  color?: string;
  ego?: boolean;
  label?: string;
}

export interface Trajectory {
  /** Flat [x0, y0, x1, y1, ...] world points. */
  points: ArrayLike<number>;
  color?: string;
  /** Stroke width in metres (default 0.4). */
  width?: number;
  dashed?: boolean;
}

export interface RayFan {
  /** Ray origin. */
  x: number;
  y: number;
  /** End points [x0, y0, x1, y1, ...] (hit point or max range). */
  ends: ArrayLike<number>;
  /** Per-ray hit flag (hits drawn in `hitColor`). */
  hits?: ArrayLike<number | boolean>;
  color?: string;
  hitColor?: string;
}

export interface MapSvgOptions {
  /** Image width in pixels (default 900). */
  width?: number;
  padding?: number;
  /** World bounds to show (default: the map bounds plus a 6 m margin). */
  bounds?: readonly [number, number, number, number];
  /** Highlight the route lanes (default true). */
  route?: boolean;
  sidewalks?: boolean;
  /** Label block names at their first road (default false). */
  labels?: boolean;
  title?: string;
  vehicles?: readonly VehicleBox[];
  trajectories?: readonly Trajectory[];
  rays?: readonly RayFan[];
}

export const MAP_COLORS = {
  background: '#d9e4cf',
  sidewalk: '#b9b4aa',
  lane: '#5b5d63',
  junction: '#5b5d63',
  route: '#3d7de0',
  white: '#f4f4f4',
  yellow: '#f2c230',
  ego: '#e0452b',
  // amber: stands out from the blue route shading, the grey road and the red ego
  traffic: '#ffae1a',
  ray: '#7fc97f',
  rayHit: '#d6338a',
} as const;

/** A white outline under text, so labels stay readable over roads and vehicles. */
const HALO = { stroke: '#fff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } as const;

/** Bounds of the map's lane surfaces plus `margin` metres. */
export function mapBounds(map: PGMap, margin = 6): [number, number, number, number] {
  const b = map.network.bounds();
  return [b[0] - margin, b[1] - margin, b[2] + margin, b[3] + margin];
}

/** Draws the map into a new canvas and returns it, so callers can add more layers. */
export function renderMap(map: PGMap, opts: MapSvgOptions = {}): SvgCanvas {
  const c = new SvgCanvas(opts.bounds ?? mapBounds(map), { width: opts.width ?? 900, padding: opts.padding ?? 10, background: MAP_COLORS.background });
  const px = (m: number) => Math.max(0.6, m * c.scale);

  if (opts.sidewalks ?? true) {
    c.group({ fill: MAP_COLORS.sidewalk, stroke: 'none' }, (g) => {
      for (const p of sidewalkPolygons(map, 2)) g.polygon(p);
    });
  }
  c.group({ fill: MAP_COLORS.junction, stroke: 'none' }, (g) => {
    for (const { polygon } of intersectionPolygons(map, 1)) g.polygonWithHoles(polygon.outer, polygon.holes);
  });
  const routeKeys = new Set(map.routeRoads.map((r) => roadKey(r.from, r.to)));
  // Lane surfaces; a thin stroke of the same colour hides seams between neighbours.
  c.group({ fill: MAP_COLORS.lane, stroke: MAP_COLORS.lane, 'stroke-width': px(0.05) }, (g) => {
    for (const road of map.network.roads()) {
      const taper = map.tapers.get(roadKey(road.from, road.to))?.mode;
      for (const lane of road.lanes) g.polygon(laneSurface(lane, taper, 1));
    }
  });
  if (opts.route ?? true) {
    c.group({ fill: MAP_COLORS.route, 'fill-opacity': 0.28, stroke: 'none' }, (g) => {
      for (const road of map.network.roads()) {
        if (!routeKeys.has(roadKey(road.from, road.to))) continue;
        for (const lane of road.lanes) g.polygon(laneSurface(lane, undefined, 1));
      }
    });
  }
  c.group({ fill: 'none', 'stroke-linecap': 'butt' }, (g) => {
    for (const line of mapLines(map, 1)) {
      const a: SvgAttrs = {
        stroke: line.color === 'yellow' ? MAP_COLORS.yellow : MAP_COLORS.white,
        'stroke-width': px(line.type === 'side' ? 0.3 : 0.15),
      };
      if (line.type === 'broken') a['stroke-dasharray'] = `${(3 * c.scale).toFixed(2)} ${(3 * c.scale).toFixed(2)}`;
      g.polyline(line.points, a);
    }
  });
  if (opts.labels) {
    for (const b of map.blocks) {
      const r = b.roads[0];
      if (!r) continue;
      const lane = map.network.lanes(r.from, r.to)[0]!;
      const p = lane.position(lane.length / 2, -lane.width * 1.5);
      c.text(p[0]!, p[1]!, b.name, { fill: '#222', 'font-size': 13, 'font-weight': 'bold', ...HALO });
    }
  }
  // Destination marker.
  const fl = map.finalLane;
  const goal = fl.position(fl.length, 0);
  c.circle(goal[0]!, goal[1]!, 1.5, { fill: MAP_COLORS.route, stroke: '#fff', 'stroke-width': 1 });
  if (opts.trajectories) drawTrajectories(c, opts.trajectories);
  if (opts.rays) drawRays(c, opts.rays);
  if (opts.vehicles) drawVehicles(c, opts.vehicles);
  if (opts.title) drawTitle(c, opts.title);
  return c;
}

/** The map as an SVG string. */
export function mapToSvg(map: PGMap, opts: MapSvgOptions = {}): string {
  return renderMap(map, opts).toString();
}

export function drawVehicles(c: SvgCanvas, vehicles: readonly VehicleBox[]): void {
  for (const v of vehicles) {
    const fill = v.color ?? (v.ego ? MAP_COLORS.ego : MAP_COLORS.traffic);
    c.orientedBox(v.x, v.y, v.heading, v.length, v.width, { fill, stroke: '#111', 'stroke-width': 0.8 });
    // Windscreen tick shows the heading.
    const f = v.length * 0.3;
    c.line(v.x, v.y, v.x + Math.cos(v.heading) * f, v.y + Math.sin(v.heading) * f, { stroke: '#fff', 'stroke-width': 1.2 });
    if (v.label) c.text(v.x, v.y + v.width, v.label, { fill: '#111', 'font-size': 11, ...HALO });
  }
}

export function drawTrajectories(c: SvgCanvas, trajectories: readonly Trajectory[]): void {
  for (const t of trajectories) {
    const a: SvgAttrs = {
      stroke: t.color ?? MAP_COLORS.ego,
      'stroke-width': Math.max(1, (t.width ?? 0.4) * c.scale),
      'stroke-linejoin': 'round',
    };
    if (t.dashed) a['stroke-dasharray'] = '6 4';
    c.polyline(t.points, a);
  }
}

export function drawRays(c: SvgCanvas, fans: readonly RayFan[]): void {
  for (const f of fans) {
    for (let i = 0; 2 * i + 1 < f.ends.length; i++) {
      const hit = f.hits ? Boolean(f.hits[i]) : false;
      c.line(f.x, f.y, f.ends[2 * i]!, f.ends[2 * i + 1]!, {
        stroke: hit ? (f.hitColor ?? MAP_COLORS.rayHit) : (f.color ?? MAP_COLORS.ray),
        'stroke-width': 0.6,
        // free rays faint: 240 of them at full strength hide the road under a disc
        'stroke-opacity': hit ? 0.9 : 0.15,
      });
    }
  }
}
