/**
 * The synthetic NAVSIM benchmark's splits: disjoint ranges of generator seeds (a seed gives the
 * same scene everywhere, `generateScene(seed)`), and the scene statistics of a split.
 *
 * | split | seeds | scenes | use |
 * |---|---|---|---|
 * | train | 0 .. 9999 | 10 000 | imitation learning, GRPO, the ego-status MLP |
 * | val | 10000 .. 10999 | 1 000 | model selection, early stopping |
 * | test | 20000 .. 20999 | 1 000 | the reported table (never trained or selected on) |
 *
 * The gap 11000 .. 19999 is left free so that val can grow without touching test. `--seeds A:B`
 * means seeds A .. B-1 (half-open, as Python slices).
 */
import { ConfigError } from '../core/errors.js';
import { locatePointInRing } from '../geometry/polygon.js';
import type { CachedScene } from './metric-cache.js';
import { sceneCommand } from './scene-tokens.js';
import { DRIVING_COMMANDS, type DrivingCommand } from './scenegen.js';
import type { PDMScene } from './types.js';

/** Seeds [start, end). */
export interface SeedRange {
  start: number;
  end: number;
}

export type SplitName = 'train' | 'val' | 'test';

export const NAVSIM_SPLITS: Readonly<Record<SplitName, Readonly<SeedRange>>> = Object.freeze({
  train: Object.freeze({ start: 0, end: 10_000 }),
  val: Object.freeze({ start: 10_000, end: 11_000 }),
  test: Object.freeze({ start: 20_000, end: 21_000 }),
});

/** The range of a split by name; an unknown name is a `ConfigError` listing the valid ones. */
export function splitRange(name: string, field = 'split'): SeedRange {
  const r = (NAVSIM_SPLITS as Record<string, SeedRange>)[name];
  if (!r) throw new ConfigError(ConfigError.format({ field, expected: Object.keys(NAVSIM_SPLITS).join(' | '), found: name }), { field, expected: Object.keys(NAVSIM_SPLITS), found: name });
  return { ...r };
}

/** Parses `A:B` (seeds A .. B-1) or a split name (`test`, or `test:200` for its first 200 seeds). */
export function parseSeedRange(text: string, field = 'seeds'): SeedRange {
  const split = /^(train|val|test)(?::(\d+))?$/.exec(text);
  if (split) {
    const r = splitRange(split[1]!, field);
    if (split[2] !== undefined) r.end = Math.min(r.end, r.start + Number(split[2]));
    return r;
  }
  const m = /^(\d+):(\d+)$/.exec(text);
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) {
    throw new ConfigError(ConfigError.format({ field, expected: 'A:B with integers 0 <= A < B (seeds A .. B-1), or train | val | test[:N]', found: text }), {
      field, expected: 'A:B with 0 <= A < B', found: text,
    });
  }
  return { start, end };
}

/** The split a seed belongs to, or null (between splits). */
export function splitOfSeed(seed: number): SplitName | null {
  for (const [name, r] of Object.entries(NAVSIM_SPLITS) as [SplitName, SeedRange][]) if (seed >= r.start && seed < r.end) return name;
  return null;
}

/** Agent id of the vehicle ahead in the ego's lane at t0 (closest, within 60 m, |lateral| < 1.8 m, same direction), or null. */
export function leadAgent(scene: PDMScene): string | null {
  const e = scene.ego;
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  let best: string | null = null;
  let bestX = 60;
  for (const a of scene.agents) {
    if (a.type !== 'vehicle') continue;
    const st = a.states[0];
    if (!st) continue;
    const dx = st.x - e.x, dy = st.y - e.y;
    const x = c * dx + s * dy, y = -s * dx + c * dy;
    if (x > 0 && x < bestX && Math.abs(y) < 1.8 && Math.cos(st.heading - e.heading) > 0.7) {
      bestX = x;
      best = a.id;
    }
  }
  return best;
}

/**
 * Whether the lead vehicle brakes: its speed drops below 60 % of its t0 speed (t0 speed > 1 m/s)
 * within the scene. `leadId`: the generator's lead (`GeneratedScene.info.leadId`), else `leadAgent`.
 */
