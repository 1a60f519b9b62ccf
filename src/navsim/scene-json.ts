/**
 * Reader and validator of the golden single-scene JSON formats `pdm_ref_scene/v1` and
 * `pdm_ref_scene/v2` (see `golden/pdm_v1/README.md` and `golden/pdm_v2/README.md`).
 *
 * `parseScene(json)` accepts either a scene object or a golden file (`{input, expected}`, scored
 * from `input`) and returns a `PDMScene`. Every validation error is a `NavsimInputError` naming the
 * scene, the field path, what was expected and what was found.
 *
 * Two limits keep finite but absurd scenes from scoring NaN or overflowing the stack:
 * - every coordinate and state value (positions, velocities, accelerations, sizes; not
 *   timestamps) must satisfy |v| <= `MAX_ABS_SCENE_VALUE` = 1e7 (10,000 km: far beyond any map;
 *   NAVSIM's UTM coordinates are below 1e7 m);
 * - a `previous_frame` chain may be at most `MAX_PREVIOUS_FRAME_DEPTH` = 64 frames deep.
 */
import {
  NavsimInputError,
  type AgentState,
  type AgentTrack,
  type AgentType,
  type EgoState,
  type HistoryState,
  type MapArea,
  type MapAreaType,
  type MapLane,
  type PDMScene,
  type PoseTrajectory,
  type PreviousFrame,
  type SceneSchema,
} from './types.js';

/** Largest |value| accepted for a coordinate or state value of a scene (metres, m/s, m/s²). */
export const MAX_ABS_SCENE_VALUE = 1e7;
/** Deepest `previous_frame` chain accepted (EPDMS uses one previous frame). */
export const MAX_PREVIOUS_FRAME_DEPTH = 64;

const AGENT_TYPES: ReadonlySet<string> = new Set([
  'vehicle', 'pedestrian', 'bicycle', 'static_object', 'generic_object', 'traffic_cone', 'barrier', 'czone_sign', 'ego',
]);
const AREA_TYPES: ReadonlySet<string> = new Set(['ROADBLOCK', 'INTERSECTION', 'CARPARK_AREA', 'DRIVABLE_AREA']);
const LANE_TYPES: ReadonlySet<string> = new Set(['LANE', 'LANE_CONNECTOR']);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  return typeof v;
}

class Reader {
  constructor(readonly scene: string) {}

  fail(field: string, expected: string, found: unknown): never {
    throw new NavsimInputError(`scene ${JSON.stringify(this.scene)}: field '${field}': expected ${expected}, found ${describe(found)}`, this.scene, field);
  }

  obj(v: unknown, field: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Record<string, unknown>;
  }

