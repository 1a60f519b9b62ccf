// Public surface of drivekit/env: the MetaDrive-style environment, traffic, expert and policies.
export * from './config.js';
export * from './vehicle.js';
export * from './lidar.js';
export * from './road-map.js';
export * from './navigation.js';
export * from './observation.js';
export * from './reward.js';
export * from './idm.js';
export * from './traffic.js';
export * from './env.js';
export * from './expert.js';
export * from './expert-planner.js';
export * from './policies.js';
export * from './vector-env.js';
export * from './rollout.js';
export * from './world-adapter.js';
