import { describe, expect, it } from 'vitest';
import { boxBounds, boxCorners, boxesIntersect, segmentIntersectsBox } from '../../src/geometry/box.js';

describe('oriented boxes (nuPlan OrientedBox)', () => {
  it('corner order FL, RL, RR, FR', () => {
    const c = boxCorners(0, 0, 0, 2, 1, new Float64Array(8));
    expect(Array.from(c).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([2, 1, -2, 1, -2, -1, 2, -1]);
    const r = boxCorners(1, 1, Math.PI / 2, 2, 1, new Float64Array(8));
    expect(r[0]).toBeCloseTo(0, 12); // front-left of a north-facing box is to the west
    expect(r[1]).toBeCloseTo(3, 12);
    const b = boxBounds(r, 0, new Float64Array(4));
    expect(b[0]).toBeCloseTo(0, 12);
    expect(b[3]).toBeCloseTo(3, 12);
  });
  it('intersection is closed and rotation aware', () => {
    const a = boxCorners(0, 0, 0, 2, 1, new Float64Array(8));
    const touching = boxCorners(4, 0, 0, 2, 1, new Float64Array(8));
    expect(boxesIntersect(a, 0, touching, 0)).toBe(true);
    const apart = boxCorners(4.001, 0, 0, 2, 1, new Float64Array(8));
    expect(boxesIntersect(a, 0, apart, 0)).toBe(false);
    // a rotated box whose bounds overlap but which does not touch
    const rot = boxCorners(3.2, 2.2, Math.PI / 4, 1, 0.2, new Float64Array(8));
    expect(boxesIntersect(a, 0, rot, 0)).toBe(false);
    const rot2 = boxCorners(2.5, 1.2, Math.PI / 4, 1, 0.2, new Float64Array(8));
    expect(boxesIntersect(a, 0, rot2, 0)).toBe(true);
  });
  it('segment vs box', () => {
    const a = boxCorners(0, 0, 0, 2, 1, new Float64Array(8));
    expect(segmentIntersectsBox(2, -5, 2, 5, a, 0)).toBe(true); // along the front edge
    expect(segmentIntersectsBox(3, -5, 3, 5, a, 0)).toBe(false);
    expect(segmentIntersectsBox(-0.5, 0, 0.5, 0, a, 0)).toBe(true); // fully inside
  });
});