  arr(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    return v;
  }

  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a finite number', v);
    return v;
  }

  optNum(v: unknown, field: string, dflt: number): number {
    return v === undefined ? dflt : this.num(v, field);
  }

  int(v: unknown, field: string): number {
    const n = this.num(v, field);
    if (!Number.isSafeInteger(n)) this.fail(field, 'a safe integer', v);
    return n;
  }

  str(v: unknown, field: string): string {
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }

  bool(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'a boolean', v);
    return v;
  }

  /** Flat array of `width`-tuples of finite numbers (field paths are built only on failure). */
  tuples(v: unknown, field: string, width: number, minCount = 0): Float64Array {
    const a = this.arr(v, field);
    if (a.length < minCount) this.fail(field, `at least ${minCount} entries`, v);
    const out = new Float64Array(a.length * width);
    for (let i = 0; i < a.length; i++) {
      const t = a[i];
      if (!Array.isArray(t) || t.length < width) this.fail(`${field}[${i}]`, `an array of ${width} numbers`, t);
      const o = i * width;
      for (let k = 0; k < width; k++) {
        const x = t[k];
        if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(`${field}[${i}][${k}]`, 'a finite number', x);
        out[o + k] = x;
      }
    }
    return out;
  }

  /** A finite number at `o[key]` (the field path `${prefix}.${key}` is built only on failure). */
  numAt(o: Record<string, unknown>, key: string, prefix: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${prefix}.${key}`, 'a finite number', v);
    return v;
  }

  /** Like `numAt`, with a default for a missing key. */
  optNumAt(o: Record<string, unknown>, key: string, prefix: string, dflt: number): number {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${prefix}.${key}`, 'a finite number', v);
    return v;
  }

  ego(v: unknown, field: string): EgoState {
    const o = this.obj(v, field);
    return {
      x: this.num(o.x, `${field}.x`),
      y: this.num(o.y, `${field}.y`),
      heading: this.num(o.heading, `${field}.heading`),
      vx: this.num(o.vx, `${field}.vx`),
      vy: this.optNum(o.vy, `${field}.vy`, 0),
      ax: this.optNum(o.ax, `${field}.ax`, 0),
      ay: this.optNum(o.ay, `${field}.ay`, 0),
      steeringAngle: this.optNum(o.steering_angle, `${field}.steering_angle`, 0),
    };
  }

  trajectory(v: unknown, field: string): PoseTrajectory {
    const o = this.obj(v, field);
    const frame = o.frame === undefined ? 'ego' : o.frame;
    if (frame !== 'ego' && frame !== 'global') this.fail(`${field}.frame`, '"ego" or "global"', frame);
    const poses = this.tuples(o.poses, `${field}.poses`, 3, 1);
    const intervalS = this.optNum(o.interval_s, `${field}.interval_s`, 0.5);
    if (!(intervalS > 0)) this.fail(`${field}.interval_s`, 'a positive number', intervalS);
    return { frame, poses, intervalS };
  }

  history(v: unknown, field: string): HistoryState[] {
    const a = this.arr(v, field);
    if (a.length < 2) this.fail(field, 'at least 2 states', v);
    const out: HistoryState[] = [];
    for (let i = 0; i < a.length; i++) {
      const f = `${field}[${i}]`;
      const o = this.obj(a[i], f);
      const s: HistoryState = {
        timestampUs: this.int(o.timestamp_us, `${f}.timestamp_us`),
        x: this.num(o.x, `${f}.x`),
        y: this.num(o.y, `${f}.y`),
        heading: this.num(o.heading, `${f}.heading`),
        vx: this.optNum(o.vx, `${f}.vx`, 0),
        vy: this.optNum(o.vy, `${f}.vy`, 0),
        ax: this.optNum(o.ax, `${f}.ax`, 0),
        ay: this.optNum(o.ay, `${f}.ay`, 0),
      };
      if (i > 0 && s.timestampUs <= out[i - 1]!.timestampUs) this.fail(`${f}.timestamp_us`, `> ${out[i - 1]!.timestampUs} (increasing)`, s.timestampUs);
      out.push(s);
    }
    return out;
  }

  agents(v: unknown, field: string): AgentTrack[] {
    const a = this.arr(v ?? [], field);
    const seen = new Set<string>();
    return a.map((raw, i) => {
      const f = `${field}[${i}]`;
      const o = this.obj(raw, f);
      const id = this.str(o.id, `${f}.id`);
      if (seen.has(id)) this.fail(`${f}.id`, 'a unique id', id);
      seen.add(id);
      const type = this.str(o.type, `${f}.type`);
      if (!AGENT_TYPES.has(type)) this.fail(`${f}.type`, `one of ${[...AGENT_TYPES].join('|')}`, type);
      const length = this.num(o.length, `${f}.length`);
      const width = this.num(o.width, `${f}.width`);
      if (!(length >= 0) || !(width >= 0)) this.fail(`${f}.length/width`, 'non-negative sizes', `${length}x${width}`);
      const startFrame = o.start_frame === undefined ? 0 : this.int(o.start_frame, `${f}.start_frame`);
      if (startFrame < 0) this.fail(`${f}.start_frame`, '>= 0', startFrame);
      const statesRaw = this.arr(o.states, `${f}.states`);
      const states: (AgentState | null)[] = new Array(statesRaw.length);
      for (let k = 0; k < statesRaw.length; k++) {
        const s = statesRaw[k];
        if (s === null) {
          states[k] = null;
          continue;
        }
        if (typeof s !== 'object' || Array.isArray(s)) this.fail(`${f}.states[${k}]`, 'an object', s);
        const so = s as Record<string, unknown>;
        const x = so.x, y = so.y, heading = so.heading, vx = so.vx, vy = so.vy;
        // fast path: all fields valid numbers; otherwise the checks below name the bad field
        if (
          typeof x === 'number' && Number.isFinite(x) && typeof y === 'number' && Number.isFinite(y) &&
          typeof heading === 'number' && Number.isFinite(heading) &&
          typeof vx === 'number' && Number.isFinite(vx) && typeof vy === 'number' && Number.isFinite(vy)
        ) {
          states[k] = { x, y, heading, vx, vy };
          continue;
        }
        const sf = `${f}.states[${k}]`;
        states[k] = {
          x: this.numAt(so, 'x', sf),
          y: this.numAt(so, 'y', sf),
          heading: this.numAt(so, 'heading', sf),
          vx: this.optNumAt(so, 'vx', sf, 0),
          vy: this.optNumAt(so, 'vy', sf, 0),
        };
      }
      return {
        id,
        type: type as AgentType,
        length,
        width,
        height: o.height === undefined ? 0 : this.num(o.height, `${f}.height`),
        startFrame,
        states,
      };
    });
  }

  holes(v: unknown, field: string): Float64Array[] {
    if (v === undefined || v === null) return [];
    return this.arr(v, field).map((h, i) => this.tuples(h, `${field}[${i}]`, 2, 3));
  }

  map(v: unknown, field: string): { areas: MapArea[]; lanes: MapLane[] } {
    const o = this.obj(v, field);
    const areas = this.arr(o.areas ?? [], `${field}.areas`).map((raw, i) => {
      const f = `${field}.areas[${i}]`;
      const a = this.obj(raw, f);
      const type = this.str(a.type, `${f}.type`);
      if (!AREA_TYPES.has(type)) this.fail(`${f}.type`, `one of ${[...AREA_TYPES].join('|')}`, type);
      return {
        id: this.str(a.id, `${f}.id`),
        type: type as MapAreaType,
        polygon: this.tuples(a.polygon, `${f}.polygon`, 2, 3),
        holes: this.holes(a.holes, `${f}.holes`),
      };
    });
    const lanes = this.arr(o.lanes ?? [], `${field}.lanes`).map((raw, i) => {
      const f = `${field}.lanes[${i}]`;
      const l = this.obj(raw, f);
      const type = this.str(l.type, `${f}.type`);
      if (!LANE_TYPES.has(type)) this.fail(`${f}.type`, 'LANE or LANE_CONNECTOR', type);
      const speed = l.speed_limit_mps;
      return {
        id: this.str(l.id, `${f}.id`),
        type: type as 'LANE' | 'LANE_CONNECTOR',
        roadblockId: l.roadblock_id === undefined || l.roadblock_id === null ? '' : this.str(l.roadblock_id, `${f}.roadblock_id`),
        polygon: this.tuples(l.polygon, `${f}.polygon`, 2, 3),
        holes: this.holes(l.holes, `${f}.holes`),
        centerline: l.centerline === undefined ? new Float64Array(0) : this.tuples(l.centerline, `${f}.centerline`, 3),
        speedLimitMps: speed === undefined || speed === null ? null : this.num(speed, `${f}.speed_limit_mps`),
        onRoute: l.on_route === undefined ? false : this.bool(l.on_route, `${f}.on_route`),
      };
    });
    return { areas, lanes };
  }

  ids(v: unknown, field: string): string[] {
    if (v === undefined || v === null) return [];
    return this.arr(v, field).map((x, i) => this.str(x, `${field}[${i}]`));
  }
}

