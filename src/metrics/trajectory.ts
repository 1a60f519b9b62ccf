/**
 * Displacement errors between predicted and target trajectories, for any horizon: L1 over every
 * pose value (x, y, heading, ...), ADE (mean Euclidean distance of the (x, y) positions over the
 * poses) and FDE (that distance at the last pose). Trajectories are flat row-major arrays of
 * `horizon` poses of `poseDim` values each, x and y first.
 *
 * ```ts
 * const err = new TrajectoryErrors({ horizon: 8, poseDim: 3 });
 * for (let i = 0; i < n; i++) err.add(pred, i * 24, target, i * 24);
 * err.result(); // { l1, ade, fde, rows: n }
 * ```
 *
 * Sums run pose by pose in trajectory order, so a caller that adds the same trajectories in the
 * same order gets the same bits. Browser-safe.
 */

export interface TrajectoryErrorOptions {
  /** Poses per trajectory (ReCogDrive: 8, at 2 Hz over 4 s). */
  horizon?: number;
  /** Values per pose, x and y first (ReCogDrive: 3, x, y, heading). */
  poseDim?: number;
}

export interface TrajectoryErrorResult {
  /** Mean absolute error over every value of every pose. */
  l1: number;
  /** Mean (x, y) distance over the poses, metres. */
  ade: number;
  /** Mean (x, y) distance at the last pose, metres. */
  fde: number;
  /** Trajectories compared. */
  rows: number;
}

/** Running sums of L1, ADE and FDE over trajectories added one at a time. */
export class TrajectoryErrors {
  readonly horizon: number;
  readonly poseDim: number;
  /** Sum of |error| over every value added so far. */
  l1 = 0;
  /** Sum of (x, y) distances over every pose added so far. */
  ade = 0;
  /** Sum of (x, y) distances at the last pose. */
  fde = 0;
  rows = 0;

  constructor(options: TrajectoryErrorOptions = {}) {
    this.horizon = options.horizon ?? 8;
    this.poseDim = options.poseDim ?? 3;
    if (!Number.isInteger(this.horizon) || this.horizon < 1) throw new RangeError(`TrajectoryErrors: horizon should be an integer >= 1, found ${this.horizon}.`);
    if (!Number.isInteger(this.poseDim) || this.poseDim < 2) throw new RangeError(`TrajectoryErrors: poseDim should be an integer >= 2 (x, y first), found ${this.poseDim}.`);
  }

  /** Values per trajectory (`horizon · poseDim`). */
  get stride(): number {
    return this.horizon * this.poseDim;
  }

  /**
   * Adds the trajectory at `pred[predOffset..]` against `target[targetOffset..]`; returns its
   * summed L1 (the sum of |error| over its values).
   */
  add(pred: ArrayLike<number>, predOffset: number, target: ArrayLike<number>, targetOffset: number): number {
    const { horizon, poseDim } = this;
    let l1 = 0;
    for (let k = 0; k < horizon; k++) {
      const o = predOffset + k * poseDim;
      const q = targetOffset + k * poseDim;
      const dx = pred[o]! - target[q]!;
      const dy = pred[o + 1]! - target[q + 1]!;
      let e = Math.abs(dx) + Math.abs(dy);
      for (let c = 2; c < poseDim; c++) e += Math.abs(pred[o + c]! - target[q + c]!);
      this.l1 += e;
      l1 += e;
      const d = Math.hypot(dx, dy);
      this.ade += d;
      if (k === horizon - 1) this.fde += d;
    }
    this.rows++;
    return l1;
  }

  /** The means so far (NaN before the first trajectory). */
  result(): TrajectoryErrorResult {
    const n = this.rows;
    return { l1: this.l1 / (n * this.stride), ade: this.ade / (n * this.horizon), fde: this.fde / n, rows: n };
  }
}

/**
 * L1, ADE and FDE of `count` predicted trajectories against their targets. With `groupSize` G,
 * `pred` holds G samples per target (rows [i·G, (i+1)·G) belong to target i).
 */
export function trajectoryErrors(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  options: TrajectoryErrorOptions & { groupSize?: number } = {},
): TrajectoryErrorResult {
  const err = new TrajectoryErrors(options);
  const g = options.groupSize ?? 1;
  const stride = err.stride;
  const targets = Math.floor(target.length / stride);
  for (let i = 0; i < targets; i++) for (let j = 0; j < g; j++) err.add(pred, (i * g + j) * stride, target, i * stride);
  return err.result();
}
