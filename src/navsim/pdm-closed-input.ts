/**
 * Builds PDM-Closed's input from a `pdm_ref_scene/v1` or `/v2` JSON object (the golden scene
 * interchange format): ego rear-axle state, the PDM centerline, the lanes, the objects at frame 0
 * and the red lights at t = 0 (`traffic_light_frames_2hz[0]` when given, else
 * `red_light_lane_ids`).
 */
import { ringFromPoints } from './pdm-closed-geometry.js';
import type { PdmClosedInput, PdmClosedLane } from './pdm-closed.js';
import type { PdmTrackedObject, TrackedObjectType } from './pdm-closed-observation.js';

const TYPE_MAP: Record<string, TrackedObjectType> = {
  vehicle: 'VEHICLE',
  pedestrian: 'PEDESTRIAN',
  bicycle: 'BICYCLE',
  static_object: 'GENERIC_OBJECT',
  generic_object: 'GENERIC_OBJECT',
  traffic_cone: 'TRAFFIC_CONE',
  barrier: 'BARRIER',
  czone_sign: 'CZONE_SIGN',
  ego: 'EGO',
};

/** Maps a scene agent type string to nuPlan's `TrackedObjectType` (throws on unknown types). */
export function trackedObjectType(type: string, where = 'agent'): TrackedObjectType {
  const t = TYPE_MAP[String(type).toLowerCase()];
  if (!t) {
    throw new TypeError(`${where}.type: expected one of ${Object.keys(TYPE_MAP).join(', ')}, found ${JSON.stringify(type)}.`);
  }
  return t;
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${where}: expected a finite number, found ${JSON.stringify(v)}.`);
  return v;
}

function triples(rows: unknown, where: string): Float64Array {
  if (!Array.isArray(rows)) throw new TypeError(`${where}: expected an array of [x, y, heading], found ${typeof rows}.`);
  const out = new Float64Array(rows.length * 3);
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length < 3) throw new TypeError(`${where}[${i}]: expected [x, y, heading], found ${JSON.stringify(r)}.`);
    for (let k = 0; k < 3; k++) out[3 * i + k] = num(r[k], `${where}[${i}][${k}]`);
  });
  return out;
}

/** PDM-Closed input from a scene JSON object (`input` of a golden file). */
export function pdmClosedInputFromSceneJson(scene: any): PdmClosedInput {
  const name = typeof scene?.name === 'string' ? scene.name : 'scene';
  const ego = scene?.ego;
  if (!ego || typeof ego !== 'object') throw new TypeError(`${name}: ego: expected an object, found ${JSON.stringify(ego)}.`);
  const lanes: PdmClosedLane[] = (scene.map?.lanes ?? []).map((l: any, i: number) => {
    const where = `${name}: map.lanes[${i}]`;
    if (!Array.isArray(l?.polygon) || l.polygon.length < 3) throw new TypeError(`${where}.polygon: expected >= 3 points, found ${JSON.stringify(l?.polygon)?.slice(0, 60)}.`);
    return {
      id: String(l.id),
      type: l.type === 'LANE_CONNECTOR' ? 'LANE_CONNECTOR' : 'LANE',
      polygon: ringFromPoints(l.polygon),
      centerline: triples(l.centerline ?? [], `${where}.centerline`),
      speedLimitMps: l.speed_limit_mps === null || l.speed_limit_mps === undefined ? null : num(l.speed_limit_mps, `${where}.speed_limit_mps`),
      onRoute: Boolean(l.on_route),
    } satisfies PdmClosedLane;
  });
  const objects: PdmTrackedObject[] = [];
  (scene.agents ?? []).forEach((a: any, i: number) => {
    const where = `${name}: agents[${i}]`;
    const start = a.start_frame ?? 0;
    if (start !== 0 || !Array.isArray(a.states) || a.states.length === 0) return;
    const s = a.states[0];
    objects.push({
      token: String(a.id),
      type: trackedObjectType(a.type, where),
      x: num(s.x, `${where}.states[0].x`),
      y: num(s.y, `${where}.states[0].y`),
      heading: num(s.heading, `${where}.states[0].heading`),
      length: num(a.length, `${where}.length`),
      width: num(a.width, `${where}.width`),
      vx: num(s.vx ?? 0, `${where}.states[0].vx`),
      vy: num(s.vy ?? 0, `${where}.states[0].vy`),
    });
  });
  const frames = scene.traffic_light_frames_2hz;
  const red: unknown[] = Array.isArray(frames) && Array.isArray(frames[0]) ? frames[0] : (scene.red_light_lane_ids ?? []);
  return {
    timestampUs: num(scene.timestamp_us ?? 0, `${name}: timestamp_us`),
    ego: {
      x: num(ego.x, `${name}: ego.x`),
      y: num(ego.y, `${name}: ego.y`),
      heading: num(ego.heading, `${name}: ego.heading`),
      vx: num(ego.vx ?? 0, `${name}: ego.vx`),
      vy: num(ego.vy ?? 0, `${name}: ego.vy`),
      ax: num(ego.ax ?? 0, `${name}: ego.ax`),
      ay: num(ego.ay ?? 0, `${name}: ego.ay`),
    },
    centerline: triples(scene.pdm_closed?.centerline, `${name}: pdm_closed.centerline`),
    lanes,
    objects,
    redLightLaneIds: red.map((r) => String(r)),
  };
}
