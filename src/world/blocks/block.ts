/**
 * What every block shares (MetaDrive `PGBlock`): node naming, sockets, the roads it builds and
 * the overlap check of each new road against the roads of earlier blocks.
 */
import type { Lane } from '../lane.js';
import type { Rng } from '../../core/rng.js';
import {
  adverseRightmost,
  laneHitsNetwork,
  remakeLane,
  roadLanesFrom,
  sidewalkProbeFactor,
  type RoadLineTypes,
} from '../construct.js';
import { negateRoad, roadKey, type Road, type RoadKind, type RoadNetwork, type RoadRef } from '../network.js';

/** A pair of opposite roads where the next block attaches (MetaDrive PGBlockSocket). */
export interface Socket {
  /** Road leaving this block (the next block starts at its end node). */
  readonly positive: RoadRef;
  /** The opposite road, entering this block. */
  readonly negative: RoadRef;
  /** `"<blockName>-socket<i>"`. */
  readonly index: string;
}

export type BlockId = 'I' | 'C' | 'S' | 'r' | 'R' | 'X' | 'T' | 'O';

export type BlockParams = Record<string, number>;

export interface DraftRoad {
  from: string;
  to: string;
  lanes: Lane[];
  kind: RoadKind;
}

/** A lane whose width tapers along it (MetaDrive ExtensionLane); drawn as a triangle. */
export interface TaperInfo {
  /** 'shrink': full width at the start, zero at the end; 'extend': the reverse. */
  readonly mode: 'shrink' | 'extend';
}

/** Per-block-type behaviour. */
export interface BlockType {
  readonly id: BlockId;
  readonly socketNum: number;
  /** Draws the block's parameters (MetaDrive PARAMETER_SPACE, sampled uniformly). */
  sampleParams(rng: Rng): BlockParams;
  /** Builds the geometry into `b`; returns false when a new road hits an earlier one. */
  build(b: BlockBuilder, params: BlockParams): boolean;
}

/** Builds one block: its roads are checked against `global` (earlier blocks) but not added there. */
export class BlockBuilder {
  readonly name: string;
  readonly roads = new Map<string, DraftRoad>();
  readonly sockets: Socket[] = [];
  /** Roads where traffic may spawn besides the positive roads (MetaDrive respawn roads). */
  readonly spawnRoads: RoadRef[] = [];
  readonly tapers = new Map<string, TaperInfo>();
  /** Roads per part, for polygons and rendering (e.g. junction right turns). */
  readonly meta: Record<string, unknown> = {};
  private globalRoads: Road[];

  constructor(
    readonly index: number,
    readonly id: BlockId,
    readonly global: RoadNetwork,
    readonly preSocket: Socket | null,
    readonly laneWidth: number,
    readonly laneNum: number,
  ) {
    this.name = `${index}${id}`;
    this.globalRoads = global.roads();
  }

  /** MetaDrive node name: `<block><ID><part>_<road>_`. */
  node(part: number, road: number): string {
    return `${this.index}${this.id}${part}_${road}_`;
  }

  /** Lanes of the previous block's socket road (rightmost = last). */
  preLanes(): readonly Lane[] {
    if (!this.preSocket) throw new Error(`Block ${this.name} has no previous socket.`);
    return this.global.lanes(this.preSocket.positive.from, this.preSocket.positive.to);
  }

  /** Lanes of a road of this block, or of the global network. */
  lanesOf(road: RoadRef): Lane[] {
    const own = this.roads.get(roadKey(road.from, road.to));
    if (own) return own.lanes;
    return [...this.global.lanes(road.from, road.to)];
  }

  hasRoad(road: RoadRef): boolean {
    return this.roads.has(roadKey(road.from, road.to));
  }

  /** Appends lanes to road `from->to` of this block (creating it). */
  addLanes(road: RoadRef, lanes: readonly Lane[], kind: RoadKind = 'road'): void {
    const key = roadKey(road.from, road.to);
    let r = this.roads.get(key);
    if (!r) this.roads.set(key, (r = { from: road.from, to: road.to, lanes: [], kind }));
    r.lanes.push(...lanes);
  }

  removeRoad(road: RoadRef): DraftRoad | undefined {
    const key = roadKey(road.from, road.to);
    const r = this.roads.get(key);
    this.roads.delete(key);
    return r;
  }

  /** Replaces lane `index` of a road of this block (e.g. to change its line types). */
  setLane(road: RoadRef, index: number, lane: Lane): void {
    const r = this.roads.get(roadKey(road.from, road.to));
    if (!r) throw new Error(`Block ${this.name}: no road ${roadKey(road.from, road.to)}.`);
    const i = index < 0 ? r.lanes.length + index : index;
    if (i < 0 || i >= r.lanes.length) throw new Error(`Block ${this.name}: road ${roadKey(road.from, road.to)} has no lane ${index}.`);
    r.lanes[i] = lane;
  }

  setLineTypes(road: RoadRef, index: number, lineTypes: readonly [Lane['lineTypes'][0], Lane['lineTypes'][1]]): void {
    const r = this.roads.get(roadKey(road.from, road.to))!;
    const i = index < 0 ? r.lanes.length + index : index;
    this.setLane(road, i, remakeLane(r.lanes[i]!, { lineTypes }));
  }

  /** MetaDrive check_lane_on_road against earlier blocks: true when `lane` hits none. */
  clear(lane: Lane, factor: number): boolean {
    return !laneHitsNetwork(this.global, lane, factor, this.globalRoads);
  }

  /**
   * MetaDrive CreateRoadFrom: builds `laneNum` lanes from `lane` (rightmost, or leftmost when
   * `towardSmallerIndex` is false), adds them as road `road`, and checks the origin lane's outer
   * side (edge + 0.6 m + 2 m sidewalk) against earlier blocks. Returns true when clear.
   */
  createRoad(
    lane: Lane,
    laneNum: number,
    road: RoadRef,
    opts: RoadLineTypes & { towardSmallerIndex?: boolean; kind?: RoadKind; check?: boolean } = {},
  ): boolean {
    const lanes = roadLanesFrom(lane, laneNum, opts.towardSmallerIndex ?? true, opts);
    this.addLanes(road, lanes, opts.kind ?? 'road');
    if (opts.check === false) return true;
    return this.clear(lane, sidewalkProbeFactor(lane.width));
  }

  /** MetaDrive CreateAdverseRoad: the opposite road `-road` mirrored across the centre line. */
  createAdverseRoad(road: RoadRef, opts: RoadLineTypes & { kind?: RoadKind } = {}): boolean {
    const lanes = this.lanesOf(road);
    const mirrored = adverseRightmost(lanes);
    return this.createRoad(mirrored, lanes.length, negateRoad(road), opts);
  }

  addSocket(positive: RoadRef, negative: RoadRef = negateRoad(positive)): Socket {
    const s: Socket = { positive, negative, index: `${this.name}-socket${this.sockets.length}` };
    this.sockets.push(s);
    return s;
  }
}
