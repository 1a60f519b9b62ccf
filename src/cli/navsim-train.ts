/**
 * `drivekit navsim train-il | train-grpo`: ReCogDrive's stages 2 and 3 on the synthetic NAVSIM
 * benchmark (scene tokens of generated scenes as the conditioning) or on a hidden-state cache.
 *
 *   drivekit navsim train-il --seeds train:2000 --out runs/il --preset tiny --epochs 30
 *   drivekit navsim train-grpo --init runs/il --seeds train:2000 --out runs/grpo --iterations 200
 *   drivekit navsim train-grpo --init runs/il --seeds train:2000 --out runs/grpo --metric-cache cache/ --workers 2
 *   drivekit navsim train-grpo --out runs/grpo --resume
 *
 * Both write `OUT/run.json` (every setting, so `--resume` needs nothing else), `OUT/progress.jsonl`
 * (one record per IL log step / GRPO iteration) and `OUT/last/` (a planner checkpoint loadable by
 * `navsim eval --checkpoint`, plus the trainer state). A progress bar goes to stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic.js';
import { type BackendRequest, init } from '../core/backend.js';
import { type CliFlag, type ConfigDef, cliFlags, parseFlagValue } from '../core/config.js';
import { ConfigError, InputError } from '../core/errors.js';
import { createLogger, readJsonl } from '../core/logger.js';
import { GRPO_CURVES, IL_CURVES, writeLogCurves } from './curves.js';
import { progress, type Progress } from '../core/progress.js';
import { DiffusionPlanner, type PlannerConfig, type PlannerConfigInput, plannerConfig } from '../models/planner.js';
import { parseScene } from '../navsim/scene-json.js';
import { generateScene } from '../navsim/scenegen.js';
import { parseSeedRange } from '../navsim/splits.js';
import type { PDMScene } from '../navsim/types.js';
import { GRPO_TRAIN_CONFIG, type GRPOTrainConfig } from '../rl/grpo/config.js';
import { checkpointDir, loadPlanner, weightsSha256 } from '../rl/grpo/reference.js';
import { inProcessPDMReward, pdmRewardOptions, poolPDMReward, type RewardFn } from '../rl/grpo/reward.js';
import { DiffGRPOTrainer } from '../rl/grpo/trainer.js';
import { HiddenStateCache, concatRows } from '../rl/data/hidden-state-cache.js';
import { type ILDataSource, InMemoryILData } from '../rl/data/il-data.js';
import { plannerForIL } from '../rl/il-planner.js';
import { IL_TRAIN_CONFIG, type ILEvent, ILTrainer, type ILTrainOptions } from '../rl/il-trainer.js';
import { sceneRows } from '../rl/data/scene-dataset.js';
import { HelpRequest, UsageError, WORKERS_HELP, flagError, parseArgs, usageText, workersOption, type OptionSpec, type ParsedArgs } from './args.js';
import type { CliIO } from './main.js';

/** Scene tokens per sample and their width when training from seeds (the conditioning [L, H]). */
export const DEFAULT_SCENE_TOKENS = 48;
export const DEFAULT_SCENE_TOKEN_WIDTH = 24;

/** Where the conditioning rows come from, as recorded in run.json. */
type DataSpec = { kind: 'seeds'; start: number; end: number; numTokens: number } | { kind: 'cache'; path: string };

const COMMON_SPEC: OptionSpec = { seeds: 'string', cache: 'string', out: 'string', tokens: 'number', resume: 'boolean', json: 'boolean', quiet: 'boolean', backend: 'string' };

function flagsOf<T>(def: ConfigDef<T>, skip: string[] = []): CliFlag[] {
  return cliFlags(def).filter((f) => !skip.includes(f.key));
}

/** Config overrides from generated flags (`--group-size 8`, `--optimizer-lr 1e-4`), nested by key path. */
function overridesFrom(opts: ParsedArgs, flags: CliFlag[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of flags) {
    const v = opts[f.flag];
    if (v === undefined) continue;
    const value = parseFlagValue(f.spec, String(v));
    const keys = f.key.split('.');
    let at = out;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[keys[keys.length - 1]!] = value;
  }
  return out;
}

