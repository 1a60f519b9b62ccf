/**
 * Charts as vega-lite specs: training curves (several series, log scale, smoothing), training
 * logs as small multiples, evaluation tables as bar charts with error bars, and distributions as
 * histograms. The builders are pure (data in, a JSON spec out); `renderSpec` (viz/vega.ts) turns a
 * spec into SVG on Node without a DOM, `writeChart` writes it as SVG and PNG, `showChart` shows it
 * in a tslab notebook. A spec also opens as is in the vega editor or any vega-lite viewer.
 *
 *   const spec = lineChartSpec([{ name: 'train', y: trainLoss }, { name: 'val', y: valLoss }], { logY: true, smooth: 0.6 });
 *   writeChart('loss', spec);               // loss.svg + loss.png
 *   await showChart(spec);                  // inside a notebook
 */
import type { LogRecord } from '../core/logger.js';

/**
 * A vega-lite specification: plain JSON (https://vega.github.io/vega-lite/docs/spec.html). The
 * builders below return complete specs; edit them freely (`spec.width = 600`) before rendering.
 * (Typed loosely on purpose: vega-lite's own `TopLevelSpec` type cannot be resolved by every
 * consumer, e.g. tslab's CommonJS resolution.)
 */
export interface ChartSpec {
  $schema?: string;
  [key: string]: unknown;
}

/** One line of a line chart. */
export interface Series {
  name: string;
  /** y values; x defaults to 0, 1, 2, ... */
  y: ArrayLike<number>;
  x?: ArrayLike<number>;
  /** CSS colour; default: the next colour of the palette. */
  color?: string;
}

/** Options every chart takes. */
export interface ChartOptions {
  title?: string;
  /** Width of the plot area in pixels (axes, legend and title come on top). */
  width?: number;
  /** Height of the plot area in pixels. */
  height?: number;
}

export interface LineChartOptions extends ChartOptions {
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (non-positive values are dropped). */
  logY?: boolean;
  /** Logarithmic x axis (non-positive values are dropped). */
  logX?: boolean;
  /**
   * Exponential moving average weight in [0, 1) as TensorBoard's smoothing slider (0: none):
   * the smoothed line is drawn over the raw values, which stay visible, faint.
   */
  smooth?: number;
  /** Mark each point (default: when no series has more than 30 points). */
  points?: boolean;
}

/** The colours given to series in turn (matplotlib's / vega's category10). */
export const CHART_PALETTE: readonly string[] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'sans-serif', view: { stroke: '#bbb' }, axis: { gridColor: '#eee', labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 11 }, title: { fontSize: 14 } };
const POINTS_UP_TO = 30;

type Json = Record<string, unknown>;

/**
 * Exponential moving average with TensorBoard's bias correction: the first values are not pulled
 * towards 0. `weight` 0 returns the values; non-finite values are passed through and skipped.
 */
