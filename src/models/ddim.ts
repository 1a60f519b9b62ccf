/**
 * DDIM scheduler in the diffusers style (`DDIMScheduler`: frozen JSON config, `setTimesteps(n)`,
 * `timesteps`, `step(...)` returning one named object, `addNoise`), with the options ReCogDrive's
 * sampler adds on top (taken from DPPO): x̂₀ clipping with ε re-derivation, a σ floor of 1e-10,
 * log-variance log(σ² + 1e-20), std floors and truncated noise. Injected noise replays a chain
 * exactly.
 *
 * Reference: ReCogDrive `recogdrive_diffusion_planner.py` (`_init_ddim_sampler`, `p_mean_variance`,
 * `get_action`, `sample_chain`, `get_logprobs`) and diffusers `scheduling_ddim.py`.
 *
 * Scalar per-step constants are computed in JS with `Math.fround` after every operation, in the
 * order of the PyTorch float32 expressions, so they are bit-identical to the reference buffers.
 */
import * as tf from '@tensorflow/tfjs';
import { defineConfig, type ConfigDef } from '../core/config.js';
import type { Rng } from '../core/rng.js';
import { type BetaScheduleKind, makeNoiseSchedule, type NoiseSchedule } from './schedule.js';

const f32 = Math.fround;

export type TimestepSpacing = 'leading' | 'trailing';

export interface DDIMSchedulerConfig {
  /** T, the number of training timesteps (ReCogDrive: 100). */
  numTrainTimesteps: number;
  /** β schedule (ReCogDrive: `cosine`). */
  betaSchedule: BetaScheduleKind;
  /** Linear schedules: β₁ and β_T. */
  betaStart: number;
  betaEnd: number;
  /** Cosine schedule offset s and β clip. */
  cosineS: number;
  maxBeta: number;
  /** Clip the predicted x̂₀ to ±clipSampleRange (ReCogDrive `denoised_clip_value` = 1). */
  clipSample: boolean;
  clipSampleRange: number;
  /** After clipping x̂₀, re-derive ε from it (ReCogDrive and diffusers ≥ 0.20 do). */
  recomputeEpsilon: boolean;
  /** Optional clamp of the re-derived ε (ReCogDrive `eps_clip_value`, default off = null). */
  epsilonClip: number | null;
  /** ᾱ_prev of the last step: 1 when true, else ᾱ₀ (diffusers `set_alpha_to_one`). */
  setAlphaToOne: boolean;
  /** Added to every inference timestep (diffusers `steps_offset`). */
  stepsOffset: number;
  /** `leading`: t = k·⌊T/n⌋ (ReCogDrive: 80, 60, 40, 20, 0); `trailing`: round(T − k·T/n) − 1. */
  timestepSpacing: TimestepSpacing;
  /** Lower clamp of σ (DPPO/ReCogDrive: 1e-10). */
  sigmaMin: number;
  /** ε inside log(σ² + ε) (ReCogDrive: 1e-20). */
  logVarianceEps: number;
}

/** The DDIM scheduler's config, declared once; its defaults are ReCogDrive's sampler. */
export const DDIM_CONFIG: ConfigDef<DDIMSchedulerConfig> = defineConfig<DDIMSchedulerConfig>('DDIMSchedulerConfig', {
  numTrainTimesteps: { default: 100, type: 'integer', min: 1, doc: 'T, the number of training timesteps (ReCogDrive: 100).' },
  betaSchedule: { default: 'cosine', type: 'enum', values: ['cosine', 'linear', 'scaled_linear'], doc: 'β schedule (ReCogDrive: cosine).' },
  betaStart: { default: 1e-4, type: 'number', min: 0, doc: 'Linear schedules: β₁.' },
  betaEnd: { default: 0.02, type: 'number', min: 0, doc: 'Linear schedules: β_T.' },
  cosineS: { default: 0.008, type: 'number', min: 0, doc: 'Cosine schedule offset s.' },
  maxBeta: { default: 0.999, type: 'number', gt: 0, max: 1, doc: 'Cosine schedule: clip of β.' },
  clipSample: { default: true, type: 'boolean', doc: 'Clip the predicted x̂₀ to ±clipSampleRange (ReCogDrive denoised_clip_value).' },
  clipSampleRange: { default: 1, type: 'number', gt: 0, doc: 'Clip range of x̂₀ (ReCogDrive: 1).' },
  recomputeEpsilon: { default: true, type: 'boolean', doc: 'After clipping x̂₀, re-derive ε from it (ReCogDrive and diffusers >= 0.20 do).' },
  epsilonClip: { default: null, type: 'number', gt: 0, nullable: true, doc: 'Clamp of the re-derived ε (ReCogDrive eps_clip_value); null = off.' },
  setAlphaToOne: { default: true, type: 'boolean', doc: 'ᾱ_prev of the last step: 1 when true, else ᾱ₀ (diffusers set_alpha_to_one).' },
  stepsOffset: { default: 0, type: 'integer', min: 0, doc: 'Added to every inference timestep (diffusers steps_offset).' },
  timestepSpacing: { default: 'leading', type: 'enum', values: ['leading', 'trailing'], doc: 'leading: t = k·⌊T/n⌋ (ReCogDrive: 80, 60, 40, 20, 0); trailing: round(T − k·T/n) − 1.' },
  sigmaMin: { default: 1e-10, type: 'number', min: 0, doc: 'Lower clamp of σ (DPPO/ReCogDrive: 1e-10).' },
  logVarianceEps: { default: 1e-20, type: 'number', min: 0, doc: 'ε inside log(σ² + ε) (ReCogDrive: 1e-20).' },
});

