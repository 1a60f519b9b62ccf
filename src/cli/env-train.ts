/**
 * `drivekit env train-bc` and `drivekit env evaluate`: behaviour cloning from expert
 * demonstrations, and the MetaDrive evaluation of a saved policy (see `rl/bc/trainer.ts` and
 * `rl/common/evaluate.ts`).
 *
 *   drivekit env record-expert --seeds 0:200 --frames 50000 --out demos.arrow
 *   drivekit env train-bc --demos demos.arrow --out runs/bc --epochs 30
 *   drivekit env train-bc --demos demos.arrow --out runs/bc --epochs 30 --resume    # continues runs/bc/last
 *   drivekit env evaluate --policy runs/bc --seeds 5000:5100 --runs 5 --density 0.1 --json
 *   drivekit env evaluate --policy runs/bc --seeds 5000:5010 --record viz --record-episodes 0,3
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { init } from '../core/backend.js';
import { cliFlags, parseFlagValue } from '../core/config.js';
import { ConfigError, InputError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { animatedSvg } from '../viz/animate.js';
import { BC_CURVES, writeLogCurves } from './curves.js';
import { progress } from '../core/progress.js';
import { DEFAULT_ENV_CONFIG } from '../env/config.js';
import { ActorCriticPolicy } from '../models/mlp-policy.js';
import { BC_CONFIG, type BCConfig } from '../rl/bc/config.js';
import { BCTrainer } from '../rl/bc/trainer.js';
import type { VecNormalizeState } from '../rl/common/running-norm.js';
import { EVAL_METRICS, evaluatePolicy, type EvalStepEvent } from '../rl/common/evaluate.js';
import { evaluatePolicyParallel, type EvalSpec } from '../rl/common/evaluate-shard.js';
import { concatDemonstrations, readDemonstrations } from '../rl/data/demonstrations.js';
import { envToSvg } from '../viz/env-svg.js';
import { UsageError, WORKERS_HELP, ensureParentDir, flagError, intOption, numberOption, parseArgs, usageText, workersOption, type OptionSpec, type ParsedArgs } from './args.js';
import { mapAndHorizonFrom, parseSeedRange } from './env.js';
import type { CliIO } from './main.js';

const BC_FLAGS = cliFlags(BC_CONFIG).filter((f) => f.key !== 'seed' && f.key !== 'epochs');

function trainBcUsage(): string {
  const lines = [
    'drivekit env train-bc --demos FILE.arrow --out DIR [options]',
    '',
    "  behaviour cloning of expert demonstrations into the PPO policy network (see docs/bc.md);",
    '  DIR gets the best-on-validation policy (policy.safetensors + policy.json, loadable by',
    '  `env evaluate --policy DIR` and as PPO\'s initial policy), DIR/last the resumable state and',
    '  DIR/progress.jsonl the log (curves: DIR/progress.svg, .png)',
    '  --demos FILES       demonstrations from `env record-expert` (required); a comma list is concatenated (expert + DAgger rounds)',
    '  --out DIR           output folder (required; created)',
    `  --epochs N          maximum epochs (default ${BC_CONFIG.defaults.epochs})`,
    '  --seed S            seed of the weights, the validation split and the shuffling (default 0)',
    '  --resume            continue DIR/last bit-identically (same settings; --epochs may grow); starts afresh if DIR has none',
    '  --hidden A,B        hidden layer sizes of the policy trunks (default 256,256)',
    '  --activation F      tanh | relu (default tanh)',
    '  --log-std-init X    initial log std of the Gaussian, kept by BC for PPO (default 0)',
    '  --json              one JSON object (no progress bar)',
    '  --quiet             no progress bar',
    '',
    '  BC settings:',
  ];
  for (const f of BC_FLAGS) lines.push(`  --${f.flag.padEnd(20)} ${f.spec.doc} (default ${JSON.stringify(f.spec.default)})`);
  return lines.join('\n');
}

export const EVALUATE_USAGE = `drivekit env evaluate --policy DIR --seeds A:B [options]

  play a saved policy (policy.safetensors + policy.json) for one episode per seed and run,
  deterministic actions by default; rates are means over runs with their spread (std, min, max)
  --policy DIR          policy folder from train-bc / train-ppo / classic train-ppo --out (required)
  --seeds A:B           scenario seeds A, A+1, ..., B-1 (required)
  --runs K              runs over the seeds; each run draws its own traffic (default 1)
  --density D           traffic density in [0, 1] (default ${DEFAULT_ENV_CONFIG.traffic_density})
  --map M               number of blocks or a block string (default ${JSON.stringify(DEFAULT_ENV_CONFIG.map)})
  --horizon H           steps before truncation (default ${DEFAULT_ENV_CONFIG.horizon})
  --stochastic          sample actions from the Gaussian instead of its mean
  --same-traffic        traffic keyed by the scenario only (every run identical for a deterministic policy)
  --num-envs N          episodes stepped together, one batched policy call per step (default 8)
  --seed S              root seed of the runs' traffic and sampling streams (default 0)
  --record DIR          write BEV frames of chosen episodes of run 0: DIR/seed_<s>/frame_<t>.svg and an
                        animated DIR/seed_<s>.svg
  --record-episodes L   comma list of episode indices (0 = the first seed) to record (default 0)
  --record-every N      one frame every N steps (default 5; the last step is always drawn)
  --record-window M     half-size in metres of the view around the ego (default 40)
  --workers N           ${WORKERS_HELP}; shards of seeds, same results as 1 (not with --record)
  --shard-size N        seeds per shard (default: a quarter of a worker's share; with --queue, 1/16 of the seeds, at most 64)
  --queue URL           run the shards as jobs on a Redis queue (redis://host:port; run \`drivekit queue worker\`
                        on any number of machines; see docs/scale-out.md)
  --queue-dir DIR       shard outputs, a folder every worker sees at the same path (default .drivekit-queue)
  --json                one JSON object
  --quiet               no progress bar`;

/** A `drivekit env train-bc` run; returns the exit code. */
export async function trainBcCommand(args: string[], io: CliIO): Promise<number> {
  const spec: OptionSpec = { demos: 'string', out: 'string', epochs: 'number', seed: 'number', resume: 'boolean', hidden: 'string', activation: 'string', 'log-std-init': 'number', json: 'boolean', quiet: 'boolean', backend: 'string' };
  for (const f of BC_FLAGS) spec[f.flag] = 'string';
  const usage = trainBcUsage();
  const opts = parseArgs(args, spec, usage);
  if (opts._.length > 0) throw new UsageError(`drivekit env train-bc: unexpected argument '${opts._[0]}'.\n${usageText(usage)}`, { field: 'argument', expected: 'options only', found: opts._[0] });
  if (!opts.demos || !opts.out) {
    throw new UsageError(`drivekit env train-bc: --demos and --out are required.\n${usageText(usage)}`, { field: !opts.demos ? '--demos' : '--out', expected: 'a value', found: undefined });
  }
  const demosFile = String(opts.demos);
  const out = String(opts.out);
  const seed = intOption(opts, 'seed', 0, { min: 0, max: 2 ** 31 - 1 });
  const epochs = intOption(opts, 'epochs', undefined, { min: 1 });
  const hidden = parseHidden(opts);
  const activation = (opts.activation as string | undefined) ?? 'tanh';
  if (activation !== 'tanh' && activation !== 'relu') throw flagError('activation', 'tanh or relu', activation);
  const logStdInit = numberOption(opts, 'log-std-init', 0);
  const overrides: Record<string, unknown> = {};
  for (const f of BC_FLAGS) if (opts[f.flag] !== undefined) overrides[f.key] = parseFlagValue(f.spec, opts[f.flag] as string);
  if (epochs !== undefined) overrides.epochs = epochs;
  const settings = { ...overrides, seed } as Partial<BCConfig>;
  try {
    BC_CONFIG.resolve(settings);
  } catch (e) {
    if (e instanceof ConfigError && e.field) {
      const flag = BC_FLAGS.find((f) => f.key === e.field)?.flag ?? e.field;
      throw flagError(flag, String(e.expected ?? 'a valid value'), e.found);
    }
    throw e;
  }
  ensureParentDir(path.join(out, 'x'), 'out');
  await init({ backend: (opts.backend as 'wasm' | 'cpu' | undefined) ?? 'wasm' });

  // A comma list of files (the expert's demonstrations plus DAgger rounds) is concatenated.
  const demos = concatDemonstrations(await Promise.all(demosFile.split(',').map((f) => readDemonstrations(f.trim(), { nextObs: false }))));
  const canResume = opts.resume === true && (fs.existsSync(path.join(out, 'last')) || fs.existsSync(path.join(out, 'last.old')));
  const logger = createLogger({ dir: out, formats: ['jsonl'], append: canResume });
  const silent = opts.json === true || opts.quiet === true;
  let bar: ReturnType<typeof progress> | null = null;
  let done = 0;
  let trainer: BCTrainer;
  const onStep = (e: { epoch: number; step: number; loss: number }) => {
    done++;
    bar?.update(done, { epoch: e.epoch, loss: e.loss });
  };
  if (canResume) {
    // Without --seed, resume with the saved one (the default 0 would otherwise differ from it).
    const resumeSettings = opts.seed === undefined ? { ...settings, seed: undefined } : settings;
    trainer = await BCTrainer.resume(out, demos, { logger, onStep, config: resumeSettings });
  } else {
    const policy = new ActorCriticPolicy({ obsDim: demos.obsDim, actionType: 'box', actionDim: demos.actDim, hidden, activation, logStdInit, seed });
    try {
      trainer = new BCTrainer(policy, demos, settings, { logger, onStep });
    } catch (e) {
      policy.dispose();
      throw e;
    }
  }
  const startEpoch = trainer.epoch;
  const remaining = trainer.stopped ? 0 : Math.max(0, trainer.config.epochs - startEpoch);
  bar = progress({ total: remaining * trainer.stepsPerEpoch, label: 'train-bc', mode: silent ? 'silent' : 'auto' });
  let result;
  try {
    result = await trainer.train({ outDir: out });
  } finally {
    bar.stop();
    logger.close();
  }
  await writeLogCurves(path.join(out, 'progress.jsonl'), BC_CURVES, { xLabel: 'epoch', title: 'BC' }, io, silent);
  const best = trainer.history.find((h) => h.epoch === trainer.bestEpoch);
  const summary = {
    out,
    demos: demosFile,
    resumed: canResume,
    start_epoch: startEpoch,
    epochs: trainer.epoch,
    epochs_run: result.epochs,
    best_epoch: trainer.bestEpoch,
    best_val_loss: Number.isFinite(trainer.bestValLoss) ? trainer.bestValLoss : null,
    best_val_steer_mae: best?.val.steerMae ?? null,
    best_val_throttle_mae: best?.val.throttleMae ?? null,
    stopped_early: result.stoppedEarly,
    frames: demos.numFrames,
    train_frames: trainer.split.trainRows.length,
    val_frames: trainer.split.valRows.length,
    train_episodes: trainer.split.trainEpisodes,
    val_episodes: trainer.split.valEpisodes.length,
    samples_per_second: result.samplesPerSecond,
    seconds: result.seconds,
    settings: BC_CONFIG.toJSON(trainer.config),
    policy: { hidden: trainer.policy.config.hidden, activation: trainer.policy.config.activation, parameters: trainer.policy.numParameters() },
  };
  trainer.dispose();
  trainer.policy.dispose();
  if (opts.json) io.out(JSON.stringify(summary));
  else {
    io.out(`${out}: best epoch ${summary.best_epoch} of ${summary.epochs}, val loss ${summary.best_val_loss?.toFixed(4)} (steer MAE ${summary.best_val_steer_mae?.toFixed(4)}, throttle MAE ${summary.best_val_throttle_mae?.toFixed(4)})${summary.stopped_early ? ', stopped early' : ''}`);
    io.out(`${summary.train_frames} training frames (${summary.train_episodes} episodes), ${summary.val_frames} validation frames (${summary.val_episodes} episodes); ${summary.samples_per_second.toFixed(0)} samples/s, ${summary.seconds.toFixed(1)} s`);
  }
  return 0;
}

