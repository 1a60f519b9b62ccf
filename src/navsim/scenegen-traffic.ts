/**
 * The small traffic model of scene generation: every vehicle follows its lane path with the
 * Intelligent Driver Model (Treiber et al. 2000) towards a desired speed that respects the path's
 * curvature (lateral-acceleration limit with braking look-ahead), reacting to the nearest object
 * ahead on its path. A vehicle may be parked (speed 0), brake on a schedule (a lead car braking),
 * or be a pedestrian walking along the sidewalk at constant speed. Plain numbers, 10 Hz.
 */
import { boxCorners, boxesIntersect } from '../geometry/box.js';
import { LanePath, profileAt, speedProfile } from './scenegen-path.js';

export type SimKind = 'ego' | 'vehicle' | 'parked' | 'pedestrian';

/** IDM parameters (a: max acceleration, b: comfortable deceleration, T: time headway, s0: jam gap, delta: exponent). */
export interface IdmParams {
  a: number;
  b: number;
  T: number;
  s0: number;
  delta: number;
  /** Hard limits on the commanded acceleration (m/s^2). */
  minAccel: number;
  maxAccel: number;
  /** Jerk limit (m/s^3) on the acceleration change per step. */
  maxJerk: number;
}

export const DEFAULT_IDM: Readonly<IdmParams> = Object.freeze({ a: 1.2, b: 2.0, T: 1.5, s0: 3.0, delta: 4, minAccel: -4.0, maxAccel: 2.0, maxJerk: 3.0 });

export interface SimActor {
  id: string;
  kind: SimKind;
  /** Agent type written to the scene. */
  type: 'vehicle' | 'pedestrian';
  path: LanePath;
  /** Lateral offset from the path centre line (m, left positive). */
  left: number;
  /** Arc length of the reference point at the first step. */
  s: number;
  /** Speed along the path at the first step (m/s; pedestrians walk backwards along the path when `direction` is -1). */
  v: number;
  /** Desired cruise speed (m/s). */
  cruise: number;
  length: number;
  width: number;
  height: number;
  /** Box centre = reference point + this many metres forward (ego: rear axle to centre). */
  centerShift: number;
  direction: 1 | -1;
  idm: IdmParams;
  /** Scheduled braking: from step `step` (relative to the first simulated step) decelerate at `decel` down to `vTarget`. */
  brake?: { step: number; decel: number; vTarget: number };
}

/** Per actor and step: x, y, heading (of the box centre), speed, acceleration, s. */
export const TRACK_STRIDE = 6;

export interface SimResult {
  /** `tracks[i]` has `steps * TRACK_STRIDE` values. */
  tracks: Float64Array[];
  /** Whether the actor's reference point is beyond its path end (left the mapped lanes) at each step. */
  offPath: Uint8Array[];
  /** Leader index of each actor at each step (-1: none). */
  leaders: Int32Array[];
  steps: number;
}

const LATERAL_MARGIN = 0.3;
const LOOKAHEAD_M = 80;
const PLAN_DECEL = 1.5;

/**
 * Simulates the actors for `steps` steps of `dt` seconds. Step 0 is the actors' initial state.
 * Actors are updated together (everyone sees the previous step's positions).
 */
