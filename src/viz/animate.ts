/**
 * Animated SVG (SMIL, no script): frames shown one after the other, looping. Opens in any
 * browser, in a README (GitHub shows SMIL in images) and in a notebook (`display({ svg })`).
 *
 *   const { svg } = animateEpisode(env, makePolicy('expert'), { seed: 7 });
 *   writeSvg('episode.svg', svg);
 *   writeSvg('group.svg', animateGRPOGroup(scene, group.trajectories, group.scores));
 */
import type { DrivingEnv } from '../env/env.js';
import type { EgoPolicy } from '../env/policies.js';
import type { Trajectory } from '../navsim/scorer.js';
import type { PDMScene } from '../navsim/types.js';
import { pgMapOf } from '../env/world-adapter.js';
import { lanePolygon } from '../world/lane.js';
import { lidarRayFan, PARKED_COLOR, sceneVehicles } from './env-svg.js';
import { drawRays, drawVehicles, MAP_COLORS, renderMap, type RayFan, type VehicleBox } from './map-svg.js';
import { renderNavsimScene, type NavsimSvgOptions } from './navsim-svg.js';
import { SvgCanvas } from './svg.js';
import { drawLegend, drawScaleBar, drawTitle, type LegendEntry, type OverlayBox } from './svg-overlays.js';

/**
 * An SVG that shows `frames` (full SVG documents of one size) one after the other, looping:
 * each frame is a nested `<svg>` whose visibility a discrete SMIL animation switches.
 * `frameSeconds` is one duration for every frame or one per frame (e.g. a longer last frame).
 */
