/**
 * `DiffGRPOTrainer`: ReCogDrive's RL stage (spec §3), DiffGRPO with a behaviour-cloning anchor, on
 * the shared training parts (AdamW, `lossAndGrads`/`applyGradients`, typed callbacks, the logger).
 *
 * ```ts
 * const { planner } = await loadPlanner('runs/il');             // the IL checkpoint (its last/)
 * const trainer = new DiffGRPOTrainer(planner, scenes, inProcessPDMReward(byName, { version: 'v1.1' }), { outDir: 'runs/grpo' });
 * await trainer.fit();                                            // or: await trainer.iterate() per step
 * ```
 *
 * One `iterate()`:
 * 1. Take the next B scenes of this epoch's seeded order (rows of an `ILDataSource`: scene tokens
 *    or VLM hidden states as conditioning; each row's token names its scene for the reward).
 * 2. Sample G rollouts per scene with the RL sampler (`planner.sampleChain`: η = 1, std ≥ 0.04,
 *    noise clip ±5), in `scoringChunks` chunks of scenes; each chunk's plans are sent to the reward
 *    function as soon as they exist, so a worker pool scores them while the next chunk is sampled.
 * 3. Sample one teacher chain per scene from the frozen reference policy π_ref (the IL weights),
 *    also while scoring runs (skipped when bcCoeff = 0).
 * 4. Await the rewards: PDMS or EPDMS with the training weights (EP weight 10). The #23 guard: a
 *    plan whose last waypoint reverses along the plan's direction is counted, and loses
 *    `reversePenalty` from its reward.
 * 5. Loss and gradients of L = L_RL + λ·L_BC (`plannerGRPOLoss`: group advantages with the
 *    unbiased std, log-probs re-evaluated under θ with std ≥ 0.1, clamped to [−5, 2], averaged
 *    over the 24 values, weighted by γ^(K−1−k)); clip to the global norm (1.0); one AdamW step at
 *    the cosine rate (1e-4 → 0 over the epochs, no warmup). One gradient step per rollout batch:
 *    strictly on-policy, no ratio, no KL term (as ReCogDrive).
 * 6. Log one JSONL record: reward mean/std, the raw score and every sub-metric, the reversing
 *    fraction, policy/BC/total loss, grad norm, lr, and the wall-time split (sampling, scoring wait,
 *    backward); emit an `iteration` event; write `last/` every `checkpointEvery` iterations.
 *
 * Randomness: one root stream (config `seed`); at each epoch start it is split once for the scene
 * order, and each iteration splits it into the rollout and teacher streams. A checkpoint stores the
 * root and the epoch's order at an iteration boundary, so a resumed run continues bit-identically
 * (same backend). `last/` holds `model.*` (a planner checkpoint, loadable alone), `optimizer.*`
 * (AdamW moments and step) and `trainer.json` (config, position, the reference's path and sha256).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeDirAtomic, writeFileAtomic } from '../../core/atomic.js';
import { loadCheckpoint, saveCheckpoint } from '../../core/checkpoint.js';
import { ConfigError, InputError } from '../../core/errors.js';
import type { LogRecord } from '../../core/logger.js';
import { Rng } from '../../core/rng.js';
import type { DiffusionPlanner, PlannerInputs } from '../../models/planner.js';
import { loadPlannerStateDict, plannerStateDict } from '../../models/weights.js';
import { lastWaypointReverses } from '../../navsim/score-pool.js';
import { type Callback, type MetricSink, emit } from '../common/callbacks.js';
import { CheckpointDirs } from '../common/checkpoints.js';
import { GradientAccumulator, applyGradients, lossAndGrads, microBatches } from '../common/grads.js';
import { assertResumable, difference, readRunState, writeRunState } from '../common/run-state.js';
import { disposeInputs, rowsToInputs } from '../data/planner-batch.js';
import type { ILDataSource } from '../data/il-data.js';
import { loadOptimizerState, saveOptimizerState } from '../common/optimizer-state.js';
import { AdamW } from '../common/optim.js';
import { WarmupCosineSchedule } from '../common/schedules.js';
import { plannerGRPOLoss } from './loss.js';
import { GRPO_TRAIN_CONFIG, type GRPOTrainConfig } from './config.js';
import { checkPlannerConfig, frozenCopy } from './reference.js';
import type { RewardFn, RewardResult } from './reward.js';

export const GRPO_RUN_FORMAT = 'drivekit.grpo-run/v1';

export interface GRPOTrainerOptions {
  /** Overrides of `GRPO_TRAIN_DEFAULTS` (a `ConfigError` names an unknown or bad key). */
  config?: Partial<Omit<GRPOTrainConfig, 'optimizer'>> & { optimizer?: Partial<GRPOTrainConfig['optimizer']> };
  /** The frozen reference policy (default: a frozen copy of the planner as given, i.e. the IL weights). Owned by the trainer. */
  reference?: DiffusionPlanner;
  /** Where the reference came from (recorded in checkpoints; a resume checks the sha256). */
  referenceSource?: { path: string; sha256: string } | null;
  /** Checkpoints go to `outDir/last/`; without it nothing is written. */
  outDir?: string;
  /** Namespaced metric sink (`core/logger`'s `Logger`, with a JSONL sink for the run log). */
  logger?: MetricSink;
  callbacks?: Callback[];
  /** Facts about the conditioning written as `data.json` into every checkpoint (e.g. `condLength`, which `navsim eval` reads). */
  dataInfo?: Record<string, unknown>;
}

