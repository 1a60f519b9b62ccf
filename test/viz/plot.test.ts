import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/core/logger.js';
import { barChartSpec, histogramSpec, lineChartSpec, renderSpec, smoothEma, trainingCurvesSpec, type ChartSpec } from '../../src/viz/index.js';
import { display, inNotebook, showChart, writeChart } from '../../src/node.js';

type Json = Record<string, any>;
const j = (s: ChartSpec) => s as unknown as Json;

/** Elements drawn by the `role-mark` groups of one mark type (`line` -> paths, `rect` -> paths, `rule` -> lines). */
function markItems(svg: string, type: string): number {
  let n = 0;
  for (const m of svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'g'))) n += (m[1]!.match(/<(path|line|rect)\b/g) ?? []).length;
  return n;
}

/** The text of the `<text>` elements inside groups of the given role (`axis-title`, `legend-label`, `title-text`). */
function texts(svg: string, role: string): string[] {
  const out: string[] = [];
  for (const m of svg.matchAll(new RegExp(`<g class="mark-text role-${role}"[^>]*>(.*?)</g>`, 'g'))) for (const t of m[1]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)) out.push(t[1]!);
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-plot-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('smoothEma', () => {
  it('is TensorBoard smoothing with bias correction', () => {
    expect(smoothEma([1, 3], 0.5)).toEqual([1, (0.25 + 1.5) / 0.75]);
    expect(smoothEma([2, 2, 2], 0.9).map((v) => +v.toFixed(12))).toEqual([2, 2, 2]);
    expect(smoothEma([1, Number.NaN, 3], 0)).toEqual([1, Number.NaN, 3]);
    expect(() => smoothEma([1], 1)).toThrow(/\[0, 1\)/);
  });
});

describe('lineChartSpec', () => {
  it('puts every finite point in the data with x, y and series encodings', () => {
    const s = j(lineChartSpec([{ name: 'loss', y: [4, 2, Number.NaN, 1] }, { name: 'val', x: [0, 2], y: [3, 1.5], color: '#000000' }], { title: 'IL', xLabel: 'epoch', yLabel: 'loss' }));
    expect(s.$schema).toMatch(/vega-lite\/v6/);
    expect(s.title).toBe('IL');
    expect(s.data.values).toEqual([
      { series: 'loss', x: 0, y: 4 },
      { series: 'loss', x: 1, y: 2 },
      { series: 'loss', x: 3, y: 1 },
      { series: 'val', x: 0, y: 3 },
      { series: 'val', x: 2, y: 1.5 },
    ]);
    expect(s.layer).toHaveLength(1);
    const enc = s.layer[0].encoding;
    expect(enc.x).toMatchObject({ field: 'x', type: 'quantitative', title: 'epoch' });
    expect(enc.y).toMatchObject({ field: 'y', type: 'quantitative', title: 'loss', scale: { zero: false } });
    expect(enc.color.scale).toEqual({ domain: ['loss', 'val'], range: ['#1f77b4', '#000000'] });
    expect(s.layer[0].mark).toMatchObject({ type: 'line', point: { size: 24 } });
  });

  it('log axes drop non-positive values; smoothing draws the raw values under the smoothed ones', () => {
    const s = j(lineChartSpec([{ name: 'l', y: [10, 0, 1, -1, 0.1] }], { logY: true, smooth: 0.5 }));
    expect(s.data.values.map((r: Json) => r.raw)).toEqual([10, 1, 0.1]);
    expect(s.data.values.map((r: Json) => r.y)).toEqual(smoothEma([10, 1, 0.1], 0.5));
    expect(s.layer).toHaveLength(2);
    expect(s.layer[0].encoding.y).toMatchObject({ field: 'raw', scale: { type: 'log' } });
    expect(s.layer[0].mark.opacity).toBeLessThan(1);
    expect(s.layer[1].encoding.y).toMatchObject({ field: 'y', scale: { type: 'log' } });
  });

  it('rejects bad input', () => {
    expect(() => lineChartSpec([])).toThrow(/no series/);
    expect(() => lineChartSpec([{ name: 'a', x: [1], y: [1, 2] }])).toThrow(/1 x values and 2 y values/);
    expect(() => lineChartSpec([{ name: 'a', y: [0, -1] }], { logY: true })).toThrow(/no finite points/);
  });
});

