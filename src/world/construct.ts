/**
 * Lane-building helpers shared by the blocks, following MetaDrive's
 * `component/pgblock/create_pg_block_utils.py` (ExtendStraightLane, create_bend_straight,
 * CreateRoadFrom, CreateAdverseRoad) and `utils/pg/utils.py::check_lane_on_road`.
 *
 * Lanes are built as "drafts" (a placeholder id) and given their final `{from, to, index}` id
 * when the block is committed to the network.
 */
import { makeCircularLane, makeStraightLane } from './lane.js';
import type { CircularLane, Lane, LaneId, LineType, StraightLane } from './lane.js';
import type { RoadNetwork } from './network.js';

/** MetaDrive PGDrivableAreaProperty: sidewalk width and its distance from the lane edge. */
export const SIDEWALK_WIDTH = 2;
export const SIDEWALK_LINE_DIST = 0.6;

const DRAFT_ID: LaneId = { from: '?', to: '?', index: 0 };

export interface LanePatch {
  id?: LaneId;
  lineTypes?: readonly [LineType, LineType];
  width?: number;
  speedLimit?: number;
}

/** A copy of `lane` with some properties replaced (lanes are immutable). */
export function remakeLane(lane: Lane, patch: LanePatch): Lane {
  const opts = {
    width: patch.width ?? lane.width,
    lineTypes: patch.lineTypes ?? lane.lineTypes,
    speedLimit: patch.speedLimit ?? lane.speedLimit,
  };
  const id = patch.id ?? lane.id;
  if (lane.kind === 'straight') return makeStraightLane(id, lane.start, lane.end, opts);
  return makeCircularLane(id, lane.center, lane.radius, lane.startPhase, lane.angle, lane.clockwise, opts);
}

export function straightDraft(
  start: readonly [number, number],
  end: readonly [number, number],
  width: number,
  lineTypes: readonly [LineType, LineType],
  speedLimit?: number,
): StraightLane {
  return makeStraightLane(DRAFT_ID, start, end, speedLimit === undefined ? { width, lineTypes } : { width, lineTypes, speedLimit });
}

function xy(lane: Lane, long: number, lat: number): [number, number] {
  const p = lane.position(long, lat);
  return [p[0]!, p[1]!];
}

/** MetaDrive ExtendStraightLane: a straight continuing `lane` from its end for `length` m. */
export function extendStraight(lane: Lane, length: number, lineTypes: readonly [LineType, LineType]): StraightLane {
  if (lane.kind !== 'straight') throw new Error(`extendStraight: lane ${lane.id.from}->${lane.id.to} must be straight.`);
  return makeStraightLane(DRAFT_ID, lane.end, xy(lane, lane.length + length, 0), {
    width: lane.width,
    lineTypes,
    speedLimit: lane.speedLimit,
  });
}

/**
 * MetaDrive create_bend_straight: an arc tangent to the end of `prev` (centre on the right for
 * a clockwise / right turn), then a straight of `followingLength` m.
 */
export function bendStraight(
  prev: Lane,
  followingLength: number,
  radius: number,
  angle: number,
  clockwise: boolean,
  width: number,
  lineTypes: readonly [LineType, LineType],
  speedLimit?: number,
): [CircularLane, StraightLane] {
  const center = xy(prev, prev.length, clockwise ? radius : -radius);
  const end = xy(prev, prev.length, 0);
  const startPhase = Math.atan2(end[1] - center[1], end[0] - center[0]);
  const opts = speedLimit === undefined ? { width, lineTypes } : { width, lineTypes, speedLimit };
  const bend = makeCircularLane(DRAFT_ID, center, radius, startPhase, angle, clockwise, opts);
  const bendEnd = xy(bend, bend.length, 0);
  const h = bend.headingAt(bend.length);
  const straight = makeStraightLane(
    DRAFT_ID,
    bendEnd,
    [bendEnd[0] + Math.cos(h) * followingLength, bendEnd[1] + Math.sin(h) * followingLength],
    opts,
  );
  return [bend, straight];
}

/** A lane parallel to `lane`, shifted by `lat` m (right positive); arcs keep their centre. */
export function offsetLane(lane: Lane, lat: number, lineTypes?: readonly [LineType, LineType]): Lane {
  const opts = { width: lane.width, lineTypes: lineTypes ?? lane.lineTypes, speedLimit: lane.speedLimit };
  if (lane.kind === 'straight') {
    return makeStraightLane(lane.id, xy(lane, 0, lat), xy(lane, lane.length, lat), opts);
  }
  const dir = lane.clockwise ? -1 : 1;
  const r = lane.radius + lat * dir;
  if (!(r > 0)) {
    throw new Error(
      `offsetLane: shifting arc of radius ${lane.radius.toFixed(2)} by ${lat} m gives radius ${r.toFixed(2)}; use fewer or narrower lanes.`,
    );
  }
  return makeCircularLane(lane.id, lane.center, r, lane.startPhase, lane.angle, lane.clockwise, opts);
}

