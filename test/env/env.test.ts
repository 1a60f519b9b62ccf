import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { DrivingEnv } from '../../src/env/env.js';
import { IDMPolicy } from '../../src/env/idm.js';
import { ConstantPolicy, ExpertEgoPolicy, RandomPolicy } from '../../src/env/policies.js';
import { runEpisode } from '../../src/env/rollout.js';
import { TrafficVehicle } from '../../src/env/traffic.js';
import { Vehicle } from '../../src/env/vehicle.js';
import { VectorEnv } from '../../src/env/vector-env.js';
import { buildTestMap, sampleMap } from './maps.js';

const straight = buildTestMap({ blocks: [[{ kind: 'S', length: 200 }]] });
const testEnv = (cfg: Record<string, unknown> = {}, map = sampleMap()) => new DrivingEnv({ traffic_density: 0, ...cfg }, { mapSource: () => map });

describe('DrivingEnv on hand-built maps', () => {
  it('reset gives the spec observation at rest', () => {
    const env = testEnv({ random_spawn_lane_index: false }, straight);
    const { obs, info } = env.reset({ seed: 0 });
    expect(obs.length).toBe(259);
    expect(info.spawn_lane).toBe('>->>>#0');
    // Lane 0 centre: d_left = w/2 = 1.75 -> /18; d_right = 3*3.5 - 1.75 -> /18.
    expect(obs[0]).toBeCloseTo(1.75 / 18, 6);
    expect(obs[1]).toBeCloseTo(8.75 / 18, 6);
    expect(obs[2]).toBeCloseTo(0.5, 6); // aligned with the lane
    expect(obs[3]).toBeCloseTo(1 / 81, 6); // (0 + 1) / (80 + 1)
    expect([obs[4], obs[5], obs[6], obs[7], obs[8]]).toEqual([0.5, 0.5, 0.5, 0, 0.5]);
    // Navigation: straight reference road -> bend features 0, 0.5, 0.5.
    expect([obs[11], obs[12], obs[13]]).toEqual([0, 0.5, 0.5]);
    // No traffic: every lidar ray reads 1.
    expect(obs.subarray(19).every((v) => v === 1)).toBe(true);
  });

  it('dense reward = Δlong + 0.1 v/80 while driving straight', () => {
    const env = testEnv({ random_spawn_lane_index: false }, straight);
    env.reset({ seed: 0 });
    let x = env.ego.x;
    for (let i = 0; i < 20; i++) {
      const r = env.step([0, 1]);
      expect(r.reward).toBeCloseTo(env.ego.x - x + (0.1 * env.ego.speedKmh) / 80, 9);
      expect(r.info.step_reward).toBe(r.reward);
      x = env.ego.x;
    }
  });

  it('leaving the road terminates with -5 replacing the dense reward, cost 1', () => {
    const env = testEnv();
    env.reset({ seed: 0 });
    let r;
    do r = env.step([0, 1]);
    while (!r.terminated && !r.truncated);
    expect(r.info.out_of_road).toBe(true);
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
    expect(r.reward).toBe(-5);
    expect(r.info.step_reward).toBeGreaterThan(0); // the replaced dense reward
    expect(r.info.cost).toBe(1);
    expect(r.info.crash).toBe(false);
  });

  it('truncates (does not terminate) at the horizon', () => {
    const env = testEnv({ horizon: 5 });
    env.reset({ seed: 0 });
    for (let i = 1; i <= 5; i++) {
      const r = env.step([0, 0]);
      expect(r.truncated).toBe(i === 5);
      expect(r.terminated).toBe(false);
      expect(r.info.max_step).toBe(i === 5);
      expect(r.info.episode_length).toBe(i);
    }
  });

  it('hitting a parked vehicle is crash_vehicle with -5', () => {
    const env = testEnv({ random_spawn_lane_index: false }, straight);
    env.reset({ seed: 0 });
    const lane = env.navigation.currentLane;
    const v = new Vehicle('m', new Rng(1), 80, 99);
    const p = lane.position(35, 0);
    v.place(p[0]!, p[1]!, lane.headingAt(35));
    env.traffic.alive.push(new TrafficVehicle(v, lane, new IDMPolicy(env.map, new Rng(2), () => null)));
    const obs = env.step([0, 0]).obs;
    // The lidar sees it straight ahead: 35 - 5 - 4.6/2 from the ego centre (ego at long 5, speed ~0).
    expect(obs[19]).toBeCloseTo((35 - env.navigation.currentLane.localCoordinates(env.ego.x, env.ego.y).long - 2.3) / 50, 4);
    let r;
    do r = env.step([0, 1]);
    while (!r.terminated && !r.truncated);
    expect(r.info.crash_vehicle).toBe(true);
    expect(r.info.crash).toBe(true);
    expect(r.reward).toBe(-5);
    expect(r.info.cost).toBe(1);
  });

  it('the expert reaches the destination: +10 on the last step, route completion ~ 1', () => {
    const env = testEnv();
    const out = runEpisode(env, new ExpertEgoPolicy(), 0);
    expect(out.arrive_dest).toBe(true);
    expect(out.route_completion).toBeGreaterThan(0.95);
    expect(out.route_completion).toBeLessThan(1.05);
    // Episode reward ≈ distance driven along the route + speed bonus + 10.
    expect(out.episode_reward).toBeGreaterThan(env.map.totalLength * 0.9);
  });

  it('validates seeds and actions', () => {
    const env = testEnv({ start_seed: 10, num_scenarios: 3 });
    expect(() => env.reset({ seed: 13 })).toThrow('DrivingEnv.reset: seed 13 is outside [start_seed, start_seed + num_scenarios) = [10, 13).');
    expect(() => env.step([0, 1])).toThrow(/call reset\(\)/);
    env.reset({ seed: 12 });
    expect(() => env.step([0])).toThrow(/action must have 2 values/);
    const seeds = new Set<number>();
    for (let i = 0; i < 30; i++) seeds.add(env.reset().info.env_seed);
    expect([...seeds].sort()).toEqual([10, 11, 12]);
  });
});

