/**
 * NAVSIM's batched LQR tracker (`simulation/batch_lqr.py`, `batch_lqr_utils.py`), for one proposal
 * at a time on flat Float64Arrays (the batch loop lives in `simulate.ts`).
 *
 * 1. Fit velocity and curvature profiles to the reference poses by regularised least squares
 *    (jerk penalty 1e-4; curvature-rate penalty 1e-2, initial curvature 1e-10). NAVSIM uses
 *    `pinv(AᵀA + R)·Aᵀy`; the matrix is SPD so a Cholesky solve gives the same solution (~1e-15).
 * 2. Per step: stopping P-controller, or the one-step longitudinal LQR and the 10-step lateral
 *    LQR on the linearised error dynamics [lateral error, heading error, steering angle].
 */
import { normalizeAngle } from './interpolate.js';
import { PACIFICA, STATE_SIZE as STATE_SIZE_IMPORT, StateIndex } from './types.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_HEADING = StateIndex.HEADING;
const S_X = StateIndex.X;
const S_Y = StateIndex.Y;
const S_VELOCITY_X = StateIndex.VELOCITY_X;
const S_STEERING_ANGLE = StateIndex.STEERING_ANGLE;
const STATE_SIZE = STATE_SIZE_IMPORT;

export interface LqrConfig {
  qLongitudinal: number;
  rLongitudinal: number;
  /** diag(Q) of the lateral subsystem. */
  qLateral: readonly [number, number, number];
  rLateral: number;
  discretizationTime: number;
  trackingHorizon: number;
  jerkPenalty: number;
  curvatureRatePenalty: number;
  initialCurvaturePenalty: number;
  stoppingProportionalGain: number;
  stoppingVelocity: number;
  wheelBase: number;
}

export const DEFAULT_LQR_CONFIG: Readonly<LqrConfig> = Object.freeze({
  qLongitudinal: 10.0,
  rLongitudinal: 1.0,
  qLateral: [1.0, 10.0, 0.0] as const,
  rLateral: 1.0,
  discretizationTime: 0.1,
  trackingHorizon: 10,
  jerkPenalty: 1e-4,
  curvatureRatePenalty: 1e-2,
  initialCurvaturePenalty: 1e-10,
  stoppingProportionalGain: 0.5,
  stoppingVelocity: 0.2,
  wheelBase: PACIFICA.wheelBase,
});

/**
 * In-place Cholesky solve of the SPD system H x = b (H is n x n row-major, overwritten by its
 * factor; b is overwritten by x). Falls back to a tiny diagonal jitter if a pivot is not positive.
 */
