/**
 * `drivekit planner <info|make-synthetic-cache|train-il|sample>`.
 *   info: configuration and parameter count of a planner preset (no weights are allocated).
 *   make-synthetic-cache / train-il / sample: implemented in `planner-train.ts` (IL trainer and sampler over a cache).
 */
import { countParameters, type PlannerPreset, plannerConfig } from '../models/planner.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIO } from './main.js';

const USAGE = 'drivekit planner <info|make-synthetic-cache|train-il|sample> [options]\n  info [--preset small|large] [--cond-dim N] [--json]';

export async function plannerCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') throw new UsageError(`Usage: ${USAGE}`);
  if (sub === 'info') return infoCommand(rest, io);
  if (sub === 'train-il' || sub === 'sample' || sub === 'make-synthetic-cache') {
    const mod = await import('./planner-train.js');
    if (sub === 'make-synthetic-cache') return mod.makeSyntheticCacheCommand(rest, io);
    return sub === 'train-il' ? mod.trainIlCommand(rest, io) : mod.sampleCommand(rest, io);
  }
  throw new UsageError(`Unknown planner subcommand '${sub}'. Valid: info, make-synthetic-cache, train-il, sample.\nUsage: ${USAGE}`);
}

async function infoCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { preset: 'string', 'cond-dim': 'number', json: 'boolean' }, 'drivekit planner info [--preset small|large] [--cond-dim N] [--json]');
  if (opts._.length > 0) throw new UsageError(`drivekit planner info: unexpected argument '${opts._[0]}'.`);
  const preset = (opts.preset as string | undefined) ?? 'small';
  if (preset !== 'small' && preset !== 'large') throw new UsageError(`Invalid --preset ${JSON.stringify(preset)}. Should be small or large.`);
  const condDim = (opts['cond-dim'] as number | undefined) ?? 1536;
  if (!Number.isInteger(condDim) || condDim < 1) throw new UsageError(`Invalid --cond-dim ${condDim}. Should be an integer >= 1.`);
  const config = plannerConfig({ preset: preset as PlannerPreset, condDim });
  const parameters = countParameters(config);
  const width = config.numHeads * config.headDim;
  if (opts.json) {
    io.out(JSON.stringify({ preset, condDim, width, numLayers: config.numLayers, numHeads: config.numHeads, parameters, config }));
  } else {
    io.out(`planner preset: ${preset}`);
    io.out(`conditioning width: ${condDim}`);
    io.out(`DiT: ${config.numLayers} blocks (self/cross alternating), ${config.numHeads} heads x ${config.headDim} = ${width}, output ${config.ditOutputDim}`);
    io.out(`DDIM: ${config.numInferenceSteps} steps, T = ${config.scheduler.numTrainTimesteps} (${config.scheduler.betaSchedule})`);
    io.out(`parameters: ${parameters.toLocaleString('en-US')}`);
  }
  return 0;
}
