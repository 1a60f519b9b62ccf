// Independent checks of generated maps (not the generator's own overlap probe).
import type { Lane } from '../../src/world/lane.js';
import type { PGMap } from '../../src/world/generator.js';
import { roadKey, type Road } from '../../src/world/network.js';

/** Lanes whose end point has outgoing roads but no lane starting there with the same heading. */
export function danglingLanes(map: PGMap, tol = 1e-6): string[] {
  const net = map.network;
  const out: string[] = [];
  const p = new Float64Array(2);
  for (const road of net.roads()) {
    if (map.tapers.get(roadKey(road.from, road.to))?.mode === 'shrink') continue;
    const next = net.nextRoads(road).filter((r) => !(r.to === negate(road.from) && r.from === negate(road.to)));
    if (next.length === 0) continue;
    for (const lane of road.lanes) {
      const e = lane.position(lane.length, 0);
      const h = lane.headingAt(lane.length);
      const ok = next.some((r) =>
        r.lanes.some((l) => {
          l.position(0, 0, p);
          const dh = Math.atan2(Math.sin(l.headingAt(0) - h), Math.cos(l.headingAt(0) - h));
          return Math.hypot(p[0]! - e[0]!, p[1]! - e[1]!) < tol && Math.abs(dh) < 1e-6;
        }),
      );
      if (!ok) out.push(`${lane.id.from}->${lane.id.to}#${lane.id.index}`);
    }
  }
  return out;
}

function negate(n: string): string {
  return n.startsWith('-') ? n.slice(1) : '-' + n;
}

function strictlyOn(l: Lane, x: number, y: number, margin: number): boolean {
  const { long, lat } = l.localCoordinates(x, y);
  return long > margin && long < l.length - margin && Math.abs(lat) < l.width / 2 - margin;
}

/**
 * Pairs of roads from different blocks whose lane surfaces overlap: samples every `step` m
 * along each lane at lat 0 and ±(w/2 - margin) and tests them against the lanes of other blocks
 * (strict interior, `margin` m inside every edge).
 */
export function overlappingRoads(map: PGMap, step = 1, margin = 0.05, allowRingOverArmEnd = 3): string[] {
  const roads = map.network.roads();
  // MetaDrive's roundabout geometry: the ring segment between the last exit and the first entry
  // bulges over the end of the arm it is attached to (the previous block's socket road) when the
  // exit radius is small. Such samples are allowed within `allowRingOverArmEnd` m of the arm end.
  const armEnd = new Map<string, string>();
  for (const blk of map.blocks) {
    if (blk.id !== 'O' || !blk.preSocket) continue;
    for (const r of [blk.preSocket.positive, blk.preSocket.negative]) armEnd.set(roadKey(r.from, r.to), blk.preSocket.positive.to);
  }
  const ringOf = (r: Road) => r.kind === 'ring';
  const nearArmEnd = (b: Road, lb: Lane, x: number, y: number, a: Road) => {
    if (!ringOf(a) || !armEnd.has(roadKey(b.from, b.to))) return false;
    const { long } = lb.localCoordinates(x, y);
    const fromJoint = b.to === armEnd.get(roadKey(b.from, b.to)) ? lb.length - long : long;
    return fromJoint < allowRingOverArmEnd;
  };
  const hits = new Set<string>();
  const p = new Float64Array(2);
  for (let i = 0; i < roads.length; i++) {
    for (let j = 0; j < roads.length; j++) {
      const a: Road = roads[i]!, b: Road = roads[j]!;
      if (a.block === b.block) continue;
      const ba = a.bounds, bb = b.bounds;
      if (ba[0] > bb[2] || ba[2] < bb[0] || ba[1] > bb[3] || ba[3] < bb[1]) continue;
      outer: for (const la of a.lanes) {
        const n = Math.max(2, Math.ceil(la.length / step) + 1);
        for (let k = 0; k < n; k++) {
          const s = (k * la.length) / (n - 1);
          for (const lat of [0, la.width / 2 - margin, -la.width / 2 + margin]) {
            la.position(s, lat, p);
            if (p[0]! < bb[0] || p[0]! > bb[2] || p[1]! < bb[1] || p[1]! > bb[3]) continue;
            for (const lb of b.lanes) {
              if (strictlyOn(lb, p[0]!, p[1]!, margin) && !nearArmEnd(b, lb, p[0]!, p[1]!, a) && !nearArmEnd(a, la, p[0]!, p[1]!, b)) {
                hits.add(`${roadKey(a.from, a.to)} x ${roadKey(b.from, b.to)}`);
                break outer;
              }
            }
          }
        }
      }
    }
  }
  return [...hits];
}