export function animatedSvg(frames: readonly string[], frameSeconds: number | readonly number[]): string {
  const n = frames.length;
  if (n === 0) throw new RangeError('animatedSvg: no frames given.');
  const durations = typeof frameSeconds === 'number' ? frames.map(() => frameSeconds) : frameSeconds;
  if (durations.length !== n || durations.some((d) => !(d > 0))) {
    throw new RangeError(`animatedSvg: give one duration > 0 for all frames or one per frame (${n}), found ${JSON.stringify(frameSeconds)}.`);
  }
  const total = durations.reduce((a, b) => a + b, 0);
  const starts: number[] = [0];
  for (let i = 0; i < n; i++) starts.push(typeof frameSeconds === 'number' ? (i + 1) / n : starts[i]! + durations[i]! / total);
  const first = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(frames[0]!);
  const w = first?.[1] ?? '480', h = first?.[2] ?? '480';
  const dur = total.toFixed(3);
  const parts = frames.map((f, i) => {
    const values = i === 0 ? 'visible;hidden' : 'hidden;visible;hidden';
    const keyTimes = i === 0 ? `0;${starts[1]!.toFixed(6)}` : `0;${starts[i]!.toFixed(6)};${starts[i + 1]!.toFixed(6)}`;
    const anim = `<animate attributeName="visibility" values="${values}" keyTimes="${keyTimes}" dur="${dur}s" calcMode="discrete" repeatCount="indefinite"/>`;
    return f.replace(/^(?:<\?xml[^>]*>\s*)?<svg([^>]*)>/, `<svg$1 visibility="${i === 0 ? 'visible' : 'hidden'}">${anim}`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${parts.join('')}</svg>`;
}

export interface EpisodeAnimationOptions {
  /** Scenario seed for `env.reset` (default: the env's next seed). */
  seed?: number;
  /** Draw every this many steps (default 5); the last step is always drawn. */
  every?: number;
  /** Stop after this many steps (default: the env's horizon). */
  maxSteps?: number;
  /** Half-size (m) of the view around the ego (default 40). */
  window?: number;
  /** Picture width and height in pixels (default 480). */
  width?: number;
  /** Seconds each frame shows (default: the simulated time between frames, real time). */
  frameSeconds?: number;
  /** Draw the lidar rays (default false: 240 lines a frame make the file large). */
  rays?: boolean;
}

export interface EpisodeAnimation {
  /** The animated SVG. */
  svg: string;
  frames: number;
  steps: number;
  /** How the episode ended (`running` when `maxSteps` stopped it first). */
  outcome: 'arrive_dest' | 'crash' | 'out_of_road' | 'max_step' | 'running';
}

/** Start of each frame as a fraction of the loop (n + 1 values, 0 ... 1). */
function frameStarts(durations: readonly number[]): number[] {
  const total = durations.reduce((a, b) => a + b, 0);
  const starts = [0];
  for (const d of durations) starts.push(starts[starts.length - 1]! + d / total);
  starts[durations.length] = 1;
  return starts;
}

/** The SMIL element that shows frame i of n only during its slot (`keep`: and after it). */
function showDuring(i: number, starts: readonly number[], dur: string, keep = false): string {
  const n = starts.length - 1;
  const k = (v: number) => v.toFixed(6);
  if (i === 0 && keep) return '';
  const [values, times] = keep
    ? ['hidden;visible', `0;${k(starts[i]!)}`]
    : i === 0
      ? ['visible;hidden', `0;${k(starts[1]!)}`]
      : i === n - 1
        ? ['hidden;visible', `0;${k(starts[i]!)}`]
        : ['hidden;visible;hidden', `0;${k(starts[i]!)};${k(starts[i + 1]!)}`];
  return `<animate attributeName="visibility" values="${values}" keyTimes="${times}" dur="${dur}s" calcMode="discrete" repeatCount="indefinite"/>`;
}

interface EpisodeFrame {
  step: number;
  title: string;
  ego: { x: number; y: number };
  vehicles: VehicleBox[];
  rays: RayFan | null;
  /** Index into the trail (flat x, y) up to this frame. */
  trailEnd: number;
}

/**
 * Drives one episode of the env with the policy and returns it as an animated SVG whose view
 * follows the ego. The map is drawn once, each frame adds only the vehicles (and rays), and the
 * ego trail grows segment by segment, so a whole episode stays a few hundred kilobytes.
 */
export function animateEpisode(env: DrivingEnv, policy: EgoPolicy, opts: EpisodeAnimationOptions = {}): EpisodeAnimation {
  const every = opts.every ?? 5;
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`animateEpisode: every must be an integer >= 1, found ${every}.`);
  const half = opts.window ?? 40;
  const size = opts.width ?? 480;
  let { obs } = env.reset(opts.seed !== undefined ? { seed: opts.seed } : {});
  policy.reset(env);
  const seed = env.currentSeed;
  const trail: number[] = [env.ego.x, env.ego.y];
  const frames: EpisodeFrame[] = [];
  const record = (t: number, note = '') =>
    frames.push({
      step: t,
      title: `seed ${seed}  t=${t}  ${env.ego.speedKmh.toFixed(0)} km/h${note}`,
      ego: { x: env.ego.x, y: env.ego.y },
      vehicles: sceneVehicles(env),
      rays: opts.rays ? lidarRayFan(env) : null,
      trailEnd: trail.length,
    });
  record(0);
  let outcome: EpisodeAnimation['outcome'] = 'running';
  const maxSteps = opts.maxSteps ?? env.config.horizon;
  let t = 0;
  while (t < maxSteps) {
    const r = env.step(policy.act(env, obs));
    obs = r.obs;
    t++;
    trail.push(env.ego.x, env.ego.y);
    const done = r.terminated || r.truncated;
    if (done) outcome = r.info.arrive_dest ? 'arrive_dest' : r.info.crash ? 'crash' : r.info.out_of_road ? 'out_of_road' : 'max_step';
    if (done || t === maxSteps || t % every === 0) record(t, done ? `  ${outcome}` : '');
    if (done) break;
  }

  // Timing: real time by default; the last frame stays a little longer so the outcome can be read.
  const stepSeconds = env.config.decision_repeat * env.config.physics_world_step_size;
  const frameSeconds = opts.frameSeconds ?? every * stepSeconds;
  const durations = frames.map((_, i) => (i === frames.length - 1 ? Math.max(frameSeconds, 1.5) : frameSeconds));
  const starts = frameStarts(durations);
  const dur = durations.reduce((a, b) => a + b, 0).toFixed(3);

  // The world: the map's bounds squared up (so the canvas keeps one pixels-per-metre scale),
  // widened by the view so the camera never leaves the drawing.
  const [bx0, by0, bx1, by1] = env.map.bounds;
  const side = Math.max(bx1 - bx0, by1 - by0) + 2 * half;
  const cx = (bx0 + bx1) / 2, cy = (by0 + by1) / 2;
  const bounds: [number, number, number, number] = [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2];
  const ppm = size / (2 * half);
  const pg = pgMapOf(env.map);
  let world: SvgCanvas;
  if (pg) {
    world = renderMap(pg, { width: Math.round(side * ppm), bounds, padding: 0 });
  } else {
    world = new SvgCanvas(bounds, { width: Math.round(side * ppm), padding: 0, background: MAP_COLORS.background });
    world.group({ fill: MAP_COLORS.lane, stroke: MAP_COLORS.white, 'stroke-width': 0.5 }, (g) => {
      for (const lane of env.map.lanes) g.polygon(lanePolygon(lane, 1));
    });
  }
  // the ego trail: segment i appears with frame i and stays
  world.group({ class: 'trail', fill: 'none', stroke: MAP_COLORS.ego, 'stroke-width': Math.max(1, 0.5 * world.scale), 'stroke-linejoin': 'round' }, (g) => {
    for (let i = 1; i < frames.length; i++) {
      const pts = trail.slice(frames[i - 1]!.trailEnd - 2, frames[i]!.trailEnd);
      if (pts.length < 4) continue;
      g.raw(`<g visibility="hidden">${showDuring(i, starts, dur, true)}`);
      g.polyline(pts);
      g.raw('</g>');
    }
  });
  world.group({ class: 'frames' }, (g) => {
    frames.forEach((f, i) => {
      g.raw(`<g visibility="${i === 0 ? 'visible' : 'hidden'}">${showDuring(i, starts, dur)}`);
      if (f.rays) drawRays(g, [f.rays]);
      drawVehicles(g, f.vehicles);
      g.raw('</g>');
    });
  });
  // The camera: the world moves under a fixed window (animateTransform, widely supported).
  const shift = (f: EpisodeFrame) => `${(size / 2 - world.sx(f.ego.x)).toFixed(1)},${(size / 2 - world.sy(f.ego.y)).toFixed(1)}`;
  const camera = frames.length > 1
    ? `<animateTransform attributeName="transform" type="translate" values="${frames.map(shift).join(';')}" keyTimes="${starts.slice(0, -1).map((v) => v.toFixed(6)).join(';')}" dur="${dur}s" calcMode="discrete" repeatCount="indefinite"/>`
    : '';
  const worldBody = world.toString().replace(/^<svg[^>]*>/, '').replace(/<\/svg>$/, '');
  const worldSvg = `<svg class="world" x="0" y="0" width="${size}" height="${size}"><g transform="translate(${shift(frames[0]!)})">${camera}${worldBody}</g></svg>`;

  // Screen-space overlays: one title per frame, then the legend and the scale bar.
  const overlay = new SvgCanvas([0, 0, 2 * half, 2 * half], { width: size, padding: 0 });
  let titleBox: OverlayBox = { right: 0, bottom: 0 };
  overlay.group({ class: 'titles' }, (g) => {
    frames.forEach((f, i) => {
      g.raw(`<g visibility="${i === 0 ? 'visible' : 'hidden'}">${showDuring(i, starts, dur)}`);
      const b = drawTitle(g, f.title);
      titleBox = { right: Math.max(titleBox.right, b.right), bottom: Math.max(titleBox.bottom, b.bottom) };
      g.raw('</g>');
    });
  });
  const entries: LegendEntry[] = [
    { label: 'ego', color: MAP_COLORS.ego, kind: 'box' },
    { label: 'traffic', color: MAP_COLORS.traffic, kind: 'box' },
  ];
  if (frames.some((f) => f.vehicles.some((v) => v.color === PARKED_COLOR))) entries.push({ label: 'parked', color: PARKED_COLOR, kind: 'box' });
  if (pg) entries.push({ label: 'route', color: MAP_COLORS.route, kind: 'area' });
  entries.push({ label: 'ego trail', color: MAP_COLORS.ego, kind: 'line' });
  if (opts.rays) entries.push({ label: 'lidar hit', color: MAP_COLORS.rayHit, kind: 'line' });
  drawLegend(overlay, entries, undefined, titleBox);
  drawScaleBar(overlay);
  const overlaySvg = overlay.toString().replace(/^<svg[^>]*>/, '').replace(/<\/svg>$/, '');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">${worldSvg}${overlaySvg}</svg>`;
  return { svg, frames: frames.length, steps: t, outcome };
}

export interface GRPOGroupAnimationOptions extends Omit<NavsimSvgOptions, 'proposals' | 'scores' | 'title'> {
  /** Title prefix (default `GRPO group`). */
  title?: string;
  /** Seconds per pose frame (default: the trajectories' own interval, 0.5 s). */
  frameSeconds?: number;
  /** Seconds the full group stays on screen at the end (default 3). */
  holdSeconds?: number;
}

/** The first `k` poses of a trajectory (nested `[x, y, heading]` poses or a flat array). */
function prefix(t: Trajectory, k: number): Trajectory {
  const poses = t.poses.length > 0 && Array.isArray(t.poses[0]) ? (t.poses as readonly (readonly number[])[]).slice(0, k) : Array.from(t.poses as ArrayLike<number>).slice(0, 3 * k);
  return { ...t, poses };
}

/** Farthest distance (m) of the trajectory's points from the ego. */
function reach(scene: PDMScene, t: Trajectory): number {
  const flat: number[] = [];
  if (t.poses.length > 0 && Array.isArray(t.poses[0])) for (const p of t.poses as readonly (readonly number[])[]) flat.push(p[0]!, p[1]!);
  else for (let i = 0; i + 2 < t.poses.length; i += 3) flat.push((t.poses as ArrayLike<number>)[i]!, (t.poses as ArrayLike<number>)[i + 1]!);
  const global = (t.frame ?? 'ego') === 'global';
  let r = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) r = Math.max(r, global ? Math.hypot(flat[i]! - scene.ego.x, flat[i + 1]! - scene.ego.y) : Math.hypot(flat[i]!, flat[i + 1]!));
  return r;
}

function poseCount(t: Trajectory): number {
  return t.poses.length > 0 && Array.isArray(t.poses[0]) ? t.poses.length : Math.floor(t.poses.length / 3);
}

/**
 * A GRPO group (the trajectories sampled for one scene, with their scores) as an animated SVG:
 * the trajectories grow pose by pose from the ego in score colours, then the whole group stays
 * on screen with the score summary in the title.
 */
export function animateGRPOGroup(scene: PDMScene, trajectories: readonly Trajectory[], scores: readonly (number | null)[], opts: GRPOGroupAnimationOptions = {}): string {
  if (trajectories.length === 0) throw new RangeError('animateGRPOGroup: no trajectories given.');
  if (scores.length !== trajectories.length) throw new RangeError(`animateGRPOGroup: ${scores.length} scores for ${trajectories.length} trajectories; give one score per trajectory.`);
  const horizon = Math.max(...trajectories.map(poseCount));
  const dt = opts.frameSeconds ?? trajectories[0]!.intervalS ?? 0.5;
  const finite = scores.filter((s): s is number => s !== null && Number.isFinite(s));
  const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN;
  const head = `${opts.title ?? 'GRPO group'}: ${trajectories.length} samples`;
  const summary = finite.length ? `best ${Math.max(...finite).toFixed(3)}, mean ${mean.toFixed(3)}, worst ${Math.min(...finite).toFixed(3)}` : 'no scores';
  const { title: _title, frameSeconds: _fs, holdSeconds: _hs, ...sceneOpts } = opts;
  // one fixed view for every frame: a square around the ego that holds the full trajectories
  const window = sceneOpts.window ?? Math.max(35, ...trajectories.map((t) => reach(scene, t) + 15));
  const base: NavsimSvgOptions = { ...sceneOpts, window, scores };
  const frames: string[] = [];
  for (let k = 1; k <= horizon; k++) {
    frames.push(renderNavsimScene(scene, { ...base, proposals: trajectories.map((t) => prefix(t, k)), title: `${head}  t = ${(k * dt).toFixed(1)} s` }));
  }
  frames.push(renderNavsimScene(scene, { ...base, proposals: trajectories, title: `${head}: ${summary}` }));
  const durations = [...frames.slice(1).map(() => dt), opts.holdSeconds ?? 3];
  return sharedBackground(frames, durations) ?? animatedSvg(frames, durations);
}

const PROPOSALS_RE = /<g class="proposals"[^>]*>.*?<\/g>/s;
const TITLE_RE = /<g class="title">.*?<\/g>/s;

/**
 * The frames of `animateGRPOGroup` differ only in their proposals and title (same scene, same
 * view): one copy of the last frame with those two layers switched per frame, instead of a full
 * scene per frame (a ninth of the size). Null when a frame lacks either layer.
 */
function sharedBackground(frames: readonly string[], durations: readonly number[]): string | null {
  const proposals = frames.map((f) => PROPOSALS_RE.exec(f)?.[0]);
  const titles = frames.map((f) => TITLE_RE.exec(f)?.[0]);
  if (proposals.some((p) => p === undefined) || titles.some((t) => t === undefined)) return null;
  const starts = frameStarts(durations);
  const dur = durations.reduce((a, b) => a + b, 0).toFixed(3);
  const switched = (parts: (string | undefined)[]) =>
    parts.map((p, i) => `<g visibility="${i === 0 ? 'visible' : 'hidden'}">${showDuring(i, starts, dur)}${p}</g>`).join('');
  const last = frames[frames.length - 1]!;
  return last.replace(PROPOSALS_RE, () => switched(proposals)).replace(TITLE_RE, () => switched(titles));
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `GRPOGroupAnimationOptions`. */
export type GrpoGroupAnimationOptions = GRPOGroupAnimationOptions;
/** @deprecated Renamed `animateGRPOGroup`. */
export const animateGrpoGroup = animateGRPOGroup;
