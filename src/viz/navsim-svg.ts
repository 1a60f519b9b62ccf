/**
 * Bird's-eye SVG of a parsed NAVSIM scene (`pdm_ref_scene/v1` / `/v2`, golden or generated): map
 * areas and lanes (route lanes tinted, red-light connectors outlined red), the PDM-Closed centre
 * line, agents as boxes at t0 with their future tracks, the ego (Pacifica box), the human and the
 * scene's own trajectory, and proposals coloured by score, with a legend, a colour bar and a
 * scale bar.
 *
 *   const scene = parseScene(json);
 *   const { metrics } = scoreScene(scene, proposals);
 *   const svg = renderNavsimScene(scene, { proposals, scores: metrics.map((m) => m.score) });
 *   writePng('scene.png', svg);
 *
 * Proposals are drawn from the ego's rear axle, worst score first (the best lies on top). The
 * SVG marks its layers for tests and tools: `<g class="agents">` holds one `<polygon>` per agent
 * box, `<g class="proposals">` one `<polyline data-score>` per proposal.
 */
import type { Trajectory } from '../navsim/scorer.js';
import { PACIFICA, type AgentState, type PDMScene } from '../navsim/types.js';
import { SvgCanvas, type SvgAttrs } from './svg.js';
import { drawLegend, drawScaleBar, drawTitle, type LegendEntry } from './svg-overlays.js';

export interface NavsimSvgOptions {
  /** Image width in pixels (default 900). */
  width?: number;
  /** Half-size (m) of a square window around the ego; default: fit the ego, the trajectories and 25 m around them. */
  window?: number;
  /** Trajectories to draw in score colours (poses [x, y, heading] after t0; frame 'ego' by default, as the scorer reads them). */
  proposals?: readonly Trajectory[];
  /** One score in [0, 1] per proposal (e.g. `metrics.map((m) => m.score)`); without scores proposals are drawn in one colour. */
  scores?: readonly (number | null)[];
  /** Draw the scene's own `trajectory` (default true). */
  sceneTrajectory?: boolean;
  /** Draw the logged `human_trajectory` of a v2 scene (default true). */
  human?: boolean;
  /** Draw each agent's future track from t0 as a dashed line (default true). */
  futures?: boolean;
  /** Label agents with their id (default false). */
  labels?: boolean;
  /** Title line (default: the scene name, schema and agent count). */
  title?: string;
  /** Draw the legend, colour bar and scale bar (default true). */
  legend?: boolean;
}

export const NAVSIM_COLORS = {
  background: '#e6ebe0',
  roadblock: '#a9adb3',
  intersection: '#9ea2a8',
  carpark: '#b8b2a6',
  drivable: '#b1b4b8',
  lane: '#8e9299',
  laneEdge: '#f5f5f5',
  route: '#5b8fd9',
  redLight: '#d62828',
  centerline: '#00897b',
  ego: '#e0452b',
  vehicle: '#1f5fbf',
  pedestrian: '#f08c00',
  bicycle: '#8e44ad',
  static: '#5f6368',
  human: '#111111',
  sceneTrajectory: '#7a1fa2',
  proposal: '#ff7f0e',
} as const;

/**
 * Colour of a score in [0, 1] on a red (0) - amber (0.5) - green (1) ramp; NaN / null grey.
 * The green channel rises and the red channel falls with the score, so colours sort by score.
 */
export function scoreColor(score: number | null): string {
  if (score === null || !Number.isFinite(score)) return '#9e9e9e';
  const s = Math.min(1, Math.max(0, score));
  // two linear pieces: (200, 30, 30) -> (235, 170, 20) -> (30, 160, 60); green rises, red falls past 0.5
  const lo = [200, 30, 30], mid = [235, 170, 20], hi = [30, 175, 60];
  const t = s < 0.5 ? s / 0.5 : (s - 0.5) / 0.5;
  const a = s < 0.5 ? lo : mid, b = s < 0.5 ? mid : hi;
  const ch = (i: number) => Math.round(a[i]! + (b[i]! - a[i]!) * t).toString(16).padStart(2, '0');
  return `#${ch(0)}${ch(1)}${ch(2)}`;
}

