/**
 * On-policy rollout buffer with GAE(λ), as SB3's `RolloutBuffer` (`common/buffers.py`).
 *
 * Storage is host-side, `[T, N, ...]` row-major (T steps of N lock-stepped environments), one
 * flat typed array per field with its shape on the field (the host-array convention of
 * docs/architecture.md):
 * observations, actions (as sampled, before clipping), rewards, episode starts, values and
 * log-probabilities. `computeReturnsAndAdvantage(lastValues, dones)` walks backwards:
 *
 *   nextNonTerminal_t = 1 − dones_last        (t = T−1)
 *                     = 1 − episodeStart_{t+1} (otherwise)
 *   δ_t = r_t + γ · V_{t+1} · nextNonTerminal_t − V_t
 *   A_t = δ_t + γλ · nextNonTerminal_t · A_{t+1}
 *   R_t = A_t + V_t                            (the value target, TD(λ))
 *
 * Time-limit truncations are not terminal: the collector adds γ·V(final observation) to the
 * reward of a truncated step (SB3 `on_policy_algorithm.py`), and the episode start that follows
 * cuts the recursion there.
 */
import type { Rng } from '../../core/rng.js';

export interface RolloutBufferOptions {
  /** Steps per environment per rollout (T, SB3 `n_steps`). */
  nSteps: number;
  numEnvs: number;
  obsDim: number;
  /** Stored action width (box: action dim; discrete: 1). */
  actionWidth: number;
  gamma: number;
  gaeLambda: number;
}

/** One minibatch of flattened samples (host arrays, flat row-major, row i = sample i; B = `size`). */
export interface RolloutMinibatch {
  size: number;
  /** `[B, obsDim]`. */
  obs: Float32Array;
  /** `[B, actionWidth]`. */
  actions: Float32Array;
  /** `[B]` each. */
  oldValues: Float32Array;
  oldLogProbs: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

export class RolloutBuffer {
  readonly nSteps: number;
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actionWidth: number;
  readonly gamma: number;
  readonly gaeLambda: number;
  /** `[T, N, obsDim]` (T = `nSteps`, N = `numEnvs`); rows past `size` are stale. Env i at step t: `subarray((t * N + i) * obsDim, (t * N + i + 1) * obsDim)`. */
  readonly obs: Float32Array;
  /** `[T, N, actionWidth]`. The fields below are `[T, N]`: sample t·N + i. */
  readonly actions: Float32Array;
  /** The reward GAE uses: `envRewards + shaping + bootstrap` unless a reward function relabels it. */
  readonly rewards: Float32Array;
  /** The parts of the reward: the (normalised) env reward, shaping terms, and γ·V(final obs) of time-limit truncations. */
  readonly envRewards: Float32Array;
  readonly shaping: Float32Array;
  readonly bootstrap: Float32Array;
  readonly episodeStarts: Float32Array;
  readonly values: Float32Array;
  readonly logProbs: Float32Array;
  readonly advantages: Float32Array;
  readonly returns: Float32Array;
  private pos = 0;

  constructor(o: RolloutBufferOptions) {
    this.nSteps = o.nSteps;
    this.numEnvs = o.numEnvs;
    this.obsDim = o.obsDim;
    this.actionWidth = o.actionWidth;
    this.gamma = o.gamma;
    this.gaeLambda = o.gaeLambda;
    const tn = o.nSteps * o.numEnvs;
    this.obs = new Float32Array(tn * o.obsDim);
    this.actions = new Float32Array(tn * o.actionWidth);
    this.rewards = new Float32Array(tn);
    this.envRewards = new Float32Array(tn);
    this.shaping = new Float32Array(tn);
    this.bootstrap = new Float32Array(tn);
    this.episodeStarts = new Float32Array(tn);
    this.values = new Float32Array(tn);
    this.logProbs = new Float32Array(tn);
    this.advantages = new Float32Array(tn);
    this.returns = new Float32Array(tn);
  }

  get size(): number {
    return this.pos * this.numEnvs;
  }

  get full(): boolean {
    return this.pos === this.nSteps;
  }

  reset(): void {
    this.pos = 0;
  }

