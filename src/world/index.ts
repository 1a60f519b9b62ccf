// Public surface of drivekit/world.
export {};
