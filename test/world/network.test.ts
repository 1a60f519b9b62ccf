import { describe, expect, it } from 'vitest';
import { RoadNetwork, isNegativeRoad, laneBounds, negateNode, negateRoad } from '../../src/world/network.js';
import { makeCircularLane, makeStraightLane } from '../../src/world/lane.js';

const W = { width: 3.5 };
function straightRoad(net: RoadNetwork, from: string, to: string, x0: number, x1: number, block = 0) {
  return net.addRoad(from, to, [makeStraightLane({ from, to, index: 0 }, [x0, 0], [x1, 0], W)], block);
}

describe('RoadNetwork', () => {
  it('names negative roads like MetaDrive', () => {
    expect(negateNode('1C0_0_')).toBe('-1C0_0_');
    expect(negateNode('-1C0_0_')).toBe('1C0_0_');
    expect(negateRoad({ from: '>', to: '>>' })).toEqual({ from: '->>', to: '->' });
    expect(negateRoad(negateRoad({ from: 'a', to: 'b' }))).toEqual({ from: 'a', to: 'b' });
    expect(isNegativeRoad({ from: '->>', to: '->' })).toBe(true);
    expect(isNegativeRoad({ from: '>', to: '>>' })).toBe(false);
  });

  it('stores roads, lanes and successors; rejects bad ids and duplicates', () => {
    const net = new RoadNetwork();
    straightRoad(net, 'a', 'b', 0, 10);
    straightRoad(net, 'b', 'c', 10, 20);
    straightRoad(net, 'b', 'd', 10, 30);
    expect(net.successors('b').sort()).toEqual(['c', 'd']);
    expect(net.predecessors('b')).toEqual(['a']);
    expect(net.lane({ from: 'b', to: 'd', index: 0 }).length).toBe(20);
    expect(net.laneSuccessors(net.lanes('a', 'b')[0]!).map((l) => l.id.to).sort()).toEqual(['c', 'd']);
    expect(net.lanePredecessors(net.lanes('b', 'c')[0]!).map((l) => l.id.from)).toEqual(['a']);
    expect(() => straightRoad(net, 'a', 'b', 0, 1)).toThrow(/already exists/);
    expect(() => net.addRoad('x', 'y', [makeStraightLane({ from: 'x', to: 'z', index: 0 }, [0, 0], [1, 0], W)], 0)).toThrow(/expected x->y#0/);
    expect(() => net.road('q', 'r')).toThrow(/no road q->r/);
    expect(net.removeRoad('b', 'd')).toBeDefined();
    expect(net.hasLane({ from: 'b', to: 'd', index: 0 })).toBe(false);
    expect(net.roadCount).toBe(2);
  });

  it('BFS finds the path with the fewest roads', () => {
    const net = new RoadNetwork();
    straightRoad(net, 'a', 'b', 0, 1);
    straightRoad(net, 'b', 'c', 1, 2);
    straightRoad(net, 'c', 'e', 2, 3);
    straightRoad(net, 'a', 'd', 0, 100);
    straightRoad(net, 'd', 'e', 100, 200);
    expect(net.shortestPath('a', 'e')).toEqual(['a', 'd', 'e']);
    expect(net.shortestPath('e', 'a')).toBeNull();
    expect(net.shortestPath('a', 'a')).toEqual(['a']);
  });

  it('computes exact arc bounds', () => {
    // Quarter circle of radius 10 around the origin from phase 0 to pi/2, width 2.
    const arc = makeCircularLane({ from: 'a', to: 'b', index: 0 }, [0, 0], 10, 0, Math.PI / 2, false, { width: 2 });
    const b = laneBounds(arc);
    expect(b[0]).toBeCloseTo(0, 12);
    expect(b[1]).toBeCloseTo(0, 12);
    expect(b[2]).toBeCloseTo(11, 12);
    expect(b[3]).toBeCloseTo(11, 12);
    // Clockwise half circle from phase pi/2 through 0 to -pi/2: x reaches r + w/2.
    const cw = makeCircularLane({ from: 'a', to: 'b', index: 0 }, [0, 0], 10, Math.PI / 2, Math.PI, true, { width: 2 });
    const c = laneBounds(cw, 1);
    expect(c[2]).toBeCloseTo(12, 12);
    expect(c[3]).toBeCloseTo(12, 12);
    expect(c[1]).toBeCloseTo(-12, 12);
  });
});
