/** Angle helpers (radians). */

const TWO_PI = 2 * Math.PI;

/** Wraps an angle to [-pi, pi). */
export function wrapAngle(a: number): number {
  const w = (((a + Math.PI) % TWO_PI) + TWO_PI) % TWO_PI - Math.PI;
  return w;
}

/**
 * NAVSIM / nuPlan `normalize_angle`: atan2(sin a, cos a), in (-pi, pi]. Not bit-identical to
 * `wrapAngle` (which uses `%` and maps pi to -pi); the NAVSIM ports use this one for parity.
 */
export function normalizeAngle(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}

/** Wraps an angle to [0, 2 pi). */
export function wrapAngle2Pi(a: number): number {
  return ((a % TWO_PI) + TWO_PI) % TWO_PI;
}

/** Signed smallest difference a - b, in [-pi, pi). */
export function angleDiff(a: number, b: number): number {
  return wrapAngle(a - b);
}

/**
 * Unwraps a heading sequence in place the way numpy.unwrap does (discont = pi): each jump larger
 * than pi is replaced by its 2 pi complement. Returns the array.
 */
export function unwrapAngles<A extends Float64Array | Float32Array | number[]>(a: A, offset = 0, count = a.length - offset): A {
  let correction = 0;
  let prev = a[offset] as number;
  for (let i = offset + 1; i < offset + count; i++) {
    const raw = a[i] as number;
    const d = raw - prev; // numpy: dd = diff(p) on the original values
    prev = raw;
    // the wrapped difference is only read for a jump of at least pi (the `%`s are slow in V8)
    if (Math.abs(d) >= Math.PI) {
      let dd = (((d + Math.PI) % TWO_PI) + TWO_PI) % TWO_PI - Math.PI;
      if (dd === -Math.PI && d > 0) dd = Math.PI;
      correction += dd - d;
    }
    a[i] = raw + correction;
  }
  return a;
}

export const DEG2RAD = Math.PI / 180;
export const RAD2DEG = 180 / Math.PI;
