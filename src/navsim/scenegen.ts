/**
 * NAVSIM-style scenes generated from the procedural world: a MetaDrive-style map (`world/`), the
 * ego on its route, IDM traffic on nearby lanes, and the "human" future the ego's own IDM driver
 * takes. The output is a `pdm_ref_scene/v2` JSON object (valid input of `parseScene`, scored by
 * `scoreScene`) plus the planner inputs of ReCogDrive (history [4, 3], status [8], target [8, 3]).
 *
 * Recipe per scenario index `seed` (every random draw from one `Rng` stream of the seed):
 *  1. `generateMap(seed, opts.map)`; a speed limit for the scene; the lanes of the route that
 *     reach the route end lane by lane; the ego's lane chain from a random such lane of the first
 *     route road.
 *  2. The ego starts 4.5 s before t0 (a 3 s warm-up, then the 1.5 s history) at a random place of that chain with a speed below its
 *     curvature limit; an optional lead car ahead on the same chain (sometimes braking), 2..6
 *     vehicles on random lanes near the ego (both directions), optionally a parked car on a
 *     kerb lane the ego does not use and a pedestrian on a sidewalk.
 *  3. Everybody is simulated at 10 Hz from -4.5 s to +5 s (`scenegen-traffic.ts`). Agents that
 *     collide with the ego, come within the scorer's time-to-collision projection of it, or
 *     overlap another agent are removed and the simulation is re-run.
 *  4. The ego's states at -1.5, -1, -0.5, 0 s are the history; its rear-axle poses at
 *     0.5 .. 4 s are the human trajectory; agents are written for frames 0..50 (0..5 s).
 *  5. The same frame 0.5 s earlier (history, human plan, agents at -0.5 .. 4.5 s) is the scene's
 *     `previous_frame`, so that v2.2 two-frame extended comfort (EC) is defined.
 */
import { Rng } from '../core/rng.js';
import { wrapAngle } from '../geometry/angle.js';
import { SIDEWALK_WIDTH } from '../world/construct.js';
import { DEFAULT_MAP_CONFIG as DEFAULT_WORLD_MAP_CONFIG, generateMap, mixSeed, type MapConfig, type PGMap } from '../world/generator.js';
import { laneKey } from '../world/lane.js';
import { roadKey, type Road } from '../world/network.js';
import { SIDEWALK_GAP } from '../world/polygons.js';
import { sceneMapJson, type SceneMapJson } from './scenegen-map.js';
import { LanePath, profileAt, randomLaneChain, routeLaneChain, routeReachability, speedProfile } from './scenegen-path.js';
import { defineConfig, type ConfigDef, type ConfigInput } from '../core/config.js';
import { nearest } from '../core/errors.js';
import { DEFAULT_IDM, type IdmParams, type SimActor, type SimResult, TRACK_STRIDE, actorBox, boxesHit, simulateTraffic } from './scenegen-traffic.js';
import { boxCorners } from '../geometry/box.js';
import { parseScene } from './scene-json.js';
import { egoCoords, scoreProposalsDetailed } from './scorer.js';
import { NavsimInputError, NUM_STATES, PACIFICA, STATE_SIZE, StateIndex } from './types.js';

/** Options of `generateScene`; every field has a default (`DEFAULT_SCENEGEN`). */
export interface SceneGenOptions {
  /** World map config (default: MetaDrive's 3 blocks with 3 lanes of 3.5 m). */
  map: Partial<MapConfig>;
  /** Timestamp of the current frame (µs); the history starts 1.5 s earlier. */
  timestampUs: number;
  /** Map objects are kept within this distance of the ego (NAVSIM: 100 m). */
  mapRadius: number;
  /** Sampling step of map polygons and lane centre lines (m). */
  mapStep: number;
  /** Scene speed limits to draw from (m/s); ramp lanes are capped at 12 m/s as in MetaDrive. */
  speedLimits: number[];
  /** Fraction of the speed limit the ego wants to drive at: U[lo, hi]. */
  egoSpeedFraction: [number, number];
  /** Lateral acceleration (m/s^2) that sets curve speeds of the ego and traffic. */
  lateralAccel: number;
  /** Other moving vehicles (besides the lead car): an integer in [lo, hi]. */
  numVehicles: [number, number];
  leadProbability: number;
  /** Probability that the lead car brakes (to 0..50 % of its speed). */
  leadBrakeProbability: number;
  parkedProbability: number;
  pedestrianProbability: number;
  /** Probability that the ego starts (at -4.5 s, before the warm-up) slowly, 0..3 m/s. */
  slowStartProbability: number;
  /** IDM of the ego (the "human"). */
  egoIdm: IdmParams;
  /** IDM of the traffic. */
  trafficIdm: IdmParams;
}

