/**
 * `drivekit planner train-il | sample | make-synthetic-cache`: the IL stage of ReCogDrive on a
 * hidden-state cache (Arrow), sampling trajectories from a checkpoint, and a synthetic cache to
 * try the pipeline without a VLM. Dispatched from `src/cli/planner.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { col, ArrowFileWriter } from '../core/arrow.js';
import { recoverDir } from '../core/atomic.js';
import { init } from '../core/backend.js';
import { checkpointPaths } from '../core/checkpoint.js';
import { ConfigError, InputError } from '../core/errors.js';
import { createLogger, JsonlSink, Logger } from '../core/logger.js';
import { IL_CURVES, writeLogCurves } from './curves.js';
import { progress, type Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { readSafetensors } from '../core/safetensors.js';
import { TrajectoryErrors } from '../metrics/trajectory.js';
import { DiffusionPlanner, type PlannerConfig, type PlannerConfigInput, plannerConfig } from '../models/planner.js';
import { plannerCheckpointConfig, resolvePlannerCheckpoint } from '../models/planner-checkpoint.js';
import { loadPlannerStateDict } from '../models/weights.js';
import { HiddenStateCache, writeSyntheticCache } from '../rl/hidden-state-cache.js';
import { ILDataRange, type ILDataSource } from '../rl/il-data.js';
import { plannerForIL } from '../rl/il-planner.js';
import { type ILEvent, type ILTrainerState, ILTrainer, type ILTrainOptions, disposeBatch, resolveILConfig, rowsToBatch } from '../rl/il-trainer.js';
import { backendOption, ensureParentDir, intOption, type OptionSpec, type ParsedArgs, parseArgs, UsageError, usageText } from './args.js';
import { checkCacheFile } from './files.js';
import type { CliIO } from './main.js';
import { presetOption, PRESET_NAMES } from './planner.js';

const PLANNER_OPTIONS: OptionSpec = {
  preset: 'string',
  config: 'string',
  'cond-dim': 'number',
  'num-layers': 'number',
  'num-heads': 'number',
  'head-dim': 'number',
  'dit-output-dim': 'number',
  'mlp-hidden': 'number',
};

function num(opts: ParsedArgs, name: string): number | undefined {
  const v = opts[name];
  return typeof v === 'number' ? v : undefined;
}

function str(opts: ParsedArgs, name: string): string | undefined {
  const v = opts[name];
  return typeof v === 'string' ? v : undefined;
}

function required(opts: ParsedArgs, name: string, usage: string): string {
  const v = str(opts, name);
  if (!v) throw new UsageError(`Missing required option --${name}.\n${usageText(usage)}`, { field: `--${name}`, expected: 'a value', found: undefined });
  return v;
}

function readJson<T>(file: string, what: string): T {
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
function namingFlags<T>(opts: ParsedArgs, fn: () => T): T {
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
function plannerConfigFromArgs(opts: ParsedArgs, cacheCondDim: number | undefined): PlannerConfig {
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

async function initBackend(opts: ParsedArgs, io: CliIO, quiet: boolean): Promise<string> {
  const backend = await init({ backend: backendOption(opts) });
  if (!quiet) io.err(`tfjs backend: ${backend}`);
  return backend;
}

function progressMode(opts: ParsedArgs): 'silent' | 'auto' {
  return opts.quiet ? 'silent' : 'auto';
}

// ---------------------------------------------------------------------------------------------
// train-il

const TRAIN_USAGE = `drivekit planner train-il --cache FILE --out DIR [options]

  --cache FILE            hidden-state cache (Arrow; see docs/il-training.md)
  --val-cache FILE        validation cache (default: the last --val-fraction of --cache)
  --val-fraction F        rows held out for validation when no --val-cache (default 0.1; 0 = none)
  --out DIR               checkpoints (last/, best-epoch-XXXX/), progress.jsonl (+ .svg/.png curves), run.json
  --preset ${PRESET_NAMES.join('|')} (small), --config FILE (JSON planner config), --cond-dim H (default: the cache's),
  --num-layers N --num-heads N --head-dim N --dit-output-dim N --mlp-hidden N
  --init CKPT             start from planner weights: a .safetensors file (ReCogDrive or drivekit),
                          a checkpoint folder or a run folder (its last/)
  --resume DIR            continue a run from its last/ checkpoint (settings come from it; a different
                          --epochs stretches the learning-rate schedule: a warning says so)
  --stop-at-epoch N       stop after epoch N (a checkpoint is written) without changing the schedule
                          of --epochs; resume later to go on exactly as one uninterrupted run
  --epochs N (200) --batch-size B (512; at most the training rows) --micro-batch-size M (0 = B; gradients of B/M passes are accumulated)
  --lr X (1e-4) --min-lr X (1e-6) --warmup N (3)
  --schedule-interval epoch|step (epoch) --weight-decay X (1e-4) --beta2 X (0.95)
  --max-grad-norm X (1.0; 0 = off) --ema-decay X (0 = off; ReCogDrive's EMA script: 0.999)
  --seed S (0) --val-seed S --val-every N (1) --val-batch-size B (16) --val-max-rows N (0 = all)
  --val-steps K (5) --keep-best K (5) --checkpoint-every N (0: epoch ends only) --log-every N (10)
  --backend auto|wasm|cpu|webgpu|tensorflow  --quiet  --json`;

const TRAIN_SPEC: OptionSpec = {
  cache: 'string',
  'val-cache': 'string',
  'val-fraction': 'number',
  out: 'string',
  ...PLANNER_OPTIONS,
  init: 'string',
  resume: 'string',
  epochs: 'number',
  'stop-at-epoch': 'number',
  'batch-size': 'number',
  'micro-batch-size': 'number',
  lr: 'number',
  'min-lr': 'number',
  warmup: 'number',
  'schedule-interval': 'string',
  'weight-decay': 'number',
  beta2: 'number',
  'max-grad-norm': 'number',
  'ema-decay': 'number',
  seed: 'number',
  'val-seed': 'number',
  'val-every': 'number',
  'val-batch-size': 'number',
  'val-max-rows': 'number',
  'val-steps': 'number',
  'keep-best': 'number',
  'checkpoint-every': 'number',
  'log-every': 'number',
  backend: 'string',
  quiet: 'boolean',
  json: 'boolean',
};

/** Trainer options given explicitly on the command line. */
function trainOptionsFromArgs(opts: ParsedArgs): ILTrainOptions {
  const o: ILTrainOptions = {};
  const set = <K extends keyof ILTrainOptions>(flag: string, key: K) => {
    const v = num(opts, flag);
    if (v !== undefined) (o as Record<string, unknown>)[key] = v;
  };
  set('epochs', 'epochs');
  set('batch-size', 'batchSize');
  set('micro-batch-size', 'microBatchSize');
  set('min-lr', 'minLr');
  set('warmup', 'warmup');
  set('max-grad-norm', 'maxGradNorm');
  set('ema-decay', 'emaDecay');
  set('seed', 'seed');
  set('val-seed', 'valSeed');
  set('val-every', 'valEvery');
  set('val-batch-size', 'valBatchSize');
  set('val-max-rows', 'valMaxRows');
  set('keep-best', 'keepBest');
  set('checkpoint-every', 'checkpointEverySteps');
  const si = str(opts, 'schedule-interval');
  if (si !== undefined) {
    if (si !== 'epoch' && si !== 'step') throw new UsageError(`Invalid --schedule-interval ${JSON.stringify(si)}. Should be epoch or step.`);
    o.scheduleInterval = si;
  }
  const optim: Record<string, number> = {};
  if (num(opts, 'lr') !== undefined) optim.lr = num(opts, 'lr')!;
  if (num(opts, 'weight-decay') !== undefined) optim.weightDecay = num(opts, 'weight-decay')!;
  if (num(opts, 'beta2') !== undefined) optim.beta2 = num(opts, 'beta2')!;
  if (Object.keys(optim).length > 0) o.optimizer = optim;
  return o;
}