/** Resolves a config; a bad value is a usage error naming the flag. */
function resolveWithFlags<T>(def: { resolve(x: unknown): Readonly<T> }, input: unknown, flags: CliFlag[]): Readonly<T> {
  try {
    return def.resolve(input);
  } catch (e) {
    if (e instanceof ConfigError && e.field) {
      const flag = flags.find((f) => f.key === e.field)?.flag;
      if (flag) throw flagError(flag, String(e.expected ?? 'a valid value'), e.found);
    }
    throw e;
  }
}

function runFile(out: string): string {
  return path.join(out, 'run.json');
}

function readRun<T>(out: string, command: string): T {
  const file = runFile(out);
  let run: T & { command?: string };
  try {
    run = JSON.parse(fs.readFileSync(file, 'utf8')) as T & { command?: string };
  } catch (e) {
    throw new InputError(InputError.format({ file, expected: `the run.json of a ${command} run`, found: 'no readable JSON' }, 'Start the run without --resume first.'), { file, expected: 'run.json', found: 'nothing', cause: e });
  }
  if (run.command !== command) throw new InputError(InputError.format({ file, field: 'command', expected: command, found: run.command }), { file, field: 'command', expected: command, found: run.command });
  return run;
}

/** With --resume only these flags may be given; everything else comes from run.json. */
function checkResumeFlags(opts: ParsedArgs, allowed: string[]): void {
  const extra = Object.keys(opts).filter((k) => k !== '_' && opts[k] !== undefined && !allowed.includes(k));
  if (extra.length > 0) throw new UsageError(`--resume takes every setting from OUT/run.json; drop ${extra.map((f) => `--${f}`).join(', ')}.`, { field: `--${extra[0]}`, expected: 'no setting flags with --resume', found: opts[extra[0]!] });
}

/** Keeps the log records up to `step` (a resumed run rewrites the iterations after its checkpoint). */
function trimLog(out: string, step: number): void {
  const file = path.join(out, 'progress.jsonl');
  if (!fs.existsSync(file)) return;
  const keep = readJsonl(file).filter((r) => Number(r.step) <= step);
  writeFileAtomicSync(file, keep.map((r) => JSON.stringify(r)).join('\n') + (keep.length ? '\n' : ''));
}

function dataSpecFrom(opts: ParsedArgs, usage: string, numTokens: number): DataSpec {
  const seeds = opts.seeds as string | undefined;
  const cache = opts.cache as string | undefined;
  if ((seeds === undefined) === (cache === undefined)) {
    throw new UsageError(`give --seeds A:B or --cache FILE (one of them).\n${usageText(usage)}`, { field: '--seeds', expected: '--seeds or --cache', found: seeds ?? cache ?? 'neither' });
  }
  if (seeds !== undefined) {
    const r = parseSeedRange(seeds, '--seeds');
    return { kind: 'seeds', start: r.start, end: r.end, numTokens };
  }
  return { kind: 'cache', path: path.resolve(cache!) };
}

/** The rows of a data spec: generated scenes' tokens (with a progress bar), or the cache. */
async function openData(spec: DataSpec, condDim: number, quiet: boolean): Promise<{ data: ILDataSource; condLength: number; close: () => Promise<void>; seedOf: Map<string, number> }> {
  if (spec.kind === 'cache') {
    const cache = await HiddenStateCache.open(spec.path, { condDim, source: 'the planner config' });
    return { data: cache, condLength: cache.condLength, close: () => cache.close(), seedOf: new Map() };
  }
  const n = spec.end - spec.start;
  const bar = progress({ total: n, label: 'scene tokens', mode: quiet ? 'silent' : 'auto' });
  const parts = [];
  const seedOf = new Map<string, number>();
  for (let s = spec.start; s < spec.end; s += 64) {
    const seeds = Array.from({ length: Math.min(64, spec.end - s) }, (_, i) => s + i);
    const { rows } = sceneRows(seeds, { numTokens: spec.numTokens, width: condDim });
    rows.tokens.forEach((t, i) => seedOf.set(t, seeds[i]!));
    parts.push(rows);
    bar.update(s - spec.start + seeds.length);
  }
  bar.stop();
  return { data: new InMemoryILData(parts.length === 1 ? parts[0]! : concatRows(parts)), condLength: spec.numTokens, close: async () => undefined, seedOf };
}