function agentColor(type: string): string {
  if (type === 'vehicle' || type === 'ego') return NAVSIM_COLORS.vehicle;
  if (type === 'pedestrian') return NAVSIM_COLORS.pedestrian;
  if (type === 'bicycle') return NAVSIM_COLORS.bicycle;
  return NAVSIM_COLORS.static;
}

/** World points [x0, y0, ...] of a trajectory, starting at the ego rear axle. */
function trajectoryPoints(scene: PDMScene, t: Trajectory): number[] {
  const e = scene.ego;
  const flat: number[] = [];
  if (t.poses.length > 0 && Array.isArray(t.poses[0])) for (const p of t.poses as readonly (readonly number[])[]) flat.push(p[0]!, p[1]!);
  else for (let i = 0; i + 2 < t.poses.length; i += 3) flat.push((t.poses as ArrayLike<number>)[i]!, (t.poses as ArrayLike<number>)[i + 1]!);
  const out = [e.x, e.y];
  if ((t.frame ?? 'ego') === 'global') return out.concat(flat);
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  for (let i = 0; i < flat.length; i += 2) out.push(e.x + c * flat[i]! - s * flat[i + 1]!, e.y + s * flat[i]! + c * flat[i + 1]!);
  return out;
}

/** The agent's state at t0 (frame 0), or null when it is absent then. */
function stateAtT0(states: readonly (AgentState | null)[], startFrame: number): AgentState | null {
  return startFrame === 0 ? (states[0] ?? null) : null;
}

/** Bounds of the view: a square window around the ego, or the trajectories with a margin. */
function viewBounds(scene: PDMScene, trajectories: number[][], window: number | undefined): [number, number, number, number] {
  const e = scene.ego;
  if (window !== undefined) return [e.x - window, e.y - window, e.x + window, e.y + window];
  let x0 = e.x, y0 = e.y, x1 = e.x, y1 = e.y;
  for (const pts of trajectories) {
    for (let i = 0; i + 1 < pts.length; i += 2) {
      x0 = Math.min(x0, pts[i]!);
      x1 = Math.max(x1, pts[i]!);
      y0 = Math.min(y0, pts[i + 1]!);
      y1 = Math.max(y1, pts[i + 1]!);
    }
  }
  const margin = 25;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  // at least 70 m across in both directions, and no thinner than 2:3, so the picture stays readable
  const half = Math.max(35, (x1 - x0) / 2 + margin, (y1 - y0) / 2 + margin);
  const hx = Math.max((x1 - x0) / 2 + margin, half * 0.75), hy = Math.max((y1 - y0) / 2 + margin, half * 0.75);
  return [cx - hx, cy - hy, cx + hx, cy + hy];
}

