// Public surface of drivekit/models: the ReCogDrive DiT diffusion planner with its noise schedule,
// DDIM sampler and log-probabilities; MLP policies and the GAIL discriminator. Browser-safe: the
// models' file methods (`save`, `load`, `fromCheckpoint`, `loadPlannerWeights`,
// `savePlannerWeights`) need Node and throw a `UsageError` in a browser build, where weights load
// from bytes (`parseSafetensors` + `loadPlannerStateDict`). The DiT blocks, layers and encoders
// are internal.

// The diffusion planner: config, presets, the model and its PyTorch-named state dict.
export { batchInputs, countParameters, DiffusionPlanner, PLANNER_CONFIG, PLANNER_PRESETS, PLANNER_SAMPLER_CONFIG, plannerConfig, TRAJECTORY_NORMALIZATION_CONFIG, validatePlannerConfig } from './planner.js';
export type { CachedCondition, ChainResult, ILBatch, ILNoise, LogProbOptions, PlannerConfig, PlannerConfigInput, PlannerBatch, PlannerInit, PlannerInputs, PlannerPreset, SampleOptions, SampleResult, SamplerSettings } from './planner.js';
export { describePlannerSize, LIGHTNING_PREFIX, loadPlannerStateDict, loadPlannerWeights, OLD_POLICY_PREFIX, plannerSizeOfStateDict, plannerStateDict, savePlannerWeights } from './weights.js';
export type { LoadReport, SaveOptions } from './weights.js';

// Diffusion: noise schedules, the DDIM scheduler (diffusers' API), trajectory normalisation, log-probabilities.
export { cosineBetas, ddpmBuffers, DEFAULT_NOISE_SCHEDULE, linearBetas, makeNoiseSchedule, scaledLinearBetas, validateNoiseScheduleConfig } from './schedule.js';
export type { BetaScheduleKind, NoiseSchedule, NoiseScheduleConfig } from './schedule.js';
export { addNoise, DDIM_CONFIG, DDIM_DETERMINISTIC, DDIM_NOISE_CONFIG, DDIMScheduler, RECOGDRIVE_DDIM_CONFIG, RECOGDRIVE_EVAL, RECOGDRIVE_LOGPROB, RECOGDRIVE_ROLLOUT } from './ddim.js';
export type { DDIMNoiseOptions, DDIMSchedulerConfig, DDIMStepConstants, DDIMStepOptions, DDIMStepOutput, TimestepSpacing } from './ddim.js';
export { denormalizeTrajectory, denormalizeTrajectoryArray, normalizeTrajectory, normalizeTrajectoryArray, RECOGDRIVE_NORMALIZATION, validateNormalization } from './normalize.js';
export type { ChannelRange, TrajectoryNormalization } from './normalize.js';
export { clampedMeanPerRow, LOGPROB_CLAMP } from './logprob.js';

// MLP policies (BC, PPO, GAIL), their distributions, and the GAIL discriminator.
export { ActorCriticPolicy, POLICY_CONFIG, orthogonalValues } from './mlp-policy.js';
export type { ActResult, EvaluatedActions, PolicyConfig } from './mlp-policy.js';
export { categoricalEntropy, categoricalLogProb, gaussianEntropy, gaussianLogProb, sampleCategorical, sampleGaussian } from './distributions.js';
export { DISCRIMINATOR_CONFIG, MlpDiscriminator } from './discriminator.js';
export type { DiscriminatorConfig } from './discriminator.js';

