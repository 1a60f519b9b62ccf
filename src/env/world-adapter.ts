/**
 * Adapter from the world generator's `PGMap` to the env's `RoadMap` (roads, route, traffic
 * blocks with their spawn lanes and trigger roads). Lane successors are derived from geometry.
 */
import { generateMap, type PGMap } from '../world/generator.js';
import type { EnvConfig } from './config.js';
import { buildRoadMap, roadKey, type RoadMap, type TrafficBlock } from './road-map.js';

export function roadMapFromPGMap(pg: PGMap): RoadMap {
  const blocks: TrafficBlock[] = [];
  for (const b of pg.blocks) {
    if (b.index === 0 || b.triggerRoad === null) continue;
    blocks.push({ type: b.id, spawnLanes: b.spawnLanes, triggerRoad: roadKey(b.triggerRoad.from, b.triggerRoad.to) });
  }
  return buildRoadMap({
    roads: pg.network.roads().map((r) => ({ from: r.from, to: r.to, lanes: r.lanes, kind: r.kind })),
    route: [...pg.route],
    blocks,
    laneWidth: pg.laneWidth,
    laneNum: pg.laneNum,
    name: `seed ${pg.seed}`,
    source: pg,
  });
}

/** The world generator configured from the env config (MetaDrive map / map_config keys). */
export function generateWorldPGMap(seed: number, cfg: Pick<EnvConfig, 'map' | 'map_config' | 'random_lane_width' | 'random_lane_num'>): PGMap {
  return generateMap(seed, {
    map: cfg.map,
    laneWidth: cfg.map_config.lane_width,
    laneNum: cfg.map_config.lane_num,
    exitLength: cfg.map_config.exit_length,
    randomLaneWidth: cfg.random_lane_width,
    randomLaneNum: cfg.random_lane_num,
  });
}

/** Default `MapSource` of DrivingEnv: procedural MetaDrive-style maps keyed by scenario index. */
export function worldMapSource(seed: number, cfg: EnvConfig): RoadMap {
  return roadMapFromPGMap(generateWorldPGMap(seed, cfg));
}

/** The world map behind a RoadMap made by this adapter (null for hand-built maps). */
export function pgMapOf(map: RoadMap): PGMap | null {
  const s = map.source as PGMap | null;
  return s && typeof s === 'object' && 'network' in s ? s : null;
}
