// Public surface of drivekit/env.
export {};