/** ReCogDrive's DDIM sampler. */
export const RECOGDRIVE_DDIM_CONFIG: Readonly<DDIMSchedulerConfig> = DDIM_CONFIG.defaults;

/** How one step draws its noise. `eta = 0` is plain DDIM: std is exactly 0 (ReCogDrive zeroes it). */
export interface DDIMNoiseOptions {
  /** η: 0 deterministic, 1 = DDPM-like variance (ReCogDrive stochastic sampling uses 1). */
  eta: number;
  /** Floor of the sampling std (eval 1e-4, RL rollouts 0.04, log-probs 0.1). */
  minStd: number;
  /** Clip of the standard-normal draw to ±noiseClip (eval 1, rollouts 5); null = none. */
  noiseClip: number | null;
}

/** How a DDIM step draws its noise, as a config section (the planner's `sampler` uses it). */
export const DDIM_NOISE_CONFIG: ConfigDef<DDIMNoiseOptions> = defineConfig<DDIMNoiseOptions>('DDIMNoiseOptions', {
  eta: { default: 1, type: 'number', min: 0, doc: 'η: 0 deterministic, 1 = DDPM-like variance.' },
  minStd: { default: 1e-4, type: 'number', min: 0, doc: 'Floor of the sampling std (eval 1e-4, RL rollouts 0.04, log-probs 0.1).' },
  noiseClip: { default: 1, type: 'number', gt: 0, nullable: true, doc: 'Clip of the standard-normal draw to ±noiseClip (eval 1, rollouts 5); null = none.' },
});

/** `get_action(deterministic=False)`: the released evaluation. */
export const RECOGDRIVE_EVAL: Readonly<DDIMNoiseOptions> = Object.freeze({ eta: 1, minStd: 1e-4, noiseClip: 1 });
/** `sample_chain(deterministic=False)`: RL rollouts and BC teacher chains. */
export const RECOGDRIVE_ROLLOUT: Readonly<DDIMNoiseOptions> = Object.freeze({ eta: 1, minStd: 0.04, noiseClip: 5 });
/** `get_logprobs`: std floor 0.1 (no noise is drawn). */
export const RECOGDRIVE_LOGPROB: Readonly<DDIMNoiseOptions> = Object.freeze({ eta: 1, minStd: 0.1, noiseClip: null });
/** `deterministic=True`: η = 0, std = 0. */
export const DDIM_DETERMINISTIC: Readonly<DDIMNoiseOptions> = Object.freeze({ eta: 0, minStd: 0, noiseClip: null });

/** Per-row scalar constants of one DDIM step (float32 values). */
export interface DDIMStepConstants {
  /** ᾱ_t */
  alpha: Float32Array;
  /** ᾱ_prev */
  alphaPrev: Float32Array;
  /** σ_t (after the σ floor) */
  sigma: Float32Array;
  /** log(σ² + ε) */
  logVariance: Float32Array;
  /** std used for sampling / log-probs: 0 when η = 0, else max(exp(½·logvar), minStd). */
  std: Float32Array;
  /** √max(0, 1 − ᾱ_prev − σ²), the coefficient of ε in the mean. */
  dirCoef: Float32Array;
}

export interface DDIMStepOptions extends Partial<DDIMNoiseOptions> {
  /** Standard-normal draw to use (shape of `sample`), before clipping: replays a chain exactly. */
  noise?: tf.Tensor;
  /** Seeded stream to draw the noise from when `noise` is not given (float64 Box-Muller). */
  rng?: Rng;
}

