/**
 * Allocation-free lane queries for the env's hot loops. `laneLocal` reproduces
 * `Lane.localCoordinates` of world/lane.ts exactly (same formulas, including the arc rule that
 * measures the phase from the start or, if nearer, from the end) but writes into a scratch
 * array instead of returning an object, and avoids Math.hypot.
 */
import { wrapAngle } from '../geometry/angle.js';
import type { Lane } from '../world/lane.js';

/** Writes (long, lat) of world point (x, y) on `lane` into out[0], out[1]; returns out. */
export function laneLocal(lane: Lane, x: number, y: number, out: Float64Array): Float64Array {
  if (lane.kind === 'straight') {
    const sx = lane.start[0], sy = lane.start[1];
    const inv = 1 / lane.length;
    const ux = (lane.end[0] - sx) * inv, uy = (lane.end[1] - sy) * inv;
    const px = x - sx, py = y - sy;
    out[0] = px * ux + py * uy;
    out[1] = px * uy - py * ux;
    return out;
  }
  const dx = x - lane.center[0], dy = y - lane.center[1];
  const dir = lane.clockwise ? -1 : 1;
  const phase = Math.atan2(dy, dx);
  const fromStart = wrapAngle(phase - lane.startPhase);
  const fromEnd = wrapAngle(phase - (lane.startPhase + dir * lane.angle));
  out[0] = Math.abs(fromStart) <= Math.abs(fromEnd) ? dir * fromStart * lane.radius : lane.length + dir * fromEnd * lane.radius;
  out[1] = dir * (Math.sqrt(dx * dx + dy * dy) - lane.radius);
  return out;
}

/** The lateral coordinate of laneLocal alone (same expressions, so the same value). */
export function laneLat(lane: Lane, x: number, y: number): number {
  if (lane.kind === 'straight') {
    const sx = lane.start[0], sy = lane.start[1];
    const inv = 1 / lane.length;
    const ux = (lane.end[0] - sx) * inv, uy = (lane.end[1] - sy) * inv;
    return (x - sx) * uy - (y - sy) * ux;
  }
  const dx = x - lane.center[0], dy = y - lane.center[1];
  return (lane.clockwise ? -1 : 1) * (Math.sqrt(dx * dx + dy * dy) - lane.radius);
}

/**
 * |lat| of (x, y) on an arc lane, or -1 for a straight lane. Same expression as laneLocal, so
 * a test on it gives the same answer as one on laneLocal's lat, without the atan2 of `long`.
 */
export function arcAbsLat(lane: Lane, x: number, y: number): number {
  if (lane.kind === 'straight') return -1;
  const dx = x - lane.center[0], dy = y - lane.center[1];
  return Math.abs(Math.sqrt(dx * dx + dy * dy) - lane.radius);
}

/** Exact on-surface test 0 <= long <= length, |lat| <= width / 2. */
export function onLaneSurface(lane: Lane, x: number, y: number, scratch: Float64Array): boolean {
  if (arcAbsLat(lane, x, y) > lane.width / 2) return false;
  laneLocal(lane, x, y, scratch);
  return scratch[0]! >= 0 && scratch[0]! <= lane.length && Math.abs(scratch[1]!) <= lane.width / 2;
}
