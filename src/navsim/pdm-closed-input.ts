/**
 * Builds PDM-Closed's input from a parsed scene (`pdm_ref_scene/v1` or `/v2`): ego rear-axle
 * state, the PDM centerline, the lanes, the objects present at frame 0 and the red lights at t = 0
 * (`traffic_light_frames_2hz[0]` when given, else `red_light_lane_ids`).
 */
import type { PDMClosedInput, PDMClosedLane } from './pdm-closed.js';
import type { PDMTrackedObject, TrackedObjectType } from './pdm-closed-observation.js';
import { NavsimInputError, type PDMScene } from './types.js';

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
    throw new NavsimInputError(`${where}.type: expected one of ${Object.keys(TYPE_MAP).join(', ')}, found ${JSON.stringify(type)}`, undefined, 'type');
  }
  return t;
}

/** Closes a flat [x, y] * n ring (appends the first point when the last differs). */
export function closeRing(flat: Float64Array): Float64Array {
  const n = flat.length >> 1;
  if (n === 0) return new Float64Array(0);
  if (flat[0] === flat[2 * n - 2] && flat[1] === flat[2 * n - 1]) return flat;
  const r = new Float64Array(2 * n + 2);
  r.set(flat);
  r[2 * n] = flat[0]!;
  r[2 * n + 1] = flat[1]!;
  return r;
}

/** PDM-Closed input from a parsed scene. */
export function pdmClosedInputFromScene(scene: PDMScene): PDMClosedInput {
  // the closed polygon is made on first read: PDM-Closed reads only on-route lanes' polygons
  const lanes: PDMClosedLane[] = scene.map.lanes.map((l) => {
    let polygon: Float64Array | null = null;
    return {
      id: l.id,
      type: l.type,
      get polygon(): Float64Array {
        return (polygon ??= closeRing(l.polygon));
      },
      centerline: l.centerline,
      speedLimitMps: l.speedLimitMps,
      onRoute: l.onRoute,
    };
  });
  const objects: PDMTrackedObject[] = [];
  scene.agents.forEach((a, i) => {
    if (a.startFrame !== 0) return;
    const s = a.states[0];
    if (!s) return;
    objects.push({
      token: a.id,
      type: trackedObjectType(a.type, `${scene.name}: agents[${i}]`),
      x: s.x,
      y: s.y,
      heading: s.heading,
      length: a.length,
      width: a.width,
      vx: s.vx,
      vy: s.vy,
    });
  });
  const frames = scene.trafficLightFrames2hz;
  const red = frames && frames.length > 0 ? frames[0]! : scene.redLightLaneIds;
  const e = scene.ego;
  return {
    timestampUs: scene.timestampUs,
    ego: { x: e.x, y: e.y, heading: e.heading, vx: e.vx, vy: e.vy, ax: e.ax, ay: e.ay, steeringAngle: e.steeringAngle },
    centerline: scene.pdmClosedCenterline,
    lanes,
    objects,
    redLightLaneIds: [...red],
  };
}