/** Parses a scene object (or a golden file with `input`) into a `PDMScene`. */
export function parseScene(json: unknown, opts: { source?: string; inherit?: PDMScene } = {}): PDMScene {
  return parseSceneAt(json, opts, 0);
}

/** A NavsimInputError if a value is beyond `MAX_ABS_SCENE_VALUE` (`field` built only on failure). */
function checkBound(r: Reader, v: number, field: () => string): void {
  if (!(Math.abs(v) <= MAX_ABS_SCENE_VALUE)) r.fail(field(), `|value| <= ${MAX_ABS_SCENE_VALUE} (a coordinate or state value far outside any map)`, v);
}

function checkTuples(r: Reader, a: Float64Array, width: number, field: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]!) <= MAX_ABS_SCENE_VALUE)) checkBound(r, a[i]!, () => `${field}[${Math.floor(i / width)}][${i % width}]`);
  }
}

function checkEgo(r: Reader, e: EgoState, field: string): void {
  for (const k of ['x', 'y', 'vx', 'vy', 'ax', 'ay'] as const) checkBound(r, e[k], () => `${field}.${k}`);
}

/** Bounds of every coordinate and state value of a parsed scene (its previous frame is checked when parsed). */
function checkSceneBounds(r: Reader, s: PDMScene): void {
  checkEgo(r, s.ego, 'ego');
  if (s.trajectory) checkTuples(r, s.trajectory.poses, 3, 'trajectory.poses');
  if (s.humanTrajectory) checkTuples(r, s.humanTrajectory.poses, 3, 'human_trajectory.poses');
  s.agents.forEach((a, i) => {
    checkBound(r, a.length, () => `agents[${i}].length`);
    checkBound(r, a.width, () => `agents[${i}].width`);
    checkBound(r, a.height, () => `agents[${i}].height`);
    a.states.forEach((st, k) => {
      if (st) for (const key of ['x', 'y', 'vx', 'vy'] as const) checkBound(r, st[key], () => `agents[${i}].states[${k}].${key}`);
    });
  });
  s.map.areas.forEach((a, i) => {
    checkTuples(r, a.polygon, 2, `map.areas[${i}].polygon`);
    a.holes.forEach((h, k) => checkTuples(r, h, 2, `map.areas[${i}].holes[${k}]`));
  });
  s.map.lanes.forEach((l, i) => {
    checkTuples(r, l.polygon, 2, `map.lanes[${i}].polygon`);
    l.holes.forEach((h, k) => checkTuples(r, h, 2, `map.lanes[${i}].holes[${k}]`));
    checkTuples(r, l.centerline, 3, `map.lanes[${i}].centerline`);
  });
  checkTuples(r, s.pdmClosedCenterline, 3, 'pdm_closed.centerline');
  if (s.pdmClosedTrajectory) checkTuples(r, s.pdmClosedTrajectory, 11, 'pdm_closed_trajectory.states');
  s.history?.forEach((h, i) => {
    for (const k of ['x', 'y', 'vx', 'vy', 'ax', 'ay'] as const) checkBound(r, h[k], () => `history[${i}].${k}`);
  });
}

