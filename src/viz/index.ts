// Public surface of drivekit/viz.
export * from './svg.js';
export * from './map-svg.js';
export * from './png.js';
export * from './env-svg.js';
export * from './plot.js';
export * from './notebook.js';
export * from './svg-overlays.js';
export * from './navsim-svg.js';
export * from './vega.js';
export * from './animate.js';