/** IDM parameters as a config section (a partial `egoIdm`/`trafficIdm` is merged over the default). */
export const SCENEGEN_IDM_CONFIG: ConfigDef<IdmParams> = defineConfig<IdmParams>('IdmParams', {
  a: { default: DEFAULT_IDM.a, type: 'number', gt: 0, doc: 'Maximum acceleration a (m/s^2).' },
  b: { default: DEFAULT_IDM.b, type: 'number', gt: 0, doc: 'Comfortable deceleration b (m/s^2).' },
  T: { default: DEFAULT_IDM.T, type: 'number', min: 0, doc: 'Desired time headway T (s).' },
  s0: { default: DEFAULT_IDM.s0, type: 'number', min: 0, doc: 'Minimum gap s0 (m).' },
  delta: { default: DEFAULT_IDM.delta, type: 'number', gt: 0, doc: 'Acceleration exponent δ.' },
  minAccel: { default: DEFAULT_IDM.minAccel, type: 'number', max: 0, doc: 'Hard lower limit of the commanded acceleration (m/s^2).' },
  maxAccel: { default: DEFAULT_IDM.maxAccel, type: 'number', min: 0, doc: 'Hard upper limit of the commanded acceleration (m/s^2).' },
  maxJerk: { default: DEFAULT_IDM.maxJerk, type: 'number', gt: 0, doc: 'Jerk limit (m/s^3) on the acceleration change per step.' },
});

const WORLD_MAP_KEYS = Object.keys(DEFAULT_WORLD_MAP_CONFIG);

const pairCheck = (v: readonly number[]) => (v.length === 2 && v[0]! <= v[1]! ? undefined : '[lo, hi] with lo <= hi');

/** `generateScene`'s options, declared once (defaults, docs, checks). */
export const SCENEGEN_CONFIG: ConfigDef<SceneGenOptions> = defineConfig<SceneGenOptions>('SceneGenOptions', {
  map: {
    default: {},
    type: 'object',
    check: (v) => {
      const bad = Object.keys(v).find((k) => !WORLD_MAP_KEYS.includes(k));
      if (bad === undefined) return undefined;
      const near = nearest(bad, WORLD_MAP_KEYS);
      return `keys of the world MapConfig (${WORLD_MAP_KEYS.join(', ')}); '${bad}' is unknown${near ? ` (did you mean '${near}'?)` : ''}`;
    },
    doc: 'World map config (default: MetaDrive\'s 3 blocks with 3 lanes of 3.5 m).',
  },
  timestampUs: { default: 20_000_000, type: 'integer', min: 1_500_000, check: (v) => (Number.isSafeInteger(v) ? undefined : 'a safe integer (< 2^53)'), doc: 'Timestamp of the current frame (µs); the history starts 1.5 s earlier, so >= 1500000.' },
  mapRadius: { default: 100, type: 'number', min: 30, doc: 'Map objects are kept within this distance of the ego (NAVSIM: 100 m).' },
  mapStep: { default: 2, type: 'number', gt: 0, max: 5, doc: 'Sampling step of map polygons and lane centre lines (m).' },
  speedLimits: {
    default: [11.11, 13.89, 16.67],
    type: 'array',
    items: { type: 'number', min: 3, max: 40 },
    check: (v) => (v.length > 0 ? undefined : 'a non-empty list of speeds in [3, 40] m/s'),
    doc: 'Scene speed limits to draw from (m/s); ramp lanes are capped at 12 m/s as in MetaDrive.',
  },
  egoSpeedFraction: { default: [0.7, 1.0], type: 'array', items: { type: 'number', min: 0.1, max: 1.2 }, check: pairCheck, doc: 'Fraction of the speed limit the ego wants to drive at: U[lo, hi].' },
  lateralAccel: { default: 2.0, type: 'number', min: 0.5, max: 6, doc: 'Lateral acceleration (m/s^2) that sets curve speeds of the ego and traffic.' },
  numVehicles: { default: [2, 6], type: 'array', items: { type: 'integer', min: 0, max: 30 }, check: pairCheck, doc: 'Other moving vehicles (besides the lead car): an integer in [lo, hi].' },
  leadProbability: { default: 0.75, type: 'number', min: 0, max: 1, doc: 'Probability of a lead car.' },
  leadBrakeProbability: { default: 0.35, type: 'number', min: 0, max: 1, doc: 'Probability that the lead car brakes (to 0..50 % of its speed).' },
  parkedProbability: { default: 0.3, type: 'number', min: 0, max: 1, doc: 'Probability of parked cars.' },
  pedestrianProbability: { default: 0.4, type: 'number', min: 0, max: 1, doc: 'Probability of a pedestrian.' },
  slowStartProbability: { default: 0.1, type: 'number', min: 0, max: 1, doc: 'Probability that the ego starts (at -4.5 s, before the warm-up) slowly, 0..3 m/s.' },
  egoIdm: { default: DEFAULT_IDM, type: 'object', nested: SCENEGEN_IDM_CONFIG, doc: 'IDM of the ego (the "human").' },
  trafficIdm: { default: { ...DEFAULT_IDM, a: 1.5, b: 2.5, T: 1.2, s0: 2.5, maxJerk: 6, minAccel: -6 }, type: 'object', nested: SCENEGEN_IDM_CONFIG, doc: 'IDM of the traffic.' },
});

