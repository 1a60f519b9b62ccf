// Public surface of drivekit/metrics.
export {};
