/**
 * `drivekit env train-ppo` and `drivekit env train-gail`: PPO (or GAIL, whose generator step is
 * the same PPO update) on the driving env, fresh or from a BC checkpoint, with a traffic-density
 * curriculum and optional shaping terms; resumable from `OUT/last/`.
 */
import * as path from 'node:path';
import { init } from '../core/backend.js';
import { ConfigError } from '../core/errors.js';
import { cliFlags, parseFlagValue } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { GAIL_CURVES, PPO_CURVES, writeLogCurves } from './curves.js';
import { progress } from '../core/progress.js';
import { GAIL_CONFIG, type GAILConfig } from '../rl/gail/gail.js';
import { PPO_CONFIG, type PPOConfig } from '../rl/ppo/config.js';
import { DRIVING_PPO_DEFAULTS, trainDrivingPPO } from '../rl/ppo/driving.js';
import { WORKERS_HELP, ensureParentDir, flagError, intOption, numberOption, parseArgs, workersOption, type OptionSpec } from './args.js';
import { parseSeedRange } from './env.js';
import type { CliIO } from './main.js';

const PPO_FLAGS = cliFlags(PPO_CONFIG).filter((f) => f.key !== 'seed');
const GAIL_FLAGS = cliFlags(GAIL_CONFIG).filter((f) => f.key !== 'seed');
const SHAPING = { 'shape-lane': 'laneKeeping', 'shape-offroad': 'offRoad', 'shape-smooth': 'smoothness', 'shape-progress': 'progress' } as const;

export function trainPpoUsage(gail = false): string {
  const lines = [
    gail ? 'drivekit env train-gail --demos FILE.arrow --out DIR [options]' : 'drivekit env train-ppo --out DIR [options]',
    '',
    gail
      ? '  GAIL on the driving env: reward alpha*(-log(1 - D(s, a))) + beta*r_env (+ shaping), PPO as the generator step;\n  the policy is written to DIR, the resumable run (with the discriminator) to DIR/last/'
      : '  PPO on the driving env (policy 256-256 tanh); the policy is written to DIR, the resumable run to DIR/last/',
    ...(gail ? ['  --demos FILE          expert demonstrations from env record-expert (required)'] : []),
    '  --out DIR             output folder (required): policy, last/, progress.jsonl and its curves progress.svg/.png',
    '  --timesteps N         environment steps over all envs (default 1000000)',
    '  --init DIR            start from a policy checkpoint (e.g. env train-bc\'s); its log-std is reset to --init-log-std',
    '  --init-log-std X      log-std after --init (default -1.6, i.e. sigma 0.2)',
    '  --value-warmup N      critic-only iterations after --init (default 3)',
    '  --resume              continue the run in DIR/last/',
    '  --num-envs N          environments stepped in lock-step (default 8)',
    `  --workers N           ${WORKERS_HELP}: this one and N-1 worker threads step slices of the envs, the policy runs`,
    '                        once per step in this thread over all of them; the same run as --workers 1',
    '  --seed S              seed (default 0)',
    '  --start-seed A        first training map (default 0)',
    '  --num-scenarios N     number of training maps (default 100)',
    '  --density D           traffic density without a curriculum (default 0.1)',
    '  --curriculum SPEC     densities on the same maps: "0.05,0.1,0.2" (equal shares of the run) or "0.05@0.8,0.1@0.8,0.2" (advance at 80 % success)',
    '  --checkpoint-every N  iterations between checkpoints (default 10)',
    '  --val-seeds A:B       validation maps (disjoint from training and test maps): the deterministic policy is',
    '                        evaluated there every --val-every iterations and the best one is kept in DIR/best/',
    '  --val-every N         iterations between validations (default 10)',
    '  --val-density D       traffic density of the validation episodes (default 0.1)',
    '  --val-runs K          runs over the validation maps (default 1)',
    '  --json                one JSON summary line instead of progress',
    '',
    '  PPO settings (driving defaults shown where they differ from SB3):',
  ];
  for (const f of PPO_FLAGS) {
    const d = (DRIVING_PPO_DEFAULTS as Record<string, unknown>)[f.key] ?? f.spec.default;
    lines.push(`  --${f.flag.padEnd(22)} ${f.spec.doc} (default ${JSON.stringify(d)})`);
  }
  lines.push('', '  Shaping terms added to the reward (weights, default 0 = off; see docs/gail.md):');
  lines.push('  --shape-lane W          -W x |lateral offset in the lane| (m)', '  --shape-offroad W       -W on a step that ends off the road', '  --shape-smooth W        -W x |change of steering|', '  --shape-progress W      +W x change of route completion (fraction)');
  if (gail) {
    lines.push('', '  GAIL settings:');
    for (const f of GAIL_FLAGS) lines.push(`  --${f.flag.padEnd(22)} ${f.spec.doc} (default ${JSON.stringify(f.spec.default)})`);
  }
  return lines.join('\n');
}

export async function trainGailCommand(args: string[], io: CliIO): Promise<number> {
  return trainPpoCommand(args, io, true);
}

