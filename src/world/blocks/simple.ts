/**
 * The first block (I), Straight (S) and Curve (C), after MetaDrive's `first_block.py`,
 * `straight.py` and `curve.py`.
 */
import type { Rng } from '../../core/rng.js';
import { bendStraight, extendStraight, straightDraft } from '../construct.js';
import { DEG2RAD } from '../../geometry/angle.js';
import type { BlockBuilder, BlockParams, BlockType } from './block.js';

/** MetaDrive FirstPGBlock: spawn road `>`->`>>` (10 m) and `>>`->`>>>` (exit_length - 10 m). */
export const FIRST_BLOCK_NODES = ['>', '>>', '>>>'] as const;
export const ENTRANCE_LENGTH = 10;

/**
 * Builds the first block. Lane 0 of the spawn road starts at `start` (MetaDrive start_position,
 * (0, 0) by default) heading +x; the other lanes lie to its right (-y); the centre line is at
 * y = start.y + width / 2.
 */
export function buildFirstBlock(b: BlockBuilder, exitLength: number, start: readonly [number, number] = [0, 0]): void {
  if (!(exitLength > ENTRANCE_LENGTH)) {
    throw new Error(`map exit_length must be > ${ENTRANCE_LENGTH} (the entrance length), found ${exitLength}.`);
  }
  const w = b.laneWidth;
  const y = start[1] - w * (b.laneNum - 1);
  const basic = straightDraft([start[0], y], [start[0] + ENTRANCE_LENGTH, y], w, ['broken', 'side']);
  const [n1, n2, n3] = FIRST_BLOCK_NODES;
  const spawnRoad = { from: n1, to: n2 };
  b.createRoad(basic, b.laneNum, spawnRoad, { check: false });
  b.createAdverseRoad(spawnRoad);
  const next = extendStraight(basic, exitLength - ENTRANCE_LENGTH, ['broken', 'side']);
  const road2 = { from: n2, to: n3 };
  b.createRoad(next, b.laneNum, road2, { check: false });
  b.createAdverseRoad(road2);
  b.addSocket(road2);
}

function basicLane(b: BlockBuilder) {
  const lanes = b.preLanes();
  return { basic: lanes[lanes.length - 1]!, n: lanes.length, start: b.preSocket!.positive.to };
}

/** Straight (S): one straight road of U[40, 80] m. */
export const Straight: BlockType = {
  id: 'S',
  socketNum: 1,
  sampleParams: (rng: Rng): BlockParams => ({ length: rng.uniform(40, 80) }),
  build(b: BlockBuilder, p: BlockParams): boolean {
    const { basic, n, start } = basicLane(b);
    const lane = extendStraight(basic, p.length!, ['broken', 'side']);
    const road = { from: start, to: b.node(0, 0) };
    let ok = b.createRoad(lane, n, road);
    ok = b.createAdverseRoad(road) && ok;
    b.addSocket(road);
    return ok;
  },
};

/**
 * Curve (C): an arc (radius U[25, 60] m of the rightmost lane, angle U[45, 135] deg, dir 1 =
 * clockwise / right turn) followed by a straight of U[40, 80] m.
 */
export const Curve: BlockType = {
  id: 'C',
  socketNum: 1,
  sampleParams: (rng: Rng): BlockParams => ({
    length: rng.uniform(40, 80),
    radius: rng.uniform(25, 60),
    angle: rng.uniform(45, 135),
    dir: rng.int(0, 2),
  }),
  build(b: BlockBuilder, p: BlockParams): boolean {
    const { basic, n, start } = basicLane(b);
    const w = b.laneWidth;
    const [curve, straight] = bendStraight(basic, p.length!, p.radius!, p.angle! * DEG2RAD, p.dir === 1, w, ['broken', 'side']);
    const road1 = { from: start, to: b.node(0, 0) };
    let ok = b.createRoad(curve, n, road1);
    ok = b.createAdverseRoad(road1) && ok;
    const road2 = { from: road1.to, to: b.node(0, 1) };
    ok = b.createRoad(straight, n, road2) && ok;
    ok = b.createAdverseRoad(road2) && ok;
    b.addSocket(road2);
    return ok;
  },
};
