// Public surface of drivekit/geometry: typed arrays and plain numbers, no tensors.
export * from './angle.js';
export * from './polyline.js';
export * from './spatial.js';
export * from './ray.js';
export * from './polygon.js';
export * from './box.js';
