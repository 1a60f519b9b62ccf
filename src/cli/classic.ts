/**
 * `drivekit classic train-ppo`: PPO on the gymnasium classics (CartPole-v1, Pendulum-v1) with
 * the task's reference settings as defaults. Every PPO setting is also a flag, generated from the
 * `PPO_CONFIG` declaration (`--learning-rate`, `--n-steps`, `--clip-range-vf null`, ...).
 */
import * as path from 'node:path';
import { init } from '../core/backend.js';
import { ConfigError } from '../core/errors.js';
import { cliFlags, parseFlagValue } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { PPO_CURVES, writeLogCurves } from './curves.js';
import { CLASSIC_ENV_IDS, type ClassicEnvId } from '../env/spaces.js';
import { PPO_CONFIG, type PPOConfig } from '../rl/ppo/config.js';
import { trainClassicPPO } from '../rl/ppo/classic.js';
import { PPO_PRESETS } from '../rl/ppo/presets.js';
import { HelpRequest, UsageError, ensureParentDir, flagError, intOption, parseArgs, usageText, type OptionSpec } from './args.js';
import type { CliIO } from './main.js';

const PPO_FLAGS = cliFlags(PPO_CONFIG).filter((f) => f.key !== 'seed');

function ppoUsage(): string {
  const lines = [
    'drivekit classic train-ppo --env CartPole-v1|Pendulum-v1 [options]',
    '',
    '  PPO on a gymnasium classic with the task\'s reference settings (see docs/ppo.md)',
    '  --env ID          CartPole-v1 (cleanrl ppo.py defaults) | Pendulum-v1 (rl-zoo settings, no gSDE) (required)',
    '  --timesteps N     environment steps over all envs (default 500000 CartPole, 200000 Pendulum)',
    '  --seed S          seed of envs, weights and sampling (default 0)',
    '  --num-envs N      environments stepped in lock-step (default: the preset\'s, 4)',
    '  --out DIR         save the policy (policy.safetensors + policy.json) and progress.jsonl there, with its curves progress.svg/.png',
    '  --json            one JSON object: env, timesteps, seed, curve [[step, mean of last 10 returns]...], final_mean, seconds',
    '',
    '  PPO settings (default: the preset\'s value, else the PPO default shown):',
  ];
  for (const f of PPO_FLAGS) lines.push(`  --${f.flag.padEnd(24)} ${f.spec.doc} (default ${JSON.stringify(f.spec.default)})`);
  return lines.join('\n');
}

const USAGE = `drivekit classic <subcommand> [options]

  train-ppo   PPO on CartPole-v1 or Pendulum-v1 (known-answer tasks)

Run \`drivekit classic train-ppo --help\` for its options and defaults.`;

export async function classicCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') throw new HelpRequest(usageText(USAGE));
  if (sub !== 'train-ppo') {
    throw new UsageError(`drivekit classic: ${sub ? `unknown subcommand '${sub}'` : 'a subcommand is required'}. Valid: train-ppo.\n${usageText(USAGE)}`, { field: 'subcommand', expected: 'train-ppo', found: sub });
  }
  return trainPpo(rest, io);
}

async function trainPpo(args: string[], io: CliIO): Promise<number> {
  const spec: OptionSpec = { env: 'string', timesteps: 'number', seed: 'number', 'num-envs': 'number', out: 'string', json: 'boolean', backend: 'string' };
  for (const f of PPO_FLAGS) spec[f.flag] = 'string';
  const usage = ppoUsage();
  const opts = parseArgs(args, spec, usage);
  const id = opts.env as string | undefined;
  if (!id || !(CLASSIC_ENV_IDS as readonly string[]).includes(id)) throw flagError('env', CLASSIC_ENV_IDS.join(' or '), id);
  const envId = id as ClassicEnvId;
  const timesteps = intOption(opts, 'timesteps', envId === 'CartPole-v1' ? 500_000 : 200_000, { min: 1 });
  const seed = intOption(opts, 'seed', 0, { min: 0, max: 2 ** 31 - 1 });
  const numEnvs = intOption(opts, 'num-envs', PPO_PRESETS[envId].numEnvs, { min: 1 });
  const overrides: Record<string, unknown> = {};
  for (const f of PPO_FLAGS) if (opts[f.flag] !== undefined) overrides[f.key] = parseFlagValue(f.spec, opts[f.flag] as string);
  const settings = { ...PPO_PRESETS[envId].ppo, ...overrides, seed } as Partial<PPOConfig>;
  try {
    PPO_CONFIG.resolve(settings);
  } catch (e) {
    if (e instanceof ConfigError && e.field) {
      const flag = PPO_FLAGS.find((f) => f.key === e.field)?.flag ?? e.field;
      throw flagError(flag, String(e.expected ?? 'a valid value'), e.found);
    }
    throw e;
  }
  const backend = await init({ backend: (opts.backend as 'wasm' | 'cpu' | undefined) ?? 'wasm' });
  const out = opts.out as string | undefined;
  if (out) ensureParentDir(path.join(out, 'x'), 'out');
  const logger = out ? createLogger({ dir: out, formats: opts.json ? ['jsonl'] : ['stdout', 'jsonl'] }) : opts.json ? null : createLogger({ formats: ['stdout'], out: io.out });
  const result = await trainClassicPPO(envId, { timesteps, seed, numEnvs, ppo: settings, ...(logger ? { logger } : {}) });
  logger?.close();
  if (out) await writeLogCurves(path.join(out, 'progress.jsonl'), PPO_CURVES, { xLabel: 'environment steps', title: `PPO on ${envId}` }, io, !!opts.json);
  if (out) await result.policy.save(out, { env: envId, algorithm: 'PPO', ppo: PPO_CONFIG.toJSON(PPO_CONFIG.resolve(settings)), timesteps: result.timesteps });
  result.policy.dispose();
  const summary = { env: envId, backend, timesteps: result.timesteps, seed, num_envs: numEnvs, episodes: result.episodes, final_mean: result.finalMean, seconds: result.seconds, settings: PPO_CONFIG.toJSON(PPO_CONFIG.resolve(settings)), curve: result.curve };
  if (opts.json) io.out(JSON.stringify(summary));
  else io.out(`${envId}: ${result.timesteps} steps, ${result.episodes} episodes, mean of the last 10 returns ${result.finalMean.toFixed(1)} (${result.seconds.toFixed(1)} s, ${backend})${out ? `; policy in ${out}` : ''}`);
  return 0;
}
