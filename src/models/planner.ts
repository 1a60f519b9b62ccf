/**
 * `DiffusionPlanner`: ReCogDrive's DiT diffusion trajectory planner on TensorFlow.js.
 *
 * Public API (stable; the IL trainer and the RL stage code against it):
 *
 * ```ts
 * const planner = DiffusionPlanner.create({ preset: 'small', condDim: 1536 }, { seed: 0 });
 * planner.config            // PlannerConfig (JSON-serialisable; `plannerConfig(...)` builds one)
 * planner.variables         // Map<torchName, tf.Variable>, trainable, PyTorch state_dict order/layout
 * planner.numParameters()   // incl. the frozen η logit, as PyTorch counts (small/1536: 34,329,220)
 *
 * // inputs: hiddenStates [B, L, condDim], history [B, 12] (or [B, 4, 3]), status [B, 8]
 * const cond = planner.encodeCondition(inputs);   // once per scene: projected tokens, mean,
 *                                                 // history/ego embeddings, per-block cross K/V
 * const eps = planner.predictNoise(cond, xt, t);  // xt [B·G, 8, 3] normalised, t one per row;
 *                                                 // rows [b·G, (b+1)·G) belong to scene b
 * const loss = planner.ilLoss({ cond, history, status, target }, { rng }); // ε-MSE (a PlannerBatch)
 * const { trajectory } = planner.sample(inputs, { rng, groupSize }); // eval sampler (η = 1)
 * const r = planner.sampleChain(inputs, { rng, groupSize: 8 });      // RL rollout: chain + noise
 * const lp = planner.logProb(inputs, r.chain, { groupSize: 8 });     // [B·G·K, 8, 3] log-probs (DiffGRPO: rl/grpo plannerGRPOLoss)
 * await planner.save('runs/p');                    // folder: model.safetensors + model.json (Node)
 * const q = await DiffusionPlanner.fromCheckpoint('runs/il'); // a checkpoint or run folder (its last/)
 * cond.dispose(); planner.dispose();
 * ```
 *
 * `inputs` may also be a `CachedCondition` wherever it is accepted (reuse K/V across calls).
 * Every method that returns tensors hands ownership to the caller; nothing else is left behind.
 * Randomness comes from `Rng` streams: the initial noise x_T (B·G·8·3 normals) is drawn first,
 * then each step's noise, so the same seed gives the same samples on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { warnIfNotInitialised } from '../core/backend.js';
import { describeValue, InputError } from '../core/errors.js';
import { defineConfig, type ConfigDef, type ConfigInput } from '../core/config.js';
import { ConfigError, DrivekitError, nearest } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type DDIMNoiseOptions, DDIMScheduler, type DDIMSchedulerConfig, DDIM_CONFIG, DDIM_DETERMINISTIC, DDIM_NOISE_CONFIG, RECOGDRIVE_DDIM_CONFIG, RECOGDRIVE_EVAL, RECOGDRIVE_LOGPROB, RECOGDRIVE_ROLLOUT, addNoise } from './ddim.js';
import { addDiTParams, blockPrefix, columnBlocks, crossAttentionKV, isCrossBlock, type SelfQkv, selfQkvWeights, type CrossKV, crossKVTensors, type DiTConfig, ditForward, type DiTModulation, ditModulations, type FfnHalves, type Recorder, type RopeTensors, rowBlocks } from './dit.js';
import { actionEncoder, actionSinusoid, timestepSinusoid } from './encoders.js';
import { addLinear, addTimmMlp, linear, linearP, mm, normalValues, ParamStore, ropeTables, rotateHalfMatrix, silu, timmMlp } from './layers.js';
import { gaussianLogProb } from './logprob.js';
import { type ChannelRange, denormalizeTrajectory, normalizeTrajectory, RECOGDRIVE_NORMALIZATION, type TrajectoryNormalization, validateNormalization } from './normalize.js';

// ---------------------------------------------------------------------------------------------
// configuration

/** `small` and `large` are ReCogDrive's; `tiny` (2 blocks, width 32) is for trying pipelines on a laptop. */
export type PlannerPreset = 'small' | 'large' | 'tiny';

export interface SamplerSettings {
  /** `get_action` (evaluation): η = 1, std ≥ 1e-4, noise clip ±1. */
  eval: DDIMNoiseOptions;
  /** `sample_chain` (RL rollouts, BC teacher chains): η = 1, std ≥ 0.04, noise clip ±5. */
  rollout: DDIMNoiseOptions;
  /** `get_logprobs`: η = 1, std ≥ 0.1. */
  logProb: DDIMNoiseOptions;
  /** Clamp of the final state (±1), null = none. */
  finalClip: number | null;
}

export interface PlannerConfig {
  /** Width of the VLM hidden states H_vlm (1536 InternVL3-2B, 3584 8B, anything else). */
  condDim: number;
  /** DiT heads; inner width W = numHeads·headDim = input_embedding_dim D. */
  numHeads: number;
  headDim: number;
  numLayers: number;
  /** DiT output_dim (small 512, large 1536). */
  ditOutputDim: number;
  /** Hidden width of the timm Mlp heads (`hidden_size`, 1024). */
  mlpHidden: number;
  /** Trajectory poses (8) and channels (3: x, y, heading). */
  horizon: number;
  actionDim: number;
  /** Flattened history (4 poses × 3 = 12) and status (cmd one-hot 4 + v 2 + a 2 = 8) widths. */
  historyDim: number;
  statusDim: number;
  interleaveAttention: boolean;
  ropeTheta: number;
  timestepChannels: number;
  /** DDIM steps used by `sample`/`sampleChain`/`logProb` (5). */
  numInferenceSteps: number;
  scheduler: DDIMSchedulerConfig;
  sampler: SamplerSettings;
  normalization: TrajectoryNormalization;
}

const COMMON: Omit<PlannerConfig, 'condDim' | 'numHeads' | 'ditOutputDim'> = {
  headDim: 48,
  numLayers: 16,
  mlpHidden: 1024,
  horizon: 8,
  actionDim: 3,
  historyDim: 12,
  statusDim: 8,
  interleaveAttention: true,
  ropeTheta: 10000,
  timestepChannels: 256,
  numInferenceSteps: 5,
  scheduler: { ...RECOGDRIVE_DDIM_CONFIG },
  sampler: { eval: { ...RECOGDRIVE_EVAL }, rollout: { ...RECOGDRIVE_ROLLOUT }, logProb: { ...RECOGDRIVE_LOGPROB }, finalClip: 1 },
  normalization: RECOGDRIVE_NORMALIZATION,
};