export const DEFAULT_SCENEGEN: Readonly<SceneGenOptions> = SCENEGEN_CONFIG.defaults;

export type DrivingCommand = 'left' | 'straight' | 'right' | 'unknown';
/** Order of the command one-hot in `status` (NAVSIM: left, straight, right, unknown). */
export const DRIVING_COMMANDS: readonly DrivingCommand[] = ['left', 'straight', 'right', 'unknown'];

/** What `generateScene` returns. */
export interface GeneratedScene {
  seed: number;
  /** Scene name, also the sample token. */
  name: string;
  /** The scene as `pdm_ref_scene/v2` JSON (parse with `parseScene`). */
  scene: Record<string, unknown>;
  /** Past ego poses (x, y, heading) at -1.5, -1, -0.5, 0 s in the current ego frame, `[4, 3]`. */
  history: Float32Array;
  /** `[cmd one-hot (left, straight, right, unknown), vx, vy, ax, ay]`, `[8]`. */
  status: Float32Array;
  /** Human future poses at 0.5 .. 4 s in the ego frame, `[8, 3]`. */
  target: Float32Array;
  /**
   * The previous frame (0.5 s earlier), also `scene.previous_frame.scene`: its scene JSON (map and
   * centre line inherited from `scene`) and its planner inputs, so an agent can plan on it too
   * (v2.2 EC compares the agent's plan with the plan it made at the previous frame).
   */
  previous: { name: string; scene: Record<string, unknown>; history: Float32Array; status: Float32Array; target: Float32Array; command: DrivingCommand };
  /** The world map the scene was cut from (not serialised; `generateMap(seed, opts.map)` rebuilds it). */
  map: PGMap;
  info: {
    blocks: string[];
    speedLimit: number;
    command: DrivingCommand;
    /** Lane ids of the ego's lane chain (route). */
    egoLaneIds: string[];
    /** Agent id of the lead car, when one survived the plausibility filter. */
    leadId: string | null;
    egoSpeed: number;
    numAgents: number;
    /** Agents removed by the plausibility filter. */
    removedAgents: number;
  };
}

const DT = 0.1;
/**
 * Simulated steps at 10 Hz: a 3 s warm-up (so the IDM states have settled, no start-up transient
 * in the logged history), the 1.5 s history, then t0 .. +5.0 s.
 */
const WARMUP_STEPS = 30;
const HISTORY_STEPS = 15;
const T0_STEP = WARMUP_STEPS + HISTORY_STEPS;
const SIM_STEPS = T0_STEP + 51;
/** The previous frame (v2.2 EC) is this many 0.1 s steps before t0. */
const PREVIOUS_FRAME_STEPS = 5;
const STREAM_SCENE = 0x73636e; // "scn"
const RAMP_SPEED = 12;
/** Look-ahead of the driving command (m) and the heading change that makes a turn (rad). */
const COMMAND_LOOKAHEAD = 50;
const COMMAND_TURN = Math.PI / 6;

/**
 * Completes and checks options (`SCENEGEN_CONFIG`); an unknown key or a bad value is a
 * `ConfigError` naming the key (and the nearest valid one). Returns frozen options.
 */
export function resolveSceneGenOptions(opts: ConfigInput<SceneGenOptions> = {}): SceneGenOptions {
  return SCENEGEN_CONFIG.resolve(opts) as SceneGenOptions;
}

/** A 2-D rigid transform into the frame of the pose (x0, y0, h0). */
function toFrame(x0: number, y0: number, h0: number, x: number, y: number, h: number, out: Float32Array | Float64Array, o: number): void {
  const c = Math.cos(h0), s = Math.sin(h0);
  const dx = x - x0, dy = y - y0;
  out[o] = c * dx + s * dy;
  out[o + 1] = -s * dx + c * dy;
  out[o + 2] = wrapAngle(h - h0);
}

/** The NAVSIM-style command from the ego path: heading change over the next 50 m (> 30 deg: a turn). */
export function drivingCommand(path: LanePath, s: number): DrivingCommand {
  const ahead = Math.min(path.length, s + COMMAND_LOOKAHEAD);
  if (ahead - s < 5) return 'unknown';
  const d = wrapAngle(path.heading(ahead) - path.heading(s));
  return d > COMMAND_TURN ? 'left' : d < -COMMAND_TURN ? 'right' : 'straight';
}

