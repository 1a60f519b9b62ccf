import { describe, expect, it } from 'vitest';
import {
  Polyline,
  cumulativeLengths,
  distanceToPolyline,
  interpolatePolyline,
  polylineHeadingAt,
  polylineLength,
  projectOnPolyline,
  resamplePolyline,
  segmentAt,
} from '../../src/geometry/polyline.js';
import { Rng } from '../../src/core/rng.js';

// An L: (0,0) -> (10,0) -> (10,5).
const L = Float64Array.from([0, 0, 10, 0, 10, 5]);

describe('polyline', () => {
  it('measures cumulative and total length', () => {
    expect([...cumulativeLengths(L)]).toEqual([0, 10, 15]);
    expect(polylineLength(L)).toBe(15);
    expect(() => cumulativeLengths([1, 2, 3])).toThrow(/even number/);
  });

  it('projects points: arc length, signed offset (left positive), nearest point', () => {
    const p = projectOnPolyline(L, 4, 2);
    expect(p.s).toBeCloseTo(4, 12);
    expect(p.distance).toBeCloseTo(2, 12);
    expect(p.lateral).toBeCloseTo(2, 12); // left of +x travel
    expect([p.x, p.y, p.segment]).toEqual([4, 0, 0]);
    const q = projectOnPolyline(L, 12, 3);
    expect(q.s).toBeCloseTo(13, 12);
    expect(q.lateral).toBeCloseTo(-2, 12); // right of +y travel
    expect(q.segment).toBe(1);
    // Beyond the end: clamps to the last vertex.
    const r = projectOnPolyline(L, 10, 9);
    expect(r.s).toBeCloseTo(15, 12);
    expect(r.distance).toBeCloseTo(4, 12);
    // Restricting the segment range changes the answer.
    expect(projectOnPolyline(L, 9, 1, undefined, 1, 2).s).toBeCloseTo(11, 12);
  });

  it('projection agrees with brute-force dense sampling on random polylines', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const pts = new Float64Array(16);
      for (let i = 0; i < 8; i++) {
        pts[2 * i] = i * 5 + rng.uniform(-2, 2);
        pts[2 * i + 1] = rng.uniform(-4, 4);
      }
      const pl = new Polyline(pts);
      const px = rng.uniform(-5, 40), py = rng.uniform(-10, 10);
      const proj = pl.project(px, py);
      let best = Infinity;
      const p = new Float64Array(2);
      for (let s = 0; s <= pl.length; s += 0.001) {
        pl.interpolate(s, p);
        best = Math.min(best, Math.hypot(p[0]! - px, p[1]! - py));
      }
      expect(proj.distance).toBeLessThanOrEqual(best + 1e-9);
      expect(proj.distance).toBeGreaterThan(best - 1e-3);
      expect(distanceToPolyline(pts, px, py)).toBeCloseTo(proj.distance, 12);
      const at = pl.interpolate(proj.s);
      expect(Math.hypot(at[0]! - proj.x, at[1]! - proj.y)).toBeLessThan(1e-9);
    }
  });

  it('interpolates, extrapolates or clamps, and gives headings', () => {
    const cum = cumulativeLengths(L);
    expect([...interpolatePolyline(L, 12.5, cum)]).toEqual([10, 2.5]);
    expect([...interpolatePolyline(L, -2, cum)]).toEqual([-2, 0]);
    expect([...interpolatePolyline(L, -2, cum, new Float64Array(2), true)]).toEqual([0, 0]);
    expect([...interpolatePolyline(L, 17, cum)]).toEqual([10, 7]);
    expect(polylineHeadingAt(L, 3)).toBe(0);
    expect(polylineHeadingAt(L, 14)).toBeCloseTo(Math.PI / 2, 15);
    expect(segmentAt(cum, 10)).toBe(1);
    expect(segmentAt(cum, 9.99)).toBe(0);
  });

  it('resamples at a fixed step keeping the end point', () => {
    const r = resamplePolyline(L, 4);
    expect(Array.from(r)).toEqual([0, 0, 4, 0, 8, 0, 10, 2, 10, 5]);
    expect(resamplePolyline([0, 0, 8, 0], 4).length).toBe(6);
    expect(() => resamplePolyline(L, 0)).toThrow(/step must be > 0/);
  });
});
