/**
 * Scene tokens: a deterministic, fixed (not learned) vectorisation of a NAVSIM scene in the ego
 * frame, shaped `[L, H]` like the VLM hidden states the ReCogDrive planner is conditioned on, so
 * the planner can be trained and scored on generated scenes without a VLM.
 *
 * Every token has `SCENE_TOKEN_WIDTH` = 24 native features (values O(1)); token order is
 * [ego, route chunks..., agents..., zero padding]:
 *
 * | cols | ego token (1) | route token (one per 8 m of centre line ahead) | agent token (nearest first) |
 * |---|---|---|---|
 * | 0-2 | kind one-hot (ego, route, agent) = 1,0,0 | 0,1,0 | 0,0,1 |
 * | 3-6 | vx/10, vy/10, ax/3, ay/3 | start x/50, y/50; end x/50, y/50 | x/50, y/50, cos h, sin h |
 * | 7-10 | command one-hot (left, straight, right, unknown) | mid x/50, y/50, cos h, sin h | vx/10, vy/10 (ego frame), length/5, width/5 |
 * | 11-14 | history pose t-1.5 s: x/20, y/20, h; pose t-1.0 s: x/20 | curvature·10 (1/m), speed limit/20, in-intersection (0/1), distance ahead/100 | type one-hot (vehicle, pedestrian, bicycle, other object) |
 * | 15-22 | rest of the history: y/20, h; x/20, y/20, h (t-0.5 s); x/20, y/20, h (t) | 0 | distance/50, stopped (0/1), 0... |
 * | 23 | speed limit of the ego lane/20 | 0 | 0 |
 *
 * Positions and headings are relative to the ego rear axle at t0 (x forward, y left). Agents are
 * the objects present in frame 0, sorted by distance (ties by id). With `L` tokens: route chunks
 * get up to `floor((L-1)/2)` slots (at most 16 = 128 m), agents fill what is left, then route
 * chunks take unused agent slots. Width: `H >= 24` puts the 24 features first and zero-pads;
 * `H < 24` multiplies them by a fixed seeded Gaussian matrix `[24, H]` / sqrt(24).
 */
import { Rng } from '../core/rng.js';
import { locatePointInRing } from '../geometry/polygon.js';
import { wrapAngle } from '../geometry/angle.js';
import { parseScene } from './scene-json.js';
import type { DrivingCommand, GeneratedScene } from './scenegen.js';
import { DRIVING_COMMANDS } from './scenegen.js';
import { NavsimInputError, type PDMScene } from './types.js';

export const SCENE_TOKEN_WIDTH = 24;
/** Centre-line chunk length of a route token (m) and the most route tokens. */
export const ROUTE_CHUNK_M = 8;
export const MAX_ROUTE_TOKENS = 16;
const PROJECTION_SEED = 0x746f6b; // "tok"
const MAX_VALUES = 2 ** 28;
// geometry's `Location` values (a const enum, not importable under isolatedModules).
const EXTERIOR = 0, INTERIOR = 2;

export interface SceneTokenOptions {
  /** Number of tokens L (>= 1). */
  numTokens: number;
  /** Token width H (>= 1). */
  width: number;
}

const KIND_EGO = 0, KIND_ROUTE = 1, KIND_AGENT = 2;

function agentTypeIndex(type: string): number {
  if (type === 'vehicle' || type === 'ego') return 0;
  if (type === 'pedestrian') return 1;
  if (type === 'bicycle') return 2;
  return 3;
}

function isPDMScene(v: unknown): v is PDMScene {
  return typeof v === 'object' && v !== null && (v as PDMScene).pdmClosedCenterline instanceof Float64Array;
}

function isGenerated(v: unknown): v is GeneratedScene {
  return typeof v === 'object' && v !== null && 'scene' in v && (v as GeneratedScene).status instanceof Float32Array;
}

/** Cumulative arc lengths of a flat [x, y, h] * n centre line. */
function arcLengths(cl: Float64Array): Float64Array {
  const n = cl.length / 3;
  const out = new Float64Array(n);
  for (let i = 1; i < n; i++) out[i] = out[i - 1]! + Math.hypot(cl[3 * i]! - cl[3 * i - 3]!, cl[3 * i + 1]! - cl[3 * i - 2]!);
  return out;
}

/** Arc length of the point of the centre line nearest to (px, py). */
function projectArc(cl: Float64Array, cum: Float64Array, px: number, py: number): number {
  const n = cl.length / 3;
  let best = Infinity, bestS = 0;
  for (let i = 0; i + 1 < n; i++) {
    const ax = cl[3 * i]!, ay = cl[3 * i + 1]!;
    const dx = cl[3 * i + 3]! - ax, dy = cl[3 * i + 4]! - ay;
    const len2 = dx * dx + dy * dy;
    let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = Math.min(1, Math.max(0, t));
    const d = (ax + t * dx - px) ** 2 + (ay + t * dy - py) ** 2;
    if (d < best) {
      best = d;
      bestS = cum[i]! + t * (cum[i + 1]! - cum[i]!);
    }
  }
  return bestS;
}

