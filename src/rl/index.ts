// Public surface of drivekit/rl: the learners (IL, BC, PPO, GAIL, DiffGRPO), their configs, losses
// and shared parts (run machinery, callbacks, gradients, normalisation, curricula, evaluation), and the training
// data (hidden-state cache, scene datasets, expert demonstrations). Node-only: trainers write
// checkpoints and run folders.

// Optimisation: AdamW, schedules, EMA.
export { ADAMW_DEFAULTS, AdamW, clipCoefficient, clipGradNorm, globalNorm } from './common/optim.js';
export type { AdamWConfig, AdamWOptions, AdamWState, ClipResult, NamedArray, NamedVariables } from './common/optim.js';
export { RECOGDRIVE_IL_SCHEDULE, WarmupCosineSchedule } from './common/schedules.js';
export type { ScheduleInterval, WarmupCosineConfig } from './common/schedules.js';
export { Ema } from './common/ema.js';
export type { EmaOptions, EmaState } from './common/ema.js';

// Imitation learning (IL) of the diffusion planner, and its data.
export { InMemoryILData, ILDataRange, makeSyntheticRows, selectRows, validateRows } from './data/il-data.js';
export type { ILDataSource, ILRows, SyntheticOptions } from './data/il-data.js';
export { CACHE_FORMAT, HiddenStateCache, HiddenStateCacheWriter, concatRows, hiddenStateSchema, writeHiddenStateCache, writeSyntheticCache } from './data/hidden-state-cache.js';
export type { CacheExpectation, CacheWriterOptions } from './data/hidden-state-cache.js';
export { IL_TRAIN_DEFAULTS, IL_TRAINER_FORMAT, ILTrainer, applyILGradients, ilLossAndGrads, ilTrainStep, resolveILConfig, evaluateIL } from './il-trainer.js';
export type { BestEntry, ILEvent, ILModel, ILStepOptions, ILStepResult, ILTrainConfig, ILTrainOptions, ILTrainResult, ILTrainerOptions, ILTrainerState, ValidationResult } from './il-trainer.js';
export { disposeBatch, disposeInputs, rowsToBatch, rowsToInputs } from './data/planner-batch.js';
export type { PlannerBatch } from './data/planner-batch.js';
export { plannerForIL } from './il-planner.js';
export type { PlannerILOptions } from './il-planner.js';
/** @deprecated Names before the acronym casing (IL, as DDIM, PDM, PPO); they remain as aliases. */
export { InMemoryIlData, IlDataRange } from './data/il-data.js';
export type { IlDataSource, IlRows } from './data/il-data.js';
export { IlTrainer, applyIlGradients, resolveIlConfig, validateIl } from './il-trainer.js';
export type { ILTensorBatch, IlEvent, IlModel, IlStepOptions, IlStepResult, IlTensorBatch, IlTrainConfig, IlTrainOptions, IlTrainResult, IlTrainerOptions, IlTrainerState } from './il-trainer.js';
export { plannerForIl } from './il-planner.js';
export type { PlannerIlOptions } from './il-planner.js';
export { defaultScenesPath, readScenesJsonl, SCENE_DATASET_FORMAT, sceneRows, writeSceneDataset } from './data/scene-dataset.js';
export type { SceneDatasetOptions, SceneDatasetResult } from './data/scene-dataset.js';

// Expert demonstrations (BC, GAIL).
export { DEFAULT_DEMO_CLEANING, DEMONSTRATIONS_FORMAT, NOISE_STREAMS, NO_DEMO_CLEANING, cleanEpisode, concatDemonstrations, demonstrationsSchema, episodeNoiseRng, episodeRanges, readDemonstrations, recordExpertDemonstrations, resolveDemoCleaning } from './data/demonstrations.js';
export type { CleaningCounts, DemoCleaning, Demonstrations, DemonstrationsMetadata, EpisodeSignals, NoiseStreams, ReadDemonstrationsOptions, RecordCounts, RecordExpertOptions, RecordReport } from './data/demonstrations.js';

