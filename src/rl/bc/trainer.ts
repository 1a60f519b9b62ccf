/**
 * Behaviour cloning of expert demonstrations into the PPO policy network (`ActorCriticPolicy`,
 * box actions [steering, throttle/brake]): the student's Gaussian mean `forward(obs).head` is
 * regressed on the expert's actions with `bcLoss` (smooth-L1 per action + BCE on the throttle's
 * sign). The checkpoint is the policy itself (`policy.save`), so it initialises PPO unchanged and
 * loads with `ActorCriticPolicy.load`.
 *
 *   const demos = await readDemonstrations('demos.arrow', { expectObsDim: 259, expectActDim: 2, nextObs: false });
 *   const policy = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [256, 256] });
 *   const bc = new BCTrainer(policy, demos, { epochs: 30, seed: 0 }, { logger });
 *   await bc.train({ outDir: 'runs/bc' });          // runs/bc: best policy; runs/bc/last: resumable state
 *   const again = await BCTrainer.resume('runs/bc', demos, { logger });   // bit-identical continuation
 *
 * One `iterate()` (an epoch):
 * 1. A fresh stream from the root `Rng` shuffles the training frames (episodes were split into
 *    training and validation once, by episode, with the seed: frames of one episode never straddle
 *    the split).
 * 2. Minibatches: learning rate from the schedule (cosine/linear/constant per optimizer step),
 *    `bcLoss` on `forward(obs).head`, gradients of the actor's parameters only (the trunk feeding
 *    the action head and `action_net`; the value head and `log_std` stay as initialised, for PPO),
 *    global-norm clip, Adam step.
 * 3. Validation loss and per-action MAE on the held-out episodes; the best epoch (lowest
 *    validation loss) is saved to `outDir`; `patience` epochs without improvement stop training.
 * 4. Log `train/loss`, `train/steer_loss`, `train/throttle_loss`, `train/sign_bce`,
 *    `val/loss`, `val/steer_mae`, `val/throttle_mae`, ... and emit an `iteration` event.
 *
 * Resume: after every epoch `outDir/last/` (written atomically) holds the current weights, the
 * optimizer moments and `run.json` (epoch, root random stream, best-so-far, patience counter);
 * `BCTrainer.resume` continues bit-identically. Observation standardisation (`normalizeObs`) uses
 * the training split's statistics, frozen, saved as `normalizer` in `policy.json` in
 * `VecNormalize.state()` format (PPO and `evaluatePolicy` apply the same).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { recoverDir, writeDirAtomic } from '../../core/atomic.js';
import { ConfigError, InputError } from '../../core/errors.js';
import type { Logger, LogRecord } from '../../core/logger.js';
import { Rng } from '../../core/rng.js';
import { ActorCriticPolicy } from '../../models/mlp-policy.js';
import { type Callback, emit } from '../common/callbacks.js';
import { applyGradients, lossAndGrads } from '../common/grads.js';
import { VecNormalize, type VecNormalizeState } from '../common/running-norm.js';
import { episodeRanges, type Demonstrations } from '../data/demonstrations.js';
import { loadOptimizerState, saveOptimizerState } from '../common/optimizer-state.js';
import { assertResumable, readRunState, writeRunState } from '../common/run-state.js';
import { AdamW } from '../common/optim.js';
import { BC_CONFIG, type BCConfig } from './config.js';
import { bcLoss } from './loss.js';

/** What BC reads from a demonstrations file (`readDemonstrations` returns a superset). */
export type BCData = Pick<Demonstrations, 'obs' | 'actions' | 'episodeId' | 'seed' | 'numFrames' | 'obsDim' | 'actDim'> & { file?: string };

export interface BCTrainerOptions {
  /** Logger for the `train/*`, `val/*`, `time/*` keys (one dump per epoch). */
  logger?: Logger;
  callbacks?: Callback[];
  /** Called after every optimizer step (progress bars). */
  onStep?: (e: { epoch: number; step: number; stepsPerEpoch: number; loss: number }) => void;
}

/** Validation metrics (means over the held-out frames). */
export interface BCValidation {
  loss: number;
  steerLoss: number;
  throttleLoss: number;
  signBce: number;
  steerMae: number;
  throttleMae: number;
  /** Fraction of frames whose predicted throttle has the expert's sign (> 0 or not). */
  signAccuracy: number;
}