describe('DrivingEnv on generated maps with traffic', () => {
  it('observations stay in [0, 1] (random and expert policies)', () => {
    const env = new DrivingEnv({ num_scenarios: 50 });
    for (const [seed, policy] of [[3, new RandomPolicy(1)], [5, new ExpertEgoPolicy()], [7, new ConstantPolicy([0.3, 0.5])]] as const) {
      let { obs } = env.reset({ seed });
      policy.reset(env);
      for (let t = 0; t < 400; t++) {
        for (let i = 0; i < obs.length; i++) {
          if (!(obs[i]! >= 0 && obs[i]! <= 1)) throw new Error(`seed ${seed} step ${t}: obs[${i}] = ${obs[i]}`);
        }
        const r = env.step(policy.act(env, obs));
        obs = r.obs;
        if (r.terminated || r.truncated) break;
      }
    }
  });

  it('same seed -> identical episode (two env instances)', () => {
    const run = () => {
      const env = new DrivingEnv({ num_scenarios: 20 });
      const policy = new ExpertEgoPolicy();
      let { obs } = env.reset({ seed: 11 });
      policy.reset(env);
      const trace: number[] = [];
      for (let t = 0; t < 150; t++) {
        const r = env.step(policy.act(env, obs));
        obs = r.obs;
        trace.push(r.reward, ...obs.subarray(0, 19), obs.reduce((s, v) => s + v, 0));
        for (const tv of env.traffic.alive) trace.push(tv.vehicle.x, tv.vehicle.y);
        if (r.terminated || r.truncated) break;
      }
      return trace;
    };
    const a = run();
    const b = run();
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it('traffic parks until the ego reaches the trigger road, then drives', () => {
    const env = new DrivingEnv({ num_scenarios: 20, traffic_density: 0.3 });
    env.reset({ seed: 2 });
    expect(env.traffic.all.length).toBeGreaterThan(0);
    expect(env.traffic.numActive).toBe(0);
    const policy = new ExpertEgoPolicy();
    policy.reset(env);
    let activated = -1;
    for (let t = 0; t < 300; t++) {
      const r = env.step(policy.act(env));
      if (activated < 0 && env.traffic.numActive > 0) {
        activated = t;
        expect(env.map.roadOf(env.navigation.currentLane).key).toBe(env.map.blocks[0]!.triggerRoad);
      }
      if (r.terminated || r.truncated) break;
    }
    expect(activated).toBeGreaterThan(0);
    const moving = env.traffic.all.filter((t) => t.vehicle.speed > 1);
    expect(moving.length).toBeGreaterThan(0);
  });

  it('VectorEnv equals N single envs stepped alongside', () => {
    const cfg = { num_scenarios: 30 };
    const venv = new VectorEnv(3, cfg, { seed: 5 });
    const singles = [0, 1, 2].map((i) => new DrivingEnv(cfg, { seed: 5 + i }));
    const { obs } = venv.reset([4, 9, 17]);
    const sObs = singles.map((e, i) => e.reset({ seed: [4, 9, 17][i]! }).obs);
    for (let i = 0; i < 3; i++) expect(Array.from(obs.subarray(i * 259, (i + 1) * 259))).toEqual(Array.from(sObs[i]!));
    const rng = new Rng(3);
    let resets = 0;
    for (let t = 0; t < 200; t++) {
      const actions = new Float32Array(6).map(() => rng.uniform(-0.3, 1));
      const v = venv.step(actions);
      for (let i = 0; i < 3; i++) {
        const r = singles[i]!.step([actions[2 * i]!, actions[2 * i + 1]!]);
        expect(v.rewards[i]).toBeCloseTo(r.reward, 5);
        expect(v.terminated[i]).toBe(r.terminated ? 1 : 0);
        if (r.terminated || r.truncated) {
          resets++;
          expect(Array.from(v.finalObs[i]!)).toEqual(Array.from(r.obs));
          const again = singles[i]!.reset().obs;
          expect(Array.from(v.obs.subarray(i * 259, (i + 1) * 259))).toEqual(Array.from(again));
        } else {
          expect(v.finalObs[i]).toBeNull();
          expect(Array.from(v.obs.subarray(i * 259, (i + 1) * 259))).toEqual(Array.from(r.obs));
        }
      }
    }
    expect(resets).toBeGreaterThan(0);
  });
});

describe('info: energy and navigation command (MetaDrive BaseVehicle.after_step)', () => {
  it('step_energy is 3.25 e^(0.01 v_kmh) L/100 km over the step distance (mL), summed into episode_energy', () => {
    const env = testEnv({}, straight);
    env.reset();
    let r = env.step([0, -1]);
    expect(r.info.step_energy).toBe(0); // at rest
    let sum = 0;
    for (let i = 0; i < 30; i++) {
      const x0 = env.ego.x, y0 = env.ego.y;
      r = env.step([0, 1]);
      const km = Math.hypot(env.ego.x - x0, env.ego.y - y0) / 1000;
      expect(r.info.step_energy).toBeCloseTo(3.25 * Math.exp(0.01 * r.info.velocity) * km * 10, 9);
      sum += r.info.step_energy;
      expect(r.info.episode_energy).toBeCloseTo(sum, 9);
    }
    expect(sum).toBeGreaterThan(0);
    env.reset();
    expect(env.step([0, 0]).info.episode_energy).toBe(0);
  });

  it('navigation_command reads the turn of the next reference road (forward / right / left)', () => {
    const env = testEnv();
    env.reset();
    const expert = new ExpertEgoPolicy();
    expert.reset(env);
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 400; i++) {
      const r = env.step(expert.act(env));
      const road = env.navigation.currentRoad.key;
      if (!seen.has(road)) seen.set(road, new Set());
      seen.get(road)!.add(r.info.navigation_command);
      const flags = [r.info.navigation_forward, r.info.navigation_left, r.info.navigation_right];
      expect(flags.filter(Boolean).length).toBe(1);
      expect(flags[['forward', 'left', 'right'].indexOf(r.info.navigation_command)]).toBe(true);
      if (r.terminated || r.truncated) break;
    }
    expect([...seen.get('>>->>>>')!]).toEqual(['forward']); // next: a straight
    expect([...seen.get('>>>->1S0_0_')!]).toEqual(['right']); // next: the 90 degree right curve
    expect([...seen.get('2C0_0_->2S0_1_')!]).toEqual(['left']); // next: the 60 degree left curve
    expect([...seen.get('3C0_0_->3S0_1_')!]).toEqual(['forward']); // last road
  });
});
