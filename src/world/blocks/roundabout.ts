/**
 * Roundabout (O), after MetaDrive's `roundabout.py`: four arms; per quarter an entry bend
 * (radius `exit_radius` U[5, 15] m, 60 deg, right turn), a ring segment (radius
 * (2n-1)*w + `inner_radius` U[15, 45] m, 30 deg, left), an exit bend (60 deg) into a 35 m exit
 * road (arms 0-2 carry sockets), and the ring segment to the next quarter (radius
 * (2n-1)*w + exit_radius, 60 deg). The ring is one-way (counter-clockwise).
 */
import type { Rng } from '../../core/rng.js';
import { bendStraight, straightDraft } from '../construct.js';
import { DEG2RAD } from '../../geometry/angle.js';
import type { Lane } from '../lane.js';
import type { RoadRef } from '../network.js';
import type { BlockBuilder, BlockParams, BlockType } from './block.js';

export const ROUNDABOUT_ANGLE_DEG = 60;
export const ROUNDABOUT_EXIT_LENGTH = 35;

export interface RoundaboutMeta {
  /** Per quarter: entry bend, ring segment 1, exit bend, ring segment to the next quarter. */
  quarters: { entry: RoadRef; ring1: RoadRef; exit: RoadRef; ring2: RoadRef }[];
}

function tool(lane: Lane, back: number): Lane {
  const a = lane.position(-back, 0);
  const b = lane.position(0, 0);
  return straightDraft([a[0]!, a[1]!], [b[0]!, b[1]!], lane.width, ['none', 'none']);
}

export const Roundabout: BlockType = {
  id: 'O',
  socketNum: 3,
  sampleParams: (rng: Rng): BlockParams => ({
    exit_radius: rng.uniform(5, 15),
    inner_radius: rng.uniform(15, 45),
    angle: ROUNDABOUT_ANGLE_DEG,
  }),
  build(b: BlockBuilder, p: BlockParams): boolean {
    const pre = b.preSocket!;
    const n = b.preLanes().length;
    const w = b.laneWidth;
    const rExit = p.exit_radius!;
    const angle = p.angle!;
    const radiusBig = (2 * n - 1) * w + p.inner_radius!;
    const meta: RoundaboutMeta = { quarters: [] };
    let ok = true;
    let attach: RoadRef = pre.positive;
    for (let part = 0; part < 4; part++) {
      const lanes = b.lanesOf(attach);
      const right = lanes[lanes.length - 1]!;
      // Entry bend.
      const entry = { from: attach.to, to: b.node(part, 0) };
      const [bend0, straight0] = bendStraight(right, 10, rExit, angle * DEG2RAD, true, w, ['broken', 'side']);
      ok = b.createRoad(bend0, n, entry, { kind: 'junction' }) && ok;
      b.lanesOf(entry).forEach((_, k) => b.setLineTypes(entry, k, k === n - 1 ? ['none', 'side'] : ['none', 'none']));
      // Ring segment toward this quarter's exit.
      const [bend1, straight1] = bendStraight(tool(straight0, 5), 10, radiusBig, (2 * angle - 90) * DEG2RAD, false, w, ['broken', 'side']);
      const ring1 = { from: entry.to, to: b.node(part, 1) };
      ok = b.createRoad(bend1, n, ring1, { kind: 'ring' }) && ok;
      // Exit bend and exit road.
      const [bend2, exitStraight] = bendStraight(tool(straight1, 5), ROUNDABOUT_EXIT_LENGTH, rExit, angle * DEG2RAD, true, w, ['broken', 'side']);
      const exitBend = { from: ring1.to, to: part < 3 ? b.node(part, 2) : pre.negative.from };
      ok = b.createRoad(bend2, n, exitBend, { kind: 'junction' }) && ok;
      b.lanesOf(exitBend).forEach((_, k) => b.setLineTypes(exitBend, k, k === n - 1 ? ['none', 'side'] : ['none', 'none']));
      if (part < 3) {
        const exitRoad = { from: exitBend.to, to: b.node(part, 3) };
        ok = b.createRoad(exitStraight, n, exitRoad) && ok;
        ok = b.createAdverseRoad(exitRoad) && ok;
        const socket = b.addSocket(exitRoad);
        attach = socket.negative;
      }
      // Ring segment to the next quarter (not checked, as in MetaDrive).
      const ring2 = { from: ring1.to, to: b.node((part + 1) % 4, 0) };
      const beneath = ((2 * n - 1) * w) / 2 + rExit;
      const radiusSeg = beneath / Math.cos(angle * DEG2RAD) - rExit;
      const [bend3] = bendStraight(tool(straight1, 6), 5, radiusSeg, (180 - 2 * angle) * DEG2RAD, false, w, ['broken', 'side']);
      b.createRoad(bend3, n, ring2, { kind: 'ring', check: false });
      b.lanesOf(ring2).forEach((_, k) =>
        b.setLineTypes(ring2, k, k === 0 ? (n > 1 ? ['continuous', 'broken'] : ['continuous', 'none']) : ['broken', 'broken']),
      );
      meta.quarters.push({ entry, ring1, exit: exitBend, ring2 });
    }
    for (const s of b.sockets) b.spawnRoads.push(s.negative);
    b.meta.roundabout = meta;
    return ok;
  },
};
