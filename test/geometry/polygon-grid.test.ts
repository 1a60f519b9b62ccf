/**
 * The lazily classified cell grid of `PreparedPolygon` must give exactly the brute-force GEOS
 * location: random points, vertices, edge midpoints and points on cell borders, before and after
 * the grid is built, with holes, and with the grid built at the first query; `containsStrictAt`
 * (the point read from an array) agrees, grid or not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Location, PreparedPolygon, locatePointInRing } from '../../src/geometry/polygon.js';

const DEFAULT_AFTER = PreparedPolygon.cellGridAfterQueries;
afterEach(() => {
  PreparedPolygon.cellGridAfterQueries = DEFAULT_AFTER;
});

function annulusSector(r0: number, r1: number, n: number, rot: number): Float64Array {
  const ring: number[] = [];
  for (let i = 0; i <= n; i++) {
    const a = (i / n) * Math.PI + rot;
    ring.push(r1 * Math.cos(a), r1 * Math.sin(a));
  }
  for (let i = n; i >= 0; i--) {
    const a = (i / n) * Math.PI + rot;
    ring.push(r0 * Math.cos(a), r0 * Math.sin(a));
  }
  return new Float64Array(ring);
}

/** Brute-force location with holes (GEOS: boundary of any ring wins, inside a hole is exterior). */
function brute(x: number, y: number, shell: Float64Array, holes: Float64Array[]): Location {
  const s = locatePointInRing(x, y, shell);
  if (s !== Location.Interior) return s;
  for (const h of holes) {
    const l = locatePointInRing(x, y, h);
    if (l === Location.Boundary) return Location.Boundary;
    if (l === Location.Interior) return Location.Exterior;
  }
  return Location.Interior;
}

describe('PreparedPolygon cell grid', () => {
  // 1e9: never a grid (the exact band test, inline in containsStrictAt)
  for (const after of [1, 32, 1e9]) {
    it(`matches brute force (grid after ${after} queries), with holes and border points`, () => {
      PreparedPolygon.cellGridAfterQueries = after;
      const shell = annulusSector(20, 34, 120, 0.3);
      const hole = new Float64Array([0, 26, 3, 26, 3, 29, 0, 29]);
      const p = new PreparedPolygon(shell, [hole]);
      let s = 11;
      const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
      const pts: [number, number][] = [];
      for (let k = 0; k < 6000; k++) pts.push([rnd() * 72 - 36, rnd() * 46 - 12]);
      // vertices, edge midpoints and their tiny offsets
      for (let i = 0; i + 3 < shell.length; i += 2) {
        pts.push([shell[i]!, shell[i + 1]!]);
        const mx = (shell[i]! + shell[i + 2]!) / 2;
        const my = (shell[i + 1]! + shell[i + 3]!) / 2;
        pts.push([mx, my], [mx + 1e-12, my], [mx, my - 1e-9]);
      }
      for (let i = 0; i < hole.length; i += 2) pts.push([hole[i]!, hole[i + 1]!], [hole[i]! + 1e-10, hole[i + 1]! + 1e-10]);
      // points on grid cell borders: a lattice over the bounds at the grid's spacing and half of it
      const w = p.bounds[2]! - p.bounds[0]!;
      const h = p.bounds[3]! - p.bounds[1]!;
      const cs = Math.max(Math.sqrt((w * h) / 16384), Math.max(w, h) / 4096);
      for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) pts.push([p.bounds[0]! + i * 3 * cs, p.bounds[1]! + j * 2.5 * cs]);
      const counts = [0, 0, 0];
      // twice: the second pass reads the cells classified by the first
      for (let pass = 0; pass < 2; pass++) {
        for (const [x, y] of pts) {
          const want = brute(x, y, shell, [hole]);
          expect(p.locate(x, y)).toBe(want);
          expect(p.containsStrict(x, y)).toBe(want === Location.Interior);
          expect(p.containsStrictAt(new Float64Array([NaN, x, y]), 1)).toBe(want === Location.Interior);
          counts[want]!++;
        }
      }
      expect(counts[Location.Interior]).toBeGreaterThan(500);
      expect(counts[Location.Boundary]).toBeGreaterThan(100);
      expect(counts[Location.Exterior]).toBeGreaterThan(500);
    });
  }
});