/** Optimiser steps below which `train-il` warns that the run is too short to learn anything. */
export const MIN_USEFUL_STEPS = 50;

/**
 * Fits the batch to small data and warns about runs too short to learn: the batch is at most the
 * training rows (said in the log), and fewer than `MIN_USEFUL_STEPS` optimiser steps, or a warmup
 * as long as the run, is a warning naming the flags to change (printed even with --quiet).
 */
function fitBatchToData(options: ILTrainOptions, trainRows: number, io: CliIO, quiet: boolean): ILTrainOptions {
  const c = resolveILConfig(options);
  let o = options;
  let batch = c.batchSize;
  if (trainRows > 0 && batch > trainRows) {
    if (!quiet) io.err(`batch size ${batch} is larger than the ${trainRows} training rows: using batch size ${trainRows}`);
    batch = trainRows;
    o = { ...o, batchSize: batch, ...(c.microBatchSize > batch ? { microBatchSize: 0 } : {}) };
  }
  const perEpoch = Math.max(1, Math.ceil(trainRows / batch));
  const steps = c.epochs * perEpoch;
  if (steps < MIN_USEFUL_STEPS) {
    const suggestBatch = Math.max(1, Math.min(batch, 2 ** Math.floor(Math.log2(Math.max(1, trainRows / 4)))));
    const suggestEpochs = Math.ceil(MIN_USEFUL_STEPS / Math.max(1, Math.ceil(trainRows / suggestBatch)));
    io.err(
      `warning: this run makes ${steps} optimiser step${steps === 1 ? '' : 's'} (${c.epochs} epoch${c.epochs === 1 ? '' : 's'} x ${perEpoch} of batch ${batch}), ` +
        `too few to learn (at least ${MIN_USEFUL_STEPS}, better hundreds): raise --epochs or lower --batch-size, e.g. --batch-size ${suggestBatch} --epochs ${Math.max(suggestEpochs, c.epochs)}.`,
    );
  }
  const warmupSteps = c.scheduleInterval === 'epoch' ? c.warmup * perEpoch : c.warmup;
  if (warmupSteps >= steps && steps > 0) {
    io.err(`warning: the warmup (--warmup ${c.warmup} ${c.scheduleInterval === 'epoch' ? 'epochs' : 'steps'}) lasts the whole run of ${steps} steps, so the learning rate never reaches --lr ${c.optimizer.lr}: lower --warmup.`);
  }
  return o;
}

