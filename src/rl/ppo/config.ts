/**
 * PPO hyper-parameters: SB3's defaults and names (camelCase), declared once with a doc line per
 * field; the CLI's flags and the docs' option table come from this declaration.
 */
import { defineConfig } from '../../core/config.js';

export interface PPOConfig {
  learningRate: number;
  lrSchedule: 'constant' | 'linear';
  nSteps: number;
  batchSize: number;
  nEpochs: number;
  gamma: number;
  gaeLambda: number;
  clipRange: number;
  clipRangeVf: number | null;
  normalizeAdvantage: boolean;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  targetKl: number | null;
  adamEps: number;
  normObs: boolean;
  normReward: boolean;
  clipObs: number;
  clipReward: number;
  bootstrapTimeouts: boolean;
  seed: number;
}

export const PPO_CONFIG = defineConfig<PPOConfig>('PPOConfig', {
  learningRate: { type: 'number', gt: 0, default: 3e-4, doc: 'Adam learning rate (SB3 learning_rate).' },
  lrSchedule: { type: 'enum', values: ['constant', 'linear'], default: 'constant', doc: "'linear' anneals the rate to 0 over the run (progress remaining, SB3/cleanrl anneal_lr)." },
  nSteps: { type: 'integer', min: 1, default: 2048, doc: 'Steps per environment per rollout (SB3 n_steps); a rollout holds nSteps x numEnvs samples.' },
  batchSize: { type: 'integer', min: 1, default: 64, doc: 'Minibatch size of the update (SB3 batch_size).' },
  nEpochs: { type: 'integer', min: 1, default: 10, doc: 'Passes over each rollout (SB3 n_epochs).' },
  gamma: { type: 'number', min: 0, max: 1, default: 0.99, doc: 'Discount factor.' },
  gaeLambda: { type: 'number', min: 0, max: 1, default: 0.95, doc: 'GAE lambda (1 = Monte-Carlo returns, 0 = one-step TD).' },
  clipRange: { type: 'number', gt: 0, default: 0.2, doc: 'Policy ratio clip epsilon.' },
  clipRangeVf: { type: 'number', gt: 0, nullable: true, default: null, doc: 'Value clipping range around the old values (null: no value clipping; cleanrl clip_vloss uses the policy clip).' },
  normalizeAdvantage: { type: 'boolean', default: true, doc: 'Normalise advantages per minibatch.' },
  entCoef: { type: 'number', min: 0, default: 0, doc: 'Entropy bonus coefficient.' },
  vfCoef: { type: 'number', min: 0, default: 0.5, doc: 'Value loss coefficient.' },
  maxGradNorm: { type: 'number', gt: 0, default: 0.5, doc: 'Global gradient-norm clip.' },
  targetKl: { type: 'number', gt: 0, nullable: true, default: null, doc: 'Stop the epoch loop when the approximate KL of a minibatch exceeds 1.5 x targetKl (null: never).' },
  adamEps: { type: 'number', gt: 0, default: 1e-5, doc: 'Adam epsilon (SB3 and cleanrl use 1e-5 for PPO).' },
  normObs: { type: 'boolean', default: false, doc: 'Running observation normalisation (VecNormalize norm_obs).' },
  normReward: { type: 'boolean', default: false, doc: 'Running reward normalisation by the discounted return std (VecNormalize norm_reward).' },
  clipObs: { type: 'number', gt: 0, default: 10, doc: 'Clip of normalised observations.' },
  clipReward: { type: 'number', gt: 0, default: 10, doc: 'Clip of normalised rewards.' },
  bootstrapTimeouts: { type: 'boolean', default: true, doc: 'Add gamma x V(final obs) to the reward of time-limit truncations (SB3); false treats them as terminal (cleanrl).' },
  seed: { type: 'integer', default: 0, doc: 'Seed of the action sampling and minibatch shuffling streams.' },
});
