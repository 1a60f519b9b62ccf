import { describe, expect, it } from 'vitest';
import {
  Location,
  PreparedPolygon,
  locatePointInRing,
  orient2d,
  ringCentroid,
  ringsIntersect,
  segmentsIntersect,
} from '../../src/geometry/polygon.js';

const square = new Float64Array([0, 0, 2, 0, 2, 2, 0, 2]);

describe('orient2d', () => {
  it('signs and exact collinearity', () => {
    expect(orient2d(0, 0, 1, 0, 0.5, 1)).toBe(1);
    expect(orient2d(0, 0, 1, 0, 0.5, -1)).toBe(-1);
    expect(orient2d(0, 0, 1, 1, 3, 3)).toBe(0);
    // nearly collinear: the naive determinant is wrong here, the exact predicate is not
    const x = 0.5 + 2 ** -52;
    expect(orient2d(0.5, 0.5, 12, 12, 24, 24)).toBe(0);
    expect(orient2d(x, 0.5, 12, 12, 24, 24)).toBe(-orient2d(0.5 - 2 ** -53, 0.5, 12, 12, 24, 24));
  });
});

describe('point location (GEOS semantics)', () => {
  it('boundary points are not strictly inside', () => {
    expect(locatePointInRing(1, 1, square)).toBe(Location.Interior);
    expect(locatePointInRing(2, 1, square)).toBe(Location.Boundary);
    expect(locatePointInRing(0, 0, square)).toBe(Location.Boundary);
    expect(locatePointInRing(3, 1, square)).toBe(Location.Exterior);
    const p = new PreparedPolygon(square);
    expect(p.containsStrict(1, 1)).toBe(true);
    expect(p.containsStrict(1, 2)).toBe(false);
  });
  it('holes are exterior, their boundary is boundary', () => {
    const shell = new Float64Array([0, 0, 10, 0, 10, 10, 0, 10]);
    const hole = new Float64Array([4, 4, 6, 4, 6, 6, 4, 6]);
    const p = new PreparedPolygon(shell, [hole]);
    expect(p.locate(5, 5)).toBe(Location.Exterior);
    expect(p.locate(4, 5)).toBe(Location.Boundary);
    expect(p.locate(2, 5)).toBe(Location.Interior);
  });
  it('prepared (banded + cell-classified) location equals brute force on a curved polygon', () => {
    const ring: number[] = [];
    for (let i = 0; i <= 100; i++) {
      const a = (i / 100) * Math.PI;
      ring.push(30 * Math.cos(a), 30 * Math.sin(a));
    }
    for (let i = 100; i >= 0; i--) {
      const a = (i / 100) * Math.PI;
      ring.push(26 * Math.cos(a), 26 * Math.sin(a));
    }
    const r = new Float64Array(ring);
    const p = new PreparedPolygon(r);
    let s = 7;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    let inside = 0;
    for (let k = 0; k < 4000; k++) {
      const x = rnd() * 64 - 32;
      const y = rnd() * 34 - 2;
      const brute = locatePointInRing(x, y, r);
      expect(p.locate(x, y)).toBe(brute);
      if (brute === Location.Interior) inside++;
    }
    // vertices are boundary, also after the cell grid is built
    expect(p.locate(r[0]!, r[1]!)).toBe(Location.Boundary);
    expect(inside).toBeGreaterThan(100);
  });
});

describe('intersections (closed: touching counts)', () => {
  it('segments', () => {
    expect(segmentsIntersect(0, 0, 2, 2, 0, 2, 2, 0)).toBe(true);
    expect(segmentsIntersect(0, 0, 1, 0, 1, 0, 2, 5)).toBe(true); // shared endpoint
    expect(segmentsIntersect(0, 0, 1, 0, 2, 0, 3, 0)).toBe(false); // collinear, disjoint
    expect(segmentsIntersect(0, 0, 2, 0, 1, 0, 3, 0)).toBe(true); // collinear overlap
  });
  it('rings: touching, containment, disjoint', () => {
    const b = new Float64Array([2, 0, 4, 0, 4, 2, 2, 2]);
    expect(ringsIntersect(square, 0, 4, b, 0, 4)).toBe(true);
    const inner = new Float64Array([0.5, 0.5, 1, 0.5, 1, 1, 0.5, 1]);
    expect(ringsIntersect(square, 0, 4, inner, 0, 4)).toBe(true);
    const far = new Float64Array([2.001, 0, 4, 0, 4, 2, 2.001, 2]);
    expect(ringsIntersect(square, 0, 4, far, 0, 4)).toBe(false);
  });
  it('prepared polygon vs box ring', () => {
    const p = new PreparedPolygon(square);
    const touching = new Float64Array([2, 1, 3, 1, 3, 3, 2, 3]);
    expect(p.intersectsRing(touching, 4, [2, 1, 3, 3])).toBe(true);
    const apart = new Float64Array([2.5, 1, 3, 1, 3, 3, 2.5, 3]);
    expect(p.intersectsRing(apart, 4, [2.5, 1, 3, 3])).toBe(false);
  });
  it('GEOS centroid of a rectangle', () => {
    const c = ringCentroid(new Float64Array([1, 1, 3, 1, 3, 5, 1, 5]));
    expect(c[0]).toBeCloseTo(2, 14);
    expect(c[1]).toBeCloseTo(3, 14);
  });
});
