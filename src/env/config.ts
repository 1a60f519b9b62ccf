/**
 * `MetaDriveEnv` configuration: the same key names and defaults as MetaDrive 0.4.3
 * (spec metadrive-env.md §1.1, §4.1, §4.3, §5.1). Keys are snake_case on purpose so configs
 * copied from MetaDrive scripts work unchanged. Unknown keys are errors that list the valid ones.
 */
import { defineConfig, UnknownKeyError, type ConfigDef } from '../core/config.js';
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

/**
 * Range checks beyond MetaDrive's (which has none) stop configs that would make the simulation
 * produce NaN or nonsense: `lane_width` in (0, 20] m, `max_speed_km_h` in (0, 400] km/h,
 * `physics_world_step_size` in (0, 1] s, `lane_num` 1..5, `exit_length` > 10 m (the entrance).
 */
export const MAP_CONFIG: ConfigDef<MapConfig> = defineConfig<MapConfig>(
  'MapConfig',
  {
    lane_width: { default: 3.5, type: 'number', gt: 0, max: 20, doc: 'Lane width (m) of every lane on the map.' },
    lane_num: { default: 3, type: 'integer', min: 1, max: 5, doc: 'Lanes per direction.' },
    exit_length: { default: 50, type: 'number', gt: 10, doc: 'Length (m) of the first block (10 m entrance + exit_length - 10).' },
  },
  { label: 'env config.map_config' },
);

export const LIDAR_CONFIG: ConfigDef<LidarConfig> = defineConfig<LidarConfig>(
  'LidarConfig',
  {
    num_lasers: { default: 240, type: 'integer', min: 0, doc: 'Number of lidar rays, laser i at heading + i * 2 pi / num_lasers.' },
    distance: { default: 50, type: 'number', gt: 0, doc: 'Range (m); observations are distance / range.' },
    num_others: { default: 0, type: 'integer', min: 0, doc: 'Nearest vehicles described by 4 extra features each (MetaDrive default 0; its PPO expert used 4).' },
    gaussian_noise: { default: 0, type: 'number', min: 0, doc: 'Std of Gaussian noise added to each ray fraction (then clipped to [0, 1]).' },
    dropout_prob: { default: 0, type: 'number', min: 0, max: 1, doc: 'Probability that a ray reads 0 (dropout).' },
  },
  { label: 'env config.lidar' },
);

const VEHICLE_MODELS = ['default', 's', 'm', 'l', 'xl'] as const;

const checkMap = (v: number | string): string | undefined => {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? undefined : 'an integer >= 0 (number of blocks) or a block string';
  if (typeof v === 'string') return /^[CSrRXTO]*$/.test(v) ? undefined : 'a block string of C S r R X T O';
  return 'a number of blocks or a block string';
};

