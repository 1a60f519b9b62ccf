/**
 * The road network as MetaDrive's `NodeRoadNetwork` holds it: a directed graph whose edges
 * ("roads") join two named nodes and carry an ordered lane list (index 0 = leftmost, next to
 * the centre line). Every two-way road `A->B` has a mirrored "negative road" `-B->-A`.
 */
import type { Lane, LaneId } from './lane.js';

/** A directed road between two nodes. */
export interface RoadRef {
  readonly from: string;
  readonly to: string;
}

/** What a road is for; junction roads are lane connectors inside intersections/roundabouts. */
export type RoadKind = 'road' | 'junction' | 'ramp' | 'ring';

export interface Road extends RoadRef {
  /** Lanes, index 0 = leftmost. `lanes[i].id` is `{from, to, index: i}`. */
  readonly lanes: readonly Lane[];
  /** Index of the block (0 = first block) that built this road. */
  readonly block: number;
  readonly kind: RoadKind;
  /** Bounding box [minX, minY, maxX, maxY] of the lane surfaces. */
  readonly bounds: readonly [number, number, number, number];
}

/** The prefix MetaDrive gives nodes of negative roads. */
export const NEGATIVE_PREFIX = '-';

/** "from->to", a stable key for roads. */
export function roadKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/** Node name seen from the other direction: `a` <-> `-a`. */
export function negateNode(node: string): string {
  return node.startsWith(NEGATIVE_PREFIX) ? node.slice(1) : NEGATIVE_PREFIX + node;
}

/** The road carrying the opposite direction: `-(A->B) = -B->-A` (and `-(-B->-A) = A->B`). */
export function negateRoad(road: RoadRef): RoadRef {
  return { from: negateNode(road.to), to: negateNode(road.from) };
}

/** MetaDrive: a road is negative when its start node carries the `-` prefix. */
export function isNegativeRoad(road: RoadRef): boolean {
  return road.from.startsWith(NEGATIVE_PREFIX);
}

/** Axis-aligned bounds of a lane surface widened by `margin` (exact for arcs). */
export function laneBounds(lane: Lane, margin = 0): [number, number, number, number] {
  const half = lane.width / 2 + margin;
  if (lane.kind === 'straight') {
    const [sx, sy] = lane.start;
    const [ex, ey] = lane.end;
    return [Math.min(sx, ex) - half, Math.min(sy, ey) - half, Math.max(sx, ex) + half, Math.max(sy, ey) + half];
  }
  const [cx, cy] = lane.center;
  const rOut = lane.radius + half;
  const rIn = Math.max(0, lane.radius - half);
  const dir = lane.clockwise ? -1 : 1;
  const a0 = lane.startPhase;
  const a1 = lane.startPhase + dir * lane.angle;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const add = (phi: number) => {
    const c = Math.cos(phi), s = Math.sin(phi);
    for (const r of [rIn, rOut]) {
      const x = cx + r * c, y = cy + r * s;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  };
  add(a0);
  add(a1);
  // Axis extremes (multiples of pi/2) swept by the arc.
  const lo = Math.min(a0, a1), hi = Math.max(a0, a1);
  const half_pi = Math.PI / 2;
  for (let k = Math.ceil(lo / half_pi); k * half_pi <= hi; k++) add(k * half_pi);
  return [minX, minY, maxX, maxY];
}

function unionBounds(lanes: readonly Lane[], margin = 0): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const l of lanes) {
    const lb = laneBounds(l, margin);
    if (lb[0] < b[0]) b[0] = lb[0];
    if (lb[1] < b[1]) b[1] = lb[1];
    if (lb[2] > b[2]) b[2] = lb[2];
    if (lb[3] > b[3]) b[3] = lb[3];
  }
  return b;
}

export class RoadNetwork {
  /** graph[from][to] = road, in insertion order. */
  private readonly graph = new Map<string, Map<string, Road>>();
  private readonly laneIndex = new Map<string, Lane>();
  private readonly incoming = new Map<string, Set<string>>();

  /** Adds a road; its lanes must carry ids `{from, to, index}` in order. */
  addRoad(from: string, to: string, lanes: readonly Lane[], block: number, kind: RoadKind = 'road'): Road {
    if (lanes.length === 0) throw new Error(`RoadNetwork.addRoad ${roadKey(from, to)}: a road needs at least one lane.`);
    if (this.hasRoad(from, to)) throw new Error(`RoadNetwork.addRoad: road ${roadKey(from, to)} already exists.`);
    lanes.forEach((l, i) => {
      if (l.id.from !== from || l.id.to !== to || l.id.index !== i) {
        throw new Error(
          `RoadNetwork.addRoad ${roadKey(from, to)}: lane ${i} has id ${l.id.from}->${l.id.to}#${l.id.index}, expected ${from}->${to}#${i}.`,
        );
      }
    });
    const road: Road = { from, to, lanes: [...lanes], block, kind, bounds: unionBounds(lanes) };
    let out = this.graph.get(from);
    if (!out) this.graph.set(from, (out = new Map()));
    out.set(to, road);
    if (!this.graph.has(to)) this.graph.set(to, new Map());
    let inc = this.incoming.get(to);
    if (!inc) this.incoming.set(to, (inc = new Set()));
    inc.add(from);
    for (const l of lanes) this.laneIndex.set(`${from}->${to}#${l.id.index}`, l);
    return road;
  }

