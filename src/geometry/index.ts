// Public surface of drivekit/geometry: typed arrays and plain numbers, no tensors.
export * from './angle.js';