  /**
   * Appends one lock-step of all environments. `episodeStarts[i]` = 1 if env i's obs starts an
   * episode. `parts` (optional) records the reward's parts for a later relabelling; without it the
   * whole reward counts as the env reward.
   */
  add(obs: Float32Array, actions: Float32Array, rewards: ArrayLike<number>, episodeStarts: ArrayLike<number>, values: Float32Array, logProbs: Float32Array, parts?: { env: ArrayLike<number>; shaping: ArrayLike<number>; bootstrap: ArrayLike<number> }): void {
    if (this.pos >= this.nSteps) throw new Error(`RolloutBuffer.add: the buffer is full (${this.nSteps} steps); call reset() after training on it.`);
    const n = this.numEnvs;
    this.obs.set(obs.subarray(0, n * this.obsDim), this.pos * n * this.obsDim);
    this.actions.set(actions.subarray(0, n * this.actionWidth), this.pos * n * this.actionWidth);
    const o = this.pos * n;
    for (let i = 0; i < n; i++) {
      this.rewards[o + i] = rewards[i]!;
      this.envRewards[o + i] = parts ? parts.env[i]! : rewards[i]!;
      this.shaping[o + i] = parts ? parts.shaping[i]! : 0;
      this.bootstrap[o + i] = parts ? parts.bootstrap[i]! : 0;
      this.episodeStarts[o + i] = episodeStarts[i]!;
      this.values[o + i] = values[i]!;
      this.logProbs[o + i] = logProbs[i]!;
    }
    this.pos += 1;
  }

  /** GAE(λ) advantages and TD(λ) returns (see the file header); `dones[i]` = 1 if env i's last step ended its episode. */
  computeReturnsAndAdvantage(lastValues: ArrayLike<number>, dones: ArrayLike<number>): void {
    const n = this.numEnvs;
    const T = this.pos;
    const { gamma, gaeLambda } = this;
    for (let i = 0; i < n; i++) {
      let lastGae = 0;
      for (let t = T - 1; t >= 0; t--) {
        let nextNonTerminal: number;
        let nextValue: number;
        if (t === T - 1) {
          nextNonTerminal = 1 - dones[i]!;
          nextValue = lastValues[i]!;
        } else {
          nextNonTerminal = 1 - this.episodeStarts[(t + 1) * n + i]!;
          nextValue = this.values[(t + 1) * n + i]!;
        }
        const k = t * n + i;
        const delta = this.rewards[k]! + gamma * nextValue * nextNonTerminal - this.values[k]!;
        lastGae = delta + gamma * gaeLambda * nextNonTerminal * lastGae;
        this.advantages[k] = lastGae;
        this.returns[k] = lastGae + this.values[k]!;
      }
    }
  }

  /**
   * Shuffled minibatches over all T·N samples (SB3 `get(batch_size)`): a seeded permutation,
   * then consecutive slices of `batchSize` (the last one may be smaller).
   */
  *minibatches(batchSize: number, rng: Rng): Generator<RolloutMinibatch> {
    const total = this.size;
    const perm = new Int32Array(total);
    for (let i = 0; i < total; i++) perm[i] = i;
    for (let i = total - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      const tmp = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = tmp;
    }
    for (let start = 0; start < total; start += batchSize) {
      const idx = perm.subarray(start, Math.min(total, start + batchSize));
      yield this.gather(idx);
    }
  }

  /** The samples at flat indices `idx` (t·N + i). */
  gather(idx: ArrayLike<number>): RolloutMinibatch {
    const m = idx.length;
    const d = this.obsDim;
    const w = this.actionWidth;
    const mb: RolloutMinibatch = {
      size: m,
      obs: new Float32Array(m * d),
      actions: new Float32Array(m * w),
      oldValues: new Float32Array(m),
      oldLogProbs: new Float32Array(m),
      advantages: new Float32Array(m),
      returns: new Float32Array(m),
    };
    for (let r = 0; r < m; r++) {
      const k = idx[r]!;
      mb.obs.set(this.obs.subarray(k * d, k * d + d), r * d);
      for (let j = 0; j < w; j++) mb.actions[r * w + j] = this.actions[k * w + j]!;
      mb.oldValues[r] = this.values[k]!;
      mb.oldLogProbs[r] = this.logProbs[k]!;
      mb.advantages[r] = this.advantages[k]!;
      mb.returns[r] = this.returns[k]!;
    }
    return mb;
  }
}

/** 1 − Var[y − ŷ] / Var[y] (SB3 `explained_variance`); NaN when Var[y] = 0. */
export function explainedVariance(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = target.length;
  let my = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    my += target[i]!;
    md += target[i]! - pred[i]!;
  }
  my /= n;
  md /= n;
  let vy = 0;
  let vd = 0;
  for (let i = 0; i < n; i++) {
    vy += (target[i]! - my) ** 2;
    vd += (target[i]! - pred[i]! - md) ** 2;
  }
  return vy === 0 ? NaN : 1 - vd / vy;
}
