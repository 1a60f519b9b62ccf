/**
 * Trajectory -> 10 Hz reference states, exactly as NAVSIM's `pdm_score.py` does it:
 * `transform_trajectory` (relative -> absolute poses, knots at integer µs), nuPlan's
 * `InterpolatedTrajectory` (scipy `interp1d` on linear states, `np.unwrap` + linear + `principal_value`
 * on angular states) sampled by `get_trajectory_as_array` at `int((i·0.1 + t0_s)·1e6)` µs, clipped
 * to the knot range.
 *
 * Knot state layout follows nuPlan's `EgoState.to_split_state`: linear = [x, y, vx, vy, ax, ay,
 * steering angle], angular = [heading, angular velocity, angular acceleration]; the steering rate
 * of an interpolated state is 0 (`build_from_rear_axle` default).
 */
import { normalizeAngle } from '../geometry/angle.js';
import { NUM_POSES, STATE_SIZE as STATE_SIZE_IMPORT, StateIndex, type EgoState, type HistoryState } from './types.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_X = StateIndex.X;
const S_Y = StateIndex.Y;
const S_VELOCITY_X = StateIndex.VELOCITY_X;
const S_VELOCITY_Y = StateIndex.VELOCITY_Y;
const S_ACCELERATION_X = StateIndex.ACCELERATION_X;
const S_ACCELERATION_Y = StateIndex.ACCELERATION_Y;
const S_STEERING_ANGLE = StateIndex.STEERING_ANGLE;
const S_HEADING = StateIndex.HEADING;
const S_ANGULAR_VELOCITY = StateIndex.ANGULAR_VELOCITY;
const S_ANGULAR_ACCELERATION = StateIndex.ANGULAR_ACCELERATION;
const S_STEERING_RATE = StateIndex.STEERING_RATE;
const STATE_SIZE = STATE_SIZE_IMPORT;

const TWO_PI = 2 * Math.PI;

/** Python / numpy float modulo (result has the sign of the divisor). */
/**
 * Upper index of the interval of sorted `xs[0..n)` that holds `v`, as scipy's
 * `interp1d._call_linear` finds it: `searchsorted(xs, v, side='left')` clipped to [1, n-1].
 */
export function interpBracket(xs: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < 1 ? 1 : lo > n - 1 ? n - 1 : lo;
}

export function pyMod(a: number, b: number): number {
  // 0 <= a < b: `a % b` is a itself (fmod is exact) and needs no sign fix; skips V8's slow
  // floating-point `%` (a call into C) in the common case (bit-identical, -0 included)
  if (a >= 0 && a < b) return a;
  let m = a % b;
  if (m !== 0 && m < 0 !== b < 0) m += b;
  return m;
}

/** nuPlan `principal_value`: wraps into [-π, π). */
export function principalValue(a: number): number {
  return pyMod(a - -Math.PI, TWO_PI) + -Math.PI;
}

/** NAVSIM `normalize_angle`: atan2(sin a, cos a), in (-π, π] (one copy, in geometry/angle.ts). */
export { normalizeAngle };

/**
 * `np.unwrap` (discont = π, period = 2π) of `n` values read with `stride` from `src` at `offset`,
 * written to `dst` (same layout). In-place is allowed.
 */
export function npUnwrap(src: ArrayLike<number>, dst: Float64Array, n: number, offset = 0, stride = 1): void {
  if (n === 0) return;
  let prev = src[offset]!;
  dst[offset] = prev;
  let cum = 0;
  for (let i = 1; i < n; i++) {
    const p = src[offset + i * stride]!;
    const dd = p - prev;
    prev = p;
    let ddmod = pyMod(dd - -Math.PI, TWO_PI) + -Math.PI;
    if (ddmod === -Math.PI && dd > 0) ddmod = Math.PI;
    let correct = ddmod - dd;
    if (Math.abs(dd) < Math.PI) correct = 0;
    cum += correct;
    dst[offset + i * stride] = p + cum;
  }
}

/** nuPlan `relative_to_absolute_poses` (3x3 homogeneous products, heading = atan2). */
export function relativeToAbsolute(
  x0: number, y0: number, h0: number, rel: ArrayLike<number>, n: number, out: Float64Array = new Float64Array(3 * n),
): Float64Array {
  const c0 = Math.cos(h0);
  const s0 = Math.sin(h0);
  for (let i = 0; i < n; i++) {
    const dx = rel[3 * i]!;
    const dy = rel[3 * i + 1]!;
    const dh = rel[3 * i + 2]!;
    const c1 = Math.cos(dh);
    const s1 = Math.sin(dh);
    out[3 * i] = c0 * dx + -s0 * dy + x0;
    out[3 * i + 1] = s0 * dx + c0 * dy + y0;
    out[3 * i + 2] = Math.atan2(s0 * c1 + c0 * s1, c0 * c1 + -s0 * s1);
  }
  return out;
}

