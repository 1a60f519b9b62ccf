/**
 * Arrow IPC layout for many NAVSIM scenes: one row per scene, every number Float64 (scores must
 * reproduce exactly; UTM coordinates do not fit Float32), variable-length data as Arrow lists.
 *
 * | column | Arrow type | meaning |
 * |---|---|---|
 * | name, schema | Utf8 | scene name, `pdm_ref_scene/v1` or `/v2` |
 * | timestamp_us | Float64 | integer µs (exact up to 2^53) |
 * | ego | FixedSizeList<Float64>[8] | x, y, heading, vx, vy, ax, ay, steering_angle |
 * | trajectory, human_trajectory | Struct{frame, interval_s, poses: List<Float64>} (nullable) | flat x, y, heading |
 * | agents | List<Struct{id, type, length, width, height, start_frame: Int32, present: List<Bool>, states: List<Float64>}> | 5 values (x, y, heading, vx, vy) per frame; absent frames are `present = false` |
 * | map_areas | List<Struct{id, type, polygon: List<Float64>, holes: List<List<Float64>>}> | |
 * | map_lanes | List<Struct{id, type, roadblock_id, polygon, holes, centerline, speed_limit_mps (nullable), on_route: Bool}> | |
 * | pdm_closed_centerline | List<Float64> | flat x, y, heading |
 * | observation_mode, scene_type | Utf8 | |
 * | red_light_lane_ids | List<Utf8> | |
 * | pdm_closed_trajectory | List<Float64> (nullable) | flat 11 values per state |
 * | log_name | Utf8 (nullable) | |
 * | history | List<Float64> (nullable) | 8 values per state: timestamp_us, x, y, heading, vx, vy, ax, ay |
 * | traffic_light_frames_2hz | List<List<Utf8>> (nullable) | |
 * | previous_frame | Utf8 (nullable) | the previous frame as `pdm_ref_scene` JSON (rare, recursive) |
 *
 * Reading checks the columns (file, column, expected and found type), then decodes the rows
 * column by column straight into scenes (`arrow-scenes-decode.ts`: typed-array reads, the scene
 * reader's checks on the numbers in place); a row that path declines goes through the scene reader
 * (`parseScene` of the row as JSON), so a bad value names the file, the row, the scene and the field.
 */
