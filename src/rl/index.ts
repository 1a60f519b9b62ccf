// Public surface of drivekit/rl.
export {};
export { ADAMW_DEFAULTS, AdamW, clipCoefficient, clipGradNorm, globalNorm } from './optim.js';
export type { AdamWConfig, AdamWOptions, AdamWState, ClipResult, NamedArray, NamedVariables } from './optim.js';
export { RECOGDRIVE_IL_SCHEDULE, WarmupCosineSchedule } from './schedules.js';
export type { ScheduleInterval, WarmupCosineConfig } from './schedules.js';
export { Ema } from './ema.js';
export type { EmaOptions, EmaState } from './ema.js';
export { InMemoryIlData, IlDataRange, makeSyntheticRows, selectRows, validateRows } from './il-data.js';
export type { IlDataSource, IlRows, SyntheticOptions } from './il-data.js';
export { CACHE_FORMAT, HiddenStateCache, HiddenStateCacheWriter, concatRows, hiddenStateSchema, writeHiddenStateCache, writeSyntheticCache } from './hidden-state-cache.js';
export type { CacheExpectation, CacheWriterOptions } from './hidden-state-cache.js';
export { IL_TRAIN_DEFAULTS, IlTrainer, accumulateGrads, applyIlGradients, disposeBatch, ilLossAndGrads, ilTrainStep, resolveIlConfig, rowsToBatch, validateIl } from './il-trainer.js';
export type { BestEntry, IlEvent, IlModel, IlStepOptions, IlStepResult, IlTensorBatch, IlTrainConfig, IlTrainOptions, IlTrainResult, IlTrainerOptions, IlTrainerState, MetricSink, ValidationResult } from './il-trainer.js';
export { plannerForIl } from './il-planner.js';
export type { PlannerIlOptions } from './il-planner.js';
export * from './scene-dataset.js';
export { DEFAULT_DEMO_CLEANING, DEMONSTRATIONS_FORMAT, NO_DEMO_CLEANING, cleanEpisode, demonstrationsSchema, episodeRanges, readDemonstrations, recordExpertDemonstrations, resolveDemoCleaning } from './data/demonstrations.js';
export type { CleaningCounts, DemoCleaning, Demonstrations, DemonstrationsMetadata, EpisodeSignals, ReadDemonstrationsOptions, RecordCounts, RecordExpertOptions, RecordReport } from './data/demonstrations.js';
