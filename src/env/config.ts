/**
 * `MetaDriveEnv` configuration: the same key names and defaults as MetaDrive 0.4.3
 * (spec metadrive-env.md §1.1, §4.1, §4.3, §5.1). Keys are snake_case on purpose so configs
 * copied from MetaDrive scripts work unchanged. Unknown keys are errors that list the valid ones.
 */
import { ConfigError, type ErrorDetails } from '../core/errors.js';

export interface MapConfig {
  /** Lane width (m) of every lane on the map. */
  lane_width: number;
  /** Lanes per direction. */
  lane_num: number;
  /** Length (m) of the first block (10 m entrance + exit_length - 10). */
  exit_length: number;
}

export interface LidarConfig {
  /** Number of lidar rays, laser i at heading + i * 2 pi / num_lasers. */
  num_lasers: number;
  /** Range (m); observations are distance / range. */
  distance: number;
  /** Nearest vehicles described by 4 extra features each (MetaDrive default 0; its PPO expert used 4). */
  num_others: number;
  /** Std of Gaussian noise added to each ray fraction (then clipped to [0, 1]). */
  gaussian_noise: number;
  /** Probability that a ray reads 0 (dropout). */
  dropout_prob: number;
}

export interface EnvConfig {
  /** First scenario index. */
  start_seed: number;
  /** Number of scenarios: reset({seed}) accepts start_seed <= seed < start_seed + num_scenarios. */
  num_scenarios: number;
  /** Number of blocks after the first block, or an explicit block string such as "SCrRXTO". */
  map: number | string;
  map_config: MapConfig;
  /** Lane width ~ U[3.0, 4.5] per map when true. */
  random_lane_width: boolean;
  /** Lane count ~ randint{2, 3} per map when true. */
  random_lane_num: boolean;
  /** Traffic vehicles per 10 m spawn slot (trigger mode). */
  traffic_density: number;
  /** Only "trigger" is implemented (MetaDrive's default). */
  traffic_mode: 'trigger';
  /** Traffic drawn from a fresh stream each reset instead of the scenario seed. */
  random_traffic: boolean;
  /** Spawn lane ~ randint(lane_num) (seeded by the scenario) instead of lane 0. */
  random_spawn_lane_index: boolean;
  /** Env steps before truncation. */
  horizon: number;
  /** Physics sub-steps per env step. */
  decision_repeat: number;
  /** Physics step (s). */
  physics_world_step_size: number;
  /** Treat truncation at the horizon as termination (MetaDrive default false). */
  truncate_as_terminate: boolean;

  // Reward (spec §4.1).
  driving_reward: number;
  speed_reward: number;
  use_lateral_reward: boolean;
  success_reward: number;
  out_of_road_penalty: number;
  crash_vehicle_penalty: number;
  crash_object_penalty: number;
  crash_sidewalk_penalty: number;
  // Cost (spec §4.2).
  out_of_road_cost: number;
  crash_vehicle_cost: number;
  crash_object_cost: number;

  // Termination (spec §4.3).
  out_of_road_done: boolean;
  on_continuous_line_done: boolean;
  on_broken_line_done: boolean;
  crash_vehicle_done: boolean;
  crash_object_done: boolean;

  /** Ego vehicle type (MetaDrive's ego is "default"). */
  vehicle_model: 'default' | 's' | 'm' | 'l' | 'xl';
  /** Ego engine stops pushing above this speed (km/h). */
  max_speed_km_h: number;
  lidar: LidarConfig;
}

export const DEFAULT_MAP_CONFIG: Readonly<MapConfig> = Object.freeze({ lane_width: 3.5, lane_num: 3, exit_length: 50 });

export const DEFAULT_LIDAR_CONFIG: Readonly<LidarConfig> = Object.freeze({
  num_lasers: 240,
  distance: 50,
  num_others: 0,
  gaussian_noise: 0,
  dropout_prob: 0,
});

