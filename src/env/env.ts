/**
 * `DrivingEnv`: a MetaDrive-style single-agent driving environment with a gymnasium-shaped API.
 *
 *   reset({seed}) -> {obs, info}
 *   step([steering, throttle_brake]) -> {obs, reward, terminated, truncated, info}
 *
 * One env step = `decision_repeat` (5) physics steps of 0.02 s. Reward, termination and the
 * observation are computed after the sub-steps; crash flags are sticky across them (spec §8).
 */
import { ConfigError, describeValue, InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Lane } from '../world/lane.js';
import { resolveEnvConfig, observationSize, type EnvConfig, type EnvConfigInput } from './config.js';
import type { SceneObject } from './idm.js';
import { BOX_STRIDE, castLidar } from './lidar.js';
import { Navigation, type NavigationCommand } from './navigation.js';
import { EGO_STATE_DIM, NAVI_DIM, writeEgoState, writeOthers } from './observation.js';
import { denseReward, episodeDone, lineContacts, stepCost, stepReward, type LineContacts, type StepEvents } from './reward.js';
import type { RoadMap } from './road-map.js';
import { TrafficManager } from './traffic.js';
import { Vehicle, boxesOverlap } from './vehicle.js';
import { worldMapSource } from './world-adapter.js';

/** Builds (or fetches) the map of scenario `seed`. */
export type MapSource = (seed: number, config: EnvConfig) => RoadMap;

export interface BoxSpace {
  readonly type: 'Box';
  readonly shape: readonly number[];
  readonly low: number;
  readonly high: number;
  readonly dtype: 'float32';
}

/** A type alias (not an interface) so that it is assignable to `Env`'s `Record<string, unknown>` info. */
export type StepInfo = {
  arrive_dest: boolean;
  out_of_road: boolean;
  crash_vehicle: boolean;
  crash_object: boolean;
  crash_building: boolean;
  crash_human: boolean;
  crash_sidewalk: boolean;
  crash: boolean;
  max_step: boolean;
  env_seed: number;
  /** Dense reward before terminal replacement. */
  step_reward: number;
  route_completion: number;
  cost: number;
  episode_reward: number;
  episode_length: number;
  /** Speed (km/h). */
  velocity: number;
  /** Applied (clipped) steering action. */
  steering: number;
  /** Applied (clipped) throttle/brake action. */
  acceleration: number;
  raw_action: [number, number];
  /** Traffic vehicles the ego passed this episode (left behind it on its route). */
  overtake_vehicle_num: number;
  /**
   * Fuel used this step and this episode (mL), MetaDrive's fit for 3rd gear:
   * 3.25 e^(0.01 v_kmh) L/100 km times the distance driven this step.
   */
  step_energy: number;
  episode_energy: number;
  /** Route command from the current and the next reference road (see Navigation.command). */
  navigation_command: NavigationCommand;
  navigation_forward: boolean;
  navigation_left: boolean;
  navigation_right: boolean;
};

export type ResetInfo = {
  env_seed: number;
  /** Σ lane-0 length of the route roads (m). */
  route_length: number;
  /** Traffic vehicles spawned this episode. */
  traffic_vehicles: number;
  spawn_lane: string;
};

export interface StepResult {
  obs: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export interface DrivingEnvOptions {
  /** Where maps come from; defaults to the world generator (`worldMapSource`). */
  mapSource?: MapSource;
  /** Seed of the stream used by reset() without a seed (and by random_traffic). */
  seed?: number;
  /**
   * Maps kept in memory (least recently used evicted; about 0.2 MB each). Default 64: a rollout
   * over any number of seeds stays within bounded memory; a map is rebuilt if needed again.
   */
  mapCacheSize?: number;
}

/** Scenario seeds are integers in [0, 2^32): the per-scenario streams use them as 32-bit keys. */
export const MAX_SEED_EXCLUSIVE = 2 ** 32;

/** Scenario streams are keyed off the scenario index (spec §8). */
const SPAWN_STREAM = 0x5a1e;
const TRAFFIC_STREAM = 0x7aff;
const EGO_STREAM = 0xe60;

export class DrivingEnv {
  readonly config: EnvConfig;
  readonly observationSpace: BoxSpace;
  readonly actionSpace: BoxSpace = Object.freeze({ type: 'Box', shape: [2], low: -1, high: 1, dtype: 'float32' });
  readonly obsSize: number;
  /**
   * Traffic density used by the next reset (starts at `config.traffic_density`); a curriculum
   * raises it between episodes without rebuilding the env. Must be in [0, 1].
   */
  get trafficDensity(): number {
    return this._trafficDensity ?? this.config.traffic_density;
  }
  set trafficDensity(d: number) {
    if (!(d >= 0 && d <= 1)) throw new RangeError(`DrivingEnv.trafficDensity: expected a number in [0, 1], found ${d}.`);
    this._trafficDensity = d;
  }
  private _trafficDensity: number | undefined;

