/**
 * Learning-rate schedules.
 *
 * `WarmupCosineSchedule` is ReCogDrive's `WarmupCosLR` (`utils/lr_scheduler.py`), which the IL
 * stage steps once per epoch (spec §4): with peak rate γ, floor γ_min, W warmup units and E
 * units in total, the rate used during unit e (0-based) is
 *
 *   e < W:  γ · (e + 1) / W                                         (linear warmup)
 *   e ≥ W:  γ_min + ½ (γ − γ_min) · (1 + cos(π · (e − W) / (E − W)))  (cosine to the floor)
 *
 * so the first epoch already trains at γ/W, the rate peaks at e = W and reaches γ_min at
 * e = E (one past the last epoch; the last epoch runs slightly above the floor, as in the
 * original). With W = 0 it is the plain cosine from γ to γ_min used by the RL stage (§3.7).
 * The unit is an epoch (`interval: 'epoch'`) or an optimizer step (`interval: 'step'`).
 */

export type ScheduleInterval = 'epoch' | 'step';

export interface WarmupCosineConfig {
  /** Peak learning rate γ (reached after warmup). */
  lr: number;
  /** Floor γ_min of the cosine. ReCogDrive IL: 1e-6. */
  minLr: number;
  /** Warmup length W in units of `interval`. ReCogDrive IL: 3 epochs. */
  warmup: number;
  /** Total length E in units of `interval` (warmup included). ReCogDrive IL: 200 epochs. */
  total: number;
  /** Whether one unit is an epoch or an optimizer step. */
  interval: ScheduleInterval;
}

/** ReCogDrive's IL schedule (spec §4): 3 warmup epochs, cosine to 1e-6 at epoch 200. */
export const RECOGDRIVE_IL_SCHEDULE: Readonly<WarmupCosineConfig> = Object.freeze({
  lr: 1e-4,
  minLr: 1e-6,
  warmup: 3,
  total: 200,
  interval: 'epoch',
});

export class WarmupCosineSchedule {
  readonly config: Readonly<WarmupCosineConfig>;

  constructor(config: Partial<WarmupCosineConfig> = {}) {
    const c = { ...RECOGDRIVE_IL_SCHEDULE, ...config };
    const fail = (field: string, v: unknown, want: string): never => {
      throw new Error(`Invalid schedule ${field}: ${JSON.stringify(v)}. Should be ${want}.`);
    };
    if (!(c.lr >= 0) || !Number.isFinite(c.lr)) fail('lr', c.lr, 'a finite number >= 0');
    if (!(c.minLr >= 0) || !Number.isFinite(c.minLr)) fail('minLr', c.minLr, 'a finite number >= 0');
    if (!Number.isInteger(c.warmup) || c.warmup < 0) fail('warmup', c.warmup, 'an integer >= 0');
    if (!Number.isInteger(c.total) || c.total < 1) fail('total', c.total, 'an integer >= 1');
    if (c.warmup >= c.total) fail('warmup', c.warmup, `smaller than total (${c.total})`);
    if (c.interval !== 'epoch' && c.interval !== 'step') fail('interval', c.interval, "'epoch' or 'step'");
    this.config = Object.freeze(c);
  }

  /** The rate for unit `e` (0-based epoch or step). Units past `total` keep following the cosine formula's value at `total`, the floor. */
  lrAt(e: number): number {
    const { lr, minLr, warmup, total } = this.config;
    if (!Number.isInteger(e) || e < 0) throw new Error(`Invalid schedule index: ${e}. Should be an integer >= 0.`);
    if (e < warmup) return (lr * (e + 1)) / warmup;
    if (e >= total) return minLr;
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos((Math.PI * (e - warmup)) / (total - warmup)));
  }

  /** The rate for a training position: uses the epoch or the global step depending on `interval`. */
  lrFor(position: { epoch: number; globalStep: number }): number {
    return this.lrAt(this.config.interval === 'epoch' ? position.epoch : position.globalStep);
  }

  toJSON(): WarmupCosineConfig {
    return { ...this.config };
  }
}
