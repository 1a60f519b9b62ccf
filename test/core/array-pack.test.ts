import { describe, expect, it } from 'vitest';
import { ArrayPack } from '../../src/core/array-pack.js';

describe('ArrayPack', () => {
  it('hands out zeroed, aligned, disjoint views of one buffer', () => {
    const pack = new ArrayPack(ArrayPack.f64Bytes(3) + ArrayPack.i32Bytes(3) + ArrayPack.u8Bytes(5) + ArrayPack.f64Bytes(2));
    expect(ArrayPack.i32Bytes(3)).toBe(16);
    expect(ArrayPack.u8Bytes(5)).toBe(8);
    const a = pack.f64(3);
    const b = pack.i32(3);
    const c = pack.u8(5);
    const d = pack.f64(2);
    expect(pack.remaining).toBe(0);
    for (const v of [a, b, c, d]) expect(v.buffer).toBe(a.buffer);
    expect([a.byteOffset, b.byteOffset, c.byteOffset, d.byteOffset]).toEqual([0, 24, 40, 48]);
    expect([a.length, b.length, c.length, d.length]).toEqual([3, 3, 5, 2]);
    expect([...a, ...b, ...c, ...d].every((x) => x === 0)).toBe(true);
    a.fill(1.5);
    b.fill(-7);
    c.fill(255);
    d.fill(2.25);
    // writing one view leaves the others as written
    expect(Array.from(a)).toEqual([1.5, 1.5, 1.5]);
    expect(Array.from(b)).toEqual([-7, -7, -7]);
    expect(Array.from(c)).toEqual([255, 255, 255, 255, 255]);
    expect(Array.from(d)).toEqual([2.25, 2.25]);
  });

  it('refuses a view that does not fit and takes empty views', () => {
    const pack = new ArrayPack(16);
    expect(pack.f64(0).length).toBe(0);
    expect(pack.f64(2).length).toBe(2);
    expect(() => pack.i32(1)).toThrow(/does not fit \(0 of 16 left\)/);
  });
});