export function smoothEma(values: ArrayLike<number>, weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothEma: weight must be in [0, 1), found ${weight}.`);
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    acc = acc * weight + (1 - weight) * v;
    n++;
    out.push(acc / (1 - weight ** n));
  }
  return out;
}

/** The points of the series as data rows `{ series, x, y }` (and `raw` when smoothed). */
function lineRows(fn: string, series: readonly Series[], opts: LineChartOptions): { rows: Json[]; maxLen: number } {
  if (series.length === 0) throw new Error(`${fn}: no series given.`);
  const rows: Json[] = [];
  let maxLen = 0;
  for (const s of series) {
    if (s.x && s.x.length !== s.y.length) throw new Error(`${fn}: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values.`);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k < s.y.length; k++) {
      const x = s.x ? s.x[k]! : k;
      const y = s.y[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || (opts.logY && y <= 0) || (opts.logX && x <= 0)) continue;
      xs.push(x);
      ys.push(y);
    }
    const smoothed = opts.smooth ? smoothEma(ys, opts.smooth) : null;
    for (let k = 0; k < xs.length; k++) rows.push(smoothed ? { series: s.name, x: xs[k], y: smoothed[k], raw: ys[k] } : { series: s.name, x: xs[k], y: ys[k] });
    maxLen = Math.max(maxLen, xs.length);
  }
  if (rows.length === 0) throw new Error(`${fn}: no finite points to draw.`);
  return { rows, maxLen };
}

function colorScale(series: readonly Series[]): Json {
  return { domain: series.map((s) => s.name), range: series.map((s, i) => s.color ?? CHART_PALETTE[i % CHART_PALETTE.length]!) };
}

/** The line chart as a layer spec without the top-level properties (for concatenation). */
function lineLayer(series: readonly Series[], opts: LineChartOptions & { legendBottom?: boolean }, fn: string): Json {
  const { rows, maxLen } = lineRows(fn, series, opts);
  const x = { field: 'x', type: 'quantitative', title: opts.xLabel ?? 'x', scale: opts.logX ? { type: 'log' } : { zero: false, nice: false } };
  // log axes: no rounding out to whole decades (a loss between 0.04 and 0.07 fills the plot)
  const yScale = opts.logY ? { type: 'log', nice: false, padding: 6 } : { zero: false };
  const yTitle = opts.yLabel ?? (series.length === 1 && !opts.title ? series[0]!.name : null);
  const yAxis = opts.logY ? { tickCount: 6 } : {};
  const legend = { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1, labelLimit: 260, ...(opts.legendBottom ? { orient: 'bottom', direction: 'vertical', columns: 1 } : {}) };
  const color = { field: 'series', type: 'nominal', title: null, scale: colorScale(series), sort: null, legend };
  const points = opts.points ?? maxLen <= POINTS_UP_TO;
  const layers: Json[] = [];
  if (opts.smooth) {
    layers.push({ mark: { type: 'line', opacity: 0.25, strokeWidth: 1, clip: true }, encoding: { x, y: { field: 'raw', type: 'quantitative', title: yTitle, scale: yScale, axis: yAxis }, color } });
  }
  layers.push({
    mark: { type: 'line', strokeWidth: 2, point: points ? { size: 24 } : false, clip: true },
    encoding: { x, y: { field: 'y', type: 'quantitative', title: yTitle, scale: yScale, axis: yAxis }, color },
  });
  const spec: Json = { data: { values: rows }, width: opts.width ?? 480, height: opts.height ?? 240, layer: layers };
  if (opts.title) spec.title = opts.title;
  return spec;
}

function topLevel(spec: Json): ChartSpec {
  return { $schema: SCHEMA, background: 'white', padding: 8, config: CONFIG, ...spec };
}

/** A line chart of one or more series (training curves, rewards, scores over iterations). */
export function lineChartSpec(series: readonly Series[], opts: LineChartOptions = {}): ChartSpec {
  return topLevel(lineLayer(series, opts, 'lineChartSpec'));
}

/** One panel of `trainingCurvesSpec`: the log keys drawn together. */
export interface CurvePanel {
  title: string;
  /** Log keys (`train/loss`, `val/loss`); keys absent from every record are left out. */
  keys: readonly string[];
  /** Series names for keys (default: the key). */
  labels?: Readonly<Record<string, string>>;
  yLabel?: string;
  logY?: boolean;
}

export interface TrainingCurvesOptions {
  title?: string;
  /** The record field on the x axis (default `step`). */
  x?: string;
  xLabel?: string;
  /** Smoothing of every panel (see `LineChartOptions.smooth`). */
  smooth?: number;
  /** Panels per row (default 2). */
  columns?: number;
  /** Size of each panel's plot area (default 300 x 170). */
  width?: number;
  height?: number;
}

/**
 * A training log (records such as `core/logger`'s JSONL lines) as small multiples: one line
 * chart per panel, the x axis from `opts.x`. Records without a key are skipped for that key (a
 * validation metric logged once per epoch next to a loss logged every step). Returns null when
 * no panel has a point to draw.
 */
export function trainingCurvesSpec(records: readonly LogRecord[], panels: readonly CurvePanel[], opts: TrainingCurvesOptions = {}): ChartSpec | null {
  const xKey = opts.x ?? 'step';
  const charts: Json[] = [];
  for (const p of panels) {
    const series: Series[] = [];
    for (const key of p.keys) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const r of records) {
        if (r[key] === undefined || r[xKey] === undefined) continue;
        const x = Number(r[xKey]);
        const y = Number(r[key]);
        if (!Number.isFinite(x) || !Number.isFinite(y) || (p.logY && y <= 0)) continue;
        xs.push(x);
        ys.push(y);
      }
      if (xs.length > 0) series.push({ name: p.labels?.[key] ?? key, x: xs, y: ys, color: CHART_PALETTE[p.keys.indexOf(key) % CHART_PALETTE.length]! });
    }
    if (series.length === 0) continue;
    const o: LineChartOptions & { legendBottom: boolean } = { legendBottom: true, title: p.title, xLabel: opts.xLabel ?? xKey, width: opts.width ?? 300, height: opts.height ?? 170 };
    if (p.yLabel !== undefined) o.yLabel = p.yLabel;
    if (p.logY) o.logY = true;
    if (opts.smooth) o.smooth = opts.smooth;
    charts.push(lineLayer(series, o, 'trainingCurvesSpec'));
  }
  if (charts.length === 0) return null;
  const spec: Json = {
    concat: charts,
    columns: opts.columns ?? 2,
    spacing: 24,
    resolve: { scale: { x: 'independent', y: 'independent', color: 'independent' }, legend: { color: 'independent' } },
  };
  if (opts.title) spec.title = opts.title;
  return topLevel(spec);
}

/** One bar of a bar chart: a value with an optional spread. */
export interface BarDatum {
  /** Position on the x axis (a policy, a metric, a checkpoint). */
  category: string;
  value: number;
  /** Bars of one category side by side, one colour per group (e.g. the policy). */
  group?: string;
  /** Symmetric error bar: value +- error (e.g. a standard deviation). */
  error?: number;
  /** Explicit error bar ends (e.g. min and max, or a confidence interval); override `error`. */
  lo?: number;
  hi?: number;
}

export interface BarChartOptions extends ChartOptions {
  xLabel?: string;
  yLabel?: string;
  /** y axis domain, e.g. [0, 1] for rates (default: from the data, with 0). */
  yDomain?: [number, number];
}

/** An evaluation table as a bar chart: categories on x, grouped bars, error bars when given. */
export function barChartSpec(rows: readonly BarDatum[], opts: BarChartOptions = {}): ChartSpec {
  if (rows.length === 0) throw new Error('barChartSpec: no bars given.');
  const values = rows.map((r, i) => {
    if (!Number.isFinite(r.value)) throw new Error(`barChartSpec: bar ${i} ('${r.category}') has a non-finite value ${r.value}.`);
    const lo = r.lo ?? (r.error !== undefined ? r.value - r.error : undefined);
    const hi = r.hi ?? (r.error !== undefined ? r.value + r.error : undefined);
    return { category: r.category, group: r.group ?? '', value: r.value, lo: lo ?? null, hi: hi ?? null };
  });
  const groups = [...new Set(values.map((v) => v.group))];
  const grouped = groups.length > 1 || groups[0] !== '';
  const x = { field: 'category', type: 'nominal', title: opts.xLabel ?? null, sort: null, axis: { labelAngle: 0 } };
  const y = { field: 'value', type: 'quantitative', title: opts.yLabel ?? 'value', ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}) };
  const enc: Json = { x };
  if (grouped) {
    enc.xOffset = { field: 'group', type: 'nominal', sort: null };
    enc.color = { field: 'group', type: 'nominal', title: null, sort: null, scale: { domain: groups, range: groups.map((_, i) => CHART_PALETTE[i % CHART_PALETTE.length]!) } };
  }
  const layers: Json[] = [{ mark: { type: 'bar', ...(grouped ? {} : { color: CHART_PALETTE[0] }) }, encoding: { ...enc, y } }];
  if (values.some((v) => v.lo !== null && v.hi !== null)) {
    layers.push({
      transform: [{ filter: 'datum.lo != null && datum.hi != null' }],
      mark: { type: 'rule', color: '#222', strokeWidth: 1.5 },
      encoding: { ...enc, color: { value: '#222' }, y: { field: 'lo', type: 'quantitative', title: opts.yLabel ?? 'value' }, y2: { field: 'hi' } },
    });
  }
  const spec: Json = { data: { values }, width: opts.width ?? (grouped ? Math.max(240, 40 * values.length) : Math.max(200, 48 * values.length)), height: opts.height ?? 240, layer: layers };
  if (opts.title) spec.title = opts.title;
  return topLevel(spec);
}

/** A named sample for `histogramSpec`. */
export interface Distribution {
  name: string;
  values: ArrayLike<number>;
}

export interface HistogramOptions extends ChartOptions {
  xLabel?: string;
  yLabel?: string;
  /** Most bins (vega picks round bin edges; default 30). */
  maxBins?: number;
}

/** Histogram of one sample, or of several overlaid (one colour each, shared bins). */
export function histogramSpec(data: ArrayLike<number> | readonly Distribution[], opts: HistogramOptions = {}): ChartSpec {
  const dists: readonly Distribution[] = isDistributionList(data) ? data : [{ name: 'values', values: data }];
  if (dists.length === 0) throw new Error('histogramSpec: no distributions given.');
  const values: Json[] = [];
  for (const d of dists) for (let i = 0; i < d.values.length; i++) if (Number.isFinite(d.values[i]!)) values.push({ series: d.name, v: d.values[i] });
  if (values.length === 0) throw new Error('histogramSpec: no finite values to draw.');
  const several = dists.length > 1;
  const encoding: Json = {
    x: { field: 'v', type: 'quantitative', bin: { maxbins: opts.maxBins ?? 30 }, title: opts.xLabel ?? 'value' },
    y: { aggregate: 'count', type: 'quantitative', title: opts.yLabel ?? 'count', stack: null },
  };
  if (several) encoding.color = { field: 'series', type: 'nominal', title: null, sort: null, scale: colorScale(dists.map((d) => ({ name: d.name, y: [] }))) };
  const spec: Json = { data: { values }, width: opts.width ?? 420, height: opts.height ?? 220, mark: { type: 'bar', opacity: several ? 0.55 : 0.9, ...(several ? {} : { color: CHART_PALETTE[0] }) }, encoding };
  if (opts.title) spec.title = opts.title;
  return topLevel(spec);
}

function isDistributionList(d: ArrayLike<number> | readonly Distribution[]): d is readonly Distribution[] {
  return Array.isArray(d) && d.length > 0 && typeof d[0] === 'object' && d[0] !== null;
}

