/**
 * NAVSIM comfort metrics (`scoring/pdm_comfort_metrics.py`): the six Savitzky-Golay bounds of
 * PDMS v1.1 comfort and of EPDMS v2.2 history comfort, and the two-frame extended comfort (EC).
 */
import { PACIFICA, STATE_SIZE as STATE_SIZE_IMPORT, StateIndex, type ComfortDetail } from './types.js';
import { type SavgolFilter, meanTimeStep, npMean, npRound, rintHalfEven, savgolFilterFor } from './savgol.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_ACCELERATION_X = StateIndex.ACCELERATION_X;
const S_ACCELERATION_Y = StateIndex.ACCELERATION_Y;
const S_HEADING = StateIndex.HEADING;
const S_ANGULAR_VELOCITY = StateIndex.ANGULAR_VELOCITY;
const S_ANGULAR_ACCELERATION = StateIndex.ANGULAR_ACCELERATION;
const STATE_SIZE = STATE_SIZE_IMPORT;

export const COMFORT_BOUNDS = {
  maxAbsMagJerk: 8.37,
  maxAbsLatAccel: 4.89,
  maxLonAccel: 2.4,
  minLonAccel: -4.05,
  maxAbsYawAccel: 1.93,
  maxAbsLonJerk: 4.13,
  maxAbsYawRate: 0.95,
} as const;

export const EC_THRESHOLDS = { acceleration: 0.7, jerk: 0.5, yawRate: 0.1, yawAccel: 0.1 } as const;

const TWO_PI = 2.0 * Math.PI;

/** `_phase_unwrap`: h - 2π·cumsum(round((h_j - h_{j-1}) / 2π)). */
export function phaseUnwrap(h: ArrayLike<number>, n: number, out: Float64Array): Float64Array {
  let adj = 0;
  out[0] = h[0]! - TWO_PI * 0;
  for (let i = 1; i < n; i++) {
    adj += rintHalfEven((h[i]! - h[i - 1]!) / TWO_PI);
    out[i] = h[i]! - TWO_PI * adj;
  }
  return out;
}

function allWithin(v: Float64Array, n: number, lo: number, hi: number): boolean {
  for (let i = 0; i < n; i++) if (!(v[i]! > lo && v[i]! < hi)) return false;
  return true;
}

function roundAll(v: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) v[i] = npRound(v[i]!, 8);
  return v;
}

/** Column `col` of `n` states at `offset` into `out`. */
function column(states: Float64Array, offset: number, n: number, col: number, out: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) out[i] = states[offset + i * STATE_SIZE + col]!;
  return out;
}

/** Scratch buffers reused across calls. */
class Scratch {
  a = new Float64Array(64);
  b = new Float64Array(64);
  c = new Float64Array(64);
  ensure(n: number): void {
    if (this.a.length < n) {
      this.a = new Float64Array(n);
      this.b = new Float64Array(n);
      this.c = new Float64Array(n);
    }
  }
}
const scratch = new Scratch();

/** The savgol filters of the comfort checks for one signal length and version. */
interface ComfortFilters {
  acc: SavgolFilter;
  sg8: SavgolFilter;
  jerk: SavgolFilter;
  yawAccel: SavgolFilter;
  yawRate: SavgolFilter;
}
const filterCache = new Map<number, ComfortFilters>();
function comfortFilters(n: number, v2: boolean): ComfortFilters {
  const key = 2 * n + (v2 ? 1 : 0);
  let f = filterCache.get(key);
  if (!f) {
    const delta = meanTimeStep(n);
    const yawWin = Math.min(5, n);
    f = {
      acc: savgolFilterFor(n, v2 ? Math.min(8, n) : n, 2),
      sg8: savgolFilterFor(n, Math.min(8, n), 2),
      jerk: savgolFilterFor(n, v2 ? Math.min(15, n) : n, 2, 1, delta),
      yawAccel: savgolFilterFor(n, yawWin, Math.min(3, yawWin - 1), 2, delta),
      yawRate: savgolFilterFor(n, yawWin, Math.min(2, yawWin - 1), 1, delta),
    };
    filterCache.set(key, f);
  }
  return f;
}

