/**
 * Imitation-learning trainer for the diffusion planner (ReCogDrive stage 2, spec §4).
 *
 * Recipe, top to bottom:
 * 1. Each epoch shuffles the training rows with a seeded stream and walks them in minibatches
 *    (the last one may be smaller, as a PyTorch DataLoader without drop_last).
 * 2. Each step computes the planner's ε-MSE loss (t ~ U{0..99}, x_t = √ᾱ·x₀ + √(1−ᾱ)·ε,
 *    mean (ε̂ − ε)²; the planner draws t and ε from the step's own stream), its gradients,
 *    clips them to a global L2 norm (1.0), and applies AdamW (0.9, 0.95, wd 1e-4) at the rate
 *    of the warmup + cosine schedule (3 warmup epochs, cosine to 1e-6, stepped per epoch).
 * 3. An optional EMA (decay 0.999) of the weights is updated after every step; validation and
 *    best checkpoints then use the averaged weights.
 * 4. Validation samples trajectories with the stochastic DDIM sampler (η = 1, as ReCogDrive's
 *    evaluation) from a fixed seed and reports L1 (mean |pred − target| over (B, 8, 3)),
 *    ADE and FDE in metres. The best k epochs by validation L1 are kept as checkpoints.
 * 5. `last/` holds everything needed to resume: weights, optimizer moments and step, EMA,
 *    the random stream and the position in the epoch. A resumed run continues bit-identically
 *    to an uninterrupted one on the same backend.
 *
 * Randomness: one parent stream (the `seed`). At the start of epoch e it is split once for the
 * shuffle; every optimizer step then splits one stream for its loss noise. A checkpoint stores
 * the parent's state at the start of the epoch and the step within the epoch, so a resume
 * replays the shuffle and the splits exactly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from '../core/checkpoint.js';
import { recoverDir, writeDirAtomic, writeFileAtomic } from '../core/atomic.js';
import { Rng } from '../core/rng.js';
import { defineConfig, type ConfigDef } from '../core/config.js';
import type { SafeTensor } from '../core/safetensors.js';
import { TrajectoryErrors } from '../metrics/trajectory.js';
import { Ema } from './ema.js';
import { type ILDataSource, type ILRows, HISTORY_SIZE, STATUS_SIZE } from './il-data.js';
import { ADAMW_CONFIG, AdamW, type AdamWConfig, type NamedArray, type NamedVariables, clipCoefficient, toEntries } from './optim.js';
import { WarmupCosineSchedule, type ScheduleInterval } from './schedules.js';

// ---------------------------------------------------------------------------------------------
// The model contract

/** A minibatch on the device. Trajectories are in metres / radians (not normalised). */
export interface ILTensorBatch {
  /** VLM hidden states `[B, L, H]`. */
  cond: tf.Tensor3D;
  /** History poses flattened `[B, 12]` (4 × (x, y, heading), ego frame, oldest first). */
  history: tf.Tensor2D;
  /** Status `[B, 8]` = command one-hot (4) ‖ v (2) ‖ a (2). */
  status: tf.Tensor2D;
  /** Future poses `[B, 8, 3]` (only needed by the loss). */
  target: tf.Tensor3D;
}

/**
 * What the IL trainer needs from a planner. `plannerForIL()` in `./il-planner.ts` adapts
 * `DiffusionPlanner`; tests may use any small model with the same contract.
 */
export interface ILModel {
  /** Trainable parameters by name (the names are used in checkpoints). */
  readonly variables: NamedVariables;
  /** JSON-serialisable configuration, saved beside the weights. */
  readonly config: unknown;
  /** Scalar ε-MSE loss of the batch; all randomness (t, ε) comes from `rng`. */
  ilLoss(batch: ILTensorBatch, rng: Rng): tf.Scalar;
  /** Sampled trajectories `[B, 8, 3]` in metres/radians (the evaluation sampler). */
  sampleTrajectories(batch: Omit<ILTensorBatch, 'target'>, rng: Rng): tf.Tensor3D | Promise<tf.Tensor3D>;
  /** Weights as named tensors for a checkpoint (default: `variables` by name). */
  stateDict?(): Map<string, SafeTensor>;
  /** Loads weights saved by `stateDict` (default: assign `variables` by name). */
  loadStateDict?(tensors: Map<string, SafeTensor>, source: string): void;
}

/** Uploads host rows to a tensor batch. The caller disposes it (`disposeBatch`). */
export function rowsToBatch(rows: ILRows): ILTensorBatch {
  const B = rows.count;
  return {
    cond: tf.tensor3d(rows.cond, [B, rows.condLength, rows.condDim]),
    history: tf.tensor2d(rows.history, [B, HISTORY_SIZE]),
    status: tf.tensor2d(rows.status, [B, STATUS_SIZE]),
    target: tf.tensor3d(rows.target, [B, 8, 3]),
  };
}

