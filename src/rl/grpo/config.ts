/**
 * DiffGRPO hyper-parameters (spec §3), declared once with a doc line per field; the CLI's flags
 * and the docs' option table come from this declaration. The rollout sampler (η = 1, std ≥ 0.04,
 * noise clip ±5) and the log-prob std floor (0.1) are the planner's `config.sampler` settings.
 */
import { defineConfig, type ConfigDef } from '../../core/config.js';
import { ADAMW_CONFIG, type AdamWConfig } from '../common/optim.js';

export interface GRPOTrainConfig {
  groupSize: number;
  scenesPerIteration: number;
  epochs: number;
  iterations: number | null;
  optimizer: AdamWConfig;
  minLr: number;
  scheduleInterval: 'epoch' | 'iteration';
  maxGradNorm: number;
  gamma: number;
  bcCoeff: number;
  advantageQuantiles: [number, number];
  advantageStdFloor: number;
  reward: 'pdms' | 'epdms';
  progressWeight: number;
  metricWeights: Record<string, number>;
  reversePenalty: number;
  rolloutMinStd: number | null;
  rolloutNoiseClip: number | null;
  scoringChunks: number;
  microBatchScenes: number;
  seed: number;
  checkpointEvery: number;
}

const WEIGHT_KEYS = ['progress', 'ttc', 'comfort', 'drivingDirection', 'laneKeeping', 'historyComfort', 'extendedComfort'];

export const GRPO_TRAIN_CONFIG: ConfigDef<GRPOTrainConfig> = defineConfig<GRPOTrainConfig>('GRPOTrainConfig', {
  groupSize: { default: 8, type: 'integer', min: 2, doc: 'G, rollouts per scene (ReCogDrive sample_time: 8); >= 2 for the unbiased group std.' },
  scenesPerIteration: { default: 8, type: 'integer', min: 1, doc: 'B, scenes per iteration (ReCogDrive: 128 on 32 GPUs; one gradient step per B·G rollouts).' },
  epochs: { default: 10, type: 'integer', min: 1, doc: 'Passes over the training scenes (ReCogDrive: 10); the cosine schedule spans them.' },
  iterations: { default: null, type: 'integer', min: 1, nullable: true, doc: 'Total iterations; null: epochs x ceil(scenes / scenesPerIteration).' },
  optimizer: { default: ADAMW_CONFIG.defaults, type: 'object', nested: ADAMW_CONFIG, doc: 'AdamW (ReCogDrive RL: lr 1e-4, betas (0.9, 0.95), wd 1e-4).' },
  minLr: { default: 0, type: 'number', min: 0, doc: 'Floor of the cosine schedule (ReCogDrive RL: 0, no warmup).' },
  scheduleInterval: { default: 'epoch', type: 'enum', values: ['epoch', 'iteration'], doc: 'The cosine steps per epoch (ReCogDrive) or per iteration.' },
  maxGradNorm: { default: 1, type: 'number', min: 0, doc: 'Global gradient-norm clip (ReCogDrive: 1.0); 0 disables.' },
  gamma: { default: 0.6, type: 'number', gt: 0, max: 1, doc: 'γ of the denoising discount w_k = γ^(K-1-k) (ReCogDrive: 0.6).' },
  bcCoeff: { default: 0.1, type: 'number', min: 0, doc: 'λ of the BC term against the frozen IL policy (ReCogDrive e3d5810+: 0.1; paper v1: 0.01; #23 fix: up to 1); 0 skips the teacher chains.' },
  advantageQuantiles: {
    default: [0, 1], type: 'array', items: { type: 'number', min: 0, max: 1 },
    check: (v) => (v.length === 2 && v[0] <= v[1] ? undefined : '[lo, hi] with 0 <= lo <= hi <= 1'),
    doc: 'Advantage clip to batch quantiles (ReCogDrive: [0, 1], a no-op).',
  },
  advantageStdFloor: { default: 0, type: 'number', min: 0, doc: 'Floor of the group reward std that divides the advantages (ReCogDrive: 0, every group scaled to unit std; >= 1: Dr. GRPO, plain r - mean).' },
  reward: { default: 'pdms', type: 'enum', values: ['pdms', 'epdms'], doc: "'pdms' (NAVSIM v1.1, ReCogDrive's reward) or 'epdms' (v2.2)." },
  progressWeight: { default: 10, type: 'number', min: 0, doc: 'EP weight of the training reward (ReCogDrive: 10; NAVSIM evaluation: 5; first code drop: 30).' },
  metricWeights: {
    default: {}, type: 'object',
    check: (v) => (Object.entries(v).every(([k, w]) => WEIGHT_KEYS.includes(k) && typeof w === 'number' && w >= 0 && Number.isFinite(w)) ? undefined : `weights >= 0 keyed by ${WEIGHT_KEYS.join(', ')}`),
    doc: 'Overrides of the other metric weights (e.g. {"extendedComfort": 2}); default: the version\'s, EC off for EPDMS.',
  },
  reversePenalty: { default: 0.5, type: 'number', min: 0, doc: 'λ_rev subtracted from the reward of a plan whose last waypoint reverses (ReCogDrive #23); 0 = detect and log only.' },
  rolloutMinStd: { default: null, type: 'number', min: 0, nullable: true, doc: "Std floor of the rollout and teacher chains (null: the planner's sampler.rollout.minStd, ReCogDrive 0.04; paper v1: 0.02)." },
  rolloutNoiseClip: { default: null, type: 'number', gt: 0, nullable: true, doc: "Clip of the rollout and teacher chains' standard-normal draws to ±this (null: the planner's sampler.rollout.noiseClip, ReCogDrive 5; its evaluation sampler clips to 1, so 1 with rolloutMinStd 1e-4 samples rollouts as the evaluation does)." },
  scoringChunks: { default: 1, type: 'integer', min: 1, doc: 'Sample the batch in this many chunks of scenes, each sent for scoring before the next is sampled (more overlap with a worker pool, but smaller sampling batches); scoring always overlaps the teacher chains.' },
  microBatchScenes: { default: 0, type: 'integer', min: 0, doc: 'Scenes per forward/backward pass, gradients accumulated over the batch (0 = all B at once; bounds memory: one pass holds G·K + K rows per scene).' },
  seed: { default: 0, type: 'integer', doc: 'Seed of the run (scene order, rollout and teacher noise).' },
  checkpointEvery: { default: 10, type: 'integer', min: 0, doc: 'Write last/ every this many iterations (and at the end); 0 = only at the end.' },
});

export const GRPO_TRAIN_DEFAULTS: Readonly<GRPOTrainConfig> = GRPO_TRAIN_CONFIG.defaults;

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `GRPOTrainConfig`. */
export type GrpoTrainConfig = GRPOTrainConfig;