// On-policy learning (PPO) and its shared parts.
export { PPO } from './ppo/ppo.js';
export type { EpisodeRecord, PPOOptions } from './ppo/ppo.js';
export { PPO_CONFIG } from './ppo/config.js';
export type { PPOConfig } from './ppo/config.js';
export { normalizeAdvantages, ppoLoss, ppoStats } from './ppo/loss.js';
export type { PPOLossInputs, PPOLossSettings, PPOLossTerms } from './ppo/loss.js';
export { PPO_PRESETS } from './ppo/presets.js';
export type { PPOPreset } from './ppo/presets.js';
export { classicVecEnv, trainClassicPPO } from './ppo/classic.js';
export type { ClassicRunOptions, ClassicRunResult } from './ppo/classic.js';
export { DRIVING_POLICY_DEFAULTS, DRIVING_PPO_DEFAULTS, trainDrivingPPO } from './ppo/driving.js';
export type { DrivingPPOOptions, DrivingPPOResult, DrivingValidation, ValidationPoint } from './ppo/driving.js';
export { RolloutBuffer, explainedVariance } from './buffers/rollout-buffer.js';
export type { RolloutBufferOptions, RolloutMinibatch } from './buffers/rollout-buffer.js';
export { RunningMeanStd, VEC_NORMALIZE_DEFAULTS, VecNormalize } from './common/running-norm.js';
export type { VecNormalizeOptions, VecNormalizeState } from './common/running-norm.js';
export { CURRICULUM_STAGE, TrafficCurriculum } from './common/curriculum.js';
export type { CurriculumStage, CurriculumState, DensityTarget } from './common/curriculum.js';
export { emit, stopOnReward } from './common/callbacks.js';
export type { Callback, MetricSink, TrainEvent } from './common/callbacks.js';
export { GradientAccumulator, accumulateGrads, applyGradients, lossAndGrads, microBatches } from './common/grads.js';
export type { LossAndGrads, MicroBatch } from './common/grads.js';
// Run machinery shared by the epoch-based learners: position and seeded shuffling, checkpoint folders, run state.
export { EpochLoop, batchRows, initialPosition, openEpoch, stepsPerEpoch } from './common/epoch-loop.js';
export type { EpochLoopHooks, EpochPosition, EpochStep } from './common/epoch-loop.js';
export { CheckpointDirs } from './common/checkpoints.js';
export type { CheckpointDirsOptions, RankedCheckpoint } from './common/checkpoints.js';
export { assertResumable, checkRunFormat, configDifferences, difference, readRunState, writeRunState } from './common/run-state.js';
export type { ConfigDifference } from './common/run-state.js';
export { boxBounds, spaceWidth } from './common/vec-env.js';
export type { SpaceLike, VecEnvLike, VecStepLike } from './common/vec-env.js';

// Behaviour cloning and policy evaluation.
export { BCTrainer, actorVariables, bcLearningRate, splitByEpisode } from './bc/trainer.js';
export type { BCData, BCEpochLog, BCSplit, BCTrainResult, BCTrainerOptions, BCValidation } from './bc/trainer.js';
export { BC_CONFIG } from './bc/config.js';
export type { BCConfig } from './bc/config.js';
export { bcLoss, bceWithLogits, smoothL1 } from './bc/loss.js';
export type { BCLossSettings, BCLossTerms } from './bc/loss.js';
export { EVAL_METRICS, evaluatePolicy } from './common/evaluate.js';
export type { EvalMetric, EvalStepEvent, EvaluateOptions, EvaluationResult, Spread } from './common/evaluate.js';

// DiffGRPO (ReCogDrive's RL stage) on the diffusion planner.
export { DiffGRPOTrainer, GRPO_RUN_FORMAT, disposeGroupBatch } from './grpo/trainer.js';
export type { GroupBatch, GRPOStepResult, GRPOTrainerOptions } from './grpo/trainer.js';
export { GRPO_TRAIN_CONFIG, GRPO_TRAIN_DEFAULTS } from './grpo/config.js';
export type { GRPOTrainConfig } from './grpo/config.js';
export { TRAINING_PROGRESS_WEIGHT, inProcessPDMReward, pdmRewardOptions, poolPDMReward, trainingWeights } from './grpo/reward.js';
export type { PDMRewardOptions, RewardFn, RewardResult } from './grpo/reward.js';
export { checkPlannerConfig, configDifference, frozenCopy, loadPlanner, weightsSha256 } from './grpo/reference.js';
export { DEFAULT_GRPO_OPTIONS, denoisingDiscount, diffGRPOLoss, groupAdvantages, plannerGRPOLoss, quantile, weightedAdvantages } from './grpo/loss.js';
export type { GroupAdvantages, GRPOBatch, GRPOLossInputs, GRPOLossOutput, GRPOOptions } from './grpo/loss.js';
// Adversarial imitation (GAIL) on PPO's parts.
export { GAIL, GAIL_CONFIG } from './gail/gail.js';
export type { ExpertPairs, GAILConfig } from './gail/gail.js';
export { discriminatorLoss, discriminatorStats, gailReward, softplus } from './gail/loss.js';
export type { DiscriminatorStats } from './gail/loss.js';
export { NO_SHAPING, drivingShaping, lateralOffsetFromObs } from './gail/shaping.js';
export type { DrivingShapingWeights } from './gail/shaping.js';
export type { ShapingFn } from './ppo/ppo.js';

/** @deprecated Names before the acronym casing (IL, PDM, DDIM, PPO, GRPO); they remain as aliases. */
export { DiffGrpoTrainer } from './grpo/trainer.js';
export { inProcessPdmReward, poolPdmReward } from './grpo/reward.js';
export { diffGrpoLoss } from './grpo/loss.js';
export type { GrpoStepResult, GrpoTrainerOptions } from './grpo/trainer.js';
export type { GrpoTrainConfig } from './grpo/config.js';
export type { PdmRewardOptions } from './grpo/reward.js';
export type { GrpoBatch, GrpoLossInputs, GrpoLossOutput, GrpoOptions } from './grpo/loss.js';
