/**
 * PDM-Closed's forecast observation (`PDMObservation.update` + `PDMObjectManager`): the tracked
 * objects at t = 0 within the map radius, nearest first per class (50 vehicles, 25 pedestrians,
 * 10 bicycles, 50 static objects), moved at constant velocity along their heading (flipped when
 * an agent drives backwards) at 0.2 s resolution, plus the polygons of red lights on on-route lane
 * connectors. Time index t (10 Hz) reads the forecast at sample floor(t / 2).
 */
import { ArrayPack } from '../core/array-pack.js';
import { normalizeAngle } from '../geometry/angle.js';
import { PreparedPolygon, ringCentroid as geosCentroid } from '../geometry/polygon.js';
import { type BBox, type Ring, boxRing, egoCenter, egoFootprintRing, ringBBox, ringCentroid, ringsIntersect, ringWithin } from './pdm-closed-geometry.js';
import type { ObservedObject, PDMObservation } from './observation.js';
import type { AgentType } from './types.js';

/** nuPlan `TrackedObjectType` names used by the planner and the scorer. */
export type TrackedObjectType =
  | 'VEHICLE'
  | 'PEDESTRIAN'
  | 'BICYCLE'
  | 'TRAFFIC_CONE'
  | 'BARRIER'
  | 'CZONE_SIGN'
  | 'GENERIC_OBJECT'
  | 'EGO';

/** nuPlan `AGENT_TYPES`. */
export function isAgentType(t: TrackedObjectType): boolean {
  return t === 'VEHICLE' || t === 'PEDESTRIAN' || t === 'BICYCLE' || t === 'EGO';
}

/** A tracked object at t = 0 (box centre, global frame, global velocity). */
export interface PDMTrackedObject {
  token: string;
  type: TrackedObjectType;
  x: number;
  y: number;
  heading: number;
  length: number;
  width: number;
  vx: number;
  vy: number;
}

/** A red light on a lane connector (its polygon becomes an obstacle). */
export interface PDMRedLight {
  laneConnectorId: string;
  polygon: Ring;
}

export const RED_LIGHT_TOKEN = 'red_light';

const MAX_DYNAMIC: ReadonlyArray<[TrackedObjectType, number]> = [
  ['VEHICLE', 50],
  ['PEDESTRIAN', 25],
  ['BICYCLE', 10],
];
const MAX_STATIC = 50;

export interface ForecastObservationOptions {
  /** Forecast samples at 10 Hz (the planner: max(40 + 10, 50) = 50). */
  observationSamples?: number;
  /** Keep every n-th 10 Hz sample (2). */
  sampleResolution?: number;
  /** Objects farther than this from the ego centre are ignored (100 m). */
  mapRadius?: number;
  /** Sample interval in seconds (0.1). */
  sampleInterval?: number;
}

/** One forecast frame: tokens, rings and their bounding boxes (same order). */
export interface OccupancyFrame {
  tokens: string[];
  rings: Ring[];
  boxes: BBox[];
  /** token -> index */
  index: Map<string, number>;
}

export class ForecastObservation {
  readonly frames: OccupancyFrame[] = [];
  /** Tracks (and red lights the ego lies within) overlapping the ego at t = 0. */
  readonly collidedTrackIds: string[] = [];
  /** Objects by token, as observed at t = 0. */
  readonly uniqueObjects = new Map<string, PDMTrackedObject>();
  readonly sampleResolution: number;
  /** Valid 10 Hz indices are 0 .. length - 1. */
  readonly length: number;

