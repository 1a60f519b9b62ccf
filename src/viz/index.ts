// Public surface of drivekit/viz.
export {};
