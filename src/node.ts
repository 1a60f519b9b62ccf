// Public surface of drivekit/node: everything that needs Node (the file system, worker threads, a
// terminal) beside the browser-safe entries. Files are written atomically; datasets are Arrow IPC;
// checkpoints are safetensors + JSON. `drivekit/rl` (the trainers, which write run folders) and
// the `drivekit` command are Node-only as well.

// Files: atomic writes and folder swaps.
export { DIR_COMPLETE_MARKER, recoverDir, tempPathFor, withAtomicFile, writeDirAtomic, writeFileAtomic, writeFileAtomicSync } from './core/atomic.js';
export type { DirWriteStep, RecoverDirOptions, RecoverDirResult, WriteDirOptions } from './core/atomic.js';

// safetensors files and checkpoints (weights + JSON config), state dicts from a path.
export { readSafetensors, readSafetensorsSync, SafetensorsReader, writeSafetensors, writeSafetensorsSync } from './core/safetensors.js';
export type { SafeTensorInfo } from './core/safetensors.js';
export { checkpointPaths, loadCheckpoint, loadStateDictInto, saveCheckpoint } from './core/checkpoint.js';
export type { Checkpoint, CheckpointPaths, LoadedCheckpoint } from './core/checkpoint.js';
export { loadPlannerCheckpoint, plannerCheckpointConfig, resolvePlannerCheckpoint, savePlannerCheckpoint } from './models/planner-checkpoint.js';
export type { LoadPlannerOptions, ResolvedPlannerCheckpoint } from './models/planner-checkpoint.js';

// Arrow IPC datasets.
export { ArrowFileReader, ArrowFileWriter, col, INTEGRITY_KEY, makeRecordBatch, readArrowFile, SHAPE_KEY, tableSchemaOf, toArrowSchema, writeArrowFile } from './core/arrow.js';
export type { ArrowWriterOptions, BatchInput, BatchValues, ColumnInput, ColumnType, ColumnValues, TableSchema } from './core/arrow.js';

// Logging (stdout, JSONL and CSV sinks) and progress bars.
export { ConsoleSink, createLogger, CsvSink, formatLogValue, JsonlSink, Logger, readJsonl, validateKey } from './core/logger.js';
export type { LogFormat, LogRecord, LogSink, LogValue } from './core/logger.js';
export { Progress, progress } from './core/progress.js';
export type { ProgressEvent, ProgressMode, ProgressOptions } from './core/progress.js';

// NAVSIM scene files, Arrow scene datasets, the metric cache and the worker pools.
export { parseSceneJsonBytes, readSceneFile } from './navsim/scene-file.js';
export { readScenesArrow, SCENES_ARROW_COLUMNS, SCENES_ARROW_LAYOUT, scenesFromArrowTable, scenesToArrowTable, sceneToJson, writeScenesArrow } from './navsim/arrow-scenes.js';
export { buildMetricCache, METRIC_CACHE_FORMAT, METRIC_NAMES, MetricCache, MetricCacheWriter, openMetricCache, PDM_VERSIONS, scoreCachedScene, seedScenes, verifyMetricCache, writeMetricCache } from './navsim/metric-cache.js';
export type { BuildMetricCacheOptions, CachedScene, CachedScoreOptions, MetricCacheManifest, MetricCacheMismatch, MetricCacheShard, MetricCacheSource, OpenMetricCacheOptions, ProposalScoreResult, VerifyMetricCacheOptions, VerifyMetricCacheReport, WrittenShard } from './navsim/metric-cache.js';
export { closeSharedScenePools, ScenePool, sharedScenePool } from './navsim/pool.js';
export type { PoolSceneResult, PoolScoreOptions, ScenePoolOptions } from './navsim/pool.js';
export { buildSeedMetricCache, lastWaypointReverses, ProposalScorePool, REVERSING_TOLERANCE_M, reversingFraction } from './navsim/score-pool.js';
export type { PoolScoreCallOptions, ProposalBatchItem, ProposalScorePoolOptions } from './navsim/score-pool.js';

// Pictures: PNG export and notebook display.
export { svgToPng, writePng, writeSvg } from './viz/png.js';
export type { PngOptions } from './viz/png.js';
export { display, inNotebook } from './viz/notebook.js';
export type { Displayable } from './viz/notebook.js';
export { showChart, writeChart } from './viz/vega-node.js';
export type { WriteChartOptions } from './viz/vega-node.js';

// NAVSIM's own metric caches (v1.1 pickles: xz + a restricted unpickler), read into scenes.
export * from './navsim/nuplan-cache/index.js';

// The driving env's vector stepped by worker threads (PPO / GAIL rollouts, `env train-ppo --workers N`).
export { WorkerVectorEnv } from './env/worker-vector-env.js';
export type { WorkerVectorEnvOptions, WorkerVectorEnvStats } from './env/worker-vector-env.js';
