/**
 * NAVSIM v1.1 `MetricCache` (as unpickled by `pickle.ts`) -> drivekit's `PDMScene`.
 *
 * What is read, per field of the v1.1 `MetricCache`:
 * - `ego_state` (`EgoState`): rear-axle pose, rear-axle velocity / acceleration (ego frame), tire
 *   steering angle, time point -> `ego`, `timestampUs`;
 * - `trajectory` (PDM-Closed's `InterpolatedTrajectory`): every `EgoState` as an 11-value state
 *   row (`StateIndex` order) -> `pdmClosedTrajectory`, kept so PDM-Closed is not rerun; the states
 *   must be 0.1 s apart from the ego's time point (at least 41);
 * - `observation` (`PDMObservation`): per 0.1 s step the occupancy map of agent polygons ->
 *   `agents` (one track per token: the box centre and heading recovered from the polygon, the size,
 *   type and velocity of `unique_objects[token]`); red-light tokens (`<red_light_token>_<lane
 *   connector id>`) -> `redLightLaneIds` (step 0) and `trafficLightFrames2hz` (when they change);
 * - `centerline` (`PDMPath`) -> `pdmClosedCenterline`; `route_lane_ids` -> `onRoute` of the lanes;
 * - `drivable_area_map` (`PDMDrivableMap`): polygons with tokens and `SemanticMapLayer` types ->
 *   `map.areas` (ROADBLOCK, INTERSECTION, CARPARK_AREA, DRIVABLE_AREA; ROADBLOCK_CONNECTOR as
 *   INTERSECTION) and `map.lanes` (LANE, LANE_CONNECTOR; no lane centre lines or speed limits in a cache).
 *
 * A v2 cache (its `MetricCache` has fields v1.1 has not) or any missing / ill-typed field is a
 * `NavsimCacheError` naming the file, the token and the field.
 */
import { boxCorners } from '../../geometry/box.js';
import { STATE_SIZE, type AgentState, type AgentTrack, type AgentType, type MapArea, type MapAreaType, type MapLane, type PDMScene } from '../types.js';
import { NavsimCacheError, NdArray, PyEnum, PyObject, type UnpickleContext } from './pickle.js';
import type { WkbGeometry } from './wkb.js';

const NS = 'navsim.planning.simulation.planner.pdm_planner';
const Q = {
  metricCache: 'navsim.planning.metric_caching.metric_cache.MetricCache',
  observation: `${NS}.observation.pdm_observation.PDMObservation`,
  occupancy: `${NS}.observation.pdm_occupancy_map.PDMOccupancyMap`,
  drivable: `${NS}.observation.pdm_occupancy_map.PDMDrivableMap`,
  path: `${NS}.utils.pdm_path.PDMPath`,
  trajectory: 'nuplan.planning.simulation.trajectory.interpolated_trajectory.InterpolatedTrajectory',
  egoState: 'nuplan.common.actor_state.ego_state.EgoState',
  stateSE2: 'nuplan.common.actor_state.state_representation.StateSE2',
} as const;

/** The fields of a NAVSIM v1.1 `MetricCache`. */
export const V1_METRIC_CACHE_FIELDS = ['file_path', 'trajectory', 'ego_state', 'observation', 'centerline', 'route_lane_ids', 'drivable_area_map'] as const;

const TRACKED_TYPES: Record<string, AgentType> = {
  VEHICLE: 'vehicle', PEDESTRIAN: 'pedestrian', BICYCLE: 'bicycle', TRAFFIC_CONE: 'traffic_cone', BARRIER: 'barrier',
  CZONE_SIGN: 'czone_sign', GENERIC_OBJECT: 'generic_object', EGO: 'ego',
};
const AREA_LAYERS: Record<string, MapAreaType> = {
  ROADBLOCK: 'ROADBLOCK', INTERSECTION: 'INTERSECTION', ROADBLOCK_CONNECTOR: 'INTERSECTION', CARPARK_AREA: 'CARPARK_AREA', DRIVABLE_AREA: 'DRIVABLE_AREA',
};

/** What the import measured besides the scene. */
export interface ImportDiagnostics {
  /** Largest |corner difference| (m) between an occupancy polygon and the box rebuilt from the recovered pose. */
  maxBoxResidual: number;
  /** Occupancy-map polygons read. */
  boxes: number;
}

class Walk {
  constructor(readonly ctx: UnpickleContext) {}

  fail(field: string, expected: string, found: unknown): never {
    throw new NavsimCacheError(this.ctx, field, expected, found);
  }

