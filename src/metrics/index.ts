// Public surface of drivekit/metrics.
export * from './pdm-table.js';
export * from './driving.js';