export function disposeBatch(b: Partial<ILTensorBatch>): void {
  const all: (tf.Tensor | undefined)[] = [b.cond, b.history, b.status, b.target];
  tf.dispose(all.filter((t): t is tf.Tensor => t !== undefined));
}

// ---------------------------------------------------------------------------------------------
// One training step (also used by benchmarks/planner.ts)

export interface ILStepOptions {
  /** Global gradient-norm clip (torch clip_grad_norm_); null or 0 disables it. Default 1.0. */
  maxGradNorm?: number | null;
}

export interface ILStepResult {
  loss: number;
  /** Global gradient L2 norm before clipping (NaN when clipping is disabled). */
  gradNorm: number;
}

/**
 * Loss and gradients of `model.ilLoss` on one (micro-)batch, keyed by parameter name. The caller
 * owns (and disposes) the gradients.
 */
export function ilLossAndGrads(model: ILModel, batch: ILTensorBatch, rng: Rng): { loss: number; grads: Map<string, tf.Tensor> } {
  const entries = toEntries(model.variables).filter(([, v]) => v.trainable);
  const byTfName = new Map(entries.map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(() => model.ilLoss(batch, rng), entries.map(([, v]) => v));
  const named = new Map<string, tf.Tensor>();
  for (const [tfName, g] of Object.entries(grads)) named.set(byTfName.get(tfName)!, g);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads: named };
}

/**
 * Global-norm clipping (`clip_grad_norm_`; null/0 = off) and one AdamW update at
 * `optimizer.lr`. Returns the norm before clipping (NaN when clipping is off). Does not dispose
 * `grads`.
 */
export function applyILGradients(optimizer: AdamW, grads: Map<string, tf.Tensor>, maxGradNorm: number | null): number {
  if (!maxGradNorm) {
    optimizer.step(grads);
    return Number.NaN;
  }
  const { totalNorm, clipCoef } = clipCoefficient(grads, maxGradNorm);
  optimizer.step(grads, { gradScale: clipCoef });
  return totalNorm;
}

/**
 * One IL optimisation step: loss and gradients of `model.ilLoss`, global-norm clipping (1.0 by
 * default), one AdamW update at `optimizer.lr`. Leaves no tensors behind.
 */
export function ilTrainStep(model: ILModel, optimizer: AdamW, batch: ILTensorBatch, rng: Rng, options: ILStepOptions = {}): ILStepResult {
  const maxGradNorm = options.maxGradNorm === undefined ? 1.0 : options.maxGradNorm;
  const { loss, grads } = ilLossAndGrads(model, batch, rng);
  try {
    return { loss, gradNorm: applyILGradients(optimizer, grads, maxGradNorm) };
  } finally {
    tf.dispose([...grads.values()]);
  }
}

/**
 * Accumulates `scale · grads` into `acc` (disposing the inputs it replaces). Used to build a
 * large batch's gradient from micro-batches: with scale = micro / batch size the sum is the
 * gradient of the batch-mean loss.
 */
export function accumulateGrads(acc: Map<string, tf.Tensor> | null, grads: Map<string, tf.Tensor>, scale: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    const prev = acc?.get(name);
    const next = tf.tidy(() => {
      const sg = scale === 1 ? g.clone() : tf.mul(g, scale);
      return prev ? tf.add(prev, sg) : sg;
    });
    out.set(name, next);
    g.dispose();
    prev?.dispose();
  }
  if (acc) for (const [name, t] of acc) if (!grads.has(name)) out.set(name, t);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configuration