/** `np.hypot(ax, ay)`: |ax| exactly when ay = 0 (all simulated states), else `Math.hypot`. */
function hypot2(x: number, y: number): number {
  return y === 0 ? Math.abs(x) : Math.hypot(x, y);
}

/**
 * The six comfort checks on `n` consecutive states (time axis `arange(n)·0.1`).
 * `v2` selects the v2.2 variant (centre-shifted lon/lat accelerations, window 8, jerk window 15);
 * v1.1 uses window n for the accelerations and the jerk derivative. With `firstFailOnly` the
 * checks stop at the first failing one (the rest are reported false): only `allComfortable` of
 * the result is then meaningful (PDM-Closed's proposal scoring).
 */
export function comfortChecks(states: Float64Array, offset: number, n: number, v2: boolean, firstFailOnly = false): ComfortDetail {
  scratch.ensure(n);
  const { a, b, c } = scratch;
  const F = comfortFilters(n, v2);
  const d: ComfortDetail = { lon_acceleration: false, lat_acceleration: false, jerk: false, lon_jerk: false, yaw_accel: false, yaw_rate: false };

  // longitudinal acceleration
  if (v2) centreAccelX(states, offset, n, a);
  else column(states, offset, n, S_ACCELERATION_X, a);
  F.acc.apply(a, b);
  d.lon_acceleration = allWithin(roundAll(b, n), n, COMFORT_BOUNDS.minLonAccel, COMFORT_BOUNDS.maxLonAccel);
  if (firstFailOnly && !d.lon_acceleration) return d;

  // lateral acceleration (the centre shift leaves a_y unchanged)
  column(states, offset, n, S_ACCELERATION_Y, a);
  F.acc.apply(a, b);
  d.lat_acceleration = allWithin(roundAll(b, n), n, -COMFORT_BOUNDS.maxAbsLatAccel, COMFORT_BOUNDS.maxAbsLatAccel);
  if (firstFailOnly && !d.lat_acceleration) return d;

  // jerk magnitude: hypot(ax, ay) (rear axle), SG(8, 2), round, derivative, round
  for (let i = 0; i < n; i++) a[i] = hypot2(states[offset + i * STATE_SIZE + S_ACCELERATION_X]!, states[offset + i * STATE_SIZE + S_ACCELERATION_Y]!);
  roundAll(F.sg8.apply(a, b), n);
  F.jerk.apply(b, c);
  d.jerk = allWithin(roundAll(c, n), n, -COMFORT_BOUNDS.maxAbsMagJerk, COMFORT_BOUNDS.maxAbsMagJerk);
  if (firstFailOnly && !d.jerk) return d;

  // longitudinal jerk
  if (v2) centreAccelX(states, offset, n, a);
  else column(states, offset, n, S_ACCELERATION_X, a);
  roundAll(F.sg8.apply(a, b), n);
  F.jerk.apply(b, c);
  d.lon_jerk = allWithin(roundAll(c, n), n, -COMFORT_BOUNDS.maxAbsLonJerk, COMFORT_BOUNDS.maxAbsLonJerk);
  if (firstFailOnly && !d.lon_jerk) return d;

  // yaw: phase-unwrapped heading; `window_length` is never passed on, so the default 5 applies
  column(states, offset, n, S_HEADING, a);
  phaseUnwrap(a, n, b);
  F.yawAccel.apply(b, c);
  d.yaw_accel = allWithin(roundAll(c, n), n, -COMFORT_BOUNDS.maxAbsYawAccel, COMFORT_BOUNDS.maxAbsYawAccel);
  if (firstFailOnly && !d.yaw_accel) return d;
  F.yawRate.apply(b, c);
  d.yaw_rate = allWithin(roundAll(c, n), n, -COMFORT_BOUNDS.maxAbsYawRate, COMFORT_BOUNDS.maxAbsYawRate);
  return d;
}

