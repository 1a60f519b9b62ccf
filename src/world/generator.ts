/**
 * Seeded procedural maps with MetaDrive's Block Incremental Generation (BIG,
 * `component/algorithm/BIG.py`): a first block, then blocks of random type attached to a random
 * socket of the last block; a block whose roads hit earlier roads is rebuilt with new
 * parameters up to `maxTrials` times, after which the previous block is rebuilt ("go back").
 *
 * Everything is seeded from the scenario index: the same index gives the same map, spawn
 * lanes, destination and route (spec metadrive-env.md §1.3, §1.5).
 */
import { mixSeed, Rng } from '../core/rng.js';
import type { Lane } from './lane.js';
import { remakeLane } from './construct.js';
import { BlockBuilder, type BlockId, type BlockParams, type BlockType, type Socket, type TaperInfo } from './blocks/block.js';
import { BLOCK_PROBABILITIES_V2, BLOCK_TYPES } from './blocks/index.js';
import { buildFirstBlock, FIRST_BLOCK_NODES } from './blocks/simple.js';
import type { JunctionMeta } from './blocks/intersection.js';
import type { RoundaboutMeta } from './blocks/roundabout.js';
import { isNegativeRoad, RoadNetwork, roadKey, type Road, type RoadRef } from './network.js';

export interface MapConfig {
  /** Number of blocks after the first one, or a block string such as "SCrRXTO". MetaDrive default 3. */
  map: number | string;
  /** Lane width (m), MetaDrive default 3.5. */
  laneWidth: number;
  /** Lanes per direction, MetaDrive default 3. */
  laneNum: number;
  /** Length of the first block (m), MetaDrive default 50. */
  exitLength: number;
  /** Start of lane 0 of the spawn road. */
  startPosition: readonly [number, number];
  /** Draw the lane width per map from U[3.0, 4.5] (MetaDrive random_lane_width). */
  randomLaneWidth: boolean;
  /** Draw the lane count per map from {2, 3} (MetaDrive random_lane_num). */
  randomLaneNum: boolean;
  /** Builds of one block before going back to the previous one. */
  maxTrials: number;
  /** Block type probabilities for `map = N` (default MetaDrive v2). */
  blockProbabilities: Readonly<Partial<Record<Exclude<BlockId, 'I'>, number>>>;
}

export const DEFAULT_MAP_CONFIG: Readonly<MapConfig> = Object.freeze({
  map: 3,
  laneWidth: 3.5,
  laneNum: 3,
  exitLength: 50,
  startPosition: [0, 0] as const,
  randomLaneWidth: false,
  randomLaneNum: false,
  maxTrials: 5,
  blockProbabilities: BLOCK_PROBABILITIES_V2,
});

/** MetaDrive BaseMap bounds used when lane width/count are randomised. */
export const MIN_LANE_WIDTH = 3.0;
export const MAX_LANE_WIDTH = 4.5;
export const MIN_LANE_NUM = 2;
export const MAX_LANE_NUM = 3;

export interface MapBlock {
  readonly index: number;
  readonly id: BlockId;
  /** `"<index><ID>"`, e.g. "2X". */
  readonly name: string;
  readonly params: Readonly<BlockParams>;
  /** Builds it took (1 = first try). */
  readonly trials: number;
  /** The previous block's socket this block is attached to (null for the first block). */
  readonly preSocket: Socket | null;
  readonly sockets: readonly Socket[];
  /** Every road this block built. */
  readonly roads: readonly RoadRef[];
  /** Roads where traffic may spawn (spec §5.2); empty for the first block. */
  readonly spawnRoads: readonly RoadRef[];
  /** Lanes of `spawnRoads`. */
  readonly spawnLanes: readonly Lane[];
  /** The road whose entry by the ego wakes this block's traffic (pre-socket positive road). */
  readonly triggerRoad: RoadRef | null;
  /** Geometry notes for polygons/rendering (junction arms, roundabout quarters). */
  readonly junction?: JunctionMeta;
  readonly roundabout?: RoundaboutMeta;
}