/** One collected batch: chains, teacher chains and rewards of B scenes × G rollouts. */
export interface GroupBatch {
  /** Row indices of the data source and their scene names. */
  rows: number[];
  sceneIds: string[];
  /** Conditioning inputs [B, ...] (owned by the batch). */
  inputs: PlannerInputs;
  /** Rollout chains [B·G, K+1, 8, 3] (normalised). */
  chain: tf.Tensor4D;
  /** Teacher chains [B, K+1, 8, 3] of π_ref, or null when bcCoeff = 0. */
  teacherChain: tf.Tensor4D | null;
  /** Plans in metres/radians, B·G·8·3. */
  trajectories: Float64Array;
  /** Reward after the reversing penalty (what the advantages use). */
  rewards: Float64Array;
  /** The reward function's raw output. */
  scored: RewardResult;
  /** 1 where the plan's last waypoint reverses. */
  reversing: Uint8Array;
  timing: { samplingS: number; scoringS: number; scoringWaitS: number };
}

export interface GRPOStepResult {
  loss: number;
  policyLoss: number;
  bcLoss: number;
  gradNorm: number;
}

interface GRPOPosition {
  /** Iterations done. */
  iteration: number;
  /** Root stream at this iteration boundary. */
  rootRng: number[];
  /** Scene order of the current epoch (row indices). */
  order: number[];
}

interface GRPORunState {
  format: typeof GRPO_RUN_FORMAT;
  config: GRPOTrainConfig;
  position: GRPOPosition;
  numScenes: number;
  reference: { path: string; sha256: string } | null;
}

const mean = (a: ArrayLike<number>): number => {
  let s = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) continue;
    s += a[i]!;
    n++;
  }
  return n ? s / n : NaN;
};
const std = (a: ArrayLike<number>): number => {
  const m = mean(a);
  let s = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) continue;
    s += (a[i]! - m) ** 2;
    n++;
  }
  return n ? Math.sqrt(s / n) : NaN;
};

export class DiffGRPOTrainer {
  readonly config: Readonly<GRPOTrainConfig>;
  readonly planner: DiffusionPlanner;
  readonly reference: DiffusionPlanner;
  readonly optimizer: AdamW;
  readonly schedule: WarmupCosineSchedule;
  readonly data: ILDataSource;
  readonly reward: RewardFn;
  logger: MetricSink | null;
  callbacks: Callback[];
  private root: Rng;
  private order: number[] = [];
  private pos = 0;
  private readonly dirs: CheckpointDirs | null;
  private readonly referenceSource: { path: string; sha256: string } | null;
  private readonly dataInfo: Record<string, unknown> | undefined;