  private readonly mapSource: MapSource;
  private readonly maps = new Map<number, RoadMap>();
  private readonly mapCacheSize: number;
  private readonly envRng: Rng;
  private readonly dt: number;

  // Episode state (valid after reset()).
  private _map: RoadMap | null = null;
  private _ego: Vehicle | null = null;
  private _nav: Navigation | null = null;
  private _traffic: TrafficManager | null = null;
  private egoObj: SceneObject = { vehicle: null as unknown as Vehicle, lane: null };
  private objects: SceneObject[] = [];
  private seed = -1;
  private episodeLength = 0;
  private episodeReward = 0;
  private episodeEnergy = 0;
  private crashedVehicle = false;
  private readonly boxes = new Float64Array(256 * BOX_STRIDE);
  private boxVehicles: Vehicle[] = [];
  private numBoxes = 0;
  private readonly hitMask = new Uint8Array(256);
  private readonly corners = new Float64Array(8);
  private readonly contacts: LineContacts = { continuous: false, broken: false };
  private readonly noiseRng: Rng;
  private passed = new Set<number>();
  private readonly nearby: Vehicle[] = [];
  /** Lidar fractions of the last observation (for rendering). */
  readonly lastLidar: Float32Array;

  constructor(config: EnvConfigInput = {}, options: DrivingEnvOptions = {}) {
    this.config = resolveEnvConfig(config);
    this.obsSize = observationSize(this.config);
    this.observationSpace = Object.freeze({ type: 'Box', shape: [this.obsSize], low: 0, high: 1, dtype: 'float32' });
    this.mapSource = options.mapSource ?? worldMapSource;
    this.mapCacheSize = options.mapCacheSize ?? 64;
    if (!Number.isInteger(this.mapCacheSize) || this.mapCacheSize < 1) {
      throw new ConfigError(`DrivingEnv: mapCacheSize: expected an integer >= 1, found ${this.mapCacheSize}.`, { field: 'mapCacheSize', expected: 'an integer >= 1', found: options.mapCacheSize });
    }
    this.envRng = new Rng(options.seed ?? 0);
    this.noiseRng = this.envRng.split();
    this.dt = this.config.physics_world_step_size;
    this.lastLidar = new Float32Array(this.config.lidar.num_lasers);
  }

  get map(): RoadMap {
    return this.need(this._map);
  }
  get ego(): Vehicle {
    return this.need(this._ego);
  }
  get navigation(): Navigation {
    return this.need(this._nav);
  }
  get traffic(): TrafficManager {
    return this.need(this._traffic);
  }
  get currentSeed(): number {
    return this.seed;
  }
  get stepsInEpisode(): number {
    return this.episodeLength;
  }
  private need<T>(x: T | null): T {
    if (x === null) throw new Error('DrivingEnv: call reset() before step() or reading episode state.');
    return x;
  }

  /** The map of a scenario (cached, as MetaDrive's store_map, up to `mapCacheSize` maps, LRU). */
  mapFor(seed: number): RoadMap {
    let m = this.maps.get(seed);
    if (m) {
      this.maps.delete(seed); // most recently used last
    } else {
      m = this.mapSource(seed, this.config);
      while (this.maps.size >= this.mapCacheSize) this.maps.delete(this.maps.keys().next().value!);
    }
    this.maps.set(seed, m);
    return m;
  }

  /** Number of maps held in the cache now. */
  get cachedMaps(): number {
    return this.maps.size;
  }

  reset(opts: { seed?: number } = {}): { obs: Float32Array; info: ResetInfo } {
    const obs = new Float32Array(this.obsSize);
    const info = this.resetInto(obs, 0, opts);
    return { obs, info };
  }

