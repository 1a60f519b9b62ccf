/**
 * Exponential moving average of model parameters, as ReCogDrive's optional IL EMA
 * (`run_training_recogdrive_ema.py`: `EMA(decay=0.999)`, updated after every optimizer step,
 * validation on the averaged weights; spec §4):
 *
 *   shadow ← d · shadow + (1 − d) · θ
 *
 * Options: `warmup` uses d_n = min(d, (1 + n)/(10 + n)) after n updates (the LitEma /
 * torch-ema `use_num_updates` variant, off by default), and `referenceBatch` scales the decay
 * as d^(batch / referenceBatch) (the later ReCogDrive refactor uses 128), so the averaging
 * horizon in samples stays the same when the batch size changes.
 */
import * as tf from '@tensorflow/tfjs';
import { type NamedArray, type NamedVariables, shapesEqual, toEntries } from './optim.js';

export interface EmaOptions {
  /** Decay d in [0, 1). ReCogDrive: 0.999. */
  decay?: number;
  /** Use d_n = min(d, (1 + n)/(10 + n)) (warm-started average). Default false. */
  warmup?: boolean;
  /** If set, each update uses d^(batchSize / referenceBatch); `update()` must then be given the batch size. */
  referenceBatch?: number;
}

export interface EmaState {
  decay: number;
  numUpdates: number;
  shadow: Record<string, NamedArray>;
}

export class Ema {
  readonly decay: number;
  readonly warmup: boolean;
  readonly referenceBatch: number | undefined;
  private readonly params: [string, tf.Variable][];
  private readonly shadow = new Map<string, tf.Variable>();
  private updates = 0;
  private disposed = false;

  /** Starts the average at the current parameter values. */
  constructor(params: NamedVariables, options: EmaOptions = {}) {
    this.decay = options.decay ?? 0.999;
    if (!(this.decay >= 0 && this.decay < 1)) throw new Error(`Invalid EMA decay: ${this.decay}. Should be in [0, 1).`);
    this.warmup = options.warmup ?? false;
    this.referenceBatch = options.referenceBatch;
    if (this.referenceBatch !== undefined && !(this.referenceBatch > 0)) {
      throw new Error(`Invalid EMA referenceBatch: ${this.referenceBatch}. Should be > 0.`);
    }
    this.params = toEntries(params);
    for (const [name, p] of this.params) {
      const copy = p.clone();
      this.shadow.set(name, tf.variable(copy, false));
      copy.dispose(); // the variable keeps its own reference to the data
    }
  }

  /** Number of `update()` calls so far. */
  get numUpdates(): number {
    return this.updates;
  }

  /** The decay used by the next update (given the batch size when `referenceBatch` is set). */
  decayFor(batchSize?: number): number {
    let d = this.decay;
    if (this.warmup) d = Math.min(d, (1 + this.updates) / (10 + this.updates));
    if (this.referenceBatch !== undefined) {
      if (!(batchSize !== undefined && batchSize > 0)) throw new Error(`EMA with referenceBatch ${this.referenceBatch} needs the batch size in update(batchSize); got ${batchSize}.`);
      d = d ** (batchSize / this.referenceBatch);
    }
    return d;
  }

  /** shadow ← d·shadow + (1 − d)·θ for every parameter. */
  update(batchSize?: number): void {
    this.checkAlive();
    const d = this.decayFor(batchSize);
    for (const [name, p] of this.params) {
      const s = this.shadow.get(name)!;
      tf.tidy(() => s.assign(tf.add(tf.mul(s, d), tf.mul(p, 1 - d))));
    }
    this.updates += 1;
  }

  /** The averaged value of one parameter (a view of the shadow variable; do not dispose). */
  get(name: string): tf.Variable {
    const s = this.shadow.get(name);
    if (!s) throw new Error(`EMA has no parameter '${name}'.`);
    return s;
  }

  /** Copies the averaged values into the model parameters (overwrites them). */
  copyTo(): void {
    this.checkAlive();
    for (const [name, p] of this.params) p.assign(this.shadow.get(name)!);
  }

  /**
   * Runs `fn` with the averaged weights swapped into the model, then restores the raw weights
   * (also when `fn` throws). Used for validation and for saving EMA checkpoints.
   */
  async withAveraged<T>(fn: () => T | Promise<T>): Promise<T> {
    this.checkAlive();
    const backup = this.params.map(([, p]) => p.clone());
    try {
      this.copyTo();
      return await fn();
    } finally {
      this.params.forEach(([, p], i) => p.assign(backup[i]!));
      tf.dispose(backup);
    }
  }

  getState(): EmaState {
    this.checkAlive();
    const shadow: Record<string, NamedArray> = {};
    for (const [name, s] of this.shadow) shadow[name] = { shape: [...s.shape], data: s.dataSync() as Float32Array };
    return { decay: this.decay, numUpdates: this.updates, shadow };
  }

  setState(state: EmaState): void {
    this.checkAlive();
    const problems: string[] = [];
    for (const [name, p] of this.params) {
      const a = state.shadow[name];
      if (!a) problems.push(`${name}: missing`);
      else if (!shapesEqual(a.shape, p.shape) || a.data.length !== p.size) problems.push(`${name}: expected shape [${p.shape}], found [${a.shape}]`);
    }
    for (const name of Object.keys(state.shadow)) if (!this.shadow.has(name)) problems.push(`${name}: unexpected (no such parameter)`);
    if (problems.length > 0) throw new Error(`EMA state does not match the parameters: ${problems.join('; ')}.`);
    if (state.decay !== this.decay) throw new Error(`EMA state: decay is ${state.decay} in the checkpoint but ${this.decay} here.`);
    for (const [name, p] of this.params) {
      tf.tidy(() => this.shadow.get(name)!.assign(tf.tensor(state.shadow[name]!.data, p.shape, 'float32')));
    }
    this.updates = state.numUpdates;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('EMA used after dispose().');
  }
}