describe('trainingCurvesSpec', () => {
  const log: LogRecord[] = [
    { step: 10, 'train/loss': 1 },
    { step: 20, 'train/loss': 0.5, 'val/l1': 0.3 },
    { step: 30, 'train/loss': 'NaN' },
    { step: 40, 'train/loss': 0.25, 'val/l1': 0.2 },
  ];

  it('one panel per group with data, each key a series of the records that have it', () => {
    const s = j(trainingCurvesSpec(log, [{ title: 'loss', keys: ['train/loss', 'val/loss'], logY: true }, { title: 'val', keys: ['val/l1'], labels: { 'val/l1': 'L1' } }, { title: 'none', keys: ['x/y'] }], { title: 'IL' })!);
    expect(s.title).toBe('IL');
    expect(s.columns).toBe(2);
    expect(s.resolve.scale.y).toBe('independent');
    expect(s.concat.map((c: Json) => c.title)).toEqual(['loss', 'val']);
    expect(s.concat[0].data.values).toEqual([
      { series: 'train/loss', x: 10, y: 1 },
      { series: 'train/loss', x: 20, y: 0.5 },
      { series: 'train/loss', x: 40, y: 0.25 },
    ]);
    expect(s.concat[1].data.values).toEqual([
      { series: 'L1', x: 20, y: 0.3 },
      { series: 'L1', x: 40, y: 0.2 },
    ]);
    expect(s.concat[0].layer[0].encoding.x.title).toBe('step');
  });

  it('is null when no panel has a point', () => {
    expect(trainingCurvesSpec(log, [{ title: 'none', keys: ['x/y'] }])).toBeNull();
    expect(trainingCurvesSpec([], [{ title: 'loss', keys: ['train/loss'] }])).toBeNull();
  });
});

describe('barChartSpec and histogramSpec', () => {
  it('bars with error bars from +- error or explicit ends, grouped by colour', () => {
    const s = j(barChartSpec([
      { category: 'success', group: 'BC', value: 0.6, error: 0.1 },
      { category: 'success', group: 'PPO', value: 0.8, lo: 0.7, hi: 0.85 },
      { category: 'crash', group: 'BC', value: 0.2 },
    ], { yDomain: [0, 1], yLabel: 'rate' }));
    expect(s.data.values).toEqual([
      { category: 'success', group: 'BC', value: 0.6, lo: 0.5, hi: 0.7 },
      { category: 'success', group: 'PPO', value: 0.8, lo: 0.7, hi: 0.85 },
      { category: 'crash', group: 'BC', value: 0.2, lo: null, hi: null },
    ]);
    expect(s.layer.map((l: Json) => l.mark.type)).toEqual(['bar', 'rule']);
    expect(s.layer[0].encoding.xOffset).toMatchObject({ field: 'group' });
    expect(s.layer[0].encoding.y).toMatchObject({ field: 'value', title: 'rate', scale: { domain: [0, 1] } });
    expect(s.layer[1].encoding.y2).toEqual({ field: 'hi' });
    expect(() => barChartSpec([])).toThrow(/no bars/);
    expect(() => barChartSpec([{ category: 'a', value: Number.NaN }])).toThrow(/non-finite/);
  });

  it('histograms bin the finite values, one colour per distribution', () => {
    const one = j(histogramSpec([1, 2, Number.NaN, 3], { maxBins: 10 }));
    expect(one.data.values).toEqual([1, 2, 3].map((v) => ({ series: 'values', v })));
    expect(one.encoding.x.bin).toEqual({ maxbins: 10 });
    expect(one.encoding.y).toMatchObject({ aggregate: 'count', stack: null });
    expect(one.encoding.color).toBeUndefined();
    const two = j(histogramSpec([{ name: 'a', values: [1] }, { name: 'b', values: [2, 3] }]));
    expect(two.data.values).toHaveLength(3);
    expect(two.encoding.color.scale.domain).toEqual(['a', 'b']);
    expect(() => histogramSpec([])).toThrow(/no finite values/);
  });
});

