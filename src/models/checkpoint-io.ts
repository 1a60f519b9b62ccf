/**
 * The file access behind the models' own save/load methods (`ActorCriticPolicy.save`/`.load`,
 * `DiffusionPlanner.save`/`.fromCheckpoint`, `loadPlannerWeights`/`savePlannerWeights`), in one
 * place. Under Node this module is the real thing. A browser bundle gets `checkpoint-io.browser.ts`
 * instead (package.json's `browser` field maps this file to it), so `drivekit/models` bundles
 * without `node:fs`; there these methods throw a `UsageError` and models load from bytes
 * (`parseSafetensors` + `loadPlannerStateDict` / `ActorCriticPolicy.loadStateDict`).
 * @internal
 */
export { loadCheckpoint, saveCheckpoint } from '../core/checkpoint.js';
export { readSafetensors, writeSafetensors } from '../core/safetensors.js';

// Loaded on first use: planner-checkpoint.ts imports planner.ts and weights.ts, which import this.
export const loadPlannerCheckpoint: typeof import('./planner-checkpoint.js').loadPlannerCheckpoint = async (target, options) =>
  (await import('./planner-checkpoint.js')).loadPlannerCheckpoint(target, options);
export const savePlannerCheckpoint: typeof import('./planner-checkpoint.js').savePlannerCheckpoint = async (planner, dir) =>
  (await import('./planner-checkpoint.js')).savePlannerCheckpoint(planner, dir);
