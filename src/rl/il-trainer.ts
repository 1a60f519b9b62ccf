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
 *
 * The run machinery is shared (`rl/common/`): `EpochLoop` (seeded shuffle, resumable position),
 * `GradientAccumulator` + `microBatches`, `CheckpointDirs` (`last/`, best-k, atomic swaps),
 * `assertResumable` (the resume check), typed callbacks. This file is the IL part: the model
 * contract, the step, validation, what a checkpoint holds.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from '../core/checkpoint.js';
import { writeDirAtomic, writeFileAtomic } from '../core/atomic.js';
import { ConfigError } from '../core/errors.js';
import type { LogRecord } from '../core/logger.js';
import { Rng } from '../core/rng.js';
import { defineConfig, type ConfigDef } from '../core/config.js';
import type { SafeTensor } from '../core/safetensors.js';
import { assignStateDict, toStateDict } from '../core/state-dict.js';
import { TrajectoryErrors } from '../metrics/trajectory.js';
import type { PlannerBatch } from '../models/planner.js';
import { type Callback, type MetricSink, emit } from './common/callbacks.js';
import { CheckpointDirs, type RankedCheckpoint } from './common/checkpoints.js';
import { EpochLoop, type EpochPosition } from './common/epoch-loop.js';
import { GradientAccumulator, lossAndGrads, microBatches } from './common/grads.js';
import { putArrays, takeArrays } from './common/optimizer-state.js';
import { assertResumable, checkRunFormat, difference } from './common/run-state.js';
import { disposeBatch, rowsToBatch } from './data/planner-batch.js';
import { Ema } from './common/ema.js';
import type { ILDataSource } from './data/il-data.js';
import { ADAMW_CONFIG, AdamW, type AdamWConfig, type NamedVariables, clipCoefficient, toEntries } from './common/optim.js';
import { WarmupCosineSchedule, type ScheduleInterval } from './common/schedules.js';

// Moved to the data module and to rl/common; re-exported here for existing imports.
export { disposeBatch, rowsToBatch } from './data/planner-batch.js';
export { accumulateGrads } from './common/grads.js';
export type { MetricSink } from './common/callbacks.js';

// ---------------------------------------------------------------------------------------------
// The model contract