/** The 41 (or numPoses + 1) sample times of `get_trajectory_as_array`, in integer µs (unclipped). */
export function sampleTimesUs(t0Us: number, numPoses = NUM_POSES, intervalS = 0.1): Float64Array {
  const horizon = numPoses * intervalS;
  const count = Math.ceil((horizon + intervalS) / intervalS);
  const t0s = t0Us * 1e-6;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.trunc((i * intervalS + t0s) * 1e6);
  return out;
}

const scratch = { ang: new Float64Array(64), knots: new Float64Array(0), times: new Float64Array(0), abs: new Float64Array(0) };
const sampleCache = new Map<number, Float64Array>();

const LINEAR_COLS = [S_X, S_Y, S_VELOCITY_X, S_VELOCITY_Y, S_ACCELERATION_X, S_ACCELERATION_Y, S_STEERING_ANGLE];
const ANGULAR_COLS = [S_HEADING, S_ANGULAR_VELOCITY, S_ANGULAR_ACCELERATION];

/**
 * nuPlan `InterpolatedTrajectory.get_state_at_times` on knots (`knotStates`: n x 11, `knotTimesUs`
 * strictly increasing) at `timesUs` (clipped to the knot range as `get_trajectory_as_array` does).
 * Writes `timesUs.length` x 11 states into `out` at `outOffset`.
 */
export function interpolateStates(
  knotTimesUs: ArrayLike<number>,
  knotStates: Float64Array,
  timesUs: ArrayLike<number>,
  out: Float64Array = new Float64Array(timesUs.length * STATE_SIZE),
  outOffset = 0,
): Float64Array {
  const n = knotTimesUs.length;
  // unwrap angular columns over the knots (column-major scratch: ang[c * n + i])
  if (scratch.ang.length < 3 * n) scratch.ang = new Float64Array(3 * n);
  const ang = scratch.ang;
  for (let c = 0; c < 3; c++) {
    const col = ANGULAR_COLS[c]!;
    for (let i = 0; i < n; i++) ang[c * n + i] = knotStates[i * STATE_SIZE + col]!;
    npUnwrap(ang, ang, n, c * n);
  }
  const tFirst = knotTimesUs[0]!;
  const tLast = knotTimesUs[n - 1]!;
  for (let s = 0; s < timesUs.length; s++) {
    let t = timesUs[s]!;
    if (t < tFirst) t = tFirst;
    if (t > tLast) t = tLast;
    const o = outOffset + s * STATE_SIZE;
    if (n === 1) {
      for (let k = 0; k < STATE_SIZE; k++) out[o + k] = knotStates[k]!;
      out[o + S_STEERING_RATE] = 0;
      out[o + S_HEADING] = principalValue(ang[0]!);
      out[o + S_ANGULAR_VELOCITY] = principalValue(ang[n]!);
      out[o + S_ANGULAR_ACCELERATION] = principalValue(ang[2 * n]!);
      continue;
    }
    const idx = interpBracket(knotTimesUs, n, t);
    const i0 = idx - 1;
    const xLo = knotTimesUs[i0]!;
    const dxSpan = knotTimesUs[idx]! - xLo;
    const dt = t - xLo;
    for (const col of LINEAR_COLS) {
      const yLo = knotStates[i0 * STATE_SIZE + col]!;
      const yHi = knotStates[idx * STATE_SIZE + col]!;
      const slope = (yHi - yLo) / dxSpan;
      out[o + col] = slope * dt + yLo;
    }
    for (let c = 0; c < 3; c++) {
      const yLo = ang[c * n + i0]!;
      const yHi = ang[c * n + idx]!;
      const slope = (yHi - yLo) / dxSpan;
      out[o + ANGULAR_COLS[c]!] = principalValue(slope * dt + yLo);
    }
    out[o + S_STEERING_RATE] = 0;
  }
  return out;
}

