/**
 * A restricted unpickler for NAVSIM metric caches: the `pickleparser` package (a pure-JS parser
 * of pickle protocols 0..5 that never runs Python) with a name resolver that knows only an
 * allow-list of the NAVSIM / nuPlan / numpy / shapely classes and functions a v1.1 metric cache
 * refers to. Any other `GLOBAL` / `STACK_GLOBAL` / `INST` name (`os.system`, `builtins.eval`, ...)
 * is an `InputError` naming the class and the file, raised when the name is read, before anything
 * could be called; persistent ids, extension codes and out-of-band buffers are refused too.
 *
 * What the allowed names become:
 * - NAVSIM / nuPlan classes: a `PyObject` (module, name, constructor args, `__setstate__` state);
 * - `numpy.dtype`: a `NpDtype`; `numpy.core.multiarray.scalar` (numpy 2: `numpy._core.multiarray.scalar`): a number;
 * - `numpy.core.numeric._frombuffer` (numpy 2: `numpy._core.numeric._frombuffer`) and
 *   `numpy.core.multiarray._reconstruct` + `numpy.ndarray`: an `NdArray` of numbers (a 1-D object
 *   array, e.g. of shapely geometries, becomes a plain list);
 * - `shapely.io.from_wkb` (and shapely 1's `shapely.wkb.loads`): a parsed `WkbGeometry`;
 * - `builtins.getattr(EnumClass, 'MEMBER')` on an allowed enum with a known member: a `PyEnum`
 *   (any other getattr is refused);
 * - `pathlib.PosixPath` / `PurePosixPath` / `WindowsPath` / `PureWindowsPath`: the path as a string.
 */
import { Parser } from 'pickleparser';
import { InputError } from '../../core/errors.js';
import { parseWkb, type WkbGeometry } from './wkb.js';

/** An instance of an allowed NAVSIM / nuPlan class. */
export class PyObject {
  /** Constructor (`NEWOBJ` / `REDUCE`) arguments. */
  args: unknown[];
  /** The `BUILD` state as pickled (a Map, or `[dict | null, slots dict]`), or undefined. */
  state: unknown = undefined;

  constructor(readonly module: string, readonly name: string, args: unknown[]) {
    this.args = args;
  }

  get qualname(): string {
    return `${this.module}.${this.name}`;
  }

  __setstate__(state: unknown): void {
    this.state = state;
  }

  /** The attributes of the state (`__dict__` and `__slots__` parts merged), or an empty map. */
  attrs(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const add = (m: unknown) => {
      if (m instanceof Map) for (const [k, v] of m) out.set(String(k), v);
    };
    if (Array.isArray(this.state) && this.state.length === 2) {
      add(this.state[0]);
      add(this.state[1]);
    } else add(this.state);
    return out;
  }
}

/** A member of an allowed enum (`SemanticMapLayer.LANE`, `TrackedObjectType.VEHICLE`). */
export class PyEnum {
  constructor(readonly enumName: string, readonly member: string) {}
}

