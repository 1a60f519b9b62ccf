/**
 * `drivekit planner <info|make-synthetic-cache|train-il|sample>`.
 *   info: configuration and parameter count of a planner preset (no weights are allocated).
 *   make-synthetic-cache / train-il: implemented in `planner-train.ts` (IL trainer over a cache).
 *   sample: implemented in `planner-sample.ts` (the sampler over a cache; no IL trainer).
 */
import { countParameters, PLANNER_PRESETS, type PlannerPreset, plannerConfig } from '../models/planner.js';
import { flagError, HelpRequest, intOption, parseArgs, usageText, UsageError } from './args.js';
import type { CliIO } from './main.js';

/** The preset names every planner command accepts (`small`, `large`, `tiny`). */
export const PRESET_NAMES = Object.keys(PLANNER_PRESETS) as PlannerPreset[];

const USAGE = `drivekit planner <subcommand> [options]

  info                   configuration and parameter count of a preset
  make-synthetic-cache   a synthetic hidden-state cache to try the pipeline without a VLM
  train-il               imitation learning on a hidden-state cache (checkpoints in --out)
  sample                 trajectories from a checkpoint for every row of a cache

Run \`drivekit planner <subcommand> --help\` for its options and defaults.`;

const INFO_USAGE = `drivekit planner info [options]

  --preset P      ${PRESET_NAMES.join(' | ')} (default small)
  --cond-dim H    width of the VLM hidden states, integer >= 1 (default 1536)
  --json          one JSON object (with the full config)`;

export async function plannerCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') throw new HelpRequest(usageText(USAGE));
  if (!sub) throw new UsageError(usageText(USAGE));
  if (sub === 'info') return infoCommand(rest, io);
  if (sub === 'sample') return (await import('./planner-sample.js')).sampleCommand(rest, io);
  if (sub === 'train-il' || sub === 'make-synthetic-cache') {
    const mod = await import('./planner-train.js');
    return sub === 'train-il' ? mod.trainILCommand(rest, io) : mod.makeSyntheticCacheCommand(rest, io);
  }
  throw new UsageError(`Unknown planner subcommand '${sub}'. Valid: info, make-synthetic-cache, train-il, sample.\n${usageText(USAGE)}`, {
    field: 'subcommand',
    expected: 'info, make-synthetic-cache, train-il or sample',
    found: sub,
  });
}

/** Checks a `--preset` value against the one preset set. */
export function presetOption(value: string | undefined): PlannerPreset | undefined {
  if (value === undefined) return undefined;
  if (!PRESET_NAMES.includes(value as PlannerPreset)) throw flagError('preset', `one of ${PRESET_NAMES.join(', ')}`, value);
  return value as PlannerPreset;
}

async function infoCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { preset: 'string', 'cond-dim': 'number', json: 'boolean' }, INFO_USAGE);
  if (opts._.length > 0) throw new UsageError(`drivekit planner info: unexpected argument '${opts._[0]}'.`);
  const preset = presetOption(opts.preset as string | undefined) ?? 'small';
  const condDim = intOption(opts, 'cond-dim', 1536, { min: 1 });
  const config = plannerConfig({ preset, condDim });
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
