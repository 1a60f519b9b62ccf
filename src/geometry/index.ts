// Public surface of drivekit/geometry.
export {};