/** The scene as an SVG string (see the module comment for the layers). */
export function renderNavsimScene(scene: PDMScene, opts: NavsimSvgOptions = {}): string {
  const proposals = opts.proposals ?? [];
  const scores = opts.scores;
  if (scores !== undefined && scores.length !== proposals.length) {
    throw new RangeError(`renderNavsimScene: scores has ${scores.length} entries for ${proposals.length} proposals; give one score per proposal.`);
  }
  const propPts = proposals.map((p) => trajectoryPoints(scene, p));
  const human = (opts.human ?? true) && scene.humanTrajectory ? trajectoryPoints(scene, scene.humanTrajectory) : null;
  const own = (opts.sceneTrajectory ?? true) && scene.trajectory ? trajectoryPoints(scene, scene.trajectory) : null;
  const bounds = viewBounds(scene, [...propPts, ...(human ? [human] : []), ...(own ? [own] : [])], opts.window);
  const c = new SvgCanvas(bounds, { width: opts.width ?? 900, padding: 0, background: NAVSIM_COLORS.background, maxHeight: 1.2 * (opts.width ?? 900) });
  const px = (m: number) => Math.max(0.6, m * c.scale);

  // 1. Map: areas, then lanes (route lanes tinted), lane centre lines, red-light connectors.
  const areaFill: Record<string, string> = {
    ROADBLOCK: NAVSIM_COLORS.roadblock,
    INTERSECTION: NAVSIM_COLORS.intersection,
    CARPARK_AREA: NAVSIM_COLORS.carpark,
    DRIVABLE_AREA: NAVSIM_COLORS.drivable,
  };
  c.group({ class: 'map-areas', stroke: 'none' }, (g) => {
    for (const a of scene.map.areas) g.polygonWithHoles(a.polygon, a.holes, { fill: areaFill[a.type] });
  });
  const red = new Set(scene.trafficLightFrames2hz ? scene.trafficLightFrames2hz.flat() : scene.redLightLaneIds);
  // lanes with white edges; connectors (which overlap inside junctions) without, to keep junctions calm
  c.group({ class: 'map-lanes', stroke: NAVSIM_COLORS.laneEdge, 'stroke-width': px(0.12) }, (g) => {
    for (const l of scene.map.lanes) {
      const a: SvgAttrs = { fill: l.onRoute ? NAVSIM_COLORS.route : NAVSIM_COLORS.lane, 'fill-opacity': l.onRoute ? 0.55 : 0.5 };
      if (l.type === 'LANE_CONNECTOR') a.stroke = 'none';
      g.polygonWithHoles(l.polygon, l.holes, a);
    }
  });
  if (red.size > 0) {
    c.group({ class: 'red-lights', fill: NAVSIM_COLORS.redLight, 'fill-opacity': 0.25, stroke: NAVSIM_COLORS.redLight, 'stroke-width': px(0.4) }, (g) => {
      for (const l of scene.map.lanes) if (red.has(l.id)) g.polygonWithHoles(l.polygon, l.holes);
    });
  }
  // 2. The PDM-Closed centre line (also the EP progress path).
  const cl: number[] = [];
  for (let i = 0; i + 2 < scene.pdmClosedCenterline.length; i += 3) cl.push(scene.pdmClosedCenterline[i]!, scene.pdmClosedCenterline[i + 1]!);
  c.group({ class: 'centerline', fill: 'none', stroke: NAVSIM_COLORS.centerline, 'stroke-width': px(0.35), 'stroke-dasharray': `${px(3)} ${px(1.5)}` }, (g) => {
    if (cl.length >= 4) g.polyline(cl);
  });

  // 3. Agent futures (dashed), then agent boxes at t0 with a heading tick.
  if (opts.futures ?? true) {
    c.group({ class: 'agent-futures', fill: 'none', 'stroke-width': px(0.2), 'stroke-dasharray': `${px(0.6)} ${px(0.6)}`, 'stroke-opacity': 0.7 }, (g) => {
      for (const a of scene.agents) {
        const pts: number[] = [];
        for (const s of a.states) if (s) pts.push(s.x, s.y);
        if (pts.length >= 4) g.polyline(pts, { stroke: agentColor(a.type) });
      }
    });
  }
  const shown = scene.agents.map((a) => ({ a, s: stateAtT0(a.states, a.startFrame) })).filter((x) => x.s !== null);
  c.group({ class: 'agents', stroke: '#111', 'stroke-width': 0.8 }, (g) => {
    for (const { a, s } of shown) g.orientedBox(s!.x, s!.y, s!.heading, Math.max(a.length, 0.3), Math.max(a.width, 0.3), { fill: agentColor(a.type), 'data-id': a.id, 'data-type': a.type });
  });
  c.group({ class: 'agent-ticks', stroke: '#fff', 'stroke-width': 1.2 }, (g) => {
    for (const { a, s } of shown) {
      if (a.length < 1) continue;
      const f = a.length * 0.35;
      g.line(s!.x, s!.y, s!.x + Math.cos(s!.heading) * f, s!.y + Math.sin(s!.heading) * f);
    }
  });
  if (opts.labels) {
    for (const { a, s } of shown) c.text(s!.x, s!.y + Math.max(a.width, 1), a.id, { fill: '#111', 'font-size': 11, stroke: '#fff', 'stroke-width': 2.5, 'paint-order': 'stroke' });
  }

  // 4. The scene's trajectory, proposals worst first, the human (dashed, on top), then the ego.
  const width = (m: number) => Math.max(1.5, m * c.scale);
  if (own) c.polyline(own, { class: 'scene-trajectory', stroke: NAVSIM_COLORS.sceneTrajectory, 'stroke-width': width(0.45), 'stroke-linejoin': 'round' });
  const order = proposals.map((_, i) => i);
  if (scores) order.sort((i, j) => (scores[i] ?? -1) - (scores[j] ?? -1));
  c.group({ class: 'proposals', fill: 'none', 'stroke-linejoin': 'round', 'stroke-linecap': 'round', 'stroke-width': width(0.4) }, (g) => {
    for (const i of order) {
      const s = scores ? scores[i] ?? null : undefined;
      g.polyline(propPts[i]!, { stroke: s === undefined ? NAVSIM_COLORS.proposal : scoreColor(s), 'data-index': i, 'data-score': s === undefined || s === null ? undefined : s.toFixed(4) });
    }
  });
  if (human) c.polyline(human, { class: 'human', stroke: NAVSIM_COLORS.human, 'stroke-width': width(0.3), 'stroke-dasharray': `${px(1.2)} ${px(0.8)}` });
  const e = scene.ego;
  const cx = e.x + PACIFICA.rearAxleToCenter * Math.cos(e.heading), cy = e.y + PACIFICA.rearAxleToCenter * Math.sin(e.heading);
  c.group({ class: 'ego' }, (g) => {
    g.orientedBox(cx, cy, e.heading, PACIFICA.length, PACIFICA.width, { fill: NAVSIM_COLORS.ego, stroke: '#111', 'stroke-width': 1 });
    g.line(cx, cy, cx + Math.cos(e.heading) * PACIFICA.length * 0.35, cy + Math.sin(e.heading) * PACIFICA.length * 0.35, { stroke: '#fff', 'stroke-width': 1.5 });
  });

  // 5. Overlays in screen space: title, legend with the colour bar, scale bar.
  const titleBox = drawTitle(c, opts.title ?? `${scene.name}  (${scene.schema}, ${scene.agents.length} agents, v = ${Math.hypot(e.vx, e.vy).toFixed(1)} m/s)`);
  if (opts.legend ?? true) {
    const inView = shown.filter(({ s }) => s!.x >= bounds[0] && s!.x <= bounds[2] && s!.y >= bounds[1] && s!.y <= bounds[3]);
    const types = new Set(inView.map((x) => (x.a.type === 'ego' ? 'vehicle' : ['vehicle', 'pedestrian', 'bicycle'].includes(x.a.type) ? x.a.type : 'static')));
    const entries: LegendEntry[] = [{ label: 'ego', color: NAVSIM_COLORS.ego, kind: 'box' }];
    if (types.has('vehicle')) entries.push({ label: 'vehicle', color: NAVSIM_COLORS.vehicle, kind: 'box' });
    if (types.has('pedestrian')) entries.push({ label: 'pedestrian', color: NAVSIM_COLORS.pedestrian, kind: 'box' });
    if (types.has('bicycle')) entries.push({ label: 'bicycle', color: NAVSIM_COLORS.bicycle, kind: 'box' });
    if (types.has('static')) entries.push({ label: 'static object', color: NAVSIM_COLORS.static, kind: 'box' });
    entries.push({ label: 'route lane', color: NAVSIM_COLORS.route, kind: 'area' });
    if (red.size > 0) entries.push({ label: 'red light', color: NAVSIM_COLORS.redLight, kind: 'area' });
    entries.push({ label: 'PDM-Closed centre line', color: NAVSIM_COLORS.centerline, kind: 'dashed' });
    if (human) entries.push({ label: 'human trajectory', color: NAVSIM_COLORS.human, kind: 'dashed' });
    if (own) entries.push({ label: 'scene trajectory', color: NAVSIM_COLORS.sceneTrajectory, kind: 'line' });
    if (proposals.length > 0 && !scores) entries.push({ label: 'proposal', color: NAVSIM_COLORS.proposal, kind: 'line' });
    drawLegend(c, entries, proposals.length > 0 && scores ? { label: 'proposal score', color: scoreColor } : undefined, titleBox);
    drawScaleBar(c);
  }
  return c.toString();
}
