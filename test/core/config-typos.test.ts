/**
 * A config typo anywhere in the library is a `ConfigError` naming the key and the nearest valid
 * key (issue 10): env, planner, DDIM, IL, scenegen, scorer weights.
 */
import { describe, expect, it } from 'vitest';
import { UnknownKeyError } from '../../src/core/config.js';
import { ConfigError, DrivekitError } from '../../src/core/errors.js';
import { ENV_CONFIG, EnvConfigError, resolveEnvConfig } from '../../src/env/config.js';
import { DDIMScheduler, DDIM_CONFIG, RECOGDRIVE_DDIM_CONFIG } from '../../src/models/ddim.js';
import { PLANNER_CONFIG, PLANNER_PRESETS, plannerConfig } from '../../src/models/planner.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { DEFAULT_SCENEGEN, generateScene, resolveSceneGenOptions, SCENEGEN_CONFIG } from '../../src/navsim/scenegen.js';
import { scoreScene, scoreSceneJson } from '../../src/navsim/score-scene.js';
import { defaultWeights } from '../../src/navsim/scorer.js';
import { PDM_WEIGHTS_CONFIG, resolvePdmWeights } from '../../src/navsim/weights.js';
import { IL_TRAIN_CONFIG, IL_TRAIN_DEFAULTS, resolveIlConfig } from '../../src/rl/il-trainer.js';

function caught(fn: () => unknown): DrivekitError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DrivekitError) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

/** The nearest-key suggestion of an unknown-key error (EnvConfigError carries its own). */
function suggestion(e: DrivekitError): string | undefined {
  if (e instanceof UnknownKeyError) return e.suggestion;
  if (e instanceof EnvConfigError) return e.suggestion;
  return undefined;
}

describe('config typos name the key and the nearest valid key', () => {
  it.each([
    ['env', () => resolveEnvConfig({ traffic_densty: 0.2 } as never), 'traffic_densty', 'traffic_density'],
    ['env nested', () => resolveEnvConfig({ map_config: { lane_widht: 3 } } as never), 'map_config.lane_widht', 'lane_width'],
    ['planner', () => plannerConfig({ numLayer: 3 } as never), 'numLayer', 'numLayers'],
    ['planner nested', () => plannerConfig({ scheduler: { numTrainTimestep: 50 } } as never), 'scheduler.numTrainTimestep', 'numTrainTimesteps'],
    ['planner sampler', () => plannerConfig({ sampler: { rollout: { minstd: 0.1 } } } as never), 'sampler.rollout.minstd', 'minStd'],
    ['DDIM', () => new DDIMScheduler({ timestepSpacng: 'leading' } as never), 'timestepSpacng', 'timestepSpacing'],
    ['IL', () => resolveIlConfig({ epoch: 5 } as never), 'epoch', 'epochs'],
    ['IL optimizer', () => resolveIlConfig({ optimizer: { weight_decay: 0 } } as never), 'optimizer.weight_decay', 'weightDecay'],
    ['scenegen', () => resolveSceneGenOptions({ leadProbabilty: 0.5 } as never), 'leadProbabilty', 'leadProbability'],
    ['scenegen IDM', () => resolveSceneGenOptions({ egoIdm: { s_0: 2 } } as never), 'egoIdm.s_0', 's0'],
    ['scorer weights', () => resolvePdmWeights('v2.2', { progres: 10 } as never), 'progres', 'progress'],
  ] as const)('%s', (_what, fn, field, near) => {
    const e = caught(fn);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.field).toBe(field);
    expect(suggestion(e)).toBe(near);
    expect(e.message).toContain(`'${near}'`);
  });

  it('env keeps its error class (EnvConfigError is a ConfigError)', () => {
    const e = caught(() => resolveEnvConfig({ horizon: 0 }));
    expect(e).toBeInstanceOf(EnvConfigError);
    expect([e.field, e.expected, e.found]).toEqual(['horizon', 'an integer >= 1', 0]);
  });

  it('a planner preset typo names the nearest preset', () => {
    const e = caught(() => plannerConfig({ preset: 'smal' as never }));
    expect(e).toBeInstanceOf(ConfigError);
    expect([e.field, e.found]).toEqual(['preset', 'smal']);
    expect(e.message).toContain("Did you mean 'small'?");
  });

  it('scoring with a misspelt weight fails before scoring; scoreSceneJson reports it as an error result', () => {
    const json = generateScene(3).scene;
    const scene = parseScene(json, { source: 'gen-3' });
    const e = caught(() => scoreScene(scene, null, { weights: { progres: 10 } as never }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.field).toBe('progres');
    const r = scoreSceneJson(json, { weights: { progres: 10 } as never });
    expect(r.error).toMatch(/unknown key 'progres'/);
    expect(r.error).not.toMatch(/^internal error/);
    // The right key still works and changes the score (progress 10 as ReCogDrive trains).
    const a = scoreScene(scene, null, { version: 'v2.2' }).proposals[0]!.score;
    const b = scoreScene(scene, null, { version: 'v2.2', weights: { progress: 10 } }).proposals[0]!.score;
    expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
  });
});

