import { describe, expect, it } from 'vitest';
import { DEFAULT_ENV_CONFIG, EnvConfigError, observationSize, resolveEnvConfig } from '../../src/env/config.js';

describe('env config', () => {
  it('has MetaDrive defaults', () => {
    const c = resolveEnvConfig();
    expect(c.traffic_density).toBe(0.1);
    expect(c.horizon).toBe(1000);
    expect(c.decision_repeat).toBe(5);
    expect(c.physics_world_step_size).toBe(0.02);
    expect(c.map).toBe(3);
    expect(c.map_config).toEqual({ lane_width: 3.5, lane_num: 3, exit_length: 50 });
    expect([c.success_reward, c.out_of_road_penalty, c.crash_vehicle_penalty, c.crash_object_penalty]).toEqual([10, 5, 5, 5]);
    expect([c.driving_reward, c.speed_reward]).toEqual([1, 0.1]);
    expect(c.out_of_road_done && c.on_continuous_line_done && c.random_spawn_lane_index).toBe(true);
    expect(observationSize(c)).toBe(259);
  });

  it('merges nested groups and round-trips through JSON', () => {
    const c = resolveEnvConfig({ traffic_density: 0.3, map: 'SCX', map_config: { lane_num: 2 }, lidar: { num_others: 4 } });
    expect(c.map_config).toEqual({ lane_width: 3.5, lane_num: 2, exit_length: 50 });
    expect(observationSize(c)).toBe(275);
    expect(resolveEnvConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(DEFAULT_ENV_CONFIG.lidar.num_others).toBe(0);
  });

  it('unknown keys are errors listing the valid keys', () => {
    expect(() => resolveEnvConfig({ traffic_densty: 0.1 } as never)).toThrow(EnvConfigError);
    expect(() => resolveEnvConfig({ traffic_densty: 0.1 } as never)).toThrow(/unknown key 'traffic_densty'. Valid keys: start_seed, num_scenarios, map,/);
    expect(() => resolveEnvConfig({ lidar: { rays: 10 } } as never)).toThrow(/env config.lidar: unknown key 'rays'. Valid keys: num_lasers, distance/);
  });

  it('bad values name the field, the expected and the found value', () => {
    expect(() => resolveEnvConfig({ traffic_density: 2 })).toThrow('env config.traffic_density: expected a number in [0, 1], found 2.');
    expect(() => resolveEnvConfig({ horizon: 0 })).toThrow('env config.horizon: expected an integer >= 1, found 0.');
    expect(() => resolveEnvConfig({ map: 'SQ' })).toThrow(/env config.map: expected a block string/);
    expect(() => resolveEnvConfig({ use_lateral_reward: 1 as never })).toThrow('env config.use_lateral_reward: expected a boolean, found 1.');
    expect(() => resolveEnvConfig({ map_config: { lane_num: 7 } })).toThrow(EnvConfigError);
    try {
      resolveEnvConfig({ map_config: { lane_num: 7 } });
    } catch (e) {
      expect([(e as EnvConfigError).field, (e as EnvConfigError).expected, (e as EnvConfigError).found]).toEqual(['map_config.lane_num', 'an integer in [1, 5]', 7]);
    }
  });
});
