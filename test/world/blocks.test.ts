import { describe, expect, it } from 'vitest';
import { generateMap, type PGMap } from '../../src/world/generator.js';
import { negateRoad, roadKey } from '../../src/world/network.js';
import { rampLateralDistance, rampLongitudinalLength } from '../../src/world/blocks/ramp.js';
import type { CircularLane, Lane } from '../../src/world/lane.js';
import { danglingLanes } from './helpers.js';

const W = 3.5;
const N = 3;
const SEEDS = Array.from({ length: 30 }, (_, i) => i);
const block1 = (m: PGMap) => m.blocks[1]!;
const lanesOf = (m: PGMap, from: string, to: string) => m.network.lanes(from, to);
const arc = (l: Lane) => {
  expect(l.kind).toBe('circular');
  return l as CircularLane;
};

describe('first block (I)', () => {
  it('spawn road 10 m and exit road 40 m, 3 lanes of 3.5 m, lane 0 at y = 0 heading +x', () => {
    const m = generateMap(0, { map: 'S' });
    const spawn = lanesOf(m, '>', '>>');
    expect(spawn.length).toBe(N);
    spawn.forEach((l, k) => {
      expect(l.length).toBeCloseTo(10, 12);
      expect(l.width).toBe(W);
      expect(l.position(0, 0)[0]).toBe(0);
      expect(l.position(0, 0)[1]).toBeCloseTo(-k * W, 12);
      expect(l.headingAt(0)).toBe(0);
    });
    expect(lanesOf(m, '>>', '>>>')[0]!.length).toBeCloseTo(40, 12);
    // Line types: yellow centre (continuous) left of lane 0, broken separators, road edge right.
    expect(spawn.map((l) => l.lineTypes)).toEqual([['continuous', 'broken'], ['broken', 'broken'], ['broken', 'side']]);
    // The opposite road mirrors it across the centre line y = w/2.
    const neg = lanesOf(m, '->>', '->');
    expect(neg[0]!.position(0, 0)[1]).toBeCloseTo(W, 12);
    expect(neg[2]!.position(0, 0)[1]).toBeCloseTo(3 * W, 12);
    expect(neg[0]!.headingAt(0)).toBeCloseTo(Math.PI, 12);
    expect(m.spawnLanes.length).toBe(N);
  });
});

describe('Straight (S) and Curve (C)', () => {
  it('S: one two-way road of U[40, 80] m continuing the socket lane', () => {
    for (const s of SEEDS) {
      const m = generateMap(s, { map: 'S' });
      const b = block1(m);
      expect(b.params.length).toBeGreaterThanOrEqual(40);
      expect(b.params.length).toBeLessThan(80);
      const lanes = lanesOf(m, '>>>', '1S0_0_');
      expect(lanes[0]!.length).toBeCloseTo(b.params.length!, 9);
      expect(b.roads.length).toBe(2);
      expect(b.sockets.length).toBe(1);
    }
  });

  it('C: rightmost-lane radius U[25, 60], angle U[45, 135] deg, straight U[40, 80], lanes offset by w', () => {
    let left = 0, right = 0;
    for (const s of SEEDS) {
      const m = generateMap(s, { map: 'C' });
      const p = block1(m).params;
      expect(p.radius).toBeGreaterThanOrEqual(25);
      expect(p.radius).toBeLessThan(60);
      expect(p.angle).toBeGreaterThanOrEqual(45);
      expect(p.angle).toBeLessThan(135);
      const bend = lanesOf(m, '>>>', '1C0_0_').map(arc);
      expect(bend[N - 1]!.radius).toBeCloseTo(p.radius!, 9);
      expect(bend[N - 1]!.angle).toBeCloseTo((p.angle! * Math.PI) / 180, 12);
      expect(bend[N - 1]!.clockwise).toBe(p.dir === 1);
      // Lanes to the left are further out on a right turn, further in on a left turn.
      const sign = p.dir === 1 ? 1 : -1;
      expect(bend[0]!.radius - bend[N - 1]!.radius).toBeCloseTo(sign * (N - 1) * W, 9);
      const straight = lanesOf(m, '1C0_0_', '1C0_1_')[0]!;
      expect(straight.length).toBeCloseTo(p.length!, 9);
      // Exit heading = entry heading -/+ angle.
      expect(Math.cos(straight.headingAt(0) - (-sign * p.angle! * Math.PI) / 180)).toBeCloseTo(1, 12);
      if (p.dir === 1) right++;
      else left++;
    }
    expect(left).toBeGreaterThan(0);
    expect(right).toBeGreaterThan(0);
  });
});