/** The result of `step`: all tensors belong to the caller (dispose them). */
export interface DDIMStepOutput {
  /** x_{t_prev} = mean + std · clip(z) (or the mean when η = 0). */
  prevSample: tf.Tensor;
  /** x̂₀ (clipped when `clipSample`). */
  predOriginalSample: tf.Tensor;
  /** ε used in the mean (re-derived from the clipped x̂₀ when `recomputeEpsilon`). */
  predEpsilon: tf.Tensor;
  /** μ = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε */
  mean: tf.Tensor;
  /** The clipped noise actually added (null when η = 0). */
  noise: tf.Tensor | null;
  /** Per-row constants (σ, log-variance, std, ...). */
  constants: DDIMStepConstants;
}

function validateNoise(o: DDIMNoiseOptions): void {
  if (!(o.eta >= 0)) throw new Error(`DDIM step: invalid eta ${o.eta}. Should be >= 0.`);
  if (!(o.minStd >= 0)) throw new Error(`DDIM step: invalid minStd ${o.minStd}. Should be >= 0.`);
  if (o.noiseClip !== null && !(o.noiseClip > 0)) throw new Error(`DDIM step: invalid noiseClip ${o.noiseClip}. Should be > 0 or null.`);
}

export class DDIMScheduler {
  readonly config: Readonly<DDIMSchedulerConfig>;
  readonly schedule: NoiseSchedule;
  private _timesteps: number[] = [];
  private _stepRatio = 0;

  constructor(config: Partial<DDIMSchedulerConfig> = {}) {
    // Unknown keys, types and ranges: ConfigError naming the key (and the nearest valid one).
    const c = DDIM_CONFIG.resolve(config);
    this.config = c;
    this.schedule = makeNoiseSchedule({
      kind: c.betaSchedule,
      numTrainTimesteps: c.numTrainTimesteps,
      cosineS: c.cosineS,
      betaStart: c.betaStart,
      betaEnd: c.betaEnd,
      maxBeta: c.maxBeta,
    });
  }

  /** Rebuilds a scheduler from `toJSON()` output (or any partial config). */
  static fromConfig(json: Partial<DDIMSchedulerConfig> | string): DDIMScheduler {
    return new DDIMScheduler(typeof json === 'string' ? (JSON.parse(json) as Partial<DDIMSchedulerConfig>) : json);
  }

  toJSON(): DDIMSchedulerConfig {
    return { ...this.config };
  }

  /** ᾱ_t for t = 0..T-1 (float32). */
  get alphasCumprod(): Float32Array {
    return this.schedule.alphasCumprod;
  }

  /** Inference timesteps in sampling order (e.g. 80, 60, 40, 20, 0); empty before `setTimesteps`. */
  get timesteps(): readonly number[] {
    return this._timesteps;
  }

  get numInferenceSteps(): number {
    return this._timesteps.length;
  }

