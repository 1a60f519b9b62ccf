/**
 * Map polygons by type (NAVSIM/nuPlan words): lane, roadblock (all lanes of one directed road),
 * lane connector (lanes inside a junction), intersection (junction area, roundabouts with the
 * island as a hole), sidewalk; and the painted lines with their types and colours.
 *
 * Polygons are flat `Float64Array`s `[x0, y0, x1, y1, ...]`, closed implicitly, sampled every
 * `step` metres along the lanes.
 */
import { lanePolygon as laneStrip, sampleLane, type Lane, type LaneId, type LineType } from './lane.js';
import { SIDEWALK_WIDTH } from './construct.js';
import type { PGMap } from './generator.js';
import { isNegativeRoad, negateRoad, roadKey, type Road, type RoadRef } from './network.js';

/** Sidewalks start this far outside the lane edge (MetaDrive draws them beside the side line). */
export const SIDEWALK_GAP = 0.2;

export interface PolygonWithHoles {
  readonly outer: Float64Array;
  readonly holes: readonly Float64Array[];
}

function concat(parts: readonly Float64Array[]): Float64Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function reversePoints(p: Float64Array): Float64Array {
  const n = p.length / 2;
  const out = new Float64Array(p.length);
  for (let i = 0; i < n; i++) {
    out[2 * i] = p[2 * (n - 1 - i)]!;
    out[2 * i + 1] = p[2 * (n - 1 - i) + 1]!;
  }
  return out;
}

/** Lane surface polygon; a tapered lane (ramp merge/diverge) is a triangle. */
export function laneSurface(lane: Lane, taper?: 'shrink' | 'extend', step = 1): Float64Array {
  if (!taper) return laneStrip(lane, step);
  const h = lane.width / 2;
  const p = (s: number, l: number) => lane.position(s, l);
  const L = lane.length;
  // Full width where the taper meets the ramp lane; a point on the main road's edge at the other end.
  const pts = taper === 'shrink' ? [p(0, -h), p(L, -h), p(0, h)] : [p(0, -h), p(L, -h), p(L, h)];
  return Float64Array.from(pts.flatMap((q) => [q[0]!, q[1]!]));
}

/** Roadblock polygon: left edge of lane 0 forward, right edge of the last lane backward. */
export function roadPolygon(road: Road, step = 1): Float64Array {
  const first = road.lanes[0]!;
  const last = road.lanes[road.lanes.length - 1]!;
  return concat([sampleLane(first, step, -first.width / 2), reversePoints(sampleLane(last, step, last.width / 2))]);
}

function rightEdge(road: Road, step: number): Float64Array {
  const l = road.lanes[road.lanes.length - 1]!;
  return sampleLane(l, step, l.width / 2);
}

function leftEdge(road: Road, step: number): Float64Array {
  const l = road.lanes[0]!;
  return sampleLane(l, step, -l.width / 2);
}

/** Junction areas: X/T bounded by the right-turn edges, roundabouts with the island as a hole. */
export function intersectionPolygons(map: PGMap, step = 1): { block: number; polygon: PolygonWithHoles }[] {
  const out: { block: number; polygon: PolygonWithHoles }[] = [];
  const net = map.network;
  const get = (r: RoadRef) => net.road(r.from, r.to);
  for (const b of map.blocks) {
    if (b.junction) {
      const parts: Float64Array[] = [];
      b.junction.rightTurns.forEach((r, i) => {
        if (r) parts.push(rightEdge(get(r), step));
        else if (b.junction!.passing && i === b.junction!.removedArm) parts.push(rightEdge(get(b.junction!.passing), step));
      });
      out.push({ block: b.index, polygon: { outer: concat(parts), holes: [] } });
    } else if (b.roundabout) {
      const outer: Float64Array[] = [];
      const hole: Float64Array[] = [];
      for (const q of b.roundabout.quarters) {
        outer.push(rightEdge(get(q.entry), step), rightEdge(get(q.ring1), step), rightEdge(get(q.exit), step));
        hole.push(leftEdge(get(q.ring1), step), leftEdge(get(q.ring2), step));
      }
      out.push({ block: b.index, polygon: { outer: concat(outer), holes: [concat(hole)] } });
    }
  }
  return out;
}

/** Sidewalk strips (2 m, starting 0.2 m outside the edge) along every lane border of type 'side'. */
export function sidewalkPolygons(map: PGMap, step = 1): Float64Array[] {
  const out: Float64Array[] = [];
  for (const road of map.network.roads()) {
    for (const lane of road.lanes) {
      for (const side of [0, 1] as const) {
        if (lane.lineTypes[side] !== 'side') continue;
        const s = side === 1 ? 1 : -1;
        const inner = sampleLane(lane, step, s * (lane.width / 2 + SIDEWALK_GAP));
        const outerEdge = sampleLane(lane, step, s * (lane.width / 2 + SIDEWALK_GAP + SIDEWALK_WIDTH));
        out.push(concat([inner, reversePoints(outerEdge)]));
      }
    }
  }
  return out;
}

export type LineColor = 'white' | 'yellow';

export interface MapLine {
  readonly lane: LaneId;
  readonly side: 'left' | 'right';
  readonly type: Exclude<LineType, 'none'>;
  readonly color: LineColor;
  /** Polyline points along the border. */
  readonly points: Float64Array;
}

/**
 * Painted lines, each drawn once: every lane's right border; lane 0's left border (the centre
 * line, yellow except on ramps) unless it belongs to a negative road whose positive twin
 * draws it.
 */
export function mapLines(map: PGMap, step = 1): MapLine[] {
  const out: MapLine[] = [];
  const net = map.network;
  for (const road of net.roads()) {
    const twin = negateRoad(road);
    const drawLeft =
      !isNegativeRoad(road) || !net.hasRoad(twin.from, twin.to) || net.lanes(twin.from, twin.to)[0]!.lineTypes[0] === 'none';
    road.lanes.forEach((lane, k) => {
      const right = lane.lineTypes[1];
      if (right !== 'none') out.push({ lane: lane.id, side: 'right', type: right, color: 'white', points: sampleLane(lane, step, lane.width / 2) });
      const left = lane.lineTypes[0];
      if (k === 0 && drawLeft && left !== 'none') {
        out.push({
          lane: lane.id,
          side: 'left',
          type: left,
          color: road.kind === 'ramp' ? 'white' : 'yellow',
          points: sampleLane(lane, step, -lane.width / 2),
        });
      }
    });
  }
  return out;
}

/** Lanes inside junctions (X/T turns and straights, roundabout entry/exit bends). */
export function laneConnectors(map: PGMap): Lane[] {
  return map.network.roads().filter((r) => r.kind === 'junction').flatMap((r) => r.lanes);
}

/** Lane surfaces of the whole map with their ids (tapers as triangles). */
export function lanePolygons(map: PGMap, step = 1): { lane: LaneId; polygon: Float64Array; connector: boolean }[] {
  const out: { lane: LaneId; polygon: Float64Array; connector: boolean }[] = [];
  for (const road of map.network.roads()) {
    const taper = map.tapers.get(roadKey(road.from, road.to))?.mode;
    for (const lane of road.lanes) out.push({ lane: lane.id, polygon: laneSurface(lane, taper, step), connector: road.kind === 'junction' });
  }
  return out;
}

/** Roadblock polygons of every road. */
export function roadblockPolygons(map: PGMap, step = 1): { road: RoadRef; polygon: Float64Array }[] {
  return map.network.roads().map((r) => ({ road: { from: r.from, to: r.to }, polygon: roadPolygon(r, step) }));
}