function parseSceneAt(json: unknown, opts: { source?: string; inherit?: PDMScene }, depth: number): PDMScene {
  const label = opts.source ?? '<scene>';
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new NavsimInputError(`${label}: expected a scene object, found ${describe(json)}`, label, '');
  }
  let root = json as Record<string, unknown>;
  if (root.input !== undefined && root.schema === undefined) {
    if (root.input === null || typeof root.input !== 'object') {
      throw new NavsimInputError(`${label}: field 'input': expected a scene object, found ${describe(root.input)}`, label, 'input');
    }
    root = root.input as Record<string, unknown>;
  }
  const name = typeof root.name === 'string' ? root.name : label;
  const r: Reader = new Reader(name);
  const schemaRaw = root.schema ?? opts.inherit?.schema;
  if (schemaRaw !== 'pdm_ref_scene/v1' && schemaRaw !== 'pdm_ref_scene/v2') {
    r.fail('schema', '"pdm_ref_scene/v1" or "pdm_ref_scene/v2"', schemaRaw);
  }
  const schema = schemaRaw as SceneSchema;
  const inherit = opts.inherit;
  const timestampUs = r.int(root.timestamp_us ?? 0, 'timestamp_us');
  if (timestampUs < 0) r.fail('timestamp_us', '>= 0', timestampUs);
  const ego = r.ego(root.ego, 'ego');
  const trajectory = root.trajectory === undefined || root.trajectory === null ? null : r.trajectory(root.trajectory, 'trajectory');
  const agents = r.agents(root.agents, 'agents');
  let map: PDMScene['map'];
  if (root.map !== undefined) map = r.map(root.map, 'map');
  else if (inherit) map = inherit.map;
  else r.fail('map', 'an object with areas and lanes', undefined);
  let pdmClosedCenterline: Float64Array;
  if (root.pdm_closed !== undefined && root.pdm_closed !== null) {
    const pc = r.obj(root.pdm_closed, 'pdm_closed');
    pdmClosedCenterline = r.tuples(pc.centerline, 'pdm_closed.centerline', 3, 2);
  } else if (inherit) {
    pdmClosedCenterline = inherit.pdmClosedCenterline;
  } else {
    r.fail('pdm_closed', 'an object with a centerline of >= 2 [x, y, heading] points', root.pdm_closed);
  }
  const modeRaw = root.observation_mode ?? 'direct_10hz';
  if (modeRaw !== 'direct_10hz' && modeRaw !== 'navsim_2hz') r.fail('observation_mode', '"direct_10hz" or "navsim_2hz"', modeRaw);
  const mode: 'direct_10hz' | 'navsim_2hz' = modeRaw;
  let pdmClosedTrajectory: Float64Array | null = null;
  if (root.pdm_closed_trajectory !== undefined && root.pdm_closed_trajectory !== null) {
    const pt = r.obj(root.pdm_closed_trajectory, 'pdm_closed_trajectory');
    pdmClosedTrajectory = r.tuples(pt.states, 'pdm_closed_trajectory.states', 11, 41);
  }
  const history = root.history === undefined || root.history === null ? null : r.history(root.history, 'history');
  if (history && history[history.length - 1]!.timestampUs > timestampUs) {
    r.fail(`history[${history.length - 1}].timestamp_us`, `<= timestamp_us ${timestampUs}`, history[history.length - 1]!.timestampUs);
  }
  const humanTrajectory =
    root.human_trajectory === undefined || root.human_trajectory === null ? null : r.trajectory(root.human_trajectory, 'human_trajectory');
  let sceneType: 'original' | 'synthetic';
  if (root.scene_type === undefined || root.scene_type === null) sceneType = humanTrajectory ? 'original' : 'synthetic';
  else if (root.scene_type === 'original' || root.scene_type === 'synthetic') sceneType = root.scene_type;
  else r.fail('scene_type', '"original" or "synthetic"', root.scene_type);
  let trafficLightFrames2hz: string[][] | null = null;
  if (root.traffic_light_frames_2hz !== undefined && root.traffic_light_frames_2hz !== null) {
    trafficLightFrames2hz = r.arr(root.traffic_light_frames_2hz, 'traffic_light_frames_2hz').map((f, i) => r.ids(f, `traffic_light_frames_2hz[${i}]`));
  }
  const scene: PDMScene = {
    schema,
    name,
    timestampUs,
    ego,
    trajectory,
    agents,
    map,
    pdmClosedCenterline,
    observationMode: mode,
    redLightLaneIds: r.ids(root.red_light_lane_ids, 'red_light_lane_ids'),
    pdmClosedTrajectory,
    logName: root.log_name === undefined || root.log_name === null ? null : r.str(root.log_name, 'log_name'),
    sceneType,
    history,
    humanTrajectory,
    trafficLightFrames2hz,
    previousFrame: null,
  };
  // The map (possibly inherited) was checked with the scene that holds it; checking it again per
  // previous frame would cost as much as the frame itself.
  checkSceneBounds(r, inherit && root.map === undefined ? { ...scene, map: { areas: [], lanes: [] } } : scene);
  if (root.previous_frame !== undefined && root.previous_frame !== null) {
    if (depth >= MAX_PREVIOUS_FRAME_DEPTH) r.fail('previous_frame', `a chain of at most ${MAX_PREVIOUS_FRAME_DEPTH} previous frames`, `a deeper chain (frame ${depth + 1})`);
    scene.previousFrame = parsePreviousFrame(r, root.previous_frame, scene, label, depth);
  }
  return scene;
}