export const DEFAULT_ENV_CONFIG: Readonly<EnvConfig> = Object.freeze({
  start_seed: 0,
  num_scenarios: 1,
  map: 3,
  map_config: DEFAULT_MAP_CONFIG,
  random_lane_width: false,
  random_lane_num: false,
  traffic_density: 0.1,
  traffic_mode: 'trigger',
  random_traffic: false,
  random_spawn_lane_index: true,
  horizon: 1000,
  decision_repeat: 5,
  physics_world_step_size: 0.02,
  truncate_as_terminate: false,
  driving_reward: 1.0,
  speed_reward: 0.1,
  use_lateral_reward: false,
  success_reward: 10.0,
  out_of_road_penalty: 5.0,
  crash_vehicle_penalty: 5.0,
  crash_object_penalty: 5.0,
  crash_sidewalk_penalty: 0.0,
  out_of_road_cost: 1.0,
  crash_vehicle_cost: 1.0,
  crash_object_cost: 1.0,
  out_of_road_done: true,
  on_continuous_line_done: true,
  on_broken_line_done: false,
  crash_vehicle_done: true,
  crash_object_done: true,
  vehicle_model: 'default',
  max_speed_km_h: 80,
  lidar: DEFAULT_LIDAR_CONFIG,
} satisfies EnvConfig);

/** A partial config: nested groups may be partial too. */
export type EnvConfigInput = Partial<Omit<EnvConfig, 'map_config' | 'lidar'>> & {
  map_config?: Partial<MapConfig>;
  lidar?: Partial<LidarConfig>;
};

/** A bad env config: a `ConfigError` (`field` is the dotted key path, e.g. `map_config.lane_width`). */
export class EnvConfigError extends ConfigError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details);
    this.name = 'EnvConfigError';
  }
}

const VEHICLE_MODELS = ['default', 's', 'm', 'l', 'xl'] as const;

function checkKeys(obj: Record<string, unknown>, valid: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!valid.includes(k)) {
      throw new EnvConfigError(`${where}: unknown key '${k}'. Valid keys: ${valid.join(', ')}.`);
    }
  }
}

function expectType(where: string, key: string, value: unknown, type: 'number' | 'boolean' | 'string'): void {
  if (typeof value !== type) throw new EnvConfigError(`${where}.${key}: expected a ${type}, found ${JSON.stringify(value)}.`);
}

/**
 * Merges `input` over the defaults and validates every field. Throws `EnvConfigError` naming
 * the key, the expected and the found value.
 */
