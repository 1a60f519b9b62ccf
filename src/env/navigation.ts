/**
 * Route navigation as MetaDrive's NodeNetworkNavigation does it (spec §1.5, §3.2, §4.4):
 * reference roads along the checkpoint list, localisation that prefers lanes of the current and
 * next reference roads, checkpoint advance within 5 m of a later road's start, the 10 navigation
 * features, travelled length and route completion.
 */
import type { Lane } from '../world/lane.js';
import { arcAbsLat, laneLocal } from './lane-math.js';
import type { EnvRoad, RoadMap } from './road-map.js';

/** CKPT_UPDATE_RANGE (m). */
export const CKPT_UPDATE_RANGE = 5;
/** NAVI_POINT_DIST (m): checkpoint vectors are clipped to this length. */
export const NAVI_POINT_DIST = 50;
/** PRE_NOTIFY_DIST (m): where the next road's heading is read for the navigation command. */
export const PRE_NOTIFY_DIST = 40;
/** Heading change (rad) below which the navigation command is "forward" (10 degrees). */
const COMMAND_ANGLE = (10 * Math.PI) / 180;

export type NavigationCommand = 'forward' | 'left' | 'right';

/** Curve parameter maxima used to normalise bend features (BlockParameterSpace.CURVE). */
const CURVE_RADIUS_MAX = 60;
const CURVE_ANGLE_MAX_DEG = 135;

export class Navigation {
  /** Index into map.routeRoads of the current reference road. */
  refIndex = 0;
  /** The lane the vehicle is localised on (kept when it leaves every lane). */
  currentLane: Lane;
  /** Whether the centre was on some lane surface at the last update. */
  onLane = true;
  travelledLength = 0;
  private readonly scratch = new Float64Array(2);

  constructor(readonly map: RoadMap, spawnLane: Lane) {
    this.currentLane = spawnLane;
  }

  get currentRoad(): EnvRoad {
    return this.map.routeRoads[this.refIndex]!;
  }
  get nextRoad(): EnvRoad | null {
    return this.map.routeRoads[this.refIndex + 1] ?? null;
  }
  get currentRefLanes(): readonly Lane[] {
    return this.currentRoad.lanes;
  }
  get finalRoad(): EnvRoad {
    return this.map.routeRoads[this.map.routeRoads.length - 1]!;
  }
  /** Rightmost lane of the final road (spec §1.5). */
  get finalLane(): Lane {
    const lanes = this.finalRoad.lanes;
    return lanes[lanes.length - 1]!;
  }
  get routeCompletion(): number {
    return this.travelledLength / this.map.totalLength;
  }

  /** Lanes containing (x, y), nearest centre line first. */
  lanesAt(x: number, y: number): Lane[] {
    const cands = this.map.lanesNear(x, y);
    const hits: { lane: Lane; d: number }[] = [];
    for (const lane of cands) {
      const { long, lat } = lane.localCoordinates(x, y);
      if (long >= 0 && long <= lane.length && Math.abs(lat) <= lane.width / 2) hits.push({ lane, d: Math.abs(lat) });
    }
    hits.sort((a, b) => a.d - b.d);
    return hits.map((h) => h.lane);
  }