/** `state_array_to_center_state_array` acceleration x: a_x + d·ω² + d·α with d = rear axle to centre. */
function centreAccelX(states: Float64Array, offset: number, n: number, out: Float64Array): void {
  const d = PACIFICA.rearAxleToCenter;
  for (let i = 0; i < n; i++) {
    const o = offset + i * STATE_SIZE;
    const w = states[o + S_ANGULAR_VELOCITY]!;
    out[i] = states[o + S_ACCELERATION_X]! + d * w ** 2 + d * states[o + S_ANGULAR_ACCELERATION]!;
  }
}

export function allComfortable(d: ComfortDetail): boolean {
  return d.lon_acceleration && d.lat_acceleration && d.jerk && d.lon_jerk && d.yaw_accel && d.yaw_rate;
}

/** EC features of `n` states: acceleration, jerk, yaw rate, yaw acceleration (each n values). */
function ecFeatures(states: Float64Array, offset: number, n: number): Float64Array[] {
  const delta = meanTimeStep(n);
  const acc = new Float64Array(n);
  const tmp = new Float64Array(n);
  for (let i = 0; i < n; i++) tmp[i] = hypot2(states[offset + i * STATE_SIZE + S_ACCELERATION_X]!, states[offset + i * STATE_SIZE + S_ACCELERATION_Y]!);
  roundAll(savgolFilterFor(n, Math.min(8, n), 2).apply(tmp, acc), n);
  const jerk = roundAll(savgolFilterFor(n, Math.min(15, n), 2, 1, delta).apply(acc, new Float64Array(n)), n);
  const h = phaseUnwrap(column(states, offset, n, S_HEADING, new Float64Array(n)), n, new Float64Array(n));
  const w = Math.min(5, n);
  const yawRate = roundAll(savgolFilterFor(n, w, Math.min(2, w - 1), 1, delta).apply(h, new Float64Array(n)), n);
  const yawAccel = roundAll(savgolFilterFor(n, w, Math.min(2, w - 1), 2, delta).apply(h, new Float64Array(n)), n);
  return [acc, jerk, yawRate, yawAccel];
}

export interface ExtendedComfortResult {
  value: number;
  rms: { acceleration: number; jerk: number; yaw_rate: number; yaw_accel: number };
  overlapStart: number;
  nOverlap: number;
}

/**
 * Two-frame extended comfort between the current plan's simulated states (41 at `curOffset`) and
 * the previous frame's (41), `intervalS` apart (0 < interval <= 0.55 s): `cur[:-k]` vs `prev[k:]`
 * with k = round(interval / 0.1).
 */
export function extendedComfort(cur: Float64Array, curOffset: number, prev: Float64Array, prevOffset: number, numStates: number, intervalS: number): ExtendedComfortResult {
  const k = rintHalfEven(intervalS / 0.1);
  const n = numStates - k;
  const fc = ecFeatures(cur, curOffset, n);
  const fp = ecFeatures(prev, prevOffset + k * STATE_SIZE, n);
  const sq = new Float64Array(n);
  const rmsOf = (q: number): number => {
    for (let i = 0; i < n; i++) sq[i] = (fc[q]![i]! - fp[q]![i]!) ** 2;
    return Math.sqrt(npMean(sq, 0, n));
  };
  const rms = { acceleration: rmsOf(0), jerk: rmsOf(1), yaw_rate: rmsOf(2), yaw_accel: rmsOf(3) };
  const ok =
    rms.acceleration <= EC_THRESHOLDS.acceleration &&
    rms.jerk <= EC_THRESHOLDS.jerk &&
    rms.yaw_rate <= EC_THRESHOLDS.yawRate &&
    rms.yaw_accel <= EC_THRESHOLDS.yawAccel;
  return { value: ok ? 1 : 0, rms, overlapStart: k, nOverlap: n };
}