  constructor(planner: DiffusionPlanner, data: ILDataSource, reward: RewardFn, options: GRPOTrainerOptions = {}) {
    this.config = GRPO_TRAIN_CONFIG.resolve(options.config ?? {});
    const c = this.config;
    if (data.numRows < 1) throw new ConfigError('DiffGRPOTrainer: the scene set is empty.', { field: 'data', expected: 'at least one scene', found: 0 });
    if (data.condDim !== planner.config.condDim) {
      throw new ConfigError(ConfigError.format({ field: 'condDim', expected: planner.config.condDim, found: data.condDim }, "The scenes' conditioning width differs from the planner's condDim."), { field: 'condDim', expected: planner.config.condDim, found: data.condDim });
    }
    if (c.microBatchScenes > 0 && (c.advantageQuantiles[0] !== 0 || c.advantageQuantiles[1] !== 1)) {
      throw new ConfigError(ConfigError.format({ field: 'microBatchScenes', expected: '0 when advantageQuantiles clip (the clip is batch-wide)', found: c.microBatchScenes }), { field: 'microBatchScenes', expected: 0, found: c.microBatchScenes });
    }
    this.planner = planner;
    this.data = data;
    this.reward = reward;
    this.reference = options.reference ?? frozenCopy(planner);
    this.referenceSource = options.referenceSource ?? null;
    this.optimizer = new AdamW(planner.variables, c.optimizer);
    const total = c.scheduleInterval === 'epoch' ? Math.ceil(this.totalIterations / this.iterationsPerEpoch) : this.totalIterations;
    this.schedule = new WarmupCosineSchedule({ lr: c.optimizer.lr, minLr: c.minLr, warmup: 0, total, interval: 'epoch' });
    this.root = new Rng(c.seed);
    this.dirs = options.outDir ? new CheckpointDirs(options.outDir, { keepBest: 0 }) : null;
    this.dataInfo = options.dataInfo;
    this.logger = options.logger ?? null;
    this.callbacks = options.callbacks ?? [];
  }

  /** Iterations done so far. */
  get iteration(): number {
    return this.pos;
  }

  get iterationsPerEpoch(): number {
    return Math.ceil(this.data.numRows / this.config.scenesPerIteration);
  }

  get totalIterations(): number {
    return this.config.iterations ?? this.config.epochs * this.iterationsPerEpoch;
  }

  /** The rollout sampler's overrides of the planner's `sampler.rollout` settings. */
  private rolloutNoise(): { minStd?: number; noiseClip?: number } {
    const c = this.config;
    return { ...(c.rolloutMinStd === null ? {} : { minStd: c.rolloutMinStd }), ...(c.rolloutNoiseClip === null ? {} : { noiseClip: c.rolloutNoiseClip }) };
  }

  /** Steps 1–4: samples B scenes × G rollouts (and the teacher chains) and scores them. */
  async collect(): Promise<GroupBatch> {
    const c = this.config;
    const G = c.groupSize;
    const ipe = this.iterationsPerEpoch;
    if (this.pos % ipe === 0) this.order = Array.from(this.root.split().permutation(this.data.numRows));
    const s = this.pos % ipe;
    const rows = this.order.slice(s * c.scenesPerIteration, (s + 1) * c.scenesPerIteration);
    const [rolloutRng, teacherRng] = this.root.split(2);
    const host = await this.data.readRows(rows);
    const B = host.count;
    const sceneIds = host.tokens.slice();
    const inputs = rowsToInputs(host, 0, B);
    const chunks = Math.min(c.scoringChunks, B);
    const chunkRngs = rolloutRng.split(chunks);
    const chains: tf.Tensor4D[] = [];
    const trajectories = new Float64Array(B * G * 24);
    const pending: { from: number; p: Promise<RewardResult> }[] = [];
    let teacherChain: tf.Tensor4D | null = null;
    let scoringS = 0;
    const t0 = performance.now();
    try {
      for (let k = 0; k < chunks; k++) {
        const from = Math.floor((k * B) / chunks), to = Math.floor(((k + 1) * B) / chunks);
        const part = from === 0 && to === B ? inputs : rowsToInputs(host, from, to);
        try {
          const r = this.planner.sampleChain(part, { groupSize: G, rng: chunkRngs[k]!, ...this.rolloutNoise() });
          chains.push(r.chain);
          const plans = Float64Array.from(r.trajectory.dataSync());
          tf.dispose([r.trajectory, ...(r.noise ? [r.noise] : [])]);
          trajectories.set(plans, from * G * 24);
          const ts = performance.now();
          pending.push({ from, p: this.reward(sceneIds.slice(from, to), plans, G) });
          scoringS += (performance.now() - ts) / 1000;
        } finally {
          if (part !== inputs) disposeInputs(part);
        }
      }
      if (c.bcCoeff > 0) {
        const r = this.reference.sampleChain(inputs, { groupSize: 1, rng: teacherRng, ...this.rolloutNoise() });
        teacherChain = r.chain;
        tf.dispose([r.trajectory, ...(r.noise ? [r.noise] : [])]);
      }
      const tWait = performance.now();
      const results = await Promise.all(pending.map((q) => q.p));
      const scoringWaitS = (performance.now() - tWait) / 1000;
      const samplingS = (tWait - t0) / 1000 - scoringS;
      const scored = mergeResults(results, pending.map((q) => q.from), B, G);
      const reversing = new Uint8Array(B * G);
      const rewards = new Float64Array(B * G);
      for (let i = 0; i < B * G; i++) {
        const r = scored.reward[i]!;
        if (!Number.isFinite(r)) throw new InputError(`DiffGRPOTrainer: the reward of plan ${i % G} of scene ${sceneIds[Math.floor(i / G)]} is ${r}.`, { file: sceneIds[Math.floor(i / G)], field: 'reward', expected: 'a finite number', found: r });
        reversing[i] = lastWaypointReverses(trajectories, i) ? 1 : 0;
        rewards[i] = r - c.reversePenalty * reversing[i]!;
      }
      const chain = (chains.length === 1 ? chains[0]! : tf.concat(chains, 0)) as tf.Tensor4D;
      if (chains.length > 1) tf.dispose(chains);
      return { rows, sceneIds, inputs, chain, teacherChain, trajectories, rewards, scored, reversing, timing: { samplingS, scoringS: scoringS + scoringWaitS, scoringWaitS } };
    } catch (e) {
      for (const q of pending) q.p.catch(() => undefined); // never awaited now: no unhandled rejection
      tf.dispose([...chains, ...(teacherChain ? [teacherChain] : [])]);
      disposeInputs(inputs);
      throw e;
    }
  }