describe('range checks stop NaN-producing configs', () => {
  it.each([
    [{ max_speed_km_h: 0 }, 'max_speed_km_h', 'a number in (0, 400]'],
    [{ max_speed_km_h: NaN }, 'max_speed_km_h', 'a number in (0, 400]'],
    [{ map_config: { lane_width: 0 } }, 'map_config.lane_width', 'a number in (0, 20]'],
    [{ map_config: { lane_width: 25 } }, 'map_config.lane_width', 'a number in (0, 20]'],
    [{ physics_world_step_size: 0 }, 'physics_world_step_size', 'a number in (0, 1]'],
    [{ lidar: { distance: 0 } }, 'lidar.distance', 'a number > 0'],
    [{ driving_reward: Infinity }, 'driving_reward', 'a number'],
  ])('env %j', (input, field, expected) => {
    const e = caught(() => resolveEnvConfig(input as never));
    expect(e).toBeInstanceOf(EnvConfigError);
    expect([e.field, e.expected]).toEqual([field, expected]);
  });

  it('planner: odd headDim, too many inference steps, odd width', () => {
    expect(caught(() => plannerConfig({ headDim: 7 })).field).toBe('headDim');
    expect(caught(() => plannerConfig({ numInferenceSteps: 200 })).field).toBe('numInferenceSteps');
    expect(caught(() => plannerConfig({ numInferenceSteps: 0 })).field).toBe('numInferenceSteps');
    expect(caught(() => plannerConfig({ normalization: { x: { range: 0 } } } as never)).field).toBe('normalization.x.range');
  });

  it('IL: emaDecay in [0, 1), epochs >= 1', () => {
    expect([caught(() => resolveIlConfig({ emaDecay: 1 })).field, caught(() => resolveIlConfig({ epochs: 0 })).field]).toEqual(['emaDecay', 'epochs']);
  });
});

describe('migrated configs keep their defaults, freeze and round-trip', () => {
  it('defaults are the old exported values', () => {
    expect(resolveEnvConfig()).toEqual(ENV_CONFIG.defaults);
    expect(plannerConfig()).toEqual(PLANNER_PRESETS.small);
    expect(plannerConfig({ preset: 'large' })).toEqual(PLANNER_PRESETS.large);
    expect(PLANNER_CONFIG.defaults).toEqual(PLANNER_PRESETS.small);
    expect(new DDIMScheduler().config).toEqual(RECOGDRIVE_DDIM_CONFIG);
    expect(DDIM_CONFIG.defaults).toBe(RECOGDRIVE_DDIM_CONFIG);
    expect(resolveIlConfig()).toEqual(IL_TRAIN_DEFAULTS);
    expect(IL_TRAIN_DEFAULTS.optimizer).toEqual({ lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 1e-4 });
    expect(resolveSceneGenOptions()).toEqual(DEFAULT_SCENEGEN);
    expect(DEFAULT_SCENEGEN.trafficIdm).toEqual({ a: 1.5, b: 2.5, T: 1.2, s0: 2.5, delta: 4, minAccel: -6, maxAccel: 2, maxJerk: 6 });
    expect(resolvePdmWeights('v1.1')).toEqual(defaultWeights('v1.1'));
    expect(resolvePdmWeights('v2.2', { progress: 10 })).toEqual({ ...defaultWeights('v2.2'), progress: 10 });
  });

  it('partial nested sections merge over the preset / defaults', () => {
    const c = plannerConfig({ preset: 'large', scheduler: { numTrainTimesteps: 50 }, sampler: { rollout: { minStd: 0.05 } } });
    expect(c.numHeads).toBe(PLANNER_PRESETS.large.numHeads);
    expect(c.scheduler).toEqual({ ...RECOGDRIVE_DDIM_CONFIG, numTrainTimesteps: 50 });
    expect(c.sampler.rollout).toEqual({ eta: 1, minStd: 0.05, noiseClip: 5 });
    expect(resolveSceneGenOptions({ egoIdm: { a: 2 } }).egoIdm).toEqual({ ...DEFAULT_SCENEGEN.egoIdm, a: 2 });
    expect(resolveIlConfig({ optimizer: { lr: 3e-4 } }).optimizer.beta2).toBe(0.95);
  });

  it.each([
    ['env', ENV_CONFIG, resolveEnvConfig({ map: 'SCX', lidar: { num_others: 4 } })],
    ['planner', PLANNER_CONFIG, plannerConfig({ preset: 'large', condDim: 3584 })],
    ['DDIM', DDIM_CONFIG, DDIM_CONFIG.resolve({ epsilonClip: 2 })],
    ['IL', IL_TRAIN_CONFIG, resolveIlConfig({ epochs: 3, optimizer: { lr: 1e-3 } })],
    ['scenegen', SCENEGEN_CONFIG, resolveSceneGenOptions({ map: { laneNum: 2 }, numVehicles: [0, 1] })],
    ['weights', PDM_WEIGHTS_CONFIG, resolvePdmWeights('v1.1')],
  ] as const)('%s: frozen, JSON round trip', (_what, def, cfg) => {
    expect(Object.isFrozen(cfg)).toBe(true);
    const back = (def as { resolve(x: unknown): unknown }).resolve(JSON.parse(JSON.stringify((def as { toJSON(c: unknown): unknown }).toJSON(cfg))));
    expect(back).toEqual(cfg);
  });

  it('a scenegen map typo names the world MapConfig key', () => {
    const e = caught(() => resolveSceneGenOptions({ map: { laneWidht: 3 } } as never));
    expect(e.field).toBe('map');
    expect(String(e.expected)).toContain("did you mean 'laneWidth'?");
  });
});