export function simulateTraffic(actors: readonly SimActor[], steps: number, dt: number, aLat: number): SimResult {
  const n = actors.length;
  const s = Float64Array.from(actors, (a) => a.s);
  const v = Float64Array.from(actors, (a) => a.v);
  const acc = new Float64Array(n);
  const tracks = actors.map(() => new Float64Array(steps * TRACK_STRIDE));
  const offPath = actors.map(() => new Uint8Array(steps));
  const leaders = actors.map(() => new Int32Array(steps).fill(-1));
  const profiles = actors.map((a) =>
    a.kind === 'ego' || a.kind === 'vehicle'
      ? speedProfile(a.path, Math.max(0, a.s - 5), Math.min(a.path.length, a.s + a.cruise * steps * dt + LOOKAHEAD_M), a.cruise, aLat, PLAN_DECEL)
      : null,
  );
  const p = new Float64Array(2);
  const record = (k: number) => {
    for (let i = 0; i < n; i++) {
      const a = actors[i]!;
      const sc = s[i]! + a.centerShift;
      a.path.position(sc, a.left, p);
      let h = a.path.heading(sc);
      if (a.direction < 0) h = h > 0 ? h - Math.PI : h + Math.PI;
      const o = k * TRACK_STRIDE;
      const t = tracks[i]!;
      t[o] = p[0]!;
      t[o + 1] = p[1]!;
      t[o + 2] = h;
      t[o + 3] = v[i]!;
      t[o + 4] = acc[i]!;
      t[o + 5] = s[i]!;
      offPath[i]![k] = s[i]! > a.path.length || s[i]! < 0 ? 1 : 0;
    }
  };
  record(0);
  const next = new Float64Array(n);
  for (let k = 1; k < steps; k++) {
    for (let i = 0; i < n; i++) {
      const a = actors[i]!;
      if (a.kind === 'parked' || a.kind === 'pedestrian') {
        next[i] = 0;
        continue;
      }
      // IDM free-road term towards the curvature-limited desired speed.
      const vDes = Math.max(0.5, profileAt(profiles[i]!, s[i]!));
      const vi = v[i]!;
      let aCmd = a.idm.a * (1 - Math.pow(vi / vDes, a.idm.delta));
      // Interaction with the nearest object ahead on the path.
      const lead = findLeader(actors, tracks, k - 1, i);
      leaders[i]![k] = lead ? lead.index : -1;
      if (lead) {
        const dv = vi - lead.speed;
        const sStar = a.idm.s0 + Math.max(0, vi * a.idm.T + (vi * dv) / (2 * Math.sqrt(a.idm.a * a.idm.b)));
        const gap = Math.max(0.1, lead.gap);
        aCmd -= a.idm.a * (sStar / gap) * (sStar / gap);
      }
      if (a.brake && k >= a.brake.step && vi > a.brake.vTarget) aCmd = Math.min(aCmd, -a.brake.decel);
      aCmd = Math.min(a.idm.maxAccel, Math.max(a.idm.minAccel, aCmd));
      const dj = a.idm.maxJerk * dt;
      aCmd = Math.min(acc[i]! + dj, Math.max(acc[i]! - dj, aCmd));
      next[i] = aCmd;
    }
    for (let i = 0; i < n; i++) {
      const a = actors[i]!;
      if (a.kind === 'pedestrian') {
        s[i] = s[i]! + a.direction * v[i]! * dt;
        continue;
      }
      if (a.kind === 'parked') continue;
      let ai = next[i]!;
      const vi = v[i]!;
      // No reversing: stop exactly at v = 0.
      if (vi + ai * dt < 0) ai = -vi / dt;
      s[i] = s[i]! + vi * dt + 0.5 * ai * dt * dt;
      v[i] = vi + ai * dt;
      acc[i] = ai;
    }
    record(k);
  }
  return { tracks, offPath, leaders, steps };
}

/** The nearest actor ahead of actor `i` on its path at step `k` (box overlap laterally), with the bumper gap. */
function findLeader(actors: readonly SimActor[], tracks: readonly Float64Array[], k: number, i: number): { index: number; gap: number; speed: number } | null {
  const me = actors[i]!;
  const ti = tracks[i]!;
  const sRef = ti[k * TRACK_STRIDE + 5]!;
  const sc = sRef + me.centerShift;
  const h = ti[k * TRACK_STRIDE + 2]!;
  let best: { index: number; gap: number; speed: number } | null = null;
  for (let j = 0; j < actors.length; j++) {
    if (j === i) continue;
    const o = actors[j]!;
    if (o.kind === 'pedestrian') continue;
    const tj = tracks[j]!;
    const x = tj[k * TRACK_STRIDE]!;
    const y = tj[k * TRACK_STRIDE + 1]!;
    // Cheap reject: behind or far away.
    const dx = x - ti[k * TRACK_STRIDE]!;
    const dy = y - ti[k * TRACK_STRIDE + 1]!;
    if (dx * Math.cos(h) + dy * Math.sin(h) < 0 || dx * dx + dy * dy > LOOKAHEAD_M * LOOKAHEAD_M) continue;
    const loc = me.path.locate(x, y, sc, sc + LOOKAHEAD_M);
    if (!loc || loc.s <= sc) continue;
    if (Math.abs(loc.left - me.left) > (me.width + o.width) / 2 + LATERAL_MARGIN) continue;
    // Longitudinal speed of the other actor along my heading.
    const hj = tj[k * TRACK_STRIDE + 2]!;
    const speed = Math.max(0, tj[k * TRACK_STRIDE + 3]! * Math.cos(hj - h));
    const gap = loc.s - sc - (me.length + o.length) / 2;
    if (!best || gap < best.gap) best = { index: j, gap, speed };
  }
  return best;
}

/** Corners of actor `i`'s box at step `k`, optionally grown by margins and shifted forward by `ahead` metres. */
export function actorBox(a: SimActor, track: Float64Array, k: number, out: Float64Array, growLength = 0, growWidth = 0, ahead = 0): Float64Array {
  const o = k * TRACK_STRIDE;
  const h = track[o + 2]!;
  return boxCorners(track[o]! + ahead * Math.cos(h), track[o + 1]! + ahead * Math.sin(h), h, a.length / 2 + growLength, a.width / 2 + growWidth, out);
}

/** Whether two boxes (8-number corner rings) intersect. */
export function boxesHit(a: Float64Array, b: Float64Array): boolean {
  return boxesIntersect(a, 0, b, 0);
}