describe('ramps (r, R)', () => {
  it('r: extend road 48.6 + 10 m, acceleration road length + extension, socket 20 m, ramp joins one lane to the right', () => {
    expect(rampLongitudinalLength()).toBeCloseTo(48.59, 2);
    for (const s of SEEDS.slice(0, 10)) {
      const m = generateMap(s, { map: 'r' });
      const p = block1(m).params;
      expect(p.length).toBeGreaterThanOrEqual(20);
      expect(p.length).toBeLessThan(40);
      expect(p.extension_length).toBeGreaterThanOrEqual(20);
      expect(p.extension_length).toBeLessThan(40);
      const extend = lanesOf(m, '>>>', '1r0_0_');
      expect(extend[0]!.length).toBeCloseTo(rampLongitudinalLength() + 10, 9);
      expect(lanesOf(m, '1r0_0_', '1r0_1_')[0]!.length).toBeCloseTo(p.length! + p.extension_length!, 9);
      expect(lanesOf(m, '1r0_1_', '1r0_2_')[0]!.length).toBeCloseTo(20, 9);
      // The ramp straight runs 15 m beside the road, lateral_dist + w to the right of the rightmost lane.
      const ramp = lanesOf(m, '1r1_0_', '1r1_1_')[0]!;
      expect(ramp.length).toBeCloseTo(15, 9);
      expect(ramp.speedLimit).toBe(12);
      const { lat } = extend[N - 1]!.localCoordinates(...(Array.from(ramp.position(0, 0)) as [number, number]));
      expect(lat).toBeCloseTo(rampLateralDistance() + W, 9);
      // The acceleration lane starts one lane right of the rightmost main lane, parallel to it.
      const acc = lanesOf(m, '1r0_0_', '1r1_4_')[0]!;
      const main = lanesOf(m, '1r0_0_', '1r0_1_')[N - 1]!;
      const a0 = main.localCoordinates(...(Array.from(acc.position(0, 0)) as [number, number]));
      expect(a0.lat).toBeCloseTo(W, 9);
      expect(a0.long).toBeCloseTo(0, 9);
      expect(acc.length).toBeCloseTo(p.length!, 9);
      expect(m.tapers.get(roadKey('1r1_4_', '1r0_1_'))?.mode).toBe('shrink');
      // Traffic may spawn on the ramp but not on the socket road.
      const spawn = block1(m).spawnRoads.map((r) => roadKey(r.from, r.to));
      expect(spawn).toContain(roadKey('1r1_0_', '1r1_1_'));
      expect(spawn).not.toContain(roadKey('1r0_1_', '1r0_2_'));
    }
  });

  it('R: deceleration road length + extension, main continues 48.6 + 15 m, ramp leaves to the right', () => {
    for (const s of SEEDS.slice(0, 10)) {
      const m = generateMap(s, { map: 'R' });
      const p = block1(m).params;
      expect(lanesOf(m, '>>>', '1R0_0_')[0]!.length).toBeCloseTo(p.length! + p.extension_length!, 9);
      expect(lanesOf(m, '1R0_0_', '1R0_1_')[0]!.length).toBeCloseTo(rampLongitudinalLength() + 15, 9);
      const dec = lanesOf(m, '1R1_0_', '1R0_0_')[0]!;
      expect(dec.length).toBeCloseTo(p.length!, 9);
      const bend1 = arc(lanesOf(m, '1R0_0_', '1R1_1_')[0]!);
      expect(bend1.radius).toBe(40);
      expect(bend1.clockwise).toBe(true);
      expect(bend1.angle).toBeCloseTo((10 * Math.PI) / 180, 12);
      expect(lanesOf(m, '1R1_3_', '1R1_4_')[0]!.length).toBeCloseTo(15, 9);
      expect(block1(m).sockets[0]!.positive).toEqual({ from: '1R0_0_', to: '1R0_1_' });
    }
  });
});