import * as fs from 'node:fs';
import {
  Bool,
  type DataType,
  Field,
  FixedSizeList,
  Float64,
  Int32,
  List,
  Struct,
  Table,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { writeFileAtomicSync } from '../core/atomic.js';
import { decodeSceneRowFast, decodeScenesFast } from './arrow-scenes-decode.js';
import { parseScene } from './scene-json.js';
import { NavsimInputError, type PDMScene, type PoseTrajectory, type PreviousFrame } from './types.js';

export const SCENES_ARROW_LAYOUT = 'drivekit.navsim.scenes/v1';

const f64 = () => new Float64();
const listOf = (t: DataType, nullable = false) => new List(new Field('item', t, nullable));
const field = (name: string, t: DataType, nullable = false) => new Field(name, t, nullable);

const TRAJECTORY = new Struct([field('frame', new Utf8()), field('interval_s', f64()), field('poses', listOf(f64()))]);
const AGENT = new Struct([
  field('id', new Utf8()),
  field('type', new Utf8()),
  field('length', f64()),
  field('width', f64()),
  field('height', f64()),
  field('start_frame', new Int32()),
  field('present', listOf(new Bool())),
  field('states', listOf(f64())),
]);
const AREA = new Struct([
  field('id', new Utf8()),
  field('type', new Utf8()),
  field('polygon', listOf(f64())),
  field('holes', listOf(listOf(f64()))),
]);
const LANE = new Struct([
  field('id', new Utf8()),
  field('type', new Utf8()),
  field('roadblock_id', new Utf8()),
  field('polygon', listOf(f64())),
  field('holes', listOf(listOf(f64()))),
  field('centerline', listOf(f64())),
  field('speed_limit_mps', f64(), true),
  field('on_route', new Bool()),
]);

/** Column name -> Arrow type (and nullability) of the layout. */
export const SCENES_ARROW_COLUMNS: ReadonlyArray<[string, DataType, boolean]> = [
  ['name', new Utf8(), false],
  ['schema', new Utf8(), false],
  ['timestamp_us', f64(), false],
  ['ego', new FixedSizeList(8, new Field('item', f64(), false)), false],
  ['trajectory', TRAJECTORY, true],
  ['agents', listOf(AGENT), false],
  ['map_areas', listOf(AREA), false],
  ['map_lanes', listOf(LANE), false],
  ['pdm_closed_centerline', listOf(f64()), false],
  ['observation_mode', new Utf8(), false],
  ['red_light_lane_ids', listOf(new Utf8()), false],
  ['pdm_closed_trajectory', listOf(f64()), true],
  ['log_name', new Utf8(), true],
  ['scene_type', new Utf8(), false],
  ['history', listOf(f64()), true],
  ['human_trajectory', TRAJECTORY, true],
  ['traffic_light_frames_2hz', listOf(listOf(new Utf8())), true],
  ['previous_frame', new Utf8(), true],
];

function ringToPoints(flat: Float64Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function tuplesToRows(flat: ArrayLike<number>, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + width <= flat.length; i += width) out.push(Array.from({ length: width }, (_, k) => flat[i + k]!));
  return out;
}

function trajectoryJson(t: PoseTrajectory): Record<string, unknown> {
  return { frame: t.frame, interval_s: t.intervalS, poses: tuplesToRows(t.poses, 3) };
}

/** A parsed scene back in its `pdm_ref_scene` JSON form (parses to an equal `PDMScene`). */
export function sceneToJson(scene: PDMScene, opts: { withMapAndCenterline?: boolean } = {}): Record<string, unknown> {
  const withMap = opts.withMapAndCenterline ?? true;
  const out: Record<string, unknown> = {
    schema: scene.schema,
    name: scene.name,
    timestamp_us: scene.timestampUs,
    ego: {
      x: scene.ego.x, y: scene.ego.y, heading: scene.ego.heading,
      vx: scene.ego.vx, vy: scene.ego.vy, ax: scene.ego.ax, ay: scene.ego.ay,
      steering_angle: scene.ego.steeringAngle,
    },
    trajectory: scene.trajectory ? trajectoryJson(scene.trajectory) : null,
    agents: scene.agents.map((a) => ({
      id: a.id, type: a.type, length: a.length, width: a.width, height: a.height, start_frame: a.startFrame,
      states: a.states.map((s) => (s ? { x: s.x, y: s.y, heading: s.heading, vx: s.vx, vy: s.vy } : null)),
    })),
    observation_mode: scene.observationMode,
    red_light_lane_ids: [...scene.redLightLaneIds],
    pdm_closed_trajectory: scene.pdmClosedTrajectory ? { states: tuplesToRows(scene.pdmClosedTrajectory, 11) } : null,
    log_name: scene.logName,
    scene_type: scene.sceneType,
    history: scene.history
      ? scene.history.map((h) => ({ timestamp_us: h.timestampUs, x: h.x, y: h.y, heading: h.heading, vx: h.vx, vy: h.vy, ax: h.ax, ay: h.ay }))
      : null,
    human_trajectory: scene.humanTrajectory ? trajectoryJson(scene.humanTrajectory) : null,
    traffic_light_frames_2hz: scene.trafficLightFrames2hz ? scene.trafficLightFrames2hz.map((f) => [...f]) : null,
  };
  if (withMap) {
    out.map = {
      areas: scene.map.areas.map((a) => ({ id: a.id, type: a.type, polygon: ringToPoints(a.polygon), holes: a.holes.map(ringToPoints) })),
      lanes: scene.map.lanes.map((l) => ({
        id: l.id, type: l.type, roadblock_id: l.roadblockId, polygon: ringToPoints(l.polygon), holes: l.holes.map(ringToPoints),
        centerline: tuplesToRows(l.centerline, 3), speed_limit_mps: l.speedLimitMps, on_route: l.onRoute,
      })),
    };
    out.pdm_closed = { centerline: tuplesToRows(scene.pdmClosedCenterline, 3) };
  }
  if (scene.previousFrame) out.previous_frame = previousFrameJson(scene.previousFrame);
  return out;
}

function previousFrameJson(p: PreviousFrame): Record<string, unknown> {
  if (p.form === 'scene') return { scene: sceneToJson(p.scene, { withMapAndCenterline: false }) };
  if (p.form === 'states') return { timestamp_us: p.timestampUs, simulated_states: tuplesToRows(p.simulatedStates, 11) };
  const e = p.ego;
  return {
    timestamp_us: p.timestampUs,
    ego: { x: e.x, y: e.y, heading: e.heading, vx: e.vx, vy: e.vy, ax: e.ax, ay: e.ay, steering_angle: e.steeringAngle },
    trajectory: trajectoryJson(p.trajectory),
  };
}

function sceneRow(scene: PDMScene): Record<string, unknown> {
  const e = scene.ego;
  const traj = (t: PoseTrajectory | null) => (t ? { frame: t.frame, interval_s: t.intervalS, poses: t.poses } : null);
  return {
    name: scene.name,
    schema: scene.schema,
    timestamp_us: scene.timestampUs,
    ego: [e.x, e.y, e.heading, e.vx, e.vy, e.ax, e.ay, e.steeringAngle],
    trajectory: traj(scene.trajectory),
    agents: scene.agents.map((a) => {
      const states = new Float64Array(5 * a.states.length);
      const present: boolean[] = [];
      a.states.forEach((s, i) => {
        present.push(s !== null);
        if (s) states.set([s.x, s.y, s.heading, s.vx, s.vy], 5 * i);
      });
      return { id: a.id, type: a.type, length: a.length, width: a.width, height: a.height, start_frame: a.startFrame, present, states };
    }),
    map_areas: scene.map.areas.map((a) => ({ id: a.id, type: a.type, polygon: a.polygon, holes: a.holes })),
    map_lanes: scene.map.lanes.map((l) => ({
      id: l.id, type: l.type, roadblock_id: l.roadblockId, polygon: l.polygon, holes: l.holes,
      centerline: l.centerline, speed_limit_mps: l.speedLimitMps, on_route: l.onRoute,
    })),
    pdm_closed_centerline: scene.pdmClosedCenterline,
    observation_mode: scene.observationMode,
    red_light_lane_ids: scene.redLightLaneIds,
    pdm_closed_trajectory: scene.pdmClosedTrajectory,
    log_name: scene.logName,
    scene_type: scene.sceneType,
    history: scene.history
      ? Float64Array.from(scene.history.flatMap((h) => [h.timestampUs, h.x, h.y, h.heading, h.vx, h.vy, h.ax, h.ay]))
      : null,
    human_trajectory: traj(scene.humanTrajectory),
    traffic_light_frames_2hz: scene.trafficLightFrames2hz,
    previous_frame: scene.previousFrame ? JSON.stringify(previousFrameJson(scene.previousFrame)) : null,
  };
}

/** The scenes as an Arrow table (one record batch per `batchSize` scenes). */
export function scenesToArrowTable(scenes: ReadonlyArray<PDMScene>, batchSize = 256): Table {
  const rows = scenes.map(sceneRow);
  const batches: Table[] = [];
  for (let start = 0; start < Math.max(rows.length, 1); start += batchSize) {
    const chunk = rows.slice(start, start + batchSize);
    const columns: Record<string, any> = {};
    for (const [name, type] of SCENES_ARROW_COLUMNS) columns[name] = vectorFromArray(chunk.map((r) => r[name]) as any[], type as any);
    batches.push(new Table(columns));
  }
  let table = batches[0]!;
  for (let i = 1; i < batches.length; i++) table = table.concat(batches[i]!);
  table.schema.metadata.set('drivekit.layout', SCENES_ARROW_LAYOUT);
  return table;
}

/** Writes scenes to an Arrow IPC file atomically (temp file + rename). */
export function writeScenesArrow(path: string, scenes: ReadonlyArray<PDMScene>, batchSize = 256): void {
  writeFileAtomicSync(path, tableToIPC(scenesToArrowTable(scenes, batchSize), 'file'));
}

function typeString(t: DataType): string {
  return String(t);
}

function list<T = unknown>(v: any): T[] {
  if (v === null || v === undefined) return [];
  return typeof v.toArray === 'function' ? (Array.from(v.toArray()) as T[]) : (Array.from(v) as T[]);
}

function flat(v: any): number[] {
  return list<number>(v).map(Number);
}

function trajectoryFromRow(t: any): Record<string, unknown> | null {
  if (t === null || t === undefined) return null;
  return { frame: t.frame, interval_s: t.interval_s, poses: tuplesToRows(flat(t.poses), 3) };
}

/** Row `i` of a scene table back as `pdm_ref_scene` JSON. */
function rowToJson(row: any): Record<string, unknown> {
  const ego = flat(row.ego);
  const json: Record<string, unknown> = {
    schema: row.schema,
    name: row.name,
    timestamp_us: row.timestamp_us,
    ego: { x: ego[0], y: ego[1], heading: ego[2], vx: ego[3], vy: ego[4], ax: ego[5], ay: ego[6], steering_angle: ego[7] },
    trajectory: trajectoryFromRow(row.trajectory),
    agents: list<any>(row.agents).map((a) => {
      const present = list<boolean>(a.present);
      const s = flat(a.states);
      return {
        id: a.id, type: a.type, length: a.length, width: a.width, height: a.height, start_frame: a.start_frame,
        states: present.map((p, i) => (p ? { x: s[5 * i], y: s[5 * i + 1], heading: s[5 * i + 2], vx: s[5 * i + 3], vy: s[5 * i + 4] } : null)),
      };
    }),
    map: {
      areas: list<any>(row.map_areas).map((a) => ({
        id: a.id, type: a.type, polygon: tuplesToRows(flat(a.polygon), 2), holes: list<any>(a.holes).map((h) => tuplesToRows(flat(h), 2)),
      })),
      lanes: list<any>(row.map_lanes).map((l) => ({
        id: l.id, type: l.type, roadblock_id: l.roadblock_id, polygon: tuplesToRows(flat(l.polygon), 2),
        holes: list<any>(l.holes).map((h) => tuplesToRows(flat(h), 2)), centerline: tuplesToRows(flat(l.centerline), 3),
        speed_limit_mps: l.speed_limit_mps ?? null, on_route: Boolean(l.on_route),
      })),
    },
    pdm_closed: { centerline: tuplesToRows(flat(row.pdm_closed_centerline), 3) },
    observation_mode: row.observation_mode,
    red_light_lane_ids: list<string>(row.red_light_lane_ids),
    pdm_closed_trajectory: row.pdm_closed_trajectory ? { states: tuplesToRows(flat(row.pdm_closed_trajectory), 11) } : null,
    log_name: row.log_name ?? null,
    scene_type: row.scene_type,
    history: row.history
      ? tuplesToRows(flat(row.history), 8).map((h) => ({ timestamp_us: h[0], x: h[1], y: h[2], heading: h[3], vx: h[4], vy: h[5], ax: h[6], ay: h[7] }))
      : null,
    human_trajectory: trajectoryFromRow(row.human_trajectory),
    traffic_light_frames_2hz: row.traffic_light_frames_2hz ? list<any>(row.traffic_light_frames_2hz).map((f) => list<string>(f)) : null,
  };
  if (row.previous_frame) json.previous_frame = JSON.parse(row.previous_frame);
  return json;
}

/**
 * Reads and validates a scene file. Throws a `NavsimInputError` naming the file and the column
 * (layout problems) or the file, the row, the scene and the field (bad values).
 */
export function readScenesArrow(path: string): PDMScene[] {
  let table: Table;
  try {
    table = tableFromIPC(fs.readFileSync(path));
  } catch (e) {
    throw new NavsimInputError(`${path}: not an Arrow IPC file (${(e as Error).message})`, path, '');
  }
  return scenesFromArrowTable(table, path);
}

/**
 * The scenes of an Arrow table in this layout (extra columns are ignored, so a metric cache shard
 * reads as a scene file); `path` names the source in errors. With `rows`, only those rows are
 * decoded, in that order. `columnar: false` decodes every row through the scene reader (the
 * reference the columnar path is tested against).
 */
export function scenesFromArrowTable(table: Table, path: string, rows?: readonly number[], opts: { columnar?: boolean } = {}): PDMScene[] {
  const byName = new Map(table.schema.fields.map((f) => [f.name, f]));
  for (const [name, type] of SCENES_ARROW_COLUMNS) {
    const f = byName.get(name);
    if (!f) throw new NavsimInputError(`${path}: column '${name}': expected ${typeString(type)}, found no such column`, path, name);
    if (typeString(f.type) !== typeString(type)) {
      throw new NavsimInputError(`${path}: column '${name}': expected ${typeString(type)}, found ${typeString(f.type)}`, path, name);
    }
  }
  // columnar fast path (arrow-scenes-decode.ts); the rows it declines are decoded below
  const columnar = opts.columnar ?? true;
  const fast = !columnar ? [] : rows === undefined ? decodeScenesFast(table) : rows.map((i) => decodeSceneRowFast(table, i));
  const scenes: PDMScene[] = [];
  const order = rows ?? Array.from({ length: table.numRows }, (_, k) => k);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const quick = fast[k];
    if (quick) {
      scenes.push(quick);
      continue;
    }
    const row = table.get(i);
    let json: Record<string, unknown>;
    try {
      json = rowToJson(row);
    } catch (e) {
      throw new NavsimInputError(`${path}: row ${i}: cannot decode (${(e as Error).message})`, path, '');
    }
    try {
      scenes.push(parseScene(json, { source: `${path}#${i}` }));
    } catch (e) {
      if (e instanceof NavsimInputError) throw new NavsimInputError(`${path}: row ${i}: ${e.message}`, e.scene, e.field);
      throw e;
    }
  }
  return scenes;
}