  kind(v: unknown): string {
    if (v instanceof PyObject) return v.qualname;
    if (v instanceof PyEnum) return `${v.enumName}.${v.member}`;
    if (v instanceof NdArray) return `ndarray ${v.dtype} [${v.shape.join(', ')}]`;
    if (v instanceof Map) return 'dict';
    if (Array.isArray(v)) return `list(${v.length})`;
    if (v === null) return 'None';
    return typeof v;
  }

  obj(v: unknown, qualname: string, field: string): PyObject {
    if (!(v instanceof PyObject) || v.qualname !== qualname) this.fail(field, qualname, this.kind(v));
    return v;
  }

  attrs(v: unknown, qualname: string, field: string): Map<string, unknown> {
    return this.obj(v, qualname, field).attrs();
  }

  get(m: Map<string, unknown>, key: string, field: string): unknown {
    if (!m.has(key)) this.fail(`${field}.${key}`, 'a value', 'no such attribute');
    return m.get(key);
  }

  num(v: unknown, field: string): number {
    if (typeof v === 'bigint') v = Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a finite number', v === null ? 'None' : typeof v === 'number' ? v : this.kind(v));
    return v;
  }

  numAt(m: Map<string, unknown>, key: string, field: string): number {
    return this.num(this.get(m, key, field), `${field}.${key}`);
  }

  str(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'a string', this.kind(v));
    return v;
  }

  list(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'a list', this.kind(v));
    return v;
  }

  enumMember(v: unknown, enumName: string, field: string): string {
    if (!(v instanceof PyEnum) || v.enumName !== enumName) this.fail(field, `a ${enumName.split('.').pop()} member`, this.kind(v));
    return v.member;
  }

  /** `StateSE2` -> [x, y, heading]. */
  se2(v: unknown, field: string): [number, number, number] {
    const a = this.attrs(v, Q.stateSE2, field);
    return [this.numAt(a, 'x', field), this.numAt(a, 'y', field), this.numAt(a, 'heading', field)];
  }

  vec2(v: unknown, field: string): [number, number] {
    const a = this.attrs(v, 'nuplan.common.actor_state.state_representation.StateVector2D', field);
    return [this.numAt(a, '_x', field), this.numAt(a, '_y', field)];
  }

  timeUs(v: unknown, field: string): number {
    const a = this.attrs(v, 'nuplan.common.actor_state.state_representation.TimePoint', field);
    const t = this.numAt(a, 'time_us', field);
    if (!Number.isSafeInteger(t)) this.fail(`${field}.time_us`, 'an integer', t);
    return t;
  }

  geometry(v: unknown, field: string): WkbGeometry {
    if (v === null || typeof v !== 'object' || !('type' in v) || v instanceof PyObject) this.fail(field, 'a shapely geometry', this.kind(v));
    return v as WkbGeometry;
  }

  /** A shapely Polygon -> shell + holes (closing point dropped). */
  polygon(v: unknown, field: string): { shell: Float64Array; holes: Float64Array[] } {
    const g = this.geometry(v, field);
    if (g.type !== 'Polygon') this.fail(field, 'a Polygon', g.type);
    if (g.rings.length === 0) this.fail(field, 'a non-empty Polygon', 'an empty Polygon');
    const open = (r: Float64Array, i: number) => {
      const n = r.length / 2;
      const closed = n >= 2 && r[0] === r[2 * n - 2] && r[1] === r[2 * n - 1];
      const out = closed ? r.slice(0, 2 * n - 2) : r;
      if (out.length < 6) this.fail(`${field}.rings[${i}]`, 'at least 3 points', out.length / 2);
      return out;
    };
    return { shell: open(g.rings[0]!, 0), holes: g.rings.slice(1).map((r, i) => open(r, i + 1)) };
  }
}