describe('intersections (X, T)', () => {
  const straightLen = 2 * 10 + (2 * N - 1) * W;
  it('X: 3 sockets, 35 m exits, right turns r = 10, left turns r = 10 + n*w, straight 2*10 + (2n-1)*w, no lines inside', () => {
    const m = generateMap(3, { map: 'X' });
    const b = block1(m);
    expect(b.sockets.length).toBe(3);
    for (const s of b.sockets) {
      for (const l of lanesOf(m, s.positive.from, s.positive.to)) expect(l.length).toBeCloseTo(35, 9);
      expect(m.network.hasRoad(s.negative.from, s.negative.to)).toBe(true);
    }
    const junction = m.network.roads().filter((r) => r.kind === 'junction' && r.block === 1);
    expect(junction.length).toBe(12);
    const right = lanesOf(m, '>>>', '1X0_0_').map(arc);
    expect(right[N - 1]!.radius).toBeCloseTo(10, 12);
    expect(right[0]!.radius).toBeCloseTo(10 + (N - 1) * W, 12);
    const left = lanesOf(m, '>>>', '1X2_0_').map(arc);
    expect(left[0]!.radius).toBeCloseTo(10 + N * W, 12);
    expect(left[0]!.clockwise).toBe(false);
    for (const l of lanesOf(m, '>>>', '1X1_0_')) expect(l.length).toBeCloseTo(straightLen, 9);
    for (const r of junction) for (const l of r.lanes) expect(l.lineTypes[0]).toBe('none');
    // Exits point right (-y), straight (+x), left (+y) for an entry heading +x.
    const h = b.sockets.map((s) => lanesOf(m, s.positive.from, s.positive.to)[0]!.headingAt(0));
    expect(Math.cos(h[0]! + Math.PI / 2)).toBeCloseTo(1, 12);
    expect(Math.cos(h[1]!)).toBeCloseTo(1, 12);
    expect(Math.cos(h[2]! - Math.PI / 2)).toBeCloseTo(1, 12);
    // Traffic spawns only on incoming arms, never inside the junction.
    for (const r of b.spawnRoads) expect(m.network.road(r.from, r.to).kind).toBe('road');
    expect(b.spawnRoads.length).toBe(3);
  });

  it('T: one arm removed (each t_type occurs), 2 sockets, 6 junction roads, passing road gets lines', () => {
    const seen = new Set<number>();
    for (const s of SEEDS) {
      const m = generateMap(s, { map: 'T' });
      const b = block1(m);
      const t = b.params.t_type!;
      seen.add(t);
      expect(b.sockets.length).toBe(2);
      expect(m.network.roads().filter((r) => r.kind === 'junction' && r.block === 1).length).toBe(6);
      expect(b.junction!.removedArm).toBe(t);
      const passing = lanesOf(m, b.junction!.passing!.from, b.junction!.passing!.to);
      expect(passing[N - 1]!.lineTypes[1]).toBe('side');
      expect(passing[0]!.lineTypes[0]).toBe('broken');
      // The removed arm's exit road is gone.
      expect(m.network.hasRoad(`1T${t}_0_`, `1T${t}_1_`)).toBe(false);
      for (const k of [0, 1, 2].filter((k) => k !== t)) expect(m.network.hasRoad(`1T${k}_0_`, `1T${k}_1_`)).toBe(true);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});

describe('Roundabout (O)', () => {
  it('exit radius U[5, 15], ring radius (2n-1)w + inner U[15, 45], 60 deg bends, closed ring, 3 sockets', () => {
    for (const s of SEEDS.slice(0, 10)) {
      const m = generateMap(s, { map: 'O' });
      const b = block1(m);
      const p = b.params;
      expect(p.exit_radius).toBeGreaterThanOrEqual(5);
      expect(p.exit_radius).toBeLessThan(15);
      expect(p.inner_radius).toBeGreaterThanOrEqual(15);
      expect(p.inner_radius).toBeLessThan(45);
      expect(b.sockets.length).toBe(3);
      const q = b.roundabout!.quarters;
      expect(q.length).toBe(4);
      for (let k = 0; k < 4; k++) {
        const entry = lanesOf(m, q[k]!.entry.from, q[k]!.entry.to).map(arc);
        expect(entry[N - 1]!.radius).toBeCloseTo(p.exit_radius!, 12);
        expect(entry[N - 1]!.angle).toBeCloseTo(Math.PI / 3, 12);
        const ring1 = lanesOf(m, q[k]!.ring1.from, q[k]!.ring1.to).map(arc);
        expect(ring1[N - 1]!.radius).toBeCloseTo((2 * N - 1) * W + p.inner_radius!, 9);
        expect(ring1[N - 1]!.clockwise).toBe(false);
        // The ring closes: each ring segment ends where the next quarter's starts, same heading.
        const ring2 = lanesOf(m, q[k]!.ring2.from, q[k]!.ring2.to);
        const next = lanesOf(m, q[(k + 1) % 4]!.ring1.from, q[(k + 1) % 4]!.ring1.to);
        for (let i = 0; i < N; i++) {
          const e = ring2[i]!.position(ring2[i]!.length, 0);
          const st = next[i]!.position(0, 0);
          expect(Math.hypot(e[0]! - st[0]!, e[1]! - st[1]!)).toBeLessThan(1e-9);
          expect(Math.cos(ring2[i]!.headingAt(ring2[i]!.length) - next[i]!.headingAt(0))).toBeCloseTo(1, 12);
        }
      }
      // The last exit bend leads back into the arm we came from.
      expect(q[3]!.exit.to).toBe(b.preSocket!.negative.from);
      expect(danglingLanes(m)).toEqual([]);
    }
  });
});

describe('every block type connects', () => {
  it.each(['S', 'C', 'r', 'R', 'X', 'T', 'O', 'SCrRXTO', 'OXTCrR'])('map "%s": lanes join their successors with matching position and heading', (map) => {
    for (const s of [0, 1, 2]) {
      const m = generateMap(s, { map });
      expect(m.blocks.map((b) => b.id).join('')).toBe('I' + map);
      expect(danglingLanes(m)).toEqual([]);
      // Every two-way road has its mirror.
      for (const b of m.blocks) for (const sk of b.sockets) expect(m.network.hasRoad(negateRoad(sk.positive).from, negateRoad(sk.positive).to)).toBe(true);
    }
  });
});