export interface ILTrainConfig {
  /** Number of epochs (ReCogDrive: 200). */
  epochs: number;
  /** Minibatch size (ReCogDrive: 512 global). */
  batchSize: number;
  /**
   * Rows per forward/backward pass; gradients of the micro-batches are accumulated into one
   * update of the whole batch (0 = the whole batch at once). Lets batch 512 run with full-size
   * conditioning (17 MB per row) in bounded memory.
   */
  microBatchSize: number;
  /** AdamW settings; `lr` is the schedule's peak. */
  optimizer: AdamWConfig;
  /** Warmup length (in `scheduleInterval` units) and cosine floor. Total length = epochs (or all steps). */
  warmup: number;
  minLr: number;
  scheduleInterval: ScheduleInterval;
  /** Global gradient-norm clip (ReCogDrive: 1.0); 0 disables. */
  maxGradNorm: number;
  /** EMA decay (ReCogDrive's EMA script: 0.999) or 0 for no EMA. */
  emaDecay: number;
  /** Seed of the training stream (shuffle + loss noise). */
  seed: number;
  /** Seed of the validation sampler (the same every validation, so epochs are comparable). */
  valSeed: number;
  /** Validate every this many epochs (and after the last). 0 disables validation. */
  valEvery: number;
  /** Batch size for validation sampling. */
  valBatchSize: number;
  /** Validate on at most this many rows (0 = all). */
  valMaxRows: number;
  /** How many best checkpoints (by validation L1) to keep (ReCogDrive: 5). */
  keepBest: number;
  /** Also write `last/` every this many steps inside an epoch (0 = only at epoch ends). */
  checkpointEverySteps: number;
  /** Shuffle training rows each epoch. */
  shuffle: boolean;
}

/** The IL trainer's config, declared once (defaults, docs, checks); `resolveILConfig` resolves it. */
export const IL_TRAIN_CONFIG: ConfigDef<ILTrainConfig> = defineConfig<ILTrainConfig>('ILTrainConfig', {
  epochs: { default: 200, type: 'integer', min: 1, doc: 'Number of epochs (ReCogDrive: 200).' },
  batchSize: { default: 512, type: 'integer', min: 1, doc: 'Minibatch size (ReCogDrive: 512 global).' },
  microBatchSize: { default: 0, type: 'integer', min: 0, doc: 'Rows per forward/backward pass, gradients accumulated over the batch (0 = the whole batch).' },
  optimizer: { default: ADAMW_CONFIG.defaults, type: 'object', nested: ADAMW_CONFIG, doc: 'AdamW settings; `lr` is the schedule\'s peak.' },
  warmup: { default: 3, type: 'integer', min: 0, doc: 'Warmup length in `scheduleInterval` units.' },
  minLr: { default: 1e-6, type: 'number', min: 0, doc: 'Floor of the cosine schedule.' },
  scheduleInterval: { default: 'epoch', type: 'enum', values: ['epoch', 'step'], doc: 'The schedule advances per epoch or per optimiser step.' },
  maxGradNorm: { default: 1.0, type: 'number', min: 0, doc: 'Global gradient-norm clip (ReCogDrive: 1.0); 0 disables.' },
  emaDecay: { default: 0, type: 'number', min: 0, lt: 1, doc: 'EMA decay (ReCogDrive\'s EMA script: 0.999); 0 = no EMA.' },
  seed: { default: 0, type: 'integer', doc: 'Seed of the training stream (shuffle + loss noise).' },
  valSeed: { default: 12345, type: 'integer', doc: 'Seed of the validation sampler (the same every validation).' },
  valEvery: { default: 1, type: 'integer', min: 0, doc: 'Validate every this many epochs (and after the last); 0 disables validation.' },
  valBatchSize: { default: 16, type: 'integer', min: 1, doc: 'Batch size for validation sampling.' },
  valMaxRows: { default: 0, type: 'integer', min: 0, doc: 'Validate on at most this many rows (0 = all).' },
  keepBest: { default: 5, type: 'integer', min: 0, doc: 'How many best checkpoints (by validation L1) to keep (ReCogDrive: 5).' },
  checkpointEverySteps: { default: 0, type: 'integer', min: 0, doc: 'Also write `last/` every this many steps inside an epoch (0 = only at epoch ends).' },
  shuffle: { default: true, type: 'boolean', doc: 'Shuffle training rows each epoch.' },
});

export const IL_TRAIN_DEFAULTS: Readonly<ILTrainConfig> = IL_TRAIN_CONFIG.defaults;

export type ILTrainOptions = Partial<Omit<ILTrainConfig, 'optimizer'>> & { optimizer?: Partial<AdamWConfig> };

/**
 * Fills defaults and checks every field (`IL_TRAIN_CONFIG`); an unknown key or a bad value is a
 * `ConfigError` naming the key (and the nearest valid key). Returns a frozen config.
 */
export function resolveILConfig(options: ILTrainOptions = {}): ILTrainConfig {
  return IL_TRAIN_CONFIG.resolve(options) as ILTrainConfig;
}

// ---------------------------------------------------------------------------------------------
// Events, logging, results

