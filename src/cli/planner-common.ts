/**
 * Helpers shared by the `planner` commands that run a model (`train-il`, `sample`): the planner
 * size flags, the config from --config / --preset, flag-naming config errors, the backend.
 */
import * as fs from 'node:fs';
import { init } from '../core/backend.js';
import { ConfigError, InputError } from '../core/errors.js';
import { type PlannerConfig, type PlannerConfigInput, plannerConfig } from '../models/planner.js';
import { backendOption, type OptionSpec, type ParsedArgs, UsageError, usageText } from './args.js';
import type { CliIO } from './main.js';
import { presetOption } from './planner.js';
export const PLANNER_OPTIONS: OptionSpec = {
  preset: 'string',
  config: 'string',
  'cond-dim': 'number',
  'num-layers': 'number',
  'num-heads': 'number',
  'head-dim': 'number',
  'dit-output-dim': 'number',
  'mlp-hidden': 'number',
};

export function num(opts: ParsedArgs, name: string): number | undefined {
  const v = opts[name];
  return typeof v === 'number' ? v : undefined;
}

export function str(opts: ParsedArgs, name: string): string | undefined {
  const v = opts[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(opts: ParsedArgs, name: string, usage: string): string {
  const v = str(opts, name);
  if (!v) throw new UsageError(`Missing required option --${name}.\n${usageText(usage)}`, { field: `--${name}`, expected: 'a value', found: undefined });
  return v;
}

export function readJson<T>(file: string, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const found = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'a folder' : (e as Error).message;
    throw new InputError(InputError.format({ file, expected: `the ${what} (JSON)`, found }), { file, expected: `the ${what} (JSON)`, found, cause: e });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    const found = text.trim() === '' ? 'an empty file' : `invalid JSON (${(e as Error).message})`;
    throw new InputError(InputError.format({ file, expected: `the ${what} (JSON)`, found }), { file, expected: `the ${what} (JSON)`, found, cause: e });
  }
}

/** The flag that sets each planner / IL trainer config field, to name it in errors. */
const FLAG_OF_CONFIG: Record<string, string> = {
  condDim: 'cond-dim',
  numLayers: 'num-layers',
  numHeads: 'num-heads',
  headDim: 'head-dim',
  ditOutputDim: 'dit-output-dim',
  mlpHidden: 'mlp-hidden',
  epochs: 'epochs',
  batchSize: 'batch-size',
  microBatchSize: 'micro-batch-size',
  minLr: 'min-lr',
  warmup: 'warmup',
  scheduleInterval: 'schedule-interval',
  maxGradNorm: 'max-grad-norm',
  emaDecay: 'ema-decay',
  seed: 'seed',
  valSeed: 'val-seed',
  valEvery: 'val-every',
  valBatchSize: 'val-batch-size',
  valMaxRows: 'val-max-rows',
  keepBest: 'keep-best',
  checkpointEverySteps: 'checkpoint-every',
  'optimizer.lr': 'lr',
  'optimizer.weightDecay': 'weight-decay',
  'optimizer.beta2': 'beta2',
};

/** Runs `fn`; a config error about a field set by a flag on this command line names that flag (exit 2). */
export function namingFlags<T>(opts: ParsedArgs, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ConfigError) || e.field === undefined) throw e;
    const flag = FLAG_OF_CONFIG[e.field];
    if (flag === undefined || opts[flag] === undefined) throw e;
    throw new UsageError(`Option --${flag}: ${e.message.replace(/^\S*:\s*/, '')}`, { field: `--${flag}`, expected: e.expected, found: e.found, cause: e });
  }
}

/** Planner config from --config / --preset and the size overrides; condDim defaults to the cache's H. */
export function plannerConfigFromArgs(opts: ParsedArgs, cacheCondDim: number | undefined): PlannerConfig {
  const file = str(opts, 'config');
  let input: PlannerConfigInput = file ? readJson<PlannerConfigInput>(file, 'planner config') : {};
  const preset = presetOption(str(opts, 'preset'));
  if (preset !== undefined) input = { ...input, preset };
  const over: [string, keyof PlannerConfig][] = [
    ['cond-dim', 'condDim'],
    ['num-layers', 'numLayers'],
    ['num-heads', 'numHeads'],
    ['head-dim', 'headDim'],
    ['dit-output-dim', 'ditOutputDim'],
    ['mlp-hidden', 'mlpHidden'],
  ];
  const o: Record<string, unknown> = { ...input };
  for (const [flag, key] of over) {
    const v = num(opts, flag);
    if (v !== undefined) o[key] = v;
  }
  if (o.condDim === undefined && cacheCondDim !== undefined) o.condDim = cacheCondDim;
  return plannerConfig(o as PlannerConfigInput);
}

export async function initBackend(opts: ParsedArgs, io: CliIO, quiet: boolean): Promise<string> {
  const backend = await init({ backend: backendOption(opts) });
  if (!quiet) io.err(`tfjs backend: ${backend}`);
  return backend;
}

export function progressMode(opts: ParsedArgs): 'silent' | 'auto' {
  return opts.quiet ? 'silent' : 'auto';
}
