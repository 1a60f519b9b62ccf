/**
 * Chart output that needs Node: `writeChart` (SVG + PNG files, atomically) and `showChart` (a tslab
 * notebook cell). Exported from `drivekit/node`; rendering itself (`renderSpec`) is browser-safe.
 */
import { display } from './notebook.js';
import type { ChartSpec } from './plot.js';
import { writePng, writeSvg } from './png.js';
import { renderSpec } from './vega.js';

export interface WriteChartOptions {
  /** Also write `<base>.png` (default true). */
  png?: boolean;
  /** PNG pixels per SVG pixel (default 2, sharp on high-density screens). */
  pngScale?: number;
}

/**
 * Renders the spec and writes `<base>.svg` and `<base>.png` atomically (`base` may end in
 * `.svg`). Returns the paths written.
 */
export async function writeChart(base: string, spec: ChartSpec, opts: WriteChartOptions = {}): Promise<string[]> {
  const stem = base.replace(/\.svg$/i, '');
  const svg = await renderSpec(spec);
  writeSvg(`${stem}.svg`, svg);
  if (opts.png === false) return [`${stem}.svg`];
  const width = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1] ?? 0);
  writePng(`${stem}.png`, svg, { width: width > 0 ? Math.round(width * (opts.pngScale ?? 2)) : undefined, background: 'white' });
  return [`${stem}.svg`, `${stem}.png`];
}

/**
 * Renders the spec and shows it in the tslab notebook cell (nothing happens outside a
 * notebook); returns the SVG.
 *
 *   await showChart(lineChartSpec([{ name: 'loss', y: losses }], { logY: true }));
 */
export async function showChart(spec: ChartSpec): Promise<string> {
  const svg = await renderSpec(spec);
  display({ svg });
  return svg;
}