/** @deprecated The planner batch is `PlannerBatch` (declared with the planner, uploaded by `rowsToBatch` in `rl/data`). */
export type ILTensorBatch = PlannerBatch;

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
  ilLoss(batch: PlannerBatch, rng: Rng): tf.Scalar;
  /** Sampled trajectories `[B, 8, 3]` in metres/radians (the evaluation sampler). */
  sampleTrajectories(batch: Omit<PlannerBatch, 'target'>, rng: Rng): tf.Tensor3D | Promise<tf.Tensor3D>;
  /** Weights as named tensors for a checkpoint (default: `variables` by name). */
  stateDict?(): Map<string, SafeTensor>;
  /** Loads weights saved by `stateDict` (default: assign `variables` by name). */
  loadStateDict?(tensors: Map<string, SafeTensor>, source: string): void;
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
export function ilLossAndGrads(model: ILModel, batch: PlannerBatch, rng: Rng): { loss: number; grads: Map<string, tf.Tensor> } {
  const trainable = new Map(toEntries(model.variables).filter(([, v]) => v.trainable));
  const { loss, grads } = lossAndGrads(trainable, () => ({ loss: model.ilLoss(batch, rng) }));
  return { loss, grads };
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
export function ilTrainStep(model: ILModel, optimizer: AdamW, batch: PlannerBatch, rng: Rng, options: ILStepOptions = {}): ILStepResult {
  const maxGradNorm = options.maxGradNorm === undefined ? 1.0 : options.maxGradNorm;
  const { loss, grads } = ilLossAndGrads(model, batch, rng);
  try {
    return { loss, gradNorm: applyILGradients(optimizer, grads, maxGradNorm) };
  } finally {
    tf.dispose([...grads.values()]);
  }
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

/** The `format` of an IL trainer state (`trainer.json`). */
export const IL_TRAINER_FORMAT = 'drivekit-il-trainer';

/** Settings a resume may change (the rest must equal the checkpoint's). */
const RESUME_FREE = ['epochs', 'valEvery', 'valMaxRows', 'valBatchSize', 'keepBest', 'checkpointEverySteps'];

/** `trainer.json` inside a checkpoint directory. */
export interface ILTrainerState {
  format: typeof IL_TRAINER_FORMAT;
  version: 1;
  config: ILTrainConfig;
  position: EpochPosition;
  optimizerStep: number;
  emaUpdates: number;
  best: BestEntry[];
  trainRows: number;
  modelConfig: unknown;
}

export interface ILTrainerOptions extends ILTrainOptions {
  /** Output directory for checkpoints (`last/`, `best-epoch-XXXX/`). Without it nothing is written. */
  outDir?: string;
  /** The IL trainer's own events (per step, epoch, validation, checkpoint). */
  onEvent?: (e: ILEvent) => void;
  /**
   * Shared training callbacks (`rl/common/callbacks`): `start`, `iteration` per optimiser step,
   * `evaluation` per validation, `checkpoint`, `end`. One returning 'stop' ends training after
   * the current step; `last/` is then written, so the run can be resumed.
   */
  callbacks?: Callback[];
  logger?: MetricSink;
  /** Log a `train/*` record every this many steps (default 10). */
  logEverySteps?: number;
  /**
   * Facts about the data written as `data.json` into every checkpoint (e.g. the cache path and
   * its conditioning length L, which must stay the same at inference; spec §6, issue #12).
   */
  dataInfo?: Record<string, unknown>;
}

const toBestEntry = (b: RankedCheckpoint): BestEntry => ({ epoch: b.epoch, valL1: b.value, dir: b.dir });

/**
 * The IL recipe on the shared parts: `EpochLoop` (seeded shuffle, resumable position),
 * `GradientAccumulator` (micro-batches), AdamW + warmup-cosine schedule + EMA, `CheckpointDirs`
 * (`last/` and the best k by validation L1) and the run-state check on resume.
 */
export class ILTrainer {
  readonly config: ILTrainConfig;
  readonly optimizer: AdamW;
  readonly ema: Ema | null;
  readonly schedule: WarmupCosineSchedule;
  private readonly loop: EpochLoop;
  private readonly dirs: CheckpointDirs | null;
  private readonly onEvent: (e: ILEvent) => void;
  private readonly callbacks: Callback[];
  private readonly logger: MetricSink | undefined;
  private readonly logEvery: number;
  private readonly dataInfo: Record<string, unknown> | undefined;

  constructor(readonly model: ILModel, readonly train: ILDataSource, readonly val: ILDataSource | null, options: ILTrainerOptions = {}) {
    const { outDir, onEvent, callbacks, logger, logEverySteps, dataInfo, ...cfg } = options;
    this.dataInfo = dataInfo;
    this.config = resolveILConfig(cfg);
    const c = this.config;
    this.dirs = outDir ? new CheckpointDirs(outDir, { keepBest: c.keepBest }) : null;
    this.onEvent = onEvent ?? (() => undefined);
    this.callbacks = callbacks ?? [];
    this.logger = logger;
    this.logEvery = logEverySteps ?? 10;
    if (train.numRows < 1) throw new ConfigError('IL training set is empty (0 rows).', { field: 'train', expected: 'at least one row', found: 0 });
    this.loop = new EpochLoop(train.numRows, c.batchSize, c.shuffle, c.seed);
    const trainable = toEntries(model.variables).filter(([, v]) => v.trainable);
    this.optimizer = new AdamW(new Map(trainable), c.optimizer);
    this.ema = c.emaDecay > 0 ? new Ema(new Map(trainable), { decay: c.emaDecay }) : null;
    const total = c.scheduleInterval === 'epoch' ? c.epochs : c.epochs * this.stepsPerEpoch;
    this.schedule = new WarmupCosineSchedule({ lr: c.optimizer.lr, minLr: c.minLr, warmup: Math.min(c.warmup, total - 1), total, interval: c.scheduleInterval });
  }

  get stepsPerEpoch(): number {
    return this.loop.stepsPerEpoch;
  }

  /** Next epoch to run, step within it, and global step. */
  get position(): Readonly<EpochPosition> {
    return this.loop.position;
  }

  get bestCheckpoints(): readonly BestEntry[] {
    return this.dirs ? this.dirs.best.map(toBestEntry) : [];
  }

  /**
   * Runs until `config.epochs` (or `until.epochs` / `until.steps` global steps, to stop early
   * for tests and time-limited jobs, or a callback's 'stop'; a checkpoint is written at the stop
   * point).
   */
  async fit(until: { epochs?: number; steps?: number } = {}): Promise<ILTrainResult> {
    const c = this.config;
    const spe = this.stepsPerEpoch;
    const at = () => this.loop.position;
    const result: ILTrainResult = { epochs: at().epoch, globalStep: at().globalStep, trainLoss: [], validation: [], best: this.bestCheckpoints.slice() };
    this.onEvent({ type: 'start', epochs: c.epochs, stepsPerEpoch: spe, totalSteps: c.epochs * spe, startEpoch: at().epoch, startStep: at().globalStep, trainRows: this.train.numRows, valRows: this.val?.numRows ?? 0 });
    let stop = emit(this.callbacks, { type: 'start', algorithm: 'IL', totalTimesteps: c.epochs * spe, startTimesteps: at().globalStep });
    let lr: number | null = null;
    let last: ILStepResult = { loss: NaN, gradNorm: NaN };
    let stepStart = 0;
    let epochStart = performance.now();
    const stopped = stop || await this.loop.run({ epochs: Math.min(until.epochs ?? c.epochs, c.epochs), ...(until.steps !== undefined ? { steps: until.steps } : {}) }, {
      step: async (s) => {
        lr = this.schedule.lrFor({ epoch: s.epoch, globalStep: s.globalStep });
        this.optimizer.lr = lr;
        stepStart = performance.now();
        last = await this.step(s.rows, s.rng);
        if (!Number.isFinite(last.loss)) {
          throw new Error(`IL loss is ${last.loss} at epoch ${s.epoch}, step ${s.step} (global ${s.globalStep}); lr ${lr}. Lower the learning rate or check the cache for non-finite values.`);
        }
        this.ema?.update();
        return last.loss;
      },
      afterStep: async (s) => {
        const p = at();
        const sps = s.rows.length / Math.max(1e-9, (performance.now() - stepStart) / 1000);
        this.onEvent({ type: 'step', epoch: s.epoch, step: s.step, globalStep: p.globalStep, totalSteps: c.epochs * spe, loss: last.loss, gradNorm: last.gradNorm, lr: lr!, samplesPerSec: sps });
        const rec: LogRecord = { 'train/loss': last.loss, 'train/grad_norm': last.gradNorm, 'train/lr': lr!, 'train/epoch': s.epoch, 'time/samples_per_sec': sps };
        if (this.logger && p.globalStep % this.logEvery === 0) {
          for (const [k, v] of Object.entries(rec)) this.logger.record(k, v);
          // At an epoch end the epoch record below is dumped at the same step: one line, not two.
          if (p.stepInEpoch < spe) this.logger.dump(p.globalStep);
        }
        if (c.checkpointEverySteps > 0 && p.globalStep % c.checkpointEverySteps === 0 && p.stepInEpoch < spe) await this.saveLast();
        stop = emit(this.callbacks, { type: 'iteration', iteration: p.globalStep, timesteps: p.globalStep, log: rec });
        return stop ? 'stop' : undefined;
      },
      afterEpoch: async ({ epoch, meanLoss }) => {
        result.trainLoss.push(meanLoss);
        const epochLr = lr ?? this.schedule.lrFor({ epoch, globalStep: at().globalStep });
        this.onEvent({ type: 'epoch', epoch, trainLoss: meanLoss, lr: epochLr, seconds: (performance.now() - epochStart) / 1000 });
        this.logger?.record('train/epoch_loss', meanLoss);
        this.logger?.record('train/lr', epochLr);
        if (this.val && this.val.numRows > 0 && c.valEvery > 0 && ((epoch + 1) % c.valEvery === 0 || epoch + 1 === c.epochs)) {
          const v0 = performance.now();
          const vr = await this.validateCurrent();
          result.validation.push({ epoch, result: vr });
          this.onEvent({ type: 'validation', epoch, ...vr, seconds: (performance.now() - v0) / 1000 });
          this.logger?.record('val/l1', vr.l1);
          this.logger?.record('val/ade', vr.ade);
          this.logger?.record('val/fde', vr.fde);
          if (emit(this.callbacks, { type: 'evaluation', iteration: at().globalStep, timesteps: at().globalStep, metrics: { 'val/l1': vr.l1, 'val/ade': vr.ade, 'val/fde': vr.fde } })) stop = true;
          await this.considerBest(epoch, vr.l1);
        }
        this.logger?.dump(at().globalStep);
        await this.saveLast();
        lr = null;
        epochStart = performance.now();
        return stop ? 'stop' : undefined;
      },
    });
    if (stopped) await this.saveLast();
    const p = at();
    result.epochs = p.epoch;
    result.globalStep = p.globalStep;
    result.best = this.bestCheckpoints.slice();
    this.onEvent({ type: 'end', epochs: p.epoch, globalStep: p.globalStep, best: result.best.slice() });
    emit(this.callbacks, { type: 'end', iteration: p.globalStep, timesteps: p.globalStep, stopped });
    return result;
  }

  /** One optimizer step on the rows `idx`, in micro-batches when configured. */
  private async step(idx: Int32Array, rng: Rng): Promise<ILStepResult> {
    const acc = new GradientAccumulator();
    try {
      for (const { from, to, weight } of microBatches(idx.length, this.config.microBatchSize)) {
        const batch = rowsToBatch(await this.train.readRows(idx.subarray(from, to)));
        try {
          const r = ilLossAndGrads(this.model, batch, rng);
          acc.add(r.loss, r.grads, weight);
        } finally {
          disposeBatch(batch);
        }
      }
      const grads = acc.take();
      try {
        return { loss: acc.loss, gradNorm: applyILGradients(this.optimizer, grads, this.config.maxGradNorm || null) };
      } finally {
        tf.dispose([...grads.values()]);
      }
    } finally {
      acc.dispose();
    }
  }

  /** Validation of the current weights (EMA-averaged if EMA is on). */
  async validateCurrent(): Promise<ValidationResult> {
    if (!this.val) throw new ConfigError('No validation set was given to the IL trainer.', { field: 'val', expected: 'a validation data source', found: null });
    const run = () => evaluateIL(this.model, this.val!, { batchSize: this.config.valBatchSize, seed: this.config.valSeed, maxRows: this.config.valMaxRows });
    return this.ema ? this.ema.withAveraged(run) : run();
  }

  private async considerBest(epoch: number, l1: number): Promise<void> {
    if (!this.dirs) return;
    const dir = await this.dirs.offerBest(epoch, l1, async (tmp) => {
      const write = async () => {
        await saveCheckpoint(tmp, { tensors: modelTensors(this.model), config: this.model.config ?? {}, metadata: { format: 'drivekit-planner' } }, { name: 'model' });
        await writeFileAtomic(path.join(tmp, 'metrics.json'), JSON.stringify({ epoch, valL1: l1, ema: this.ema !== null }, null, 2) + '\n');
        await this.writeDataInfo(tmp);
      };
      if (this.ema) await this.ema.withAveraged(write);
      else await write();
    });
    if (dir) this.checkpointEvent('best', epoch, dir);
  }

  private checkpointEvent(kind: 'last' | 'best', epoch: number, dir: string): void {
    this.onEvent({ type: 'checkpoint', kind, epoch, dir });
    const step = this.loop.position.globalStep;
    emit(this.callbacks, { type: 'checkpoint', kind, iteration: step, timesteps: step, dir });
  }

  /** Writes the resumable `last/` checkpoint (when an output directory is set). */
  async saveLast(): Promise<string | null> {
    if (!this.dirs) return null;
    const dir = await this.dirs.writeLast((tmp) => this.writeState(tmp));
    this.checkpointEvent('last', this.loop.position.epoch, dir);
    return dir;
  }

  /** Writes a full resumable checkpoint into `dir` (replaced atomically as a directory). */
  async saveState(dir: string): Promise<void> {
    await writeDirAtomic(dir, (tmp) => this.writeState(tmp));
  }

  /** The files of a resumable checkpoint: `model.*` (a planner checkpoint), `trainer.*`, `data.json`. */
  private async writeState(dir: string): Promise<void> {
    const opt = this.optimizer.getState();
    const tensors = new Map<string, SafeTensor>();
    putArrays(tensors, 'optimizer.exp_avg.', opt.expAvg);
    putArrays(tensors, 'optimizer.exp_avg_sq.', opt.expAvgSq);
    const emaState = this.ema?.getState();
    if (emaState) putArrays(tensors, 'ema.', emaState.shadow);
    const state: ILTrainerState = {
      format: IL_TRAINER_FORMAT,
      version: 1,
      config: this.config,
      position: this.loop.snapshot(),
      optimizerStep: opt.step,
      emaUpdates: emaState?.numUpdates ?? 0,
      best: [...this.bestCheckpoints],
      trainRows: this.train.numRows,
      modelConfig: this.model.config ?? null,
    };
    await saveCheckpoint(dir, { tensors: modelTensors(this.model), config: this.model.config ?? {}, metadata: { format: 'drivekit-planner' } }, { name: 'model' });
    await saveCheckpoint(dir, { tensors, config: state, metadata: { format: IL_TRAINER_FORMAT } }, { name: 'trainer' });
    await this.writeDataInfo(dir);
  }

  private async writeDataInfo(dir: string): Promise<void> {
    if (this.dataInfo) await writeFileAtomic(path.join(dir, 'data.json'), JSON.stringify(this.dataInfo, null, 2) + '\n');
  }

  /**
   * Restores weights, optimizer, EMA, random stream and position from a checkpoint written by
   * `saveState` (a `last/` directory). The training configuration must match the checkpoint's
   * except `epochs` (which may grow: the schedule then stretches, so continuation is no longer
   * identical to the original plan), `valEvery`, `valMaxRows`, `valBatchSize`, `keepBest` and
   * `checkpointEverySteps`; a difference (or another training-row count or model config) is a
   * `ConfigError` naming the first differing field and listing all of them.
   */
  async resume(dir: string): Promise<void> {
    // A run killed mid-swap may have left `<dir>.old` or a complete temporary folder instead.
    await CheckpointDirs.recover(dir);
    const trainer = await loadCheckpoint<ILTrainerState>(dir, { name: 'trainer' });
    const st = trainer.config;
    checkRunFormat(st, IL_TRAINER_FORMAT, trainer.configPath);
    assertResumable(st.config, this.config, {
      file: dir,
      free: RESUME_FREE,
      extra: [...difference('trainRows', st.trainRows, this.train.numRows), ...difference('modelConfig', st.modelConfig, this.model.config ?? null)],
    });
    if (st.position.epoch > this.config.epochs) {
      throw new ConfigError(`Cannot resume from ${dir}: it is at epoch ${st.position.epoch}, beyond epochs = ${this.config.epochs}.`, { file: dir, field: 'epochs', expected: `>= ${st.position.epoch}`, found: this.config.epochs });
    }
    const model = await loadCheckpoint(dir, { name: 'model' });
    await loadModelTensors(this.model, model.tensors, model.weightsPath);
    const take = (prefix: string) => takeArrays(trainer.tensors, prefix);
    this.optimizer.setState({ step: st.optimizerStep, config: st.config.optimizer, expAvg: take('optimizer.exp_avg.'), expAvgSq: take('optimizer.exp_avg_sq.') });
    if (this.ema) this.ema.setState({ decay: this.ema.decay, numUpdates: st.emaUpdates, shadow: take('ema.') });
    this.loop.restore(st.position);
    // Best checkpoints are only tracked (and pruned) inside this run's output directory, so a
    // run resumed elsewhere never deletes the original run's files.
    this.dirs?.adoptBest(st.best.map((b) => ({ epoch: b.epoch, value: b.valL1, dir: b.dir })));
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

/** The model's weights by name (its `stateDict`, or its variables as they are). */
function modelTensors(model: ILModel): Map<string, SafeTensor> {
  return model.stateDict ? model.stateDict() : toStateDict(Object.fromEntries(toEntries(model.variables)));
}

/** Loads weights into the model (its `loadStateDict`, or its variables by name; names and shapes must match). */
async function loadModelTensors(model: ILModel, tensors: Map<string, SafeTensor>, source: string): Promise<void> {
  if (model.loadStateDict) model.loadStateDict(tensors, source);
  else await assignStateDict(Object.fromEntries(toEntries(model.variables)), { tensors, metadata: {} }, null, source, {});
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
