/**
 * The scorer's observation (`PDMObservation` after `update_detections_tracks`): per 10 Hz step the
 * occupancy of every tracked object (box corners, bounds, GEOS centroid), the red-light polygons
 * (v2), and `unique_objects` = each track at its first appearance (type, speed, heading).
 *
 * Frames: v1.1 caches 51 frames (0..5 s), v2.2 41 frames (0..4 s). With `observation_mode:
 * navsim_2hz` the 2 Hz frames (0, 5, 10, ...) are interpolated like NAVSIM's metric caching
 * (`_interpolate_gt_observation` + `StateInterpolator`): times in float seconds (k·0.5 and i·0.1),
 * unwrapped heading, linear interpolation inside [first, last] sighting, heading wrapped with
 * atan2; a track seen once is inserted unchanged into every frame; velocities are 0 for static
 * types. v2.2 log replay drops every track whose frame-0 box intersects the initial ego box.
 *
 * Layout is CSR over steps: entries `stepStart[t] .. stepStart[t+1]-1`, each with an object index
 * (into `objects`), 8 corner values and 4 bounds.
 */
import { ArrayPack } from '../core/array-pack.js';
import { boxBounds, boxCorners, boxesIntersect, boundsOverlap } from '../geometry/box.js';
import { PreparedPolygon, ringCentroid } from '../geometry/polygon.js';
import { npUnwrap } from './interpolate.js';
import { AGENT_TYPES_DYNAMIC, PACIFICA, type AgentState, type AgentType, type EgoState, type PDMScene } from './types.js';

/** A track at its first appearance (nuPlan `unique_objects[token]`). */
export interface ObservedObject {
  token: string;
  type: AgentType;
  /** VEHICLE / PEDESTRIAN / BICYCLE / EGO (nuPlan `AGENT_TYPES`). */
  isAgent: boolean;
  /** Speed at first appearance (0 for static objects). */
  speed: number;
  heading: number;
}

export interface PDMObservation {
  numSteps: number;
  objects: ObservedObject[];
  stepStart: Int32Array;
  objIndex: Int32Array;
  corners: Float64Array;
  bounds: Float64Array;
  centroids: Float64Array;
  /** Red-light polygons (lane connectors), tokens `red_light_<id>`. */
  redLights: { id: string; token: string; polygon: PreparedPolygon }[];
  /** CSR of red-light indices per step. */
  redStepStart: Int32Array;
  redIndex: Int32Array;
}

export interface ObservationOptions {
  /** Number of 10 Hz frames (v1.1: 51, v2.2: 41). */
  numSteps: number;
  /** v2.2 log replay: drop tracks overlapping the initial ego box at t = 0. */
  dropInitialOverlaps: boolean;
  /** Build red-light polygons (v2.2). */
  redLights: boolean;
}

interface FrameState extends AgentState {
  present: boolean;
}

function directFrames(track: PDMScene['agents'][number], numSteps: number, isStatic: boolean): (AgentState | null)[] {
  const out: (AgentState | null)[] = new Array(numSteps).fill(null);
  for (let i = 0; i < track.states.length; i++) {
    const f = track.startFrame + i;
    if (f >= numSteps) break;
    const s = track.states[i];
    if (s) out[f] = isStatic ? { ...s, vx: 0, vy: 0 } : s;
  }
  return out;
}

/** NAVSIM metric caching: 2 Hz sightings -> 10 Hz frames. */
function navsim2HzFrames(track: PDMScene['agents'][number], numSteps: number, isStatic: boolean): (AgentState | null)[] {
  const out: (AgentState | null)[] = new Array(numSteps).fill(null);
  const times: number[] = [];
  const samples: AgentState[] = [];
  const num2Hz = Math.floor((numSteps - 1) / 5) + 1;
  for (let k = 0; k < num2Hz; k++) {
    const i = k * 5 - track.startFrame;
    const s = i >= 0 && i < track.states.length ? track.states[i] : null;
    if (!s) continue;
    times.push(k * 0.5);
    samples.push(isStatic ? { ...s, vx: 0, vy: 0 } : s);
  }
  const n = samples.length;
  if (n === 0) return out;
  if (n === 1) {
    // start_time == end_time: the initial detection is inserted unchanged into every frame
    out.fill(samples[0]!);
    return out;
  }
  const hdg = Float64Array.from(samples, (s) => s.heading);
  npUnwrap(hdg, hdg, n);
  const t0 = times[0]!;
  const t1 = times[n - 1]!;
  for (let i = 0; i < numSteps; i++) {
    const t = i * 0.1;
    if (!(t0 <= t && t <= t1)) continue;
    let hi = 0;
    while (hi < n && times[hi]! < t) hi++;
    if (hi < 1) hi = 1;
    if (hi > n - 1) hi = n - 1;
    const lo = hi - 1;
    const dt = t - times[lo]!;
    const span = times[hi]! - times[lo]!;
    const a = samples[lo]!;
    const b = samples[hi]!;
    const lerp = (ya: number, yb: number): number => ((yb - ya) / span) * dt + ya;
    const h = lerp(hdg[lo]!, hdg[hi]!);
    out[i] = {
      x: lerp(a.x, b.x),
      y: lerp(a.y, b.y),
      heading: Math.atan2(Math.sin(h), Math.cos(h)),
      vx: lerp(a.vx, b.vx),
      vy: lerp(a.vy, b.vy),
    };
  }
  return out;
}

