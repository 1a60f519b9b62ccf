/**
 * 2-D lidar (spec §3.3): `numLasers` rays from the vehicle centre, laser i at
 * heading + i * 2 pi / numLasers (i = 0 straight ahead, counter-clockwise), range `distance`;
 * the value is hit distance / range (1 = nothing hit). Only vehicles (oriented boxes) are
 * detected, never lane lines or road edges, as in MetaDrive.
 *
 * Speed: each box first gets a range pre-filter (centre distance - half diagonal > range is
 * skipped), then only the rays inside the angular sector that the box subtends are intersected
 * (slab test in the box frame). A typical scene costs a few dozen ray-box tests, not 240 x N.
 */

/** Boxes as a flat Float64Array: [cx, cy, heading, length, width] per box. */
export const BOX_STRIDE = 5;

const TWO_PI = 2 * Math.PI;

/**
 * Casts the lidar and writes `numLasers` fractions into `out` starting at `offset`.
 * Returns the number of rays that hit something. With `hitMask`, sets hitMask[b] = 1 for every
 * box that is the first hit of at least one ray.
 */
export function castLidar(
  ox: number,
  oy: number,
  heading: number,
  numLasers: number,
  range: number,
  boxes: Float64Array,
  numBoxes: number,
  out: Float32Array,
  offset = 0,
  hitMask?: Uint8Array,
): number {
  out.fill(1, offset, offset + numLasers);
  // Per-ray index of the nearest box, only when the caller wants to know which boxes were seen.
  const owner = hitMask ? new Int32Array(numLasers).fill(-1) : null;
  if (numLasers === 0) return 0;
  const dTheta = TWO_PI / numLasers;
  let hits = 0;
  for (let b = 0; b < numBoxes; b++) {
    const o = b * BOX_STRIDE;
    const cx = boxes[o]!, cy = boxes[o + 1]!, bh = boxes[o + 2]!;
    const hl = boxes[o + 3]! / 2, hw = boxes[o + 4]! / 2;
    const dx = cx - ox, dy = cy - oy;
    const reach = range + Math.sqrt(hl * hl + hw * hw);
    if (dx * dx + dy * dy > reach * reach) continue;
    const c = Math.cos(bh), s = Math.sin(bh);
    // Origin in the box frame.
    const px = -(dx * c + dy * s);
    const py = -(-dx * s + dy * c);
    if (Math.abs(px) <= hl && Math.abs(py) <= hw) {
      // The origin is inside the box (overlap): every ray hits at distance 0.
      for (let i = 0; i < numLasers; i++) out[offset + i] = 0;
      if (hitMask) {
        hitMask.fill(0, 0, numBoxes);
        hitMask[b] = 1;
      }
      return numLasers;
    }
    // Angular sector of the box as seen from the origin, relative to the ray-0 direction.
    const centreAngle = Math.atan2(dy, dx) - heading;
    let lo = 0, hi = 0;
    for (let k = 0; k < 4; k++) {
      const sx = k === 0 || k === 3 ? hl : -hl;
      const sy = k < 2 ? hw : -hw;
      const wx = dx + sx * c - sy * s;
      const wy = dy + sx * s + sy * c;
      let a = Math.atan2(wy, wx) - heading - centreAngle;
      a -= TWO_PI * Math.round(a / TWO_PI);
      if (a < lo) lo = a;
      if (a > hi) hi = a;
    }
    const iStart = Math.ceil((centreAngle + lo) / dTheta);
    const iEnd = Math.floor((centreAngle + hi) / dTheta);
    for (let j = iStart; j <= iEnd; j++) {
      const rayAngle = heading + j * dTheta;
      const rdx = Math.cos(rayAngle), rdy = Math.sin(rayAngle);
      // Ray direction in the box frame.
      const qx = rdx * c + rdy * s;
      const qy = -rdx * s + rdy * c;
      const t = slab(px, py, qx, qy, hl, hw);
      if (t < 0 || t > range) continue;
      let jj = j % numLasers;
      if (jj < 0) jj += numLasers;
      const idx = offset + jj;
      const f = t / range;
      if (f < out[idx]!) {
        if (out[idx] === 1) hits++;
        out[idx] = f;
        if (owner) owner[idx - offset] = b;
      }
    }
  }
  if (hitMask && owner) {
    hitMask.fill(0, 0, numBoxes);
    for (let i = 0; i < numLasers; i++) if (owner[i]! >= 0) hitMask[owner[i]!] = 1;
  }
  return hits;
}

/** Entry distance of the ray p + t q (t >= 0) into the box |x| <= hl, |y| <= hw; -1 if missed. */
function slab(px: number, py: number, qx: number, qy: number, hl: number, hw: number): number {
  let tmin = -Infinity, tmax = Infinity;
  if (qx !== 0) {
    const t1 = (-hl - px) / qx, t2 = (hl - px) / qx;
    tmin = Math.max(tmin, Math.min(t1, t2));
    tmax = Math.min(tmax, Math.max(t1, t2));
  } else if (Math.abs(px) > hl) return -1;
  if (qy !== 0) {
    const t1 = (-hw - py) / qy, t2 = (hw - py) / qy;
    tmin = Math.max(tmin, Math.min(t1, t2));
    tmax = Math.min(tmax, Math.max(t1, t2));
  } else if (Math.abs(py) > hw) return -1;
  if (tmax < tmin || tmax < 0) return -1;
  return tmin > 0 ? tmin : 0;
}

/** Reference implementation: every ray against every box (for tests). */
export function castLidarBruteForce(
  ox: number, oy: number, heading: number, numLasers: number, range: number,
  boxes: Float64Array, numBoxes: number, out: Float32Array, offset = 0,
): void {
  for (let i = 0; i < numLasers; i++) {
    const a = heading + (i * TWO_PI) / numLasers;
    const rdx = Math.cos(a), rdy = Math.sin(a);
    let best = range;
    for (let b = 0; b < numBoxes; b++) {
      const o = b * BOX_STRIDE;
      const c = Math.cos(boxes[o + 2]!), s = Math.sin(boxes[o + 2]!);
      const dx = ox - boxes[o]!, dy = oy - boxes[o + 1]!;
      const t = slab(dx * c + dy * s, -dx * s + dy * c, rdx * c + rdy * s, -rdx * s + rdy * c, boxes[o + 3]! / 2, boxes[o + 4]! / 2);
      if (t >= 0 && t < best) best = t;
    }
    out[offset + i] = best / range;
  }
}
