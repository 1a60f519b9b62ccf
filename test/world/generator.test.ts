import { describe, expect, it } from 'vitest';
import { generateMap, mixSeed, resolveMapConfig, DEFAULT_MAP_CONFIG, BLOCK_PROBABILITIES_V2 } from '../../src/world/index.js';
import { mapToJSON } from '../../src/world/serialize.js';
import { intersectionPolygons, lanePolygons, laneConnectors, mapLines, roadblockPolygons, sidewalkPolygons } from '../../src/world/polygons.js';
import { ringSignedArea } from '../../src/geometry/polygon.js';
import { roadKey } from '../../src/world/network.js';
import { danglingLanes, overlappingRoads } from './helpers.js';

describe('generateMap', () => {
  it('same seed -> identical map; different seeds differ', () => {
    const a = JSON.stringify(mapToJSON(generateMap(123)));
    const b = JSON.stringify(mapToJSON(generateMap(123)));
    expect(a).toBe(b);
    expect(JSON.stringify(mapToJSON(generateMap(124)))).not.toBe(a);
    // The JSON round-trips.
    expect(JSON.parse(a)).toEqual(mapToJSON(generateMap(123)));
  });

  it('seeds 0..999 (default config): connected, route reaches the destination, no overlaps between blocks', () => {
    const t0 = performance.now();
    const counts: Record<string, number> = {};
    let backtracks = 0;
    for (let seed = 0; seed < 1000; seed++) {
      const m = generateMap(seed);
      expect(m.blocks.length).toBe(4);
      for (const b of m.blocks.slice(1)) counts[b.id] = (counts[b.id] ?? 0) + 1;
      if (m.attempts > 3) backtracks++;
      // Route: starts at the spawn road, consecutive roads, ends at the destination socket.
      expect(m.route[0]).toBe('>');
      expect(m.route[1]).toBe('>>');
      expect(m.route[m.route.length - 1]).toBe(m.destination.node);
      expect(m.blocks[3]!.sockets.map((s) => s.index)).toContain(m.destination.socket.index);
      m.routeRoads.forEach((r, i) => {
        expect(r.from).toBe(m.route[i]);
        expect(r.to).toBe(m.route[i + 1]);
      });
      expect(m.finalLane).toBe(m.finalRoad.lanes[m.finalRoad.lanes.length - 1]);
      expect(m.totalLength).toBeCloseTo(m.routeRoads.reduce((s, r) => s + r.lanes[0]!.length, 0), 9);
      // Every block is attached to a socket of the block before it.
      for (let k = 1; k < 4; k++) expect(m.blocks[k - 1]!.sockets.map((s) => s.index)).toContain(m.blocks[k]!.preSocket!.index);
      const dangling = danglingLanes(m);
      if (dangling.length) throw new Error(`seed ${seed}: lanes without successor ${dangling.join(', ')}`);
      const overlaps = overlappingRoads(m, 2);
      if (overlaps.length) throw new Error(`seed ${seed}: overlapping roads ${overlaps.join('; ')}`);
    }
    const ms = performance.now() - t0;
    // Block type frequencies follow the v2 probabilities (3000 draws; rejected draws are redrawn).
    for (const [id, p] of Object.entries(BLOCK_PROBABILITIES_V2)) {
      expect(Math.abs((counts[id] ?? 0) / 3000 - p), `block ${id}: ${counts[id]} of 3000`).toBeLessThan(0.035);
    }
    console.log(`1000 maps generated and checked in ${ms.toFixed(0)} ms; ${backtracks} needed retries`);
  });

  it('map strings give those blocks in order; lane count and width follow the config', () => {
    const m = generateMap(5, { map: 'XOC', laneNum: 2, laneWidth: 4 });
    expect(m.blocks.map((b) => b.name)).toEqual(['0I', '1X', '2O', '3C']);
    for (const l of m.network.allLanes()) expect(l.width).toBe(4);
    expect(m.network.lanes('>', '>>').length).toBe(2);
    const one = generateMap(1, { map: 'CrRXTO', laneNum: 1 });
    expect(danglingLanes(one)).toEqual([]);
    expect(generateMap(0, { map: 0 }).blocks.length).toBe(1);
    expect(generateMap(0, { map: 7 }).blocks.length).toBe(8);
  });

  it('random lane width U[3, 4.5] and lane count {2, 3} per map, seeded', () => {
    const widths = new Set<number>();
    const nums = new Set<number>();
    for (let s = 0; s < 20; s++) {
      const m = generateMap(s, { randomLaneWidth: true, randomLaneNum: true });
      expect(m.laneWidth).toBeGreaterThanOrEqual(3);
      expect(m.laneWidth).toBeLessThan(4.5);
      expect(m.network.lanes('>', '>>').length).toBe(m.laneNum);
      widths.add(m.laneWidth);
      nums.add(m.laneNum);
      expect(generateMap(s, { randomLaneWidth: true, randomLaneNum: true }).laneWidth).toBe(m.laneWidth);
    }
    expect(widths.size).toBe(20);
    expect([...nums].sort()).toEqual([2, 3]);
  });

  it('rejects bad configs with messages naming the field', () => {
    expect(() => generateMap(0, { map: 'SQ' })).toThrow(/unknown block "Q" in "SQ"/);
    expect(() => generateMap(0, { lanes: 3 } as never)).toThrow(/Unknown map config key "lanes". Valid keys: map, laneWidth/);
    expect(() => generateMap(0, { laneNum: 0 })).toThrow(/"laneNum": expected an integer in \[1, 5\], found 0/);
    expect(() => generateMap(0, { laneWidth: -1 })).toThrow(/"laneWidth": expected > 0/);
    expect(() => generateMap(0, { map: -2 })).toThrow(/"map": expected an integer >= 0/);
    expect(() => generateMap(1.5)).toThrow(/seed must be an integer/);
    expect(resolveMapConfig()).toEqual({ ...DEFAULT_MAP_CONFIG });
  });

  it('mixes neighbouring seeds into unrelated streams', () => {
    const a = mixSeed(0, 1), b = mixSeed(1, 1);
    expect(a).not.toBe(b);
    expect(a).toBe(mixSeed(0, 1));
    // Roughly half the bits differ.
    let x = (a ^ b) >>> 0, bits = 0;
    while (x) {
      bits += x & 1;
      x >>>= 1;
    }
    expect(bits).toBeGreaterThan(8);
  });

  it('traffic spawn roads: none in the first block, never inside junctions or tapers; trigger = pre-socket road', () => {
    for (let s = 0; s < 50; s++) {
      const m = generateMap(s);
      expect(m.blocks[0]!.spawnLanes.length).toBe(0);
      for (const b of m.blocks.slice(1)) {
        expect(b.triggerRoad).toEqual(b.preSocket!.positive);
        expect(b.spawnLanes.length).toBeGreaterThan(0);
        for (const r of b.spawnRoads) {
          const road = m.network.road(r.from, r.to);
          expect(road.kind === 'junction').toBe(false);
          expect(m.tapers.has(roadKey(r.from, r.to))).toBe(false);
        }
      }
    }
  });
});