/** `MetaDriveEnv`'s config, declared once (defaults, docs, checks); `resolveEnvConfig` resolves it. */
export const ENV_CONFIG: ConfigDef<EnvConfig> = defineConfig<EnvConfig>(
  'EnvConfig',
  {
    start_seed: { default: 0, type: 'integer', min: 0, doc: 'First scenario index.' },
    num_scenarios: { default: 1, type: 'integer', min: 1, doc: 'Number of scenarios: reset({seed}) accepts start_seed <= seed < start_seed + num_scenarios.' },
    map: { default: 3, type: 'any', check: checkMap, doc: 'Number of blocks after the first block, or an explicit block string such as "SCrRXTO".' },
    map_config: { default: MAP_CONFIG.defaults, type: 'object', nested: MAP_CONFIG, doc: 'Map geometry.' },
    random_lane_width: { default: false, type: 'boolean', doc: 'Lane width ~ U[3.0, 4.5] per map when true.' },
    random_lane_num: { default: false, type: 'boolean', doc: 'Lane count ~ randint{2, 3} per map when true.' },
    traffic_density: { default: 0.1, type: 'number', min: 0, max: 1, doc: 'Traffic vehicles per 10 m spawn slot (trigger mode).' },
    traffic_mode: { default: 'trigger', type: 'enum', values: ['trigger'], doc: 'Only "trigger" is implemented (MetaDrive\'s default).' },
    random_traffic: { default: false, type: 'boolean', doc: 'Traffic drawn from a fresh stream each reset instead of the scenario seed.' },
    random_spawn_lane_index: { default: true, type: 'boolean', doc: 'Spawn lane ~ randint(lane_num) (seeded by the scenario) instead of lane 0.' },
    horizon: { default: 1000, type: 'integer', min: 1, doc: 'Env steps before truncation.' },
    decision_repeat: { default: 5, type: 'integer', min: 1, doc: 'Physics sub-steps per env step.' },
    physics_world_step_size: { default: 0.02, type: 'number', gt: 0, max: 1, doc: 'Physics step (s).' },
    truncate_as_terminate: { default: false, type: 'boolean', doc: 'Treat truncation at the horizon as termination (MetaDrive default false).' },
    driving_reward: { default: 1.0, type: 'number', doc: 'Dense reward per metre of longitudinal progress on the lane (× the lateral factor) (spec §4.1).' },
    speed_reward: { default: 0.1, type: 'number', doc: 'Dense reward × speed / max_speed_km_h per step (spec §4.1).' },
    use_lateral_reward: { default: false, type: 'boolean', doc: 'Scale the driving reward by clip(1 − 2·|lateral| / lane width, 0, 1) (spec §4.1).' },
    success_reward: { default: 10.0, type: 'number', doc: 'Step reward on arrival at the destination (spec §4.1).' },
    out_of_road_penalty: { default: 5.0, type: 'number', doc: 'Step reward is −this when the ego leaves the road (spec §4.1).' },
    crash_vehicle_penalty: { default: 5.0, type: 'number', doc: 'Step reward is −this on a crash with a vehicle (spec §4.1).' },
    crash_object_penalty: { default: 5.0, type: 'number', doc: 'Step reward is −this on a crash with an object (spec §4.1).' },
    crash_sidewalk_penalty: { default: 0.0, type: 'number', doc: 'Step reward is −this on hitting the sidewalk (spec §4.1).' },
    out_of_road_cost: { default: 1.0, type: 'number', doc: 'Safety cost of leaving the road (spec §4.2).' },
    crash_vehicle_cost: { default: 1.0, type: 'number', doc: 'Safety cost of a crash with a vehicle (spec §4.2).' },
    crash_object_cost: { default: 1.0, type: 'number', doc: 'Safety cost of a crash with an object (spec §4.2).' },
    out_of_road_done: { default: true, type: 'boolean', doc: 'Leaving the road ends the episode (spec §4.3).' },
    on_continuous_line_done: { default: true, type: 'boolean', doc: 'Touching a continuous line ends the episode (spec §4.3).' },
    on_broken_line_done: { default: false, type: 'boolean', doc: 'Touching a broken line ends the episode (spec §4.3).' },
    crash_vehicle_done: { default: true, type: 'boolean', doc: 'A crash with a vehicle ends the episode (spec §4.3).' },
    crash_object_done: { default: true, type: 'boolean', doc: 'A crash with an object ends the episode (spec §4.3).' },
    vehicle_model: { default: 'default', type: 'enum', values: VEHICLE_MODELS, doc: 'Ego vehicle type (MetaDrive\'s ego is "default").' },
    max_speed_km_h: { default: 80, type: 'number', gt: 0, max: 400, doc: 'Ego engine stops pushing above this speed (km/h).' },
    lidar: { default: LIDAR_CONFIG.defaults, type: 'object', nested: LIDAR_CONFIG, doc: 'Lidar observation.' },
  },
  { label: 'env config' },
);

export const DEFAULT_MAP_CONFIG: Readonly<MapConfig> = MAP_CONFIG.defaults;

export const DEFAULT_LIDAR_CONFIG: Readonly<LidarConfig> = LIDAR_CONFIG.defaults;

export const DEFAULT_ENV_CONFIG: Readonly<EnvConfig> = ENV_CONFIG.defaults;

/** A partial config: nested groups may be partial too. */
export type EnvConfigInput = Partial<Omit<EnvConfig, 'map_config' | 'lidar'>> & {
  map_config?: Partial<MapConfig>;
  lidar?: Partial<LidarConfig>;
};

/**
 * A bad env config: a `ConfigError` (`field` is the dotted key path, e.g. `map_config.lane_width`);
 * for an unknown key, `suggestion` is the nearest valid key.
 */
export class EnvConfigError extends ConfigError {
  readonly suggestion: string | undefined;

  constructor(message: string, details: ErrorDetails & { suggestion?: string } = {}) {
    super(message, details);
    this.name = 'EnvConfigError';
    this.suggestion = details.suggestion;
  }
}

/**
 * Merges `input` over the defaults and validates every field (`ENV_CONFIG`); returns a frozen
 * config. Throws `EnvConfigError` naming the key, the expected and the found value.
 */
export function resolveEnvConfig(input: EnvConfigInput = {}, where: { file?: string } = {}): Readonly<EnvConfig> {
  try {
    return ENV_CONFIG.resolve(input, where);
  } catch (e) {
    if (!(e instanceof ConfigError) || e instanceof EnvConfigError) throw e;
    const suggestion = e instanceof UnknownKeyError ? e.suggestion : undefined;
    throw new EnvConfigError(e.message, { file: e.file, field: e.field, expected: e.expected, found: e.found, cause: e, suggestion });
  }
}

/** Observation length: 9 ego + 10 navigation + 4 per other vehicle + lasers (259 by default). */
export function observationSize(cfg: Pick<EnvConfig, 'lidar'>): number {
  return 9 + 10 + 4 * cfg.lidar.num_others + cfg.lidar.num_lasers;
}