  /** Sets the inference timesteps (diffusers `set_timesteps`). */
  setTimesteps(numInferenceSteps: number): this {
    const T = this.config.numTrainTimesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > T) {
      throw new Error(`DDIMScheduler.setTimesteps: invalid numInferenceSteps ${numInferenceSteps}. Should be an integer in [1, ${T}].`);
    }
    const ratio = Math.floor(T / numInferenceSteps);
    const ts: number[] = [];
    if (this.config.timestepSpacing === 'leading') {
      for (let k = numInferenceSteps - 1; k >= 0; k--) ts.push(k * ratio + this.config.stepsOffset);
    } else {
      const stepF = T / numInferenceSteps;
      for (let k = 0; k < numInferenceSteps; k++) ts.push(Math.round(T - k * stepF) - 1);
    }
    for (const t of ts) {
      if (t < 0 || t >= T) throw new Error(`DDIMScheduler.setTimesteps: timestep ${t} out of [0, ${T}) (check stepsOffset).`);
    }
    this._timesteps = ts;
    this._stepRatio = ratio;
    return this;
  }

  private requireTimesteps(): void {
    if (this._timesteps.length === 0) throw new Error('DDIMScheduler: call setTimesteps(n) before step().');
  }

  /** ᾱ of the step that follows t (diffusers: prev = t − ⌊T/n⌋; below 0 → 1 or ᾱ₀). */
  alphaPrevOf(t: number): number {
    this.requireTimesteps();
    const prev = t - this._stepRatio;
    const ac = this.schedule.alphasCumprod;
    return prev >= 0 ? ac[prev]! : this.config.setAlphaToOne ? 1 : ac[0]!;
  }

  /**
   * Per-row constants for timesteps `t` (one per row), in ReCogDrive's float32 operation order:
   * σ = clamp(η·√((1−ᾱ_prev)/(1−ᾱ)·(1−ᾱ/ᾱ_prev)), σ_min); logvar = log(σ² + 1e-20);
   * std = 0 if η = 0 else max(exp(½·logvar), minStd); dir = √max(0, 1 − ᾱ_prev − σ²).
   */
  stepConstants(t: ArrayLike<number>, noise: Partial<DDIMNoiseOptions> = {}): DDIMStepConstants {
    const o = { ...DDIM_DETERMINISTIC, ...noise };
    validateNoise(o);
    const n = t.length;
    const out: DDIMStepConstants = {
      alpha: new Float32Array(n),
      alphaPrev: new Float32Array(n),
      sigma: new Float32Array(n),
      logVariance: new Float32Array(n),
      std: new Float32Array(n),
      dirCoef: new Float32Array(n),
    };
    const T = this.config.numTrainTimesteps;
    const eta = f32(o.eta);
    const sigmaMin = f32(this.config.sigmaMin);
    const lvEps = f32(this.config.logVarianceEps);
    for (let i = 0; i < n; i++) {
      const ti = t[i]!;
      if (!Number.isInteger(ti) || ti < 0 || ti >= T) throw new Error(`DDIMScheduler: invalid timestep ${ti} at row ${i}. Should be an integer in [0, ${T}).`);
      const a = this.schedule.alphasCumprod[ti]!;
      const ap = f32(this.alphaPrevOf(ti));
      const inner = f32(f32(f32(1 - ap) / f32(1 - a)) * f32(1 - f32(a / ap)));
      const sigma = Math.max(f32(eta * f32(Math.sqrt(inner))), sigmaMin);
      const sigma2 = f32(sigma * sigma);
      const logvar = f32(Math.log(f32(sigma2 + lvEps)));
      out.alpha[i] = a;
      out.alphaPrev[i] = ap;
      out.sigma[i] = sigma;
      out.logVariance[i] = logvar;
      out.std[i] = o.eta === 0 ? 0 : Math.max(f32(Math.exp(f32(0.5 * logvar))), f32(o.minStd));
      out.dirCoef[i] = Math.sqrt(Math.max(0, f32(f32(1 - ap) - sigma2)));
    }
    return out;
  }

  /**
   * The posterior mean of one reverse step (steps 1-5 of `step`), differentiable in `modelOutput`.
   * `t` is one timestep for all rows, or one per row (rows = first axis of `sample`).
   */
  posterior(
    modelOutput: tf.Tensor,
    t: number | ArrayLike<number>,
    sample: tf.Tensor,
    noise: Partial<DDIMNoiseOptions> = {},
  ): { mean: tf.Tensor; predOriginalSample: tf.Tensor; predEpsilon: tf.Tensor; constants: DDIMStepConstants } {
    if (!tf.util.arraysEqual(modelOutput.shape, sample.shape)) {
      throw new Error(`DDIMScheduler: modelOutput shape [${modelOutput.shape}] differs from sample shape [${sample.shape}].`);
    }
    const rows = sample.shape[0] ?? 1;
    const ts = typeof t === 'number' ? new Array<number>(rows).fill(t) : t;
    if (ts.length !== rows) throw new Error(`DDIMScheduler: ${ts.length} timesteps for ${rows} rows; expected one per row or a single number.`);
    const constants = this.stepConstants(ts, noise);
    const c = this.config;
    const n = ts.length;
    const sqrtA = new Float32Array(n);
    const sqrt1mA = new Float32Array(n);
    const sqrtAp = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      sqrtA[i] = Math.sqrt(constants.alpha[i]!);
      sqrt1mA[i] = Math.sqrt(f32(1 - constants.alpha[i]!));
      sqrtAp[i] = Math.sqrt(constants.alphaPrev[i]!);
    }
    const result = tf.tidy(() => {
      const coef = (v: Float32Array): tf.Tensor => {
        const shape = [n, ...sample.shape.slice(1).map(() => 1)];
        return tf.tensor(v, shape, 'float32');
      };
      const tSqrtA = coef(sqrtA);
      const tSqrt1mA = coef(sqrt1mA);
      // (9) of DDIM: x̂₀ = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t
      let x0 = tf.div(tf.sub(sample, tf.mul(tSqrt1mA, modelOutput)), tSqrtA);
      let eps: tf.Tensor = modelOutput;
      if (c.clipSample) {
        x0 = tf.clipByValue(x0, -c.clipSampleRange, c.clipSampleRange);
        // ε consistent with the clipped x̂₀: ε = (x_t − √ᾱ_t·x̂₀) / √(1−ᾱ_t)
        if (c.recomputeEpsilon) eps = tf.div(tf.sub(sample, tf.mul(tSqrtA, x0)), tSqrt1mA);
      }
      if (c.epsilonClip !== null) eps = tf.clipByValue(eps, -c.epsilonClip, c.epsilonClip);
      // (12) of DDIM: μ = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε
      const mean = tf.add(tf.mul(coef(sqrtAp), x0), tf.mul(coef(constants.dirCoef), eps));
      return { mean, predOriginalSample: x0, predEpsilon: eps === modelOutput ? tf.clone(eps) : eps };
    });
    return { ...result, constants };
  }

  /**
   * One reverse step x_t → x_{t_prev} (numbered as in DDIM, Song et al. 2021, eq. 12):
   * 1. x̂₀ from ε̂; 2. clip x̂₀; 3. re-derive ε; 4. σ from η; 5. μ; 6. x_prev = μ + std·clip(z).
   */
  step(modelOutput: tf.Tensor, t: number | ArrayLike<number>, sample: tf.Tensor, options: DDIMStepOptions = {}): DDIMStepOutput {
    this.requireTimesteps();
    const o: DDIMNoiseOptions = {
      eta: options.eta ?? DDIM_DETERMINISTIC.eta,
      minStd: options.minStd ?? DDIM_DETERMINISTIC.minStd,
      noiseClip: options.noiseClip === undefined ? DDIM_DETERMINISTIC.noiseClip : options.noiseClip,
    };
    const post = this.posterior(modelOutput, t, sample, o);
    if (o.eta === 0) {
      return { prevSample: tf.clone(post.mean), predOriginalSample: post.predOriginalSample, predEpsilon: post.predEpsilon, mean: post.mean, noise: null, constants: post.constants };
    }
    let raw = options.noise;
    let ownRaw = false;
    if (raw === undefined) {
      if (!options.rng) throw new Error('DDIMScheduler.step: eta > 0 needs `noise` or `rng`.');
      raw = tf.tensor(options.rng.fillNormal(new Float32Array(sample.size)), sample.shape, 'float32');
      ownRaw = true;
    } else if (!tf.util.arraysEqual(raw.shape, sample.shape)) {
      throw new Error(`DDIMScheduler.step: noise shape [${raw.shape}] differs from sample shape [${sample.shape}].`);
    }
    const rawNoise = raw;
    const { prevSample, noise } = tf.tidy(() => {
      const z = o.noiseClip === null ? tf.clone(rawNoise) : tf.clipByValue(rawNoise, -o.noiseClip, o.noiseClip);
      const std = tf.tensor(post.constants.std, [sample.shape[0] ?? 1, ...sample.shape.slice(1).map(() => 1)], 'float32');
      return { prevSample: tf.add(post.mean, tf.mul(std, z)), noise: z };
    });
    if (ownRaw) rawNoise.dispose();
    return { prevSample, predOriginalSample: post.predOriginalSample, predEpsilon: post.predEpsilon, mean: post.mean, noise, constants: post.constants };
  }

  /** Forward process q(x_t | x₀): √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, with one t per row. */
  addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, t: number | ArrayLike<number>): tf.Tensor {
    return addNoise(this.schedule, originalSamples, noise, t);
  }
}

/** q(x_t | x₀) for a schedule; `t` is one timestep or one per row. */
export function addNoise(schedule: NoiseSchedule, x0: tf.Tensor, noise: tf.Tensor, t: number | ArrayLike<number>): tf.Tensor {
  const rows = x0.shape[0] ?? 1;
  const ts = typeof t === 'number' ? new Array<number>(rows).fill(t) : t;
  if (ts.length !== rows) throw new Error(`addNoise: ${ts.length} timesteps for ${rows} rows.`);
  const T = schedule.betas.length;
  const a = new Float32Array(rows);
  const b = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const ti = ts[i]!;
    if (!Number.isInteger(ti) || ti < 0 || ti >= T) throw new Error(`addNoise: invalid timestep ${ti} at row ${i}. Should be an integer in [0, ${T}).`);
    a[i] = schedule.sqrtAlphasCumprod[ti]!;
    b[i] = schedule.sqrtOneMinusAlphasCumprod[ti]!;
  }
  return tf.tidy(() => {
    const shape = [rows, ...x0.shape.slice(1).map(() => 1)];
    return tf.add(tf.mul(tf.tensor(a, shape), x0), tf.mul(tf.tensor(b, shape), noise));
  });
}