export interface PGMap {
  /** The scenario index the map was generated from. */
  readonly seed: number;
  /** The configuration used, with the lane width/count actually drawn. */
  readonly config: Readonly<MapConfig>;
  readonly laneWidth: number;
  readonly laneNum: number;
  readonly network: RoadNetwork;
  readonly blocks: readonly MapBlock[];
  /** The ego spawn road `>`->`>>`; the ego spawns at long 5 m on one of its lanes. */
  readonly spawnRoad: RoadRef;
  readonly spawnLanes: readonly Lane[];
  /** A random socket of the last block; the goal node is its positive road's end. */
  readonly destination: { readonly socket: Socket; readonly node: string };
  /** Route checkpoints (nodes), spawn road start first: BFS with the fewest roads. */
  readonly route: readonly string[];
  readonly routeRoads: readonly Road[];
  /** Last route road and its rightmost lane (MetaDrive final_road / final_lane). */
  readonly finalRoad: Road;
  readonly finalLane: Lane;
  /** Σ over route roads of the lane-0 length (m). */
  readonly totalLength: number;
  /** Tapered lanes (ramp merge/diverge), by road key. */
  readonly tapers: ReadonlyMap<string, TaperInfo>;
  /** Block builds in total, including rejected ones. */
  readonly attempts: number;
}

/** Moved to `core/rng.ts` (every module's seeds mix the same way); re-exported here. */
export { mixSeed };

const STREAM_MAP = 0x6d6170; // "map"
const STREAM_DEST = 0x647374; // "dst"

/** Checks and completes a partial config; errors name the field, the expected and the found value. */
export function resolveMapConfig(config: Partial<MapConfig> = {}): MapConfig {
  const valid = Object.keys(DEFAULT_MAP_CONFIG);
  for (const k of Object.keys(config)) {
    if (!valid.includes(k)) throw new Error(`Unknown map config key "${k}". Valid keys: ${valid.join(', ')}.`);
  }
  const c: MapConfig = { ...DEFAULT_MAP_CONFIG, ...config } as MapConfig;
  if (typeof c.map === 'number') {
    if (!Number.isInteger(c.map) || c.map < 0) throw new Error(`map config "map": expected an integer >= 0 or a block string, found ${c.map}.`);
  } else if (typeof c.map === 'string') {
    for (const ch of c.map) {
      if (!(ch in BLOCK_TYPES)) {
        throw new Error(`map config "map": unknown block "${ch}" in "${c.map}". Valid blocks: ${Object.keys(BLOCK_TYPES).join('')}.`);
      }
    }
  } else {
    throw new Error(`map config "map": expected a number or a string, found ${typeof c.map}.`);
  }
  if (!(c.laneWidth > 0)) throw new Error(`map config "laneWidth": expected > 0, found ${c.laneWidth}.`);
  if (!Number.isInteger(c.laneNum) || c.laneNum < 1 || c.laneNum > 5) {
    throw new Error(`map config "laneNum": expected an integer in [1, 5], found ${c.laneNum}.`);
  }
  if (!(c.exitLength > 10)) throw new Error(`map config "exitLength": expected > 10, found ${c.exitLength}.`);
  if (!Number.isInteger(c.maxTrials) || c.maxTrials < 1) throw new Error(`map config "maxTrials": expected an integer >= 1, found ${c.maxTrials}.`);
  for (const [k, p] of Object.entries(c.blockProbabilities)) {
    if (!(k in BLOCK_TYPES)) throw new Error(`map config "blockProbabilities": unknown block "${k}".`);
    if (!(p! >= 0)) throw new Error(`map config "blockProbabilities.${k}": expected >= 0, found ${p}.`);
  }
  return c;
}

interface Built {
  type: BlockType | null;
  socket: Socket | null;
  rng: Rng | null;
  trials: number;
  params: BlockParams;
  builder: BlockBuilder;
  committed: RoadRef[];
}

function commit(network: RoadNetwork, b: BlockBuilder): RoadRef[] {
  const refs: RoadRef[] = [];
  for (const r of b.roads.values()) {
    const lanes = r.lanes.map((l, i) => remakeLane(l, { id: { from: r.from, to: r.to, index: i } }));
    network.addRoad(r.from, r.to, lanes, b.index, r.kind);
    refs.push({ from: r.from, to: r.to });
  }
  return refs;
}

