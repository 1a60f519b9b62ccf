import { describe, expect, it } from 'vitest';
import { BOX_STRIDE, castLidar, castLidarBruteForce } from '../../src/env/lidar.js';
import { Rng } from '../../src/core/rng.js';

function boxes(...b: number[][]): Float64Array {
  return Float64Array.from(b.flat());
}

describe('castLidar', () => {
  it('reads 1 everywhere with nothing around', () => {
    const out = new Float32Array(240);
    expect(castLidar(0, 0, 0, 240, 50, new Float64Array(0), 0, out)).toBe(0);
    expect(out.every((v) => v === 1)).toBe(true);
  });

  it('hits an axis-aligned box straight ahead at centre distance minus half length', () => {
    // Box 4 m long, 2 m wide, centred 10 m ahead: ray 0 hits its rear face at 8 m.
    const out = new Float32Array(240);
    castLidar(0, 0, 0, 240, 50, boxes([10, 0, 0, 4, 2]), 1, out);
    expect(out[0]).toBeCloseTo(8 / 50, 6);
    // Ray i at angle i * 1.5 deg hits the face x = 8 at distance 8 / cos(angle) while |y| <= 1.
    const a = (3 * 2 * Math.PI) / 240;
    expect(8 * Math.tan(a)).toBeLessThan(1);
    expect(out[3]).toBeCloseTo(8 / Math.cos(a) / 50, 6);
    // Rays pointing elsewhere miss.
    expect(out[60]).toBe(1);
    expect(out[120]).toBe(1);
  });

  it('uses the heading: a box to the left is seen by ray N/4', () => {
    const out = new Float32Array(240);
    castLidar(5, 5, Math.PI / 2, 240, 50, boxes([5 - 20, 5, 0, 4, 2]), 1, out);
    // Heading up, ray 60 points to -x (left of the vehicle), box face at x = 5 - 18.
    expect(out[60]).toBeCloseTo(18 / 50, 6);
  });

  it('hits a rotated box on its corner and its face as geometry says', () => {
    // Square 2x2 rotated 45 deg at (10, 0): nearest point along +x is its corner at 10 - sqrt(2).
    const out = new Float32Array(360);
    castLidar(0, 0, 0, 360, 50, boxes([10, 0, Math.PI / 4, 2, 2]), 1, out);
    expect(out[0]).toBeCloseTo((10 - Math.SQRT2) / 50, 6);
  });

  it('ignores boxes beyond range and clips partial ones', () => {
    const out = new Float32Array(240);
    castLidar(0, 0, 0, 240, 50, boxes([60, 0, 0, 4, 2]), 1, out);
    expect(out[0]).toBe(1);
    castLidar(0, 0, 0, 240, 50, boxes([51, 0, 0, 4, 2]), 1, out);
    expect(out[0]).toBeCloseTo(49 / 50, 6);
  });

  it('keeps the nearest of overlapping boxes and reports which boxes were seen', () => {
    const out = new Float32Array(240);
    const mask = new Uint8Array(2);
    castLidar(0, 0, 0, 240, 50, boxes([20, 0, 0, 4, 2], [10, 0, 0, 4, 2]), 2, out, 0, mask);
    expect(out[0]).toBeCloseTo(8 / 50, 6);
    // The far box (index 0) is completely hidden behind the near one (index 1).
    expect(mask[1]).toBe(1);
    expect(mask[0]).toBe(0);
  });

  it('matches the brute-force caster on random scenes', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 30; trial++) {
      const n = rng.int(1, 12);
      const b = new Float64Array(n * BOX_STRIDE);
      for (let i = 0; i < n; i++) {
        let x = 0, y = 0;
        while (Math.hypot(x, y) < 4) {
          x = rng.uniform(-60, 60);
          y = rng.uniform(-60, 60);
        }
        b.set([x, y, rng.uniform(-Math.PI, Math.PI), rng.uniform(3, 6), rng.uniform(1.5, 2.5)], i * BOX_STRIDE);
      }
      const h = rng.uniform(-Math.PI, Math.PI);
      const fast = new Float32Array(240);
      const slow = new Float32Array(240);
      castLidar(0, 0, h, 240, 50, b, n, fast);
      castLidarBruteForce(0, 0, h, 240, 50, b, n, slow);
      for (let i = 0; i < 240; i++) expect(fast[i]).toBeCloseTo(slow[i]!, 6);
    }
  });
});