  /** reset() writing the observation into `out` at `offset` (used by VectorEnv). */
  resetInto(out: Float32Array, offset: number, opts: { seed?: number } = {}): ResetInfo {
    const cfg = this.config;
    const lo = cfg.start_seed, hi = cfg.start_seed + cfg.num_scenarios;
    let seed: number;
    if (opts.seed === undefined) seed = this.envRng.int(lo, hi);
    else {
      seed = opts.seed;
      if (!Number.isInteger(seed) || seed < 0 || seed >= MAX_SEED_EXCLUSIVE) {
        // 2^32 would alias seed 0 in the 32-bit scenario streams.
        throw new InputError(`DrivingEnv.reset: seed ${seed} is not an integer in [0, 2^32).`, { field: 'seed', expected: 'an integer in [0, 2^32)', found: seed });
      }
      if (seed < lo || seed >= hi) {
        throw new InputError(`DrivingEnv.reset: seed ${seed} is outside [start_seed, start_seed + num_scenarios) = [${lo}, ${hi}).`, { field: 'seed', expected: `an integer in [${lo}, ${hi})`, found: seed });
      }
    }
    const map = this.mapFor(seed);
    this.seed = seed;
    this._map = map;
    const spawnRng = new Rng(seed ^ SPAWN_STREAM);
    const spawnRoad = map.routeRoads[0]!;
    const laneIdx = cfg.random_spawn_lane_index ? spawnRng.int(0, spawnRoad.lanes.length) : 0;
    const spawnLane = spawnRoad.lanes[laneIdx]!;
    const ego = new Vehicle(cfg.vehicle_model, new Rng(seed ^ EGO_STREAM), cfg.max_speed_km_h, 0);
    const p = spawnLane.position(5, 0);
    ego.place(p[0]!, p[1]!, spawnLane.headingAt(5), 0);
    this._ego = ego;
    this._nav = new Navigation(map, spawnLane);
    this._nav.update(ego.x, ego.y, ego.x, ego.y);
    const trafficRng = cfg.random_traffic ? this.envRng.split() : new Rng(seed ^ TRAFFIC_STREAM);
    this._traffic = new TrafficManager(map, this.trafficDensity, trafficRng, cfg.max_speed_km_h);
    this.egoObj = { vehicle: ego, lane: this._nav.currentLane };
    this.episodeLength = 0;
    this.episodeReward = 0;
    this.episodeEnergy = 0;
    this.crashedVehicle = false;
    this.passed = new Set();
    this.writeObservation(out, offset);
    return {
      env_seed: seed,
      route_length: map.totalLength,
      traffic_vehicles: this._traffic.all.length,
      spawn_lane: `${spawnLane.id.from}->${spawnLane.id.to}#${spawnLane.id.index}`,
    };
  }

  step(action: ArrayLike<number>): StepResult {
    const obs = new Float32Array(this.obsSize);
    const r = this.stepInto(action, obs, 0);
    return { obs, reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: r.info };
  }