function parsePreviousFrame(r: Reader, v: unknown, current: PDMScene, label: string, depth: number): PreviousFrame {
  const o = r.obj(v, 'previous_frame');
  let prev: PreviousFrame;
  if (o.scene !== undefined) {
    const s = parseSceneAt(o.scene, { source: `${label.replace(/#previous_frame(\[\d+\])?$/, '')}#previous_frame${depth > 0 ? `[${depth + 1}]` : ''}`, inherit: current }, depth + 1);
    if (!s.trajectory) r.fail('previous_frame.scene.trajectory', 'a trajectory', undefined);
    prev = { form: 'scene', scene: s };
  } else if (o.simulated_states !== undefined) {
    prev = {
      form: 'states',
      timestampUs: r.int(o.timestamp_us, 'previous_frame.timestamp_us'),
      simulatedStates: r.tuples(o.simulated_states, 'previous_frame.simulated_states', 11, 41),
    };
    checkTuples(r, prev.simulatedStates, 11, 'previous_frame.simulated_states');
  } else {
    prev = {
      form: 'plan',
      timestampUs: r.int(o.timestamp_us, 'previous_frame.timestamp_us'),
      ego: r.ego(o.ego, 'previous_frame.ego'),
      trajectory: r.trajectory(o.trajectory, 'previous_frame.trajectory'),
    };
    checkEgo(r, prev.ego, 'previous_frame.ego');
    checkTuples(r, prev.trajectory.poses, 3, 'previous_frame.trajectory.poses');
  }
  const ts = prev.form === 'scene' ? prev.scene.timestampUs : prev.timestampUs;
  if (ts >= current.timestampUs) r.fail('previous_frame.timestamp_us', `< timestamp_us ${current.timestampUs}`, ts);
  return prev;
}