/** Roads near a point (bounds within `dist`), excluding junction interiors and tapers. */
function nearbyRoads(map: PGMap, x: number, y: number, dist: number): Road[] {
  return map.network.roads().filter((r) => {
    if (r.kind === 'junction' || map.tapers.has(roadKey(r.from, r.to))) return false;
    const b = r.bounds;
    return !(b[0] > x + dist || b[2] < x - dist || b[1] > y + dist || b[3] < y - dist);
  });
}

/**
 * The previous frame of a generated scene as a generated scene of its own: its planner inputs and
 * its scene JSON with the map and centre line of `g` (for scene tokens, or for planning at the
 * previous frame, which v2.2 EC compares with).
 */
export function previousFrameScene(g: GeneratedScene): GeneratedScene {
  const p = g.previous;
  const scene = { schema: g.scene.schema, ...p.scene, map: g.scene.map, pdm_closed: g.scene.pdm_closed };
  return { ...g, name: p.name, scene, history: p.history, status: p.status, target: p.target, info: { ...g.info, command: p.command, egoSpeed: p.status[4]! } };
}

/**
 * Generates the scene of scenario index `seed`. Same seed and options -> identical output.
 */
export function generateScene(seed: number, options: Partial<SceneGenOptions> = {}): GeneratedScene {
  if (!Number.isSafeInteger(seed)) throw new NavsimInputError(`generateScene: seed must be an integer, found ${seed}`, undefined, 'seed');
  const opts = resolveSceneGenOptions(options);
  const rng = new Rng(mixSeed(seed, STREAM_SCENE));
  const map = generateMap(seed, opts.map);
  const limit = rng.choice(opts.speedLimits);
  const speedLimit = (road: Road) => (road.kind === 'ramp' ? Math.min(limit, RAMP_SPEED) : limit);

  // 1. The ego's lane chain along the route.
  const reach = routeReachability(map);
  const startLanes = reach[0]!.map((ok, i) => (ok ? i : -1)).filter((i) => i >= 0);
  if (startLanes.length === 0) throw new Error(`generateScene(seed ${seed}): no lane of the first route road reaches the destination.`);
  // Kerb lanes are avoided where possible: the LQR tracker the scorer simulates with cuts tight
  // right turns by up to ~1 m, which off a kerb lane leaves the drivable area; in a roundabout
  // lane 0 borders the island, so routes through one keep to the middle lanes.
  const nLanes = map.routeRoads[0]!.lanes.length;
  const ring = map.routeRoads.some((r) => r.kind === 'ring');
  const inner = startLanes.filter((i) => i < nLanes - 1 && (!ring || i > 0));
  const egoPath = new LanePath(routeLaneChain(map, reach, 0, rng.choice(inner.length > 0 ? inner : startLanes)));
  const egoLaneSet = new Set(egoPath.lanes.map((l) => laneKey(l.id)));

  // 2. Initial states at -4.5 s.
  const cruise = limit * rng.uniform(opts.egoSpeedFraction[0], opts.egoSpeedFraction[1]);
  const need = cruise * 9.5 + 30;
  const sMax = Math.max(5, egoPath.length - need);
  const sEgo = rng.uniform(5, Math.max(5.001, sMax));
  const egoCurveLimit = profileAt(speedProfile(egoPath, sEgo, Math.min(egoPath.length, sEgo + 60), cruise, opts.lateralAccel, 1.5), sEgo);
  const vEgo = rng.bernoulli(opts.slowStartProbability) ? rng.uniform(0, 3) : Math.min(egoCurveLimit, cruise * rng.uniform(0.6, 1.0));
  const ego: SimActor = {
    id: 'ego', kind: 'ego', type: 'vehicle', path: egoPath, left: 0, s: sEgo, v: vEgo, cruise,
    length: PACIFICA.length, width: PACIFICA.width, height: PACIFICA.height, centerShift: PACIFICA.rearAxleToCenter, direction: 1, idm: opts.egoIdm,
  };
  const actors: SimActor[] = [ego];
  let nextId = 0;
  const newId = (prefix: string) => `${prefix}_${nextId++}`;

  const vehicleSize = () => ({ length: rng.uniform(4.2, 5.2), width: rng.uniform(1.8, 2.1), height: rng.uniform(1.4, 1.9) });
  const p = new Float64Array(2);
  const egoPos = egoPath.position(sEgo + PACIFICA.rearAxleToCenter, 0, new Float64Array(2));
  // Spawn check: a new actor's box (grown by 3 m lengthwise) must not touch any actor's box.
  const boxA = new Float64Array(8), boxB = new Float64Array(8);
  const spawnFree = (cand: SimActor): boolean => {
    const h = cand.path.heading(cand.s);
    cand.path.position(cand.s + cand.centerShift, cand.left, p);
    const grow = cand.kind === 'pedestrian' ? 0.3 : 3;
    for (const a of actors) {
      const q = a.path.position(a.s + a.centerShift, a.left, new Float64Array(2));
      const ha = a.path.heading(a.s + a.centerShift);
      // boxCorners via actorBox needs a track; build a one-step track.
      const ta = Float64Array.of(q[0]!, q[1]!, ha, 0, 0, 0);
      const tc = Float64Array.of(p[0]!, p[1]!, h, 0, 0, 0);
      actorBox(a, ta, 0, boxA, grow, 0.2);
      actorBox(cand, tc, 0, boxB, grow, 0.2);
      if (boxesHit(boxA, boxB)) return false;
    }
    return true;
  };

  let leadId: string | null = null;
  if (rng.bernoulli(opts.leadProbability)) {
    const size = vehicleSize();
    const leadCruise = cruise * rng.uniform(0.55, 1.0);
    const v = Math.min(leadCruise, vEgo * rng.uniform(0.6, 1.1) + 1);
    const gap = Math.max(rng.uniform(8, 45), 4 + vEgo * 1.3);
    const s = sEgo + PACIFICA.rearAxleToCenter + (PACIFICA.length + size.length) / 2 + gap;
    const lead: SimActor = {
      id: newId('vehicle'), kind: 'vehicle', type: 'vehicle', path: egoPath, left: 0, s, v, cruise: leadCruise, ...size,
      centerShift: 0, direction: 1, idm: opts.trafficIdm,
    };
    if (rng.bernoulli(opts.leadBrakeProbability)) {
      lead.brake = { step: rng.int(5, 41), decel: rng.uniform(1.5, 3.0), vTarget: v * rng.uniform(0, 0.5) };
    }
    if (s < egoPath.length - 10) {
      actors.push(lead);
      leadId = lead.id;
    }
  }

  const near = nearbyRoads(map, egoPos[0]!, egoPos[1]!, 70);
  const nVehicles = rng.int(opts.numVehicles[0], opts.numVehicles[1] + 1);
  for (let i = 0, tries = 0; i < nVehicles && tries < nVehicles * 6 && near.length > 0; tries++) {
    const road = rng.choice(near);
    const lane = rng.choice(road.lanes);
    const size = vehicleSize();
    const vCruise = speedLimit(road) * rng.uniform(0.55, 1.0);
    const { path, laneStart } = randomLaneChain(map, lane, 30, lane.length + vCruise * 7 + 40, rng);
    const s = laneStart + rng.uniform(0, lane.length);
    const curve = profileAt(speedProfile(path, s, Math.min(path.length, s + 60), vCruise, opts.lateralAccel, 1.5), s);
    const cand: SimActor = {
      id: `vehicle_${nextId}`, kind: 'vehicle', type: 'vehicle', path, left: 0, s, v: Math.min(curve, vCruise * rng.uniform(0.7, 1.0)), cruise: vCruise,
      ...size, centerShift: 0, direction: 1, idm: opts.trafficIdm,
    };
    if (!spawnFree(cand)) continue;
    nextId++;
    actors.push(cand);
    i++;
  }
  if (rng.bernoulli(opts.parkedProbability)) {
    const kerb = near.filter((r) => r.kind !== 'ring' && !egoLaneSet.has(laneKey(r.lanes[r.lanes.length - 1]!.id)));
    for (let tries = 0; tries < 6 && kerb.length > 0; tries++) {
      const road = rng.choice(kerb);
      const lane = road.lanes[road.lanes.length - 1]!;
      const size = vehicleSize();
      const path = new LanePath([lane]);
      const cand: SimActor = {
        id: `vehicle_${nextId}`, kind: 'parked', type: 'vehicle', path, left: -(lane.width / 2 - size.width / 2 - 0.15),
        s: rng.uniform(size.length, Math.max(size.length + 0.1, lane.length - size.length)), v: 0, cruise: 0, ...size, centerShift: 0, direction: 1, idm: opts.trafficIdm,
      };
      if (!spawnFree(cand)) continue;
      nextId++;
      actors.push(cand);
      break;
    }
  }
  if (rng.bernoulli(opts.pedestrianProbability) && near.length > 0) {
    const road = rng.choice(near.filter((r) => r.kind !== 'ring').length > 0 ? near.filter((r) => r.kind !== 'ring') : near);
    const lane = road.lanes[road.lanes.length - 1]!;
    const { path, laneStart } = randomLaneChain(map, lane, 20, lane.length + 20, rng);
    const walk = rng.uniform(0.8, 1.6);
    const cand: SimActor = {
      id: `pedestrian_${nextId}`, kind: 'pedestrian', type: 'pedestrian', path,
      left: -(lane.width / 2 + SIDEWALK_GAP + SIDEWALK_WIDTH / 2), s: laneStart + rng.uniform(0, lane.length), v: walk, cruise: walk,
      length: rng.uniform(0.5, 0.8), width: rng.uniform(0.5, 0.8), height: rng.uniform(1.5, 1.9), centerShift: 0, direction: rng.bernoulli(0.5) ? 1 : -1, idm: opts.trafficIdm,
    };
    if (spawnFree(cand)) {
      nextId++;
      actors.push(cand);
    }
  }

  // 3. Simulate; drop agents in conflict with the ego or with each other, then re-simulate.
  let sim: SimResult = simulateTraffic(actors, SIM_STEPS, DT, opts.lateralAccel);
  let removed = 0;
  for (let iter = 0; iter < 20; iter++) {
    const bad = conflicts(actors, sim);
    if (bad.size === 0) break;
    const keep = actors.filter((_, i) => !bad.has(i));
    removed += actors.length - keep.length;
    actors.length = 0;
    actors.push(...keep);
    sim = simulateTraffic(actors, SIM_STEPS, DT, opts.lateralAccel);
  }
  // 4. Exact check with the scorer itself: the human trajectory is simulated with the LQR +
  // bicycle model and scored (v1.1: TTC over the longest horizon); agents behind an at-fault
  // collision or a TTC violation are removed. PDM-Closed is not needed for these metrics, so a
  // standing-still trajectory is pinned as the EP normaliser.
  let out = assemble(seed, opts, map, egoPath, actors, sim, limit, speedLimit, leadId, removed);
  for (let iter = 0; iter < 8; iter++) {
    const culprits = scorerConflicts(out);
    if (culprits.size === 0) break;
    const keep = actors.filter((a, i) => i === 0 || !culprits.has(a.id));
    if (keep.length === actors.length) break;
    removed += actors.length - keep.length;
    actors.length = 0;
    actors.push(...keep);
    sim = simulateTraffic(actors, SIM_STEPS, DT, opts.lateralAccel);
    out = assemble(seed, opts, map, egoPath, actors, sim, limit, speedLimit, leadId, removed);
  }
  if (leadId !== null && !actors.some((a) => a.id === leadId)) {
    out.info.leadId = null;
  }
  return out;
}