/** The planner of --preset and --cond-dim (default: the cache's width with --cache, else the scene-token width). */
async function plannerFromFlags(opts: ParsedArgs): Promise<PlannerConfig> {
  const preset = (opts.preset as string | undefined) ?? 'tiny';
  if (!['tiny', 'small', 'large'].includes(preset)) throw flagError('preset', 'tiny, small or large', preset);
  const input: PlannerConfigInput = { preset: preset as 'tiny' | 'small' | 'large' };
  let condDim = opts['cond-dim'] as number | undefined;
  if (condDim === undefined && opts.cache !== undefined) {
    const probe = await HiddenStateCache.open(String(opts.cache));
    condDim = probe.condDim;
    await probe.close();
  }
  input.condDim = condDim ?? DEFAULT_SCENE_TOKEN_WIDTH;
  return plannerConfig(input);
}

// ---------------------------------------------------------------------------------------------
// train-il

const IL_FLAGS = flagsOf(IL_TRAIN_CONFIG);

export const TRAIN_IL_USAGE = `drivekit navsim train-il (--seeds A:B | --cache FILE) --out DIR [options]

  imitation learning of the diffusion planner (ReCogDrive stage 2, the IL trainer of docs/il-training.md)
  --seeds A:B       generated scenes A .. B-1 (or train | val | test[:N]); scene tokens are the conditioning
  --cache FILE      a hidden-state cache (Arrow) instead
  --val-seeds A:B   validation scenes (default: none; e.g. val:200)
  --out DIR         run folder: run.json, progress.jsonl (+ progress.svg/.png curves), last/ (loadable by navsim eval and train-grpo)
  --tokens L        scene tokens per sample (default ${DEFAULT_SCENE_TOKENS}); --cond-dim H token width (default ${DEFAULT_SCENE_TOKEN_WIDTH}, or the cache's)
  --preset P        tiny (default; 2 blocks, width 32) | small | large (ReCogDrive's)
  --resume          continue DIR's run from last/ with the settings of DIR/run.json
  --json            one JSON summary line on stdout
  trainer settings (ILTrainConfig, defaults in docs/il-training.md):
${IL_FLAGS.map((f) => `  --${f.flag}`).join('\n')}`;

interface ILRun {
  command: 'train-il';
  data: DataSpec;
  val: DataSpec | null;
  planner: PlannerConfig;
  trainer: ILTrainOptions;
}