  constructor(
    ego: { x: number; y: number; heading: number },
    objects: ReadonlyArray<PDMTrackedObject>,
    redLights: ReadonlyArray<PDMRedLight>,
    options: ForecastObservationOptions = {},
  ) {
    const samples = options.observationSamples ?? 50;
    const res = options.sampleResolution ?? 2;
    const radius = options.mapRadius ?? 100;
    const interval = options.sampleInterval ?? 0.1;
    this.sampleResolution = res;
    this.length = samples + res;

    const [ecx, ecy] = egoCenter(ego.x, ego.y, ego.heading);
    const statics: { token: string; coords: Ring; dist: number }[] = [];
    const dynamics = new Map<TrackedObjectType, { token: string; coords: Ring; dx: number; dy: number; dist: number }[]>();
    for (const [t] of MAX_DYNAMIC) dynamics.set(t, []);

    const ringBuf = new Float64Array(10 * Math.max(1, objects.length));
    let nRings = 0;
    for (const obj of objects) {
      if (obj.type === 'EGO') continue;
      if (radius && Math.hypot(ecx - obj.x, ecy - obj.y) > radius) continue;
      this.uniqueObjects.set(obj.token, obj);
      const coords = boxRing(obj.x, obj.y, obj.heading, obj.length, obj.width, ringBuf.subarray(10 * nRings, 10 * nRings + 10));
      nRings++;
      // distance from the ego centre to the box centre: ((c - p)**2).sum()**0.5
      const dist = Math.sqrt((obj.x - ecx) ** 2 + (obj.y - ecy) ** 2);
      if (isAgentType(obj.type)) {
        const speed = Math.hypot(obj.vx, obj.vy);
        const velocityAngle = Math.atan2(obj.vy, obj.vx);
        const forward = Math.abs(normalizeAngle(obj.heading - velocityAngle)) < Math.PI / 2;
        const trackHeading = forward ? obj.heading : normalizeAngle(obj.heading + Math.PI);
        dynamics.get(obj.type)!.push({ token: obj.token, coords, dx: Math.cos(trackHeading) * speed, dy: Math.sin(trackHeading) * speed, dist });
      } else {
        statics.push({ token: obj.token, coords, dist });
      }
    }

    // nearest first (stable sort: numpy's argsort is an insertion sort for short arrays)
    const byDist = (a: { dist: number }, b: { dist: number }) => a.dist - b.dist;
    const staticSel = statics.slice().sort(byDist).slice(0, MAX_STATIC);
    const dynSel: { token: string; coords: Ring; dx: number; dy: number }[] = [];
    for (const [t, max] of MAX_DYNAMIC) dynSel.push(...dynamics.get(t)!.slice().sort(byDist).slice(0, max));

    const tokens = [
      ...staticSel.map((s) => s.token),
      ...dynSel.map((d) => d.token),
      ...redLights.map((r) => `${RED_LIGHT_TOKEN}_${r.laneConnectorId}`),
    ];
    const index = new Map<string, number>();
    tokens.forEach((t, i) => index.set(t, i));
    const staticRings = staticSel.map((s) => s.coords);
    const staticBoxes = staticRings.map((r) => ringBBox(r));
    const lightRings = redLights.map((r) => r.polygon);
    const lightBoxes = lightRings.map((r) => ringBBox(r));

    const numFrames = Math.ceil((samples + res) / res);
    const allDyn = new Float64Array(10 * Math.max(1, dynSel.length * numFrames));
    let frameIdx = 0;
    for (let sample = 0; sample < samples + res; sample += res) {
      const dt = sample * interval;
      const fo = 10 * dynSel.length * frameIdx++;
      const dynRings = dynSel.map((d, j) => {
        const r = allDyn.subarray(fo + 10 * j, fo + 10 * j + 10);
        for (let k = 0; k < 5; k++) {
          r[2 * k] = d.coords[2 * k]! + dt * d.dx;
          r[2 * k + 1] = d.coords[2 * k + 1]! + dt * d.dy;
        }
        return r;
      });
      const rings = [...staticRings, ...dynRings, ...lightRings];
      const boxes = [...staticBoxes, ...dynRings.map((r) => ringBBox(r)), ...lightBoxes];
      this.frames.push({ tokens, rings, boxes, index });
    }

    // objects the ego already overlaps at t = 0 are ignored later (red lights: only if within)
    const egoRing = egoFootprintRing(ego.x, ego.y, ego.heading);
    const egoBox = ringBBox(egoRing);
    const f0 = this.frames[0]!;
    for (let i = 0; i < f0.tokens.length; i++) {
      if (!ringsIntersect(egoRing, f0.rings[i]!, egoBox, f0.boxes[i])) continue;
      const token = f0.tokens[i]!;
      if (token.includes(RED_LIGHT_TOKEN) && !ringWithin(egoRing, f0.rings[i]!)) continue;
      this.collidedTrackIds.push(token);
    }
  }

  /** Frame for 10 Hz time index t (`PDMObservation.__getitem__`). */
  at(timeIdx: number): OccupancyFrame {
    if (!(timeIdx >= 0 && timeIdx < this.length)) {
      throw new RangeError(`ForecastObservation: index ${timeIdx} out of range [0, ${this.length}).`);
    }
    return this.frames[Math.floor(timeIdx / this.sampleResolution)]!;
  }

  /** Centroid of a token's polygon at time index t. */
  centroid(timeIdx: number, token: string): [number, number] {
    const f = this.at(timeIdx);
    return ringCentroid(f.rings[f.index.get(token)!]!);
  }
}