/** Ids of agents that the scorer finds in an at-fault collision or TTC violation with the human trajectory. */
function scorerConflicts(g: GeneratedScene): Set<string> {
  const scene = parseScene(g.scene, { source: g.name });
  const e = scene.ego;
  const still = new Float64Array(NUM_STATES * STATE_SIZE);
  for (let k = 0; k < NUM_STATES; k++) {
    still[k * STATE_SIZE] = e.x;
    still[k * STATE_SIZE + 1] = e.y;
    still[k * STATE_SIZE + 2] = e.heading;
  }
  const r = scoreProposalsDetailed(scene, [{ poses: scene.humanTrajectory!.poses, frame: 'ego' }], { version: 'v1.1', pdmClosedStates: still, returnStates: true });
  const p = r.proposals[0]!;
  const out = new Set<string>();
  if (p.noAtFaultCollisions === 1 && p.timeToCollisionWithinBound === 1) return out;
  const states = p.states!;
  const coords = egoCoords(states, NUM_STATES);
  const ring = new Float64Array(8), box = new Float64Array(8);
  const hitsAt = (t: number, offsets: readonly number[]) => {
    const o = t * STATE_SIZE;
    const speed = Math.hypot(states[o + StateIndex.VELOCITY_X]!, states[o + StateIndex.VELOCITY_Y]!);
    const h = states[o + StateIndex.HEADING]!;
    for (const f of offsets) {
      for (let q = 0; q < 4; q++) {
        ring[2 * q] = coords[t * 10 + 2 * q]! + speed * Math.cos(h) * f * DT;
        ring[2 * q + 1] = coords[t * 10 + 2 * q + 1]! + speed * Math.sin(h) * f * DT;
      }
      for (const a of scene.agents) {
        const st = a.states[t + f - a.startFrame];
        if (!st) continue;
        boxCorners(st.x, st.y, st.heading, a.length / 2, a.width / 2, box);
        if (boxesHit(ring, box)) out.add(a.id);
      }
    }
  };
  if (p.collisionTimeIdx !== null) hitsAt(p.collisionTimeIdx, [0]);
  if (p.ttcTimeIdx !== null) hitsAt(p.ttcTimeIdx, [0, 3, 6, 9]);
  return out;
}