export function choleskySolve(H: Float64Array, b: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let d = H[j * n + j]!;
    for (let k = 0; k < j; k++) {
      const l = H[j * n + k]!;
      d -= l * l;
    }
    if (!(d > 0)) d = Number.MIN_VALUE * 1e10 + Math.abs(d);
    const ljj = Math.sqrt(d);
    H[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = H[i * n + j]!;
      for (let k = 0; k < j; k++) s -= H[i * n + k]! * H[j * n + k]!;
      H[i * n + j] = s / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= H[i * n + k]! * b[k]!;
    b[i] = s / H[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= H[k * n + i]! * b[k]!;
    b[i] = s / H[i * n + i]!;
  }
}

/**
 * Solves the SPD pentadiagonal system given by its three bands (diag d, first off-diagonal e,
 * second off-diagonal f; row-major band storage) with right-hand side b, in place (LDLᵀ).
 */
export function solvePentadiagonal(d: Float64Array, e: Float64Array, f: Float64Array, b: Float64Array, n: number): void {
  // LDLᵀ with unit lower factor of bandwidth 2: L[i][i-1] = l1[i], L[i][i-2] = l2[i]
  for (let i = 0; i < n; i++) {
    // l2[i] = f[i-2] / D[i-2]; l1[i] = (e[i-1] - l2[i] D[i-2] l1[i-1]) / D[i-1]
    let di = d[i]!;
    if (i >= 2) {
      const l2 = f[i - 2]! / d[i - 2]!;
      f[i - 2] = l2;
      di -= l2 * l2 * d[i - 2]!;
      if (i >= 1) e[i - 1] = e[i - 1]! - l2 * d[i - 2]! * e[i - 2]!;
    }
    if (i >= 1) {
      const l1 = e[i - 1]! / d[i - 1]!;
      e[i - 1] = l1;
      di -= l1 * l1 * d[i - 1]!;
    }
    d[i] = di;
  }
  for (let i = 0; i < n; i++) {
    let v = b[i]!;
    if (i >= 1) v -= e[i - 1]! * b[i - 1]!;
    if (i >= 2) v -= f[i - 2]! * b[i - 2]!;
    b[i] = v;
  }
  for (let i = 0; i < n; i++) b[i] = b[i]! / d[i]!;
  for (let i = n - 1; i >= 0; i--) {
    let v = b[i]!;
    if (i + 1 < n) v -= e[i]! * b[i + 1]!;
    if (i + 2 < n) v -= f[i]! * b[i + 2]!;
    b[i] = v;
  }
}

/** Scratch buffers for `fitProfiles`, reusable across proposals with the same pose count. */
export class LqrWorkspace {
  readonly d: Float64Array;
  readonly e: Float64Array;
  readonly f: Float64Array;
  readonly b: Float64Array;
  readonly headingDisp: Float64Array;
  /** cos / sin of the reference headings 0..m-1 of the last fitted proposal (reused by `lqrCommand`). */
  readonly cosH: Float64Array;
  readonly sinH: Float64Array;
  constructor(readonly m: number) {
    this.cosH = new Float64Array(m);
    this.sinH = new Float64Array(m);
    this.d = new Float64Array(m);
    this.e = new Float64Array(m);
    this.f = new Float64Array(m);
    this.b = new Float64Array(m);
    this.headingDisp = new Float64Array(m);
  }
}

const DIFF2: readonly number[] = [1, -2, 1];

/** Adds weight·(Σ c_k z_{i0+k})² to the pentadiagonal bands (up to 3 consecutive terms). */
function addSquare(d: Float64Array, e: Float64Array, f: Float64Array, i0: number, c: readonly number[], weight: number): void {
  for (let a = 0; a < c.length; a++) {
    d[i0 + a] += weight * c[a]! * c[a]!;
    for (let b = a + 1; b < c.length; b++) {
      const v = weight * c[a]! * c[b]!;
      if (b - a === 1) e[i0 + a] += v;
      else f[i0 + a] += v;
    }
  }
}

/**
 * `addSquare(d, e, f, i0, DIFF1, weight)` unrolled: the same additions in the same order, with the
 * products written out ((w·-1)·-1 = w, (w·-1)·1 = -w and (w·1)·1 = w are exact).
 */
function addDiff1Square(d: Float64Array, e: Float64Array, i0: number, weight: number): void {
  d[i0] += weight;
  e[i0] += -weight;
  d[i0 + 1] += weight;
}

/**
 * `get_velocity_curvature_profiles_with_derivatives_from_poses` for one proposal.
 * `ref` holds `numStates` reference states (11 values each) at `refOffset`; writes the M =
 * numStates - 1 values of the velocity and curvature profiles.
 *
 * NAVSIM solves `x = pinv(AᵀA + Reg)·Aᵀy` with A lower-triangular of the form
 * A[i][j] = r_i·w_j (j <= i; w_0 = dt, w_j = dt²). With the substitution z_i = Σ_{j<=i} w_j x_j
 * (the per-step displacement / heading change per unit row weight), A x = diag(r) z and the
 * regularisers become banded, so the same least-squares problem is solved exactly by an O(M)
 * pentadiagonal LDLᵀ instead of a dense inverse.
 */
export function fitProfiles(
  ref: Float64Array,
  refOffset: number,
  numStates: number,
  velocityProfile: Float64Array,
  curvatureProfile: Float64Array,
  cfg: LqrConfig = DEFAULT_LQR_CONFIG,
  ws: LqrWorkspace = new LqrWorkspace(numStates - 1),
): void {
  const M = numStates - 1;
  const dt = cfg.discretizationTime;
  const dt2 = dt ** 2;
  const { d, e, f, b, headingDisp, cosH, sinH } = ws;

  // --- velocity fit: unknowns x = [v0, a_0 .. a_{M-2}]; rows (cos h_i, sin h_i) z_i ---
  d.fill(0);
  e.fill(0);
  f.fill(0);
  for (let i = 0; i < M; i++) {
    const o = refOffset + i * STATE_SIZE;
    const h = ref[o + S_HEADING]!;
    const c = Math.cos(h);
    const s = Math.sin(h);
    cosH[i] = c;
    sinH[i] = s;
    const dx = ref[o + STATE_SIZE + S_X]! - ref[o + S_X]!;
    const dy = ref[o + STATE_SIZE + S_Y]! - ref[o + S_Y]!;
    headingDisp[i] = normalizeAngle(ref[o + STATE_SIZE + S_HEADING]! - h);
    d[i] = c * c + s * s;
    b[i] = c * dx + s * dy;
  }
  // jerk regulariser λ‖R x‖²: nuPlan's `_make_banded_difference_matrix` assigns `[:, 1:] = eye`
  // and then `[:, :-1] = -eye`, which overwrites all but the last +1, so
  // ‖R x‖² = Σ_{j=1}^{M-3} x_j² + (x_{M-1} - x_{M-2})², with x_j = (z_j - z_{j-1}) / dt².
  const lam = cfg.jerkPenalty / (dt2 * dt2);
  if (M >= 3) {
    for (let j = 1; j <= M - 3; j++) addDiff1Square(d, e, j - 1, lam);
    addSquare(d, e, f, M - 3, DIFF2, lam);
  }
  solvePentadiagonal(d, e, f, b, M);
  {
    // x_0 = z_0 / dt, a_j = x_{j+1} = (z_{j+1} - z_j) / dt²; profile v0 + cumsum(a · dt)
    const v0 = b[0]! / dt;
    let cum = 0;
    velocityProfile[0] = v0 + 0;
    for (let k = 1; k < M; k++) {
      cum += ((b[k]! - b[k - 1]!) / dt2) * dt;
      velocityProfile[k] = v0 + cum;
    }
  }

  // --- curvature fit: unknowns [κ0, κ'_0 .. κ'_{M-2}]; rows v_i z_i ---
  d.fill(0);
  e.fill(0);
  f.fill(0);
  for (let i = 0; i < M; i++) {
    const v = velocityProfile[i]!;
    d[i] = v * v;
    b[i] = v * headingDisp[i]!;
  }
  // Q = diag(1e-10, 1e-2, ...): q_0 x_0² + Σ q x_j², x_0 = z_0 / dt, x_j = (z_j - z_{j-1}) / dt²
  d[0] += cfg.initialCurvaturePenalty / dt2;
  const qc = cfg.curvatureRatePenalty / (dt2 * dt2);
  for (let j = 1; j < M; j++) addDiff1Square(d, e, j - 1, qc);
  solvePentadiagonal(d, e, f, b, M);
  {
    const k0 = b[0]! / dt;
    let cum = 0;
    curvatureProfile[0] = k0 + 0;
    for (let k = 1; k < M; k++) {
      cum += ((b[k]! - b[k - 1]!) / dt2) * dt;
      curvatureProfile[k] = k0 + cum;
    }
  }
}

/**
 * One tracker step (`BatchLQRTracker.track_trajectory`) for one proposal at iteration `k`.
 * `state` is the current simulated state (11 values at `so`), `ref` the reference states (the
 * pose at index k is tracked). Writes [acceleration, steering rate] into `cmd`. `fitted`: the
 * workspace `fitProfiles` just filled for this proposal (its cos / sin of the reference headings
 * are reused: the same values).
 */
export function lqrCommand(
  k: number,
  state: Float64Array,
  so: number,
  ref: Float64Array,
  refOffset: number,
  velocityProfile: Float64Array,
  curvatureProfile: Float64Array,
  M: number,
  cmd: Float64Array,
  cfg: LqrConfig = DEFAULT_LQR_CONFIG,
  fitted?: LqrWorkspace,
): void {
  const dt = cfg.discretizationTime;
  const N = cfg.trackingHorizon;
  const ro = refOffset + k * STATE_SIZE;
  const xErr = state[so + S_X]! - ref[ro + S_X]!;
  const yErr = state[so + S_Y]! - ref[ro + S_Y]!;
  const hRef = ref[ro + S_HEADING]!;
  const sinRef = fitted !== undefined && k < fitted.m ? fitted.sinH[k]! : Math.sin(hRef);
  const cosRef = fitted !== undefined && k < fitted.m ? fitted.cosH[k]! : Math.cos(hRef);
  const lateralError = -xErr * sinRef + yErr * cosRef;
  const headingError = normalizeAngle(state[so + S_HEADING]! - hRef);
  const v0 = state[so + S_VELOCITY_X]!;
  const steering = state[so + S_STEERING_ANGLE]!;

  const refIdx = Math.min(k + N, M - 1);
  const vRef = velocityProfile[refIdx]!;

  if (vRef <= cfg.stoppingVelocity && v0 <= cfg.stoppingVelocity) {
    cmd[0] = -cfg.stoppingProportionalGain * (v0 - vRef);
    cmd[1] = 0;
    return;
  }
  // longitudinal: A = 1, B = N dt, g = 0
  const B = N * dt;
  const q = cfg.qLongitudinal;
  const inverse = -1 / (B * q * B + cfg.rLongitudinal);
  const accel = inverse * B * q * (1 * v0 + 0 - vRef);
  cmd[0] = accel;

  // lateral: roll out A_j, B_j, g_j over the horizon
  const L = cfg.wheelBase;
  // the third row of A stays [0, 0, 1] and g's third entry 0 (steering is not affected by A_j);
  // with finite m01, m12 the first column and a11 stay exactly [1, +0] and 1 (x + m·(±0) = x,
  // x + m·1 = x + m), so only a01, a02, a12 are rolled out; a non-finite m (a NaN / infinite
  // velocity) makes a01 or a12 non-finite, and then the full product is rolled out again below
  let a00 = 1, a01 = 0, a02 = 0, a10 = 0, a11 = 1, a12 = 0;
  const a20 = 0, a21 = 0, a22 = 1;
  let b0 = 0, b1 = 0, b2 = 0;
  let g0 = 0, g1 = 0;
  const g2 = 0;
  let cum = 0;
  const refLen = refIdx - k;
  for (let j = 0; j < N; j++) {
    if (j > 0) cum += accel * dt;
    const v = v0 + cum;
    const kappa = j < refLen ? curvatureProfile[k + j]! : curvatureProfile[refIdx]!;
    const m01 = v * dt;
    const m12 = (v * dt) / L;
    const aff1 = -v * kappa * dt;
    // A <- M A (rows: r0 = r0 + m01 r1; r1 = r1 + m12 r2; r2 = r2)
    a02 = a02 + m01 * a12;
    a01 = a01 + m01;
    a12 = a12 + m12;
    // B <- M B + [0, 0, dt]
    const nb0 = b0 + m01 * b1;
    const nb1 = b1 + m12 * b2;
    b0 = nb0; b1 = nb1; b2 = b2 + dt;
    // g <- M g + [0, aff1, 0]
    const ng0 = g0 + m01 * g1;
    const ng1 = g1 + m12 * g2 + aff1;
    g0 = ng0; g1 = ng1;
  }
  if (!(Number.isFinite(a01) && Number.isFinite(a12))) {
    a00 = 1; a01 = 0; a02 = 0; a10 = 0; a11 = 1; a12 = 0;
    cum = 0;
    for (let j = 0; j < N; j++) {
      if (j > 0) cum += accel * dt;
      const v = v0 + cum;
      const m01 = v * dt;
      const m12 = (v * dt) / L;
      const n00 = a00 + m01 * a10, n01 = a01 + m01 * a11, n02 = a02 + m01 * a12;
      const n10 = a10 + m12 * a20, n11 = a11 + m12 * a21, n12 = a12 + m12 * a22;
      a00 = n00; a01 = n01; a02 = n02; a10 = n10; a11 = n11; a12 = n12;
    }
  }
  const e0 = a00 * lateralError + a01 * headingError + a02 * steering + g0;
  let e1 = a10 * lateralError + a11 * headingError + a12 * steering + g1;
  let e2 = a20 * lateralError + a21 * headingError + a22 * steering + g2;
  e1 = Math.atan2(Math.sin(e1), Math.cos(e1));
  const ql = cfg.qLateral;
  const bq0 = b0 * ql[0], bq1 = b1 * ql[1], bq2 = b2 * ql[2];
  // with a zero steering weight (the default) bq2 is +0 and bq2 * e2 only carries the sign of
  // e2, which normalisation keeps for |e2| <= pi/2: skip the atan2 there (bit-identical)
  if (!(bq2 === 0 && Math.abs(e2) <= Math.PI / 2)) e2 = Math.atan2(Math.sin(e2), Math.cos(e2));
  const inv = -1 / (bq0 * b0 + bq1 * b1 + bq2 * b2 + cfg.rLateral);
  const tail = bq0 * e0 + bq1 * e1 + bq2 * e2;
  cmd[1] = inv * tail;
}
