/**
 * Training curves next to a run's JSONL log: `DIR/progress.jsonl` -> `DIR/progress.svg` and
 * `DIR/progress.png` (vega-lite small multiples, one panel per group of keys). The training
 * commands call `writeLogCurves` when they finish; a picture that cannot be drawn is a warning
 * on stderr, never a failed run.
 */
import * as fs from 'node:fs';
import type { CliIO } from './main.js';
import { readJsonl } from '../core/logger.js';
import { trainingCurvesSpec, type CurvePanel, type TrainingCurvesOptions } from '../viz/plot.js';
import { writeChart } from '../viz/vega-node.js';

/** Panels of `drivekit env train-bc` (one record per epoch). */
export const BC_CURVES: readonly CurvePanel[] = [
  { title: 'loss', keys: ['train/loss', 'val/loss'], logY: true },
  { title: 'validation errors', keys: ['val/steer_mae', 'val/throttle_mae'] },
  { title: 'validation sign accuracy', keys: ['val/sign_accuracy'] },
  { title: 'learning rate', keys: ['train/learning_rate'], logY: true },
];

/** Panels of the PPO commands (`env train-ppo`, `classic ppo`): one record per iteration. */
export const PPO_CURVES: readonly CurvePanel[] = [
  { title: 'episode return (last 100)', keys: ['rollout/ep_rew_mean'] },
  { title: 'success rate and curriculum', keys: ['rollout/success_rate', 'curriculum/density'] },
  { title: 'losses', keys: ['train/value_loss', 'train/policy_gradient_loss', 'train/entropy_loss'] },
  { title: 'approx. KL and clip fraction', keys: ['train/approx_kl', 'train/clip_fraction'] },
];

/** Panels of the IL commands (`navsim train-il`, `planner train`): steps, and epochs for validation. */
export const IL_CURVES: readonly CurvePanel[] = [
  { title: 'training loss', keys: ['train/loss', 'train/epoch_loss'], logY: true },
  { title: 'validation L1', keys: ['val/l1'] },
  { title: 'validation ADE / FDE (m)', keys: ['val/ade', 'val/fde'] },
  { title: 'learning rate', keys: ['train/lr'], logY: true },
];

/** Panels of `drivekit env train-gail`: PPO's, with the discriminator. */
export const GAIL_CURVES: readonly CurvePanel[] = [
  ...PPO_CURVES.slice(0, 2),
  { title: 'rewards', keys: ['gail/reward_mean', 'gail/env_reward_mean'] },
  { title: 'discriminator loss', keys: ['disc/loss'] },
];

/** Panels of `drivekit navsim train-grpo` (one record per iteration). */
export const GRPO_CURVES: readonly CurvePanel[] = [
  { title: 'reward', keys: ['rollout/reward_mean', 'rollout/score_mean'] },
  { title: 'loss', keys: ['train/loss', 'train/policy_loss', 'train/bc_loss'] },
  { title: 'reward spread in a group', keys: ['rollout/reward_std'] },
  { title: 'reversing fraction', keys: ['rollout/reversing_fraction'] },
];

/**
 * Draws the log's curves as `<log without .jsonl>.svg` and `.png`; returns the files written
 * (none when the log is missing or has nothing to draw). Failures are reported on `io.err`.
 */
export async function writeLogCurves(logFile: string, panels: readonly CurvePanel[], opts: TrainingCurvesOptions, io: CliIO, quiet = false): Promise<string[]> {
  if (!fs.existsSync(logFile)) return [];
  try {
    const spec = trainingCurvesSpec(readJsonl(logFile), panels, opts);
    if (!spec) return [];
    const written = await writeChart(logFile.replace(/\.jsonl$/, ''), spec);
    if (!quiet) io.err(`curves: ${written.join(', ')}`);
    return written;
  } catch (e) {
    io.err(`warning: could not draw the curves of ${logFile}: ${(e as Error).message}`);
    return [];
  }
}