function uncommit(network: RoadNetwork, refs: readonly RoadRef[]): void {
  for (const r of refs) network.removeRoad(r.from, r.to);
}

/**
 * Generates the map of scenario `seed`. `config` fields default to MetaDrive's
 * (`DEFAULT_MAP_CONFIG`): 3 blocks, 3 lanes of 3.5 m.
 */
export function generateMap(seed: number, config: Partial<MapConfig> = {}): PGMap {
  if (!Number.isInteger(seed)) throw new Error(`generateMap: seed must be an integer, found ${seed}.`);
  const cfg = resolveMapConfig(config);
  const rng = new Rng(mixSeed(seed, STREAM_MAP));
  const laneWidth = cfg.randomLaneWidth ? rng.uniform(MIN_LANE_WIDTH, MAX_LANE_WIDTH) : cfg.laneWidth;
  const laneNum = cfg.randomLaneNum ? rng.int(MIN_LANE_NUM, MAX_LANE_NUM + 1) : cfg.laneNum;
  const sequence = typeof cfg.map === 'string' ? cfg.map : null;
  const blockNum = (sequence ? sequence.length : (cfg.map as number)) + 1;
  const probIds = Object.keys(cfg.blockProbabilities) as Exclude<BlockId, 'I'>[];
  const probs = probIds.map((k) => cfg.blockProbabilities[k]!);

  const network = new RoadNetwork();
  const first = new BlockBuilder(0, 'I', network, null, laneWidth, laneNum);
  buildFirstBlock(first, cfg.exitLength, cfg.startPosition);
  const built: Built[] = [{ type: null, socket: null, rng: null, trials: 1, params: {}, builder: first, committed: commit(network, first) }];

  let attempts = 0;
  const maxAttempts = 200 * blockNum;
  let lastError = '';
  // One build of `blk` with fresh parameters; commits it on success.
  const construct = (blk: Built): boolean => {
    attempts++;
    blk.trials++;
    blk.params = blk.type!.sampleParams(blk.rng!);
    const index = built.length;
    const b = new BlockBuilder(index, blk.type!.id, network, blk.socket, laneWidth, laneNum);
    blk.builder = b;
    let ok: boolean;
    try {
      ok = blk.type!.build(b, blk.params);
    } catch (e) {
      // Impossible geometry (e.g. an arc radius <= 0 for many wide lanes) is a failed build.
      lastError = (e as Error).message;
      ok = false;
    }
    if (ok) blk.committed = commit(network, b);
    return ok;
  };

  while (built.length < blockNum) {
    if (attempts > maxAttempts) {
      throw new Error(
        `generateMap(seed ${seed}, map ${JSON.stringify(cfg.map)}): no overlap-free map after ${attempts} block builds` +
          (lastError ? ` (last geometry error: ${lastError})` : '') + '. Try fewer blocks, lanes or a narrower lane width.',
      );
    }
    // Forward: a new block of a random (or the next listed) type on a random socket of the last block.
    const last = built[built.length - 1]!.builder;
    const type = sequence ? BLOCK_TYPES[sequence[built.length - 1] as Exclude<BlockId, 'I'>] : BLOCK_TYPES[probIds[rng.weightedIndex(probs)]!];
    const socket = rng.choice(last.sockets);
    const blk: Built = { type, socket, rng: new Rng(mixSeed(rng.uint32(), built.length)), trials: 0, params: {}, builder: last, committed: [] };
    let cur = blk;
    let done = false;
    while (!done) {
      if (cur.trials < cfg.maxTrials) {
        if (construct(cur)) {
          built.push(cur);
          done = true;
        }
      } else {
        // Go back: drop the current block and rebuild the previous one with new parameters.
        if (built.length <= 1) {
          // Nothing to go back to: draw a fresh block (type and parameters) instead.
          done = true;
          break;
        }
        cur = built.pop()!;
        uncommit(network, cur.committed);
        cur.committed = [];
      }
      if (attempts > maxAttempts) break;
    }
  }

  // Destination: a random socket of the last block, from its own stream.
  const destRng = new Rng(mixSeed(seed, STREAM_DEST));
  const lastBlock = built[built.length - 1]!.builder;
  const destSocket = destRng.choice(lastBlock.sockets);
  const goal = destSocket.positive.to;
  const spawnRoad = { from: FIRST_BLOCK_NODES[0], to: FIRST_BLOCK_NODES[1] };
  const route = network.shortestPath(spawnRoad.from, goal);
  if (!route) throw new Error(`generateMap(seed ${seed}): destination ${goal} is unreachable from ${spawnRoad.from}.`);
  const routeRoads = route.slice(1).map((to, i) => network.road(route[i]!, to));
  const totalLength = routeRoads.reduce((s, r) => s + r.lanes[0]!.length, 0);
  const finalRoad = routeRoads[routeRoads.length - 1]!;

  const tapers = new Map<string, TaperInfo>();
  const blocks: MapBlock[] = built.map((blk, k) => {
    const b = blk.builder;
    for (const [key, t] of b.tapers) tapers.set(key, t);
    const spawnRoads = trafficSpawnRoads(blk, built[k + 1]?.socket ?? null);
    const block: MapBlock = {
      index: k,
      id: b.id,
      name: b.name,
      params: { ...blk.params },
      trials: blk.trials,
      preSocket: blk.socket,
      sockets: [...b.sockets],
      roads: blk.committed,
      spawnRoads,
      spawnLanes: spawnRoads.flatMap((r) => network.lanes(r.from, r.to)),
      triggerRoad: blk.socket ? blk.socket.positive : null,
      ...(b.meta.junction ? { junction: b.meta.junction as JunctionMeta } : {}),
      ...(b.meta.roundabout ? { roundabout: b.meta.roundabout as RoundaboutMeta } : {}),
    };
    return block;
  });

  return {
    seed,
    config: { ...cfg, laneWidth, laneNum },
    laneWidth,
    laneNum,
    network,
    blocks,
    spawnRoad,
    spawnLanes: network.lanes(spawnRoad.from, spawnRoad.to),
    destination: { socket: destSocket, node: goal },
    route,
    routeRoads,
    finalRoad,
    finalLane: finalRoad.lanes[finalRoad.lanes.length - 1]!,
    totalLength,
    tapers,
    attempts,
  };
}

