// Public surface of drivekit/world: roads, lanes, routes, procedural maps. No tfjs here.
export * from './lane.js';
