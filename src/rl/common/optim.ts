/**
 * AdamW with decoupled weight decay, exactly as `torch.optim.AdamW` (single-tensor path,
 * amsgrad off, maximize off), and global-norm gradient clipping as
 * `torch.nn.utils.clip_grad_norm_`.
 *
 * Update for parameter θ with gradient g at step t (1-based), learning rate γ, decay λ:
 *
 *   θ ← θ · (1 − γλ)                                  (decoupled weight decay)
 *   m ← lerp(m, g, 1 − β₁)                            (= β₁·m + (1 − β₁)·g)
 *   v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * The float32 operation order follows torch/optim/adamw.py `_single_tensor_adamw` line by
 * line (lerp with weight < 0.5 is `m + w·(g − m)`, addcmul is `v + c·g·g`, addcdiv is
 * `θ + s·m / denom`), so results match PyTorch on CPU to float32 rounding.
 *
 * The optimizer state (first and second moments, step count) serialises to named float32
 * arrays plus JSON, for checkpoints that resume bit-identically.
 */
import * as tf from '@tensorflow/tfjs';
import { defineConfig, type ConfigDef } from '../../core/config.js';
import { ConfigError, InputError, UsageError } from '../../core/errors.js';

/** AdamW hyper-parameters. Defaults are ReCogDrive's (spec §4: lr 1e-4, betas (0.9, 0.95), wd 1e-4). */
export interface AdamWConfig {
  /** Learning rate γ (can be changed every step by a schedule). */
  lr: number;
  /** β₁, decay of the first moment. */
  beta1: number;
  /** β₂, decay of the second moment. */
  beta2: number;
  /** ε added to the bias-corrected √v (torch default 1e-8). */
  eps: number;
  /** Decoupled weight decay λ (θ ← θ·(1 − γλ) before the Adam step). */
  weightDecay: number;
}

export const ADAMW_DEFAULTS: Readonly<AdamWConfig> = Object.freeze({
  lr: 1e-4,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 1e-4,
});

/** AdamW's settings as a config section of a trainer's config (the same checks as the constructor's). */
export const ADAMW_CONFIG: ConfigDef<AdamWConfig> = defineConfig<AdamWConfig>('AdamWConfig', {
  lr: { default: ADAMW_DEFAULTS.lr, type: 'number', min: 0, doc: 'Peak learning rate γ (a schedule scales it).' },
  beta1: { default: ADAMW_DEFAULTS.beta1, type: 'number', min: 0, lt: 1, doc: 'β₁, decay of the first moment.' },
  beta2: { default: ADAMW_DEFAULTS.beta2, type: 'number', min: 0, lt: 1, doc: 'β₂, decay of the second moment.' },
  eps: { default: ADAMW_DEFAULTS.eps, type: 'number', min: 0, doc: 'ε added to the bias-corrected √v.' },
  weightDecay: { default: ADAMW_DEFAULTS.weightDecay, type: 'number', min: 0, doc: 'Decoupled weight decay λ.' },
});

/** Named trainable parameters, in a fixed order (the order of the record). */
export type NamedVariables = Record<string, tf.Variable> | Map<string, tf.Variable>;

/** A plain float32 array with its shape: what checkpoints store. */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** The serialisable state of an AdamW optimizer. */
export interface AdamWState {
  /** Number of steps taken (torch's `state['step']`, identical for every parameter here). */
  step: number;
  config: AdamWConfig;
  /** `exp_avg` (m) per parameter name. */
  expAvg: Record<string, NamedArray>;
  /** `exp_avg_sq` (v) per parameter name. */
  expAvgSq: Record<string, NamedArray>;
}

export function toEntries(vars: NamedVariables): [string, tf.Variable][] {
  return vars instanceof Map ? [...vars.entries()] : Object.entries(vars);
}

function validateConfig(c: AdamWConfig): void {
  const bad = (name: string, v: number, want: string) => {
    throw new ConfigError(`Invalid AdamW ${name}: ${v}. Should be ${want}.`, { field: name, expected: want, found: v });
  };
  if (!(c.lr >= 0) || !Number.isFinite(c.lr)) bad('lr', c.lr, 'a finite number >= 0');
  if (!(c.beta1 >= 0 && c.beta1 < 1)) bad('beta1', c.beta1, 'in [0, 1)');
  if (!(c.beta2 >= 0 && c.beta2 < 1)) bad('beta2', c.beta2, 'in [0, 1)');
  if (!(c.eps >= 0) || !Number.isFinite(c.eps)) bad('eps', c.eps, 'a finite number >= 0');
  if (!(c.weightDecay >= 0) || !Number.isFinite(c.weightDecay)) bad('weightDecay', c.weightDecay, 'a finite number >= 0');
}

