/**
 * NAVSIM scene, metric-cache and score types shared by the PDM scorer, PDM-Closed and the CLI.
 *
 * Stable API contract (other modules build on it):
 * - `PDMScene`: a parsed, validated single scene (`pdm_ref_scene/v1` or `/v2`), see `scene-json.ts`.
 * - State arrays are Float64Array rows of `STATE_SIZE` = 11 values in `StateIndex` order
 *   (rear axle, global frame; velocity/acceleration in the ego frame), row-major `[step][11]`.
 * - `NavsimInputError` is the one error type for bad input; it names the scene, field, expected
 *   and found value.
 */
import { InputError, type ErrorDetails } from '../core/errors.js';

/** `navsim.planning.simulation.planner.pdm_planner.utils.pdm_enums.StateIndex`. */
export const StateIndex = {
  X: 0,
  Y: 1,
  HEADING: 2,
  VELOCITY_X: 3,
  VELOCITY_Y: 4,
  ACCELERATION_X: 5,
  ACCELERATION_Y: 6,
  STEERING_ANGLE: 7,
  STEERING_RATE: 8,
  ANGULAR_VELOCITY: 9,
  ANGULAR_ACCELERATION: 10,
} as const;
export const STATE_SIZE = 11;
export const STATE_FIELDS = [
  'x', 'y', 'heading', 'velocity_x', 'velocity_y', 'acceleration_x', 'acceleration_y',
  'steering_angle', 'steering_rate', 'angular_velocity', 'angular_acceleration',
] as const;

/** nuPlan `get_pacifica_parameters()`, derived fields evaluated as nuPlan does. */
export const PACIFICA = (() => {
  const width = 1.1485 * 2.0;
  const frontLength = 4.049;
  const rearLength = 1.127;
  const length = frontLength + rearLength;
  const halfLength = length / 2.0;
  return {
    width,
    halfWidth: width / 2.0,
    frontLength,
    rearLength,
    length,
    halfLength,
    rearAxleToCenter: halfLength - rearLength,
    wheelBase: 3.089,
    cogPositionFromRearAxle: 1.67,
    height: 1.777,
  } as const;
})();

/** Number of 10 Hz proposal steps after t0 (4 s) and states per simulated proposal (41). */
export const NUM_POSES = 40;
export const NUM_STATES = NUM_POSES + 1;

/**
 * The one error type for invalid NAVSIM input: an `InputError` whose `file` is the scene (name or path) and `field` the
 * JSON path or column; `scene` is kept as an alias of `file`.
 */
export class NavsimInputError extends InputError {
  readonly scene: string | undefined;

  constructor(message: string, scene?: string, field?: string, details: Pick<ErrorDetails, 'expected' | 'found' | 'cause'> = {}) {
    super(message, { ...details, file: scene, field });
    this.name = 'NavsimInputError';
    this.scene = scene;
  }
}

export type PDMVersion = 'v1.1' | 'v2.2';
export type SceneSchema = 'pdm_ref_scene/v1' | 'pdm_ref_scene/v2';

/** Tracked object types of the golden scene format (nuPlan `TrackedObjectType`, lower case). */
export type AgentType =
  | 'vehicle' | 'pedestrian' | 'bicycle' | 'static_object' | 'generic_object'
  | 'traffic_cone' | 'barrier' | 'czone_sign' | 'ego';
export const AGENT_TYPES_DYNAMIC: ReadonlySet<string> = new Set(['vehicle', 'pedestrian', 'bicycle', 'ego']);

export type MapAreaType = 'ROADBLOCK' | 'INTERSECTION' | 'CARPARK_AREA' | 'DRIVABLE_AREA';
export type MapLaneType = 'LANE' | 'LANE_CONNECTOR';

/** Rear-axle ego state at t0 (global pose, ego-frame velocity / acceleration). */
export interface EgoState {
  x: number;
  y: number;
  heading: number;
  vx: number;
  vy: number;
  ax: number;
  ay: number;
  steeringAngle: number;
}

/** A logged ego state of the history (v2), with its integer µs timestamp. */
export interface HistoryState extends Omit<EgoState, 'steeringAngle'> {
  timestampUs: number;
}

/** A planned trajectory: poses (x, y, heading) at `intervalS` spacing from t0 + interval. */
export interface PoseTrajectory {
  frame: 'ego' | 'global';
  /** Flat [x, y, heading] * n. */
  poses: Float64Array;
  /** Pose spacing in seconds (NAVSIM default 0.5). */
  intervalS: number;
}

export interface AgentState {
  x: number;
  y: number;
  heading: number;
  vx: number;
  vy: number;
}

export interface AgentTrack {
  id: string;
  type: AgentType;
  length: number;
  width: number;
  height: number;
  /** `states[i]` is frame `startFrame + i` (10 Hz from t0); null = absent in that frame. */
  startFrame: number;
  states: (AgentState | null)[];
}

export interface MapArea {
  id: string;
  type: MapAreaType;
  /** Flat [x, y] * n shell. */
  polygon: Float64Array;
  holes: Float64Array[];
}