function parseHidden(opts: ParsedArgs): number[] {
  const s = (opts.hidden as string | undefined) ?? '256,256';
  const parts = s.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw flagError('hidden', 'a comma list of integers >= 1, e.g. 256,256', s);
  return parts.map(Number);
}


/** A `drivekit env evaluate` run; returns the exit code. */
export async function evaluateCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(
    args,
    {
      policy: 'string',
      seeds: 'string',
      runs: 'number',
      density: 'number',
      map: 'string',
      horizon: 'number',
      stochastic: 'boolean',
      'same-traffic': 'boolean',
      'num-envs': 'number',
      seed: 'number',
      record: 'string',
      'record-episodes': 'string',
      'record-every': 'number',
      'record-window': 'number',
      json: 'boolean',
      quiet: 'boolean',
      backend: 'string',
      workers: 'number',
      queue: 'string',
      'queue-dir': 'string',
      'shard-size': 'number',
    },
    EVALUATE_USAGE,
  );
  if (opts._.length > 0) throw new UsageError(`drivekit env evaluate: unexpected argument '${opts._[0]}'.\n${usageText(EVALUATE_USAGE)}`, { field: 'argument', expected: 'options only', found: opts._[0] });
  if (!opts.policy || !opts.seeds) {
    throw new UsageError(`drivekit env evaluate: --policy and --seeds are required.\n${usageText(EVALUATE_USAGE)}`, { field: !opts.policy ? '--policy' : '--seeds', expected: 'a value', found: undefined });
  }
  const dir = String(opts.policy);
  const seeds = parseSeedRange(String(opts.seeds));
  const runs = intOption(opts, 'runs', 1, { min: 1 });
  const density = numberOption(opts, 'density', undefined, { min: 0, max: 1 });
  const numEnvs = intOption(opts, 'num-envs', 8, { min: 1 });
  const seed = intOption(opts, 'seed', 0, { min: 0, max: 2 ** 31 - 1 });
  const envConfig = mapAndHorizonFrom(opts);
  const recordDir = opts.record as string | undefined;
  const every = intOption(opts, 'record-every', 5, { min: 1 });
  const window = numberOption(opts, 'record-window', 40, { min: Number.MIN_VALUE });
  let recordIdx = new Set<number>();
  if (recordDir) {
    const spec = String(opts['record-episodes'] ?? '0');
    const idx = spec.split(',').map((p) => p.trim());
    if (idx.some((p) => !/^\d+$/.test(p) || Number(p) >= seeds.length)) throw flagError('record-episodes', `a comma list of episode indices in [0, ${seeds.length - 1}]`, spec);
    recordIdx = new Set(idx.map(Number));
    ensureParentDir(path.join(recordDir, 'x'), 'record');
  }
  const configPath = path.join(dir, 'policy.json');
  if (!fs.existsSync(configPath) || !fs.existsSync(path.join(dir, 'policy.safetensors'))) {
    throw new InputError(InputError.format({ file: dir, expected: 'a policy folder (policy.safetensors + policy.json)', found: fs.existsSync(dir) ? 'no policy files' : 'no such folder' }), { file: dir, expected: 'policy.safetensors + policy.json', found: 'missing' });
  }
  if (recordDir && (opts.queue !== undefined || (opts.workers !== undefined && opts.workers !== 1))) {
    throw new UsageError('--record draws the episodes in this thread: give --workers 1 (or no --workers) and no --queue with it.', { field: '--record', expected: 'no --workers > 1, no --queue', found: opts.queue ?? opts.workers });
  }
  const workers = recordDir ? 1 : workersOption(opts);
  const shardSize = intOption(opts, 'shard-size', undefined, { min: 1 });
  const backendRequest = (opts.backend as 'wasm' | 'cpu' | undefined) ?? 'wasm';
  const backend = await init({ backend: backendRequest });
  const { policy, extra } = await ActorCriticPolicy.load(dir);
  const bar = progress({ total: runs * seeds.length, label: 'evaluate', mode: opts.json || opts.quiet ? 'silent' : 'auto' });
  const spec: EvalSpec = {
    policyDir: dir, seeds, runs, density, deterministic: opts.stochastic !== true, envConfig, varyTraffic: opts['same-traffic'] !== true, numEnvs, seed, backend: backendRequest,
  };
  const trails = new Map<number, number[]>();
  const frames = new Map<number, string[]>();
  const written: string[] = [];
  const onStep = (e: EvalStepEvent) => {
    if (!recordDir || e.run !== 0 || !recordIdx.has(e.index)) return;
    let trail = trails.get(e.index);
    if (!trail) trails.set(e.index, (trail = []));
    trail.push(e.env.ego.x, e.env.ego.y);
    if (e.step % every !== 0 && !e.done) return;
    const svg = envToSvg(e.env, { window, trail, width: 480, title: `seed ${e.seed}  t=${e.step}  ${e.env.ego.speedKmh.toFixed(0)} km/h` });
    const sub = path.join(recordDir, `seed_${e.seed}`);
    fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `frame_${String(e.step).padStart(4, '0')}.svg`);
    fs.writeFileSync(file, svg);
    let list = frames.get(e.index);
    if (!list) frames.set(e.index, (list = []));
    list.push(svg);
    if (e.done) {
      const anim = path.join(recordDir, `seed_${e.seed}.svg`);
      fs.writeFileSync(anim, animatedSvg(list, every * 0.1));
      written.push(anim);
      frames.delete(e.index);
    }
  };
  let result;
  try {
    if (opts.queue !== undefined) {
      const { submitEnvEvaluate } = await import('../queue/submit.js');
      result = await submitEnvEvaluate(spec, { redis: String(opts.queue), queueDir: opts['queue-dir'] as string | undefined, shardSize, onEpisodes: (episodes) => bar.tick?.(episodes) });
    } else if (workers > 1) {
      result = await evaluatePolicyParallel(spec, { workers, shardSize, onShard: (episodes) => bar.tick?.(episodes) });
    } else result = evaluatePolicy(policy, {
      seeds,
      runs,
      density,
      deterministic: opts.stochastic !== true,
      normalizer: (extra.normalizer as VecNormalizeState | null | undefined) ?? null,
      envConfig,
      varyTraffic: opts['same-traffic'] !== true,
      numEnvs,
      seed,
      source: configPath,
      onStep,
      onEpisode: (e) => bar.tick?.(1, { run: e.run }),
    });
  } finally {
    bar.stop();
    policy.dispose();
  }
  const { outcomes: _outcomes, ...rest } = result;
  const summary = { policy: dir, algorithm: extra.algorithm ?? null, backend, seeds: [seeds[0], seeds[seeds.length - 1]! + 1], ...rest, recorded: written };
  if (opts.json) io.out(JSON.stringify(summary));
  else {
    const f = (m: (typeof EVAL_METRICS)[number], digits = 3) => `${result[m].toFixed(digits)}${runs > 1 ? ` ± ${result.spread[m].std.toFixed(digits)}` : ''}`;
    io.out(`${dir}: seeds ${summary.seeds[0]}:${summary.seeds[1]}, ${runs} run(s), density ${result.traffic_density}${result.deterministic ? '' : ', stochastic'}`);
    io.out(`success ${f('success_rate')}  crash ${f('crash_rate')}  out_of_road ${f('out_of_road_rate')}  max_step ${f('max_step_rate')}`);
    io.out(`route_completion ${f('route_completion')}  steering_jerk ${f('steering_jerk', 2)}  episode_reward ${f('episode_reward', 1)}`);
    io.out(`${result.episodes} episodes, ${result.steps} steps in ${result.seconds.toFixed(1)} s (${result.episodes_per_second.toFixed(2)} episodes/s)${written.length ? `; recorded ${written.join(', ')}` : ''}`);
  }
  return 0;
}
