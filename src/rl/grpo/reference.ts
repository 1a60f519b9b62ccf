/**
 * The frozen reference policy π_ref of DiffGRPO's BC term (spec §3.6; ReCogDrive's `old_policy`,
 * which despite its name is never updated) and loading a planner from an IL checkpoint.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, InputError } from '../../core/errors.js';
import { DiffusionPlanner, type PlannerConfig, type PlannerConfigInput, plannerConfig } from '../../models/planner.js';
import { plannerCheckpointConfig, resolvePlannerCheckpoint } from '../../models/planner-checkpoint.js';

/** A copy of `planner` with its own (non-trainable) weights: later updates of `planner` do not reach it. */
export function frozenCopy(planner: DiffusionPlanner): DiffusionPlanner {
  const ref = new DiffusionPlanner(planner.config as PlannerConfig);
  for (const [name, v] of planner.variables) {
    const r = ref.variables.get(name)!;
    tf.tidy(() => r.assign(tf.clone(v)));
    r.trainable = false;
  }
  return ref;
}

/** The folder holding the checkpoint of `target`: the folder itself, or a run folder's `last/` (`resolvePlannerCheckpoint`). */
export function checkpointDir(target: string): string {
  return resolvePlannerCheckpoint(target).dir;
}

/** sha256 of a checkpoint's weights (what a GRPO run records of its reference policy). */
export function weightsSha256(target: string): string {
  return createHash('sha256').update(fs.readFileSync(resolvePlannerCheckpoint(target).weightsPath)).digest('hex');
}

/**
 * The first field (dotted path) where two planner configs differ, or null. Used to refuse a
 * checkpoint whose config is not the planner's.
 */
export function configDifference(expected: unknown, found: unknown, prefix = ''): { field: string; expected: unknown; found: unknown } | null {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(expected) && isObj(found)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(found)])];
    for (const k of keys) {
      const d = configDifference(expected[k], found[k], prefix ? `${prefix}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return JSON.stringify(expected) === JSON.stringify(found) ? null : { field: prefix || '(config)', expected, found };
}

/** Throws a `ConfigError` naming the first field where `found` (a checkpoint's config) differs from `expected`. */
export function checkPlannerConfig(expected: PlannerConfig, found: unknown, file: string): void {
  const d = configDifference(expected, found);
  if (!d) return;
  throw new ConfigError(InputError.format({ file, field: d.field, expected: d.expected, found: d.found }, "The checkpoint's planner config differs from this planner's."), { file, field: d.field, expected: d.expected, found: d.found });
}

/**
 * Loads a planner from a checkpoint (IL `last/`, a GRPO `last/`, their run folder; see
 * `DiffusionPlanner.fromCheckpoint`). With `expect`, a config that differs is a `ConfigError`
 * naming the field.
 */
export async function loadPlanner(target: string, expect?: PlannerConfigInput): Promise<{ planner: DiffusionPlanner; dir: string }> {
  const ck = resolvePlannerCheckpoint(target);
  if (expect) checkPlannerConfig(plannerConfig(expect), (await plannerCheckpointConfig(ck)).config, ck.configPath);
  return { planner: await DiffusionPlanner.fromCheckpoint(target), dir: ck.dir };
}
