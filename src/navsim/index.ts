// Public surface of drivekit/navsim.
export {};
export * from './types.js';
export * from './scene-json.js';
export * from './interpolate.js';
export * from './lqr.js';
export * from './bicycle.js';
export * from './simulate.js';
export * from './savgol.js';
export * from './comfort.js';
export * from './observation.js';
export * from './map.js';
export * from './scorer.js';
