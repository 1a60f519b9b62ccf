/**
 * Env scenes on top of the map renderer: ego and traffic boxes (parked traffic drawn grey),
 * lidar rays (hits in red), the ego trail and the route, with a title panel, a legend and a
 * scale bar. Works on procedural maps (via `renderMap`) and on hand-built env maps (lane
 * surfaces only).
 *
 *   const { obs } = env.reset({ seed: 7 });
 *   writePng('scene.png', envToSvg(env, { title: 'seed 7' }));            // 120 m around the ego
 *   writePng('map.png', envToSvg(env, { window: 'map' }));                 // the whole map
 */
import type { DrivingEnv } from '../env/env.js';
import { pgMapOf } from '../env/world-adapter.js';
import { lanePolygon } from '../world/lane.js';
import { MAP_COLORS, drawRays, drawTrajectories, drawVehicles, renderMap, type VehicleBox } from './map-svg.js';
import { SvgCanvas } from './svg.js';
import { drawLegend, drawScaleBar, drawTitle, type LegendEntry } from './svg-overlays.js';

export interface EnvSvgOptions {
  /** Image width in pixels (default 900). */
  width?: number;
  /** Half-size (m) of the view around the ego (default 60: a 120 m square), or 'map' for the whole map. */
  window?: number | 'map';
  /** Draw the lidar rays (default true). */
  rays?: boolean;
  /** Ego trail as flat [x0, y0, x1, y1, ...]. */
  trail?: ArrayLike<number>;
  title?: string;
  /** Label traffic vehicles with their id (default false). */
  labels?: boolean;
  /** Draw the legend and the scale bar (default true). */
  legend?: boolean;
}

/** Default half-size of the view around the ego (m). */
export const ENV_VIEW_HALF_SIZE = 60;

export const PARKED_COLOR = '#8a8f99';

/** The vehicles of the current scene as boxes (ego last, so it is drawn on top). */
export function sceneVehicles(env: DrivingEnv, labels = false): VehicleBox[] {
  const out: VehicleBox[] = [];
  for (const t of env.traffic.alive) {
    const v = t.vehicle;
    const box: VehicleBox = { x: v.x, y: v.y, heading: v.heading, length: v.length, width: v.width };
    if (!t.active) box.color = PARKED_COLOR;
    if (labels) box.label = String(v.id);
    out.push(box);
  }
  const e = env.ego;
  out.push({ x: e.x, y: e.y, heading: e.heading, length: e.length, width: e.width, ego: true });
  return out;
}

/** Lidar ray end points from the last observation. */
export function lidarRayFan(env: DrivingEnv): { x: number; y: number; ends: Float64Array; hits: Uint8Array } {
  const e = env.ego;
  const n = env.config.lidar.num_lasers;
  const range = env.config.lidar.distance;
  const ends = new Float64Array(2 * n);
  const hits = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const f = env.lastLidar[i]!;
    const a = e.heading + (i * 2 * Math.PI) / n;
    ends[2 * i] = e.x + Math.cos(a) * f * range;
    ends[2 * i + 1] = e.y + Math.sin(a) * f * range;
    hits[i] = f < 1 ? 1 : 0;
  }
  return { x: e.x, y: e.y, ends, hits };
}

/** SVG of the env's current state (call after reset()/step()). */
export function envToSvg(env: DrivingEnv, opts: EnvSvgOptions = {}): string {
  const e = env.ego;
  const w = opts.window ?? ENV_VIEW_HALF_SIZE;
  const [bx0, by0, bx1, by1] = env.map.bounds;
  const bounds: [number, number, number, number] = w !== 'map' ? [e.x - w, e.y - w, e.x + w, e.y + w] : [bx0 - 6, by0 - 6, bx1 + 6, by1 + 6];
  const pg = pgMapOf(env.map);
  let c: SvgCanvas;
  if (pg) {
    c = renderMap(pg, { width: opts.width ?? 900, bounds });
  } else {
    c = new SvgCanvas(bounds, { width: opts.width ?? 900, padding: 10, background: MAP_COLORS.background });
    c.group({ fill: MAP_COLORS.lane, stroke: MAP_COLORS.white, 'stroke-width': 0.5 }, (g) => {
      for (const lane of env.map.lanes) g.polygon(lanePolygon(lane, 1));
    });
  }
  if (opts.trail && opts.trail.length >= 4) drawTrajectories(c, [{ points: opts.trail, color: MAP_COLORS.ego, width: 0.5 }]);
  if (opts.rays ?? true) drawRays(c, [lidarRayFan(env)]);
  const vehicles = sceneVehicles(env, opts.labels ?? false);
  drawVehicles(c, vehicles);
  const titleBox = opts.title ? drawTitle(c, opts.title) : undefined;
  if (opts.legend ?? true) {
    const entries: LegendEntry[] = [
      { label: 'ego', color: MAP_COLORS.ego, kind: 'box' },
      { label: 'traffic', color: MAP_COLORS.traffic, kind: 'box' },
    ];
    if (vehicles.some((v) => v.color === PARKED_COLOR)) entries.push({ label: 'parked', color: PARKED_COLOR, kind: 'box' });
    if (pg) entries.push({ label: 'route', color: MAP_COLORS.route, kind: 'area' });
    if (opts.trail && opts.trail.length >= 4) entries.push({ label: 'ego trail', color: MAP_COLORS.ego, kind: 'line' });
    if (opts.rays ?? true) entries.push({ label: 'lidar hit', color: MAP_COLORS.rayHit, kind: 'line' });
    drawLegend(c, entries, undefined, titleBox);
    drawScaleBar(c);
  }
  return c.toString();
}