/** ReCogDrive presets (`AG` L323–335; both released checkpoints use `small`) and `tiny`. */
export const PLANNER_PRESETS: Readonly<Record<PlannerPreset, Readonly<PlannerConfig>>> = Object.freeze({
  small: Object.freeze({ ...COMMON, condDim: 1536, numHeads: 8, ditOutputDim: 512 }),
  large: Object.freeze({ ...COMMON, condDim: 1536, numHeads: 32, ditOutputDim: 1536 }),
  tiny: Object.freeze({ ...COMMON, condDim: 1536, numHeads: 2, headDim: 16, numLayers: 2, ditOutputDim: 32, mlpHidden: 64 }),
});

/** A preset name plus any fields to override; nested sections (`scheduler`, `sampler`, ...) may be partial. */
export type PlannerConfigInput = ConfigInput<PlannerConfig> & { preset?: PlannerPreset };

const CHANNEL_RANGE_CONFIG: ConfigDef<ChannelRange> = defineConfig<ChannelRange>('ChannelRange', {
  min: { default: 0, type: 'number', doc: 'Channel minimum (maps to −1).' },
  range: { default: 1, type: 'number', gt: 0, doc: 'Channel max − min (maps to 2).' },
});

/** Trajectory min-max normalisation as a config section (ReCogDrive's constants by default). */
export const TRAJECTORY_NORMALIZATION_CONFIG: ConfigDef<TrajectoryNormalization> = defineConfig<TrajectoryNormalization>('TrajectoryNormalization', {
  x: { default: RECOGDRIVE_NORMALIZATION.x, type: 'object', nested: CHANNEL_RANGE_CONFIG, doc: 'x (m).' },
  y: { default: RECOGDRIVE_NORMALIZATION.y, type: 'object', nested: CHANNEL_RANGE_CONFIG, doc: 'y (m).' },
  heading: { default: RECOGDRIVE_NORMALIZATION.heading, type: 'object', nested: CHANNEL_RANGE_CONFIG, doc: 'Heading (rad).' },
});

export const PLANNER_SAMPLER_CONFIG: ConfigDef<SamplerSettings> = defineConfig<SamplerSettings>('SamplerSettings', {
  eval: { default: RECOGDRIVE_EVAL, type: 'object', nested: DDIM_NOISE_CONFIG, doc: '`get_action` (evaluation): η = 1, std >= 1e-4, noise clip ±1.' },
  rollout: { default: RECOGDRIVE_ROLLOUT, type: 'object', nested: DDIM_NOISE_CONFIG, doc: '`sample_chain` (RL rollouts, BC teacher chains): η = 1, std >= 0.04, noise clip ±5.' },
  logProb: { default: RECOGDRIVE_LOGPROB, type: 'object', nested: DDIM_NOISE_CONFIG, doc: '`get_logprobs`: η = 1, std >= 0.1.' },
  finalClip: { default: 1, type: 'number', gt: 0, nullable: true, doc: 'Clamp of the final state (±1); null = none.' },
});

const evenCheck = (v: number) => (v % 2 === 0 ? undefined : 'an even integer (RoPE rotates halves)');

/**
 * The planner's config, declared once; defaults are the `small` preset. `plannerConfig` resolves
 * input over a preset with it.
 */
export const PLANNER_CONFIG: ConfigDef<PlannerConfig> = defineConfig<PlannerConfig>(
  'PlannerConfig',
  {
    condDim: { default: PLANNER_PRESETS.small.condDim, type: 'integer', min: 1, doc: 'Width of the VLM hidden states H_vlm (1536 InternVL3-2B, 3584 8B, anything else).' },
    numHeads: { default: PLANNER_PRESETS.small.numHeads, type: 'integer', min: 1, doc: 'DiT heads; inner width W = numHeads·headDim.' },
    headDim: { default: PLANNER_PRESETS.small.headDim, type: 'integer', min: 1, check: evenCheck, doc: 'Width of one head (even).' },
    numLayers: { default: PLANNER_PRESETS.small.numLayers, type: 'integer', min: 1, doc: 'DiT blocks (ReCogDrive: 16).' },
    ditOutputDim: { default: PLANNER_PRESETS.small.ditOutputDim, type: 'integer', min: 1, doc: 'DiT output_dim (small 512, large 1536).' },
    mlpHidden: { default: PLANNER_PRESETS.small.mlpHidden, type: 'integer', min: 1, doc: 'Hidden width of the timm Mlp heads (hidden_size, 1024).' },
    horizon: { default: PLANNER_PRESETS.small.horizon, type: 'integer', min: 1, doc: 'Trajectory poses (8).' },
    actionDim: { default: PLANNER_PRESETS.small.actionDim, type: 'integer', min: 1, doc: 'Channels per pose (3: x, y, heading).' },
    historyDim: { default: PLANNER_PRESETS.small.historyDim, type: 'integer', min: 1, doc: 'Flattened history width (4 poses × 3 = 12).' },
    statusDim: { default: PLANNER_PRESETS.small.statusDim, type: 'integer', min: 1, doc: 'Status width (command one-hot 4 + v 2 + a 2 = 8).' },
    interleaveAttention: { default: PLANNER_PRESETS.small.interleaveAttention, type: 'boolean', doc: 'Alternate cross- and self-attention blocks (ReCogDrive: true).' },
    ropeTheta: { default: PLANNER_PRESETS.small.ropeTheta, type: 'number', gt: 0, doc: 'RoPE base θ.' },
    timestepChannels: { default: PLANNER_PRESETS.small.timestepChannels, type: 'integer', min: 4, check: (v) => (v % 2 === 0 ? undefined : 'an even integer >= 4'), doc: 'Sinusoidal timestep embedding width (even).' },
    numInferenceSteps: { default: PLANNER_PRESETS.small.numInferenceSteps, type: 'integer', min: 1, doc: 'DDIM steps used by sample/sampleChain/logProb (5).' },
    scheduler: { default: PLANNER_PRESETS.small.scheduler, type: 'object', nested: DDIM_CONFIG, doc: 'DDIM scheduler.' },
    sampler: { default: PLANNER_PRESETS.small.sampler, type: 'object', nested: PLANNER_SAMPLER_CONFIG, doc: 'Noise settings per use.' },
    normalization: { default: PLANNER_PRESETS.small.normalization, type: 'object', nested: TRAJECTORY_NORMALIZATION_CONFIG, doc: 'Trajectory normalisation constants.' },
  },
  {
    check: (c) => {
      if ((c.numHeads * c.headDim) % 2 !== 0) return { field: 'numHeads', expected: 'numHeads·headDim even (action sinusoid)', found: c.numHeads };
      if (c.numInferenceSteps > c.scheduler.numTrainTimesteps) {
        return { field: 'numInferenceSteps', expected: `an integer <= scheduler.numTrainTimesteps (${c.scheduler.numTrainTimesteps})`, found: c.numInferenceSteps };
      }
      return undefined;
    },
  },
);