/** 11-value state row of a nuPlan `EgoState` (rear axle, `StateIndex` order) plus its time. */
function egoStateRow(w: Walk, v: unknown, field: string, out: Float64Array, offset: number): number {
  const a = w.attrs(v, Q.egoState, field);
  const fp = w.attrs(w.get(a, '_car_footprint', field), 'nuplan.common.actor_state.car_footprint.CarFootprint', `${field}._car_footprint`);
  const dyn = w.attrs(w.get(a, '_dynamic_car_state', field), 'nuplan.common.actor_state.dynamic_car_state.DynamicCarState', `${field}._dynamic_car_state`);
  let pose: [number, number, number];
  if (fp.has('rear_axle')) pose = w.se2(fp.get('rear_axle'), `${field}._car_footprint.rear_axle`);
  else {
    // CarFootprint.rear_axle is a cached property: rebuild it as nuPlan does (translate_longitudinally)
    const [cx, cy, h] = w.se2(w.get(fp, '_center', `${field}._car_footprint`), `${field}._car_footprint._center`);
    const d = w.numAt(dyn, '_rear_axle_to_center_dist', `${field}._dynamic_car_state`);
    pose = [cx - d * Math.cos(h), cy - d * Math.sin(h), h];
  }
  const vel = w.vec2(w.get(dyn, '_rear_axle_velocity_2d', `${field}._dynamic_car_state`), `${field}._dynamic_car_state._rear_axle_velocity_2d`);
  const acc = w.vec2(w.get(dyn, '_rear_axle_acceleration_2d', `${field}._dynamic_car_state`), `${field}._dynamic_car_state._rear_axle_acceleration_2d`);
  out[offset] = pose[0];
  out[offset + 1] = pose[1];
  out[offset + 2] = pose[2];
  out[offset + 3] = vel[0];
  out[offset + 4] = vel[1];
  out[offset + 5] = acc[0];
  out[offset + 6] = acc[1];
  out[offset + 7] = w.numAt(a, '_tire_steering_angle', field);
  out[offset + 8] = w.numAt(dyn, '_tire_steering_rate', `${field}._dynamic_car_state`);
  out[offset + 9] = w.numAt(dyn, '_angular_velocity', `${field}._dynamic_car_state`);
  out[offset + 10] = w.numAt(dyn, '_angular_acceleration', `${field}._dynamic_car_state`);
  return w.timeUs(w.get(a, '_time_point', field), `${field}._time_point`);
}

/** Box centre and heading from a nuPlan `OrientedBox` polygon (FL, RL, RR, FR). */
function boxPose(ring: Float64Array): [number, number, number] {
  let cx = 0, cy = 0;
  for (let k = 0; k < 4; k++) {
    cx += ring[2 * k]!;
    cy += ring[2 * k + 1]!;
  }
  // front minus rear, both sides
  const dx = ring[0]! - ring[2]! + (ring[6]! - ring[4]!);
  const dy = ring[1]! - ring[3]! + (ring[7]! - ring[5]!);
  return [cx / 4, cy / 4, Math.atan2(dy, dx)];
}

function residual(ring: Float64Array, box: Float64Array): number {
  let r = 0;
  for (let k = 0; k < 8; k++) r = Math.max(r, Math.abs(ring[k]! - box[k]!));
  return r;
}

/**
 * Pose whose rebuilt box matches the polygon: the corner mean and side direction, then (when the
 * rebuilt corners are not bit-identical) the best of the neighbouring doubles of x, y and heading.
 */
function fitBox(ring: Float64Array, halfLength: number, halfWidth: number, box: Float64Array): { pose: [number, number, number]; residual: number } {
  let pose = boxPose(ring);
  boxCorners(pose[0], pose[1], pose[2], halfLength, halfWidth, box);
  let best = residual(ring, box);
  if (best === 0) return { pose, residual: 0 };
  const steps = (v: number): number[] => {
    const out: number[] = [];
    const ulp = Math.max(Number.MIN_VALUE, Math.abs(v) * Number.EPSILON);
    for (let k = -3; k <= 3; k++) out.push(v + k * ulp * 0.5);
    return out;
  };
  const start = pose;
  for (const x of steps(start[0])) {
    for (const y of steps(start[1])) {
      for (const h of steps(start[2])) {
        boxCorners(x, y, h, halfLength, halfWidth, box);
        const r = residual(ring, box);
        if (r < best) {
          best = r;
          pose = [x, y, h];
          if (r === 0) return { pose, residual: 0 };
        }
      }
    }
  }
  return { pose, residual: best };
}

