/**
 * On-ramp (r, InRampOnStraight) and off-ramp (R, OutRampOnStraight), after MetaDrive's
 * `ramp.py` (HEAD: acceleration/deceleration lane `length` U[20, 40] m plus a tapered
 * `extension_length` U[20, 40] m). The taper (MetaDrive ExtensionLane, width changing linearly)
 * is a constant-width lane here, flagged in `BlockBuilder.tapers` and drawn as a triangle.
 */
import type { Rng } from '../../core/rng.js';
import { bendStraight, extendStraight, straightDraft } from '../construct.js';
import { DEG2RAD } from '../../geometry/angle.js';
import type { LineType } from '../lane.js';
import { negateRoad, roadKey } from '../network.js';
import type { BlockBuilder, BlockParams, BlockType } from './block.js';

export const RAMP_RADIUS = 40;
export const RAMP_ANGLE_DEG = 10;
export const RAMP_CONNECT_PART_LEN = 20;
export const RAMP_LEN = 15;
/** Ramp speed limit, m/s (about 40 km/h). */
export const RAMP_SPEED_LIMIT = 12;
export const IN_RAMP_EXTRA_PART = 10;
export const IN_RAMP_SOCKET_LEN = 20;
export const OUT_RAMP_EXTRA_LEN = 15;
const RAMP_LINES: readonly [LineType, LineType] = ['continuous', 'continuous'];

const sampleRampParams = (rng: Rng): BlockParams => ({
  length: rng.uniform(20, 40),
  extension_length: rng.uniform(20, 40),
});

/** Longitudinal extent of the two 10-degree bends, the connector and the ramp straight. */
export function rampLongitudinalLength(): number {
  const a = RAMP_ANGLE_DEG * DEG2RAD;
  return Math.sin(a) * RAMP_RADIUS * 2 + Math.cos(a) * RAMP_CONNECT_PART_LEN + RAMP_LEN;
}

/** Lateral offset of the ramp straight from the lane it merges into. */
export function rampLateralDistance(): number {
  const a = RAMP_ANGLE_DEG * DEG2RAD;
  return (1 - Math.cos(a)) * RAMP_RADIUS * 2 + Math.sin(a) * RAMP_CONNECT_PART_LEN;
}

export const InRamp: BlockType = {
  id: 'r',
  socketNum: 1,
  sampleParams: sampleRampParams,
  build(b: BlockBuilder, p: BlockParams): boolean {
    const pre = b.preLanes();
    const n = pre.length;
    const w = b.laneWidth;
    const basic = pre[n - 1]!;
    const accLen = p.length!;
    const extLen = p.extension_length!;
    const angle = RAMP_ANGLE_DEG * DEG2RAD;
    let ok = true;

    // Part 0: extend road, acceleration road, socket road (all two-way).
    const extendLane = extendStraight(basic, rampLongitudinalLength() + IN_RAMP_EXTRA_PART, ['broken', 'continuous']);
    const extendRoad = { from: b.preSocket!.positive.to, to: b.node(0, 0) };
    ok = b.createRoad(extendLane, n, extendRoad, { side: 'continuous' }) && ok;
    b.setLineTypes(extendRoad, -1, [n !== 1 ? 'broken' : 'continuous', 'continuous']);
    ok = b.createAdverseRoad(extendRoad) && ok;
    b.setLineTypes(negateRoad(extendRoad), -1, [n === 1 ? 'none' : 'broken', 'side']);

    const accSideLane = extendStraight(extendLane, accLen + extLen, ['broken', 'side']);
    const accRoad = { from: extendRoad.to, to: b.node(0, 1) };
    ok = b.createRoad(accSideLane, n, accRoad, { side: 'continuous' }) && ok;
    ok = b.createAdverseRoad(accRoad) && ok;
    b.setLineTypes(accRoad, -1, [n === 1 ? 'continuous' : 'broken', 'broken']);

    const socketLane = extendStraight(accSideLane, IN_RAMP_SOCKET_LEN, ['broken', 'side']);
    const socketRoad = { from: accRoad.to, to: b.node(0, 2) };
    ok = b.createRoad(socketLane, n, socketRoad, { side: 'continuous' }) && ok;
    ok = b.createAdverseRoad(socketRoad) && ok;
    b.addSocket(socketRoad);

    // Part 1: the ramp, from a straight 15 m beside the road, two 10-degree bends, into an
    // acceleration lane to the right of the main road, then the taper.
    const lat = rampLateralDistance() + w;
    const start = extendLane.position(IN_RAMP_EXTRA_PART, lat);
    const end = extendLane.position(IN_RAMP_EXTRA_PART + RAMP_LEN, lat);
    const straightPart = straightDraft([start[0]!, start[1]!], [end[0]!, end[1]!], w, RAMP_LINES, RAMP_SPEED_LIMIT);
    const straightRoad = { from: b.node(1, 0), to: b.node(1, 1) };
    b.addLanes(straightRoad, [straightPart], 'ramp');
    ok = b.clear(straightPart, 0.95) && ok;
    b.spawnRoads.push(straightRoad);

    const [bend1, connect] = bendStraight(straightPart, RAMP_CONNECT_PART_LEN, RAMP_RADIUS, angle, false, w, RAMP_LINES, RAMP_SPEED_LIMIT);
    const bend1Road = { from: straightRoad.to, to: b.node(1, 2) };
    const connectRoad = { from: bend1Road.to, to: b.node(1, 3) };
    b.addLanes(bend1Road, [bend1], 'ramp');
    b.addLanes(connectRoad, [connect], 'ramp');
    ok = b.clear(bend1, 0.95) && ok;
    ok = b.clear(connect, 0.95) && ok;

    const [bend2, accLaneDraft] = bendStraight(connect, accLen, RAMP_RADIUS, angle, true, w, RAMP_LINES, RAMP_SPEED_LIMIT);
    const bend2Road = { from: connectRoad.to, to: extendRoad.to };
    b.addLanes(bend2Road, [bend2], 'ramp');
    const accLane = straightDraft(accLaneDraft.start, accLaneDraft.end, w, ['none', 'continuous']);
    const accLaneRoad = { from: accRoad.from, to: b.node(1, 4) };
    b.addLanes(accLaneRoad, [accLane], 'ramp');
    ok = b.clear(bend2, 0.95) && ok;
    ok = b.clear(accLane, 0.95) && ok;

    const taper = extendStraight(accLane, extLen, ['none', 'continuous']);
    const taperRoad = { from: accLaneRoad.to, to: accRoad.to };
    b.addLanes(taperRoad, [taper], 'ramp');
    b.tapers.set(roadKey(taperRoad.from, taperRoad.to), { mode: 'shrink' });
    b.meta.socketRoad = socketRoad;
    return ok;
  },
};