/** One epoch's record (also kept in `history`). */
export interface BCEpochLog {
  epoch: number;
  trainLoss: number;
  steerLoss: number;
  throttleLoss: number;
  signBce: number;
  gradNorm: number;
  learningRate: number;
  val: BCValidation;
  improved: boolean;
  samplesPerSecond: number;
}

export interface BCTrainResult {
  epochs: number;
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
  /** Training samples per second over this call (validation and saving excluded). */
  samplesPerSecond: number;
  seconds: number;
  history: BCEpochLog[];
}

/** Frame indices of the training and validation episodes. */
export interface BCSplit {
  trainRows: Int32Array;
  valRows: Int32Array;
  /** `episode_id`s of the validation episodes, sorted. */
  valEpisodes: number[];
  trainEpisodes: number;
}

interface RunPosition {
  epoch: number;
  globalStep: number;
  rootRng: number[];
  bestValLoss: number | null;
  bestEpoch: number;
  epochsSinceBest: number;
  stopped: boolean;
  history: BCEpochLog[];
  numFrames: number;
  valEpisodes: number[];
}

const RUN_FORMAT = 'drivekit.bc-run/v1';
const VAL_CHUNK = 4096;

/**
 * Splits episodes (not frames) into training and validation: a seeded permutation of the
 * episodes, the first round(valFraction · E) (at least 1, at most E − 1) held out.
 */
export function splitByEpisode(data: BCData, valFraction: number, rng: Rng): BCSplit {
  const eps = episodeRanges(data);
  const where = data.file ?? '<demonstrations>';
  if (eps.length < 2) {
    throw new InputError(InputError.format({ file: where, field: 'episode_id', expected: 'at least 2 episodes (one for validation)', found: `${eps.length} episode(s)` }), { file: where, field: 'episode_id', expected: '>= 2 episodes', found: eps.length });
  }
  const nVal = Math.min(eps.length - 1, Math.max(1, Math.round(valFraction * eps.length)));
  const perm = rng.permutation(eps.length);
  const isVal = new Uint8Array(eps.length);
  for (let i = 0; i < nVal; i++) isVal[perm[i]!] = 1;
  const train: number[] = [];
  const val: number[] = [];
  const valEpisodes: number[] = [];
  eps.forEach((e, i) => {
    const into = isVal[i] ? val : train;
    for (let r = e.start; r < e.end; r++) into.push(r);
    if (isVal[i]) valEpisodes.push(e.episodeId);
  });
  return { trainRows: Int32Array.from(train), valRows: Int32Array.from(val), valEpisodes: valEpisodes.sort((a, b) => a - b), trainEpisodes: eps.length - nVal };
}

/** Learning rate at optimizer step `step` of `total` (cosine or linear from lr to minLr, or constant). */
export function bcLearningRate(c: Pick<BCConfig, 'learningRate' | 'minLearningRate' | 'lrSchedule'>, step: number, total: number): number {
  const p = total > 0 ? Math.min(1, step / total) : 0;
  if (c.lrSchedule === 'cosine') return c.minLearningRate + 0.5 * (c.learningRate - c.minLearningRate) * (1 + Math.cos(Math.PI * p));
  if (c.lrSchedule === 'linear') return c.learningRate + (c.minLearningRate - c.learningRate) * p;
  return c.learningRate;
}

/** The actor's parameters: the trunk feeding the action head, and the head (not the value head or log_std). */
export function actorVariables(policy: ActorCriticPolicy): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, v] of policy.variables) {
    if (name.startsWith('mlp_extractor.policy_net.') || name.startsWith('mlp_extractor.shared_net.') || name.startsWith('action_net.')) out.set(name, v);
  }
  return out;
}

