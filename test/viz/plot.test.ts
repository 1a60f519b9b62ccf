import { describe, expect, it } from 'vitest';
import { lineChart, logTicks, niceTicks } from '../../src/viz/index.js';
import { display, inNotebook } from '../../src/node.js';

describe('niceTicks', () => {
  it('gives round steps covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97, 5)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(-2.5, 2.5, 5)).toEqual([-2, -1, 0, 1, 2]);
    expect(() => niceTicks(0, Number.NaN)).toThrow(/finite/);
  });
});

describe('logTicks', () => {
  it('uses 1-2-5 steps per decade, thinning to decades over wide ranges', () => {
    expect(logTicks(0.3, 2.1)).toEqual([0.5, 1, 2]);
    expect(logTicks(1e-4, 10)).toEqual([0.0001, 0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.31, 0.45)).toEqual([0.35, 0.4, 0.45]);
    expect(() => logTicks(0, 1)).toThrow(/> 0/);
  });
});

describe('lineChart', () => {
  it('draws one path per series with the data mapped into the plot area', () => {
    const svg = lineChart([{ name: 'loss', y: [4, 2, 1] }, { name: 'val', x: [0, 2], y: [3, 1.5] }], { title: 'IL', width: 400, height: 200 });
    expect(svg.startsWith('<svg')).toBe(true);
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(2);
    // First point of 'loss' at x = 0 -> left edge (64 px); last at x = 2 -> right edge (400 - 16).
    expect(paths[0]!.startsWith('M64.0,')).toBe(true);
    expect(paths[0]!).toMatch(/L384\.0,[0-9.]+$/);
    expect(svg).toContain('>loss<');
    expect(svg).toContain('>IL<');
  });

  it('drops non-positive values on a log axis and rejects bad input', () => {
    const svg = lineChart([{ name: 'l', y: [10, 0, 1, 0.1] }], { logY: true });
    expect([...svg.matchAll(/[ML][0-9.]+,[0-9.]+/g)]).toHaveLength(3);
    expect(() => lineChart([])).toThrow(/no series/);
    expect(() => lineChart([{ name: 'a', x: [1], y: [1, 2] }])).toThrow(/1 x values and 2 y values/);
  });
});

describe('display outside a notebook', () => {
  it('does nothing and does not throw', () => {
    expect(inNotebook()).toBe(false);
    expect(display({ svg: '<svg/>' })).toBe(false);
    expect(display('<b>x</b>')).toBe(false);
  });
});