  /** step() writing the observation into `out` at `offset`. */
  stepInto(action: ArrayLike<number>, out: Float32Array, offset: number): Omit<StepResult, 'obs'> {
    const cfg = this.config;
    const ego = this.ego;
    const nav = this.navigation;
    const traffic = this.traffic;
    const dt = this.dt;
    if (action.length !== 2) throw new InputError(`DrivingEnv.step: action must have 2 values [steering, throttle_brake], found ${action.length}.`, { field: 'action', expected: '2 values', found: action.length });
    const raw0 = action[0], raw1 = action[1];
    // A string, null or NaN action used to be taken as 0 (Number(x)): an error names the index.
    if (typeof raw0 !== 'number' || !Number.isFinite(raw0)) throw badAction(0, raw0);
    if (typeof raw1 !== 'number' || !Number.isFinite(raw1)) throw badAction(1, raw1);

    // 1. Actions: ego, then traffic IDM (which sees the ego on its lane of the last step).
    ego.applyAction(raw0, raw1, dt);
    this.egoObj.lane = nav.currentLane;
    const objects = this.objects;
    objects[0] = this.egoObj;
    let no = 1;
    for (const t of traffic.alive) objects[no++] = t;
    if (objects.length !== no) objects.length = no;
    traffic.beforeStep(this.map.roadOf(nav.currentLane), objects, dt);

    // 2. Physics sub-steps; vehicle contacts at any sub-step are sticky.
    let crashVehicle = false;
    this.collectNearby();
    for (let k = 0; k < cfg.decision_repeat; k++) {
      ego.physicsStep(dt);
      traffic.physicsStep(dt);
      if (!crashVehicle && this.egoTouchesTraffic()) crashVehicle = true;
    }
    traffic.afterStep();

    // 3. Localisation, navigation, events.
    nav.update(ego.x, ego.y, ego.lastX, ego.lastY);
    this.egoObj.lane = nav.currentLane;
    this.episodeLength++;
    this.crashedVehicle = this.crashedVehicle || crashVehicle;
    const events: StepEvents = {
      arriveDest: this.arrived(),
      outOfRoad: this.isOutOfRoad(),
      crashVehicle,
      crashObject: false,
      crashSidewalk: false,
      maxStep: this.episodeLength >= cfg.horizon,
    };

    // 4. Reward (dense, replaced by terminal events) and cost.
    const refLanes = nav.currentRefLanes;
    const refLane: Lane = refLanes.includes(nav.currentLane) ? nav.currentLane : refLanes[0]!;
    const now = refLane.localCoordinates(ego.x, ego.y);
    const last = refLane.localCoordinates(ego.lastX, ego.lastY);
    const dense = denseReward(cfg, now.long - last.long, now.lat, refLane.width, ego.speedKmh, ego.maxSpeedKmh);
    const reward = stepReward(cfg, dense, events);
    const cost = stepCost(cfg, events);
    const { terminated, truncated } = episodeDone(cfg, events);
    this.episodeReward += reward;
    this.countOvertakes();

    // MetaDrive BaseVehicle._update_energy_consumption (mL).
    const dx = ego.x - ego.lastX, dy = ego.y - ego.lastY;
    const stepEnergy = ((3.25 * Math.exp(0.01 * ego.speedKmh) * (Math.sqrt(dx * dx + dy * dy) / 1000)) / 100) * 1000;
    this.episodeEnergy += stepEnergy;
    const command = nav.command(ego.x, ego.y);

    this.writeObservation(out, offset);
    const info: StepInfo = {
      arrive_dest: events.arriveDest,
      out_of_road: events.outOfRoad,
      crash_vehicle: events.crashVehicle,
      crash_object: false,
      crash_building: false,
      crash_human: false,
      crash_sidewalk: false,
      crash: events.crashVehicle,
      max_step: events.maxStep,
      env_seed: this.seed,
      step_reward: dense,
      route_completion: nav.routeCompletion,
      cost,
      episode_reward: this.episodeReward,
      episode_length: this.episodeLength,
      velocity: ego.speedKmh,
      steering: ego.steerAction,
      acceleration: ego.throttleAction,
      raw_action: [raw0, raw1],
      overtake_vehicle_num: this.passed.size,
      step_energy: stepEnergy,
      episode_energy: this.episodeEnergy,
      navigation_command: command,
      navigation_forward: command === 'forward',
      navigation_left: command === 'left',
      navigation_right: command === 'right',
    };
    return { reward, terminated, truncated, info };
  }

  /** MetaDrive _is_arrive_destination (spec §4.3). */
  private arrived(): boolean {
    const nav = this.navigation;
    const lane = nav.finalLane;
    const { long, lat } = lane.localCoordinates(this.ego.x, this.ego.y);
    const laneNum = nav.currentRefLanes.length;
    const w = nav.currentRefLanes[0]!.width;
    return lane.length - 5 < long && long < lane.length + 5 && w / 2 >= lat && lat >= (0.5 - laneNum) * w;
  }

  /** Centre on no lane surface, or (on_continuous_line_done) the box on a solid line. */
  isOutOfRoad(): boolean {
    const ego = this.ego;
    if (!this.navigation.onLane) return true;
    const cfg = this.config;
    if (!cfg.on_continuous_line_done && !cfg.on_broken_line_done) return false;
    ego.corners(this.corners);
    const c = lineContacts(this.map.lanesNear(ego.x, ego.y), this.corners, this.contacts);
    return (cfg.on_continuous_line_done && c.continuous) || (cfg.on_broken_line_done && c.broken);
  }

  /** Traffic that can touch the ego within one env step (both move < 4 m in 0.1 s). */
  private collectNearby(): void {
    const e = this.ego;
    const near = this.nearby;
    let n = 0;
    for (const t of this.traffic.alive) {
      const dx = t.vehicle.x - e.x, dy = t.vehicle.y - e.y;
      if (dx * dx + dy * dy < 20 * 20) near[n++] = t.vehicle;
    }
    if (near.length !== n) near.length = n;
  }