  /** Step 5 on a collected batch: loss, gradients, clip, one AdamW step. Does not dispose `batch`. */
  train(batch: GroupBatch): GRPOStepResult {
    const c = this.config;
    const B = batch.sceneIds.length, G = c.groupSize;
    const options = { groupSize: G, gamma: c.gamma, bcCoeff: c.bcCoeff, advantageQuantiles: [...c.advantageQuantiles] as [number, number], advantageStdFloor: c.advantageStdFloor };
    // Every term is a mean over scenes (advantages are per group; the quantile clip, which is
    // batch-wide, is checked to be off), so L = Σ_chunks (scenes in chunk / B)·L_chunk.
    const acc = new GradientAccumulator();
    try {
      for (const { from: s0, to: s1, weight } of microBatches(B, c.microBatchScenes)) {
        const whole = s0 === 0 && s1 === B;
        const part = whole ? null : sliceBatch(batch, s0, s1, G);
        const b = part ?? batch;
        try {
          const out = lossAndGrads(this.planner.variables, () => {
            const l = plannerGRPOLoss(this.planner, { inputs: b.inputs, chain: b.chain, rewards: whole ? batch.rewards : batch.rewards.subarray(s0 * G, s1 * G), ...(b.teacherChain ? { teacherChain: b.teacherChain } : {}) }, options);
            return { loss: l.total, aux: () => ({ policy: l.policyLoss.dataSync()[0]!, bc: l.bcLoss ? l.bcLoss.dataSync()[0]! : NaN }) };
          });
          acc.add(out.loss, out.grads, weight, out.aux);
        } finally {
          if (part) tf.dispose([part.inputs.hiddenStates, part.inputs.history, part.inputs.status, part.chain, ...(part.teacherChain ? [part.teacherChain] : [])]);
        }
      }
      const gradNorm = applyGradients(this.optimizer, acc.take(), c.maxGradNorm, `DiffGRPO iteration ${this.pos}`);
      return { loss: acc.loss, policyLoss: acc.aux.policy!, bcLoss: acc.aux.bc!, gradNorm };
    } finally {
      acc.dispose();
    }
  }

  /** The loss of a batch under the current weights (no update). */
  evaluateLoss(batch: GroupBatch): GRPOStepResult {
    const c = this.config;
    return tf.tidy(() => {
      const l = plannerGRPOLoss(this.planner, 
        { inputs: batch.inputs, chain: batch.chain, rewards: batch.rewards, ...(batch.teacherChain ? { teacherChain: batch.teacherChain } : {}) },
        { groupSize: c.groupSize, gamma: c.gamma, bcCoeff: c.bcCoeff, advantageQuantiles: [...c.advantageQuantiles] as [number, number], advantageStdFloor: c.advantageStdFloor },
      );
      return { loss: l.total.dataSync()[0]!, policyLoss: l.policyLoss.dataSync()[0]!, bcLoss: l.bcLoss ? l.bcLoss.dataSync()[0]! : NaN, gradNorm: NaN };
    });
  }