function checkData(policy: ActorCriticPolicy, data: BCData): void {
  const file = data.file ?? '<demonstrations>';
  const pc = policy.config;
  if (pc.actionType !== 'box' || pc.actionDim !== 2) {
    throw new ConfigError(`BCTrainer: the student must have box actions of width 2 ([steering, throttle_brake]); this policy has ${pc.actionType}:${pc.actionDim}.`, { field: 'policy.action', expected: 'box:2', found: `${pc.actionType}:${pc.actionDim}` });
  }
  if (data.obsDim !== pc.obsDim) {
    throw new InputError(InputError.format({ file, field: 'obs', expected: `${pc.obsDim} values per row (the policy's observation width)`, found: `${data.obsDim} values per row` }), { file, field: 'obs', expected: pc.obsDim, found: data.obsDim });
  }
  if (data.actDim !== 2) throw new InputError(InputError.format({ file, field: 'action', expected: '2 values per row', found: `${data.actDim} values per row` }), { file, field: 'action', expected: 2, found: data.actDim });
  if (data.obs.length !== data.numFrames * data.obsDim || data.actions.length !== data.numFrames * 2 || data.episodeId.length !== data.numFrames) {
    throw new InputError(InputError.format({ file, field: 'numFrames', expected: `${data.numFrames} rows in every column`, found: `obs ${data.obs.length / data.obsDim}, action ${data.actions.length / 2}, episode_id ${data.episodeId.length}` }), { file, field: 'numFrames', expected: data.numFrames, found: data.obs.length / data.obsDim });
  }
  for (const [col, arr, w] of [['obs', data.obs, data.obsDim], ['action', data.actions, 2]] as const) {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i]!)) throw new InputError(InputError.format({ file, field: `${col}[${i % w}]`, expected: 'finite values', found: arr[i] }, `(row ${Math.floor(i / w)})`), { file, field: col, expected: 'finite values', found: arr[i] });
    }
  }
}

export class BCTrainer {
  readonly config: Readonly<BCConfig>;
  readonly policy: ActorCriticPolicy;
  readonly optimizer: AdamW;
  readonly split: BCSplit;
  /** Frozen observation statistics of the training split (null without `normalizeObs`). */
  readonly normalizer: VecNormalize | null;
  logger: Logger | null;
  callbacks: Callback[];
  /** Epochs completed. */
  epoch = 0;
  /** Optimizer steps taken. */
  globalStep = 0;
  bestValLoss = Infinity;
  bestEpoch = 0;
  epochsSinceBest = 0;
  /** Early stopping has triggered (saved: a resumed run stays stopped). */
  stopped = false;
  /** A callback asked to stop (not saved: a resumed run continues). */
  private interrupted = false;
  readonly history: BCEpochLog[] = [];
  private root: Rng;
  private readonly data: BCData;
  private readonly obs: Float32Array;
  private readonly trainVars: Map<string, tf.Variable>;
  private readonly onStep: BCTrainerOptions['onStep'];

  constructor(policy: ActorCriticPolicy, data: BCData, config: Partial<BCConfig> = {}, options: BCTrainerOptions = {}) {
    this.config = BC_CONFIG.resolve(config);
    const c = this.config;
    checkData(policy, data);
    this.policy = policy;
    this.data = data;
    this.root = new Rng(c.seed);
    this.split = splitByEpisode(data, c.valFraction, this.root.split());
    if (c.normalizeObs) {
      const d = data.obsDim;
      const norm = new VecNormalize(d, 1, { normObs: true, normReward: false, clipObs: c.clipObs });
      const rows = this.split.trainRows;
      const trainObs = new Float32Array(rows.length * d);
      for (let i = 0; i < rows.length; i++) trainObs.set(data.obs.subarray(rows[i]! * d, (rows[i]! + 1) * d), i * d);
      norm.obsRms.update(trainObs, rows.length);
      norm.training = false;
      this.normalizer = norm;
      this.obs = norm.normalizeObs(data.obs, data.numFrames, false);
    } else {
      this.normalizer = null;
      this.obs = data.obs;
    }
    this.trainVars = actorVariables(policy);
    this.optimizer = new AdamW(this.trainVars, { lr: c.learningRate, beta1: 0.9, beta2: 0.999, eps: c.adamEps, weightDecay: c.weightDecay });
    this.logger = options.logger ?? null;
    this.callbacks = options.callbacks ?? [];
    this.onStep = options.onStep;
  }

  /** Minibatches per epoch (the last one may be smaller). */
  get stepsPerEpoch(): number {
    return Math.ceil(this.split.trainRows.length / this.config.batchSize);
  }

  /** The learning rate of optimizer step `step`. */
  learningRateAt(step: number): number {
    return bcLearningRate(this.config, step, this.config.epochs * this.stepsPerEpoch);
  }

  /** The normaliser's state as saved in `policy.json` (`VecNormalize.state()` format), or null. */
  normalizerState(): VecNormalizeState | null {
    return this.normalizer ? this.normalizer.state() : null;
  }

