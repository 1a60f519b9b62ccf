/**
 * `drivekit planner train-il | sample | make-synthetic-cache`: the IL stage of ReCogDrive on a
 * hidden-state cache (Arrow), sampling trajectories from a checkpoint, and a synthetic cache to
 * try the pipeline without a VLM. Dispatched from `src/cli/planner.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recoverDir } from '../core/atomic.js';
import { checkpointPaths } from '../core/checkpoint.js';
import { createLogger, Logger } from '../core/logger.js';
import { IL_CURVES, writeLogCurves } from './curves.js';
import { progress, type Progress } from '../core/progress.js';
import { readSafetensors } from '../core/safetensors.js';
import { DiffusionPlanner, type PlannerConfig, type PlannerConfigInput, plannerConfig } from '../models/planner.js';
import { resolvePlannerCheckpoint } from '../models/planner-checkpoint.js';
import { loadPlannerStateDict } from '../models/weights.js';
import { HiddenStateCache, writeSyntheticCache } from '../rl/data/hidden-state-cache.js';
import { ILDataRange, type ILDataSource } from '../rl/data/il-data.js';
import { plannerForIL } from '../rl/il-planner.js';
import { checkRunFormat } from '../rl/common/run-state.js';
import { type ILEvent, IL_TRAINER_FORMAT, type ILTrainerState, ILTrainer, type ILTrainOptions, resolveILConfig } from '../rl/il-trainer.js';
import { ensureParentDir, intOption, type OptionSpec, type ParsedArgs, parseArgs, UsageError, usageText } from './args.js';
import { checkCacheFile } from './files.js';
import type { CliIO } from './main.js';
import { PRESET_NAMES } from './planner.js';
import { initBackend, namingFlags, num, PLANNER_OPTIONS, plannerConfigFromArgs, progressMode, readJson, required, str } from './planner-common.js';

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
    checkRunFormat(resumeState, IL_TRAINER_FORMAT, paths.configPath);
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
