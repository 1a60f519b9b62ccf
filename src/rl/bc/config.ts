/**
 * BC hyper-parameters, declared once with a doc line per field; the CLI's flags
 * (`drivekit env train-bc --learning-rate ...`) and the docs' option table come from here.
 * Optimiser defaults are imitation's BC (Adam, PyTorch's lr 1e-3 and ε 1e-8, no L2); the loss
 * is the seed's (smooth-L1 per action + BCE on the throttle's sign, see `loss.ts`).
 */
import { defineConfig } from '../../core/config.js';

export interface BCConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  lrSchedule: 'cosine' | 'linear' | 'constant';
  minLearningRate: number;
  maxGradNorm: number | null;
  adamEps: number;
  weightDecay: number;
  valFraction: number;
  patience: number | null;
  minDelta: number;
  steerWeight: number;
  throttleWeight: number;
  signWeight: number;
  signScale: number;
  smoothL1Beta: number;
  normalizeObs: boolean;
  clipObs: number;
  seed: number;
}

export const BC_CONFIG = defineConfig<BCConfig>(
  'BCConfig',
  {
    epochs: { type: 'integer', min: 1, default: 50, doc: 'Maximum passes over the training episodes (early stopping may end sooner).' },
    batchSize: { type: 'integer', min: 1, default: 256, doc: 'Minibatch size (frames); the last, smaller minibatch of an epoch is kept.' },
    learningRate: { type: 'number', gt: 0, default: 1e-3, doc: 'Peak Adam learning rate (imitation BC: PyTorch default 1e-3).' },
    lrSchedule: { type: 'enum', values: ['cosine', 'linear', 'constant'], default: 'cosine', doc: 'Annealing per optimizer step over epochs x steps per epoch, down to minLearningRate.' },
    minLearningRate: { type: 'number', min: 0, default: 0, doc: 'Learning rate at the end of the schedule.' },
    maxGradNorm: { type: 'number', gt: 0, nullable: true, default: 1, doc: 'Global gradient-norm clip (null: no clipping).' },
    adamEps: { type: 'number', gt: 0, default: 1e-8, doc: 'Adam epsilon (PyTorch default).' },
    weightDecay: { type: 'number', min: 0, default: 0, doc: 'Decoupled weight decay (AdamW); 0 is Adam, as imitation (l2_weight 0).' },
    valFraction: { type: 'number', gt: 0, lt: 1, default: 0.1, doc: 'Fraction of episodes (not frames) held out for validation, drawn with the seed.' },
    patience: { type: 'integer', min: 1, nullable: true, default: 10, doc: 'Stop after this many epochs without a validation improvement (null: never stop early).' },
    minDelta: { type: 'number', min: 0, default: 0, doc: 'An epoch improves when its validation loss is below the best by more than this.' },
    steerWeight: { type: 'number', min: 0, default: 1, doc: 'Weight of the smooth-L1 loss on steering.' },
    throttleWeight: { type: 'number', min: 0, default: 1, doc: 'Weight of the smooth-L1 loss on throttle/brake.' },
    signWeight: { type: 'number', min: 0, default: 0.1, doc: "Weight w_sign of the BCE on the throttle's sign (target: expert throttle > 0)." },
    signScale: { type: 'number', gt: 0, default: 5, doc: 'The sign logit is signScale x predicted throttle (5: a throttle of 0.2 gives p = 0.73).' },
    smoothL1Beta: { type: 'number', min: 0, default: 1, doc: 'Beta of smooth-L1 (torch smooth_l1_loss; Huber with delta 1 at 1; 0 is L1).' },
    normalizeObs: { type: 'boolean', default: false, doc: 'Standardise observations with the training split statistics (saved as `normalizer` in policy.json; PPO/evaluation must apply them).' },
    clipObs: { type: 'number', gt: 0, default: 10, doc: 'Clip of standardised observations (VecNormalize clip_obs).' },
    seed: { type: 'integer', default: 0, doc: 'Seed of the validation split and the per-epoch shuffling.' },
  },
  {
    check: (c) => (c.minLearningRate > c.learningRate ? { field: 'minLearningRate', expected: `<= learningRate (${c.learningRate})`, found: c.minLearningRate } : undefined),
  },
);
