import { describe, expect, it } from 'vitest';
import { GridIndex, segmentBounds } from '../../src/geometry/spatial.js';
import { Rng } from '../../src/core/rng.js';

function brute(bounds: Float64Array, x0: number, y0: number, x1: number, y1: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bounds.length / 4; i++) {
    if (bounds[4 * i]! > x1 || bounds[4 * i + 2]! < x0 || bounds[4 * i + 1]! > y1 || bounds[4 * i + 3]! < y0) continue;
    out.push(i);
  }
  return out;
}

describe('GridIndex', () => {
  const rng = new Rng(11);
  const n = 500;
  const bounds = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = rng.uniform(-300, 300), y = rng.uniform(-200, 200);
    const w = rng.uniform(0, 12), h = rng.uniform(0, 12);
    bounds.set([x, y, x + w, y + h], 4 * i);
  }

  it('box queries equal brute force, each item once', () => {
    for (const cellSize of [undefined, 3, 50]) {
      const idx = new GridIndex(bounds, cellSize ? { cellSize } : {});
      for (let q = 0; q < 200; q++) {
        const x = rng.uniform(-350, 350), y = rng.uniform(-250, 250), r = rng.uniform(0, 40);
        const got = idx.queryBox(x - r, y - r, x + r, y + r).sort((a, b) => a - b);
        expect(got).toEqual(brute(bounds, x - r, y - r, x + r, y + r));
      }
    }
  });

  it('queries outside the grid return nothing; touching bounds count', () => {
    const idx = new GridIndex(Float64Array.from([0, 0, 1, 1, 5, 5, 6, 6]), { cellSize: 1 });
    expect(idx.queryBox(100, 100, 101, 101)).toEqual([]);
    expect(idx.queryPoint(1, 1)).toEqual([0]);
    expect(idx.queryPoint(3, 3, 2).sort()).toEqual([0, 1]);
    expect(idx.queryPoint(3, 3, 1.9)).toEqual([]);
  });

  it('segment queries find exactly the boxes the segment crosses', () => {
    const idx = new GridIndex(Float64Array.from([0, 0, 1, 1, 2, 2, 3, 3, 0, 5, 1, 6]), { cellSize: 0.7 });
    expect(idx.querySegment(-1, -1, 4, 4).sort()).toEqual([0, 1]);
    expect(idx.querySegment(0.5, -1, 0.5, 10).sort()).toEqual([0, 2]);
    expect(idx.querySegment(-1, 2.5, 1, 2.5)).toEqual([]);
  });

  it('nearest uses the exact distance given', () => {
    const pts = [0, 0, 10, 0, 3, 4];
    const b = Float64Array.from([0, 0, 0, 0, 10, 0, 10, 0, 3, 4, 3, 4]);
    const idx = new GridIndex(b, { cellSize: 2 });
    const near = idx.nearest(4, 3, 20, (i) => Math.hypot(pts[2 * i]! - 4, pts[2 * i + 1]! - 3));
    expect(near.index).toBe(2);
    expect(near.distance).toBeCloseTo(Math.SQRT2, 12);
    expect(idx.nearest(50, 50, 5, () => 0).index).toBe(-1);
  });

  it('indexes polyline segments', () => {
    const sb = segmentBounds([0, 0, 4, 3, 4, -1]);
    expect(Array.from(sb)).toEqual([0, 0, 4, 3, 4, -1, 4, 3]);
    expect(() => new GridIndex([0, 0, 1])).toThrow(/multiple of 4/);
    expect(() => new GridIndex([1, 0, 0, 1])).toThrow(/invalid bounds/);
  });
});