export type ILEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; totalSteps: number; startEpoch: number; startStep: number; trainRows: number; valRows: number }
  | { type: 'step'; epoch: number; step: number; globalStep: number; totalSteps: number; loss: number; gradNorm: number; lr: number; samplesPerSec: number }
  | { type: 'epoch'; epoch: number; trainLoss: number; lr: number; seconds: number }
  | { type: 'validation'; epoch: number; l1: number; ade: number; fde: number; rows: number; seconds: number }
  | { type: 'checkpoint'; kind: 'last' | 'best'; epoch: number; dir: string }
  | { type: 'end'; epochs: number; globalStep: number; best: BestEntry[] };

/** A namespaced metric sink (SB3 style: `train/loss`, `val/l1`); `core/logger` fits it. */
export interface MetricSink {
  record(key: string, value: number | string): void;
  dump(step: number): void;
}

export interface BestEntry {
  epoch: number;
  valL1: number;
  dir: string;
}

export interface ValidationResult {
  /** mean |pred − target| over (rows, 8, 3), metres and radians mixed as ReCogDrive's L1. */
  l1: number;
  /** mean over rows and poses of the xy L2 error (m). */
  ade: number;
  /** mean over rows of the xy L2 error at the last pose (m). */
  fde: number;
  rows: number;
}

export interface ILTrainResult {
  epochs: number;
  globalStep: number;
  /** Mean training loss per epoch (only the epochs run in this call). */
  trainLoss: number[];
  /** Validation results per validated epoch. */
  validation: { epoch: number; result: ValidationResult }[];
  best: BestEntry[];
}

// ---------------------------------------------------------------------------------------------
// Trainer

interface TrainerPosition {
  /** Next epoch to run (0-based). */
  epoch: number;
  /** Steps already done in `epoch`. */
  stepInEpoch: number;
  globalStep: number;
  /** Parent stream state at the start of `epoch`. */
  epochRngState: number[];
  /** Sum of the losses of the steps done in `epoch`, to finish the epoch mean after a resume. */
  epochLossSum: number;
}

/** `trainer.json` inside a checkpoint directory. */
export interface ILTrainerState {
  format: 'drivekit-il-trainer';
  version: 1;
  config: ILTrainConfig;
  position: TrainerPosition;
  optimizerStep: number;
  emaUpdates: number;
  best: BestEntry[];
  trainRows: number;
  modelConfig: unknown;
}

export interface ILTrainerOptions extends ILTrainOptions {
  /** Output directory for checkpoints (`last/`, `best-epoch-XXXX/`). Without it nothing is written. */
  outDir?: string;
  onEvent?: (e: ILEvent) => void;
  logger?: MetricSink;
  /** Log a `train/*` record every this many steps (default 10). */
  logEverySteps?: number;
  /**
   * Facts about the data written as `data.json` into every checkpoint (e.g. the cache path and
   * its conditioning length L, which must stay the same at inference; spec §6, issue #12).
   */
  dataInfo?: Record<string, unknown>;
}

const pad4 = (n: number) => String(n).padStart(4, '0');

export class ILTrainer {
  readonly config: ILTrainConfig;
  readonly optimizer: AdamW;
  readonly ema: Ema | null;
  readonly schedule: WarmupCosineSchedule;
  private pos: TrainerPosition;
  private best: BestEntry[] = [];
  private readonly outDir: string | undefined;
  private readonly onEvent: (e: ILEvent) => void;
  private readonly logger: MetricSink | undefined;
  private readonly logEvery: number;
  private readonly dataInfo: Record<string, unknown> | undefined;

