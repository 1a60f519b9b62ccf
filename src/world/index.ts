// Public surface of drivekit/world: roads, lanes, routes, procedural maps. No tfjs here; browser-safe.
// The block builders' construction helpers and constants are internal.

// Lanes and the road network.
export { laneKey, lanePolygon, makeCircularLane, makeStraightLane, sampleLane } from './lane.js';
export type { CircularLane, Lane, LaneId, LaneOptions, LineType, LocalCoords, StraightLane } from './lane.js';
export { isNegativeRoad, laneBounds, negateNode, negateRoad, NEGATIVE_PREFIX, roadKey, RoadNetwork } from './network.js';
export type { Road, RoadKind, RoadRef } from './network.js';

// MetaDrive's procedural generator: block types and maps.
export { BLOCK_PROBABILITIES_V2, BLOCK_TYPES, BlockBuilder, Curve, InRamp, Intersection, OutRamp, Roundabout, Straight, TIntersection } from './blocks/index.js';
export type { BlockId, BlockParams, BlockType, JunctionMeta, RoundaboutMeta, Socket } from './blocks/index.js';
export { DEFAULT_MAP_CONFIG, generateMap, MAX_LANE_NUM, MAX_LANE_WIDTH, MIN_LANE_NUM, MIN_LANE_WIDTH, mixSeed, resolveMapConfig } from './generator.js';
export type { MapBlock, MapConfig, PGMap } from './generator.js';

// Polygons and lines for drawing and scoring, and JSON.
export { intersectionPolygons, laneConnectors, lanePolygons, laneSurface, mapLines, roadblockPolygons, roadPolygon, SIDEWALK_GAP, sidewalkPolygons } from './polygons.js';
export type { LineColor, MapLine, PolygonWithHoles } from './polygons.js';
export { laneToJSON, mapToJSON } from './serialize.js';
export type { LaneJSON, MapJSON } from './serialize.js';