/**
 * Builds a full config: a preset (default `small`) overridden by the given fields. An unknown key
 * (`numLayer`) or a bad value is a `ConfigError` naming the key and the nearest valid one.
 * Returns a frozen config.
 */
export function plannerConfig(input: PlannerConfigInput = {}): PlannerConfig {
  const { preset = 'small', ...rest } = (input ?? {}) as PlannerConfigInput;
  const presets = Object.keys(PLANNER_PRESETS);
  if (!presets.includes(preset)) {
    const near = typeof preset === 'string' ? nearest(preset, presets) : undefined;
    const details = { field: 'preset', expected: `one of ${presets.join(', ')}`, found: preset };
    throw new ConfigError(DrivekitError.format({ ...details, field: 'PlannerConfig.preset' }, near ? `Did you mean '${near}'?` : undefined), details);
  }
  const c = PLANNER_CONFIG.resolve(typeof input === 'object' && input !== null ? rest : input, { base: PLANNER_PRESETS[preset] }) as PlannerConfig;
  validatePlannerConfig(c);
  return c;
}

export function validatePlannerConfig(c: PlannerConfig): void {
  const bad = (field: string, found: unknown, expected: string, message: string): never => {
    throw new ConfigError(message, { field, expected, found });
  };
  const posInt = ['condDim', 'numHeads', 'headDim', 'numLayers', 'ditOutputDim', 'mlpHidden', 'horizon', 'actionDim', 'historyDim', 'statusDim', 'timestepChannels', 'numInferenceSteps'] as const;
  for (const k of posInt) {
    const v = c[k];
    if (!Number.isInteger(v) || v < 1) bad(k, v, 'an integer >= 1', `Invalid planner config ${k}: ${JSON.stringify(v)}. Should be an integer >= 1.`);
  }
  if (c.headDim % 2 !== 0) bad('headDim', c.headDim, 'an even integer', `Invalid planner config headDim: ${c.headDim}. Should be even (RoPE rotates halves).`);
  if (c.timestepChannels % 2 !== 0 || c.timestepChannels < 4) bad('timestepChannels', c.timestepChannels, 'an even integer >= 4', `Invalid planner config timestepChannels: ${c.timestepChannels}. Should be even and >= 4.`);
  if ((c.numHeads * c.headDim) % 2 !== 0) bad('numHeads', c.numHeads, 'numHeads·headDim even', 'Invalid planner config: numHeads·headDim should be even (action sinusoid).');
  if (c.numInferenceSteps > c.scheduler.numTrainTimesteps) {
    bad('numInferenceSteps', c.numInferenceSteps, `<= scheduler.numTrainTimesteps (${c.scheduler.numTrainTimesteps})`, `Invalid planner config numInferenceSteps: ${c.numInferenceSteps}. Should be <= scheduler.numTrainTimesteps (${c.scheduler.numTrainTimesteps}).`);
  }
  validateNormalization(c.normalization);
  new DDIMScheduler(c.scheduler).setTimesteps(c.numInferenceSteps);
}

/** Parameter count of a config, as PyTorch counts it (including the frozen η logit). */
export function countParameters(c: PlannerConfig): number {
  const W = c.numHeads * c.headDim;
  const lin = (i: number, o: number) => i * o + o;
  const mlp = (i: number, h: number, o: number) => lin(i, h) + 2 * h + lin(h, o);
  const block = 2 * W + 4 * lin(W, W) + 2 * c.headDim + lin(W, 2 * W) + lin(W, W) + lin(W, 6 * W);
  const dit = lin(c.timestepChannels, W) + lin(W, W) + c.numLayers * block + W + lin(W, c.ditOutputDim) + lin(W, 2 * W);
  const heads =
    mlp(c.historyDim, c.mlpHidden, W) +
    mlp(c.statusDim, c.mlpHidden, W) +
    lin(c.actionDim, W) + lin(2 * W, W) + lin(W, W) +
    lin(c.condDim, W) +
    lin(3 * W, W) +
    mlp(c.ditOutputDim, c.mlpHidden, c.actionDim) +
    c.horizon * W;
  return dit + heads + 1;
}

// ---------------------------------------------------------------------------------------------
// inputs and cached conditioning

export interface PlannerInputs {
  /** VLM last hidden states [B, L, condDim] (all L tokens, padding included). */
  hiddenStates: tf.Tensor;
  /** Ego history [B, 12] or [B, 4, 3]: (x, y, heading) at t−1.5 … t in the ego frame. */
  history: tf.Tensor;
  /** `[B, 8]`: driving command one-hot (4), v_x, v_y, a_x, a_y. */
  status: tf.Tensor;
}

/**
 * Per-scene conditioning computed once: projected VLM tokens, their mean, the history and ego
 * embeddings, and each cross-attention block's K/V. Owned by the caller (`dispose()`).
 */
export interface CachedCondition {
  readonly kind: 'CachedCondition';
  readonly numScenes: number;
  /** feature_encoder(hiddenStates) [B, L, D]. */
  readonly tokens: tf.Tensor3D;
  /** mean over L of `tokens`, [B, D]. */
  readonly tokenMean: tf.Tensor2D;
  /** his_traj_encoder(history) [B, D]. */
  readonly historyEmbedding: tf.Tensor2D;
  /** ego_status_encoder(status) = c_ego [B, D]. */
  readonly egoEmbedding: tf.Tensor2D;
  /**
   * Per block: K/V per (scene, head) for cross-attention blocks (keys k-normed, scaled by 1/√d,
   * transposed; see `CrossKV`), null for self-attention blocks.
   */
  readonly crossKV: (CrossKV | null)[];
  dispose(): void;
}

