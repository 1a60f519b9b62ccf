// Public surface of drivekit/rl.
export {};