export function leadBrakes(scene: PDMScene, leadId: string | null = leadAgent(scene)): boolean {
  if (leadId === null) return false;
  const a = scene.agents.find((x) => x.id === leadId);
  const st0 = a?.states[0];
  if (!a || !st0) return false;
  const v0 = Math.hypot(st0.vx, st0.vy);
  if (v0 <= 1) return false;
  return a.states.some((st) => st !== null && Math.hypot(st.vx, st.vy) < 0.6 * v0);
}

/** Whether the human future (rear axle) enters an intersection area or a lane connector. */
export function humanAtJunction(scene: PDMScene): boolean {
  const t = scene.humanTrajectory ?? scene.trajectory;
  if (!t) return false;
  const e = scene.ego;
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  const rings = [
    ...scene.map.areas.filter((a) => a.type === 'INTERSECTION').map((a) => a.polygon),
    ...scene.map.lanes.filter((l) => l.type === 'LANE_CONNECTOR').map((l) => l.polygon),
  ];
  for (let k = 0; k + 2 < t.poses.length; k += 3) {
    const [x, y] = t.frame === 'global' ? [t.poses[k]!, t.poses[k + 1]!] : [e.x + c * t.poses[k]! - s * t.poses[k + 1]!, e.y + s * t.poses[k]! + c * t.poses[k + 1]!];
    for (const r of rings) if (locatePointInRing(x, y, r) !== 0 /* not EXTERIOR */) return true;
  }
  return false;
}

export interface SplitStats {
  n: number;
  seeds: SeedRange;
  /** Share of each driving command. */
  commands: Record<DrivingCommand, number>;
  /** Share of scenes with a lead vehicle, and with a braking one. */
  lead: number;
  leadBraking: number;
  /** Share of scenes whose human future enters a junction. */
  junction: number;
  /** Mean ego speed at t0 (m/s). */
  egoSpeed: number;
  /** Mean PDMS (v1.1) and EPDMS (v2.2) of the human future (null when the version is not cached). */
  humanPdms: number | null;
  humanEpdms: number | null;
}

/** What the generator knows about a scene (`GeneratedScene.info`): its lead vehicle and command. */
export interface SceneInfo {
  leadId: string | null;
  command: DrivingCommand;
}

/**
 * Statistics of cached scenes (the human scores come from the cache's probe metrics). With `info`
 * (per scene, from the generator) the lead vehicle and the command are the generator's; without,
 * they are found from the scene (`leadAgent`, `sceneCommand`; the geometric lead finder misses
 * leads on curves and beyond 60 m).
 */
export function sceneStats(scenes: readonly CachedScene[], seeds: SeedRange, info?: readonly SceneInfo[]): SplitStats {
  const n = scenes.length;
  const commands = Object.fromEntries(DRIVING_COMMANDS.map((c) => [c, 0])) as Record<DrivingCommand, number>;
  let lead = 0, braking = 0, junction = 0, speed = 0;
  const human: Record<'v1.1' | 'v2.2', { sum: number; n: number }> = { 'v1.1': { sum: 0, n: 0 }, 'v2.2': { sum: 0, n: 0 } };
  for (const [i, c] of scenes.entries()) {
    const leadId = info ? info[i]!.leadId : leadAgent(c.scene);
    commands[info ? info[i]!.command : sceneCommand(c.scene)]++;
    if (leadId !== null) lead++;
    if (leadBrakes(c.scene, leadId)) braking++;
    if (humanAtJunction(c.scene)) junction++;
    speed += Math.hypot(c.scene.ego.vx, c.scene.ego.vy);
    for (const v of ['v1.1', 'v2.2'] as const) {
      const m = c.humanMetrics[v];
      if (m) {
        human[v].sum += m[m.length - 1]!;
        human[v].n++;
      }
    }
  }
  const frac = (k: number) => (n > 0 ? k / n : 0);
  for (const k of DRIVING_COMMANDS) commands[k] = frac(commands[k]);
  return {
    n,
    seeds,
    commands,
    lead: frac(lead),
    leadBraking: frac(braking),
    junction: frac(junction),
    egoSpeed: n > 0 ? speed / n : 0,
    humanPdms: human['v1.1'].n > 0 ? human['v1.1'].sum / human['v1.1'].n : null,
    humanEpdms: human['v2.2'].n > 0 ? human['v2.2'].sum / human['v2.2'].n : null,
  };
}