export interface AdamWOptions extends Partial<AdamWConfig> {
  /**
   * Parameters excluded from weight decay (e.g. norms and biases). ReCogDrive passes all
   * parameters to one AdamW group, so by default every parameter decays.
   */
  noDecay?: (name: string) => boolean;
}

/**
 * AdamW over a fixed set of named variables. `step(grads)` updates them in place; gradients
 * missing from `grads` leave their parameter and its moments untouched (torch skips
 * parameters whose `.grad` is None).
 */
export class AdamW {
  readonly config: AdamWConfig;
  /** Learning rate used by the next `step()`; schedules set this. */
  lr: number;
  private readonly params: [string, tf.Variable][];
  private readonly decays: Map<string, boolean>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private steps = 0;
  private disposed = false;

  constructor(params: NamedVariables, options: AdamWOptions = {}) {
    const { noDecay, ...rest } = options;
    this.config = Object.freeze({ ...ADAMW_DEFAULTS, ...rest });
    validateConfig(this.config);
    this.lr = this.config.lr;
    this.params = toEntries(params);
    if (this.params.length === 0) throw new UsageError('AdamW needs at least one parameter; got an empty set.', { field: 'params', expected: 'at least one parameter', found: 0 });
    this.decays = new Map(this.params.map(([n]) => [n, !(noDecay?.(n) ?? false)]));
    for (const [name, p] of this.params) {
      if (p.dtype !== 'float32') throw new UsageError(`AdamW parameter '${name}': expected dtype float32, found ${p.dtype}.`, { field: name, expected: 'float32', found: p.dtype });
      this.m.set(name, zerosVariable(p.shape));
      this.v.set(name, zerosVariable(p.shape));
    }
  }

  /** Steps taken so far (torch's `state['step']`). */
  get stepCount(): number {
    return this.steps;
  }

  /** Names of the parameters, in update order. */
  get paramNames(): string[] {
    return this.params.map(([n]) => n);
  }

  /**
   * One AdamW update with the given gradients (keyed by parameter name), each multiplied by
   * `gradScale` first (a clip coefficient; 1 = as given). Unknown gradient names are an error
   * (they usually mean a naming mismatch between model and optimizer).
   */
  step(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>, options: { gradScale?: number } = {}): void {
    const gradScale = options.gradScale ?? 1;
    if (!Number.isFinite(gradScale)) throw new UsageError(`AdamW.step: invalid gradScale ${gradScale}. Should be finite.`, { field: 'gradScale', expected: 'a finite number', found: gradScale });
    this.checkAlive();
    const g = grads instanceof Map ? grads : new Map(Object.entries(grads));
    for (const name of g.keys()) {
      if (!this.m.has(name)) throw new UsageError(`AdamW.step: gradient for unknown parameter '${name}'. Known: ${this.paramNames.slice(0, 8).join(', ')}${this.params.length > 8 ? ', ...' : ''}.`);
    }
    this.steps += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const lr = this.lr;
    const t = this.steps;
    // Scalars computed in float64 as Python does, then used as float32 by the kernels.
    const biasCorrection1 = 1 - beta1 ** t;
    const biasCorrection2 = 1 - beta2 ** t;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    const decayFactor = 1 - lr * weightDecay;
    for (const [name, p] of this.params) {
      const rawGrad = g.get(name);
      if (!rawGrad) continue;
      if (!shapesEqual(rawGrad.shape, p.shape)) {
        throw new UsageError(`AdamW.step: gradient '${name}' has shape [${rawGrad.shape}], parameter has [${p.shape}].`, { field: name, expected: p.shape, found: rawGrad.shape });
      }
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        // gradScale folds a clip coefficient in without a second copy of every gradient.
        const grad = gradScale === 1 ? rawGrad : tf.mul(rawGrad, gradScale);
        const theta = this.decays.get(name) && weightDecay !== 0 ? tf.mul(p, decayFactor) : p;
        // torch lerp_(end, w) with w < 0.5: self + w * (end - self)
        const w = 1 - beta1;
        const mNew = w < 0.5 ? tf.add(m, tf.mul(w, tf.sub(grad, m))) : tf.sub(grad, tf.mul(tf.sub(grad, m), 1 - w));
        // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.mul(grad, 1 - beta2), grad));
        // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        const denom = tf.add(tf.div(tf.sqrt(vNew), biasCorrection2Sqrt), eps);
        // param.addcdiv_(exp_avg, denom, value=-step_size)
        const thetaNew = tf.add(theta, tf.div(tf.mul(mNew, -stepSize), denom));
        m.assign(mNew);
        v.assign(vNew);
        p.assign(thetaNew);
      });
    }
  }

  /** The state as plain arrays + JSON, for checkpoints. */
  getState(): AdamWState {
    this.checkAlive();
    const expAvg: Record<string, NamedArray> = {};
    const expAvgSq: Record<string, NamedArray> = {};
    for (const [name] of this.params) {
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      expAvg[name] = { shape: [...m.shape], data: m.dataSync() as Float32Array };
      expAvgSq[name] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
    }
    return { step: this.steps, config: { ...this.config }, expAvg, expAvgSq };
  }

  /**
   * Restores a state from `getState()` (or a checkpoint). The parameter names and shapes
   * must match exactly; the learning rate is not restored (the schedule sets it).
   */
  setState(state: AdamWState): void {
    this.checkAlive();
    if (!Number.isInteger(state.step) || state.step < 0) throw new InputError(`AdamW state: invalid step ${state.step}. Should be an integer >= 0.`, { field: 'step', expected: 'an integer >= 0', found: state.step });
    for (const key of ['beta1', 'beta2', 'eps', 'weightDecay'] as const) {
      if (state.config && state.config[key] !== this.config[key]) {
        throw new ConfigError(`AdamW state: config.${key} is ${state.config[key]} in the checkpoint but ${this.config[key]} here. Use the same optimizer settings to resume.`, { field: `config.${key}`, expected: this.config[key], found: state.config[key] });
      }
    }
    const problems: string[] = [];
    for (const [kind, table] of [['expAvg', state.expAvg], ['expAvgSq', state.expAvgSq]] as const) {
      for (const [name, p] of this.params) {
        const a = table[name];
        if (!a) problems.push(`${kind}.${name}: missing`);
        else if (!shapesEqual(a.shape, p.shape)) problems.push(`${kind}.${name}: expected shape [${p.shape}], found [${a.shape}]`);
        else if (a.data.length !== p.size) problems.push(`${kind}.${name}: expected ${p.size} values, found ${a.data.length}`);
      }
      for (const name of Object.keys(table)) if (!this.m.has(name)) problems.push(`${kind}.${name}: unexpected (no such parameter)`);
    }
    if (problems.length > 0) throw new InputError(`AdamW state does not match the parameters: ${problems.join('; ')}.`, { field: 'state', expected: 'the optimizer parameters', found: problems.join('; ') });
    for (const [name, p] of this.params) {
      const a = state.expAvg[name]!;
      const b = state.expAvgSq[name]!;
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.tensor(a.data, p.shape, 'float32'));
        this.v.get(name)!.assign(tf.tensor(b.data, p.shape, 'float32'));
      });
    }
    this.steps = state.step;
  }

  /** Releases the moment tensors. */
  dispose(): void {
    if (this.disposed) return;
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new UsageError('AdamW used after dispose().');
  }
}

