import { describe, expect, it } from 'vitest';
import { generateMap } from '../../src/world/generator.js';
import { mapToSvg, renderMap } from '../../src/viz/map-svg.js';
import { SvgCanvas } from '../../src/viz/svg.js';
import { svgToPng } from '../../src/viz/png.js';

describe('SvgCanvas', () => {
  it('maps world to screen with equal axes and y up', () => {
    const c = new SvgCanvas([0, 0, 100, 50], { width: 220, padding: 10 });
    expect(c.scale).toBe(2);
    expect(c.height).toBe(120);
    expect([c.sx(0), c.sy(0)]).toEqual([10, 110]);
    expect([c.sx(100), c.sy(50)]).toEqual([210, 10]);
    c.orientedBox(50, 25, Math.PI / 2, 4, 2, { fill: 'red' });
    // A box 4 long pointing up is 8 px tall and 4 px wide on screen.
    expect(c.toString()).toContain('points="108.00,56.00 108.00,64.00 112.00,64.00 112.00,56.00"');
    expect(() => new SvgCanvas([0, 0, 0, 1])).toThrow(/empty bounds/);
    expect(new SvgCanvas([0, 0, 1, 1]).text(0, 0, '<a&b>').toString()).toContain('&lt;a&amp;b&gt;');
  });
});

describe('map rendering', () => {
  it('draws lanes, lines, route, vehicles, rays and trajectories; renders to PNG', () => {
    const m = generateMap(0, { map: 'XO' });
    const c = renderMap(m, {
      width: 400,
      title: 'test',
      vehicles: [{ x: 5, y: 0, heading: 0, length: 4.5, width: 1.8, ego: true }],
      trajectories: [{ points: [0, 0, 10, 0, 20, 1] }],
      rays: [{ x: 5, y: 0, ends: [55, 0, 5, 50], hits: [1, 0] }],
    });
    const svg = c.toString();
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('stroke-dasharray'); // broken lines
    expect(svg).toContain('#f2c230'); // yellow centre line
    expect(svg).toContain('fill-rule="evenodd"'); // roundabout island hole
    expect((svg.match(/<polygon/g) ?? []).length).toBeGreaterThan(m.network.allLanes().length);
    const png = svgToPng(svg);
    expect([...png.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(mapToSvg(m, { route: false })).not.toContain('fill-opacity="0.28"');
  });
});