  private egoTouchesTraffic(): boolean {
    const e = this.ego;
    for (const v of this.nearby) {
      if (boxesOverlap(e.x, e.y, e.heading, e.length, e.width, v.x, v.y, v.heading, v.length, v.width)) return true;
    }
    return false;
  }

  /** Counts traffic vehicles that were ahead of the ego and are now behind it. */
  private countOvertakes(): void {
    const e = this.ego;
    const c = Math.cos(e.heading), s = Math.sin(e.heading);
    const cl = Math.cos(e.lastHeading), sl = Math.sin(e.lastHeading);
    for (const t of this.traffic.alive) {
      if (!t.active || this.passed.has(t.vehicle.id)) continue;
      const v = t.vehicle;
      const dx = v.x - e.x, dy = v.y - e.y;
      if (dx * dx + dy * dy > 400) continue;
      const fwdNow = dx * c + dy * s;
      const fwdLast = (v.lastX - e.lastX) * cl + (v.lastY - e.lastY) * sl;
      if (fwdLast > 0 && fwdNow < 0 && Math.abs(-dx * s + dy * c) < 10) this.passed.add(v.id);
    }
  }

  /** Collects the boxes of traffic vehicles that can reach the lidar range. */
  private collectBoxes(): void {
    const e = this.ego;
    const range = this.config.lidar.distance + 4;
    let n = 0;
    const seen = this.boxVehicles;
    for (const t of this.traffic.alive) {
      const v = t.vehicle;
      const dx = v.x - e.x, dy = v.y - e.y;
      if (dx * dx + dy * dy > range * range) continue;
      if (n * BOX_STRIDE >= this.boxes.length) break;
      const o = n * BOX_STRIDE;
      this.boxes[o] = v.x;
      this.boxes[o + 1] = v.y;
      this.boxes[o + 2] = v.heading;
      this.boxes[o + 3] = v.length;
      this.boxes[o + 4] = v.width;
      seen[n] = v;
      n++;
    }
    if (seen.length !== n) seen.length = n;
    this.numBoxes = n;
  }

  /** Writes the current observation (spec §3) into out[offset .. offset + obsSize). */
  writeObservation(out: Float32Array, offset = 0): void {
    const cfg = this.config;
    const ego = this.ego;
    const nav = this.navigation;
    writeEgoState(ego, nav, nav.currentLane, out, offset);
    nav.writeFeatures(ego.x, ego.y, ego.heading, out, offset + EGO_STATE_DIM);
    this.collectBoxes();
    const lidarOff = offset + EGO_STATE_DIM + NAVI_DIM + 4 * cfg.lidar.num_others;
    const wantOthers = cfg.lidar.num_others > 0;
    // Cast into lastLidar (kept for rendering), then copy into the observation.
    const lidar = this.lastLidar;
    castLidar(ego.x, ego.y, ego.heading, cfg.lidar.num_lasers, cfg.lidar.distance, this.boxes, this.numBoxes, lidar, 0, wantOthers ? this.hitMask : undefined);
    if (wantOthers) writeOthers(ego, this.boxVehicles, this.boxes, cfg.lidar, this.hitMask, out, offset + EGO_STATE_DIM + NAVI_DIM);
    const { gaussian_noise: noise, dropout_prob: drop } = cfg.lidar;
    if (noise > 0 || drop > 0) {
      for (let i = 0; i < cfg.lidar.num_lasers; i++) {
        let v = lidar[i]!;
        if (noise > 0) v = Math.min(1, Math.max(0, v + this.noiseRng.normal(0, noise)));
        if (drop > 0 && this.noiseRng.uniform() < drop) v = 0;
        lidar[i] = v;
      }
    }
    out.set(lidar, lidarOff);
  }

  /** Traffic as scene objects plus the ego (for policies that use privileged state). */
  sceneObjects(): readonly SceneObject[] {
    this.egoObj.lane = this.navigation.currentLane;
    const out: SceneObject[] = [this.egoObj];
    for (const t of this.traffic.alive) out.push(t);
    return out;
  }
}

function badAction(index: number, found: unknown): InputError {
  const name = index === 0 ? 'steering' : 'throttle_brake';
  return new InputError(`DrivingEnv.step: action[${index}] (${name}): expected a finite number, found ${describeValue(found)}.`, { field: `action[${index}]`, expected: 'a finite number', found });
}