/** A numpy dtype (kind + item size + byte order). */
export class NpDtype {
  byteOrder = '=';
  constructor(readonly spec: string) {}
  __setstate__(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
  /** `f8`, `i4`, `u1`, `b1`, ... */
  get code(): string {
    return this.spec.replace(/^[<>=|]/, '');
  }
  get littleEndian(): boolean {
    const o = /^[<>=|]/.test(this.spec) ? this.spec[0]! : this.byteOrder;
    return o !== '>';
  }
}

/** A numeric numpy array (row-major values as float64). */
export class NdArray {
  constructor(readonly dtype: string, readonly shape: number[], readonly data: Float64Array) {}
}

/** A numpy array in `_reconstruct` form, filled by its `BUILD` state. */
class NdArrayBuilder {
  /** A numeric array, or the items of a 1-D object array (e.g. shapely geometries) as a list. */
  array: NdArray | unknown[] | null = null;
  __setstate__(state: unknown): void {
    // (version, shape, dtype, is_fortran, rawdata)
    if (!Array.isArray(state) || state.length !== 5) throw new Error('numpy.ndarray state: expected (version, shape, dtype, is_fortran, data)');
    const [, shape, dtype, fortran, raw] = state as [unknown, unknown, unknown, unknown, unknown];
    if (fortran) throw new Error('numpy.ndarray: Fortran-order arrays are not read');
    if (dtype instanceof NpDtype && dtype.code === 'O') {
      if (!Array.isArray(shape) || shape.length !== 1 || !Array.isArray(raw) || raw.length !== shape[0]) throw new Error('numpy.ndarray: only 1-D object arrays are read');
      this.array = raw;
      return;
    }
    if (!(dtype instanceof NpDtype) || !(raw instanceof Uint8Array)) throw new Error('numpy.ndarray: only numeric arrays are read');
    this.array = decodeArray(raw, dtype, shape as number[]);
  }
}

const TYPED: Record<string, [number, (v: DataView, o: number, le: boolean) => number]> = {
  f8: [8, (v, o, le) => v.getFloat64(o, le)],
  f4: [4, (v, o, le) => v.getFloat32(o, le)],
  i8: [8, (v, o, le) => Number(v.getBigInt64(o, le))],
  i4: [4, (v, o, le) => v.getInt32(o, le)],
  i2: [2, (v, o, le) => v.getInt16(o, le)],
  i1: [1, (v, o) => v.getInt8(o)],
  u8: [8, (v, o, le) => Number(v.getBigUint64(o, le))],
  u4: [4, (v, o, le) => v.getUint32(o, le)],
  u2: [2, (v, o, le) => v.getUint16(o, le)],
  u1: [1, (v, o) => v.getUint8(o)],
  b1: [1, (v, o) => (v.getUint8(o) ? 1 : 0)],
};

function decodeArray(raw: Uint8Array, dtype: NpDtype, shape: unknown): NdArray {
  const spec = TYPED[dtype.code];
  if (!spec) throw new Error(`numpy dtype '${dtype.spec}' is not read (numeric dtypes only)`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error('numpy array: bad shape');
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (raw.length !== n * spec[0]) throw new Error(`numpy array: ${raw.length} bytes for shape [${shape.join(', ')}] of ${dtype.code}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = spec[1](view, i * spec[0], dtype.littleEndian);
  return new NdArray(dtype.code, shape as number[], out);
}

function decodeScalar(dtype: unknown, raw: unknown): number {
  if (!(dtype instanceof NpDtype) || !(raw instanceof Uint8Array)) throw new Error('numpy scalar: expected (dtype, bytes)');
  const a = decodeArray(raw, dtype, []);
  return a.data[0]!;
}

/** NAVSIM / nuPlan classes a v1.1 metric cache refers to. */
export const ALLOWED_CLASSES: readonly string[] = [
  'navsim.planning.metric_caching.metric_cache.MetricCache',
  'navsim.planning.simulation.planner.pdm_planner.observation.pdm_observation.PDMObservation',
  'navsim.planning.simulation.planner.pdm_planner.observation.pdm_occupancy_map.PDMOccupancyMap',
  'navsim.planning.simulation.planner.pdm_planner.observation.pdm_occupancy_map.PDMDrivableMap',
  'navsim.planning.simulation.planner.pdm_planner.utils.pdm_path.PDMPath',
  'nuplan.planning.simulation.trajectory.interpolated_trajectory.InterpolatedTrajectory',
  'nuplan.common.actor_state.ego_state.EgoState',
  'nuplan.common.actor_state.car_footprint.CarFootprint',
  'nuplan.common.actor_state.dynamic_car_state.DynamicCarState',
  'nuplan.common.actor_state.vehicle_parameters.VehicleParameters',
  'nuplan.common.actor_state.state_representation.StateSE2',
  'nuplan.common.actor_state.state_representation.StateVector2D',
  'nuplan.common.actor_state.state_representation.TimePoint',
  'nuplan.common.actor_state.state_representation.Point2D',
  'nuplan.common.actor_state.oriented_box.OrientedBox',
  'nuplan.common.actor_state.agent.Agent',
  'nuplan.common.actor_state.static_object.StaticObject',
  'nuplan.common.actor_state.scene_object.SceneObjectMetadata',
  'nuplan.common.actor_state.waypoint.Waypoint',
  'nuplan.planning.simulation.trajectory.predicted_trajectory.PredictedTrajectory',
];

/** Allowed enums and their members. */
export const ALLOWED_ENUMS: Readonly<Record<string, readonly string[]>> = {
  'nuplan.common.maps.maps_datatypes.SemanticMapLayer': [
    'LANE', 'INTERSECTION', 'STOP_LINE', 'TURN_STOP', 'CROSSWALK', 'DRIVABLE_AREA', 'YIELD', 'TRAFFIC_LIGHT', 'STOP_SIGN',
    'EXTENDED_PEDESTRIAN_CROSSING', 'LANE_CONNECTOR', 'ROADBLOCK', 'ROADBLOCK_CONNECTOR', 'PRECEDENCE_AREA', 'SPEED_BUMP',
    'PUDO', 'WALKWAYS', 'CARPARK_AREA',
  ],
  'nuplan.common.actor_state.tracked_objects_types.TrackedObjectType': [
    'VEHICLE', 'PEDESTRIAN', 'BICYCLE', 'TRAFFIC_CONE', 'BARRIER', 'CZONE_SIGN', 'GENERIC_OBJECT', 'EGO',
  ],
};

/** Allowed functions (numpy, shapely, pathlib, a restricted getattr). */
export const ALLOWED_FUNCTIONS: readonly string[] = [
  'builtins.getattr',
  'numpy.dtype',
  'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer', 'numpy._core.numeric._frombuffer',
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.ndarray',
  'shapely.io.from_wkb', 'shapely.wkb.loads',
  'pathlib.PosixPath', 'pathlib.PurePosixPath', 'pathlib.WindowsPath', 'pathlib.PureWindowsPath',
];

const CLASS_SET = new Set(ALLOWED_CLASSES);

/** A class marker of an allowed enum (callable only through the restricted getattr). */
interface EnumClass {
  (): never;
  enumName: string;
}

type Callable = (...args: any[]) => unknown;

function classFactory(qualname: string): Callable {
  const dot = qualname.lastIndexOf('.');
  const module = qualname.slice(0, dot), name = qualname.slice(dot + 1);
  // called by NEWOBJ (Reflect.construct: the returned object is the instance) or REDUCE
  return function (...args: unknown[]) {
    return new PyObject(module, name, args);
  };
}

function toBytes(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new Error(`${what}: expected bytes`);
}

function resolveName(module: string, name: string): Callable | EnumClass {
  const q = `${module}.${name}`;
  if (CLASS_SET.has(q)) return classFactory(q);
  if (q in ALLOWED_ENUMS) {
    const marker = (() => {
      throw new Error(`enum ${q} can only be used through getattr`);
    }) as unknown as EnumClass;
    marker.enumName = q;
    return marker;
  }
  switch (q) {
    case 'builtins.getattr':
      return (obj: unknown, attr: unknown) => {
        const e = obj as Partial<EnumClass> | null;
        const en = typeof obj === 'function' ? e?.enumName : undefined;
        if (en === undefined || typeof attr !== 'string' || !ALLOWED_ENUMS[en]!.includes(attr)) {
          throw new DisallowedName(`builtins.getattr(${en ?? typeof obj}, ${JSON.stringify(attr)})`);
        }
        return new PyEnum(en, attr);
      };
    case 'numpy.dtype':
      return function (spec: unknown) {
        if (typeof spec !== 'string') throw new Error('numpy.dtype: expected a type string');
        return new NpDtype(spec);
      };
    case 'numpy.core.multiarray.scalar':
    case 'numpy._core.multiarray.scalar':
      return (dtype: unknown, raw: unknown) => decodeScalar(dtype, raw);
    case 'numpy.core.numeric._frombuffer':
    case 'numpy._core.numeric._frombuffer':
      return (buf: unknown, dtype: unknown, shape: unknown, order: unknown) => {
        if (!(dtype instanceof NpDtype)) throw new Error('numpy _frombuffer: expected a dtype');
        if (order !== 'C' && !(Array.isArray(shape) && shape.length <= 1)) throw new Error(`numpy _frombuffer: order ${String(order)} is not read`);
        return decodeArray(toBytes(buf, 'numpy _frombuffer'), dtype, shape);
      };
    case 'numpy.core.multiarray._reconstruct':
    case 'numpy._core.multiarray._reconstruct':
      return () => new NdArrayBuilder();
    case 'numpy.ndarray':
      return () => {
        throw new Error('numpy.ndarray is only read through _reconstruct');
      };
    case 'shapely.io.from_wkb':
    case 'shapely.wkb.loads':
      return (b: unknown) => parseWkb(toBytes(b, 'shapely from_wkb'));
    case 'pathlib.PosixPath':
    case 'pathlib.PurePosixPath':
    case 'pathlib.WindowsPath':
    case 'pathlib.PureWindowsPath':
      return (...parts: unknown[]) => {
        if (parts.some((p) => typeof p !== 'string')) throw new Error('pathlib path: expected string parts');
        const sep = name.includes('Windows') ? '\\' : '/';
        return (parts as string[]).reduce((a, p) => (a === '' ? p : a.endsWith(sep) ? a + p : a + sep + p), '');
      };
    default:
      throw new DisallowedName(q);
  }
}

class DisallowedName extends Error {
  constructor(readonly qualname: string) {
    super(qualname);
  }
}

/** Replaces `_reconstruct` builders by their arrays, in place (depth-first). */
function finishArrays(v: unknown, seen = new Set<unknown>()): unknown {
  if (v instanceof NdArrayBuilder) {
    if (!v.array) throw new Error('numpy.ndarray without state');
    return v.array;
  }
  if (v === null || typeof v !== 'object' || seen.has(v)) return v;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = finishArrays(v[i], seen);
  } else if (v instanceof Map) {
    for (const [k, x] of v) v.set(k, finishArrays(x, seen));
  } else if (v instanceof PyObject) {
    v.args = finishArrays(v.args, seen) as unknown[];
    v.state = finishArrays(v.state, seen);
  }
  return v;
}

export interface UnpickleContext {
  /** The file named in errors. */
  file: string;
  /** The scene token named in errors. */
  token?: string;
}

/** An `InputError` for a metric-cache file, naming the file and the token. */
export class NavsimCacheError extends InputError {
  readonly token: string | undefined;
  constructor(ctx: UnpickleContext, field: string, expected: string, found: unknown, cause?: unknown) {
    const details = { file: ctx.file, field: ctx.token !== undefined ? `token ${ctx.token}: ${field}` : field, expected, found, cause };
    super(InputError.format(details), details);
    this.name = 'NavsimCacheError';
    this.token = ctx.token;
  }
}

/**
 * Unpickles `bytes` with the allow-list. A name outside it, a malformed stream, or a value of the
 * wrong kind for an allowed function is a `NavsimCacheError`; nothing outside the allow-list is called.
 */
export function unpickleRestricted(bytes: Uint8Array, ctx: UnpickleContext): unknown {
  const parser = new Parser({
    nameResolver: { resolve: (module: string, name: string) => resolveName(String(module), String(name)) as any },
    persistentResolver: {
      resolve: (pid: unknown) => {
        throw new DisallowedName(`persistent id ${JSON.stringify(pid)}`);
      },
    },
    extensionResolver: {
      resolve: (code: number) => {
        throw new DisallowedName(`extension code ${code}`);
      },
    },
    unpicklingTypeOfDictionary: 'Map',
    unpicklingTypeOfSet: 'array',
  });
  try {
    return finishArrays(parser.parse(bytes));
  } catch (e) {
    if (e instanceof DisallowedName) {
      throw new NavsimCacheError(ctx, 'pickle', `only NAVSIM v1.1 metric-cache classes (${ALLOWED_CLASSES.length} classes, ${Object.keys(ALLOWED_ENUMS).length} enums, numpy / shapely / pathlib readers)`, e.qualname, e);
    }
    throw new NavsimCacheError(ctx, 'pickle', 'a well-formed pickle (protocol 2..5) of a NAVSIM metric cache', (e as Error)?.message ?? String(e), e);
  }
}

export type { WkbGeometry };