describe('map polygons', () => {
  it('lane polygons are simple rings with area length x width; tapers half of it', () => {
    for (const map of ['SCrRXTO', 'OTX']) {
      const m = generateMap(2, { map });
      for (const { lane, polygon } of lanePolygons(m)) {
        const l = m.network.lane(lane);
        const taper = m.tapers.has(roadKey(lane.from, lane.to));
        const expected = l.length * l.width * (taper ? 0.5 : 1);
        expect(Math.abs(Math.abs(ringSignedArea(polygon)) - expected) / expected).toBeLessThan(0.01);
        expect(selfIntersects(polygon)).toBe(false);
      }
    }
  });

  it('roadblocks, intersections (roundabout with a hole), sidewalks, lines, connectors', () => {
    const m = generateMap(4, { map: 'XOT' });
    const rb = roadblockPolygons(m);
    expect(rb.length).toBe(m.network.roadCount);
    const inter = intersectionPolygons(m);
    expect(inter.map((p) => p.block)).toEqual([1, 2, 3]);
    for (const { polygon } of inter) expect(selfIntersects(polygon.outer)).toBe(false);
    const x = inter[0]!.polygon;
    expect(x.holes.length).toBe(0);
    // X junction: square of side 2*10 + (2n-1)*w (mouth to mouth) minus a quarter disc at each
    // corner, of the right turn's inner edge radius r = 10 - w/2 (arcs sampled every 1 m).
    const side = 2 * 10 + (2 * 3 - 1) * 3.5;
    const r = 10 - 3.5 / 2;
    expect(Math.abs(ringSignedArea(x.outer)) / (side * side - Math.PI * r * r)).toBeCloseTo(1, 2);
    const o = inter[1]!.polygon;
    expect(o.holes.length).toBe(1);
    expect(Math.abs(ringSignedArea(o.outer))).toBeGreaterThan(Math.abs(ringSignedArea(o.holes[0]!)));
    expect(sidewalkPolygons(m).length).toBeGreaterThan(10);
    const lines = mapLines(m);
    expect(lines.some((l) => l.color === 'yellow' && l.type === 'continuous')).toBe(true);
    expect(lines.some((l) => l.type === 'broken')).toBe(true);
    expect(lines.some((l) => l.type === 'side')).toBe(true);
    // Each painted border is listed once.
    const keys = lines.map((l) => `${l.lane.from}->${l.lane.to}#${l.lane.index}:${l.side}`);
    expect(new Set(keys).size).toBe(keys.length);
    const conn = laneConnectors(m);
    expect(conn.length).toBeGreaterThan(0);
    for (const l of conn) expect(m.network.road(l.id.from, l.id.to).kind).toBe('junction');
  });
});

function selfIntersects(ring: Float64Array): boolean {
  const n = ring.length / 2;
  const seg = (i: number) => [ring[2 * i]!, ring[2 * i + 1]!, ring[2 * ((i + 1) % n)]!, ring[2 * ((i + 1) % n) + 1]!] as const;
  const cross = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) => (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  for (let i = 0; i < n; i++) {
    const [ax, ay, bx, by] = seg(i);
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      const [cx, cy, dx, dy] = seg(j);
      const d1 = cross(ax, ay, bx, by, cx, cy), d2 = cross(ax, ay, bx, by, dx, dy);
      const d3 = cross(cx, cy, dx, dy, ax, ay), d4 = cross(cx, cy, dx, dy, bx, by);
      if (d1 * d2 < -1e-12 && d3 * d4 < -1e-12) return true;
    }
  }
  return false;
}
