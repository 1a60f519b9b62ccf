// Public surface of drivekit/metrics: NAVSIM's PDMS / EPDMS tables and driving metrics. Browser-safe.

// PDM score tables (NAVSIM's aggregation and column names).
export { EPDMS_V2_KEYS, formatPDMTable, METRIC_ABBREVIATIONS, PDMS_V1_KEYS, pdmTable, pdmTableToJSON } from './pdm-table.js';
export type { PDMColumn, PDMSceneResult, PDMTable, PDMTableVersion } from './pdm-table.js';

// Driving metrics (success, crash, out-of-road, route completion, steering jerk).
export { outcomeOf, steeringJerk, summarizeDriving } from './driving.js';
export type { DrivingSummary, EpisodeOutcome } from './driving.js';

// Trajectory errors (L1, ADE, FDE) for any horizon.
export { TrajectoryErrors, trajectoryErrors } from './trajectory.js';
export type { TrajectoryErrorOptions, TrajectoryErrorResult } from './trajectory.js';

/** @deprecated Names before the acronym casing (IL, PDM, DDIM, PPO, GRPO); they remain as aliases. */
export { formatPdmTable } from './pdm-table.js';
export type { PdmColumn, PdmSceneResult, PdmTable, PdmTableVersion } from './pdm-table.js';
