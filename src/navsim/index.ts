// Public surface of drivekit/navsim.
export {};