/** Indices of agents that hit the ego (box, or the scorer's TTC projection) or overlap an earlier agent. */
function conflicts(actors: readonly SimActor[], sim: SimResult): Set<number> {
  const bad = new Set<number>();
  const ego = actors[0]!;
  const te = sim.tracks[0]!;
  const eBox = new Float64Array(8), aBox = new Float64Array(8), bBox = new Float64Array(8);
  const first = T0_STEP;
  for (let i = 1; i < actors.length; i++) {
    const a = actors[i]!;
    const ta = sim.tracks[i]!;
    for (let k = first; k < sim.steps && !bad.has(i); k++) {
      actorBox(ego, te, k, eBox, 0.6, 0.35);
      actorBox(a, ta, k, aBox);
      if (boxesHit(eBox, aBox)) bad.add(i);
    }
    // TTC projection: the ego box moved ahead at its speed for 0.3 / 0.6 / 0.9 s vs the agent then.
    for (let k = first; k + 9 < sim.steps && !bad.has(i); k++) {
      const v = te[k * TRACK_STRIDE + 3]!;
      for (const f of [3, 6, 9]) {
        actorBox(ego, te, k, eBox, 0.3, 0.6, v * f * DT);
        actorBox(a, ta, k + f, aBox);
        if (!boxesHit(eBox, aBox)) continue;
        // Agents clearly behind the ego (> 150 deg off its heading) are not the ego's fault.
        const h = te[k * TRACK_STRIDE + 2]!;
        const dx = ta[(k + f) * TRACK_STRIDE]! - te[k * TRACK_STRIDE]!;
        const dy = ta[(k + f) * TRACK_STRIDE + 1]! - te[k * TRACK_STRIDE + 1]!;
        const ang = Math.abs(wrapAngle(Math.atan2(dy, dx) - h));
        if (ang <= (150 * Math.PI) / 180) {
          bad.add(i);
          break;
        }
      }
    }
  }
  for (let i = 1; i < actors.length; i++) {
    if (bad.has(i)) continue;
    for (let j = 1; j < i && !bad.has(i); j++) {
      if (bad.has(j)) continue;
      for (let k = 0; k < sim.steps; k++) {
        actorBox(actors[j]!, sim.tracks[j]!, k, aBox);
        actorBox(actors[i]!, sim.tracks[i]!, k, bBox);
        if (boxesHit(aBox, bBox)) {
          bad.add(i);
          break;
        }
      }
    }
  }
  return bad;
}

