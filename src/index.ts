/**
 * drivekit: learning-based driving on TensorFlow.js.
 * The core (backend init, RNG, checkpoints, Arrow IO, logging) is exported at the top level;
 * every other module is a namespace here and a subpath export (`drivekit/navsim`, ...).
 */
export * from './core/index.js';
export * as geometry from './geometry/index.js';
export * as world from './world/index.js';
export * as env from './env/index.js';
export * as navsim from './navsim/index.js';
export * as models from './models/index.js';
export * as rl from './rl/index.js';
export * as metrics from './metrics/index.js';
export * as viz from './viz/index.js';
