import { describe, expect, it } from 'vitest';
import {
  Corridor,
  boxRing,
  locatePointInRing,
  orientation,
  projectOnPolyline,
  ringCentroid,
  ringDistance,
  ringFromPoints,
  ringWithin,
  ringsIntersect,
  segmentToSegment,
  BOUNDARY,
  EXTERIOR,
  INTERIOR,
} from '../../src/navsim/pdm-closed-geometry.js';
import { PdmPath, parallelDiscretePath } from '../../src/navsim/pdm-closed-path.js';
import { PACIFICA } from '../../src/navsim/types.js';

const square = (x0: number, y0: number, s: number) => ringFromPoints([[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]]);

describe('PDM-Closed geometry (GEOS semantics)', () => {
  it('orientation is exact where the naive determinant rounds to the wrong sign', () => {
    // c is a hair left of the line a->b; the float determinant is lost in rounding
    const ax = 0.5, ay = 0.5, bx = 12, by = 12, cx = 24, cy = 24 + 2 ** -48;
    expect(orientation(ax, ay, bx, by, cx, cy)).toBe(1);
    expect(orientation(ax, ay, bx, by, 24, 24)).toBe(0);
    expect(orientation(ax, ay, bx, by, 24, 24 - 2 ** -48)).toBe(-1);
  });

  it('ringDistance is the exact minimum of segmentToSegment over all edge pairs (random boxes, repeated vertices)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const box = () => {
      const cx = rnd() * 20 - 10, cy = rnd() * 20 - 10, h = rnd() * 7, l = 0.5 + rnd() * 5, w = 0.5 + rnd() * 2;
      const pts: [number, number][] = [[l, w], [-l, w], [-l, -w], [-l, -w], [l, -w]].map(([x, y]) => [cx + x * Math.cos(h) - y * Math.sin(h), cy + x * Math.sin(h) + y * Math.cos(h)]);
      return ringFromPoints(pts); // the repeated corner is a zero-length edge
    };
    let positive = 0;
    for (let k = 0; k < 300; k++) {
      const a = box();
      const b = box();
      const d = ringDistance(a, b);
      if (d === 0) continue; // one inside the other or touching: the containment tests decide
      positive++;
      let best = Infinity;
      for (let i = 1; i < a.length / 2; i++) {
        for (let j = 1; j < b.length / 2; j++) {
          const v = segmentToSegment(a[2 * i - 2]!, a[2 * i - 1]!, a[2 * i]!, a[2 * i + 1]!, b[2 * j - 2]!, b[2 * j - 1]!, b[2 * j]!, b[2 * j + 1]!);
          if (v < best) best = v;
        }
      }
      expect(d).toBe(best);
    }
    expect(positive).toBeGreaterThan(150);
  });

  it('touching polygons intersect (closed sets), point location separates boundary and interior', () => {
    const a = square(0, 0, 1);
    expect(ringsIntersect(a, square(1, 0, 1))).toBe(true);
    expect(ringsIntersect(a, square(1 + 1e-12, 0, 1))).toBe(false);
    expect(ringsIntersect(a, square(0.25, 0.25, 0.5))).toBe(true); // containment
    expect(locatePointInRing(0.5, 0.5, a)).toBe(INTERIOR);
    expect(locatePointInRing(1, 0.5, a)).toBe(BOUNDARY);
    expect(locatePointInRing(1.5, 0.5, a)).toBe(EXTERIOR);
  });

  it('distance, centroid and within', () => {
    expect(ringDistance(square(0, 0, 1), square(3, 0, 1))).toBe(2);
    expect(ringDistance(square(0, 0, 1), square(2, 2, 1))).toBeCloseTo(Math.SQRT2, 15);
    expect(ringDistance(square(0, 0, 4), square(1, 1, 1))).toBe(0);
    const c = ringCentroid(boxRing(3, -2, 0.7, 4.8, 2));
    expect(c[0]).toBeCloseTo(3, 12);
    expect(c[1]).toBeCloseTo(-2, 12);
    expect(ringWithin(square(1, 1, 1), square(0, 0, 4))).toBe(true);
    expect(ringWithin(square(3, 3, 2), square(0, 0, 4))).toBe(false);
  });

  it('box corners follow nuPlan order FL, RL, RR, FR', () => {
    const r = boxRing(0, 0, 0, 4, 2);
    expect(Array.from(r)).toEqual([2, 1, -2, 1, -2, -1, 2, -1, 2, 1]);
    expect(PACIFICA.rearAxleToCenter).toBe(5.176 / 2 - 1.127);
  });

  it('projection picks the first closest segment and clamps to the ends', () => {
    const xy = new Float64Array([0, 0, 10, 0, 10, 10]);
    expect(projectOnPolyline(xy, 5, 3)).toBe(5);
    expect(projectOnPolyline(xy, -4, 1)).toBe(0);
    expect(projectOnPolyline(xy, 12, 15)).toBe(20);
    expect(projectOnPolyline(xy, 13, 4)).toBe(14);
  });

  it('the corridor has square caps and round joins', () => {
    const c = new Corridor(new Float64Array([0, 0, 10, 0]), 1);
    // a point-sized box just inside the square cap corner (outside a round cap)
    expect(c.intersects(square(-0.99, 0.98, 0.001))).toBe(true);
    expect(c.intersects(square(-1.01, 0, 0.001))).toBe(false);
    expect(c.intersects(square(5, 1.0, 0.5))).toBe(true); // touches the side
    expect(c.intersects(square(5, 1.001, 0.5))).toBe(false);
    const bent = new Corridor(new Float64Array([0, 0, 10, 0, 10, 10]), 1);
    // outside corner of the join: inside the disc of radius 1 around (10, 0)
    expect(bent.intersects(square(10.6, -0.75, 0.01))).toBe(true);
    expect(bent.intersects(square(10.8, -0.8, 0.01))).toBe(false);
  });
});

