// Public surface of drivekit/world: roads, lanes, routes, procedural maps. No tfjs here.
export * from './lane.js';
export * from './network.js';
export * from './construct.js';
export * from './blocks/index.js';
export * from './generator.js';
export * from './polygons.js';
export * from './serialize.js';
