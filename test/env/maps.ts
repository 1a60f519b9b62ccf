/**
 * Hand-built two-way maps for env tests (straights and arcs chained along a centre line), so the
 * env can be tested independently of the procedural generator.
 */
import { makeCircularLane, makeStraightLane, type Lane, type LineType } from '../../src/world/lane.js';
import { buildRoadMap, roadKey, type RoadMap, type TrafficBlock } from '../../src/env/road-map.js';

export type Segment = { kind: 'S'; length: number } | { kind: 'C'; radius: number; angleDeg: number; right: boolean };

export interface TestMapOptions {
  laneNum?: number;
  width?: number;
  /** Blocks after the first: each is a list of segments (one road per segment). */
  blocks: Segment[][];
  name?: string;
}

function lineTypes(i: number, n: number): [LineType, LineType] {
  return [i === 0 ? 'continuous' : 'broken', i === n - 1 ? 'side' : 'broken'];
}

/**
 * First block ">"->">>" (10 m) and ">>"->">>>" (40 m) along +x from (0, 0), then the given blocks.
 * The route follows every positive road; each block's traffic spawns on its positive lanes and is
 * triggered by the road before it.
 */
export function buildTestMap(opts: TestMapOptions): RoadMap {
  const n = opts.laneNum ?? 3;
  const w = opts.width ?? 3.5;
  let x = 0, y = 0, h = 0;
  const roads: { from: string; to: string; lanes: Lane[] }[] = [];
  const blocks: TrafficBlock[] = [];
  const route: string[] = ['>'];
  const addRoad = (from: string, to: string, seg: Segment): Lane[] => {
    const pos: Lane[] = [];
    const neg: Lane[] = [];
    const dx = Math.cos(h), dy = Math.sin(h);
    const rx = dy, ry = -dx; // right normal
    if (seg.kind === 'S') {
      const ex = x + seg.length * dx, ey = y + seg.length * dy;
      for (let i = 0; i < n; i++) {
        const o = (i + 0.5) * w;
        pos.push(makeStraightLane({ from, to, index: i }, [x + rx * o, y + ry * o], [ex + rx * o, ey + ry * o], { width: w, lineTypes: lineTypes(i, n) }));
        neg.push(makeStraightLane({ from: '-' + to, to: '-' + from, index: i }, [ex - rx * o, ey - ry * o], [x - rx * o, y - ry * o], { width: w, lineTypes: lineTypes(i, n) }));
      }
      x = ex;
      y = ey;
    } else {
      const a = (seg.angleDeg * Math.PI) / 180;
      const rc = seg.radius + (n - 0.5) * w; // centre-line radius: rightmost positive lane has `radius`
      const side = seg.right ? 1 : -1;
      const cx = x + side * rx * rc, cy = y + side * ry * rc;
      const phase0 = Math.atan2(y - cy, x - cx);
      const dir = seg.right ? -1 : 1;
      const phase1 = phase0 + dir * a;
      for (let i = 0; i < n; i++) {
        const o = (i + 0.5) * w;
        // Right turn: positive lanes inside (smaller radius); left turn: outside.
        const rp = seg.right ? rc - o : rc + o;
        const rn = seg.right ? rc + o : rc - o;
        pos.push(makeCircularLane({ from, to, index: i }, [cx, cy], rp, phase0, a, seg.right, { width: w, lineTypes: lineTypes(i, n) }));
        neg.push(makeCircularLane({ from: '-' + to, to: '-' + from, index: i }, [cx, cy], rn, phase1, a, !seg.right, { width: w, lineTypes: lineTypes(i, n) }));
      }
      x = cx + rc * Math.cos(phase1);
      y = cy + rc * Math.sin(phase1);
    }
    roads.push({ from, to, lanes: pos }, { from: '-' + to, to: '-' + from, lanes: neg });
    return pos;
  };
  // addRoad moves the pose; arcs also turn the heading.
  const segRoad = (from: string, to: string, seg: Segment): Lane[] => {
    const h0 = h;
    const lanes = addRoad(from, to, seg);
    if (seg.kind === 'C') h = h0 + (seg.right ? -1 : 1) * ((seg.angleDeg * Math.PI) / 180);
    return lanes;
  };
  segRoad('>', '>>', { kind: 'S', length: 10 });
  segRoad('>>', '>>>', { kind: 'S', length: 40 });
  route.push('>>', '>>>');
  let prev = '>>>';
  let prevRoad = roadKey('>>', '>>>');
  opts.blocks.forEach((segs, bi) => {
    const spawn: Lane[] = [];
    const trigger = prevRoad;
    segs.forEach((seg, si) => {
      const node = `${bi + 1}${seg.kind}0_${si}_`;
      spawn.push(...segRoad(prev, node, seg));
      prevRoad = roadKey(prev, node);
      prev = node;
      route.push(node);
    });
    blocks.push({ type: segs[0]!.kind, spawnLanes: spawn, triggerRoad: trigger });
  });
  return buildRoadMap({ roads, route, blocks, laneWidth: w, laneNum: n, name: opts.name ?? 'test' });
}

/** Straight, right curve, straight, left curve: a small all-purpose test map. */
export function sampleMap(): RoadMap {
  return buildTestMap({
    blocks: [
      [{ kind: 'S', length: 60 }],
      [{ kind: 'C', radius: 40, angleDeg: 90, right: true }, { kind: 'S', length: 50 }],
      [{ kind: 'C', radius: 30, angleDeg: 60, right: false }, { kind: 'S', length: 50 }],
    ],
  });
}