const r6 = (v: number) => Math.round(v * 1e6) / 1e6;

function assemble(
  seed: number,
  opts: SceneGenOptions,
  map: PGMap,
  egoPath: LanePath,
  actors: readonly SimActor[],
  sim: SimResult,
  limit: number,
  speedLimit: (road: Road) => number,
  leadId: string | null,
  removed: number,
): GeneratedScene {
  const name = `scenegen-${seed}`;
  const t0 = opts.timestampUs;
  const te = sim.tracks[0]!;
  // Ego rear-axle state at a step (the path point of the reference s).
  const egoAt = (k: number) => {
    const o = k * TRACK_STRIDE;
    const s = te[o + 5]!;
    const q = egoPath.position(s, 0, new Float64Array(2));
    const v = te[o + 3]!;
    return { x: q[0]!, y: q[1]!, heading: egoPath.heading(s), vx: v, vy: 0, ax: te[o + 4]!, ay: v * v * egoPath.curvature(s), s };
  };
  // One frame at step T: its history, human future, status and agents (the current frame is
  // T0_STEP; the previous frame, T0_STEP - 5, is what v2.2 EC compares a plan with).
  const frameAt = (T: number) => {
    const now = egoAt(T);
    const historyJson: Record<string, number>[] = [];
    for (let j = 0; j < 4; j++) {
      const k = T - HISTORY_STEPS + j * 5;
      const e = egoAt(k);
      historyJson.push({
        timestamp_us: t0 - (T0_STEP - k) * 100_000, x: r6(e.x), y: r6(e.y), heading: r6(e.heading), vx: r6(e.vx), vy: 0, ax: r6(e.ax), ay: r6(e.ay),
      });
    }
    // The ego state is the last history entry (rounding included); all ego-frame values are relative to it.
    const egoJson = historyJson[3]!;
    const [x0, y0, h0] = [egoJson.x!, egoJson.y!, egoJson.heading!];
    const history = new Float32Array(12);
    historyJson.forEach((e, j) => toFrame(x0, y0, h0, e.x!, e.y!, e.heading!, history, 3 * j));
    const target = new Float32Array(24);
    const poses: number[][] = [];
    const pose = new Float64Array(3);
    for (let j = 0; j < 8; j++) {
      const e = egoAt(T + 5 * (j + 1));
      toFrame(x0, y0, h0, e.x, e.y, e.heading, pose, 0);
      // Poses (rounded to 1e-6) for the scene; the planner target is their float32 rounding.
      poses.push(Array.from(pose, r6));
      for (let q = 0; q < 3; q++) target[3 * j + q] = poses[j]![q]!;
    }
    const command = drivingCommand(egoPath, now.s);
    const status = new Float32Array(8);
    status[DRIVING_COMMANDS.indexOf(command)] = 1;
    status[4] = egoJson.vx!;
    status[5] = egoJson.vy!;
    status[6] = egoJson.ax!;
    status[7] = egoJson.ay!;

    const agents: Record<string, unknown>[] = [];
    for (let i = 1; i < actors.length; i++) {
      const a = actors[i]!;
      const t = sim.tracks[i]!;
      const states: (Record<string, number> | null)[] = [];
      let present = 0;
      for (let k = T; k < T + 51; k++) {
        if (sim.offPath[i]![k] && a.kind !== 'pedestrian') {
          states.push(null);
          continue;
        }
        const o = k * TRACK_STRIDE;
        const h = t[o + 2]!;
        const v = a.kind === 'parked' ? 0 : t[o + 3]!;
        states.push({ x: r6(t[o]!), y: r6(t[o + 1]!), heading: r6(h), vx: r6(v * Math.cos(h)), vy: r6(v * Math.sin(h)) });
        present++;
      }
      if (present === 0) continue;
      agents.push({ id: a.id, type: a.type, length: r6(a.length), width: r6(a.width), height: r6(a.height), states });
    }
    return { now, historyJson, egoJson, history, target, poses, command, status, agents };
  };
  const cur = frameAt(T0_STEP);
  const prev = frameAt(T0_STEP - PREVIOUS_FRAME_STEPS);
  const { now, historyJson, egoJson, history, target, poses, command, status, agents } = cur;

  const routeRoads = new Set(map.routeRoads.map((r) => roadKey(r.from, r.to)));
  const mapJson: SceneMapJson = sceneMapJson(map, { center: [now.x, now.y], radius: opts.mapRadius, routeRoads, speedLimit, step: opts.mapStep });
  const c0 = Math.max(0, now.s - 20);
  const c1 = Math.min(egoPath.length, now.s + 150);
  const cl = egoPath.sample(c0, c1, 1);
  const centerline: number[][] = [];
  for (let i = 0; i < cl.length; i += 3) centerline.push([r6(cl[i]!), r6(cl[i + 1]!), r6(cl[i + 2]!)]);

  const humanTrajectory = { frame: 'ego', poses };
  const scene: Record<string, unknown> = {
    schema: 'pdm_ref_scene/v2',
    name,
    timestamp_us: t0,
    log_name: name,
    scene_type: 'original',
    ego: { x: egoJson.x, y: egoJson.y, heading: egoJson.heading, vx: egoJson.vx, vy: 0, ax: egoJson.ax, ay: egoJson.ay, steering_angle: 0 },
    trajectory: humanTrajectory,
    agents,
    map: mapJson,
    pdm_closed: { centerline },
    observation_mode: 'direct_10hz',
    history: historyJson,
    human_trajectory: humanTrajectory,
  };
  // The frame 0.5 s earlier (map and PDM-Closed centre line inherited from this frame): its own
  // ego, agents, history and human plan, so that v2.2 EC is defined (spec 5.10: Δt = 0.5 s <= 0.55).
  const prevHuman = { frame: 'ego', poses: prev.poses };
  const e = prev.egoJson;
  // (through JSON: a stored scene keeps its previous frame as a JSON string, where -0 reads back as 0)
  const previousScene = JSON.parse(JSON.stringify({
    name: `${name}-prev`,
    timestamp_us: t0 - PREVIOUS_FRAME_STEPS * 100_000,
    log_name: name,
    scene_type: 'original',
    ego: { x: e.x, y: e.y, heading: e.heading, vx: e.vx, vy: 0, ax: e.ax, ay: e.ay, steering_angle: 0 },
    trajectory: prevHuman,
    agents: prev.agents,
    observation_mode: 'direct_10hz',
    history: prev.historyJson,
    human_trajectory: prevHuman,
  })) as Record<string, unknown>;
  scene.previous_frame = { scene: previousScene };
  return {
    seed,
    name,
    scene,
    history,
    status,
    target,
    map,
    previous: { name: `${name}-prev`, scene: previousScene, history: prev.history, status: prev.status, target: prev.target, command: prev.command },
    info: {
      blocks: map.blocks.map((b) => b.name),
      speedLimit: limit,
      command,
      egoLaneIds: egoPath.lanes.map((l) => laneKey(l.id)),
      leadId,
      egoSpeed: egoJson.vx!,
      numAgents: agents.length,
      removedAgents: removed,
    },
  };
}