/** Point and heading of the centre line at arc length s (clamped). */
function pointAt(cl: Float64Array, cum: Float64Array, s: number): [number, number, number] {
  const n = cl.length / 3;
  if (s <= 0) return [cl[0]!, cl[1]!, cl[2]!];
  if (s >= cum[n - 1]!) return [cl[3 * n - 3]!, cl[3 * n - 2]!, cl[3 * n - 1]!];
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! <= s) lo = mid;
    else hi = mid;
  }
  const seg = cum[hi]! - cum[lo]!;
  const t = seg > 0 ? (s - cum[lo]!) / seg : 0;
  const h = cl[3 * lo + 2]! + t * wrapAngle(cl[3 * hi + 2]! - cl[3 * lo + 2]!);
  return [cl[3 * lo]! + t * (cl[3 * hi]! - cl[3 * lo]!), cl[3 * lo + 1]! + t * (cl[3 * hi + 1]! - cl[3 * lo + 1]!), h];
}

function inside(x: number, y: number, shell: Float64Array, holes: readonly Float64Array[]): boolean {
  if (locatePointInRing(x, y, shell) === EXTERIOR) return false;
  return !holes.some((h) => locatePointInRing(x, y, h) === INTERIOR);
}

/**
 * The driving command of a scene from its PDM-Closed centre line: heading change over the next
 * 50 m from the ego's projection (> 30 degrees left / right: a turn; < 5 m of centre line: unknown).
 */
export function sceneCommand(scene: PDMScene): DrivingCommand {
  const cl = scene.pdmClosedCenterline;
  const cum = arcLengths(cl);
  const s0 = projectArc(cl, cum, scene.ego.x, scene.ego.y);
  const total = cum[cum.length - 1]!;
  const s1 = Math.min(total, s0 + 50);
  if (s1 - s0 < 5) return 'unknown';
  const d = wrapAngle(pointAt(cl, cum, s1)[2] - pointAt(cl, cum, s0)[2]);
  return d > Math.PI / 6 ? 'left' : d < -Math.PI / 6 ? 'right' : 'straight';
}

let projectionCache: { width: number; matrix: Float64Array } | null = null;

/** The fixed `[24, H]` projection used when H < 24 (seeded Gaussian / sqrt(24)). */
export function tokenProjection(width: number): Float64Array {
  if (projectionCache && projectionCache.width === width) return projectionCache.matrix;
  const m = new Rng(PROJECTION_SEED + width).fillNormal(new Float64Array(SCENE_TOKEN_WIDTH * width), 0, 1 / Math.sqrt(SCENE_TOKEN_WIDTH));
  projectionCache = { width, matrix: m };
  return m;
}

/**
 * Scene tokens `[L, H]` (row-major Float32Array of L·H values) of a parsed scene, a generated
 * scene or a `pdm_ref_scene` JSON object. See the file comment for the layout.
 */
