/**
 * Checkpoint files (Node): safetensors weights + a JSON config beside them, both written
 * atomically, and loading a state dict from a path. The tensor conversion and the PyTorch name
 * mapping are in `state-dict.ts` (browser-safe) and re-exported here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from './atomic.js';
import { InputError } from './errors.js';
import { parseSafetensors, readSafetensors, SafetensorsReader, serializeSafetensors, type SafetensorsFile, type TensorDict } from './safetensors.js';
import { assignStateDict, type LoadStateDictOptions, type LoadStateDictReport } from './state-dict.js';

export { loadStateDict, safeTensorFromTf, tfFromSafeTensor, toStateDict } from './state-dict.js';
export type { LoadStateDictOptions, LoadStateDictReport, StateDictMapping } from './state-dict.js';

// ---------------------------------------------------------------------------------------------
// checkpoint files

export interface Checkpoint<C = unknown> {
  tensors: TensorDict;
  /** JSON-serialisable configuration written to `<name>.json`. */
  config: C;
  /** String metadata stored in the safetensors header. */
  metadata?: Record<string, string>;
}

export interface CheckpointPaths {
  weightsPath: string;
  configPath: string;
}

/**
 * Resolves a checkpoint target: a path ending in `.safetensors` names the weights file (config is
 * `<stem>.json` beside it); anything else is a directory holding `<name>.safetensors` + `<name>.json`.
 */
export function checkpointPaths(target: string, name = 'model'): CheckpointPaths {
  if (target.endsWith('.safetensors')) {
    return { weightsPath: target, configPath: target.slice(0, -'.safetensors'.length) + '.json' };
  }
  return { weightsPath: path.join(target, `${name}.safetensors`), configPath: path.join(target, `${name}.json`) };
}

/**
 * Saves weights and config atomically (each file via temp + rename). Everything is serialised
 * before the first write, so invalid tensors or a non-JSON config never overwrite a checkpoint.
 */
export async function saveCheckpoint<C>(target: string, ckpt: Checkpoint<C>, options: { name?: string } = {}): Promise<CheckpointPaths> {
  const paths = checkpointPaths(target, options.name);
  const weights = serializeSafetensors(ckpt.tensors, ckpt.metadata);
  const configText = JSON.stringify(ckpt.config, null, 2);
  if (configText === undefined) throw new Error(`saveCheckpoint: config for ${paths.configPath} is not JSON-serialisable.`);
  await fs.promises.mkdir(path.dirname(paths.weightsPath), { recursive: true });
  await writeFileAtomic(paths.weightsPath, weights);
  await writeFileAtomic(paths.configPath, configText + '\n');
  return paths;
}

export interface LoadedCheckpoint<C = unknown> extends SafetensorsFile, CheckpointPaths {
  config: C;
}

/**
 * Loads a checkpoint written by `saveCheckpoint`. A missing or malformed config is an
 * `InputError` naming it; so is a NaN or ±Inf weight (naming the tensor; `readSafetensors`).
 */
export async function loadCheckpoint<C = unknown>(target: string, options: { name?: string } = {}): Promise<LoadedCheckpoint<C>> {
  const paths = checkpointPaths(target, options.name);
  const file = await readSafetensors(paths.weightsPath);
  let text: string;
  try {
    text = await fs.promises.readFile(paths.configPath, 'utf8');
  } catch (e) {
    throw new InputError(`loadCheckpoint: cannot read config ${paths.configPath} beside ${paths.weightsPath}: ${(e as Error).message}`, { file: paths.configPath, expected: 'a JSON config', found: 'no readable file', cause: e });
  }
  let config: C;
  try {
    config = JSON.parse(text) as C;
  } catch (e) {
    throw new InputError(`loadCheckpoint: config ${paths.configPath} is not valid JSON: ${(e as Error).message}`, { file: paths.configPath, expected: 'valid JSON', found: text.slice(0, 40), cause: e });
  }
  return { ...file, ...paths, config };
}

/**
 * Loads a PyTorch-style state dict (a safetensors path, bytes, or a parsed file) into tfjs
 * variables. All checks run before any variable is assigned; every problem (missing, unexpected,
 * mis-shaped, wrong kind of dtype) is reported in ONE error listing name, expected and found.
 */
export async function loadStateDictInto(
  vars: Record<string, tf.Variable>,
  file: string | Uint8Array | SafetensorsFile,
  options: LoadStateDictOptions = {},
): Promise<LoadStateDictReport> {
  // A path is read lazily: headers first, then only the tensors that are assigned.
  let reader: SafetensorsReader | null = null;
  let parsed: SafetensorsFile;
  if (typeof file === 'string') {
    reader = await SafetensorsReader.open(file);
    parsed = { tensors: new Map(reader.names.map((n) => [n, { ...reader!.info(n), data: new Float32Array(0) }])), metadata: reader.metadata };
  } else {
    parsed = file instanceof Uint8Array ? parseSafetensors(file) : file;
  }
  try {
    return await assignStateDict(vars, parsed, reader, typeof file === 'string' ? file : '<state dict>', options);
  } finally {
    await reader?.close();
  }
}
