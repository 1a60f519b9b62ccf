/**
 * The former hand-written SVG line chart, kept only as the synchronous `lineChart` for the
 * scripts that have not moved to the vega-lite charts yet (scripts/experiment-metadrive.ts and
 * the GAIL / NAVSIM experiment scripts). New code: `lineChartSpec` + `renderSpec` (viz/plot.ts).
 * Delete this file once nothing calls `lineChart`.
 */
import type { LineChartOptions, Series } from './plot.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceTicks: bounds must be finite, found [${lo}, ${hi}].`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  const first = Math.ceil(lo / step);
  for (let i = first; i * step <= hi + step * 1e-9; i++) out.push(i === 0 ? 0 : Number((i * step).toPrecision(12)));
  return out;
}

/** Tick values for a log axis over [lo, hi] (both > 0): 1, 2, 5 x 10^k, thinned to about 8. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > 0)) throw new Error(`logTicks: bounds must be > 0, found [${lo}, ${hi}].`);
  if (hi < lo) [lo, hi] = [hi, lo];
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) out.push(v);
    }
  }
  if (out.length < 2) return niceTicks(lo, hi, 4).filter((v) => v > 0);
  if (out.length > 8) return out.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  return out;
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/**
 * Renders one or more series as an SVG line chart, synchronously, without vega.
 *
 * @deprecated Use `renderSpec(lineChartSpec(series, opts))` (asynchronous: vega loads and renders
 * asynchronously). Kept for the scripts that still call it; `smooth` and `logX` are ignored here.
 */
export function lineChart(series: readonly Series[], opts: LineChartOptions = {}): string {
  if (series.length === 0) throw new Error('lineChart: no series given.');
  const W = opts.width ?? 640;
  const H = opts.height ?? 360;
  const left = 64, right = 16, top = opts.title ? 36 : 16, bottom = 48;
  const pts = series.map((s, i) => {
    if (s.x && s.x.length !== s.y.length) throw new Error(`lineChart: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values.`);
    const xs: number[] = [], ys: number[] = [];
    for (let k = 0; k < s.y.length; k++) {
      const x = s.x ? s.x[k]! : k;
      let y = s.y[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || (opts.logY && y <= 0)) continue;
      if (opts.logY) y = Math.log10(y);
      xs.push(x);
      ys.push(y);
    }
    return { name: s.name, color: s.color ?? PALETTE[i % PALETTE.length]!, xs, ys };
  });
  const allX = pts.flatMap((p) => p.xs), allY = pts.flatMap((p) => p.ys);
  if (allX.length === 0) throw new Error('lineChart: no finite points to draw.');
  let [x0, x1] = [Math.min(...allX), Math.max(...allX)];
  let [y0, y1] = [Math.min(...allY), Math.max(...allY)];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * (W - left - right);
  const sy = (y: number) => H - bottom - ((y - y0) / (y1 - y0)) * (H - top - bottom);
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  if (opts.title) parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-family="sans-serif">${esc(opts.title)}</text>`);
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${H - bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${H - bottom + 16}" text-anchor="middle" font-size="11" font-family="sans-serif">${label(t)}</text>`);
  }
  // y ticks as values (log axis: 1-2-5 steps of each decade, else linear nice ticks of the values).
  const yTicks = opts.logY ? logTicks(10 ** y0, 10 ** y1) : niceTicks(y0, y1, 5);
  for (const t of yTicks) {
    const y = sy(opts.logY ? Math.log10(t) : t).toFixed(1);
    parts.push(`<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" font-family="sans-serif">${label(t)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${W - left - right}" height="${H - top - bottom}" fill="none" stroke="#555"/>`);
  if (opts.xLabel) parts.push(`<text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle" font-size="12" font-family="sans-serif">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text transform="translate(14 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" font-family="sans-serif">${esc(opts.yLabel)}${opts.logY ? ' (log)' : ''}</text>`);
  pts.forEach((p, i) => {
    const d = p.xs.map((x, k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(p.ys[k]!).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${p.color}" stroke-width="1.8"/>`);
    const ly = top + 14 + 16 * i;
    parts.push(`<line x1="${W - right - 120}" y1="${ly}" x2="${W - right - 100}" y2="${ly}" stroke="${p.color}" stroke-width="2.5"/>`);
    parts.push(`<text x="${W - right - 95}" y="${ly}" dy="4" font-size="11" font-family="sans-serif">${esc(p.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}