/** Weight blocks used separately by the forward (see `DiffusionPlanner.splitWeights`). */
interface SplitWeights {
  /** action_encoder.fc2 rows [0, W) (for fc1(x_t)) and [W, 2W) (for τ). */
  fc2a: tf.Tensor2D;
  fc2b: tf.Tensor2D;
  /** fusion_projector rows for the history, mean-token and action embeddings. */
  fusion: [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  ffn: FfnHalves[] | null;
  /** Fused self-attention projections (sampling: built once per run). */
  selfQkv: (SelfQkv | null)[] | null;
  fusionScene: tf.Tensor2D | null;
}

function isCached(x: PlannerInputs | CachedCondition): x is CachedCondition {
  return x !== null && typeof x === 'object' && (x as CachedCondition).kind === 'CachedCondition';
}

/**
 * A training batch of the planner on the device: the conditioning and the target poses of B
 * scenes, named as the host rows they come from (`ILRows`; `rowsToBatch` in `drivekit/rl`
 * uploads them). Trajectories are in metres / radians (not normalised). The IL loss
 * (`ilLoss`), the IL trainer's model contract and the sampler commands all take this type.
 */
export interface PlannerBatch {
  /** VLM hidden states `[B, L, H]` (`PlannerInputs.hiddenStates`). */
  cond: tf.Tensor3D;
  /** History poses flattened `[B, 12]` (4 × (x, y, heading), ego frame, oldest first). */
  history: tf.Tensor2D;
  /** Status `[B, 8]` = command one-hot (4) ‖ v (2) ‖ a (2). */
  status: tf.Tensor2D;
  /** Future poses `[B, 8, 3]` (only needed by the loss). */
  target: tf.Tensor3D;
}

/** The planner's inputs of a batch (no copy: the same tensors). */
export function batchInputs(batch: Omit<PlannerBatch, 'target'>): PlannerInputs {
  return { hiddenStates: batch.cond, history: batch.history, status: batch.status };
}

/**
 * @deprecated The planner batch is `PlannerBatch`; `ilLoss` still accepts this older form
 * (`inputs` + `target`).
 */
export interface ILBatch {
  inputs: PlannerInputs;
  /** Ground-truth future poses in metres/radians [B, 8, 3] (normalised inside). */
  target: tf.Tensor;
}

export type ILNoise = { rng: Rng } | { timesteps: ArrayLike<number>; noise: tf.Tensor };

export interface SampleOptions {
  /** Samples per scene G (default 1); output rows [b·G, (b+1)·G) belong to scene b. */
  groupSize?: number;
  /** DDIM steps (default config.numInferenceSteps = 5). */
  steps?: number;
  /** Overrides of the noise settings (η, minStd, noiseClip); `deterministic` sets η = 0. */
  eta?: number;
  minStd?: number;
  noiseClip?: number | null;
  deterministic?: boolean;
  /** Seeded stream for x_T and the per-step noise. */
  rng?: Rng;
  /** Start state x_T [N, 8, 3] (default: drawn from `rng`). */
  xT?: tf.Tensor;
  /** Raw per-step standard-normal draws [K, N, 8, 3], before clipping (default: from `rng`). */
  noise?: tf.Tensor;
}

export interface ChainResult {
  /** `[N, K+1, 8, 3]`: x_T, then the state after each step (the last one clamped), normalised. */
  chain: tf.Tensor4D;
  /** De-normalised final trajectory [N, 8, 3] (metres, radians). */
  trajectory: tf.Tensor3D;
  /** Raw per-step draws [K, N, 8, 3] (null for η = 0): pass back as `noise` to replay. */
  noise: tf.Tensor4D | null;
  /** Timesteps of the K steps (e.g. 80, 60, 40, 20, 0). */
  timesteps: number[];
}

export interface SampleResult {
  /** De-normalised trajectory [N, 8, 3]. */
  trajectory: tf.Tensor3D;
  /** Final normalised state [N, 8, 3] (after the final clamp). */
  normalized: tf.Tensor3D;
}

export interface LogProbOptions {
  /** Chains per scene (default: chains / scenes). */
  groupSize?: number;
  /** Std floor (default config.sampler.logProb.minStd = 0.1). */
  minStd?: number;
  /** η (default 1). */
  eta?: number;
}


// ---------------------------------------------------------------------------------------------

export interface PlannerInit {
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
  rng?: Rng;
}

export class DiffusionPlanner {
  readonly config: Readonly<PlannerConfig>;
  /** Trainable parameters by PyTorch state-dict name (PyTorch layout), in state_dict order. */
  readonly variables: Map<string, tf.Variable>;
  /** `eta.eta_logit`: frozen, atanh(1) = +∞ so that η = 1 exactly (kept for the state dict). */
  etaLogit = Number.POSITIVE_INFINITY;
  private readonly store: ParamStore;
  private readonly dit: DiTConfig;
  private readonly rope: { cos: Float32Array; sin: Float32Array; invFreq: Float32Array };
  private ropeTensors: RopeTensors | null = null;
  private disposed = false;

  constructor(config: PlannerConfig, init: PlannerInit = {}) {
    warnIfNotInitialised('new DiffusionPlanner()');
    validatePlannerConfig(config);
    this.config = Object.freeze(JSON.parse(JSON.stringify(config)) as PlannerConfig);
    const c = this.config;
    const W = c.numHeads * c.headDim;
    this.dit = {
      numHeads: c.numHeads,
      headDim: c.headDim,
      numLayers: c.numLayers,
      outputDim: c.ditOutputDim,
      interleaveAttention: c.interleaveAttention,
      timestepChannels: c.timestepChannels,
      ropeTheta: c.ropeTheta,
    };
    const rng = init.rng ?? new Rng(init.seed ?? 0);
    this.store = new ParamStore();
    // Registration order = ReCogDrive's state_dict order.
    addDiTParams(this.store, rng, this.dit);
    addTimmMlp(this.store, rng, 'his_traj_encoder', c.historyDim, c.mlpHidden, W);
    addTimmMlp(this.store, rng, 'ego_status_encoder', c.statusDim, c.mlpHidden, W);
    addLinear(this.store, rng, 'action_encoder.fc1', c.actionDim, W);
    addLinear(this.store, rng, 'action_encoder.fc2', 2 * W, W);
    addLinear(this.store, rng, 'action_encoder.fc3', W, W);
    addLinear(this.store, rng, 'feature_encoder', c.condDim, W);
    addLinear(this.store, rng, 'fusion_projector', 3 * W, W);
    addTimmMlp(this.store, rng, 'action_decoder', c.ditOutputDim, c.mlpHidden, c.actionDim);
    this.store.add('position_embedding.weight', [c.horizon, W], normalValues(rng, c.horizon * W, 0.02));
    this.variables = this.store.variables;
    this.rope = ropeTables(c.horizon, c.headDim, c.ropeTheta);
    // Created eagerly so that the first call does not change tf.memory() counts.
    this.ropeTensors = {
      cos: tf.tensor3d(this.rope.cos, [c.horizon, 1, c.headDim]),
      sin: tf.tensor3d(this.rope.sin, [c.horizon, 1, c.headDim]),
      rot: tf.tensor2d(rotateHalfMatrix(c.headDim), [c.headDim, c.headDim]),
    };
  }

  /**
   * Loads a planner from a checkpoint folder (`model.safetensors` + `model.json`), a training run
   * folder (its `last/`), or a `.safetensors` file (`options.config` when no config is beside it).
   * Node only (a `UsageError` in a browser build). See `planner-checkpoint.ts`.
   */
  static async fromCheckpoint(target: string, options: PlannerInit & { config?: PlannerConfigInput } = {}): Promise<DiffusionPlanner> {
    return (await import('./checkpoint-io.js')).loadPlannerCheckpoint(target, options);
  }

