/**
 * Lanes as MetaDrive defines them (spec metadrive-env.md §1.4). Local coordinates are
 * `(long, lat)`: `long` along the lane from its start, `lat` positive to the RIGHT of the
 * driving direction. World frame: x forward, y left, heading counter-clockwise from +x.
 */
import { wrapAngle } from '../geometry/angle.js';

export type LineType = 'none' | 'broken' | 'continuous' | 'side';

export interface LaneId {
  /** Start node of the road ("road" = directed edge between two nodes). */
  from: string;
  /** End node of the road. */
  to: string;
  /** Lane index on the road: 0 = leftmost (next to the centre line). */
  index: number;
}

export interface LocalCoords {
  long: number;
  lat: number;
}

interface LaneCommon {
  readonly id: LaneId;
  readonly width: number;
  readonly length: number;
  /** Line types of the [left, right] borders. */
  readonly lineTypes: readonly [LineType, LineType];
  /** Speed limit in m/s (MetaDrive ramps: 12 m/s). */
  readonly speedLimit: number;
  /** World position of local (long, lat); writes into `out` if given. */
  position(long: number, lat: number, out?: Float64Array): Float64Array;
  /** Heading (rad) of the lane direction at `long`. */
  headingAt(long: number): number;
  /** Local coordinates of a world point. */
  localCoordinates(x: number, y: number): LocalCoords;
  /** Exact on-lane test: 0 <= long <= length and |lat| <= width/2 (plus optional margins). */
  onLane(x: number, y: number, longMargin?: number, latMargin?: number): boolean;
}

export interface StraightLane extends LaneCommon {
  readonly kind: 'straight';
  readonly start: readonly [number, number];
  readonly end: readonly [number, number];
}

export interface CircularLane extends LaneCommon {
  readonly kind: 'circular';
  readonly center: readonly [number, number];
  readonly radius: number;
  readonly startPhase: number;
  /** Swept angle (rad, positive). */
  readonly angle: number;
  readonly clockwise: boolean;
}

export type Lane = StraightLane | CircularLane;

export interface LaneOptions {
  width: number;
  lineTypes?: readonly [LineType, LineType];
  speedLimit?: number;
}

/** MetaDrive lanes default to 1000 km/h, i.e. no limit. */
const DEFAULT_SPEED_LIMIT = 1000 / 3.6;

function onLaneImpl(lane: LaneCommon, x: number, y: number, longMargin = 0, latMargin = 0): boolean {
  const { long, lat } = lane.localCoordinates(x, y);
  return long >= -longMargin && long <= lane.length + longMargin && Math.abs(lat) <= lane.width / 2 + latMargin;
}

export function makeStraightLane(
  id: LaneId,
  start: readonly [number, number],
  end: readonly [number, number],
  opts: LaneOptions,
): StraightLane {
  const dx = end[0] - start[0];
  const dy = end[1] - start[1];
  const length = Math.hypot(dx, dy);
  if (!(length > 0)) throw new Error(`StraightLane ${laneKey(id)}: start and end coincide (${start}).`);
  const ux = dx / length;
  const uy = dy / length;
  // Right-pointing normal n = (d_y, -d_x).
  const nx = uy;
  const ny = -ux;
  const heading = Math.atan2(uy, ux);
  const lane: StraightLane = {
    kind: 'straight',
    id,
    start: [start[0], start[1]],
    end: [end[0], end[1]],
    width: opts.width,
    length,
    lineTypes: opts.lineTypes ?? ['broken', 'broken'],
    speedLimit: opts.speedLimit ?? DEFAULT_SPEED_LIMIT,
    position(long, lat, out = new Float64Array(2)) {
      out[0] = start[0] + long * ux + lat * nx;
      out[1] = start[1] + long * uy + lat * ny;
      return out;
    },
    headingAt: () => heading,
    localCoordinates(x, y) {
      const px = x - start[0];
      const py = y - start[1];
      return { long: px * ux + py * uy, lat: px * nx + py * ny };
    },
    onLane(x, y, lm, am) {
      return onLaneImpl(lane, x, y, lm, am);
    },
  };
  return lane;
}

export function makeCircularLane(
  id: LaneId,
  center: readonly [number, number],
  radius: number,
  startPhase: number,
  angle: number,
  clockwise: boolean,
  opts: LaneOptions,
): CircularLane {
  if (!(radius > 0)) throw new Error(`CircularLane ${laneKey(id)}: radius must be > 0, found ${radius}.`);
  if (!(angle > 0)) throw new Error(`CircularLane ${laneKey(id)}: angle must be > 0, found ${angle}.`);
  const dir = clockwise ? -1 : 1;
  const length = radius * angle;
  const endPhase = startPhase + dir * angle;
  const lane: CircularLane = {
    kind: 'circular',
    id,
    center: [center[0], center[1]],
    radius,
    startPhase,
    angle,
    clockwise,
    width: opts.width,
    length,
    lineTypes: opts.lineTypes ?? ['broken', 'broken'],
    speedLimit: opts.speedLimit ?? DEFAULT_SPEED_LIMIT,
    position(long, lat, out = new Float64Array(2)) {
      const phi = startPhase + (dir * long) / radius;
      const r = radius + lat * dir;
      out[0] = center[0] + r * Math.cos(phi);
      out[1] = center[1] + r * Math.sin(phi);
      return out;
    },
    headingAt(long) {
      return startPhase + (dir * long) / radius + (dir * Math.PI) / 2;
    },
    localCoordinates(x, y) {
      const dx = x - center[0];
      const dy = y - center[1];
      const phase = Math.atan2(dy, dx);
      // Signed phase offset from the start (or, if nearer, from the end), as MetaDrive does.
      const fromStart = wrapAngle(phase - startPhase);
      const fromEnd = wrapAngle(phase - endPhase);
      let long: number;
      if (Math.abs(fromStart) <= Math.abs(fromEnd)) long = dir * fromStart * radius;
      else long = length + dir * fromEnd * radius;
      const lat = dir * (Math.hypot(dx, dy) - radius);
      return { long, lat };
    },
    onLane(x, y, lm, am) {
      return onLaneImpl(lane, x, y, lm, am);
    },
  };
  return lane;
}

/** "from->to#index", a stable string key for maps and JSON. */
export function laneKey(id: LaneId): string {
  return `${id.from}->${id.to}#${id.index}`;
}

/** Samples the lane centre line (or an offset line) every `step` metres, end included. */
export function sampleLane(lane: Lane, step = 1, lat = 0): Float64Array {
  const n = Math.max(2, Math.ceil(lane.length / step) + 1);
  const out = new Float64Array(n * 2);
  const p = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    const s = Math.min(lane.length, (i * lane.length) / (n - 1));
    lane.position(s, lat, p);
    out[2 * i] = p[0]!;
    out[2 * i + 1] = p[1]!;
  }
  return out;
}

/** The lane polygon (left border forward, right border backward), closed implicitly. */
export function lanePolygon(lane: Lane, step = 1): Float64Array {
  const left = sampleLane(lane, step, -lane.width / 2);
  const right = sampleLane(lane, step, lane.width / 2);
  const n = left.length / 2;
  const out = new Float64Array(left.length * 2);
  out.set(left, 0);
  for (let i = 0; i < n; i++) {
    out[2 * (n + i)] = right[2 * (n - 1 - i)]!;
    out[2 * (n + i) + 1] = right[2 * (n - 1 - i) + 1]!;
  }
  return out;
}
