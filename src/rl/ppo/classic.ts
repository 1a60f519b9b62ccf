/**
 * PPO on the gymnasium classics (`CartPole-v1`, `Pendulum-v1`) with the task's preset settings
 * (`PPO_PRESETS`), reporting the learning curve as the reference runs are reported: after every
 * finished episode, `[global step, mean of the last 10 episodic returns]`.
 */
import type { Logger } from '../../core/logger.js';
import { type ClassicEnvId, makeEnv } from '../../env/spaces.js';
import { SyncVectorEnv } from '../../env/sync-vector-env.js';
import { ActorCriticPolicy, type PolicyConfig } from '../../models/mlp-policy.js';
import type { Callback } from '../common/callbacks.js';
import type { PPOConfig } from './config.js';
import { PPO } from './ppo.js';
import { PPO_PRESETS } from './presets.js';

export interface ClassicRunOptions {
  timesteps: number;
  seed?: number;
  /** Overrides of the preset's PPO settings. */
  ppo?: Partial<PPOConfig>;
  policy?: Partial<PolicyConfig>;
  numEnvs?: number;
  logger?: Logger;
  callbacks?: Callback[];
  /** Window of the curve's running mean (default 10). */
  window?: number;
}

export interface ClassicRunResult {
  env: ClassicEnvId;
  timesteps: number;
  seed: number;
  /** `[global step, mean of the last `window` episodic returns]` after every finished episode. */
  curve: [number, number][];
  episodes: number;
  /** Mean of the last 10 episodic returns at the end. */
  finalMean: number;
  /** Wall time of the run. */
  seconds: number;
  policy: ActorCriticPolicy;
}

/** Builds the vectorised classic env of a preset, env i seeded with `seed + i`. */
export function classicVecEnv(id: ClassicEnvId, numEnvs: number, seed: number): SyncVectorEnv {
  return new SyncVectorEnv((i) => makeEnv(id, { seed: seed + i }), numEnvs, { seed });
}

/** Trains PPO on a classic env with its preset; the caller disposes `result.policy`. */
export async function trainClassicPPO(id: ClassicEnvId, options: ClassicRunOptions): Promise<ClassicRunResult> {
  const preset = PPO_PRESETS[id];
  const seed = options.seed ?? 0;
  const numEnvs = options.numEnvs ?? preset.numEnvs;
  const env = classicVecEnv(id, numEnvs, seed);
  const obsDim = env.obsSize;
  const a = env.actionSpace;
  const policy = new ActorCriticPolicy({
    ...preset.policy,
    ...options.policy,
    obsDim,
    actionType: a.type === 'Discrete' ? 'discrete' : 'box',
    actionDim: a.type === 'Discrete' ? a.n : env.actDim,
    seed,
  });
  const window = options.window ?? 10;
  const curve: [number, number][] = [];
  const last: number[] = [];
  let episodes = 0;
  const record: Callback = (e) => {
    if (e.type !== 'episode') return;
    episodes += 1;
    last.push(e.return);
    if (last.length > window) last.shift();
    curve.push([e.timesteps, last.reduce((s, v) => s + v, 0) / last.length]);
  };
  const ppo = new PPO(policy, env, { ...preset.ppo, ...options.ppo, seed }, { logger: options.logger, callbacks: [record, ...(options.callbacks ?? [])] });
  const t0 = performance.now();
  try {
    await ppo.learn(options.timesteps);
  } catch (e) {
    ppo.dispose();
    policy.dispose();
    throw e;
  }
  ppo.dispose();
  return {
    env: id,
    timesteps: ppo.numTimesteps,
    seed,
    curve,
    episodes,
    finalMean: last.length ? last.reduce((s, v) => s + v, 0) / last.length : NaN,
    seconds: (performance.now() - t0) / 1000,
    policy,
  };
}
