import { describe, expect, it } from 'vitest';
import { castRays, orientedBoxBounds, rayAabb, rayCircle, rayOrientedBox, rayRing, raySegment } from '../../src/geometry/ray.js';
import { GridIndex } from '../../src/geometry/spatial.js';
import { boxCorners } from '../../src/geometry/box.js';
import { Rng } from '../../src/core/rng.js';

describe('ray casting', () => {
  it('hits axis-aligned and oriented boxes at the analytic distance', () => {
    expect(rayAabb(0, 0, 1, 0, 5, -1, 7, 1)).toBe(5);
    expect(rayAabb(0, 0, -1, 0, 5, -1, 7, 1)).toBe(Infinity);
    expect(rayAabb(6, 0, 1, 0, 5, -1, 7, 1)).toBe(0); // inside
    expect(rayAabb(0, 0, 1, 0, 5, -1, 7, 1, 4)).toBe(Infinity); // beyond maxT
    // A car 4.5 x 1.8 at (20, 0) rotated 90 deg: its long side spans x in [19.1, 20.9].
    expect(rayOrientedBox(0, 0, 1, 0, 20, 0, Math.PI / 2, 2.25, 0.9)).toBeCloseTo(19.1, 12);
    // Diagonal box hit on its corner: a square of half size 1 rotated 45 deg at (10, 0).
    expect(rayOrientedBox(0, 0, 1, 0, 10, 0, Math.PI / 4, 1, 1)).toBeCloseTo(10 - Math.SQRT2, 12);
    // Grazing the edge counts (touching).
    expect(rayOrientedBox(0, 1, 1, 0, 10, 0, 0, 1, 1)).toBeCloseTo(9, 12);
  });

  it('hits segments, circles and rings', () => {
    expect(raySegment(0, 0, 1, 0, 3, -1, 3, 1)).toBe(3);
    expect(raySegment(0, 0, 1, 0, 3, 1, 3, 2)).toBe(Infinity);
    expect(raySegment(0, 0, 1, 0, 2, 0, 5, 0)).toBe(2); // collinear
    expect(raySegment(0, 0, 1, 0, -5, 0, -2, 0)).toBe(Infinity);
    expect(rayCircle(0, 0, 1, 0, 10, 0, 2)).toBeCloseTo(8, 12);
    expect(rayCircle(0, 0, 0, 1, 10, 0, 2)).toBe(Infinity);
    const ring = boxCorners(20, 0, Math.PI / 2, 2.25, 0.9, new Float64Array(8));
    expect(rayRing(0, 0, 1, 0, ring, 0, 4)).toBeCloseTo(19.1, 12);
    expect(rayRing(20, 0, 1, 0, ring, 0, 4)).toBe(0);
  });

  it('oriented-box and ring (box.ts corners) tests agree on random rays', () => {
    const rng = new Rng(5);
    const ring = new Float64Array(8);
    for (let i = 0; i < 500; i++) {
      const cx = rng.uniform(-20, 20), cy = rng.uniform(-20, 20), h = rng.uniform(-Math.PI, Math.PI);
      const hl = rng.uniform(0.5, 3), hw = rng.uniform(0.5, 1.5);
      const a = rng.uniform(0, 2 * Math.PI);
      const ox = rng.uniform(-30, 30), oy = rng.uniform(-30, 30);
      boxCorners(cx, cy, h, hl, hw, ring);
      const t1 = rayOrientedBox(ox, oy, Math.cos(a), Math.sin(a), cx, cy, h, hl, hw);
      const t2 = rayRing(ox, oy, Math.cos(a), Math.sin(a), ring, 0, 4);
      if (t1 === Infinity) expect(t2).toBe(Infinity);
      else expect(t2).toBeCloseTo(t1, 9);
    }
  });

  it('castRays: a lidar sweep matches per-ray casting, with and without the grid', () => {
    const rng = new Rng(9);
    const count = 40;
    const boxes = new Float64Array(5 * count);
    for (let i = 0; i < count; i++) boxes.set([rng.uniform(-80, 80), rng.uniform(-80, 80), rng.uniform(-3, 3), 2.25, 0.9], 5 * i);
    const index = new GridIndex(orientedBoxBounds(boxes), { cellSize: 10 });
    const a = castRays(1, 2, 0.3, boxes, count, new Float32Array(240));
    const b = castRays(1, 2, 0.3, boxes, count, new Float32Array(240), { index });
    expect(Array.from(b)).toEqual(Array.from(a));
    for (let i = 0; i < 240; i++) {
      const ang = 0.3 + (i * 2 * Math.PI) / 240;
      let best = 50;
      for (let k = 0; k < count; k++) {
        const t = rayOrientedBox(1, 2, Math.cos(ang), Math.sin(ang), boxes[5 * k]!, boxes[5 * k + 1]!, boxes[5 * k + 2]!, 2.25, 0.9, 50);
        if (t < best) best = t;
      }
      expect(a[i]).toBeCloseTo(best / 50, 6);
    }
    expect(a.some((v) => v < 1)).toBe(true);
  });

  it('castRays: a car straight ahead at 10 m and one on the left at 20 m', () => {
    // Boxes side-on: front face of the first at x = 10 - 0.9.
    const boxes = Float64Array.from([10, 0, Math.PI / 2, 2.25, 0.9, 0, 20, 0, 2.25, 0.9, 0, 0, 0, 2.25, 0.9]);
    const out = castRays(0, 0, 0, boxes, 3, new Float64Array(240), { exclude: 2 });
    expect(out[0]).toBeCloseTo(9.1 / 50, 12);
    expect(out[60]).toBeCloseTo((20 - 0.9) / 50, 12); // ray 60 = +90 deg (left)
    expect(out[120]).toBe(1);
  });
});