export interface MapLane {
  id: string;
  type: MapLaneType;
  roadblockId: string;
  polygon: Float64Array;
  holes: Float64Array[];
  /** Flat [x, y, heading] * n. */
  centerline: Float64Array;
  speedLimitMps: number | null;
  onRoute: boolean;
}

export interface SceneMap {
  areas: MapArea[];
  lanes: MapLane[];
}

/** The previous frame of a v2 scene, for extended comfort (one of three forms). */
export type PreviousFrame =
  | { form: 'scene'; scene: PDMScene }
  | { form: 'plan'; timestampUs: number; ego: EgoState; trajectory: PoseTrajectory }
  | { form: 'states'; timestampUs: number; simulatedStates: Float64Array };

/** A parsed single scene (`pdm_ref_scene/v1` / `/v2`). */
export interface PDMScene {
  schema: SceneSchema;
  name: string;
  /** Integer µs of the current frame. */
  timestampUs: number;
  ego: EgoState;
  /** The scene's own (evaluated) trajectory; optional for a scene used only as a metric cache. */
  trajectory: PoseTrajectory | null;
  agents: AgentTrack[];
  map: SceneMap;
  /** PDM-Closed centerline (also the EP progress path and the LK reference): flat [x, y, h] * n. */
  pdmClosedCenterline: Float64Array;
  observationMode: 'direct_10hz' | 'navsim_2hz';
  /** Red lights (lane-connector ids) at every 2 Hz frame. */
  redLightLaneIds: string[];
  /** PDM-Closed trajectory pinned by the scene: flat 11 * n states at 0.1 s (n >= 41), or null. */
  pdmClosedTrajectory: Float64Array | null;
  // ---- v2 additions ----
  logName: string | null;
  sceneType: 'original' | 'synthetic';
  history: HistoryState[] | null;
  humanTrajectory: PoseTrajectory | null;
  /** Red lane-connector ids per 2 Hz frame (frames 0..8), or null (then `redLightLaneIds` holds). */
  trafficLightFrames2hz: string[][] | null;
  previousFrame: PreviousFrame | null;
}

/** Weights of the weighted metrics (defaults per version in `defaultWeights`). */
export interface PDMWeights {
  progress: number;
  ttc: number;
  /** v1.1 comfort. */
  comfort: number;
  /** v1.1 driving direction (0 in PDMS). */
  drivingDirection: number;
  /** v2.2 lane keeping. */
  laneKeeping: number;
  /** v2.2 history comfort. */
  historyComfort: number;
  /** v2.2 two-frame extended comfort (dropped from the denominator when EC is NaN). */
  extendedComfort: number;
}

/** The six comfort bounds in NAVSIM order. */
export interface ComfortDetail {
  lon_acceleration: boolean;
  lat_acceleration: boolean;
  jerk: boolean;
  lon_jerk: boolean;
  yaw_accel: boolean;
  yaw_rate: boolean;
}

/** Per-step ego-area flags of one proposal (41 entries each, 0/1). */
export interface EgoAreas {
  multipleLanes: Uint8Array;
  nonDrivableArea: Uint8Array;
  oncomingTraffic: Uint8Array;
  centerInIntersection: Uint8Array;
}

/** Every sub-metric and the score of one proposal. Unused metrics of a version are NaN. */
export interface ProposalScores {
  noAtFaultCollisions: number;
  drivableAreaCompliance: number;
  drivingDirectionCompliance: number;
  trafficLightCompliance: number;
  egoProgress: number;
  timeToCollisionWithinBound: number;
  comfort: number;
  laneKeeping: number;
  historyComfort: number;
  extendedComfort: number;
  score: number;
  /** Product of the multiplicative metrics (after the human filter in v2.2). */
  multiplicativeProduct: number;
  /** Raw centerline progress of the box centre, clipped at 0 (m). */
  progressRaw: number;
  /** First 10 Hz step of an at-fault collision / TTC violation, or null. */
  collisionTimeIdx: number | null;
  ttcTimeIdx: number | null;
  /** v1.1 comfort bounds on the simulated states; v2.2 the history-comfort bounds. */
  comfortDetail: ComfortDetail;
  /** v2.2: the scorer's own score before the human filter and without EC (/14). */
  scorerScore: number;
  /** v2.2: metrics forgiven by the human filter (golden key names). */
  forgivenMetrics: string[];
  /** Simulated 41 x 11 states (only with `returnStates`). */
  states?: Float64Array;
  /** Interpolated 41 x 11 reference states (only with `returnStates`). */
  referenceStates?: Float64Array;
  /** Ego areas (only with `returnStates`). */
  egoAreas?: EgoAreas;
  /** LK lateral deviation per step (only with `returnStates`, v2.2). */
  laneKeepingDeviation?: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMScene`. */
export type PdmScene = PDMScene;
/** @deprecated Renamed `PDMVersion`. */
export type PdmVersion = PDMVersion;
/** @deprecated Renamed `PDMWeights`. */
export type PdmWeights = PDMWeights;
