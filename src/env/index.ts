// Public surface of drivekit/env: the MetaDrive-style driving environment (config, vehicles, IDM
// traffic, lidar and state observation, reward and termination), the scripted expert and ego
// policies, rollouts, the gymnasium-shaped `Env` API with `SyncVectorEnv`, and the classic control
// examples. Browser-safe (no Node built-ins). Geometry helpers of the simulation are internal.

// Configuration (MetaDrive's names) and the environment.
export { DEFAULT_ENV_CONFIG, DEFAULT_LIDAR_CONFIG, DEFAULT_MAP_CONFIG, ENV_CONFIG, EnvConfigError, LIDAR_CONFIG, MAP_CONFIG, observationSize, resolveEnvConfig } from './config.js';
export type { EnvConfig, EnvConfigInput, LidarConfig, MapConfig } from './config.js';
export { DrivingEnv, MAX_SEED_EXCLUSIVE } from './env.js';
export type { BoxSpace, DrivingEnvOptions, MapSource, ResetInfo, StepInfo, StepResult } from './env.js';

// Maps from world/: the road graph the environment drives on.
export { buildRoadMap } from './road-map.js';
export type { EnvRoad, RoadMap, RoadMapSpec, TrafficBlock } from './road-map.js';
export { generateWorldPGMap, pgMapOf, roadMapFromPGMap, worldMapSource } from './world-adapter.js';

// Vehicles, traffic, navigation, observation and reward.
export { boxCorners, boxesOverlap, MAX_STEERING_OBS, randomTrafficModel, TRAFFIC_TYPE_PROBS, Vehicle, VEHICLE_TYPES } from './vehicle.js';
export type { VehicleModel, VehicleParams } from './vehicle.js';
export { IDM, IDMPolicy, PIDController } from './idm.js';
export type { FrontBack, RoadChooser, SceneObject } from './idm.js';
export { TrafficManager, TrafficVehicle } from './traffic.js';
export { Navigation } from './navigation.js';
export type { NavigationCommand } from './navigation.js';
export { castLidar } from './lidar.js';
export { EGO_STATE_DIM, LATERAL_RANGE, MAX_LANE_WIDTH, NAVI_DIM, STATE_FEATURE_NAMES } from './observation.js';
export { denseReward, episodeDone, NO_EVENTS, stepCost, stepReward } from './reward.js';
export type { LineContacts, StepEvents } from './reward.js';

// The scripted expert and ego policies.
export { DEFAULT_EXPERT_OPTIONS, ExpertPolicy } from './expert.js';
export type { ExpertOptions } from './expert.js';
export { DEFAULT_PLANNER_OPTIONS, InteractionPlanner } from './expert-planner.js';
export type { PlanDebug, PlannerOptions } from './expert-planner.js';
export { ConstantPolicy, ExpertEgoPolicy, IdmEgoPolicy, makePolicy, POLICY_NAMES, RandomPolicy } from './policies.js';
export type { EgoPolicy, PolicyByName, PolicyName } from './policies.js';

// Rollouts and driving summaries.
export { DrivingSummaryAccumulator, EpisodeAccumulator, rollout, runEpisode } from './rollout.js';
export type { RolloutOptions, RolloutResult } from './rollout.js';

// The gymnasium-shaped API: spaces, `makeEnv`, vector environments, classic control.
export { boxAction, boxBound, CLASSIC_ENV_IDS, clipToBox, discreteAction, flatDim, makeEnv, seedStream } from './spaces.js';
export type { BoxSpaceLike, ClassicEnvId, DiscreteSpace, Env, EnvStepResult, MakeEnvOptions, ResetResult, Space } from './spaces.js';
export { VectorEnv } from './vector-env.js';
export type { VectorEnvOptions, VectorStepResult } from './vector-env.js';
export { SyncVectorEnv } from './sync-vector-env.js';
export type { EpisodeStats, SyncVectorEnvOptions, SyncVectorEnvState, SyncVectorStepResult } from './sync-vector-env.js';
export { angleNormalize, CARTPOLE, CartPoleEnv, PENDULUM, PendulumEnv } from './classic/index.js';
export type { CartPoleOptions, CartPoleState, PendulumOptions, PendulumState } from './classic/index.js';