export function sceneTokens(input: PDMScene | GeneratedScene | Record<string, unknown>, opts: SceneTokenOptions): Float32Array {
  const L = opts?.numTokens;
  const H = opts?.width;
  if (!Number.isInteger(L) || L < 1) throw new NavsimInputError(`sceneTokens: invalid numTokens ${L}. Should be an integer >= 1.`, undefined, 'numTokens');
  if (!Number.isInteger(H) || H < 1) throw new NavsimInputError(`sceneTokens: invalid width ${H}. Should be an integer >= 1.`, undefined, 'width');
  if (L * H > MAX_VALUES) throw new NavsimInputError(`sceneTokens: numTokens * width = ${L * H} values is too large. Should be <= ${MAX_VALUES}.`, undefined, 'numTokens');
  let scene: PDMScene;
  let command: DrivingCommand;
  if (isGenerated(input)) {
    scene = parseScene(input.scene, { source: input.name });
    command = input.info.command;
  } else {
    scene = isPDMScene(input) ? input : parseScene(input);
    command = sceneCommand(scene);
  }
  const feats = new Float64Array(L * SCENE_TOKEN_WIDTH);
  const e = scene.ego;
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  const local = (x: number, y: number): [number, number] => {
    const dx = x - e.x, dy = y - e.y;
    return [c * dx + s * dy, -s * dx + c * dy];
  };
  const routeLanes = scene.map.lanes.filter((l) => l.onRoute);
  const speedLimitAt = (x: number, y: number): number => {
    for (const l of routeLanes) if (l.speedLimitMps !== null && inside(x, y, l.polygon, l.holes)) return l.speedLimitMps;
    return 15; // PDM-Closed's fallback when a lane has no limit
  };
  const intersections = scene.map.areas.filter((a) => a.type === 'INTERSECTION');

  // Ego token.
  let f = 0;
  feats[f + KIND_EGO] = 1;
  feats[f + 3] = e.vx / 10;
  feats[f + 4] = e.vy / 10;
  feats[f + 5] = e.ax / 3;
  feats[f + 6] = e.ay / 3;
  feats[f + 7 + DRIVING_COMMANDS.indexOf(command)] = 1;
  const hist = scene.history ?? [];
  const last4 = hist.slice(-4);
  for (let j = 0; j < 4; j++) {
    const h = last4[j - (4 - last4.length)];
    const o = f + 11 + 3 * j;
    if (!h) continue;
    const [hx, hy] = local(h.x, h.y);
    feats[o] = hx / 20;
    feats[o + 1] = hy / 20;
    feats[o + 2] = wrapAngle(h.heading - e.heading);
  }
  feats[f + 23] = speedLimitAt(e.x, e.y) / 20;

  // Route chunks along the PDM-Closed centre line from the ego's projection.
  const cl = scene.pdmClosedCenterline;
  const cum = arcLengths(cl);
  const sEgo = projectArc(cl, cum, e.x, e.y);
  const remaining = cum[cum.length - 1]! - sEgo;
  const routeAvailable = Math.min(MAX_ROUTE_TOKENS, Math.max(remaining >= 1 ? 1 : 0, Math.floor(remaining / ROUTE_CHUNK_M)));
  // Agents present in frame 0, nearest first.
  const agents = scene.agents
    .filter((a) => a.startFrame === 0 && a.states[0])
    .map((a) => {
      const st = a.states[0]!;
      const [x, y] = local(st.x, st.y);
      return { a, st, x, y, d: Math.hypot(x, y) };
    })
    .sort((p, q) => p.d - q.d || (p.a.id < q.a.id ? -1 : p.a.id > q.a.id ? 1 : 0));
  const slots = L - 1;
  const routeReserve = Math.min(routeAvailable, Math.floor(slots / 2));
  const nAgents = Math.min(agents.length, slots - routeReserve);
  const nRoute = Math.min(routeAvailable, slots - nAgents);
  let t = 1;
  for (let j = 0; j < nRoute; j++, t++) {
    f = t * SCENE_TOKEN_WIDTH;
    const s0 = sEgo + j * ROUTE_CHUNK_M;
    const s1 = s0 + ROUTE_CHUNK_M;
    const p0 = pointAt(cl, cum, s0), pm = pointAt(cl, cum, (s0 + s1) / 2), p1 = pointAt(cl, cum, s1);
    const [x0, y0] = local(p0[0], p0[1]);
    const [xm, ym] = local(pm[0], pm[1]);
    const [x1, y1] = local(p1[0], p1[1]);
    const hm = wrapAngle(pm[2] - e.heading);
    feats[f + KIND_ROUTE] = 1;
    feats[f + 3] = x0 / 50;
    feats[f + 4] = y0 / 50;
    feats[f + 5] = x1 / 50;
    feats[f + 6] = y1 / 50;
    feats[f + 7] = xm / 50;
    feats[f + 8] = ym / 50;
    feats[f + 9] = Math.cos(hm);
    feats[f + 10] = Math.sin(hm);
    feats[f + 11] = (wrapAngle(p1[2] - p0[2]) / ROUTE_CHUNK_M) * 10;
    feats[f + 12] = speedLimitAt(pm[0], pm[1]) / 20;
    feats[f + 13] = intersections.some((a) => inside(pm[0], pm[1], a.polygon, a.holes)) ? 1 : 0;
    feats[f + 14] = (s0 - sEgo) / 100;
  }
  for (let j = 0; j < nAgents; j++, t++) {
    f = t * SCENE_TOKEN_WIDTH;
    const { a, st, x, y, d } = agents[j]!;
    const h = wrapAngle(st.heading - e.heading);
    feats[f + KIND_AGENT] = 1;
    feats[f + 3] = x / 50;
    feats[f + 4] = y / 50;
    feats[f + 5] = Math.cos(h);
    feats[f + 6] = Math.sin(h);
    feats[f + 7] = (c * st.vx + s * st.vy) / 10;
    feats[f + 8] = (-s * st.vx + c * st.vy) / 10;
    feats[f + 9] = a.length / 5;
    feats[f + 10] = a.width / 5;
    feats[f + 11 + agentTypeIndex(a.type)] = 1;
    feats[f + 15] = d / 50;
    feats[f + 16] = Math.hypot(st.vx, st.vy) < 0.2 ? 1 : 0;
  }

  const out = new Float32Array(L * H);
  if (H >= SCENE_TOKEN_WIDTH) {
    for (let k = 0; k < L; k++) for (let q = 0; q < SCENE_TOKEN_WIDTH; q++) out[k * H + q] = feats[k * SCENE_TOKEN_WIDTH + q]!;
  } else {
    const P = tokenProjection(H);
    for (let k = 0; k < L; k++) {
      for (let q = 0; q < SCENE_TOKEN_WIDTH; q++) {
        const v = feats[k * SCENE_TOKEN_WIDTH + q]!;
        if (v === 0) continue;
        for (let o = 0; o < H; o++) out[k * H + o] += v * P[q * H + o]!;
      }
    }
  }
  return out;
}