describe('PdmPath (pdm_path.py)', () => {
  const states = new Float64Array([0, 0, 0, 1, 0, 0, 2, 0, 3.1, 3, 0, -3.1]);
  it('unwraps headings, clips distances and interpolates like interp1d', () => {
    const p = new PdmPath(states);
    expect(p.length).toBe(3);
    expect(p.heading[3]).toBeCloseTo(2 * Math.PI - 3.1, 12);
    const out = new Float64Array(3);
    p.interpolateInto(-5, out, 0);
    expect(out[0]).toBeCloseTo(1e-5, 15);
    p.interpolateInto(10, out, 0);
    expect(out[0]).toBe(3);
    p.interpolateInto(2.5, out, 0);
    expect(out[0]).toBe(2.5);
    // halfway between 3.1 and 2pi-3.1 is pi: wrapped by atan2 into (-pi, pi]
    expect(Math.abs(out[2]!)).toBeCloseTo(Math.PI, 12);
  });

  it('the pruned projection equals the exhaustive GEOS scan bit for bit', () => {
    const states: number[] = [];
    for (let i = 0; i < 300; i++) states.push(i * 0.7, 5 * Math.sin(i / 20), 0);
    const p = new PdmPath(Float64Array.from(states));
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 240 - 20;
    for (let k = 0; k < 2000; k++) {
      const x = rnd();
      const y = rnd() / 4;
      expect(p.project(x, y)).toBe(p.projectExhaustive(x, y));
    }
    // a point exactly on a vertex (two segments at distance 0)
    expect(p.project(states[30]!, states[31]!)).toBe(p.projectExhaustive(states[30]!, states[31]!));
  });

  it('substring keeps the original vertices, and falls back to interpolated ends', () => {
    const p = new PdmPath(new Float64Array([0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0]));
    expect(Array.from(p.substring(0.5, 2.5))).toEqual([1, 0, 2, 0]);
    expect(Array.from(p.substring(1.2, 1.7))).toEqual([1.2, 0, 1.7, 0]);
    expect(Array.from(p.substring(2, 2))).toEqual([2, 0]);
  });

  it('parallel paths shift along heading + pi/2', () => {
    const off = parallelDiscretePath(new Float64Array([0, 0, 0, 1, 0, Math.PI / 2]), 1);
    expect(off[0]).toBeCloseTo(0, 15);
    expect(off[1]).toBe(1);
    expect(off[3]).toBe(0);
    expect(off[4]).toBeCloseTo(0, 15);
  });
});
