/**
 * Planner checkpoints as folders: `model.safetensors` (the PyTorch-named state dict, see
 * `weights.ts`) and `model.json` (the `PlannerConfig`), the layout the IL trainer writes into
 * `last/` and `best-epoch-XXXX/`.
 *
 * ```ts
 * await planner.save('runs/my-planner');                                  // folder replaced atomically
 * const p = await DiffusionPlanner.fromCheckpoint('runs/il');             // a run folder: its last/
 * const q = await DiffusionPlanner.fromCheckpoint('recogdrive.safetensors', { config: { preset: 'small' } });
 * ```
 *
 * `fromCheckpoint` accepts a checkpoint folder, a training run folder (its `last/` is used) or a
 * `.safetensors` file (config from `<stem>.json` beside it, the file's `config` metadata, or
 * `options.config`). Problems are `InputError`s naming the path, what was expected and found.
 * Node only (reads files); `DiffusionPlanner` loads this module on first use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from '../core/atomic.js';
import { checkpointPaths, saveCheckpoint } from '../core/checkpoint.js';
import { InputError } from '../core/errors.js';
import { readSafetensors } from '../core/safetensors.js';
import { DiffusionPlanner, type PlannerConfig, type PlannerConfigInput, type PlannerInit, plannerConfig } from './planner.js';
import { loadPlannerStateDict, plannerStateDict } from './weights.js';

export interface ResolvedPlannerCheckpoint {
  /** The safetensors weights. */
  weightsPath: string;
  /** The JSON config beside them (may not exist for a bare `.safetensors` file). */
  configPath: string;
  /** The folder holding both (for `data.json` and other facts written beside them). */
  dir: string;
}

export interface LoadPlannerOptions extends PlannerInit {
  /** The config when the checkpoint has none (a bare ReCogDrive `.safetensors` file). */
  config?: PlannerConfigInput;
}

const WHAT = 'a planner checkpoint folder (model.safetensors + model.json), a training run folder (its last/ is used) or a .safetensors file';

/**
 * Where the weights and config of `target` are: a checkpoint folder, a run folder (its `last/`),
 * or a `.safetensors` file. A missing path or a folder without weights is an `InputError`.
 */
export function resolvePlannerCheckpoint(target: string): ResolvedPlannerCheckpoint {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw new InputError(`${target}: expected ${WHAT}, found no such file or folder.`, { file: target, expected: WHAT, found: 'nothing' });
  }
  if (stat.isFile()) {
    if (!target.endsWith('.safetensors')) {
      throw new InputError(`${target}: expected ${WHAT}, found a ${path.extname(target) || 'extension-less'} file.`, { file: target, expected: WHAT, found: path.basename(target) });
    }
    const paths = checkpointPaths(target);
    return { ...paths, dir: path.dirname(target) };
  }
  for (const dir of [target, path.join(target, 'last')]) {
    const paths = checkpointPaths(dir, 'model');
    if (fs.existsSync(paths.weightsPath)) return { ...paths, dir };
  }
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(target).sort();
  } catch {
    /* listed as empty */
  }
  const found = entries.length === 0 ? 'an empty folder' : `a folder holding ${entries.slice(0, 8).join(', ')}${entries.length > 8 ? ', ...' : ''}`;
  throw new InputError(`${target}: expected ${WHAT}, found ${found} (neither model.safetensors nor last/model.safetensors).`, {
    file: target,
    expected: WHAT,
    found,
  });
}

function readConfigFile(file: string): PlannerConfigInput {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read the planner config: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    return JSON.parse(text) as PlannerConfigInput;
  } catch (e) {
    throw new InputError(`${file}: expected the planner config as JSON, found invalid JSON (${(e as Error).message}).`, { file, expected: 'JSON', found: 'invalid JSON', cause: e });
  }
}

/** The config of a resolved checkpoint: `model.json`, else the weights' `config` metadata, else `fallback`. */
export async function plannerCheckpointConfig(ck: ResolvedPlannerCheckpoint, fallback?: PlannerConfigInput): Promise<{ config: PlannerConfig; from: string }> {
  if (fs.existsSync(ck.configPath)) return { config: plannerConfig(readConfigFile(ck.configPath)), from: ck.configPath };
  if (fallback) return { config: plannerConfig(fallback), from: 'the given config' };
  const file = await readSafetensors(ck.weightsPath);
  const meta = file.metadata?.config;
  if (typeof meta === 'string') {
    try {
      return { config: plannerConfig(JSON.parse(meta) as PlannerConfigInput), from: `${ck.weightsPath} (metadata 'config')` };
    } catch {
      /* fall through to the error below */
    }
  }
  throw new InputError(
    `${ck.weightsPath}: expected a planner config beside it (${ck.configPath}) or in its metadata, found none. ` +
      'Pass the config: DiffusionPlanner.fromCheckpoint(file, { config: { preset: "small", condDim: 1536 } }); CLI: --preset (with --cond-dim) or --config FILE.',
    { file: ck.weightsPath, field: 'config', expected: ck.configPath, found: 'nothing' },
  );
}

/** Builds a planner from a checkpoint (see the module doc). */
export async function loadPlannerCheckpoint(target: string, options: LoadPlannerOptions = {}): Promise<DiffusionPlanner> {
  const ck = resolvePlannerCheckpoint(target);
  const { config } = await plannerCheckpointConfig(ck, options.config);
  const file = await readSafetensors(ck.weightsPath);
  const planner = new DiffusionPlanner(config, options);
  try {
    loadPlannerStateDict(planner, file.tensors, ck.weightsPath);
  } catch (e) {
    planner.dispose();
    throw e;
  }
  return planner;
}

/** Writes `dir` with `model.safetensors` and `model.json`, replacing the folder atomically. */
export async function savePlannerCheckpoint(planner: DiffusionPlanner, dir: string): Promise<void> {
  const tensors = plannerStateDict(planner);
  await fs.promises.mkdir(path.dirname(path.resolve(dir)), { recursive: true });
  await writeDirAtomic(dir, async (tmp) => {
    await saveCheckpoint(tmp, { tensors, config: planner.config, metadata: { format: 'drivekit-planner' } }, { name: 'model' });
  });
}
