/**
 * Running observation and reward normalisation with SB3's `VecNormalize` semantics
 * (`common/running_mean_std.py`, `common/vec_env/vec_normalize.py`):
 *
 * - `RunningMeanStd` merges batch moments with the parallel algorithm (Chan et al.), starting
 *   from mean 0, var 1 and count ε = 1e-4.
 * - Observations: `clip((obs − μ) / √(σ² + 1e-8), ±clipObs)`, statistics updated on every
 *   training batch.
 * - Rewards: divided by the standard deviation of the discounted return
 *   `R ← γ·R + r` (reset at episode ends), clipped to ±clipReward; not centred.
 *
 * `training = false` freezes the statistics (evaluation). The state round-trips through JSON and
 * is saved beside a policy checkpoint.
 */

export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  count: number;

  constructor(readonly dim: number, epsilon = 1e-4) {
    this.mean = new Float64Array(dim);
    this.var = new Float64Array(dim).fill(1);
    this.count = epsilon;
  }

  /** Merges the moments of `n` rows of `data` (row-major `[n, dim]`). */
  update(data: ArrayLike<number>, n: number): void {
    const d = this.dim;
    if (n === 0) return;
    const bMean = new Float64Array(d);
    const bVar = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) bMean[j] = bMean[j]! + data[i * d + j]!;
    for (let j = 0; j < d; j++) bMean[j] = bMean[j]! / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const x = data[i * d + j]! - bMean[j]!;
        bVar[j] = bVar[j]! + x * x;
      }
    }
    for (let j = 0; j < d; j++) bVar[j] = bVar[j]! / n; // numpy var (ddof 0)
    const tot = this.count + n;
    for (let j = 0; j < d; j++) {
      const delta = bMean[j]! - this.mean[j]!;
      const mA = this.var[j]! * this.count;
      const mB = bVar[j]! * n;
      const m2 = mA + mB + delta * delta * (this.count * n) / tot;
      this.mean[j] = this.mean[j]! + (delta * n) / tot;
      this.var[j] = m2 / tot;
    }
    this.count = tot;
  }

  toJSON(): { mean: number[]; var: number[]; count: number } {
    return { mean: [...this.mean], var: [...this.var], count: this.count };
  }

  static fromJSON(s: { mean: number[]; var: number[]; count: number }): RunningMeanStd {
    const r = new RunningMeanStd(s.mean.length);
    r.mean = Float64Array.from(s.mean);
    r.var = Float64Array.from(s.var);
    r.count = s.count;
    return r;
  }
}

export interface VecNormalizeOptions {
  normObs: boolean;
  normReward: boolean;
  clipObs: number;
  clipReward: number;
  gamma: number;
  epsilon: number;
}

export const VEC_NORMALIZE_DEFAULTS: Readonly<VecNormalizeOptions> = Object.freeze({
  normObs: true,
  normReward: true,
  clipObs: 10,
  clipReward: 10,
  gamma: 0.99,
  epsilon: 1e-8,
});

export interface VecNormalizeState {
  options: VecNormalizeOptions;
  obsRms: ReturnType<RunningMeanStd['toJSON']> | null;
  retRms: ReturnType<RunningMeanStd['toJSON']> | null;
  returns: number[];
}

/** Observation/reward normaliser for `numEnvs` lock-stepped environments. */
export class VecNormalize {
  readonly options: VecNormalizeOptions;
  training = true;
  obsRms: RunningMeanStd;
  retRms: RunningMeanStd;
  private returns: Float64Array;

  constructor(readonly obsDim: number, readonly numEnvs: number, options: Partial<VecNormalizeOptions> = {}) {
    this.options = { ...VEC_NORMALIZE_DEFAULTS, ...options };
    this.obsRms = new RunningMeanStd(obsDim);
    this.retRms = new RunningMeanStd(1);
    this.returns = new Float64Array(numEnvs);
  }

  /** Updates the statistics with `n` raw observations (when training) and returns them normalised. */
  normalizeObs(obs: Float32Array, n: number, update = this.training): Float32Array {
    if (!this.options.normObs) return obs;
    if (update) this.obsRms.update(obs, n);
    const d = this.obsDim;
    const out = new Float32Array(n * d);
    const c = this.options.clipObs;
    const eps = this.options.epsilon;
    for (let j = 0; j < d; j++) {
      const m = this.obsRms.mean[j]!;
      const s = Math.sqrt(this.obsRms.var[j]! + eps);
      for (let i = 0; i < n; i++) {
        const v = (obs[i * d + j]! - m) / s;
        out[i * d + j] = v > c ? c : v < -c ? -c : v;
      }
    }
    return out;
  }

  /** Normalises one observation row without touching the statistics (e.g. a final observation). */
  normalizeObsRow(obs: Float32Array): Float32Array {
    return this.normalizeObs(obs, 1, false);
  }

  /**
   * Scales this step's rewards by the running return's standard deviation. `dones[i]` resets env
   * i's discounted return after it has been used (SB3 order: update return, update rms, scale).
   */
  normalizeReward(rewards: Float32Array, dones: ArrayLike<number>): Float32Array {
    if (!this.options.normReward) return rewards;
    const n = this.numEnvs;
    if (this.training) {
      for (let i = 0; i < n; i++) this.returns[i] = this.returns[i]! * this.options.gamma + rewards[i]!;
      this.retRms.update(this.returns, n);
    }
    const s = Math.sqrt(this.retRms.var[0]! + this.options.epsilon);
    const c = this.options.clipReward;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = rewards[i]! / s;
      out[i] = v > c ? c : v < -c ? -c : v;
      if (dones[i]) this.returns[i] = 0;
    }
    return out;
  }

  state(): VecNormalizeState {
    return { options: { ...this.options }, obsRms: this.obsRms.toJSON(), retRms: this.retRms.toJSON(), returns: [...this.returns] };
  }

  /** Restores the statistics (and the running returns when the env count matches). */
  setState(s: VecNormalizeState): void {
    if (s.obsRms) this.obsRms = RunningMeanStd.fromJSON(s.obsRms);
    if (s.retRms) this.retRms = RunningMeanStd.fromJSON(s.retRms);
    if (s.returns.length === this.numEnvs) this.returns = Float64Array.from(s.returns);
  }

  static fromState(s: VecNormalizeState, numEnvs = s.returns.length): VecNormalize {
    const v = new VecNormalize(s.obsRms?.mean.length ?? 0, numEnvs, s.options);
    v.setState(s);
    return v;
  }
}