  /**
   * Localises the vehicle and advances the reference road (MetaDrive `update_localization`),
   * then accumulates travelled length on lane 0 of the (new) reference road from the previous
   * position. Returns the lane.
   */
  update(x: number, y: number, lastX: number, lastY: number): Lane {
    // Among the lanes containing the point, prefer the current reference road, then the next
    // one, then the nearest centre line (MetaDrive _get_current_lane).
    const q = this.scratch;
    const cur = this.currentRoad;
    const next = this.nextRoad;
    let best: Lane | null = null;
    let bestRank = 3;
    let bestD = Infinity;
    for (const lane of this.map.lanesNear(x, y)) {
      if (arcAbsLat(lane, x, y) > lane.width / 2) continue;
      laneLocal(lane, x, y, q);
      if (q[0]! < 0 || q[0]! > lane.length || Math.abs(q[1]!) > lane.width / 2) continue;
      const road = this.map.roadOf(lane);
      const rank = road === cur ? 0 : road === next ? 1 : 2;
      const d = Math.abs(q[1]!);
      if (rank < bestRank || (rank === bestRank && d < bestD)) {
        best = lane;
        bestRank = rank;
        bestD = d;
      }
    }
    this.onLane = best !== null;
    if (best !== null) this.currentLane = best;

    // Advance when on a later route road, near its start.
    const road = this.map.roadOf(this.currentLane);
    const routeRoads = this.map.routeRoads;
    for (let k = this.refIndex + 1; k < routeRoads.length; k++) {
      if (routeRoads[k] === road) {
        if (laneLocal(this.currentLane, x, y, q)[0]! < CKPT_UPDATE_RANGE) this.refIndex = k;
        break;
      }
    }
    const ref0 = this.currentRoad.lanes[0]!;
    const longNow = laneLocal(ref0, x, y, q)[0]!;
    this.travelledLength += longNow - laneLocal(ref0, lastX, lastY, q)[0]!;
    return this.currentLane;
  }

  /**
   * MetaDrive's navigation command (info `navigation_command`): the heading of lane 0 of the
   * current reference road at the vehicle's longitude vs. the heading of lane 0 of the next
   * road (the current one on the last road) PRE_NOTIFY_DIST into it (`navi_arrow_dir`); less
   * than 10 degrees apart is "forward", else "left" when the next heading is counter-clockwise
   * of the current one, "right" otherwise.
   */
  command(x: number, y: number): NavigationCommand {
    const roads = this.map.routeRoads;
    const ref = roads[this.refIndex]!.lanes[0]!;
    const h0 = ref.headingAt(laneLocal(ref, x, y, this.scratch)[0]!);
    const nextRef = (roads[this.refIndex + 1] ?? roads[this.refIndex]!).lanes[0]!;
    const h1 = nextRef.headingAt(Math.min(PRE_NOTIFY_DIST, nextRef.length));
    const d = Math.atan2(Math.sin(h1 - h0), Math.cos(h1 - h0));
    if (Math.abs(d) < COMMAND_ANGLE) return 'forward';
    return d > 0 ? 'left' : 'right';
  }

  /**
   * Writes the 10 navigation features (spec §3.2) into `out` at `offset`.
   */
  writeFeatures(x: number, y: number, heading: number, out: Float32Array, offset: number): void {
    const roads = this.map.routeRoads;
    this.writeCheckpoint(roads[this.refIndex]!, x, y, heading, out, offset);
    const nextRoad = roads[this.refIndex + 1] ?? roads[this.refIndex]!;
    this.writeCheckpoint(nextRoad, x, y, heading, out, offset + 5);
  }

  private writeCheckpoint(road: EnvRoad, x: number, y: number, heading: number, out: Float32Array, o: number): void {
    const ref = road.lanes[0]!;
    const laneNum = road.lanes.length;
    const w = ref.width;
    const p = ref.position(ref.length, (laneNum / 2 - 0.5) * w, this.scratch);
    let dx = p[0]! - x, dy = p[1]! - y;
    const n = Math.sqrt(dx * dx + dy * dy);
    if (n > NAVI_POINT_DIST) {
      dx = (dx / n) * NAVI_POINT_DIST;
      dy = (dy / n) * NAVI_POINT_DIST;
    }
    const c = Math.cos(heading), s = Math.sin(heading);
    const fwd = dx * c + dy * s;
    const left = -dx * s + dy * c;
    out[o] = clip01((fwd / NAVI_POINT_DIST + 1) / 2);
    out[o + 1] = clip01((left / NAVI_POINT_DIST + 1) / 2);
    if (ref.kind === 'circular') {
      out[o + 2] = clip01(ref.radius / (CURVE_RADIUS_MAX + laneNum * w));
      // +1 for clockwise (right turn), -1 counter-clockwise.
      out[o + 3] = ref.clockwise ? 1 : 0;
      out[o + 4] = clip01(((ref.angle * 180) / Math.PI / CURVE_ANGLE_MAX_DEG + 1) / 2);
    } else {
      out[o + 2] = 0;
      out[o + 3] = 0.5;
      out[o + 4] = 0.5;
    }
  }
}

export function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