export interface RoadLineTypes {
  center?: LineType;
  side?: LineType;
  inner?: LineType;
}

/**
 * MetaDrive CreateRoadFrom (geometry and line types, no check): given the rightmost lane (or the
 * leftmost when `towardSmallerIndex` is false), returns `laneNum` lanes ordered index 0..n-1.
 */
export function roadLanesFrom(lane: Lane, laneNum: number, towardSmallerIndex = true, types: RoadLineTypes = {}): Lane[] {
  const center = types.center ?? 'continuous';
  const side = types.side ?? 'side';
  const inner = types.inner ?? 'broken';
  const w = lane.width;
  const step = towardSmallerIndex ? -w : w;
  const created: Lane[] = [];
  for (let i = laneNum - 1, k = 1; i >= 1; i--, k++) {
    const lt: [LineType, LineType] =
      i === 1 ? (towardSmallerIndex ? [center, inner] : [inner, side]) : [inner, inner];
    created.push(offsetLane(lane, step * k, lt));
  }
  let lanes: Lane[];
  if (towardSmallerIndex) {
    created.reverse();
    const originTypes: [LineType, LineType] = [created.length > 0 ? inner : center, side];
    lanes = [...created, remakeLane(lane, { lineTypes: originTypes })];
  } else {
    let origin = lane;
    if (created.length > 0) origin = remakeLane(lane, { lineTypes: [lane.lineTypes[0], created[created.length - 1]!.lineTypes[0]] });
    lanes = [origin, ...created];
  }
  if (laneNum === 1) lanes[0] = remakeLane(lanes[0]!, { lineTypes: [center, side] });
  return lanes;
}

/**
 * MetaDrive CreateAdverseRoad geometry: the rightmost lane of the opposite road is the mirror of
 * the rightmost positive lane across the centre line, i.e. shifted left by (2n - 1) widths and
 * reversed.
 */
export function adverseRightmost(lanes: readonly Lane[]): Lane {
  const ref = lanes[lanes.length - 1]!;
  const n2 = lanes.length * 2;
  const w = ref.width;
  if (ref.kind === 'straight') {
    return straightDraft(xy(ref, ref.length, -(n2 - 1) * w), xy(ref, 0, -(n2 - 1) * w), w, ref.lineTypes, ref.speedLimit);
  }
  const dir = ref.clockwise ? -1 : 1;
  const endPhase = ref.startPhase + dir * ref.angle;
  const newClockwise = !ref.clockwise;
  const radius = newClockwise ? ref.radius - (n2 - 1) * w : ref.radius + (n2 - 1) * w;
  if (!(radius > 0)) {
    throw new Error(`adverseRightmost: opposite-direction arc radius ${radius.toFixed(2)} <= 0 (arc radius ${ref.radius.toFixed(2)}, ${lanes.length} lanes of ${w} m).`);
  }
  return makeCircularLane(DRAFT_ID, ref.center, radius, endPhase, ref.angle, newClockwise, {
    width: w,
    lineTypes: ref.lineTypes,
    speedLimit: ref.speedLimit,
  });
}

/** Lateral factor of the overlap probe: lane edge + 0.6 m + 2 m sidewalk, in half widths. */
export function sidewalkProbeFactor(width: number): number {
  return ((SIDEWALK_WIDTH + SIDEWALK_LINE_DIST + width / 2) * 2) / width;
}

/**
 * MetaDrive check_lane_on_road: samples `lane` every 1 m (long = 1 .. floor(length) - 1) at
 * lateral `factor * width / 2` and reports whether any sample lies on a lane of `network`
 * (|lat| <= w/2 and 0 <= long <= length). Roads whose bounds miss every sample are skipped.
 */
export function laneHitsNetwork(network: RoadNetwork, lane: Lane, factor: number, roads = network.roads()): boolean {
  const n = Math.floor(lane.length) - 1;
  if (n < 1) return false;
  const lat = (factor * lane.width) / 2;
  const pts = new Float64Array(2 * n);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const p = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    lane.position(i + 1, lat, p);
    pts[2 * i] = p[0]!;
    pts[2 * i + 1] = p[1]!;
    if (p[0]! < minX) minX = p[0]!;
    if (p[0]! > maxX) maxX = p[0]!;
    if (p[1]! < minY) minY = p[1]!;
    if (p[1]! > maxY) maxY = p[1]!;
  }
  for (const road of roads) {
    const b = road.bounds;
    if (b[0] > maxX || b[2] < minX || b[1] > maxY || b[3] < minY) continue;
    for (const l of road.lanes) {
      const half = l.width / 2;
      for (let i = 0; i < n; i++) {
        const x = pts[2 * i]!, y = pts[2 * i + 1]!;
        if (x < b[0] || x > b[2] || y < b[1] || y > b[3]) continue;
        const { long, lat: la } = l.localCoordinates(x, y);
        if (Math.abs(la) <= half && long >= 0 && long <= l.length) return true;
      }
    }
  }
  return false;
}