  private gather(rows: ArrayLike<number>, from: number, to: number): { obs: Float32Array; actions: Float32Array } {
    const d = this.data.obsDim;
    const n = to - from;
    const obs = new Float32Array(n * d);
    const actions = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const r = rows[from + i]!;
      obs.set(this.obs.subarray(r * d, (r + 1) * d), i * d);
      actions[2 * i] = this.data.actions[2 * r]!;
      actions[2 * i + 1] = this.data.actions[2 * r + 1]!;
    }
    return { obs, actions };
  }

  /** Steps 1-2: one shuffled pass over the training frames. */
  trainEpoch(): { loss: number; steerLoss: number; throttleLoss: number; signBce: number; gradNorm: number; learningRate: number; samples: number; seconds: number } {
    const c = this.config;
    const d = this.data.obsDim;
    const rng = this.root.split();
    const rows = this.split.trainRows;
    const perm = rng.permutation(rows.length);
    const order = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) order[i] = rows[perm[i]!]!;
    const t0 = performance.now();
    let sum = 0, steerSum = 0, throttleSum = 0, signSum = 0, gradNorm = 0, lr = this.optimizer.lr;
    const steps = this.stepsPerEpoch;
    for (let s = 0; s < steps; s++) {
      const from = s * c.batchSize;
      const to = Math.min(rows.length, from + c.batchSize);
      const b = to - from;
      const batch = this.gather(order, from, to);
      lr = this.learningRateAt(this.globalStep);
      this.optimizer.lr = lr;
      const out = lossAndGrads(this.trainVars, () => {
        const { head } = this.policy.forward(tf.tensor2d(batch.obs, [b, d]));
        const terms = bcLoss(head, tf.tensor2d(batch.actions, [b, 2]), c);
        return { loss: terms.total, aux: () => ({ steer: terms.steer.dataSync()[0]!, throttle: terms.throttle.dataSync()[0]!, sign: terms.signBce.dataSync()[0]! }) };
      });
      gradNorm = applyGradients(this.optimizer, out.grads, c.maxGradNorm ?? 0, `BC epoch ${this.epoch + 1} step ${s}`);
      this.globalStep += 1;
      sum += out.loss * b;
      steerSum += out.aux.steer * b;
      throttleSum += out.aux.throttle * b;
      signSum += out.aux.sign * b;
      this.onStep?.({ epoch: this.epoch + 1, step: s + 1, stepsPerEpoch: steps, loss: out.loss });
    }
    const seconds = (performance.now() - t0) / 1000;
    const n = rows.length;
    return { loss: sum / n, steerLoss: steerSum / n, throttleLoss: throttleSum / n, signBce: signSum / n, gradNorm, learningRate: lr, samples: n, seconds };
  }

  /** Step 3: loss and per-action MAE over the validation frames (no gradients). */
  validate(): BCValidation {
    const c = this.config;
    const d = this.data.obsDim;
    const rows = this.split.valRows;
    const acc = { loss: 0, steer: 0, throttle: 0, sign: 0, steerAbs: 0, throttleAbs: 0, signOk: 0 };
    for (let from = 0; from < rows.length; from += VAL_CHUNK) {
      const to = Math.min(rows.length, from + VAL_CHUNK);
      const b = to - from;
      const batch = this.gather(rows, from, to);
      const vals = tf.tidy(() => {
        const { head } = this.policy.forward(tf.tensor2d(batch.obs, [b, d]));
        const expert = tf.tensor2d(batch.actions, [b, 2]);
        const t = bcLoss(head, expert, c);
        const absErr = tf.sum(tf.abs(tf.sub(head, expert)), 0);
        const signOk = tf.sum(tf.cast(tf.equal(tf.greater(head, 0), tf.greater(expert, 0)), 'float32'), 0);
        return tf.concat([tf.stack([t.total, t.steer, t.throttle, t.signBce]), absErr, signOk]);
      });
      const v = vals.dataSync();
      vals.dispose();
      acc.loss += v[0]! * b;
      acc.steer += v[1]! * b;
      acc.throttle += v[2]! * b;
      acc.sign += v[3]! * b;
      acc.steerAbs += v[4]!;
      acc.throttleAbs += v[5]!;
      acc.signOk += v[7]!;
    }
    const n = rows.length;
    return { loss: acc.loss / n, steerLoss: acc.steer / n, throttleLoss: acc.throttle / n, signBce: acc.sign / n, steerMae: acc.steerAbs / n, throttleMae: acc.throttleAbs / n, signAccuracy: acc.signOk / n };
  }

  /** One epoch: train, validate, early-stopping bookkeeping, log. `improved` says whether it is the new best. */
  iterate(): BCEpochLog {
    const c = this.config;
    const tr = this.trainEpoch();
    const val = this.validate();
    this.epoch += 1;
    const improved = val.loss < this.bestValLoss - c.minDelta;
    if (improved) {
      this.bestValLoss = val.loss;
      this.bestEpoch = this.epoch;
      this.epochsSinceBest = 0;
    } else this.epochsSinceBest += 1;
    if (c.patience !== null && this.epochsSinceBest >= c.patience) this.stopped = true;
    const sps = tr.samples / Math.max(tr.seconds, 1e-9);
    const log: BCEpochLog = { epoch: this.epoch, trainLoss: tr.loss, steerLoss: tr.steerLoss, throttleLoss: tr.throttleLoss, signBce: tr.signBce, gradNorm: tr.gradNorm, learningRate: tr.learningRate, val, improved, samplesPerSecond: sps };
    this.history.push(log);
    const rec: LogRecord = {
      'train/loss': tr.loss,
      'train/steer_loss': tr.steerLoss,
      'train/throttle_loss': tr.throttleLoss,
      'train/sign_bce': tr.signBce,
      'train/grad_norm': tr.gradNorm,
      'train/learning_rate': tr.learningRate,
      'train/epoch': this.epoch,
      'train/n_updates': this.globalStep,
      'val/loss': val.loss,
      'val/steer_loss': val.steerLoss,
      'val/throttle_loss': val.throttleLoss,
      'val/sign_bce': val.signBce,
      'val/steer_mae': val.steerMae,
      'val/throttle_mae': val.throttleMae,
      'val/sign_accuracy': val.signAccuracy,
      'val/best_loss': this.bestValLoss,
      'time/samples_per_s': sps,
      'time/epoch_s': tr.seconds,
    };
    if (this.logger) {
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'string' || Number.isFinite(v)) this.logger.record(k, v);
      this.logger.dump(this.epoch);
    }
    if (emit(this.callbacks, { type: 'iteration', iteration: this.epoch, timesteps: this.globalStep, log: rec })) this.interrupted = true;
    return log;
  }

  /**
   * Trains until `epochs` epochs (counting those of a resumed run), early stopping, a callback's
   * 'stop', or `stopAfter` epochs in all (an interruption: the run can be resumed, with the
   * schedule of `epochs`). With `outDir`, the best epoch's policy goes to `outDir` and the
   * resumable state to `outDir/last` after every epoch.
   */
  async train(options: { outDir?: string; stopAfter?: number } = {}): Promise<BCTrainResult> {
    const t0 = performance.now();
    let samples = 0;
    let trainSeconds = 0;
    const startEpoch = this.epoch;
    const until = Math.min(this.config.epochs, options.stopAfter ?? Infinity);
    this.interrupted = false;
    emit(this.callbacks, { type: 'start', algorithm: 'BC', totalTimesteps: this.config.epochs * this.stepsPerEpoch, startTimesteps: this.globalStep });
    while (!this.stopped && !this.interrupted && this.epoch < until) {
      const log = this.iterate();
      samples += this.split.trainRows.length;
      trainSeconds += this.split.trainRows.length / log.samplesPerSecond;
      if (options.outDir) {
        if (log.improved) await this.saveBest(options.outDir);
        await this.saveRun(path.join(options.outDir, 'last'));
        emit(this.callbacks, { type: 'checkpoint', iteration: this.epoch, timesteps: this.globalStep, dir: options.outDir });
      }
    }
    emit(this.callbacks, { type: 'end', iteration: this.epoch, timesteps: this.globalStep, stopped: this.stopped || this.interrupted });
    return {
      epochs: this.epoch - startEpoch,
      bestEpoch: this.bestEpoch,
      bestValLoss: this.bestValLoss,
      stoppedEarly: this.stopped && this.epoch < this.config.epochs,
      samplesPerSecond: samples / Math.max(trainSeconds, 1e-9),
      seconds: (performance.now() - t0) / 1000,
      history: this.history.slice(startEpoch),
    };
  }

  /** What `policy.json` carries besides the policy config. */
  private checkpointExtra(): Record<string, unknown> {
    const last = this.history[this.history.length - 1];
    return {
      algorithm: 'BC',
      bc: BC_CONFIG.toJSON(this.config),
      normalizer: this.normalizerState(),
      epoch: this.epoch,
      val_loss: last?.val.loss ?? null,
      val_steer_mae: last?.val.steerMae ?? null,
      val_throttle_mae: last?.val.throttleMae ?? null,
      demonstrations: { file: this.data.file ?? null, frames: this.data.numFrames, train_frames: this.split.trainRows.length, val_frames: this.split.valRows.length, val_episodes: this.split.valEpisodes },
    };
  }

  /** Writes the current policy to `dir` (policy.safetensors + policy.json), loadable by `ActorCriticPolicy.load`. */
  async saveBest(dir: string): Promise<void> {
    await this.policy.save(dir, this.checkpointExtra());
  }

  /** Writes the resumable state (policy, optimizer, run.json) atomically to `dir`. */
  async saveRun(dir: string): Promise<void> {
    await writeDirAtomic(dir, async (tmp) => {
      await this.policy.save(tmp, this.checkpointExtra());
      await saveOptimizerState(tmp, this.optimizer);
      const pos: RunPosition = {
        epoch: this.epoch,
        globalStep: this.globalStep,
        rootRng: this.root.state(),
        bestValLoss: Number.isFinite(this.bestValLoss) ? this.bestValLoss : null,
        bestEpoch: this.bestEpoch,
        epochsSinceBest: this.epochsSinceBest,
        stopped: this.stopped,
        history: this.history,
        numFrames: this.data.numFrames,
        valEpisodes: this.split.valEpisodes,
      };
      await writeRunState(path.join(tmp, 'run.json'), { format: RUN_FORMAT, bc: BC_CONFIG.toJSON(this.config), position: pos });
    });
  }

  /**
   * Continues a run from `outDir/last` (or `outDir` itself when it holds `run.json`) on the same
   * demonstrations. Config overrides must equal the saved config (a differing field is a
   * `ConfigError` naming it), except `epochs`, which may grow. Other demonstrations (another frame
   * count or validation split) are an `InputError`.
   */
  static async resume(outDir: string, data: BCData, options: BCTrainerOptions & { config?: Partial<BCConfig> } = {}): Promise<BCTrainer> {
    let dir = path.join(outDir, 'last');
    if (!fs.existsSync(path.join(dir, 'run.json')) && fs.existsSync(path.join(outDir, 'run.json'))) dir = outDir;
    else await recoverDir(dir);
    const runFile = path.join(dir, 'run.json');
    const run = await readRunState<{ format: string; bc: BCConfig; position: RunPosition }>(runFile, RUN_FORMAT, 'the run state of a BC training folder');
    const saved = BC_CONFIG.resolve(run.bc, { file: runFile });
    assertResumable(saved, options.config ?? {}, { file: runFile, free: ['epochs'] });
    const merged: Record<string, unknown> = { ...saved };
    if (options.config?.epochs !== undefined) merged.epochs = options.config.epochs;
    const { policy } = await ActorCriticPolicy.load(dir);
    let trainer: BCTrainer;
    try {
      trainer = new BCTrainer(policy, data, merged as Partial<BCConfig>, options);
    } catch (e) {
      policy.dispose();
      throw e;
    }
    const p = run.position;
    const file = data.file ?? '<demonstrations>';
    if (p.numFrames !== data.numFrames || JSON.stringify(p.valEpisodes) !== JSON.stringify(trainer.split.valEpisodes)) {
      trainer.dispose();
      policy.dispose();
      throw new InputError(InputError.format({ file, field: 'numFrames', expected: `the demonstrations of the checkpoint (${p.numFrames} frames, validation episodes ${JSON.stringify(p.valEpisodes)})`, found: `${data.numFrames} frames` }), { file, field: 'numFrames', expected: p.numFrames, found: data.numFrames });
    }
    await loadOptimizerState(dir, trainer.optimizer);
    trainer.epoch = p.epoch;
    trainer.globalStep = p.globalStep;
    trainer.root = Rng.fromState(p.rootRng);
    trainer.bestValLoss = p.bestValLoss ?? Infinity;
    trainer.bestEpoch = p.bestEpoch;
    trainer.epochsSinceBest = p.epochsSinceBest;
    trainer.stopped = p.stopped;
    trainer.history.push(...p.history);
    return trainer;
  }

  /** Frees the optimizer state (the policy stays usable; dispose it separately). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