  removeRoad(from: string, to: string): Road | undefined {
    const road = this.graph.get(from)?.get(to);
    if (!road) return undefined;
    this.graph.get(from)!.delete(to);
    this.incoming.get(to)?.delete(from);
    for (const l of road.lanes) this.laneIndex.delete(`${from}->${to}#${l.id.index}`);
    return road;
  }

  hasRoad(from: string, to: string): boolean {
    return this.graph.get(from)?.has(to) ?? false;
  }

  /** The road `from->to`; throws naming the road if it does not exist. */
  road(from: string, to: string): Road {
    const r = this.graph.get(from)?.get(to);
    if (!r) throw new Error(`RoadNetwork: no road ${roadKey(from, to)}.`);
    return r;
  }

  /** Lanes of road `from->to` (index 0 = leftmost). */
  lanes(from: string, to: string): readonly Lane[] {
    return this.road(from, to).lanes;
  }

  /** The lane with this id; throws if absent. */
  lane(id: LaneId): Lane {
    const l = this.laneIndex.get(`${id.from}->${id.to}#${id.index}`);
    if (!l) throw new Error(`RoadNetwork: no lane ${id.from}->${id.to}#${id.index}.`);
    return l;
  }

  hasLane(id: LaneId): boolean {
    return this.laneIndex.has(`${id.from}->${id.to}#${id.index}`);
  }

  /** Nodes reachable from `node` by one road. */
  successors(node: string): string[] {
    return [...(this.graph.get(node)?.keys() ?? [])];
  }

  /** Nodes with a road into `node`. */
  predecessors(node: string): string[] {
    return [...(this.incoming.get(node) ?? [])];
  }

  /** Roads that start where `road` ends. */
  nextRoads(road: RoadRef): Road[] {
    return [...(this.graph.get(road.to)?.values() ?? [])];
  }

  /** Roads that end where `road` starts. */
  previousRoads(road: RoadRef): Road[] {
    return this.predecessors(road.from).map((f) => this.road(f, road.from));
  }

  /** Lanes that continue `lane`: lanes of the next roads whose start is within `tol` of its end. */
  laneSuccessors(lane: Lane, tol = 0.05): Lane[] {
    const end = lane.position(lane.length, 0);
    const out: Lane[] = [];
    const p = new Float64Array(2);
    for (const r of this.nextRoads(lane.id)) {
      for (const l of r.lanes) {
        l.position(0, 0, p);
        if (Math.hypot(p[0]! - end[0]!, p[1]! - end[1]!) <= tol) out.push(l);
      }
    }
    return out;
  }

  /** Lanes that lead into `lane` (ends within `tol` of its start). */
  lanePredecessors(lane: Lane, tol = 0.05): Lane[] {
    const start = lane.position(0, 0);
    const out: Lane[] = [];
    const p = new Float64Array(2);
    for (const r of this.previousRoads(lane.id)) {
      for (const l of r.lanes) {
        l.position(l.length, 0, p);
        if (Math.hypot(p[0]! - start[0]!, p[1]! - start[1]!) <= tol) out.push(l);
      }
    }
    return out;
  }

  /** All roads in insertion order. */
  roads(): Road[] {
    const out: Road[] = [];
    for (const m of this.graph.values()) for (const r of m.values()) out.push(r);
    return out;
  }

  /** All lanes, road by road. */
  allLanes(): Lane[] {
    const out: Lane[] = [];
    for (const r of this.roads()) out.push(...r.lanes);
    return out;
  }

  nodes(): string[] {
    return [...this.graph.keys()];
  }

  get roadCount(): number {
    let n = 0;
    for (const m of this.graph.values()) n += m.size;
    return n;
  }

  /**
   * Breadth-first search for the node path with the fewest roads from `start` to `goal`
   * (MetaDrive `NodeRoadNetwork.shortest_path`). Returns null when `goal` is unreachable.
   */
  shortestPath(start: string, goal: string): string[] | null {
    if (!this.graph.has(start)) return null;
    if (start === goal) return [start];
    const parent = new Map<string, string>([[start, start]]);
    const queue = [start];
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      for (const next of this.graph.get(node)!.keys()) {
        if (parent.has(next)) continue;
        parent.set(next, node);
        if (next === goal) {
          const path = [goal];
          let cur = goal;
          while (cur !== start) {
            cur = parent.get(cur)!;
            path.push(cur);
          }
          return path.reverse();
        }
        queue.push(next);
      }
    }
    return null;
  }

  /** Bounding box of every lane surface. */
  bounds(): [number, number, number, number] {
    const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const r of this.roads()) {
      if (r.bounds[0] < b[0]) b[0] = r.bounds[0];
      if (r.bounds[1] < b[1]) b[1] = r.bounds[1];
      if (r.bounds[2] > b[2]) b[2] = r.bounds[2];
      if (r.bounds[3] > b[3]) b[3] = r.bounds[3];
    }
    return b;
  }
}
