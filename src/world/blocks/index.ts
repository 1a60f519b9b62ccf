// Block registry: MetaDrive PG block types with their default ("v2") sampling probabilities.
import type { BlockId, BlockType } from './block.js';
import { Curve, Straight } from './simple.js';
import { InRamp, OutRamp } from './ramp.js';
import { Intersection, TIntersection } from './intersection.js';
import { Roundabout } from './roundabout.js';

export * from './block.js';
export * from './simple.js';
export * from './ramp.js';
export * from './intersection.js';
export * from './roundabout.js';

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