/** The t0 knot of a planned trajectory: the initial ego state (ω, α = 0). */
export function egoKnot(ego: EgoState, out: Float64Array, offset = 0): void {
  out[offset + S_X] = ego.x;
  out[offset + S_Y] = ego.y;
  out[offset + S_HEADING] = ego.heading;
  out[offset + S_VELOCITY_X] = ego.vx;
  out[offset + S_VELOCITY_Y] = ego.vy;
  out[offset + S_ACCELERATION_X] = ego.ax;
  out[offset + S_ACCELERATION_Y] = ego.ay;
  out[offset + S_STEERING_ANGLE] = ego.steeringAngle;
  out[offset + S_STEERING_RATE] = 0;
  out[offset + S_ANGULAR_VELOCITY] = 0;
  out[offset + S_ANGULAR_ACCELERATION] = 0;
}

/** The initial simulated state (`ego_state_to_state_array` of the cached ego state). */
export function initialStateArray(ego: EgoState): Float64Array {
  const s = new Float64Array(STATE_SIZE);
  egoKnot(ego, s);
  return s;
}

/**
 * Reference states (numPoses + 1 rows of 11) of a planned pose trajectory, as `transform_trajectory`
 * + `get_trajectory_as_array`. `poses` is flat [x, y, h] * n in the trajectory's frame.
 */
export function referenceStatesFromPoses(
  ego: EgoState,
  t0Us: number,
  poses: ArrayLike<number>,
  numPosesIn: number,
  frame: 'ego' | 'global',
  intervalS: number,
  out?: Float64Array,
  outOffset = 0,
): Float64Array {
  const n = numPosesIn + 1;
  if (scratch.abs.length < 3 * numPosesIn) scratch.abs = new Float64Array(3 * numPosesIn);
  if (scratch.times.length < n) {
    scratch.times = new Float64Array(n);
    scratch.knots = new Float64Array(n * STATE_SIZE);
  }
  const abs = scratch.abs;
  if (frame === 'ego') relativeToAbsolute(ego.x, ego.y, ego.heading, poses, numPosesIn, abs);
  else for (let i = 0; i < 3 * numPosesIn; i++) abs[i] = poses[i]!;
  const knots = scratch.knots.subarray(0, n * STATE_SIZE);
  knots.fill(0);
  const times = scratch.times.subarray(0, n);
  egoKnot(ego, knots, 0);
  times[0] = t0Us;
  const t0s = t0Us * 1e-6;
  for (let k = 1; k < n; k++) {
    // _get_fixed_timesteps: np.arange(0, horizon, interval) + interval + t0_s, then int(t * 1e6)
    times[k] = Math.trunc(((k - 1) * intervalS + intervalS + t0s) * 1e6);
    const o = k * STATE_SIZE;
    knots[o + S_X] = abs[3 * (k - 1)]!;
    knots[o + S_Y] = abs[3 * (k - 1) + 1]!;
    knots[o + S_HEADING] = abs[3 * (k - 1) + 2]!;
  }
  let sample = sampleCache.get(t0Us);
  if (!sample) {
    sample = sampleTimesUs(t0Us);
    if (sampleCache.size > 1024) sampleCache.clear();
    sampleCache.set(t0Us, sample);
  }
  return interpolateStates(times, knots, sample, out ?? new Float64Array(sample.length * STATE_SIZE), outOffset);
}

/**
 * Reference states of a cached state trajectory (PDM-Closed: knots every 100 000 µs from t0), as
 * `get_trajectory_as_array(metric_cache.trajectory, ...)`.
 */
export function referenceStatesFromStateTrajectory(states: Float64Array, t0Us: number, intervalUs = 100000): Float64Array {
  const n = Math.floor(states.length / STATE_SIZE);
  const times = new Float64Array(n);
  for (let k = 0; k < n; k++) times[k] = t0Us + k * intervalUs;
  return interpolateStates(times, states.subarray(0, n * STATE_SIZE), sampleTimesUs(t0Us));
}

/**
 * v2 history-comfort samples: `arange(start_us, end_us, 100 000)` minus its last element, interpolated
 * from the logged history states (steering, ω, α = 0).
 */
export function historyStates(history: readonly HistoryState[]): Float64Array {
  const n = history.length;
  const knots = new Float64Array(n * STATE_SIZE);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = history[i]!;
    egoKnot({ ...h, steeringAngle: 0 }, knots, i * STATE_SIZE);
    times[i] = h.timestampUs;
  }
  const start = times[0]!;
  const end = times[n - 1]!;
  const count = Math.max(0, Math.ceil((end - start) / 100000) - 1);
  const sample = new Float64Array(count);
  for (let i = 0; i < count; i++) sample[i] = start + i * 100000;
  return interpolateStates(times, knots, sample);
}
