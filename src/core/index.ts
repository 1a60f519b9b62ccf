export * from './backend.js';
export * from './rng.js';
export { VERSION } from './version.js';
export * from './testing.js';
export * from './atomic.js';
export * from './safetensors.js';
export * from './checkpoint.js';
export * from './arrow.js';