export async function trainPpoCommand(args: string[], io: CliIO, gail = false): Promise<number> {
  const spec: OptionSpec = {
    out: 'string', timesteps: 'number', init: 'string', 'init-log-std': 'number', 'value-warmup': 'number', resume: 'boolean', 'num-envs': 'number', workers: 'number', seed: 'number',
    'start-seed': 'number', 'num-scenarios': 'number', density: 'number', curriculum: 'string', 'checkpoint-every': 'number', json: 'boolean', backend: 'string',
    'val-seeds': 'string', 'val-every': 'number', 'val-density': 'number', 'val-runs': 'number',
  };
  for (const f of PPO_FLAGS) spec[f.flag] = 'string';
  for (const flag of Object.keys(SHAPING)) spec[flag] = 'number';
  if (gail) {
    spec.demos = 'string';
    for (const f of GAIL_FLAGS) spec[f.flag] = 'string';
  }
  const opts = parseArgs(args, spec, trainPpoUsage(gail));
  const shaping: Record<string, number> = {};
  for (const [flag, key] of Object.entries(SHAPING)) {
    const w = numberOption(opts, flag, undefined, { min: 0 });
    if (w !== undefined) shaping[key] = w;
  }
  let gailOpts: { demos: string; config: Partial<GAILConfig> } | undefined;
  if (gail) {
    if (!opts.demos) throw flagError('demos', 'a demonstrations file from env record-expert', undefined);
    const cfg: Record<string, unknown> = {};
    for (const f of GAIL_FLAGS) if (opts[f.flag] !== undefined) cfg[f.key] = parseFlagValue(f.spec, opts[f.flag] as string);
    try {
      GAIL_CONFIG.resolve(cfg);
    } catch (e) {
      if (e instanceof ConfigError && e.field) throw flagError(GAIL_FLAGS.find((f) => f.key === e.field)?.flag ?? e.field, String(e.expected ?? 'a valid value'), e.found);
      throw e;
    }
    gailOpts = { demos: opts.demos as string, config: cfg as Partial<GAILConfig> };
  }
  const out = opts.out as string | undefined;
  if (!out) throw flagError('out', 'an output folder', undefined);
  const timesteps = intOption(opts, 'timesteps', 1_000_000, { min: 1 });
  const overrides: Record<string, unknown> = {};
  for (const f of PPO_FLAGS) if (opts[f.flag] !== undefined) overrides[f.key] = parseFlagValue(f.spec, opts[f.flag] as string);
  const ppo = { ...DRIVING_PPO_DEFAULTS, ...overrides } as Partial<PPOConfig>;
  try {
    PPO_CONFIG.resolve(ppo);
  } catch (e) {
    if (e instanceof ConfigError && e.field) throw flagError(PPO_FLAGS.find((f) => f.key === e.field)?.flag ?? e.field, String(e.expected ?? 'a valid value'), e.found);
    throw e;
  }
  const curriculum = opts.curriculum as string | undefined;
  if (curriculum !== undefined && !/^\s*[0-9.]+(@[0-9.]+)?(\s*,\s*[0-9.]+(@[0-9.]+)?)*\s*$/.test(curriculum)) throw flagError('curriculum', 'densities such as 0.05,0.1,0.2 or 0.05@0.8,0.1@0.8,0.2', curriculum);
  const workers = workersOption(opts);
  const backend = await init({ backend: (opts.backend as 'wasm' | 'cpu' | undefined) ?? 'wasm' });
  ensureParentDir(path.join(out, 'x'), 'out');
  const logger = createLogger({ dir: out, formats: ['jsonl'], append: !!opts.resume });
  const bar = opts.json ? null : progress({ total: timesteps, label: gail ? 'train-gail' : 'train-ppo' });
  const result = await trainDrivingPPO({
    out,
    timesteps,
    ...(opts.init ? { init: opts.init as string } : {}),
    resume: !!opts.resume,
    numEnvs: intOption(opts, 'num-envs', 8, { min: 1 }),
    workers,
    seed: intOption(opts, 'seed', 0, { min: 0 }),
    startSeed: intOption(opts, 'start-seed', 0, { min: 0 }),
    numScenarios: intOption(opts, 'num-scenarios', 100, { min: 1 }),
    density: numberOption(opts, 'density', 0.1, { min: 0, max: 1 }),
    ...(curriculum ? { curriculum } : {}),
    initLogStd: numberOption(opts, 'init-log-std', -1.6),
    valueWarmupIterations: intOption(opts, 'value-warmup', 3, { min: 0 }),
    checkpointEvery: intOption(opts, 'checkpoint-every', 10, { min: 1 }),
    ppo,
    shaping,
    ...(gailOpts ? { gail: gailOpts } : {}),
    ...(opts['val-seeds'] !== undefined
      ? { validation: { seeds: parseSeedRange(String(opts['val-seeds'])), every: intOption(opts, 'val-every', 10, { min: 1 }), density: numberOption(opts, 'val-density', 0.1, { min: 0, max: 1 }), runs: intOption(opts, 'val-runs', 1, { min: 1 }) } }
      : {}),
    logger,
    callbacks: [(e) => { if (e.type === 'iteration') bar?.update(e.timesteps, { success: e.log['rollout/success_rate'] ?? 'n/a' }); }],
  });
  bar?.stop();
  logger.close();
  await writeLogCurves(path.join(out, 'progress.jsonl'), gail ? GAIL_CURVES : PPO_CURVES, { xLabel: 'environment steps', title: gail ? 'GAIL' : 'PPO' }, io, !!opts.json);
  const summary = { backend, workers, ...result };
  const best = result.validation?.best;
  io.out(opts.json ? JSON.stringify(summary) : `${gail ? 'train-gail' : 'train-ppo'}: ${result.timesteps} steps in ${result.seconds.toFixed(0)} s, curriculum stage ${result.finalStage}, training success (last 100 episodes) ${(100 * result.trainSuccess).toFixed(0)} %; policy in ${out}${best ? `; best validation success ${(100 * best.success_rate).toFixed(1)} % at ${best.timesteps} steps, in ${result.validation!.bestDir}` : ''}`);
  return 0;
}
