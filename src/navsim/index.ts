// Public surface of drivekit/navsim: NAVSIM scenes, the PDM score (PDMS v1.1, EPDMS v2.2) and the
// PDM-Closed reference planner, scene generation and scene tokens. Browser-safe: nothing here
// reads files or starts workers; scene files, Arrow scene datasets, the metric cache and the worker
// pools are in `drivekit/node`. Building blocks not listed here (numpy/scipy ports, the LQR and
// Savitzky-Golay internals, the scorer's workspaces) are internal.

// Scenes: the schema (pdm_ref_scene v1/v2) and its parser.
export { AGENT_TYPES_DYNAMIC, NavsimInputError, NUM_POSES, NUM_STATES, PACIFICA, STATE_FIELDS, STATE_SIZE, StateIndex } from './types.js';
export type { AgentState, AgentTrack, AgentType, ComfortDetail, EgoAreas, EgoState, HistoryState, MapArea, MapAreaType, MapLane, MapLaneType, PDMScene, PDMVersion, PDMWeights, PoseTrajectory, PreviousFrame, ProposalScores, SceneMap, SceneSchema } from './types.js';
export { MAX_ABS_SCENE_VALUE, MAX_PREVIOUS_FRAME_DEPTH, parseScene } from './scene-json.js';

// Scoring a scene: PDMS / EPDMS of trajectories against PDM-Closed.
export { defaultVersion, pdmClosedFor, scoreParsedScene, scoreScene, scoreSceneJson } from './scoring.js';
export type { SceneScore, ScoreSceneOptions } from './scoring.js';
export { defaultWeights, prepareScene, scoreProposals, scoreProposalsDetailed, SCORER_THRESHOLDS, toGoldenMetrics } from './scorer.js';
export type { BatchMetrics, EPDMSMetrics, PDMMetricsOf, PDMSMetrics, PreparedScene, ScoredProposals, ScoreOptions, Trajectory } from './scorer.js';

// The simulation under the score: interpolation, LQR tracking, kinematic bicycle, comfort, map and observation.
export { interpolateStates, referenceStatesFromPoses, referenceStatesFromStateTrajectory, relativeToAbsolute } from './interpolate.js';
export { DEFAULT_LQR_CONFIG } from './lqr.js';
export type { LqrConfig } from './lqr.js';
export { DEFAULT_BICYCLE_CONFIG, propagateState, SIMULATION_DT } from './bicycle.js';
export type { BicycleConfig } from './bicycle.js';
export { simulateProposals } from './simulate.js';
export { COMFORT_BOUNDS, comfortChecks, EC_THRESHOLDS, extendedComfort } from './comfort.js';
export type { ExtendedComfortResult } from './comfort.js';
export { buildDrivableMap, Centerline, DrivableMap } from './map.js';
export type { DrivableLayer } from './map.js';
export { buildObservation } from './observation.js';
export type { ObservationOptions, ObservedObject, PDMObservation } from './observation.js';

// PDM-Closed: the rule-based reference planner (IDM proposals along the centre line, scored).
export { DEFAULT_PDM_CLOSED, pdmClosedStates, runPDMClosed, runPDMClosedOnScene } from './pdm-closed.js';
export type { PDMClosedConfig, PDMClosedInput, PDMClosedLane, PDMClosedResult } from './pdm-closed.js';
export { DEFAULT_GENERATOR, DEFAULT_IDM_POLICY } from './pdm-closed-idm.js';
export type { IdmPolicyConfig, ProposalGeneratorConfig } from './pdm-closed-idm.js';
export { pdmClosedInputFromScene } from './pdm-closed-input.js';

// Scene generation from world/ maps and IDM traffic.
export { DEFAULT_SCENEGEN, DRIVING_COMMANDS, drivingCommand, generateScene, resolveSceneGenOptions, SCENEGEN_CONFIG, SCENEGEN_IDM_CONFIG } from './scenegen.js';
export type { DrivingCommand, GeneratedScene, SceneGenOptions } from './scenegen.js';
export { LanePath } from './scenegen-path.js';
export { DEFAULT_IDM, type IdmParams } from './scenegen-traffic.js';

// Scene tokens (the planner's conditioning without a VLM) and the seed splits.
export { MAX_ROUTE_TOKENS, ROUTE_CHUNK_M, SCENE_TOKEN_WIDTH, sceneCommand, sceneTokens, tokenProjection } from './scene-tokens.js';
export type { SceneTokenOptions } from './scene-tokens.js';
export { humanAtJunction, leadAgent, leadBrakes, NAVSIM_SPLITS, parseSeedRange, sceneStats, splitOfSeed, splitRange } from './splits.js';
export type { SceneInfo, SeedRange, SplitName, SplitStats } from './splits.js';

// NAVSIM's ego-status MLP baseline (plain JS; a JSON checkpoint).
export { EGO_MLP_CONFIG, EGO_MLP_FORMAT, EGO_MLP_IN, EGO_MLP_OUT, EgoStatusMlp } from './ego-mlp.js';
export type { EgoMlpConfig } from './ego-mlp.js';

/** @deprecated Names before the acronym casing (IL, PDM, DDIM, PPO, GRPO); they remain as aliases. */
export { runPdmClosed, runPdmClosedOnScene } from './pdm-closed.js';
export type { PdmScene, PdmVersion, PdmWeights } from './types.js';
export type { EpdmsMetrics, PdmMetricsOf, PdmsMetrics } from './scorer.js';
export type { PdmObservation } from './observation.js';
export type { PdmClosedConfig, PdmClosedInput, PdmClosedLane, PdmClosedResult } from './pdm-closed.js';