describe('rendering without a DOM', () => {
  it('a line chart: one line per series, the axis titles, the legend and the title', async () => {
    expect(typeof (globalThis as { document?: unknown }).document).toBe('undefined');
    const svg = await renderSpec(lineChartSpec([{ name: 'train', y: [4, 2, 1] }, { name: 'val', y: [3, 2.5, 2] }, { name: 'test', y: [5, 4, 3.5] }], { title: 'IL', xLabel: 'epoch', yLabel: 'loss', logY: true }));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(markItems(svg, 'line')).toBe(3);
    expect(markItems(svg, 'symbol')).toBe(9);
    expect(texts(svg, 'axis-title')).toEqual(['epoch', 'loss']);
    expect(texts(svg, 'legend-label')).toEqual(['train', 'val', 'test']);
    expect(texts(svg, 'title-text')).toEqual(['IL']);
  });

  it('training curves: one titled panel per group; bars with their error bars', async () => {
    const log = Array.from({ length: 50 }, (_, i) => ({ step: i, 'a/x': Math.exp(-i / 10), 'a/y': 1 - Math.exp(-i / 10), 'b/z': i % 7 }));
    const curves = await renderSpec(trainingCurvesSpec(log, [{ title: 'first', keys: ['a/x', 'a/y'] }, { title: 'second', keys: ['b/z'] }, { title: 'third', keys: ['a/x'], logY: true }], { xLabel: 'iteration', smooth: 0.6 })!);
    expect(texts(curves, 'title-text')).toEqual(['first', 'second', 'third']);
    expect(markItems(curves, 'line')).toBe(2 * 4); // raw and smoothed line of each series
    expect(texts(curves, 'axis-title').filter((t) => t === 'iteration')).toHaveLength(3);
    const bars = await renderSpec(barChartSpec([
      { category: 'success', group: 'BC', value: 0.6, error: 0.1 },
      { category: 'success', group: 'PPO', value: 0.8, error: 0.05 },
      { category: 'crash', group: 'BC', value: 0.2 },
      { category: 'crash', group: 'PPO', value: 0.1, error: 0.02 },
    ], { yLabel: 'rate' }));
    expect(markItems(bars, 'rect')).toBe(4);
    expect(markItems(bars, 'rule')).toBe(3);
    expect(texts(bars, 'legend-label')).toEqual(['BC', 'PPO']);
    const hist = await renderSpec(histogramSpec([0, 0.1, 0.15, 2, 2.1, 5], { maxBins: 5, xLabel: 'return' }));
    expect(texts(hist, 'axis-title')).toEqual(['return', 'count']);
    expect(markItems(hist, 'rect')).toBe(3); // bins [0, 2), [2, 4), [4, 6): vega draws non-empty bins only
  });

  it('writeChart writes the SVG and a PNG at twice its size; showChart returns the SVG outside a notebook', async () => {
    const spec = lineChartSpec([{ name: 'l', y: [1, 2] }]);
    const files = await writeChart(path.join(tmp, 'chart.svg'), spec);
    expect(files).toEqual([path.join(tmp, 'chart.svg'), path.join(tmp, 'chart.png')]);
    const svg = fs.readFileSync(files[0]!, 'utf8');
    const png = fs.readFileSync(files[1]!);
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const svgWidth = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)![1]);
    expect(png.readUInt32BE(16)).toBe(2 * svgWidth);
    // the same spec renders to the same SVG (vega's process-wide clip-path counter is renumbered)
    expect(await showChart(spec)).toBe(svg);
    expect([...svg.matchAll(/<clipPath id="([^"]+)"/g)].map((m) => m[1])).toEqual([expect.stringMatching(/^clip-[0-9a-f]{8}-1$/), expect.stringMatching(/^clip-[0-9a-f]{8}-2$/)]);
  });
});

describe('display outside a notebook', () => {
  it('does nothing and does not throw', () => {
    expect(inNotebook()).toBe(false);
    expect(display({ svg: '<svg/>' })).toBe(false);
    expect(display('<b>x</b>')).toBe(false);
  });
});
