/**
 * Oriented boxes as flat corner rings, with the exact arithmetic of nuPlan's `OrientedBox` and
 * `translate_lon_and_lat` so that corners match the Python reference bit for bit.
 *
 * Corner order is FRONT_LEFT, REAR_LEFT, REAR_RIGHT, FRONT_RIGHT (the nuPlan `all_corners` order
 * and the ring the PDM scorer builds). A box ring is 8 numbers `[flx, fly, rlx, rly, rrx, rry, frx, fry]`.
 */
import { ringsIntersect, segmentIntersectsRing } from './polygon.js';

const HALF_PI = Math.PI / 2;

/**
 * Writes the 4 corners of a box centred at (cx, cy) with the given heading and half extents into
 * `out` at `offset` (8 numbers). Follows nuPlan: corner = centre + lat·(cos(h+π/2), sin(h+π/2)) +
 * lon·(cos h, sin h), evaluated in that order.
 */
export function boxCorners(
  cx: number, cy: number, heading: number, halfLength: number, halfWidth: number,
  out: Float64Array, offset = 0,
): Float64Array {
  const c = Math.cos(heading);
  const s = Math.sin(heading);
  const cl = Math.cos(heading + HALF_PI);
  const sl = Math.sin(heading + HALF_PI);
  // FRONT_LEFT (+lon, +lat)
  out[offset] = cx + (halfWidth * cl + halfLength * c);
  out[offset + 1] = cy + (halfWidth * sl + halfLength * s);
  // REAR_LEFT (-lon, +lat)
  out[offset + 2] = cx + (halfWidth * cl + -halfLength * c);
  out[offset + 3] = cy + (halfWidth * sl + -halfLength * s);
  // REAR_RIGHT (-lon, -lat)
  out[offset + 4] = cx + (-halfWidth * cl + -halfLength * c);
  out[offset + 5] = cy + (-halfWidth * sl + -halfLength * s);
  // FRONT_RIGHT (+lon, -lat)
  out[offset + 6] = cx + (-halfWidth * cl + halfLength * c);
  out[offset + 7] = cy + (-halfWidth * sl + halfLength * s);
  return out;
}

/** Axis-aligned bounds of a box ring at `offset` into `out` at `outOffset`: minX, minY, maxX, maxY. */
export function boxBounds(corners: ArrayLike<number>, offset: number, out: Float64Array, outOffset = 0): Float64Array {
  let minX = corners[offset]!;
  let maxX = minX;
  let minY = corners[offset + 1]!;
  let maxY = minY;
  for (let k = 1; k < 4; k++) {
    const x = corners[offset + 2 * k]!;
    const y = corners[offset + 2 * k + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  out[outOffset] = minX;
  out[outOffset + 1] = minY;
  out[outOffset + 2] = maxX;
  out[outOffset + 3] = maxY;
  return out;
}

/** True when two [minX, minY, maxX, maxY] boxes overlap or touch. */
export function boundsOverlap(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): boolean {
  return !(a[ao]! > b[bo + 2]! || a[ao + 2]! < b[bo]! || a[ao + 1]! > b[bo + 3]! || a[ao + 3]! < b[bo + 1]!);
}

/**
 * Closed intersection of two box rings (touching counts), with shapely `intersects` semantics and
 * exact orientation predicates. Callers should reject by bounds first.
 */
export function boxesIntersect(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): boolean {
  return ringsIntersect(a, ao, 4, b, bo, 4);
}

/** Closed intersection of the segment (x1, y1)-(x2, y2) with a box ring. */
export function segmentIntersectsBox(x1: number, y1: number, x2: number, y2: number, box: ArrayLike<number>, offset: number): boolean {
  return segmentIntersectsRing(x1, y1, x2, y2, box, offset, 4);
}
