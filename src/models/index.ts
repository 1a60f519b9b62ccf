// Public surface of drivekit/models.
export {};