/** The ego footprint box at t0 (nuPlan `car_footprint.oriented_box`). */
export function egoBoxCorners(ego: Pick<EgoState, 'x' | 'y' | 'heading'>, out: Float64Array = new Float64Array(8)): Float64Array {
  const cx = ego.x + PACIFICA.rearAxleToCenter * Math.cos(ego.heading);
  const cy = ego.y + PACIFICA.rearAxleToCenter * Math.sin(ego.heading);
  return boxCorners(cx, cy, ego.heading, PACIFICA.halfLength, PACIFICA.halfWidth, out);
}

/** Red lane-connector ids per 10 Hz step (2 Hz status held for 5 steps), on-route connectors only. */
export function redLightIdsPerStep(scene: PDMScene, numSteps: number): string[][] {
  const onRouteConnectors = new Set(scene.map.lanes.filter((l) => l.type === 'LANE_CONNECTOR' && l.onRoute).map((l) => l.id));
  const out: string[][] = [];
  for (let t = 0; t < numSteps; t++) {
    const frame = Math.floor(t / 5);
    const ids = scene.trafficLightFrames2hz
      ? (scene.trafficLightFrames2hz[Math.min(frame, scene.trafficLightFrames2hz.length - 1)] ?? [])
      : scene.redLightLaneIds;
    out.push(ids.filter((id) => onRouteConnectors.has(id)));
  }
  return out;
}

let stepScratch = new Int32Array(0);

/** Builds the scorer observation of a scene. */
export function buildObservation(scene: PDMScene, opts: ObservationOptions): PDMObservation {
  const { numSteps } = opts;
  const perTrack: { track: PDMScene['agents'][number]; frames: (AgentState | null)[] }[] = [];
  const egoBox = egoBoxCorners(scene.ego);
  const egoBounds = boxBounds(egoBox, 0, new Float64Array(4));
  const tmpBox = new Float64Array(8);
  const tmpBounds = new Float64Array(4);
  for (const track of scene.agents) {
    const isStatic = !AGENT_TYPES_DYNAMIC.has(track.type);
    const frames = scene.observationMode === 'navsim_2hz' ? navsim2HzFrames(track, numSteps, isStatic) : directFrames(track, numSteps, isStatic);
    if (opts.dropInitialOverlaps && frames[0]) {
      const s = frames[0];
      boxCorners(s.x, s.y, s.heading, track.length / 2, track.width / 2, tmpBox);
      boxBounds(tmpBox, 0, tmpBounds);
      if (boundsOverlap(tmpBounds, 0, egoBounds, 0) && boxesIntersect(tmpBox, 0, egoBox, 0)) continue;
    }
    perTrack.push({ track, frames });
  }
  // unique objects in first-appearance order over steps (then track order within a step)
  const objects: ObservedObject[] = [];
  const objOf = new Int32Array(perTrack.length).fill(-1);
  // counted first (scratch), then the observation's arrays share one backing store (ArrayPack)
  if (stepScratch.length < numSteps + 1) stepScratch = new Int32Array(numSteps + 1);
  const steps = stepScratch;
  steps[0] = 0;
  let count = 0;
  for (let t = 0; t < numSteps; t++) {
    for (let a = 0; a < perTrack.length; a++) {
      const s = perTrack[a]!.frames[t];
      if (!s) continue;
      count++;
      if (objOf[a] === -1) {
        const tr = perTrack[a]!.track;
        const isAgent = AGENT_TYPES_DYNAMIC.has(tr.type);
        objOf[a] = objects.length;
        objects.push({ token: tr.id, type: tr.type, isAgent, speed: isAgent ? Math.hypot(s.vx, s.vy) : 0, heading: s.heading });
      }
    }
    steps[t + 1] = count;
  }
  const pack = new ArrayPack(ArrayPack.f64Bytes(count * 14) + ArrayPack.i32Bytes(numSteps + 1) * 2 + ArrayPack.i32Bytes(count));
  const corners = pack.f64(count * 8);
  const bounds = pack.f64(count * 4);
  const centroids = pack.f64(count * 2);
  const stepStart = pack.i32(numSteps + 1);
  stepStart.set(steps.subarray(0, numSteps + 1));
  const objIndex = pack.i32(count);
  const redStepStart = pack.i32(numSteps + 1);
  const c2 = new Float64Array(2);
  let e = 0;
  for (let t = 0; t < numSteps; t++) {
    for (let a = 0; a < perTrack.length; a++) {
      const s = perTrack[a]!.frames[t] as FrameState | null;
      if (!s) continue;
      const tr = perTrack[a]!.track;
      objIndex[e] = objOf[a]!;
      boxCorners(s.x, s.y, s.heading, tr.length / 2, tr.width / 2, corners, e * 8);
      boxBounds(corners, e * 8, bounds, e * 4);
      ringCentroid(corners.subarray(e * 8, e * 8 + 8), c2);
      centroids[2 * e] = c2[0]!;
      centroids[2 * e + 1] = c2[1]!;
      e++;
    }
  }
  // red lights
  const redLights: PDMObservation['redLights'] = [];
  const redIdx: number[] = [];
  if (opts.redLights) {
    const polyOf = new Map<string, number>();
    const perStep = redLightIdsPerStep(scene, numSteps);
    for (let t = 0; t < numSteps; t++) {
      for (const id of perStep[t]!) {
        let k = polyOf.get(id);
        if (k === undefined) {
          const lane = scene.map.lanes.find((l) => l.id === id)!;
          k = redLights.length;
          polyOf.set(id, k);
          redLights.push({ id, token: `red_light_${id}`, polygon: new PreparedPolygon(lane.polygon, lane.holes) });
        }
        redIdx.push(k);
      }
      redStepStart[t + 1] = redIdx.length;
    }
  }
  return { numSteps, objects, stepStart, objIndex, corners, bounds, centroids, redLights, redStepStart, redIndex: Int32Array.from(redIdx) };
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMObservation`. */
export type PdmObservation = PDMObservation;