export function resolveEnvConfig(input: EnvConfigInput = {}): EnvConfig {
  if (input === null || typeof input !== 'object') throw new EnvConfigError(`env config: expected an object, found ${JSON.stringify(input)}.`);
  checkKeys(input as Record<string, unknown>, Object.keys(DEFAULT_ENV_CONFIG), 'env config');
  if (input.map_config !== undefined) checkKeys(input.map_config as Record<string, unknown>, Object.keys(DEFAULT_MAP_CONFIG), 'env config.map_config');
  if (input.lidar !== undefined) checkKeys(input.lidar as Record<string, unknown>, Object.keys(DEFAULT_LIDAR_CONFIG), 'env config.lidar');
  const cfg: EnvConfig = {
    ...DEFAULT_ENV_CONFIG,
    ...(input as Partial<EnvConfig>),
    map_config: { ...DEFAULT_MAP_CONFIG, ...(input.map_config ?? {}) },
    lidar: { ...DEFAULT_LIDAR_CONFIG, ...(input.lidar ?? {}) },
  };
  const w = 'env config';
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'map' || k === 'map_config' || k === 'lidar' || k === 'traffic_mode' || k === 'vehicle_model') continue;
    const def = (DEFAULT_ENV_CONFIG as unknown as Record<string, unknown>)[k];
    expectType(w, k, v, typeof def as 'number' | 'boolean');
    if (typeof v === 'number' && !Number.isFinite(v)) throw new EnvConfigError(`${w}.${k}: expected a finite number, found ${v}.`);
  }
  for (const [k, v] of Object.entries(cfg.map_config)) expectType(`${w}.map_config`, k, v, 'number');
  for (const [k, v] of Object.entries(cfg.lidar)) expectType(`${w}.lidar`, k, v, 'number');
  const intAtLeast = (where: string, key: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new EnvConfigError(`${where}.${key}: expected an integer >= ${min}, found ${v}.`);
  };
  intAtLeast(w, 'start_seed', cfg.start_seed, 0);
  intAtLeast(w, 'num_scenarios', cfg.num_scenarios, 1);
  intAtLeast(w, 'horizon', cfg.horizon, 1);
  intAtLeast(w, 'decision_repeat', cfg.decision_repeat, 1);
  if (!(cfg.physics_world_step_size > 0)) throw new EnvConfigError(`${w}.physics_world_step_size: expected > 0, found ${cfg.physics_world_step_size}.`);
  if (!(cfg.traffic_density >= 0 && cfg.traffic_density <= 1)) {
    throw new EnvConfigError(`${w}.traffic_density: expected a number in [0, 1], found ${cfg.traffic_density}.`);
  }
  if (typeof cfg.map === 'number') intAtLeast(w, 'map', cfg.map, 0);
  else if (typeof cfg.map === 'string') {
    if (!/^[CSrRXTO]*$/.test(cfg.map)) throw new EnvConfigError(`${w}.map: expected a block string of C S r R X T O, found ${JSON.stringify(cfg.map)}.`);
  } else throw new EnvConfigError(`${w}.map: expected a number of blocks or a block string, found ${JSON.stringify(cfg.map)}.`);
  if (cfg.traffic_mode !== 'trigger') throw new EnvConfigError(`${w}.traffic_mode: only "trigger" is implemented, found ${JSON.stringify(cfg.traffic_mode)}.`);
  if (!VEHICLE_MODELS.includes(cfg.vehicle_model)) {
    throw new EnvConfigError(`${w}.vehicle_model: expected one of ${VEHICLE_MODELS.join(', ')}, found ${JSON.stringify(cfg.vehicle_model)}.`);
  }
  intAtLeast(`${w}.map_config`, 'lane_num', cfg.map_config.lane_num, 1);
  if (cfg.map_config.lane_num > 5) throw new EnvConfigError(`${w}.map_config.lane_num: expected 1..5, found ${cfg.map_config.lane_num}.`);
  if (!(cfg.map_config.lane_width > 0)) throw new EnvConfigError(`${w}.map_config.lane_width: expected > 0, found ${cfg.map_config.lane_width}.`);
  if (!(cfg.map_config.exit_length > 10)) throw new EnvConfigError(`${w}.map_config.exit_length: expected > 10, found ${cfg.map_config.exit_length}.`);
  intAtLeast(`${w}.lidar`, 'num_lasers', cfg.lidar.num_lasers, 0);
  intAtLeast(`${w}.lidar`, 'num_others', cfg.lidar.num_others, 0);
  if (!(cfg.lidar.distance > 0)) throw new EnvConfigError(`${w}.lidar.distance: expected > 0, found ${cfg.lidar.distance}.`);
  if (!(cfg.lidar.gaussian_noise >= 0)) throw new EnvConfigError(`${w}.lidar.gaussian_noise: expected >= 0, found ${cfg.lidar.gaussian_noise}.`);
  if (!(cfg.lidar.dropout_prob >= 0 && cfg.lidar.dropout_prob <= 1)) {
    throw new EnvConfigError(`${w}.lidar.dropout_prob: expected a number in [0, 1], found ${cfg.lidar.dropout_prob}.`);
  }
  return cfg;
}

/** Observation length: 9 ego + 10 navigation + 4 per other vehicle + lasers (259 by default). */
export function observationSize(cfg: Pick<EnvConfig, 'lidar'>): number {
  return 9 + 10 + 4 * cfg.lidar.num_others + cfg.lidar.num_lasers;
}