  /** Writes this planner as a checkpoint folder (`model.safetensors` + `model.json`), replacing `dir` atomically. Node only. */
  async save(dir: string): Promise<void> {
    this.checkAlive();
    await (await import('./checkpoint-io.js')).savePlannerCheckpoint(this, dir);
  }

  /** Builds a planner from a preset plus overrides, e.g. `{ preset: 'small', condDim: 3584 }`. */
  static create(config: PlannerConfigInput = {}, init: PlannerInit = {}): DiffusionPlanner {
    return new DiffusionPlanner(plannerConfig(config), init);
  }

  /** Inner width W (= D). */
  get width(): number {
    return this.config.numHeads * this.config.headDim;
  }

  /** Parameter count as PyTorch reports it (trainable values + the η logit). */
  numParameters(): number {
    return this.store.numParameters() + 1;
  }

  /** Trainable variables as a list (for `tf.variableGrads` / optimizers). */
  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()];
  }

  /** The RoPE inverse frequencies (buffer `model.rotary_embedder.inv_freq`). */
  get ropeInvFreq(): Float32Array {
    return this.rope.invFreq;
  }

  /** A DDIM scheduler with this planner's config and `steps` inference steps. */
  scheduler(steps = this.config.numInferenceSteps): DDIMScheduler {
    return new DDIMScheduler(this.config.scheduler).setTimesteps(steps);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('DiffusionPlanner: used after dispose().');
  }

  private ropeT(): RopeTensors {
    if (!this.ropeTensors) throw new Error('DiffusionPlanner: used after dispose().');
    return this.ropeTensors;
  }

  /** Validates `inputs` (an `InputError` naming the missing or mis-shaped field); returns B. */
  private checkInputs(inputs: PlannerInputs): number {
    const c = this.config;
    const fail = (field: string, expected: string, found: unknown, hint?: string): never => {
      throw new InputError(`DiffusionPlanner: ${InputError.format({ field, expected, found }, hint)}`, { field, expected, found });
    };
    if (inputs === null || typeof inputs !== 'object') fail('inputs', '{ hiddenStates, history, status } (tf.Tensors)', inputs);
    const o = inputs as unknown as Record<string, unknown>;
    if (o.hiddenStates === undefined && o.inputs !== undefined && o.target !== undefined) {
      fail('inputs', '{ hiddenStates, history, status }', `a training batch { inputs, target }`, 'Pass batch.inputs.');
    }
    const shapes: [keyof PlannerInputs, string][] = [
      ['hiddenStates', `[B, L, ${c.condDim}]`],
      ['history', `[B, ${c.historyDim}] or [B, ${c.historyDim / 3}, 3]`],
      ['status', `[B, ${c.statusDim}]`],
    ];
    for (const [name, shape] of shapes) {
      const v = o[name];
      const isTensor = typeof v === 'object' && v !== null && Array.isArray((v as tf.Tensor).shape) && typeof (v as tf.Tensor).dataSync === 'function';
      if (isTensor) continue;
      const found = v === undefined ? `nothing (inputs has ${Object.keys(o).join(', ') || 'no fields'})` : Array.isArray(v) || ArrayBuffer.isView(v) ? `a plain ${Array.isArray(v) ? 'array' : 'typed array'}` : describeValue(v);
      fail(`inputs.${name}`, `a tf.Tensor ${shape}`, found, Array.isArray(v) || ArrayBuffer.isView(v) ? `Wrap it: tf.tensor(values, shape).` : undefined);
    }
    const hs = inputs.hiddenStates;
    if (hs.rank !== 3 || hs.shape[2] !== c.condDim) fail('inputs.hiddenStates', `shape [B, L, ${c.condDim}]`, hs.shape);
    const B = hs.shape[0]!;
    if (inputs.history.shape[0] !== B || inputs.history.size !== B * c.historyDim) {
      fail('inputs.history', `shape [${B}, ${c.historyDim}] (or [${B}, ${c.historyDim / 3}, 3])`, inputs.history.shape);
    }
    if (inputs.status.rank !== 2 || inputs.status.shape[0] !== B || inputs.status.shape[1] !== c.statusDim) {
      fail('inputs.status', `shape [${B}, ${c.statusDim}]`, inputs.status.shape);
    }
    return B;
  }

  /**
   * Projects the conditioning once per scene (feature/history/ego encoders and all cross K/V).
   * `differentiable` keeps the full cross-attention K/V so that gradients of a loss computed from
   * this condition reach to_k / to_v / k_norm / feature_encoder (`CrossKV.keys`); it defaults to
   * whether a gradient tape is recording (`tf.engine().isTapeOn()`, i.e. inside `tf.grad` /
   * `tf.variableGrads`), so inference keeps only the per-head pieces (half the memory).
   * Gradients never flow back into `hiddenStates` (the VLM is not trained here).
   */
  encodeCondition(inputs: PlannerInputs, record?: Recorder, options: { differentiable?: boolean } = {}): CachedCondition {
    this.checkAlive();
    const B = this.checkInputs(inputs);
    const c = this.config;
    const differentiable = options.differentiable ?? tf.engine().isTapeOn();
    let crossKV: (CrossKV | null)[] = [];
    const parts = tf.tidy(() => {
      // The VLM hidden states are inputs, never trained here: no dX product in the backward pass.
      const tokens = linear(inputs.hiddenStates, this.store.get('feature_encoder.weight'), this.store.get('feature_encoder.bias'), { inputGradient: false }) as tf.Tensor3D;
      record?.('feature_encoder', tokens);
      const tokenMean = tf.mean(tokens, 1) as tf.Tensor2D;
      const historyEmbedding = timmMlp(this.store, 'his_traj_encoder', tf.reshape(inputs.history, [B, c.historyDim])) as tf.Tensor2D;
      record?.('his_traj_encoder', tf.expandDims(historyEmbedding, 1));
      const egoEmbedding = timmMlp(this.store, 'ego_status_encoder', inputs.status) as tf.Tensor2D;
      record?.('ego_status_encoder', egoEmbedding);
      // The structure references the very tensors tidy keeps (they are returned below).
      crossKV = crossAttentionKV(this.store, this.dit, tokens, differentiable);
      return [tokens, tokenMean, historyEmbedding, egoEmbedding, ...crossKVTensors(crossKV)];
    });
    const [tokens, tokenMean, historyEmbedding, egoEmbedding] = parts;
    return {
      kind: 'CachedCondition',
      numScenes: B,
      tokens: tokens as tf.Tensor3D,
      tokenMean: tokenMean as tf.Tensor2D,
      historyEmbedding: historyEmbedding as tf.Tensor2D,
      egoEmbedding: egoEmbedding as tf.Tensor2D,
      crossKV,
      dispose: () => tf.dispose(parts),
    };
  }

  /** Checks xt [N, 8, 3] and t (one per row) against the condition; returns [N, G]. */
  private checkNoiseInputs(cond: CachedCondition, xt: tf.Tensor, t: ArrayLike<number>): [number, number] {
    const c = this.config;
    const N = xt.shape[0]!;
    if (xt.rank !== 3 || xt.shape[1] !== c.horizon || xt.shape[2] !== c.actionDim) {
      throw new Error(`DiffusionPlanner.predictNoise: xt should be [N, ${c.horizon}, ${c.actionDim}], found [${xt.shape}].`);
    }
    if (t.length !== N) throw new Error(`DiffusionPlanner.predictNoise: ${t.length} timesteps for ${N} rows; expected one per row.`);
    const B = cond.numScenes;
    if (N % B !== 0) throw new Error(`DiffusionPlanner.predictNoise: ${N} rows are not a multiple of ${B} scenes.`);
    return [N, N / B];
  }

  /**
   * The DiT conditioning c = temb(t) + c_ego for R rows (`t` and `ego` [R, W] per row) and the
   * adaLN modulation of every block for `passes` passes of R / passes rows each.
   */
  private modulations(t: ArrayLike<number>, ego: tf.Tensor2D, passes: number, record?: Recorder): DiTModulation[] {
    const c = this.config;
    // Time embedding (diffusers Timesteps + TimestepEmbedding) and c = temb + c_ego.
    const proj = tf.tensor2d(timestepSinusoid(t, c.timestepChannels), [t.length, c.timestepChannels]);
    record?.('model.timestep_encoder.time_proj', proj);
    const temb = linearP(this.store, 'model.timestep_encoder.timestep_embedder.linear_2', silu(linearP(this.store, 'model.timestep_encoder.timestep_embedder.linear_1', proj)));
    record?.('model.timestep_encoder', temb);
    return ditModulations(this.store, this.dit, tf.add(temb, ego) as tf.Tensor2D, passes, record);
  }

  /** Repeats per-scene rows [B, W] for the G rows of each scene → [B·G, W]. */
  private perRow(x: tf.Tensor2D, G: number): tf.Tensor2D {
    if (G === 1) return x;
    const [B, W] = x.shape;
    return tf.reshape(tf.broadcastTo(tf.reshape(x, [B, 1, W]), [B, G, W]), [B * G, W]) as tf.Tensor2D;
  }

  /**
   * ε̂ = net(x_t, t | condition). `xt` [N, 8, 3] (normalised), `t` one integer per row;
   * N must be a multiple of the number of scenes, rows grouped by scene (repeat_interleave order).
   */
  predictNoise(cond: CachedCondition, xt: tf.Tensor, t: ArrayLike<number>, record?: Recorder): tf.Tensor3D {
    this.checkAlive();
    const [N, G] = this.checkNoiseInputs(cond, xt, t);
    const B = cond.numScenes;
    return tf.tidy(() => {
      // When every row of a scene has the same t (sampling), the conditioning and the adaLN
      // modulation are computed once per scene and broadcast over its G samples.
      let shared = record === undefined && G > 1;
      for (let r = 0; shared && r < N; r++) shared = t[r] === t[Math.floor(r / G) * G];
      const modulation = shared
        ? this.modulations(Array.from({ length: B }, (_, b) => t[b * G]!), cond.egoEmbedding, 1)[0]!
        : this.modulations(t, this.perRow(cond.egoEmbedding, G), 1, record)[0]!;
      return this.denoise(cond, xt, t, modulation, record);
    });
  }

  /**
   * Row/column blocks of weights that the forward uses separately (see `denoise`): split with
   * differentiable ops for a single pass; once per run for `sampling` (not differentiable), which
   * also splits every block's SwiGLU w12 into its two column halves (a single pass splits the
   * activation instead). `cond` adds the per-scene part of the fusion projection, which does not
   * change across sampling steps.
   */
  private splitWeights(sampling: boolean, cond?: CachedCondition): SplitWeights {
    // Sampling (no gradients): host-side copies, ~10x cheaper than the wasm Slice kernel.
    const rows = (x: tf.Tensor, n: number) => (sampling ? rowBlocks(x as tf.Tensor2D, n) : (tf.split(x, n, 0) as tf.Tensor2D[]));
    const [fc2a, fc2b] = rows(this.store.get('action_encoder.fc2.weight'), 2);
    const fusion = rows(this.store.get('fusion_projector.weight'), 3);
    let ffn: FfnHalves[] | null = null;
    if (sampling) {
      ffn = [];
      for (let i = 0; i < this.dit.numLayers; i++) {
        const p = `${blockPrefix(i)}.ffn.w12`;
        const [w1, w2] = columnBlocks(this.store.get(`${p}.weight`) as tf.Tensor2D, 2);
        const [b1, b2] = rowBlocks(tf.reshape(this.store.get(`${p}.bias`), [2, -1]) as tf.Tensor2D, 2).map((b) => tf.reshape(b, [-1]) as tf.Tensor1D);
        ffn.push({ w1: w1!, b1: b1!, w2: w2!, b2: b2! });
      }
    }
    const selfQkv = sampling ? Array.from({ length: this.dit.numLayers }, (_, i) => (isCrossBlock(this.dit, i) ? null : selfQkvWeights(this.store, this.dit, i))) : null;
    const w: SplitWeights = { fc2a: fc2a!, fc2b: fc2b!, fusion: fusion as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D], ffn, selfQkv, fusionScene: null };
    if (cond) w.fusionScene = this.fusionScene(cond, w);
    return w;
  }

  /** hist·W₁ + mean·W₂ + b of the fusion projection, one row per scene [B, W]. */
  private fusionScene(cond: CachedCondition, w: SplitWeights): tf.Tensor2D {
    return tf.add(tf.add(mm(cond.historyEmbedding, w.fusion[0]), mm(cond.tokenMean, w.fusion[1])), this.store.get('fusion_projector.bias')) as tf.Tensor2D;
  }

  /** One network pass with a precomputed modulation (see `predictNoise`). */
  private denoise(cond: CachedCondition, xt: tf.Tensor, t: ArrayLike<number>, modulation: DiTModulation, record?: Recorder, split?: SplitWeights): tf.Tensor3D {
    const c = this.config;
    const W = this.width;
    const [N, G] = this.checkNoiseInputs(cond, xt, t);
    const H = c.horizon;
    const B = cond.numScenes;
    const rope = this.ropeT();
    return tf.tidy(() => {
      const sw = split ?? this.splitWeights(false);
      // Action encoder + learned position embedding.
      const tau = tf.tensor2d(actionSinusoid(t, W), [N, W]);
      if (record) record('action_encoder.pos_encoding', tf.broadcastTo(tf.reshape(tau, [N, 1, W]), [N, H, W]));
      const act = actionEncoder(this.store, xt, tau, [sw.fc2a, sw.fc2b]);
      record?.('action_encoder', act);
      const actPos = tf.add(act, this.store.get('position_embedding.weight'));
      // Fusion: Linear(3D → D) of [history emb, mean VLM emb, action emb] along channels, as
      // actPos·W₃ + (hist·W₁ + mean·W₂ + b) with W = [W₁; W₂; W₃] split by rows: the first two
      // terms are one row per scene (no broadcast copies, 1/3 of the FLOPs).
      const scenePart = sw.fusionScene ?? this.fusionScene(cond, sw);
      const actPart = linear(tf.reshape(actPos, [N * H, W]), sw.fusion[2]);
      const h0 = tf.reshape(tf.add(tf.reshape(actPart, [B, G * H, W]), tf.reshape(scenePart, [B, 1, W])), [N, H, W]) as tf.Tensor3D;
      record?.('fusion_projector', h0);
      if (record) {
        record('model.rotary_embedder.cos', tf.reshape(rope.cos, [1, 1, H, c.headDim]));
        record('model.rotary_embedder.sin', tf.reshape(rope.sin, [1, 1, H, c.headDim]));
      }
      const out = ditForward(this.store, this.dit, { x: h0, modulation, crossKV: cond.crossKV, groupSize: G, rope, ffn: sw.ffn ?? undefined, selfQkv: sw.selfQkv ?? undefined, record });
      const eps = timmMlp(this.store, 'action_decoder', out) as tf.Tensor3D;
      record?.('action_decoder', eps);
      return eps;
    });
  }

  private withCondition<T>(inputs: PlannerInputs | CachedCondition, differentiable: boolean, fn: (cond: CachedCondition) => T): T {
    if (isCached(inputs)) return fn(inputs);
    const cond = this.encodeCondition(inputs, undefined, { differentiable });
    try {
      return fn(cond);
    } finally {
      cond.dispose();
    }
  }

  /**
   * IL loss (ReCogDrive `forward`): x₀ = norm(target), t ~ U{0..T−1}, ε ~ N(0, I),
   * x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, loss = mean((ε̂ − ε)²). Draw order from `rng`: B timesteps, then
   * B·8·3 normals. Differentiable w.r.t. all variables (call inside `tf.variableGrads`).
   */
  ilLoss(planBatch: PlannerBatch | ILBatch, noise: ILNoise): tf.Scalar {
    this.checkAlive();
    const c = this.config;
    const batch: ILBatch = 'inputs' in planBatch ? planBatch : { inputs: batchInputs(planBatch), target: planBatch.target };
    const B = this.checkInputs(batch.inputs);
    if (batch.target.shape[0] !== B || batch.target.size !== B * c.horizon * c.actionDim) {
      throw new Error(`DiffusionPlanner.ilLoss: target should be [${B}, ${c.horizon}, ${c.actionDim}], found [${batch.target.shape}].`);
    }
    const T = c.scheduler.numTrainTimesteps;
    let timesteps: ArrayLike<number>;
    let eps: tf.Tensor;
    let ownEps = false;
    if ('rng' in noise) {
      const ts = new Int32Array(B);
      for (let i = 0; i < B; i++) ts[i] = noise.rng.int(0, T);
      timesteps = ts;
      eps = tf.tensor(noise.rng.fillNormal(new Float32Array(B * c.horizon * c.actionDim)), [B, c.horizon, c.actionDim]);
      ownEps = true;
    } else {
      timesteps = noise.timesteps;
      eps = noise.noise;
      if (timesteps.length !== B) throw new Error(`DiffusionPlanner.ilLoss: ${timesteps.length} timesteps for batch ${B}.`);
    }
    const sched = this.scheduler();
    try {
      return tf.tidy(() => {
        const x0 = normalizeTrajectory(tf.reshape(batch.target, [B, c.horizon, c.actionDim]), c.normalization);
        const xt = addNoise(sched.schedule, x0, eps, timesteps);
        const cond = this.encodeCondition(batch.inputs, undefined, { differentiable: true });
        const pred = this.predictNoise(cond, xt, timesteps);
        return tf.mean(tf.squaredDifference(pred, eps)) as tf.Scalar;
      });
    } finally {
      if (ownEps) eps.dispose();
    }
  }

  private noiseOptions(base: DDIMNoiseOptions, o: SampleOptions): DDIMNoiseOptions {
    if (o.deterministic) return { ...DDIM_DETERMINISTIC };
    return {
      eta: o.eta ?? base.eta,
      minStd: o.minStd ?? base.minStd,
      noiseClip: o.noiseClip === undefined ? base.noiseClip : o.noiseClip,
    };
  }

  private runChain(inputs: PlannerInputs | CachedCondition, o: SampleOptions, base: DDIMNoiseOptions, keepChain: boolean): ChainResult {
    this.checkAlive();
    const c = this.config;
    const G = o.groupSize ?? 1;
    if (!Number.isInteger(G) || G < 1) throw new Error(`DiffusionPlanner: invalid groupSize ${G}. Should be an integer >= 1.`);
    const noiseOpts = this.noiseOptions(base, o);
    const sched = this.scheduler(o.steps ?? c.numInferenceSteps);
    const K = sched.numInferenceSteps;
    return this.withCondition(inputs, false, (cond) => {
      const N = cond.numScenes * G;
      const shape: [number, number, number] = [N, c.horizon, c.actionDim];
      const per = N * c.horizon * c.actionDim;
      const stochastic = noiseOpts.eta !== 0;
      if (!o.xT && !o.rng) throw new Error('DiffusionPlanner: sampling needs `rng` or `xT`.');
      if (stochastic && !o.noise && !o.rng) throw new Error('DiffusionPlanner: stochastic sampling needs `rng` or `noise`.');
      if (o.xT && !tf.util.arraysEqual(o.xT.shape, shape)) throw new Error(`DiffusionPlanner: xT should be [${shape}], found [${o.xT.shape}].`);
      if (o.noise && !tf.util.arraysEqual(o.noise.shape, [K, ...shape])) throw new Error(`DiffusionPlanner: noise should be [${[K, ...shape]}], found [${o.noise.shape}].`);
      const [chain, trajectory, noise] = tf.tidy(() => {
        let x: tf.Tensor = o.xT ? tf.clone(o.xT) : tf.tensor(o.rng!.fillNormal(new Float32Array(per)), shape);
        const states: tf.Tensor[] = [x];
        const draws: tf.Tensor[] = [];
        // All samples of a scene share t: the time embedding and the adaLN modulation of every
        // step are computed once, for the B scenes, before the loop (one product per block).
        const B = cond.numScenes;
        const tScene = sched.timesteps.flatMap((t) => new Array<number>(B).fill(t));
        const egoSteps = K === 1 ? cond.egoEmbedding : (tf.tile(cond.egoEmbedding, [K, 1]) as tf.Tensor2D);
        const mods = this.modulations(tScene, egoSteps, K);
        const split = this.splitWeights(true, cond);
        let rowsFinite: tf.Tensor | null = null;
        for (let k = 0; k < K; k++) {
          const t = sched.timesteps[k]!;
          const tRows = new Array<number>(N).fill(t);
          const eps = this.denoise(cond, x, tRows, mods[k]!, undefined, split);
          // Per row: every ε so far finite (the x̂₀ clip would turn NaN into ±1; checked once at the end).
          const epsOk = tf.all(tf.isFinite(eps), [1, 2]);
          rowsFinite = rowsFinite ? tf.logicalAnd(rowsFinite, epsOk) : epsOk;
          let raw: tf.Tensor | undefined;
          if (stochastic) {
            raw = o.noise ? tf.reshape(tf.slice(o.noise, [k, 0, 0, 0], [1, ...shape]), shape) : tf.tensor(o.rng!.fillNormal(new Float32Array(per)), shape);
            draws.push(raw);
          }
          const out = sched.step(eps, tRows, x, { ...noiseOpts, noise: raw });
          x = out.prevSample;
          if (k === K - 1) {
            // A NaN/Inf (corrupted weights or inputs) must not be hidden by the clips and the clamp.
            const bad = (tf.logicalAnd(rowsFinite, tf.all(tf.isFinite(x), [1, 2])).dataSync() as Uint8Array).indexOf(0);
            if (bad >= 0) {
              const row = bad;
              throw new InputError(`DiffusionPlanner: the sampled trajectory of row ${row} (scene ${Math.floor(row / G)}) is not finite; check the weights and the inputs (hiddenStates, history, status) for NaN or Inf.`, { field: `trajectory[${row}]`, expected: 'finite values', found: 'NaN or Inf' });
            }
            if (c.sampler.finalClip !== null) x = tf.clipByValue(x, -c.sampler.finalClip, c.sampler.finalClip);
          }
          if (keepChain) states.push(x);
        }
        const trajectory = denormalizeTrajectory(x, c.normalization) as tf.Tensor3D;
        const chain = (keepChain ? tf.stack(states, 1) : tf.expandDims(x, 1)) as tf.Tensor4D;
        return stochastic ? [chain, trajectory, tf.stack(draws, 0)] : [chain, trajectory];
      });
      return { chain: chain as tf.Tensor4D, trajectory: trajectory as tf.Tensor3D, noise: (noise as tf.Tensor4D | undefined) ?? null, timesteps: [...sched.timesteps] };
    });
  }

  /**
   * Evaluation sampler (`get_action`): η = 1, std ≥ 1e-4, noise clipped to ±1, final clamp ±1,
   * de-normalised. `deterministic: true` gives plain DDIM (η = 0).
   */
  sample(inputs: PlannerInputs | CachedCondition, options: SampleOptions = {}): SampleResult {
    const r = this.runChain(inputs, options, this.config.sampler.eval, false);
    const normalized = tf.tidy(() => tf.squeeze(r.chain, [1]) as tf.Tensor3D);
    r.chain.dispose();
    r.noise?.dispose();
    return { trajectory: r.trajectory, normalized };
  }

  /**
   * RL rollout (`sample_chain`): η = 1, std ≥ 0.04, noise clipped to ±5; returns the whole chain
   * and the raw noise so it can be replayed and scored with `logProb`.
   */
  sampleChain(inputs: PlannerInputs | CachedCondition, options: SampleOptions = {}): ChainResult {
    return this.runChain(inputs, options, this.config.sampler.rollout, true);
  }

  /**
   * log π_θ(x_{k+1} | x_k) of every transition of `chain` [N, K+1, 8, 3] under the current weights
   * (`get_logprobs`): one batched pass over N·K rows, std = max(exp(½·logvar), 0.1), unclamped.
   * Returns [N·K, 8, 3] with row = chain·K + step; differentiable w.r.t. the variables.
   */
  logProb(inputs: PlannerInputs | CachedCondition, chain: tf.Tensor, options: LogProbOptions = {}): tf.Tensor3D {
    this.checkAlive();
    const c = this.config;
    if (chain.rank !== 4 || chain.shape[2] !== c.horizon || chain.shape[3] !== c.actionDim) {
      throw new Error(`DiffusionPlanner.logProb: chain should be [N, K+1, ${c.horizon}, ${c.actionDim}], found [${chain.shape}].`);
    }
    const [N, K1] = chain.shape as [number, number];
    const K = K1 - 1;
    if (K < 1 || K > c.numInferenceSteps) throw new Error(`DiffusionPlanner.logProb: chain has ${K} transitions; expected 1..${c.numInferenceSteps}.`);
    const sched = this.scheduler();
    const ts = sched.timesteps.slice(sched.numInferenceSteps - K);
    const tRows: number[] = [];
    for (let j = 0; j < N; j++) tRows.push(...ts);
    const base = c.sampler.logProb;
    const noiseOpts: DDIMNoiseOptions = { eta: options.eta ?? base.eta, minStd: options.minStd ?? base.minStd, noiseClip: null };
    return tf.tidy(() =>
      this.withCondition(inputs, true, (cond) => {
        const B = cond.numScenes;
        if (options.groupSize !== undefined && options.groupSize * B !== N) {
          throw new Error(`DiffusionPlanner.logProb: groupSize ${options.groupSize} × ${B} scenes ≠ ${N} chains.`);
        }
        if (N % B !== 0) throw new Error(`DiffusionPlanner.logProb: ${N} chains are not a multiple of ${B} scenes.`);
        const rowShape = [N * K, c.horizon, c.actionDim];
        const xt = tf.reshape(tf.slice(chain, [0, 0, 0, 0], [N, K, c.horizon, c.actionDim]), rowShape);
        const xNext = tf.reshape(tf.slice(chain, [0, 1, 0, 0], [N, K, c.horizon, c.actionDim]), rowShape);
        const eps = this.predictNoise(cond, xt, tRows);
        const post = sched.posterior(eps, tRows, xt, noiseOpts);
        const std = noiseOpts.eta === 0 ? new Float32Array(N * K).fill(noiseOpts.minStd) : post.constants.std;
        return gaussianLogProb(xNext, post.mean, std) as tf.Tensor3D;
      }),
    );
  }

  /** Frees all variables and cached tables. */
  dispose(): void {
    if (this.disposed) return;
    this.store.dispose();
    if (this.ropeTensors) tf.dispose([this.ropeTensors.cos, this.ropeTensors.sin, this.ropeTensors.rot]);
    this.ropeTensors = null;
    this.disposed = true;
  }

  /** Internal access for weights.ts. */
  get paramStore(): ParamStore {
    return this.store;
  }
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