  /** One collect + train iteration (steps 1–6); returns its log record. */
  async iterate(): Promise<LogRecord> {
    const c = this.config;
    const t0 = performance.now();
    const epoch = Math.floor(this.pos / this.iterationsPerEpoch);
    const lr = this.schedule.lrAt(c.scheduleInterval === 'epoch' ? epoch : this.pos);
    this.optimizer.lr = lr;
    const batch = await this.collect();
    let step: GRPOStepResult;
    const tb = performance.now();
    try {
      step = this.train(batch);
    } finally {
      disposeGroupBatch(batch);
    }
    const backwardS = (performance.now() - tb) / 1000;
    this.pos += 1;
    const iterationS = (performance.now() - t0) / 1000;
    const rec: LogRecord = {
      'rollout/reward_mean': mean(batch.rewards),
      'rollout/reward_std': std(batch.rewards),
      'rollout/score_mean': mean(batch.scored.reward),
      'rollout/reversing_fraction': mean(batch.reversing),
      'train/loss': step.loss,
      'train/policy_loss': step.policyLoss,
      'train/bc_loss': step.bcLoss,
      'train/grad_norm': step.gradNorm,
      'train/lr': lr,
      'train/epoch': epoch,
      'time/iteration': this.pos,
      'time/iteration_s': iterationS,
      'time/sampling_s': batch.timing.samplingS,
      'time/scoring_s': batch.timing.scoringS,
      'time/scoring_wait_s': batch.timing.scoringWaitS,
      'time/backward_s': backwardS,
      'time/scoring_fraction': batch.timing.scoringS / iterationS,
    };
    for (const [name, v] of Object.entries(batch.scored.metrics)) rec[`rollout/${name}`] = mean(v);
    if (this.logger) {
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'string' || Number.isFinite(v)) this.logger.record(k, v);
      this.logger.dump(this.pos);
    }
    return rec;
  }

  /**
   * Runs until `totalIterations` (or `until` iterations done, to stop early; a checkpoint is
   * written at the stop point) or a callback returns 'stop'.
   */
  async fit(until?: number): Promise<{ iterations: number; stopped: boolean; last: LogRecord | null }> {
    const stop = Math.min(until ?? this.totalIterations, this.totalIterations);
    const plans = () => this.pos * this.config.scenesPerIteration * this.config.groupSize;
    let stopped = emit(this.callbacks, { type: 'start', algorithm: 'DiffGRPO', totalTimesteps: this.totalIterations, startTimesteps: this.pos });
    let last: LogRecord | null = null;
    while (!stopped && this.pos < stop) {
      last = await this.iterate();
      stopped = emit(this.callbacks, { type: 'iteration', iteration: this.pos, timesteps: plans(), log: last });
      const every = this.config.checkpointEvery;
      if (this.dirs && every > 0 && this.pos % every === 0 && this.pos < stop) await this.saveLast();
    }
    if (this.dirs) await this.saveLast();
    emit(this.callbacks, { type: 'end', iteration: this.pos, timesteps: plans(), stopped });
    return { iterations: this.pos, stopped, last };
  }

  private async saveLast(): Promise<void> {
    const dir = this.dirs!.lastDir;
    await this.save(dir);
    emit(this.callbacks, { type: 'checkpoint', iteration: this.pos, timesteps: this.pos * this.config.scenesPerIteration * this.config.groupSize, dir });
  }

  /** Writes a resumable checkpoint folder (replaced atomically). */
  async save(dir: string): Promise<void> {
    const state: GRPORunState = {
      format: GRPO_RUN_FORMAT,
      config: GRPO_TRAIN_CONFIG.toJSON(this.config) as unknown as GRPOTrainConfig,
      position: { iteration: this.pos, rootRng: this.root.state(), order: [...this.order] },
      numScenes: this.data.numRows,
      reference: this.referenceSource,
    };
    await fs.promises.mkdir(path.dirname(path.resolve(dir)), { recursive: true });
    await writeDirAtomic(dir, async (tmp) => {
      await saveCheckpoint(tmp, { tensors: plannerStateDict(this.planner), config: this.planner.config, metadata: { format: 'drivekit-planner' } }, { name: 'model' });
      await saveOptimizerState(tmp, this.optimizer);
      await writeRunState(path.join(tmp, 'trainer.json'), state, true);
      if (this.dataInfo) await writeFileAtomic(path.join(tmp, 'data.json'), JSON.stringify(this.dataInfo, null, 2) + '\n');
    });
  }

  /**
   * Restores weights, optimizer, random stream and position from `save(dir)`. The run's config
   * must equal the checkpoint's except `checkpointEvery`; the planner config, the scene count and
   * the reference weights (sha256) must match too. A difference is a `ConfigError` naming the field.
   */
  async resume(dir: string): Promise<void> {
    await CheckpointDirs.recover(dir);
    const file = path.join(dir, 'trainer.json');
    const st = await readRunState<GRPORunState>(file, GRPO_RUN_FORMAT, 'a DiffGRPO run state (trainer.json of a train-grpo checkpoint folder, last/)');
    const saved = GRPO_TRAIN_CONFIG.resolve(st.config, { file });
    assertResumable(saved, this.config, { file, free: ['checkpointEvery'], extra: difference('numScenes', st.numScenes, this.data.numRows) });
    if (st.reference && this.referenceSource && st.reference.sha256 !== this.referenceSource.sha256) {
      throw new ConfigError(ConfigError.format({ file, field: 'reference.sha256', expected: st.reference.sha256, found: this.referenceSource.sha256 }, `The reference policy differs from ${st.reference.path}'s.`), { file, field: 'reference.sha256', expected: st.reference.sha256, found: this.referenceSource.sha256 });
    }
    const model = await loadCheckpoint(dir, { name: 'model' });
    checkPlannerConfig(this.planner.config, model.config, model.configPath);
    loadPlannerStateDict(this.planner, model.tensors, model.weightsPath);
    await loadOptimizerState(dir, this.optimizer);
    this.pos = st.position.iteration;
    this.root = Rng.fromState(st.position.rootRng);
    this.order = [...st.position.order];
  }

  /** Frees the optimizer and the reference policy (the planner stays the caller's). */
  dispose(): void {
    this.optimizer.dispose();
    this.reference.dispose();
  }
}