  constructor(readonly model: ILModel, readonly train: ILDataSource, readonly val: ILDataSource | null, options: ILTrainerOptions = {}) {
    const { outDir, onEvent, logger, logEverySteps, dataInfo, ...cfg } = options;
    this.dataInfo = dataInfo;
    this.config = resolveILConfig(cfg);
    this.outDir = outDir;
    this.onEvent = onEvent ?? (() => undefined);
    this.logger = logger;
    this.logEvery = logEverySteps ?? 10;
    if (train.numRows < 1) throw new Error('IL training set is empty (0 rows).');
    const trainable = toEntries(model.variables).filter(([, v]) => v.trainable);
    this.optimizer = new AdamW(new Map(trainable), this.config.optimizer);
    this.ema = this.config.emaDecay > 0 ? new Ema(new Map(trainable), { decay: this.config.emaDecay }) : null;
    const total = this.config.scheduleInterval === 'epoch' ? this.config.epochs : this.config.epochs * this.stepsPerEpoch;
    this.schedule = new WarmupCosineSchedule({
      lr: this.config.optimizer.lr,
      minLr: this.config.minLr,
      warmup: Math.min(this.config.warmup, total - 1),
      total,
      interval: this.config.scheduleInterval,
    });
    this.pos = { epoch: 0, stepInEpoch: 0, globalStep: 0, epochRngState: new Rng(this.config.seed).state(), epochLossSum: 0 };
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.train.numRows / this.config.batchSize);
  }

  /** Next epoch to run, step within it, and global step. */
  get position(): Readonly<TrainerPosition> {
    return this.pos;
  }

  get bestCheckpoints(): readonly BestEntry[] {
    return this.best;
  }

  /**
   * Runs until `config.epochs` (or `until.epochs` / `until.steps` global steps, to stop early
   * for tests and time-limited jobs; a checkpoint is written at the stop point).
   */
  async fit(until: { epochs?: number; steps?: number } = {}): Promise<ILTrainResult> {
    const c = this.config;
    const stopEpoch = Math.min(until.epochs ?? c.epochs, c.epochs);
    const stopStep = until.steps ?? Number.POSITIVE_INFINITY;
    const spe = this.stepsPerEpoch;
    const result: ILTrainResult = { epochs: this.pos.epoch, globalStep: this.pos.globalStep, trainLoss: [], validation: [], best: this.best };
    this.onEvent({
      type: 'start',
      epochs: c.epochs,
      stepsPerEpoch: spe,
      totalSteps: c.epochs * spe,
      startEpoch: this.pos.epoch,
      startStep: this.pos.globalStep,
      trainRows: this.train.numRows,
      valRows: this.val?.numRows ?? 0,
    });
    let stoppedEarly = false;
    while (this.pos.epoch < stopEpoch) {
      const epoch = this.pos.epoch;
      const t0 = performance.now();
      // Replay this epoch's random streams from its start state (identical after a resume).
      const parent = Rng.fromState(this.pos.epochRngState);
      const shuffleRng = parent.split();
      const order = c.shuffle ? shuffleRng.permutation(this.train.numRows) : Int32Array.from({ length: this.train.numRows }, (_, i) => i);
      for (let s = 0; s < this.pos.stepInEpoch; s++) parent.split();
      let lr = this.schedule.lrFor({ epoch, globalStep: this.pos.globalStep });
      while (this.pos.stepInEpoch < spe) {
        if (this.pos.globalStep >= stopStep) {
          stoppedEarly = true;
          break;
        }
        const s = this.pos.stepInEpoch;
        const stepRng = parent.split();
        const idx = order.subarray(s * c.batchSize, Math.min((s + 1) * c.batchSize, order.length));
        lr = this.schedule.lrFor({ epoch, globalStep: this.pos.globalStep });
        this.optimizer.lr = lr;
        const ts = performance.now();
        const r = await this.step(idx, stepRng);
        if (!Number.isFinite(r.loss)) {
          throw new Error(`IL loss is ${r.loss} at epoch ${epoch}, step ${s} (global ${this.pos.globalStep}); lr ${lr}. Lower the learning rate or check the cache for non-finite values.`);
        }
        this.ema?.update();
        this.pos.stepInEpoch += 1;
        this.pos.globalStep += 1;
        this.pos.epochLossSum += r.loss;
        const sps = idx.length / Math.max(1e-9, (performance.now() - ts) / 1000);
        this.onEvent({ type: 'step', epoch, step: s, globalStep: this.pos.globalStep, totalSteps: c.epochs * spe, loss: r.loss, gradNorm: r.gradNorm, lr, samplesPerSec: sps });
        if (this.logger && this.pos.globalStep % this.logEvery === 0) {
          this.logger.record('train/loss', r.loss);
          this.logger.record('train/grad_norm', r.gradNorm);
          this.logger.record('train/lr', lr);
          this.logger.record('train/epoch', epoch);
          this.logger.record('time/samples_per_sec', sps);
          // At an epoch end the epoch record below is dumped at the same step: one line, not two.
          if (this.pos.stepInEpoch < spe) this.logger.dump(this.pos.globalStep);
        }
        if (c.checkpointEverySteps > 0 && this.pos.globalStep % c.checkpointEverySteps === 0 && this.pos.stepInEpoch < spe) {
          await this.saveLast();
        }
      }
      if (stoppedEarly) break;
      const trainLoss = this.pos.epochLossSum / spe;
      result.trainLoss.push(trainLoss);
      const seconds = (performance.now() - t0) / 1000;
      this.onEvent({ type: 'epoch', epoch, trainLoss, lr, seconds });
      // The next epoch starts from the parent stream after all of this epoch's splits.
      this.pos = { epoch: epoch + 1, stepInEpoch: 0, globalStep: this.pos.globalStep, epochRngState: parent.state(), epochLossSum: 0 };
      this.logger?.record('train/epoch_loss', trainLoss);
      this.logger?.record('train/lr', lr);
      const last = epoch + 1 === c.epochs;
      if (this.val && this.val.numRows > 0 && c.valEvery > 0 && ((epoch + 1) % c.valEvery === 0 || last)) {
        const v0 = performance.now();
        const vr = await this.validateCurrent();
        result.validation.push({ epoch, result: vr });
        this.onEvent({ type: 'validation', epoch, ...vr, seconds: (performance.now() - v0) / 1000 });
        this.logger?.record('val/l1', vr.l1);
        this.logger?.record('val/ade', vr.ade);
        this.logger?.record('val/fde', vr.fde);
        await this.considerBest(epoch, vr.l1);
      }
      this.logger?.dump(this.pos.globalStep);
      await this.saveLast();
    }
    if (stoppedEarly) await this.saveLast();
    result.epochs = this.pos.epoch;
    result.globalStep = this.pos.globalStep;
    result.best = [...this.best];
    this.onEvent({ type: 'end', epochs: this.pos.epoch, globalStep: this.pos.globalStep, best: [...this.best] });
    return result;
  }

  /** One optimizer step on the rows `idx`, in micro-batches when configured. */
  private async step(idx: Int32Array, rng: Rng): Promise<ILStepResult> {
    const c = this.config;
    const micro = c.microBatchSize > 0 ? c.microBatchSize : idx.length;
    let acc: Map<string, tf.Tensor> | null = null;
    let loss = 0;
    try {
      for (let start = 0; start < idx.length; start += micro) {
        const chunk = idx.subarray(start, Math.min(start + micro, idx.length));
        const batch = rowsToBatch(await this.train.readRows(chunk));
        let r: { loss: number; grads: Map<string, tf.Tensor> };
        try {
          r = ilLossAndGrads(this.model, batch, rng);
        } finally {
          disposeBatch(batch);
        }
        const w = chunk.length / idx.length;
        if (w === 1) {
          acc = r.grads;
          loss = r.loss;
        } else {
          acc = accumulateGrads(acc, r.grads, w);
          loss += w * r.loss;
        }
      }
      return { loss, gradNorm: applyILGradients(this.optimizer, acc!, c.maxGradNorm || null) };
    } finally {
      if (acc) tf.dispose([...acc.values()]);
    }
  }

  /** Validation of the current weights (EMA-averaged if EMA is on). */
  async validateCurrent(): Promise<ValidationResult> {
    if (!this.val) throw new Error('No validation set was given to the IL trainer.');
    const run = () => evaluateIL(this.model, this.val!, { batchSize: this.config.valBatchSize, seed: this.config.valSeed, maxRows: this.config.valMaxRows });
    return this.ema ? this.ema.withAveraged(run) : run();
  }

  private async considerBest(epoch: number, l1: number): Promise<void> {
    const k = this.config.keepBest;
    if (k === 0 || !this.outDir || !Number.isFinite(l1)) return;
    const worst = this.best.length >= k ? this.best[this.best.length - 1]! : null;
    if (worst && !(l1 < worst.valL1)) return;
    const dir = path.join(this.outDir, `best-epoch-${pad4(epoch)}`);
    const save = async () => {
      await writeDirAtomic(dir, async (tmp) => {
        await saveCheckpoint(tmp, { tensors: modelTensors(this.model), config: this.model.config ?? {}, metadata: { format: 'drivekit-planner' } }, { name: 'model' });
        await writeFileAtomic(path.join(tmp, 'metrics.json'), JSON.stringify({ epoch, valL1: l1, ema: this.ema !== null }, null, 2) + '\n');
        await this.writeDataInfo(tmp);
      });
    };
    if (this.ema) await this.ema.withAveraged(save);
    else await save();
    this.best.push({ epoch, valL1: l1, dir });
    this.best.sort((a, b) => a.valL1 - b.valL1 || a.epoch - b.epoch);
    while (this.best.length > k) {
      const drop = this.best.pop()!;
      await fs.promises.rm(drop.dir, { recursive: true, force: true });
    }
    this.onEvent({ type: 'checkpoint', kind: 'best', epoch, dir });
  }

  /** Writes the resumable `last/` checkpoint (when an output directory is set). */
  async saveLast(): Promise<string | null> {
    if (!this.outDir) return null;
    const dir = path.join(this.outDir, 'last');
    await this.saveState(dir);
    this.onEvent({ type: 'checkpoint', kind: 'last', epoch: this.pos.epoch, dir });
    return dir;
  }

  /** Writes a full resumable checkpoint into `dir` (replaced atomically as a directory). */
  async saveState(dir: string): Promise<void> {
    const opt = this.optimizer.getState();
    const tensors = new Map<string, SafeTensor>();
    const put = (prefix: string, table: Record<string, NamedArray>) => {
      for (const [name, a] of Object.entries(table)) tensors.set(`${prefix}${name}`, { dtype: 'F32', shape: a.shape, data: a.data });
    };
    put('optimizer.exp_avg.', opt.expAvg);
    put('optimizer.exp_avg_sq.', opt.expAvgSq);
    const emaState = this.ema?.getState();
    if (emaState) put('ema.', emaState.shadow);
    const state: ILTrainerState = {
      format: 'drivekit-il-trainer',
      version: 1,
      config: this.config,
      position: { ...this.pos },
      optimizerStep: opt.step,
      emaUpdates: emaState?.numUpdates ?? 0,
      best: this.best,
      trainRows: this.train.numRows,
      modelConfig: this.model.config ?? null,
    };
    await writeDirAtomic(dir, async (tmp) => {
      await saveCheckpoint(tmp, { tensors: modelTensors(this.model), config: this.model.config ?? {}, metadata: { format: 'drivekit-planner' } }, { name: 'model' });
      await saveCheckpoint(tmp, { tensors, config: state, metadata: { format: 'drivekit-il-trainer' } }, { name: 'trainer' });
      await this.writeDataInfo(tmp);
    });
  }

  private async writeDataInfo(dir: string): Promise<void> {
    if (this.dataInfo) await writeFileAtomic(path.join(dir, 'data.json'), JSON.stringify(this.dataInfo, null, 2) + '\n');
  }

  /**
   * Restores weights, optimizer, EMA, random stream and position from a checkpoint written by
   * `saveState` (a `last/` directory). The training configuration must match the checkpoint's
   * except `epochs` (which may grow: the schedule then stretches, so continuation is no longer
   * identical to the original plan), `valEvery`, `valMaxRows`, `valBatchSize`, `keepBest` and
   * `checkpointEverySteps`.
   */
  async resume(dir: string): Promise<void> {
    // A run killed mid-swap may have left `<dir>.old` or a complete temporary folder instead.
    await recoverDir(dir);
    const trainer = await loadCheckpoint<ILTrainerState>(dir, { name: 'trainer' });
    const st = trainer.config;
    if (st?.format !== 'drivekit-il-trainer') throw new Error(`${trainer.configPath}: not an IL trainer state (field 'format' is ${JSON.stringify(st?.format)}, expected "drivekit-il-trainer").`);
    const mismatches: string[] = [];
    const free = new Set(['epochs', 'valEvery', 'valMaxRows', 'valBatchSize', 'keepBest', 'checkpointEverySteps']);
    for (const key of Object.keys(this.config) as (keyof ILTrainConfig)[]) {
      if (free.has(key)) continue;
      const a = JSON.stringify(st.config[key]);
      const b = JSON.stringify(this.config[key]);
      if (a !== b) mismatches.push(`${key}: checkpoint ${a}, here ${b}`);
    }
    if (st.trainRows !== this.train.numRows) mismatches.push(`training rows: checkpoint ${st.trainRows}, here ${this.train.numRows}`);
    if (JSON.stringify(st.modelConfig) !== JSON.stringify(this.model.config ?? null)) mismatches.push(`model config: checkpoint ${JSON.stringify(st.modelConfig)}, here ${JSON.stringify(this.model.config ?? null)}`);
    if (mismatches.length > 0) throw new Error(`Cannot resume from ${dir}: the run differs from the checkpoint (${mismatches.join('; ')}). Use the same settings to continue identically.`);
    if (st.position.epoch > this.config.epochs) throw new Error(`Cannot resume from ${dir}: it is at epoch ${st.position.epoch}, beyond epochs = ${this.config.epochs}.`);
    const model = await loadCheckpoint(dir, { name: 'model' });
    loadModelTensors(this.model, model.tensors, model.weightsPath);
    const take = (prefix: string): Record<string, NamedArray> => {
      const out: Record<string, NamedArray> = {};
      for (const [name, t] of trainer.tensors) {
        if (name.startsWith(prefix)) out[name.slice(prefix.length)] = { shape: t.shape, data: t.data as Float32Array };
      }
      return out;
    };
    this.optimizer.setState({ step: st.optimizerStep, config: st.config.optimizer, expAvg: take('optimizer.exp_avg.'), expAvgSq: take('optimizer.exp_avg_sq.') });
    if (this.ema) this.ema.setState({ decay: this.ema.decay, numUpdates: st.emaUpdates, shadow: take('ema.') });
    this.pos = { ...st.position, epochRngState: [...st.position.epochRngState] };
    // Best checkpoints are only tracked (and pruned) inside this run's output directory, so a
    // run resumed elsewhere never deletes the original run's files.
    const here = this.outDir ? path.resolve(this.outDir) : null;
    this.best = st.best.filter((b) => here !== null && path.resolve(path.dirname(b.dir)) === here && fs.existsSync(b.dir));
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

/**
 * Samples a trajectory for every row (in order, `batchSize` at a time, from a fresh stream
 * seeded with `seed`) and compares it with the target.
 */
export async function evaluateIL(model: ILModel, data: ILDataSource, options: { batchSize?: number; seed?: number; maxRows?: number } = {}): Promise<ValidationResult> {
  const bs = options.batchSize ?? 16;
  const n = options.maxRows ? Math.min(options.maxRows, data.numRows) : data.numRows;
  const rng = new Rng(options.seed ?? 12345);
  let errors: TrajectoryErrors | null = null;
  for (let start = 0; start < n; start += bs) {
    const idx = Int32Array.from({ length: Math.min(bs, n - start) }, (_, j) => start + j);
    const rows = await data.readRows(idx);
    const batch = rowsToBatch(rows);
    let pred: Float32Array;
    try {
      const out = await model.sampleTrajectories({ cond: batch.cond, history: batch.history, status: batch.status }, rng.split());
      pred = out.dataSync() as Float32Array;
      out.dispose();
    } finally {
      disposeBatch(batch);
    }
    const tgt = rows.target;
    const stride = tgt.length / rows.count;
    errors ??= new TrajectoryErrors({ horizon: stride / 3, poseDim: 3 });
    for (let i = 0; i < rows.count; i++) errors.add(pred, i * stride, tgt, i * stride);
  }
  return errors ? errors.result() : { l1: NaN, ade: NaN, fde: NaN, rows: 0 };
}

// ---------------------------------------------------------------------------------------------
// Checkpoint helpers

function modelTensors(model: ILModel): Map<string, SafeTensor> {
  if (model.stateDict) return model.stateDict();
  const out = new Map<string, SafeTensor>();
  for (const [name, v] of toEntries(model.variables)) {
    out.set(name, { dtype: 'F32', shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });
  }
  return out;
}

function loadModelTensors(model: ILModel, tensors: Map<string, SafeTensor>, source: string): void {
  if (model.loadStateDict) {
    model.loadStateDict(tensors, source);
    return;
  }
  const entries = toEntries(model.variables);
  const problems: string[] = [];
  for (const [name, v] of entries) {
    const t = tensors.get(name);
    if (!t) problems.push(`missing ${name} (expected [${v.shape}])`);
    else if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) problems.push(`${name}: expected [${v.shape}], found [${t.shape}]`);
  }
  const known = new Set(entries.map(([n]) => n));
  for (const name of tensors.keys()) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) throw new Error(`${source}: weights do not match the model: ${problems.join('; ')}.`);
  for (const [name, v] of entries) {
    const t = tensors.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, v.shape, 'float32')));
  }
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, as DDIM, PDM, PPO)

