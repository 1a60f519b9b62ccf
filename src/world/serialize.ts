/** Plain-JSON views of lanes and maps, for tests (deep equality) and debugging. */
import type { Lane, LaneId, LineType } from './lane.js';
import type { PGMap } from './generator.js';
import type { RoadKind, RoadRef } from './network.js';
import type { BlockParams, Socket } from './blocks/block.js';

export type LaneJSON =
  | { kind: 'straight'; id: LaneId; width: number; lineTypes: [LineType, LineType]; speedLimit: number; start: [number, number]; end: [number, number] }
  | {
      kind: 'circular';
      id: LaneId;
      width: number;
      lineTypes: [LineType, LineType];
      speedLimit: number;
      center: [number, number];
      radius: number;
      startPhase: number;
      angle: number;
      clockwise: boolean;
    };

export function laneToJSON(lane: Lane): LaneJSON {
  const common = { id: { ...lane.id }, width: lane.width, lineTypes: [lane.lineTypes[0], lane.lineTypes[1]] as [LineType, LineType], speedLimit: lane.speedLimit };
  if (lane.kind === 'straight') return { kind: 'straight', ...common, start: [lane.start[0], lane.start[1]], end: [lane.end[0], lane.end[1]] };
  return {
    kind: 'circular',
    ...common,
    center: [lane.center[0], lane.center[1]],
    radius: lane.radius,
    startPhase: lane.startPhase,
    angle: lane.angle,
    clockwise: lane.clockwise,
  };
}

export interface MapJSON {
  seed: number;
  config: Record<string, unknown>;
  laneWidth: number;
  laneNum: number;
  blocks: {
    index: number;
    id: string;
    name: string;
    params: BlockParams;
    trials: number;
    preSocket: Socket | null;
    sockets: Socket[];
    roads: RoadRef[];
    spawnRoads: RoadRef[];
    triggerRoad: RoadRef | null;
  }[];
  roads: { from: string; to: string; block: number; kind: RoadKind; taper: string | null; lanes: LaneJSON[] }[];
  spawnRoad: RoadRef;
  destination: { socket: Socket; node: string };
  route: string[];
  totalLength: number;
}

const ref = (r: RoadRef): RoadRef => ({ from: r.from, to: r.to });
const sock = (s: Socket): Socket => ({ positive: ref(s.positive), negative: ref(s.negative), index: s.index });

/** A JSON-serialisable description of the whole map (geometry, blocks, route). */
export function mapToJSON(map: PGMap): MapJSON {
  return {
    seed: map.seed,
    config: JSON.parse(JSON.stringify(map.config)) as Record<string, unknown>,
    laneWidth: map.laneWidth,
    laneNum: map.laneNum,
    blocks: map.blocks.map((b) => ({
      index: b.index,
      id: b.id,
      name: b.name,
      params: { ...b.params },
      trials: b.trials,
      preSocket: b.preSocket ? sock(b.preSocket) : null,
      sockets: b.sockets.map(sock),
      roads: b.roads.map(ref),
      spawnRoads: b.spawnRoads.map(ref),
      triggerRoad: b.triggerRoad ? ref(b.triggerRoad) : null,
    })),
    roads: map.network.roads().map((r) => ({
      from: r.from,
      to: r.to,
      block: r.block,
      kind: r.kind,
      taper: map.tapers.get(`${r.from}->${r.to}`)?.mode ?? null,
      lanes: r.lanes.map(laneToJSON),
    })),
    spawnRoad: ref(map.spawnRoad),
    destination: { socket: sock(map.destination.socket), node: map.destination.node },
    route: [...map.route],
    totalLength: map.totalLength,
  };
}
