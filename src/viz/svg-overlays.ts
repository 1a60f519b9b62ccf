/**
 * Screen-space overlays for bird's-eye views: a title band, a legend box (with an optional colour
 * bar) and a scale bar. Each sits on a white, slightly transparent panel so it stays readable over
 * roads and vehicles; sizes are in pixels, independent of the map scale.
 */
import type { SvgCanvas } from './svg.js';

export interface LegendEntry {
  label: string;
  color: string;
  /** How the swatch is drawn: a box (vehicles), a filled area, a solid or a dashed line. */
  kind: 'box' | 'area' | 'line' | 'dashed';
}

export interface ColorBar {
  label: string;
  /** Colour of a value in [0, 1]. */
  color: (v: number) => string;
}

const FONT = 13;
const PANEL = { fill: '#ffffff', 'fill-opacity': 0.88, stroke: '#444', 'stroke-width': 0.6, rx: 4 } as const;

/** Approximate text width in pixels (sans-serif, average glyph ~0.56 em). */
function textWidth(s: string, size: number): number {
  return s.length * size * 0.56;
}

function rect(x: number, y: number, w: number, h: number, a: Record<string, string | number>): string {
  const attrs = Object.entries(a).map(([k, v]) => ` ${k}="${v}"`).join('');
  return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}"${attrs}/>`;
}

/** Screen box of a drawn overlay, in pixels. */
export interface OverlayBox {
  right: number;
  bottom: number;
}

/** A title on a panel in the top-left corner; returns the panel's box. */
export function drawTitle(c: SvgCanvas, title: string): OverlayBox {
  const size = 14;
  const w = textWidth(title, size) + 16, h = size + 12;
  c.raw(`<g class="title">${rect(6, 6, w, h, PANEL)}`);
  c.screenText(14, 6 + size + 3, title, { fill: '#111', 'font-size': size });
  c.raw('</g>');
  return { right: 6 + w, bottom: 6 + h };
}

/**
 * A legend panel in the top-right corner; with `bar`, a 0..1 colour bar under the entries. Given
 * the title's box, the legend moves below the title where the two would overlap.
 */
export function drawLegend(c: SvgCanvas, entries: readonly LegendEntry[], bar?: ColorBar, title?: OverlayBox): void {
  const row = FONT + 7;
  const sw = 22;
  const labelW = Math.max(...entries.map((e) => textWidth(e.label, FONT)), bar ? textWidth(bar.label, FONT) : 0, 120);
  const w = sw + 18 + labelW;
  const h = entries.length * row + (bar ? 2 * row + 14 : 0) + 10;
  const x0 = c.width - w - 8;
  const y0 = title && title.right > x0 - 4 ? title.bottom + 6 : 8;
  c.raw(`<g class="legend">${rect(x0, y0, w, h, PANEL)}`);
  entries.forEach((e, i) => {
    const y = y0 + 6 + i * row, cy = y + row / 2;
    const sx = x0 + 8;
    if (e.kind === 'box') c.raw(rect(sx + 3, cy - 5, sw - 6, 10, { fill: e.color, stroke: '#111', 'stroke-width': 0.8 }));
    else if (e.kind === 'area') c.raw(rect(sx, cy - 6, sw, 12, { fill: e.color, 'fill-opacity': 0.6 }));
    else {
      const dash = e.kind === 'dashed' ? ' stroke-dasharray="5 3"' : '';
      c.raw(`<line x1="${sx}" y1="${cy.toFixed(1)}" x2="${sx + sw}" y2="${cy.toFixed(1)}" stroke="${e.color}" stroke-width="3"${dash}/>`);
    }
    c.screenText(sx + sw + 8, cy + FONT * 0.35, e.label, { fill: '#111', 'font-size': FONT });
  });
  if (bar) {
    const by = y0 + 6 + entries.length * row + 4;
    const bx = x0 + 8, bw = w - 16;
    c.screenText(bx, by + FONT, bar.label, { fill: '#111', 'font-size': FONT });
    const n = 40;
    let cells = '';
    for (let k = 0; k < n; k++) cells += rect(bx + (k * bw) / n, by + row, bw / n + 0.5, 10, { fill: bar.color((k + 0.5) / n) });
    c.raw(`<g class="colorbar">${cells}</g>`);
    for (const v of [0, 0.5, 1]) {
      const tx = bx + v * bw;
      c.screenText(tx - (v === 1 ? textWidth('1', 11) : v === 0.5 ? textWidth('0.5', 11) / 2 : 0), by + row + 10 + 13, String(v), { fill: '#111', 'font-size': 11 });
    }
  }
  c.raw('</g>');
}

/** The largest 1-2-5 length (m) whose bar is at most `maxPx` pixels long. */
export function scaleBarLength(pixelsPerMetre: number, maxPx: number): number {
  let best = 1;
  for (let p = -1; p <= 4; p++) for (const m of [1, 2, 5]) if (m * 10 ** p * pixelsPerMetre <= maxPx) best = Math.max(best, m * 10 ** p);
  return best;
}

/** A scale bar (two halves, black and white) with its length in metres, bottom left. */
export function drawScaleBar(c: SvgCanvas): void {
  const len = scaleBarLength(c.scale, c.width * 0.22);
  const px = len * c.scale;
  const label = `${len} m`;
  const x0 = 14, y0 = c.height - 34;
  c.raw(`<g class="scale-bar">${rect(x0 - 8, y0 - 8, px + 24 + textWidth(label, FONT), 30, PANEL)}`);
  c.raw(rect(x0, y0 + 2, px / 2, 7, { fill: '#111' }) + rect(x0 + px / 2, y0 + 2, px / 2, 7, { fill: '#fff', stroke: '#111', 'stroke-width': 1 }));
  c.screenText(x0 + px + 8, y0 + 10, label, { fill: '#111', 'font-size': FONT });
  c.raw('</g>');
}