/** @deprecated Renamed `ILTrainOptions`. */
export type IlTrainOptions = ILTrainOptions;
/** @deprecated Renamed `ILTrainConfig`. */
export type IlTrainConfig = ILTrainConfig;
/** @deprecated Renamed `ILTensorBatch`. */
export type IlTensorBatch = ILTensorBatch;
/** @deprecated Renamed `ILModel`. */
export type IlModel = ILModel;
/** @deprecated Renamed `ILTrainerState`. */
export type IlTrainerState = ILTrainerState;
/** @deprecated Renamed `ILTrainerOptions`. */
export type IlTrainerOptions = ILTrainerOptions;
/** @deprecated Renamed `ILTrainer`. */
export const IlTrainer = ILTrainer;
/** @deprecated Renamed `ILTrainer`. */
export type IlTrainer = ILTrainer;
/** @deprecated Renamed `ILEvent`. */
export type IlEvent = ILEvent;
/** @deprecated Renamed `resolveILConfig`. */
export const resolveIlConfig = resolveILConfig;
/** @deprecated Renamed `applyILGradients`. */
export const applyIlGradients = applyILGradients;
/** @deprecated Renamed `ILTrainResult`. */
export type IlTrainResult = ILTrainResult;
/** @deprecated Renamed `ILStepResult`. */
export type IlStepResult = ILStepResult;
/** @deprecated Renamed `evaluateIL`. */
export const validateIl = evaluateIL;
/** @deprecated Renamed `ILStepOptions`. */
export type IlStepOptions = ILStepOptions;