function zerosVariable(shape: number[]): tf.Variable {
  const z = tf.zeros(shape, 'float32');
  const v = tf.variable(z, false);
  z.dispose(); // the variable keeps its own reference to the data
  return v;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface ClipResult {
  /** The clipped gradients (new tensors; the caller owns them). */
  grads: Map<string, tf.Tensor>;
  /** The global L2 norm of the gradients before clipping. */
  totalNorm: number;
  /** The factor applied (1 when no clipping was needed). */
  clipCoef: number;
}

/**
 * Global-norm gradient clipping as `torch.nn.utils.clip_grad_norm_(params, maxNorm)`:
 * total = ‖(‖g₁‖, ‖g₂‖, …)‖₂; coef = min(1, maxNorm / (total + 1e-6)); every gradient is
 * multiplied by coef. Returns new tensors; the inputs are not disposed.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>, maxNorm: number): ClipResult {
  const entries = grads instanceof Map ? [...grads.entries()] : Object.entries(grads);
  const { totalNorm, clipCoef: coef } = clipCoefficient(grads, maxNorm);
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of entries) out.set(name, tf.tidy(() => tf.mul(g, coef)));
  return { grads: out, totalNorm, clipCoef: coef };
}

/**
 * The global norm and the factor `clip_grad_norm_` would multiply the gradients by, without
 * touching them (pass the factor to `AdamW.step(grads, {gradScale})`).
 */
export function clipCoefficient(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>, maxNorm: number): { totalNorm: number; clipCoef: number } {
  if (!(maxNorm > 0)) throw new ConfigError(`Invalid maxNorm: ${maxNorm}. Should be > 0.`, { field: 'maxNorm', expected: '> 0', found: maxNorm });
  const totalNorm = globalNorm(grads);
  // torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to <= 1 (computed in float32).
  const clipCoef = Math.fround(Math.min(1, Math.fround(maxNorm / Math.fround(totalNorm + 1e-6))));
  return { totalNorm, clipCoef };
}

/** The global L2 norm of a set of gradients (no clipping). */
export function globalNorm(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>): number {
  const entries = grads instanceof Map ? [...grads.values()] : Object.values(grads);
  if (entries.length === 0) return 0;
  return tf.tidy(() => tf.norm(tf.stack(entries.map((g) => tf.norm(g)))).dataSync()[0]!);
}