/** Converts an unpickled NAVSIM v1.1 `MetricCache` into a scene named `token`. */
export function metricCacheToScene(root: unknown, ctx: UnpickleContext & { token: string }, opts: { logName?: string | null } = {}): { scene: PDMScene; diagnostics: ImportDiagnostics } {
  const w: Walk = new Walk(ctx);
  const mc = w.obj(root, Q.metricCache, 'MetricCache');
  const fields = mc.attrs();
  const extra = [...fields.keys()].filter((k) => !(V1_METRIC_CACHE_FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) {
    w.fail('MetricCache', `a NAVSIM v1.1 metric cache (fields ${V1_METRIC_CACHE_FIELDS.join(', ')})`, `fields ${extra.join(', ')} of another NAVSIM version (v2 caches are not read yet)`);
  }
  for (const f of V1_METRIC_CACHE_FIELDS) if (!fields.has(f)) w.fail(`MetricCache.${f}`, 'a value (NAVSIM v1.1 field)', 'no such field');

  // ego state
  const egoRow = new Float64Array(STATE_SIZE);
  const t0 = egoStateRow(w, fields.get('ego_state'), 'ego_state', egoRow, 0);
  const ego = { x: egoRow[0]!, y: egoRow[1]!, heading: egoRow[2]!, vx: egoRow[3]!, vy: egoRow[4]!, ax: egoRow[5]!, ay: egoRow[6]!, steeringAngle: egoRow[7]! };

  // PDM-Closed trajectory
  const traj = w.obj(fields.get('trajectory'), Q.trajectory, 'trajectory');
  const trajStates = w.list(traj.args[0], 'trajectory.trajectory');
  if (trajStates.length < 41) w.fail('trajectory.trajectory', 'at least 41 states (4 s at 0.1 s)', trajStates.length);
  const pdm = new Float64Array(trajStates.length * STATE_SIZE);
  trajStates.forEach((s, i) => {
    const t = egoStateRow(w, s, `trajectory.trajectory[${i}]`, pdm, i * STATE_SIZE);
    if (t !== t0 + i * 100_000) w.fail(`trajectory.trajectory[${i}]._time_point.time_us`, `${t0 + i * 100_000} (0.1 s steps from the ego state)`, t);
  });

  // centerline
  const path = w.obj(fields.get('centerline'), Q.path, 'centerline');
  const pts = w.list(path.args[0], 'centerline.discrete_path');
  if (pts.length < 2) w.fail('centerline.discrete_path', 'at least 2 states', pts.length);
  const centerline = new Float64Array(pts.length * 3);
  pts.forEach((p, i) => centerline.set(w.se2(p, `centerline.discrete_path[${i}]`), 3 * i));

  // route + drivable map
  const route = w.list(fields.get('route_lane_ids'), 'route_lane_ids').map((x, i) => w.str(x, `route_lane_ids[${i}]`));
  const routeSet = new Set(route);
  const dm = w.obj(fields.get('drivable_area_map'), Q.drivable, 'drivable_area_map');
  const tokens = w.list(dm.args[0], 'drivable_area_map.tokens');
  const types = w.list(dm.args[1], 'drivable_area_map.map_types');
  const geoms = w.list(dm.args[2], 'drivable_area_map.geometries');
  if (types.length !== tokens.length || geoms.length !== tokens.length) w.fail('drivable_area_map', `${tokens.length} map types and geometries`, `${types.length} and ${geoms.length}`);
  const areas: MapArea[] = [];
  const lanes: MapLane[] = [];
  tokens.forEach((tk, i) => {
    const id = w.str(tk, `drivable_area_map.tokens[${i}]`);
    const layer = w.enumMember(types[i], 'nuplan.common.maps.maps_datatypes.SemanticMapLayer', `drivable_area_map.map_types[${i}]`);
    const { shell, holes } = w.polygon(geoms[i], `drivable_area_map.geometries[${i}]`);
    if (layer === 'LANE' || layer === 'LANE_CONNECTOR') {
      lanes.push({ id, type: layer, roadblockId: '', polygon: shell, holes, centerline: new Float64Array(0), speedLimitMps: null, onRoute: routeSet.has(id) });
    } else if (AREA_LAYERS[layer]) {
      areas.push({ id, type: AREA_LAYERS[layer]!, polygon: shell, holes });
    } else {
      w.fail(`drivable_area_map.map_types[${i}]`, `a drivable layer (${[...Object.keys(AREA_LAYERS), 'LANE', 'LANE_CONNECTOR'].join(', ')})`, layer);
    }
  });

  // observation
  const obs = w.attrs(fields.get('observation'), Q.observation, 'observation');
  const maps = w.list(w.get(obs, '_occupancy_maps', 'observation'), 'observation._occupancy_maps');
  const g2l = w.list(w.get(obs, '_global_to_local_idcs', 'observation'), 'observation._global_to_local_idcs').map((x, i) => w.num(x, `observation._global_to_local_idcs[${i}]`));
  const redPrefix = w.str(w.get(obs, '_red_light_token', 'observation'), 'observation._red_light_token') + '_';
  const uniqRaw = w.get(obs, '_unique_objects', 'observation');
  if (!(uniqRaw instanceof Map)) w.fail('observation._unique_objects', 'a dict', w.kind(uniqRaw));
  const uniq = uniqRaw as Map<string, unknown>;
  const numSteps = g2l.length;
  if (numSteps < 41) w.fail('observation._global_to_local_idcs', 'at least 41 steps', numSteps);
  type Track = AgentTrack & { vel: [number, number] };
  const tracks = new Map<string, Track>();
  const trackOf = (token: string, field: string): Track => {
    let t = tracks.get(token);
    if (t) return t;
    const f = `observation._unique_objects[${JSON.stringify(token)}]`;
    const o = uniq.get(token);
    if (o === undefined) w.fail(field, `a token of observation._unique_objects or a red light (${redPrefix}<id>)`, token);
    if (!(o instanceof PyObject) || (o.name !== 'Agent' && o.name !== 'StaticObject')) w.fail(f, 'a nuPlan Agent or StaticObject', w.kind(o));
    const a = o.attrs();
    const type = TRACKED_TYPES[w.enumMember(w.get(a, '_tracked_object_type', f), 'nuplan.common.actor_state.tracked_objects_types.TrackedObjectType', `${f}._tracked_object_type`)]!;
    const box = w.attrs(w.get(a, '_box', f), 'nuplan.common.actor_state.oriented_box.OrientedBox', `${f}._box`);
    const vel: [number, number] = o.name === 'Agent' && a.get('_velocity') != null ? w.vec2(a.get('_velocity'), `${f}._velocity`) : [0, 0];
    t = {
      id: token, type, length: w.numAt(box, '_length', `${f}._box`), width: w.numAt(box, '_width', `${f}._box`), height: w.numAt(box, '_height', `${f}._box`),
      startFrame: -1, states: [], vel,
    };
    tracks.set(token, t);
    return t;
  };
  const red: string[][] = [];
  const diagnostics: ImportDiagnostics = { maxBoxResidual: 0, boxes: 0 };
  const box = new Float64Array(8);
  for (let step = 0; step < numSteps; step++) {
    const li = g2l[step]!;
    const mf = `observation._occupancy_maps[${li}]`;
    if (!Number.isInteger(li) || li < 0 || li >= maps.length) w.fail(`observation._global_to_local_idcs[${step}]`, `an index into ${maps.length} occupancy maps`, li);
    const occ = w.obj(maps[li], Q.occupancy, mf);
    const toks = w.list(occ.args[0], `${mf}.tokens`);
    const polys = w.list(occ.args[1], `${mf}.geometries`);
    if (polys.length !== toks.length) w.fail(`${mf}.geometries`, `${toks.length} geometries`, polys.length);
    const redHere: string[] = [];
    toks.forEach((tk, k) => {
      const token = w.str(tk, `${mf}.tokens[${k}]`);
      if (token.startsWith(redPrefix) && !uniq.has(token)) {
        redHere.push(token.slice(redPrefix.length));
        return;
      }
      const tr = trackOf(token, `${mf}.tokens[${k}]`);
      const { shell } = w.polygon(polys[k], `${mf}.geometries[${k}]`);
      if (shell.length !== 8) w.fail(`${mf}.geometries[${k}]`, 'a box polygon of 4 corners', shell.length / 2);
      const fit = fitBox(shell, tr.length / 2, tr.width / 2, box);
      diagnostics.boxes++;
      diagnostics.maxBoxResidual = Math.max(diagnostics.maxBoxResidual, fit.residual);
      if (tr.startFrame < 0) tr.startFrame = step;
      const i = step - tr.startFrame;
      while (tr.states.length < i) tr.states.push(null);
      const s: AgentState = { x: fit.pose[0], y: fit.pose[1], heading: fit.pose[2], vx: tr.vel[0], vy: tr.vel[1] };
      tr.states[i] = s;
    });
    red.push(redHere);
  }
  const agents: AgentTrack[] = [...tracks.values()].filter((t) => t.startFrame >= 0).map(({ vel: _vel, ...t }) => t);
  const frames2hz: string[][] = [];
  for (let f = 0; f * 5 < Math.min(numSteps, 41); f++) frames2hz.push(red[f * 5]!);
  const redChanges = frames2hz.some((f) => f.join('\u0000') !== frames2hz[0]!.join('\u0000'));
  const scene: PDMScene = {
    schema: 'pdm_ref_scene/v1',
    name: ctx.token,
    timestampUs: t0,
    ego,
    trajectory: null,
    agents,
    map: { areas, lanes },
    pdmClosedCenterline: centerline,
    observationMode: 'direct_10hz',
    redLightLaneIds: red[0] ?? [],
    pdmClosedTrajectory: pdm,
    logName: opts.logName ?? null,
    sceneType: 'synthetic', // as parseScene gives a scene without a human trajectory
    history: null,
    humanTrajectory: null,
    trafficLightFrames2hz: redChanges ? frames2hz : null,
    previousFrame: null,
  };
  return { scene, diagnostics };
}
