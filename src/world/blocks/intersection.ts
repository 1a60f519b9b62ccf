/**
 * 4-way intersection (X, MetaDrive StdInterSection) and T-intersection (T, StdTInterSection),
 * after MetaDrive's `intersection.py` / `t_intersection.py` with `change_lane_num = 0`.
 *
 * Arms are numbered as MetaDrive's Goal: 0 = right, 1 = straight, 2 = left, 3 = back (the road
 * we came from). Part i builds the turns entering from arm i-1 (arm 3 for i = 0): a right turn
 * (radius 10 m of the rightmost lane) into arm i, the straight-through lanes
 * (2*10 + (2n-1)*w m) and a left turn (radius 10 + n*w m of lane 0); parts 0-2 also build the
 * 35 m exit road of arm i and its opposite road.
 */
import type { Rng } from '../../core/rng.js';
import { bendStraight, extendStraight, remakeLane } from '../construct.js';
import type { Lane } from '../lane.js';
import { negateRoad, roadKey, type RoadRef } from '../network.js';
import type { BlockBuilder, BlockParams, BlockType, Socket } from './block.js';

export const INTERSECTION_RADIUS = 10;
export const INTERSECTION_EXIT_LENGTH = 35;
const RIGHT_ANGLE = Math.PI / 2;

export interface JunctionMeta {
  /** Arm exit / entry nodes, arms 0..3. */
  exitNodes: string[];
  entryNodes: string[];
  /** Right-turn road of each part (entering from arm (i+3)%4 into arm i); null when removed. */
  rightTurns: (RoadRef | null)[];
  /** T only: the straight road passing the removed arm (its right edge bounds the junction). */
  passing?: RoadRef;
  removedArm?: number;
}

function buildX(b: BlockBuilder): boolean {
  const w = b.laneWidth;
  const pre = b.preSocket!;
  const n = b.preLanes().length;
  const radius = INTERSECTION_RADIUS;
  let ok = true;
  let attachRoad: RoadRef = pre.positive;
  let attachLanes: readonly Lane[] = b.preLanes();
  // Exit nodes in the order right, straight, left, back; rotated by one per part.
  const nodes = [b.node(0, 0), b.node(1, 0), b.node(2, 0), pre.negative.from];
  const exitNodes = [...nodes];
  const entryNodes = [b.node(0, 0), b.node(1, 0), b.node(2, 0)].map((x) => '-' + x).concat([pre.positive.to]);
  const rightTurns: RoadRef[] = [];
  for (let i = 0; i < 4; i++) {
    const entry = attachRoad.to;
    // Left turn from lane 0, lanes added to the right; no lines inside the junction.
    const [leftBend] = bendStraight(attachLanes[0]!, INTERSECTION_EXIT_LENGTH, radius + n * w, RIGHT_ANGLE, false, w, ['none', 'none']);
    b.createRoad(leftBend, n, { from: entry, to: nodes[2]! }, {
      towardSmallerIndex: false, center: 'none', side: 'none', inner: 'none', kind: 'junction', check: false,
    });
    // Straight through.
    const straightLen = 2 * radius + (2 * n - 1) * w;
    const through = attachLanes.map((l) => extendStraight(l, straightLen, ['none', 'none']));
    b.addLanes({ from: entry, to: nodes[1]! }, through, 'junction');
    // Right turn from the rightmost lane; its outer edge is checked against earlier blocks.
    const [rightBend, rightStraight] = bendStraight(attachLanes[n - 1]!, INTERSECTION_EXIT_LENGTH, radius, RIGHT_ANGLE, true, w, ['none', 'side']);
    ok = b.clear(rightBend, 1) && ok;
    const rightRoad = { from: entry, to: nodes[0]! };
    b.createRoad(rightBend, n, rightRoad, { center: 'none', side: 'side', inner: 'none', kind: 'junction', check: false });
    rightTurns.push(rightRoad);
    nodes.push(nodes.shift()!);
    if (i !== 3) {
      const exitRoad = { from: b.node(i, 0), to: b.node(i, 1) };
      ok = b.createRoad(remakeLane(rightStraight, { lineTypes: ['broken', 'side'] }), n, exitRoad) && ok;
      ok = b.createAdverseRoad(exitRoad) && ok;
      const socket = b.addSocket(exitRoad);
      b.spawnRoads.push(socket.negative);
      attachRoad = socket.negative;
      attachLanes = b.lanesOf(attachRoad);
    }
  }
  const meta: JunctionMeta = { exitNodes, entryNodes, rightTurns };
  b.meta.junction = meta;
  return ok;
}

export const Intersection: BlockType = {
  id: 'X',
  socketNum: 3,
  // MetaDrive samples radius (constant 10), change_lane_num and decrease_increase; the "Std"
  // variant forces change_lane_num = 0, so only the draw order matters here.
  sampleParams: (rng: Rng): BlockParams => ({ radius: INTERSECTION_RADIUS, change_lane_num: 0, decrease_increase: rng.int(0, 2) }),
  build: (b: BlockBuilder): boolean => buildX(b),
};

/** Removes arm `t` from a built X (MetaDrive TInterSection._exclude_lanes and _change_vis). */
function excludeArm(b: BlockBuilder, t: number): void {
  const meta = b.meta.junction as JunctionMeta;
  const { exitNodes, entryNodes } = meta;
  for (let i = 0; i < 4; i++) {
    if (i === t) continue;
    b.removeRoad({ from: entryNodes[t]!, to: exitNodes[i]! });
    b.removeRoad({ from: entryNodes[i]!, to: exitNodes[t]! });
  }
  // The straight road passing the removed arm gets road lines: broken separators, a (broken)
  // yellow centre and a road edge on the removed side; the opposite direction draws none of
  // the shared lines.
  const prev = (t + 3) % 4, next = (t + 1) % 4;
  const passing = [
    { from: entryNodes[prev]!, to: exitNodes[next]! },
    { from: entryNodes[next]!, to: exitNodes[prev]! },
  ];
  passing.forEach((road, i) => {
    const lanes = b.lanesOf(road);
    lanes.forEach((lane, k) => {
      const last = k === lanes.length - 1;
      const left = k === 0 && i === 1 ? 'none' : 'broken';
      b.setLane(road, k, remakeLane(lane, { lineTypes: [left, last ? (i === 0 ? 'side' : 'none') : 'broken'] }));
    });
  });
  const socket = b.sockets[t]!;
  b.removeRoad(socket.positive);
  b.removeRoad(socket.negative);
  const si = b.spawnRoads.findIndex((r) => roadKey(r.from, r.to) === roadKey(socket.negative.from, socket.negative.to));
  if (si >= 0) b.spawnRoads.splice(si, 1);
  b.sockets.splice(t, 1);
  meta.rightTurns = meta.rightTurns.map((r, i) => (i === t || i === next ? null : r));
  meta.passing = passing[0]!;
  meta.removedArm = t;
}

export const TIntersection: BlockType = {
  id: 'T',
  socketNum: 2,
  sampleParams: (rng: Rng): BlockParams => ({
    radius: INTERSECTION_RADIUS,
    t_type: rng.int(0, 3),
    change_lane_num: 0,
    decrease_increase: rng.int(0, 2),
  }),
  build(b: BlockBuilder, p: BlockParams): boolean {
    const ok = buildX(b);
    excludeArm(b, p.t_type!);
    return ok;
  },
};

/** The opposite road of a socket's positive road, for callers that only hold the socket. */
export function socketEntry(s: Socket): RoadRef {
  return negateRoad(s.positive);
}
