/**
 * PPO settings per task, with their sources, and a small runner for the gymnasium classics that
 * records the learning curve the way the reference runs are reported.
 *
 * - `CartPole-v1`: cleanrl `ppo.py` defaults: 4 envs x 128 steps, lr 2.5e-4 annealed linearly,
 *   4 epochs, 4 minibatches (batch 128), γ 0.99, λ 0.95, clip 0.2 with value clipping (clip_vloss),
 *   entropy 0.01, value coefficient 0.5, max grad norm 0.5, 64-64 tanh, separate trunks.
 * - `Pendulum-v1`: rl-baselines3-zoo `hyperparams/ppo.yml` (without gSDE, which drivekit does not
 *   implement): 4 envs x 1024 steps, γ 0.9, λ 0.95, lr 1e-3, 10 epochs, batch 64, clip 0.2,
 *   entropy 0, 64-64 tanh.
 *
 * Time-limit truncations (CartPole at 500 steps, Pendulum at 200) are bootstrapped with
 * γ·V(final observation), as SB3 does; cleanrl treats them as terminal.
 */
import type { PolicyConfig } from '../../models/mlp-policy.js';
import type { PPOConfig } from './config.js';

export interface PPOPreset {
  /** Environment id. */
  env: string;
  numEnvs: number;
  ppo: Partial<PPOConfig>;
  policy: Partial<PolicyConfig>;
  /** Where the settings come from. */
  source: string;
}

export const PPO_PRESETS: Readonly<Record<'CartPole-v1' | 'Pendulum-v1', PPOPreset>> = Object.freeze({
  'CartPole-v1': {
    env: 'CartPole-v1',
    numEnvs: 4,
    ppo: { learningRate: 2.5e-4, lrSchedule: 'linear', nSteps: 128, batchSize: 128, nEpochs: 4, gamma: 0.99, gaeLambda: 0.95, clipRange: 0.2, clipRangeVf: 0.2, entCoef: 0.01, vfCoef: 0.5, maxGradNorm: 0.5 },
    policy: { hidden: [64, 64], activation: 'tanh', sharedTrunk: false },
    source: 'cleanrl ppo.py defaults',
  },
  'Pendulum-v1': {
    env: 'Pendulum-v1',
    numEnvs: 4,
    ppo: { learningRate: 1e-3, lrSchedule: 'constant', nSteps: 1024, batchSize: 64, nEpochs: 10, gamma: 0.9, gaeLambda: 0.95, clipRange: 0.2, entCoef: 0, vfCoef: 0.5, maxGradNorm: 0.5 },
    policy: { hidden: [64, 64], activation: 'tanh', sharedTrunk: false },
    source: 'rl-baselines3-zoo ppo.yml Pendulum-v1 (no gSDE)',
  },
});