/** Frees a batch's tensors. */
export function disposeGroupBatch(b: GroupBatch): void {
  disposeInputs(b.inputs);
  tf.dispose([b.chain, ...(b.teacherChain ? [b.teacherChain] : [])]);
}

/** Scenes [s0, s1) of a batch as new tensors (inputs, their G chains each, their teacher chains). */
function sliceBatch(b: GroupBatch, s0: number, s1: number, G: number): Pick<GroupBatch, 'inputs' | 'chain' | 'teacherChain'> {
  const rows = (t: tf.Tensor, from: number, n: number) => tf.slice(t, [from, ...t.shape.slice(1).map(() => 0)], [n, ...t.shape.slice(1)]);
  return {
    inputs: { hiddenStates: rows(b.inputs.hiddenStates, s0, s1 - s0), history: rows(b.inputs.history, s0, s1 - s0), status: rows(b.inputs.status, s0, s1 - s0) },
    chain: rows(b.chain, s0 * G, (s1 - s0) * G) as tf.Tensor4D,
    teacherChain: b.teacherChain ? (rows(b.teacherChain, s0, s1 - s0) as tf.Tensor4D) : null,
  };
}

function mergeResults(parts: RewardResult[], starts: number[], B: number, G: number): RewardResult {
  if (parts.length === 1) return parts[0]!;
  const out: RewardResult = { reward: new Float64Array(B * G), metrics: {} };
  parts.forEach((p, k) => {
    const at = starts[k]! * G;
    out.reward.set(p.reward, at);
    for (const [name, v] of Object.entries(p.metrics)) {
      if (!out.metrics[name]) out.metrics[name] = new Float64Array(B * G).fill(NaN);
      out.metrics[name]!.set(v, at);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `DiffGRPOTrainer`. */
export const DiffGrpoTrainer = DiffGRPOTrainer;
/** @deprecated Renamed `DiffGRPOTrainer`. */
export type DiffGrpoTrainer = DiffGRPOTrainer;
/** @deprecated Renamed `GRPOTrainerOptions`. */
export type GrpoTrainerOptions = GRPOTrainerOptions;
/** @deprecated Renamed `GRPOStepResult`. */
export type GrpoStepResult = GRPOStepResult;
