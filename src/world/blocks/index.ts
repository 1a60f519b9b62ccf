// Block registry: MetaDrive PG block types with their default ("v2") sampling probabilities.
import type { BlockId, BlockType } from './block.js';
import { Curve, Straight } from './simple.js';
import { InRamp, OutRamp } from './ramp.js';
import { Intersection, TIntersection } from './intersection.js';
import { Roundabout } from './roundabout.js';

// The block builders (MetaDrive's PG blocks) and their dimensions.
export { BlockBuilder } from './block.js';
export type { BlockId, BlockParams, BlockType, DraftRoad, Socket, TaperInfo } from './block.js';
export { buildFirstBlock, Curve, ENTRANCE_LENGTH, FIRST_BLOCK_NODES, Straight } from './simple.js';
export { IN_RAMP_EXTRA_PART, IN_RAMP_SOCKET_LEN, InRamp, OUT_RAMP_EXTRA_LEN, OutRamp, RAMP_ANGLE_DEG, RAMP_CONNECT_PART_LEN, RAMP_LEN, RAMP_RADIUS, RAMP_SPEED_LIMIT, rampLateralDistance, rampLongitudinalLength } from './ramp.js';
export { Intersection, INTERSECTION_EXIT_LENGTH, INTERSECTION_RADIUS, socketEntry, TIntersection } from './intersection.js';
export type { JunctionMeta } from './intersection.js';
export { Roundabout, ROUNDABOUT_ANGLE_DEG, ROUNDABOUT_EXIT_LENGTH } from './roundabout.js';
export type { RoundaboutMeta } from './roundabout.js';

/** Block types a map string may use, by MetaDrive ID. */
export const BLOCK_TYPES: Readonly<Record<Exclude<BlockId, 'I'>, BlockType>> = {
  C: Curve,
  S: Straight,
  r: InRamp,
  R: OutRamp,
  X: Intersection,
  T: TIntersection,
  O: Roundabout,
};

/** MetaDrive `PGBlockDistConfig` v2 probabilities (they sum to 1). */
export const BLOCK_PROBABILITIES_V2: Readonly<Record<Exclude<BlockId, 'I'>, number>> = {
  C: 0.3,
  S: 0.1,
  r: 0.1,
  R: 0.1,
  X: 0.15,
  T: 0.15,
  O: 0.1,
};
