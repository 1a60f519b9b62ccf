/**
 * Browser stand-in for `checkpoint-io.ts` (chosen by package.json's `browser` field): the same
 * functions, each a `UsageError` saying that files need Node. @internal
 */
import type { loadCheckpoint as LoadCheckpoint, saveCheckpoint as SaveCheckpoint } from '../core/checkpoint.js';
import { UsageError } from '../core/errors.js';
import type { readSafetensors as ReadSafetensors, writeSafetensors as WriteSafetensors } from '../core/safetensors.js';

function nodeOnly(name: string, target: string): never {
  throw new UsageError(
    `${name}(${JSON.stringify(target)}) reads or writes files, which needs Node (import it from 'drivekit/node' there). In a browser, load from bytes: parseSafetensors(bytes) and loadStateDict, or serializeSafetensors to save.`,
    { file: target, expected: 'Node (file system)', found: 'a browser build' },
  );
}

export const loadCheckpoint: typeof LoadCheckpoint = async (target) => nodeOnly('loadCheckpoint', target);
export const saveCheckpoint: typeof SaveCheckpoint = async (target) => nodeOnly('saveCheckpoint', target);
export const readSafetensors: typeof ReadSafetensors = async (path) => nodeOnly('readSafetensors', path);
export const writeSafetensors: typeof WriteSafetensors = async (path) => nodeOnly('writeSafetensors', path);
export const loadPlannerCheckpoint: typeof import('./planner-checkpoint.js').loadPlannerCheckpoint = async (target) => nodeOnly('DiffusionPlanner.fromCheckpoint', target);
export const savePlannerCheckpoint: typeof import('./planner-checkpoint.js').savePlannerCheckpoint = async (_planner, dir) => nodeOnly('DiffusionPlanner.save', dir);