const SCENE_TYPE: Record<TrackedObjectType, AgentType> = {
  VEHICLE: 'vehicle',
  PEDESTRIAN: 'pedestrian',
  BICYCLE: 'bicycle',
  TRAFFIC_CONE: 'traffic_cone',
  BARRIER: 'barrier',
  CZONE_SIGN: 'czone_sign',
  GENERIC_OBJECT: 'generic_object',
  EGO: 'ego',
};

/**
 * The forecast in the scorer's observation layout: every 10 Hz step t < `numSteps` holds the
 * forecast sample floor(t / 2). Objects the ego overlaps at t = 0 (`collided_track_ids`) are left
 * out: NC and TTC would skip them from the start, and nothing else reads objects. Red lights are
 * kept at every step (TLC reads them regardless of that list). `unique_objects` carry the type,
 * speed (|v|, 0 for static objects) and heading at t = 0.
 */
export function forecastToScorerObservation(obs: ForecastObservation, numSteps = obs.length): PDMObservation {
  const collided = new Set(obs.collidedTrackIds);
  const f0 = obs.frames[0]!;
  const objects: ObservedObject[] = [];
  const objOfToken = new Map<string, number>();
  const redTokens: { idx: number; token: string }[] = [];
  f0.tokens.forEach((token, i) => {
    const o = obs.uniqueObjects.get(token);
    if (!o) {
      if (token.startsWith(`${RED_LIGHT_TOKEN}_`)) redTokens.push({ idx: i, token });
      return;
    }
    // NC and TTC skip collided tokens and any token containing "red_light" (NAVSIM's substring test)
    if (collided.has(token) || token.includes(RED_LIGHT_TOKEN)) return;
    const agent = isAgentType(o.type);
    objOfToken.set(token, objects.length);
    objects.push({ token, type: SCENE_TYPE[o.type], isAgent: agent, speed: agent ? Math.hypot(o.vx, o.vy) : 0, heading: o.heading });
  });
  const perStep = objOfToken.size;
  const count = perStep * numSteps;
  const numRed = redTokens.length;
  // one backing store for the observation's arrays (see ArrayPack)
  const pack = new ArrayPack(
    ArrayPack.f64Bytes(count * 14) + ArrayPack.i32Bytes(numSteps + 1) * 2 + ArrayPack.i32Bytes(count) + ArrayPack.i32Bytes(numRed * numSteps),
  );
  const corners = pack.f64(count * 8);
  const bounds = pack.f64(count * 4);
  const centroids = pack.f64(count * 2);
  const stepStart = pack.i32(numSteps + 1);
  const objIndex = pack.i32(count);
  const redStepStart = pack.i32(numSteps + 1);
  const redIndex = pack.i32(numRed * numSteps);
  const c2 = new Float64Array(2);
  // every frame shares the token order (one `index`): the frame index of each object once
  const slots: number[] = [];
  const objs: number[] = [];
  for (const [token, obj] of objOfToken) {
    slots.push(f0.index.get(token)!);
    objs.push(obj);
  }
  let e = 0;
  for (let t = 0; t < numSteps; t++) {
    const frame = obs.at(t);
    for (let j = 0; j < slots.length; j++) {
      const slot = frame.index === f0.index ? slots[j]! : frame.index.get(f0.tokens[slots[j]!]!)!;
      const ring = frame.rings[slot]!;
      objIndex[e] = objs[j]!;
      for (let k = 0; k < 8; k++) corners[8 * e + k] = ring[k]!;
      const b = frame.boxes[slot]!;
      bounds[4 * e] = b.minX;
      bounds[4 * e + 1] = b.minY;
      bounds[4 * e + 2] = b.maxX;
      bounds[4 * e + 3] = b.maxY;
      geosCentroid(corners.subarray(8 * e, 8 * e + 8), c2);
      centroids[2 * e] = c2[0]!;
      centroids[2 * e + 1] = c2[1]!;
      e++;
    }
    stepStart[t + 1] = e;
  }
  const redLights = redTokens.map(({ idx, token }) => ({
    id: token.slice(RED_LIGHT_TOKEN.length + 1),
    token,
    polygon: new PreparedPolygon(f0.rings[idx]!),
  }));
  for (let t = 0; t < numSteps; t++) {
    for (let k = 0; k < redLights.length; k++) redIndex[t * redLights.length + k] = k;
    redStepStart[t + 1] = (t + 1) * redLights.length;
  }
  return { numSteps, objects, stepStart, objIndex, corners, bounds, centroids, redLights, redStepStart, redIndex };
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMRedLight`. */
export type PdmRedLight = PDMRedLight;
/** @deprecated Renamed `PDMTrackedObject`. */
export type PdmTrackedObject = PDMTrackedObject;
