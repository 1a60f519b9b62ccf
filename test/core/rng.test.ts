import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  it('gives the same numbers for the same seed and different ones for another seed', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.uniform());
    const xb = Array.from({ length: 8 }, () => b.uniform());
    const xc = Array.from({ length: 8 }, () => c.uniform());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    for (const x of xa) expect(x >= 0 && x < 1).toBe(true);
  });

  it('splits into reproducible, distinct streams', () => {
    const [s1, s2] = new Rng(7).split(2);
    const [t1] = new Rng(7).split(2);
    const v1 = Array.from({ length: 4 }, () => s1!.uint32());
    expect(Array.from({ length: 4 }, () => t1!.uint32())).toEqual(v1);
    expect(Array.from({ length: 4 }, () => s2!.uint32())).not.toEqual(v1);
  });

  it('round-trips its state', () => {
    const r = new Rng(3);
    r.uniform();
    const copy = Rng.fromState(r.state());
    expect(copy.uint32()).toBe(r.uint32());
  });

  it('draws normals with the right moments and unbiased integers', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[r.int(0, 3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect(() => r.int(3, 3)).toThrow(/Invalid integer range/);
  });

  it('shuffles into a permutation', () => {
    const p = new Rng(5).permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