export async function trainILCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, TRAIN_SPEC, TRAIN_USAGE);
  const cachePath = required(opts, 'cache', TRAIN_USAGE);
  const outDir = required(opts, 'out', TRAIN_USAGE);
  const quiet = Boolean(opts.quiet);
  const resumeDir = str(opts, 'resume');
  await initBackend(opts, io, quiet);

  // Settings: from the checkpoint when resuming, overridden by explicit options.
  let config: PlannerConfig;
  let trainOptions: ILTrainOptions = trainOptionsFromArgs(opts);
  let resumeState: ILTrainerState | null = null;
  if (resumeDir) {
    // A run killed mid-swap may have left `last.old/` or a complete temporary folder instead.
    const recovered = await recoverDir(resumeDir);
    if (!quiet && recovered.source !== null && recovered.source !== 'target') io.err(`Recovered ${resumeDir} from ${recovered.source === 'old' ? `${resumeDir}.old` : 'a complete temporary folder'} left by a killed run.`);
    const paths = checkpointPaths(resumeDir, 'trainer');
    resumeState = readJson<ILTrainerState>(paths.configPath, 'trainer state');
    if (resumeState.format !== 'drivekit-il-trainer') throw new Error(`${paths.configPath}: not an IL trainer state (format ${JSON.stringify(resumeState.format)}).`);
    config = plannerConfig(resumeState.modelConfig as PlannerConfigInput);
    const sizeFlags = Object.keys(PLANNER_OPTIONS).filter((k) => opts[k] !== undefined);
    if (sizeFlags.length > 0) throw new UsageError(`--resume takes the planner config from the checkpoint; drop ${sizeFlags.map((f) => '--' + f).join(', ')}.`);
    trainOptions = { ...resumeState.config, ...trainOptions, optimizer: { ...resumeState.config.optimizer, ...trainOptions.optimizer } };
    const planned = resumeState.config.epochs;
    if (trainOptions.epochs !== undefined && trainOptions.epochs !== planned) {
      io.err(
        `warning: --epochs ${trainOptions.epochs} differs from the ${planned} epochs the checkpoint was planned for: the learning-rate schedule (warmup and decay to --min-lr) is stretched over ${trainOptions.epochs} epochs from here on, so this run no longer continues the original one. To continue the original schedule, drop --epochs (use --stop-at-epoch N to stop early).`,
      );
    }
  }
  const stopAt = num(opts, 'stop-at-epoch');
  if (stopAt !== undefined && (!Number.isInteger(stopAt) || stopAt < 1)) throw new UsageError(`--stop-at-epoch: expected an integer >= 1, found ${stopAt}.`, { field: '--stop-at-epoch', expected: 'an integer >= 1', found: stopAt });

  await checkCacheFile(cachePath, '--cache');
  const valPath = str(opts, 'val-cache');
  if (valPath) await checkCacheFile(valPath, '--val-cache');
  const cacheProbe = await HiddenStateCache.open(cachePath);
  const cacheH = cacheProbe.condDim;
  await cacheProbe.close();
  if (!resumeDir) config = namingFlags(opts, () => plannerConfigFromArgs(opts, cacheH));
  config = config!;
  const expect = { condDim: config.condDim, source: resumeDir ? `the checkpoint ${resumeDir}` : 'the planner config' };
  const cache = await HiddenStateCache.open(cachePath, expect);
  let valCache: HiddenStateCache | null = null;
  let train: ILDataSource = cache;
  let val: ILDataSource | null = null;
  if (valPath) {
    valCache = await HiddenStateCache.open(valPath, { condLength: cache.condLength, condDim: config.condDim, source: `the training cache ${cachePath}` });
    val = valCache;
  } else {
    const frac = num(opts, 'val-fraction') ?? 0.1;
    if (!(frac >= 0 && frac < 1)) throw new UsageError(`Option --val-fraction: expected a number in [0, 1), found ${frac}.`, { field: '--val-fraction', expected: 'a number in [0, 1)', found: frac });
    const nVal = Math.floor(cache.numRows * frac);
    if (nVal > 0) {
      train = new ILDataRange(cache, 0, cache.numRows - nVal);
      val = new ILDataRange(cache, cache.numRows - nVal, cache.numRows);
    }
  }

  if (!resumeDir) trainOptions = namingFlags(opts, () => fitBatchToData(trainOptions, train.numRows, io, quiet));

  const planner = new DiffusionPlanner(config, { seed: trainOptions.seed ?? 0 });
  const initPath = str(opts, 'init');
  if (initPath && !resumeDir) {
    const weights = resolvePlannerCheckpoint(initPath).weightsPath;
    const file = await readSafetensors(weights);
    const report = loadPlannerStateDict(planner, file.tensors, weights);
    if (!quiet) io.err(`initialised ${report.loaded} tensors from ${weights}${report.dropped.length ? ` (dropped ${report.dropped.length})` : ''}`);
  }
  const valSteps = num(opts, 'val-steps');
  const model = plannerForIL(planner, valSteps !== undefined ? { steps: valSteps } : {});

  fs.mkdirSync(outDir, { recursive: true });
  const logger: Logger = createLogger({ dir: outDir, formats: ['jsonl'], append: Boolean(resumeDir) });
  let bar: Progress | null = null;
  const onEvent = (e: ILEvent) => {
    switch (e.type) {
      case 'start':
        bar = progress({ total: e.totalSteps, label: 'train-il', mode: progressMode(opts) });
        bar.update(e.startStep);
        if (!quiet) io.err(`training ${e.trainRows} rows (${e.stepsPerEpoch} steps/epoch), validating on ${e.valRows}, epochs ${e.startEpoch}..${e.epochs - 1}`);
        break;
      case 'step':
        bar?.update(e.globalStep, { epoch: e.epoch, loss: e.loss, lr: e.lr });
        break;
      case 'epoch':
        if (!quiet) io.err(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(5)}, lr ${e.lr.toExponential(2)}, ${e.seconds.toFixed(1)} s`);
        break;
      case 'validation':
        if (!quiet) io.err(`epoch ${e.epoch}: val L1 ${e.l1.toFixed(4)}, ADE ${e.ade.toFixed(3)} m, FDE ${e.fde.toFixed(3)} m (${e.rows} rows, ${e.seconds.toFixed(1)} s)`);
        break;
      case 'end':
        bar?.stop();
        break;
      default:
        break;
    }
  };
  const trainer = new ILTrainer(model, train, val, {
    ...trainOptions,
    outDir,
    logger,
    onEvent,
    logEverySteps: num(opts, 'log-every') ?? 10,
    dataInfo: { cache: path.resolve(cachePath), condLength: cache.condLength, condDim: cache.condDim, trainRows: train.numRows, valRows: val?.numRows ?? 0, valCache: valPath ? path.resolve(valPath) : null },
  });
  try {
    if (resumeDir) await trainer.resume(resumeDir);
    const runInfo = { command: 'train-il', planner: config, trainer: trainer.config, cache: path.resolve(cachePath), condLength: cache.condLength, resumedFrom: resumeDir ?? null };
    fs.writeFileSync(path.join(outDir, 'run.json'), JSON.stringify(runInfo, null, 2) + '\n');
    if (stopAt !== undefined && stopAt > trainer.config.epochs) throw new UsageError(`--stop-at-epoch ${stopAt} is beyond --epochs ${trainer.config.epochs}.`, { field: '--stop-at-epoch', expected: `<= ${trainer.config.epochs}`, found: stopAt });
    if (stopAt !== undefined && stopAt <= trainer.position.epoch) io.err(`warning: --stop-at-epoch ${stopAt}: the checkpoint is already at epoch ${trainer.position.epoch}; nothing to train.`);
    const result = await trainer.fit(stopAt !== undefined ? { epochs: stopAt } : {});
    await writeLogCurves(path.join(outDir, 'progress.jsonl'), IL_CURVES, { xLabel: 'step', title: 'IL' }, io, quiet || Boolean(opts.json));
    const last = result.validation.at(-1)?.result;
    const summary = {
      epochs: result.epochs,
      globalStep: result.globalStep,
      trainLoss: result.trainLoss.at(-1) ?? null,
      valL1: last?.l1 ?? null,
      best: result.best.map((b) => ({ epoch: b.epoch, valL1: b.valL1, dir: b.dir })),
      last: path.join(outDir, 'last'),
    };
    if (opts.json) io.out(JSON.stringify(summary));
    else {
      io.out(`done: ${summary.epochs} epochs, ${summary.globalStep} steps, train loss ${summary.trainLoss?.toFixed(5) ?? '-'}${summary.valL1 !== null ? `, val L1 ${summary.valL1.toFixed(4)}` : ''}`);
      io.out(`checkpoints: ${summary.last}${summary.best.length ? `, best ${summary.best.map((b) => path.basename(b.dir)).join(', ')}` : ''}`);
    }
    return 0;
  } finally {
    (bar as Progress | null)?.stop();
    logger.close();
    trainer.dispose();
    planner.dispose();
    await cache.close();
    await valCache?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// sample

const SAMPLE_USAGE = `drivekit planner sample --cache FILE --checkpoint CKPT --out traj.arrow [options]

  --checkpoint CKPT   a checkpoint folder (model.safetensors + model.json), a train-il run folder
                      (its last/ is used) or a .safetensors file (its config: FILE.json beside it,
                      the file's config metadata, or --preset/--config/--cond-dim)
  --out FILE          the trajectories (Arrow; its folder is created)
  --steps K (5) --seed S (0) --batch-size B (16) --group-size G (1: samples per scene)
  --deterministic     plain DDIM (eta = 0) instead of ReCogDrive's stochastic evaluation sampler
  --rows N            only the first N rows
  --log FILE          JSONL log (default: OUT with .log.jsonl)
  --backend ...  --quiet  --json`;

const SAMPLE_SPEC: OptionSpec = {
  cache: 'string',
  checkpoint: 'string',
  out: 'string',
  ...PLANNER_OPTIONS,
  steps: 'number',
  seed: 'number',
  'batch-size': 'number',
  'group-size': 'number',
  deterministic: 'boolean',
  rows: 'number',
  log: 'string',
  backend: 'string',
  quiet: 'boolean',
  json: 'boolean',
};

/** Output schema of `planner sample`: one row per (scene, sample). */
export const TRAJECTORY_SCHEMA = { token: col.utf8(), sample: col.int32(), trajectory: col.vector([8, 3]) };

export async function sampleCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, SAMPLE_SPEC, SAMPLE_USAGE);
  const cachePath = required(opts, 'cache', SAMPLE_USAGE);
  const ckpt = required(opts, 'checkpoint', SAMPLE_USAGE);
  const outPath = required(opts, 'out', SAMPLE_USAGE);
  const quiet = Boolean(opts.quiet);
  const steps = intOption(opts, 'steps', undefined, { min: 1 });
  const seed = intOption(opts, 'seed', 0);
  const bs = intOption(opts, 'batch-size', 16, { min: 1 });
  const G = intOption(opts, 'group-size', 1, { min: 1 });
  const rowsLimit = intOption(opts, 'rows', undefined, { min: 1 });
  // A missing path or a folder without weights is reported before the backend starts.
  const paths = resolvePlannerCheckpoint(ckpt);
  const dir = paths.dir;
  await checkCacheFile(cachePath, '--cache');
  await initBackend(opts, io, quiet);

  let config: PlannerConfig;
  const sizeFlags = Object.keys(PLANNER_OPTIONS).filter((k) => opts[k] !== undefined);
  if (fs.existsSync(paths.configPath)) {
    if (sizeFlags.length > 0) throw new UsageError(`${paths.configPath} gives the planner config; drop ${sizeFlags.map((f) => '--' + f).join(', ')}.`, { field: `--${sizeFlags[0]}`, expected: 'no size options with a checkpoint that has a config', found: sizeFlags.map((f) => '--' + f) });
    config = plannerConfig(readJson<PlannerConfigInput>(paths.configPath, 'planner config'));
  } else if (sizeFlags.length > 0) {
    config = namingFlags(opts, () => plannerConfigFromArgs(opts, undefined));
  } else {
    config = (await plannerCheckpointConfig(paths)).config; // the weights' config metadata, or an error naming --preset/--config
  }
  // The conditioning length the checkpoint was trained with, when known (issue #12: changing L breaks the planner).
  const dataJson = path.join(dir, 'data.json');
  const trainedL = fs.existsSync(dataJson) ? readJson<{ condLength?: number }>(dataJson, 'checkpoint data info').condLength : undefined;
  const cache = await HiddenStateCache.open(cachePath, {
    condDim: config.condDim,
    ...(trainedL !== undefined ? { condLength: trainedL } : {}),
    source: trainedL !== undefined ? `the checkpoint (${dataJson})` : `the checkpoint config (${paths.configPath})`,
  });
  const planner = new DiffusionPlanner(config);
  const logPath = str(opts, 'log') ?? outPath.replace(/\.arrow$/, '') + '.log.jsonl';
  ensureParentDir(outPath);
  ensureParentDir(logPath, 'log');
  const logger = new Logger([new JsonlSink(logPath, { append: false })]);
  let writer: ArrowFileWriter<typeof TRAJECTORY_SCHEMA> | null = null;
  let bar: Progress | null = null;
  try {
    const file = await readSafetensors(paths.weightsPath);
    loadPlannerStateDict(planner, file.tensors, paths.weightsPath);
    const n = Math.min(rowsLimit ?? cache.numRows, cache.numRows);
    writer = await ArrowFileWriter.open(outPath, TRAJECTORY_SCHEMA, {
      metadata: { 'drivekit.source': path.resolve(cachePath), 'drivekit.checkpoint': path.resolve(ckpt), 'drivekit.sampler': JSON.stringify({ steps: steps ?? config.numInferenceSteps, seed, groupSize: G, deterministic: Boolean(opts.deterministic) }) },
    });
    bar = progress({ total: n, label: 'sample', mode: progressMode(opts) });
    const rng = new Rng(seed);
    const errors = new TrajectoryErrors({ horizon: config.horizon, poseDim: config.actionDim });
    const t0 = performance.now();
    for (let start = 0; start < n; start += bs) {
      const count = Math.min(bs, n - start);
      const rows = await cache.readRows(Int32Array.from({ length: count }, (_, j) => start + j));
      const batch = rowsToBatch(rows);
      let traj: Float32Array;
      try {
        const r = planner.sample(
          { hiddenStates: batch.cond, history: batch.history, status: batch.status },
          { rng: rng.split(), groupSize: G, ...(steps !== undefined ? { steps } : {}), ...(opts.deterministic ? { deterministic: true } : {}) },
        );
        traj = r.trajectory.dataSync() as Float32Array;
        r.trajectory.dispose();
        r.normalized.dispose();
      } finally {
        disposeBatch(batch);
      }
      const tokens: string[] = [];
      const sampleIdx = new Int32Array(count * G);
      let bl1 = 0;
      const stride = errors.stride;
      for (let i = 0; i < count; i++) {
        for (let g = 0; g < G; g++) {
          const row = i * G + g;
          tokens.push(rows.tokens[i]!);
          sampleIdx[row] = g;
          bl1 += errors.add(traj, row * stride, rows.target, i * stride);
        }
      }
      await writer.writeBatch({ token: tokens, sample: sampleIdx, trajectory: traj });
      bar.update(start + count);
      logger.record('sample/rows', start + count);
      logger.record('sample/batch_l1', bl1 / (count * G * errors.stride));
      logger.record('time/rows_per_sec', (start + count) / ((performance.now() - t0) / 1000));
      logger.dump(start + count);
    }
    await writer.close();
    writer = null;
    bar.stop();
    const m = n * G;
    const err = errors.result();
    const summary = { rows: n, samples: m, out: outPath, l1: err.l1, ade: err.ade, fde: err.fde, seconds: (performance.now() - t0) / 1000 };
    logger.record('sample/l1', summary.l1);
    logger.record('sample/ade', summary.ade);
    logger.record('sample/fde', summary.fde);
    logger.dump(n);
    if (opts.json) io.out(JSON.stringify(summary));
    else io.out(`wrote ${m} trajectories for ${n} scenes to ${outPath}; vs cache targets: L1 ${summary.l1.toFixed(4)}, ADE ${summary.ade.toFixed(3)} m, FDE ${summary.fde.toFixed(3)} m (${summary.seconds.toFixed(1)} s)`);
    return 0;
  } finally {
    bar?.stop();
    if (writer) await writer.abort().catch(() => undefined);
    logger.close();
    planner.dispose();
    await cache.close();
  }
}

// ---------------------------------------------------------------------------------------------
// make-synthetic-cache

const SYNTH_USAGE = `drivekit planner make-synthetic-cache --out FILE --rows N [options]

  --cond-length L (32) --cond-dim H (64)   conditioning tokens per row (ReCogDrive: 2800 x 1536)
  --seed S (0)  --world-seed S (1234: the fixed random "VLM"; keep it equal for train and val files)
  --first-index I (0: tokens are synthetic-<I+row>)  --cond-noise X (0.5)
  --with-history-status   also put the intent in history/status (default: only in the tokens)
  --quiet  --json`;

const SYNTH_SPEC: OptionSpec = {
  out: 'string',
  rows: 'number',
  'cond-length': 'number',
  'cond-dim': 'number',
  seed: 'number',
  'world-seed': 'number',
  'first-index': 'number',
  'cond-noise': 'number',
  'with-history-status': 'boolean',
  quiet: 'boolean',
  json: 'boolean',
};

export async function makeSyntheticCacheCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, SYNTH_SPEC, SYNTH_USAGE);
  const out = required(opts, 'out', SYNTH_USAGE);
  const rows = num(opts, 'rows');
  if (rows === undefined) throw new UsageError(`Missing required option --rows.\n${usageText(SYNTH_USAGE)}`, { field: '--rows', expected: 'an integer >= 1', found: undefined });
  if (!Number.isInteger(rows) || rows < 1) throw new UsageError(`Option --rows: expected an integer >= 1, found ${rows}.`, { field: '--rows', expected: 'an integer >= 1', found: rows });
  const L = intOption(opts, 'cond-length', 32, { min: 1 });
  const H = intOption(opts, 'cond-dim', 64, { min: 1 });
  ensureParentDir(out);
  const bar = progress({ total: rows, label: 'synthetic cache', mode: progressMode(opts) });
  try {
    await writeSyntheticCache(out, {
      rows,
      condLength: L,
      condDim: H,
      seed: num(opts, 'seed') ?? 0,
      worldSeed: num(opts, 'world-seed') ?? 1234,
      firstIndex: num(opts, 'first-index') ?? 0,
      condNoise: num(opts, 'cond-noise') ?? 0.5,
      conditioningOnly: !opts['with-history-status'],
      onProgress: (done) => bar.update(done),
    });
  } finally {
    bar.stop();
  }
  const bytes = fs.statSync(out).size;
  if (opts.json) io.out(JSON.stringify({ out, rows, condLength: L, condDim: H, bytes }));
  else io.out(`wrote ${rows} synthetic rows ([${L}, ${H}] conditioning) to ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
  return 0;
}