export const OutRamp: BlockType = {
  id: 'R',
  socketNum: 1,
  sampleParams: sampleRampParams,
  build(b: BlockBuilder, p: BlockParams): boolean {
    const pre = b.preLanes();
    const n = pre.length;
    const w = b.laneWidth;
    const basic = pre[n - 1]!;
    const decLen = p.length!;
    const extLen = p.extension_length!;
    const angle = RAMP_ANGLE_DEG * DEG2RAD;
    let ok = true;

    // Part 0: deceleration road (main lanes beside the taper + deceleration lane) and the
    // extend road that carries the socket.
    const decLane = extendStraight(basic, decLen + extLen, [basic.lineTypes[0], 'side']);
    const decRoad = { from: b.preSocket!.positive.to, to: b.node(0, 0) };
    ok = b.createRoad(decLane, n, decRoad, { side: 'continuous' }) && ok;
    ok = b.createAdverseRoad(decRoad) && ok;
    b.setLineTypes(decRoad, -1, [n === 1 ? 'continuous' : 'broken', 'broken']);
    const decRight = b.lanesOf(decRoad)[n - 1]!;

    const extendLane = extendStraight(decRight, rampLongitudinalLength() + OUT_RAMP_EXTRA_LEN, [decRight.lineTypes[0], 'continuous']);
    const extendRoad = { from: decRoad.to, to: b.node(0, 1) };
    ok = b.createRoad(extendLane, n, extendRoad, { side: 'continuous' }) && ok;
    ok = b.createAdverseRoad(extendRoad) && ok;
    b.setLineTypes(negateRoad(extendRoad), -1, [n === 1 ? 'none' : 'broken', 'side']);
    b.addSocket(extendRoad);

    // Part 1: taper opening to the right, deceleration lane, two bends, ramp straight.
    const s0 = decRight.position(0, w);
    const s1 = decRight.position(extLen, w);
    const taper = straightDraft([s0[0]!, s0[1]!], [s1[0]!, s1[1]!], w, ['none', 'continuous']);
    const taperRoad = { from: decRoad.from, to: b.node(1, 0) };
    b.addLanes(taperRoad, [taper], 'ramp');
    b.tapers.set(roadKey(taperRoad.from, taperRoad.to), { mode: 'extend' });

    const e = decRight.position(decRight.length, w);
    const deaccLane = straightDraft(taper.end, [e[0]!, e[1]!], w, ['none', 'continuous']);
    const deaccRoad = { from: taperRoad.to, to: decRoad.to };
    b.addLanes(deaccRoad, [deaccLane], 'ramp');
    ok = b.clear(deaccLane, 0.95) && ok;

    const [bend1, connect] = bendStraight(deaccLane, RAMP_CONNECT_PART_LEN, RAMP_RADIUS, angle, true, w, RAMP_LINES, RAMP_SPEED_LIMIT);
    const bend1Road = { from: decRoad.to, to: b.node(1, 1) };
    const connectRoad = { from: bend1Road.to, to: b.node(1, 2) };
    b.addLanes(bend1Road, [bend1], 'ramp');
    b.addLanes(connectRoad, [connect], 'ramp');
    ok = b.clear(bend1, 0.95) && ok;
    ok = b.clear(connect, 0.95) && ok;

    const [bend2, straightPart] = bendStraight(connect, RAMP_LEN, RAMP_RADIUS, angle, false, w, RAMP_LINES, RAMP_SPEED_LIMIT);
    const bend2Road = { from: connectRoad.to, to: b.node(1, 3) };
    const straightRoad = { from: bend2Road.to, to: b.node(1, 4) };
    b.addLanes(bend2Road, [bend2], 'ramp');
    b.addLanes(straightRoad, [straightPart], 'ramp');
    ok = b.clear(bend2, 0.95) && ok;
    ok = b.clear(straightPart, 0.95) && ok;
    return ok;
  },
};
