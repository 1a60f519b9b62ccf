/**
 * scipy `signal.savgol_filter(x, window_length, polyorder, deriv, delta, mode='interp')` on 1-D
 * signals, including even windows (scipy >= 1.8), plus the numpy helpers the comfort metrics need
 * (`np.round` half-to-even, pairwise `np.mean`).
 *
 * mode='interp' (scipy):
 * - interior outputs i = h .. n-h-1 (h = ⌊w/2⌋) come from `convolve1d(x, savgol_coeffs(...))`:
 *   a degree-p least-squares fit over x[i-h' .. i-h'+w-1] evaluated at offset `pos` (odd w:
 *   h' = h, pos = h; even w: h' = h-1, pos = h-0.5, i.e. a half-sample shift forward);
 * - the first and last h outputs come from `np.polyfit` over the first / last w samples,
 *   evaluated (m-th derivative / delta^m) at 0..h-1 and w-h..w-1.
 * The filter is linear, so each configuration is compiled once into per-output weight rows.
 */

/** numpy `round(x, decimals)`: rint(x · 10^d) / 10^d with ties to even. */
export function npRound(x: number, decimals = 8): number {
  const scale = 10 ** decimals;
  const y = x * scale;
  return rintHalfEven(y) / scale;
}

/** C `rint` (round half to even). */
export function rintHalfEven(y: number): number {
  // Math.round rounds ties up; r - y is exact (Sterbenz), so a tie shows as exactly 0.5
  const r = Math.round(y);
  if (r === 0) return y < 0 ? -0 : 0;
  if (r - y === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** numpy pairwise summation (`add.reduce` on a contiguous float64 array). */
export function pairwiseSum(a: ArrayLike<number>, offset = 0, n = a.length - offset): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[offset + i]!;
    return res;
  }
  if (n <= 128) {
    const o = offset;
    let r0 = a[o]!, r1 = a[o + 1]!, r2 = a[o + 2]!, r3 = a[o + 3]!, r4 = a[o + 4]!, r5 = a[o + 5]!, r6 = a[o + 6]!, r7 = a[o + 7]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      r0 += a[o + i]!;
      r1 += a[o + i + 1]!;
      r2 += a[o + i + 2]!;
      r3 += a[o + i + 3]!;
      r4 += a[o + i + 4]!;
      r5 += a[o + i + 5]!;
      r6 += a[o + i + 6]!;
      r7 += a[o + i + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[o + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, offset, n2) + pairwiseSum(a, offset + n2, n - n2);
}

/** numpy `mean` of a contiguous float64 array. */
export function npMean(a: ArrayLike<number>, offset = 0, n = a.length - offset): number {
  return pairwiseSum(a, offset, n) / n;
}

/** `mean(diff(arange(n) · interval))`, the `delta` NAVSIM passes to derivative filters. */
const meanStepCache = new Map<number, number>();
export function meanTimeStep(n: number, interval = 0.1): number {
  if (interval === 0.1) {
    const hit = meanStepCache.get(n);
    if (hit !== undefined) return hit;
    const v = meanTimeStepUncached(n, interval);
    meanStepCache.set(n, v);
    return v;
  }
  return meanTimeStepUncached(n, interval);
}

function meanTimeStepUncached(n: number, interval: number): number {
  const d = new Float64Array(n - 1);
  for (let i = 0; i < n - 1; i++) d[i] = (i + 1) * interval - i * interval;
  return npMean(d);
}

/**
 * Weights of the least-squares polynomial fit of degree p through samples at `positions`,
 * evaluated (m-th derivative) at `at`: returns w with Σ w_j y_j = fit^{(m)}(at).
 * Uses a centred, scaled abscissa and modified Gram-Schmidt QR for accuracy.
 */
export function lsqEvalWeights(positions: ArrayLike<number>, p: number, m: number, at: number): Float64Array {
  const w = positions.length;
  let c = 0;
  for (let j = 0; j < w; j++) c += positions[j]!;
  c /= w;
  let s = 0;
  for (let j = 0; j < w; j++) s = Math.max(s, Math.abs(positions[j]! - c));
  if (s === 0) s = 1;
  const k = p + 1;
  // Q (w x k) and R (k x k) of V = [u^0 .. u^p]
  const Q = new Float64Array(w * k);
  const R = new Float64Array(k * k);
  for (let col = 0; col < k; col++) for (let j = 0; j < w; j++) Q[j * k + col] = ((positions[j]! - c) / s) ** col;
  for (let col = 0; col < k; col++) {
    for (let prev = 0; prev < col; prev++) {
      let dot = 0;
      for (let j = 0; j < w; j++) dot += Q[j * k + prev]! * Q[j * k + col]!;
      R[prev * k + col] = dot;
      for (let j = 0; j < w; j++) Q[j * k + col] -= dot * Q[j * k + prev]!;
    }
    let norm = 0;
    for (let j = 0; j < w; j++) norm += Q[j * k + col]! ** 2;
    norm = Math.sqrt(norm);
    R[col * k + col] = norm;
    for (let j = 0; j < w; j++) Q[j * k + col] /= norm;
  }
  // e = d^m/dt^m [u^0..u^p] at t = at, u = (t - c)/s
  const ua = (at - c) / s;
  const e = new Float64Array(k);
  for (let col = m; col < k; col++) {
    let f = 1;
    for (let q = 0; q < m; q++) f *= col - q;
    e[col] = (f * ua ** (col - m)) / s ** m;
  }
  // weights = Q R^{-T} e : solve R^T z = e
  const z = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let v = e[i]!;
    for (let q = 0; q < i; q++) v -= R[q * k + i]! * z[q]!;
    z[i] = v / R[i * k + i]!;
  }
  const out = new Float64Array(w);
  for (let j = 0; j < w; j++) {
    let v = 0;
    for (let i = 0; i < k; i++) v += Q[j * k + i]! * z[i]!;
    out[j] = v;
  }
  return out;
}

/** A compiled savgol configuration for signals of length n. */
export class SavgolFilter {
  /** Window start index of each output. */
  readonly start: Int32Array;
  /** Weights, w per output. */
  readonly weights: Float64Array;
  /**
   * When window == n every output is the same global least-squares fit (evaluated at its own
   * position), so W = Z·Qᵀ with Q the n x (p+1) orthonormal polynomial basis: O(n·p) per call.
   */
  private readonly lowRankQ: Float64Array | null = null;
  private readonly lowRankZ: Float64Array | null = null;
  private readonly coef: Float64Array;

  constructor(
    readonly n: number,
    readonly window: number,
    readonly polyorder: number,
    readonly deriv = 0,
    readonly delta = 1.0,
  ) {
    const w = window;
    if (!(Number.isInteger(w) && w >= 1 && w <= n)) throw new RangeError(`savgol: window_length must be an integer in [1, n=${n}], got ${w}`);
    if (!(polyorder < w)) throw new RangeError(`savgol: polyorder must be less than window_length, got ${polyorder} >= ${w}`);
    const h = Math.floor(w / 2);
    const scale = 1 / delta ** deriv;
    this.start = new Int32Array(n);
    this.weights = new Float64Array(n * w);
    const pos = w % 2 === 1 ? h : h - 0.5;
    const rel = new Float64Array(w);
    // interior: sample j of the window sits at position j - pos relative to the output
    for (let j = 0; j < w; j++) rel[j] = j - pos;
    const interior = lsqEvalWeights(rel, polyorder, deriv, 0);
    const shift = w % 2 === 1 ? h : h - 1;
    for (let i = h; i < n - h; i++) {
      this.start[i] = i - shift;
      for (let j = 0; j < w; j++) this.weights[i * w + j] = interior[j]! * scale;
    }
    // edges: polyfit over the first / last w samples at positions 0..w-1
    const idx = new Float64Array(w);
    for (let j = 0; j < w; j++) idx[j] = j;
    for (let i = 0; i < Math.min(h, n); i++) {
      const wt = lsqEvalWeights(idx, polyorder, deriv, i);
      this.start[i] = 0;
      for (let j = 0; j < w; j++) this.weights[i * w + j] = wt[j]! * scale;
    }
    for (let i = Math.max(n - h, 0); i < n; i++) {
      const wt = lsqEvalWeights(idx, polyorder, deriv, i - (n - w));
      this.start[i] = n - w;
      for (let j = 0; j < w; j++) this.weights[i * w + j] = wt[j]! * scale;
    }
    const k = polyorder + 1;
    this.coef = new Float64Array(k);
    if (w === n && n > 4 * k) {
      // factor W (n x n, rank k): Q = orthonormal basis of the fit space, Z = W Q
      const Q = new Float64Array(n * k);
      for (let col = 0; col < k; col++) for (let j = 0; j < n; j++) Q[j * k + col] = ((j - (n - 1) / 2) / n) ** col;
      for (let col = 0; col < k; col++) {
        for (let pass = 0; pass < 2; pass++) {
          for (let prev = 0; prev < col; prev++) {
            let dot = 0;
            for (let j = 0; j < n; j++) dot += Q[j * k + prev]! * Q[j * k + col]!;
            for (let j = 0; j < n; j++) Q[j * k + col] -= dot * Q[j * k + prev]!;
          }
        }
        let norm = 0;
        for (let j = 0; j < n; j++) norm += Q[j * k + col]! ** 2;
        norm = Math.sqrt(norm);
        for (let j = 0; j < n; j++) Q[j * k + col] /= norm;
      }
      const Z = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        for (let col = 0; col < k; col++) {
          let v = 0;
          for (let j = 0; j < n; j++) v += this.weights[i * n + j]! * Q[j * k + col]!;
          Z[i * k + col] = v;
        }
      }
      this.lowRankQ = Q;
      this.lowRankZ = Z;
    }
  }

  /** Filters `n` values of `x` from `xo` into `out` at `oo`. */
  apply(x: ArrayLike<number>, out: Float64Array, xo = 0, oo = 0): Float64Array {
    const Q = this.lowRankQ;
    if (Q) {
      const Z = this.lowRankZ!;
      const k = this.polyorder + 1;
      const c = this.coef;
      const n = this.n;
      for (let col = 0; col < k; col++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += Q[j * k + col]! * x[xo + j]!;
        c[col] = v;
      }
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let col = 0; col < k; col++) v += Z[i * k + col]! * c[col]!;
        out[oo + i] = v;
      }
      return out;
    }
    const w = this.window;
    const W = this.weights;
    for (let i = 0; i < this.n; i++) {
      const s = xo + this.start[i]!;
      let acc = 0;
      const base = i * w;
      for (let j = 0; j < w; j++) acc += W[base + j]! * x[s + j]!;
      out[oo + i] = acc;
    }
    return out;
  }
}

const cache = new Map<number, Map<string, SavgolFilter>>();

/** Cached `SavgolFilter` for a configuration. */
export function savgolFilterFor(n: number, window: number, polyorder: number, deriv = 0, delta = 1.0): SavgolFilter {
  const ikey = ((n * 64 + window) * 8 + polyorder) * 8 + deriv;
  let byDelta = cache.get(ikey);
  if (!byDelta) {
    byDelta = new Map();
    cache.set(ikey, byDelta);
  }
  const dkey = String(delta);
  let f = byDelta.get(dkey);
  if (!f) {
    f = new SavgolFilter(n, window, polyorder, deriv, delta);
    byDelta.set(dkey, f);
  }
  return f;
}

/** scipy `savgol_filter(x, window_length, polyorder, deriv, delta, mode='interp')` on a 1-D signal. */
export function savgolFilter(
  x: ArrayLike<number>,
  windowLength: number,
  polyorder: number,
  opts: { deriv?: number; delta?: number } = {},
): Float64Array {
  const f = savgolFilterFor(x.length, windowLength, polyorder, opts.deriv ?? 0, opts.delta ?? 1.0);
  return f.apply(x, new Float64Array(x.length));
}