export async function trainILCommand(args: string[], io: CliIO): Promise<number> {
  const spec: OptionSpec = { ...COMMON_SPEC, 'val-seeds': 'string', preset: 'string', 'cond-dim': 'number' };
  for (const f of IL_FLAGS) spec[f.flag] = 'string';
  const opts = parseArgs(args, spec, TRAIN_IL_USAGE);
  const out = opts.out as string | undefined;
  if (!out) throw new UsageError(`--out DIR is required.\n${usageText(TRAIN_IL_USAGE)}`, { field: '--out', expected: 'a folder', found: undefined });
  const quiet = Boolean(opts.quiet);
  let run: ILRun;
  if (opts.resume) {
    checkResumeFlags(opts, ['out', 'resume', 'json', 'quiet', 'backend']);
    run = readRun<ILRun>(out, 'train-il');
  } else {
    const numTokens = (opts.tokens as number | undefined) ?? DEFAULT_SCENE_TOKENS;
    const val = opts['val-seeds'] !== undefined ? parseSeedRange(String(opts['val-seeds']), '--val-seeds') : null;
    const trainer = resolveWithFlags(IL_TRAIN_CONFIG, overridesFrom(opts, IL_FLAGS), IL_FLAGS);
    run = {
      command: 'train-il',
      data: dataSpecFrom(opts, TRAIN_IL_USAGE, numTokens),
      val: val ? { kind: 'seeds', start: val.start, end: val.end, numTokens } : null,
      planner: await plannerFromFlags(opts),
      trainer: IL_TRAIN_CONFIG.toJSON(trainer) as ILTrainOptions,
    };
  }
  const backend = await init({ backend: ((opts.backend as string | undefined) ?? 'auto') as BackendRequest });
  if (!quiet) io.err(`tfjs backend: ${backend}`);
  const train = await openData(run.data, run.planner.condDim, quiet);
  const val = run.val ? await openData(run.val, run.planner.condDim, quiet) : null;
  if (val && val.condLength !== train.condLength) throw new ConfigError(ConfigError.format({ field: 'condLength', expected: train.condLength, found: val.condLength }, 'Validation rows need the training rows\' token count.'), { field: 'condLength', expected: train.condLength, found: val.condLength });
  fs.mkdirSync(out, { recursive: true });
  if (!opts.resume) fs.writeFileSync(runFile(out), JSON.stringify(run, null, 2) + '\n');
  const planner = new DiffusionPlanner(run.planner, { seed: run.trainer.seed ?? 0 });
  let bar: Progress | null = null;
  const onEvent = (e: ILEvent) => {
    if (e.type === 'start') {
      bar = progress({ total: e.totalSteps, label: 'train-il', mode: quiet ? 'silent' : 'auto' });
      bar.update(e.startStep);
    } else if (e.type === 'step') bar?.update(e.globalStep, { epoch: e.epoch, loss: e.loss });
    else if (e.type === 'validation' && !quiet) io.err(`epoch ${e.epoch}: val L1 ${e.l1.toFixed(4)}, ADE ${e.ade.toFixed(3)} m, FDE ${e.fde.toFixed(3)} m`);
    else if (e.type === 'end') bar?.stop();
  };
  const lastDir = path.join(out, 'last');
  let trainer: ILTrainer | null = null;
  const logger = createLogger({ dir: out, formats: ['jsonl'], append: Boolean(opts.resume) });
  try {
    trainer = new ILTrainer(plannerForIL(planner), train.data, val?.data ?? null, {
      ...run.trainer,
      outDir: out,
      logger,
      onEvent,
      dataInfo: { condLength: train.condLength, condDim: run.planner.condDim, data: run.data, val: run.val },
    });
    if (opts.resume) {
      await trainer.resume(lastDir);
      trimLog(out, trainer.position.globalStep);
    }
    const r = await trainer.fit();
    await writeLogCurves(path.join(out, 'progress.jsonl'), IL_CURVES, { xLabel: 'step', title: 'IL' }, io, quiet || Boolean(opts.json));
    const last = r.validation.at(-1)?.result ?? null;
    const summary = { out, last: lastDir, epochs: r.epochs, steps: r.globalStep, trainLoss: r.trainLoss.at(-1) ?? null, valL1: last?.l1 ?? null, valAde: last?.ade ?? null };
    io.out(opts.json ? JSON.stringify(summary) : `done: ${summary.epochs} epochs, ${summary.steps} steps, train loss ${summary.trainLoss?.toFixed(5) ?? '-'}; checkpoint ${lastDir}`);
    return 0;
  } finally {
    (bar as Progress | null)?.stop();
    logger.close();
    trainer?.dispose();
    planner.dispose();
    await train.close();
    await val?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// train-grpo

const GRPO_FLAGS = flagsOf(GRPO_TRAIN_CONFIG);

export const TRAIN_GRPO_USAGE = `drivekit navsim train-grpo --init IL_CKPT (--seeds A:B | --cache FILE --metric-cache DIR) --out DIR [options]

  DiffGRPO with a BC anchor (ReCogDrive stage 3, docs/grpo.md): G rollouts per scene, PDMS/EPDMS reward
  --init DIR          IL checkpoint (a run folder or its last/): the start and the frozen reference policy
  --seeds A:B         generated training scenes A .. B-1 (or train | val | test[:N]); tokens as at IL time
  --cache FILE        a hidden-state cache instead (its tokens name scenes of --metric-cache)
  --metric-cache DIR  score with a ProposalScorePool over this metric cache (navsim cache); default with
                      --seeds: score the generated scenes in this thread (sequential, no overlap)
  --workers N         ${WORKERS_HELP}; with --metric-cache, N scoring worker threads
  --tokens L          scene tokens per sample (default: the IL checkpoint's data.json condLength)
  --out DIR           run folder: run.json, progress.jsonl (one record per iteration; curves progress.svg/.png), last/
  --iterations N      total iterations (default: epochs x scenes / scenes-per-iteration)
  --group-size G      rollouts per scene (default 8)
  --lr X              peak learning rate (same as --optimizer-lr; default 1e-4)
  --resume            continue DIR's run from last/ with the settings of DIR/run.json
  --json              one JSON summary line on stdout
  all DiffGRPO settings (GRPOTrainConfig, docs/grpo.md):
${GRPO_FLAGS.map((f) => `  --${f.flag}`).join('\n')}`;

interface GrpoRun {
  command: 'train-grpo';
  init: string;
  initSha256: string;
  data: DataSpec;
  metricCache: string | null;
  config: GRPOTrainConfig;
}

/** Conditioning length recorded beside an IL checkpoint (data.json), if any. */
function recordedCondLength(dir: string): number | undefined {
  const file = path.join(dir, 'data.json');
  if (!fs.existsSync(file)) return undefined;
  const v = (JSON.parse(fs.readFileSync(file, 'utf8')) as { condLength?: unknown }).condLength;
  return typeof v === 'number' ? v : undefined;
}

export async function trainGrpoCommand(args: string[], io: CliIO): Promise<number> {
  const spec: OptionSpec = { ...COMMON_SPEC, init: 'string', 'metric-cache': 'string', workers: 'number', lr: 'string' };
  for (const f of GRPO_FLAGS) spec[f.flag] = 'string';
  const opts = parseArgs(args, spec, TRAIN_GRPO_USAGE);
  const out = opts.out as string | undefined;
  if (!out) throw new UsageError(`--out DIR is required.\n${usageText(TRAIN_GRPO_USAGE)}`, { field: '--out', expected: 'a folder', found: undefined });
  const quiet = Boolean(opts.quiet);
  const threads = workersOption(opts);
  const workers = threads > 1 ? threads : 0; // the pool's worker threads (0: this thread scores)
  let run: GrpoRun;
  if (opts.resume) {
    checkResumeFlags(opts, ['out', 'resume', 'json', 'quiet', 'backend', 'workers']);
    run = readRun<GrpoRun>(out, 'train-grpo');
  } else {
    const initArg = opts.init as string | undefined;
    if (!initArg) throw new UsageError(`--init IL_CKPT is required.\n${usageText(TRAIN_GRPO_USAGE)}`, { field: '--init', expected: 'an IL checkpoint folder', found: undefined });
    const initDir = path.resolve(checkpointDir(initArg));
    const numTokens = (opts.tokens as number | undefined) ?? recordedCondLength(initDir) ?? DEFAULT_SCENE_TOKENS;
    const overrides = overridesFrom(opts, GRPO_FLAGS);
    if (opts.lr !== undefined) overrides.optimizer = { ...(overrides.optimizer as object | undefined), lr: Number(opts.lr) };
    const data = dataSpecFrom(opts, TRAIN_GRPO_USAGE, numTokens);
    const metricCache = (opts['metric-cache'] as string | undefined) ?? null;
    if (data.kind === 'cache' && !metricCache) throw new UsageError('--cache needs --metric-cache DIR (the scenes its rows name, for the reward).', { field: '--metric-cache', expected: 'a metric cache folder', found: undefined });
    run = {
      command: 'train-grpo',
      init: initDir,
      initSha256: weightsSha256(initDir),
      data,
      metricCache: metricCache ? path.resolve(metricCache) : null,
      config: GRPO_TRAIN_CONFIG.toJSON(resolveWithFlags(GRPO_TRAIN_CONFIG, overrides, GRPO_FLAGS)) as unknown as GRPOTrainConfig,
    };
  }
  const backend = await init({ backend: ((opts.backend as string | undefined) ?? 'auto') as BackendRequest });
  if (!quiet) io.err(`tfjs backend: ${backend}`);
  // The IL weights are both the start and the frozen reference; on --resume the start weights are
  // replaced by last/'s, and the reference is checked against the recorded sha256.
  const sha = weightsSha256(run.init);
  if (sha !== run.initSha256) throw new ConfigError(ConfigError.format({ file: run.init, field: 'initSha256', expected: run.initSha256, found: sha }, 'The IL checkpoint changed since this run started.'), { file: run.init, field: 'initSha256', expected: run.initSha256, found: sha });
  const { planner } = await loadPlanner(run.init);
  const data = await openData(run.data, planner.config.condDim, quiet);
  let pool: { close(): Promise<void> } | null = null;
  let reward: RewardFn;
  const weightOptions = pdmRewardOptions(run.config);
  if (run.metricCache) {
    const { ProposalScorePool } = await import('../navsim/score-pool.js');
    const p = ProposalScorePool.open(run.metricCache, { workers });
    pool = p;
    reward = poolPDMReward(p, weightOptions);
  } else {
    const seedOf = data.seedOf;
    reward = inProcessPDMReward((id: string): PDMScene | undefined => {
      const seed = seedOf.get(id);
      if (seed === undefined) return undefined;
      const g = generateScene(seed);
      return parseScene(g.scene, { source: g.name });
    }, weightOptions);
  }
  fs.mkdirSync(out, { recursive: true });
  if (!opts.resume) fs.writeFileSync(runFile(out), JSON.stringify(run, null, 2) + '\n');
  const logger = createLogger({ dir: out, formats: ['jsonl'], append: Boolean(opts.resume) });
  let trainer: DiffGRPOTrainer | null = null;
  let bar: Progress | null = null;
  try {
    trainer = new DiffGRPOTrainer(planner, data.data, reward, {
      config: run.config,
      outDir: out,
      logger,
      referenceSource: { path: run.init, sha256: run.initSha256 },
      dataInfo: { condLength: data.condLength, condDim: planner.config.condDim, data: run.data, init: run.init },
    });
    if (opts.resume) {
      await trainer.resume(path.join(out, 'last'));
      trimLog(out, trainer.iteration);
    }
    const total = trainer.totalIterations;
    bar = progress({ total, label: 'train-grpo', mode: quiet ? 'silent' : 'auto' });
    bar.update(trainer.iteration);
    trainer.callbacks.push((e) => {
      if (e.type !== 'iteration') return;
      bar?.update(e.iteration, { reward: Number(e.log['rollout/reward_mean']), rev: Number(e.log['rollout/reversing_fraction']), scoring: Number(e.log['time/scoring_fraction']) });
    });
    if (!quiet) io.err(`DiffGRPO: ${data.data.numRows} scenes, ${run.config.scenesPerIteration} x ${run.config.groupSize} rollouts per iteration, iterations ${trainer.iteration}..${total}, reward ${run.config.reward}${run.metricCache ? ` (pool, ${workers} workers)` : ' (in-process, sequential)'}`);
    const r = await trainer.fit();
    bar.stop();
    await writeLogCurves(path.join(out, 'progress.jsonl'), GRPO_CURVES, { xLabel: 'iteration', title: 'DiffGRPO' }, io, quiet || Boolean(opts.json));
    const last = r.last ?? {};
    const summary = {
      out,
      last: path.join(out, 'last'),
      iterations: r.iterations,
      reward_mean: last['rollout/reward_mean'] ?? null,
      reversing_fraction: last['rollout/reversing_fraction'] ?? null,
      scoring_fraction: last['time/scoring_fraction'] ?? null,
    };
    io.out(opts.json ? JSON.stringify(summary) : `done: ${summary.iterations} iterations; checkpoint ${summary.last}`);
    return 0;
  } finally {
    (bar as Progress | null)?.stop();
    logger.close();
    trainer?.dispose();
    planner.dispose();
    await data.close();
    await pool?.close();
  }
}

/** `drivekit navsim train-il | train-grpo` (dispatched from navsim.ts). */
export async function navsimTrainCommand(sub: 'train-il' | 'train-grpo', args: string[], io: CliIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) throw new HelpRequest(usageText(sub === 'train-il' ? TRAIN_IL_USAGE : TRAIN_GRPO_USAGE));
  return sub === 'train-il' ? trainILCommand(args, io) : trainGrpoCommand(args, io);
}

