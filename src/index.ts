/**
 * drivekit: learning-based driving on TensorFlow.js.
 * The browser-safe core (backend init, RNG, errors, configs, tensors, safetensors bytes) is
 * exported at the top level; the browser-safe modules are namespaces here and subpath exports
 * (`drivekit/navsim`, ...). Nothing under this entry imports a Node built-in: files, workers,
 * logging and progress bars are in `drivekit/node`, the trainers in `drivekit/rl` (both Node-only).
 */
export * from './core/index.js';
export * as geometry from './geometry/index.js';
export * as world from './world/index.js';
export * as env from './env/index.js';
export * as navsim from './navsim/index.js';
export * as models from './models/index.js';
export * as metrics from './metrics/index.js';
export * as viz from './viz/index.js';