/**
 * Candidate traffic roads of a block (spec §5.2, MetaDrive get_intermediate_spawn_lanes):
 * intersections only their incoming arms, roundabouts incoming arms + the ring segment of each
 * quarter, the on-ramp every positive road except the socket road, other blocks every positive
 * road. The incoming arm used by the next block is removed (MetaDrive get_socket). Tapers never.
 */
function trafficSpawnRoads(blk: Built, nextSocket: Socket | null): RoadRef[] {
  const b = blk.builder;
  if (b.id === 'I') return [];
  const key = (r: RoadRef) => roadKey(r.from, r.to);
  let roads: RoadRef[];
  if (b.id === 'X' || b.id === 'T') {
    roads = [...b.spawnRoads];
  } else if (b.id === 'O') {
    roads = [...b.spawnRoads, ...(b.meta.roundabout as RoundaboutMeta).quarters.map((q) => q.ring1)];
  } else {
    const positive = [...b.roads.values()].filter((r) => !isNegativeRoad(r)).map((r) => ({ from: r.from, to: r.to }));
    roads = [...positive];
    for (const r of b.spawnRoads) if (!roads.some((x) => key(x) === key(r))) roads.push(r);
    if (b.id === 'r') {
      const socketKey = key(b.sockets[0]!.positive);
      roads = roads.filter((r) => key(r) !== socketKey);
    }
  }
  roads = roads.filter((r) => !b.tapers.has(key(r)));
  if (nextSocket && (b.id === 'X' || b.id === 'T' || b.id === 'O')) {
    roads = roads.filter((r) => key(r) !== key(nextSocket.negative));
  }
  return roads;
}
