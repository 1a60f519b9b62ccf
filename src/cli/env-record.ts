/**
 * `drivekit env record-expert`: the scripted expert over a seed range, cleaned, as an Arrow file of
 * transitions for BC and GAIL (see `rl/data/demonstrations.ts` for the columns and the rules).
 *
 *   drivekit env record-expert --seeds 0:200 --frames 50000 --out demos.arrow --density 0.1
 *   drivekit env record-expert --seeds 0:800 --frames 300000 --out demos.arrow      # the seed's scale
 *   drivekit env record-expert --seeds 0:50 --out raw.arrow --clean none
 */
import { init } from '../core/backend.js';
import { InputError } from '../core/errors.js';
import { DEFAULT_ENV_CONFIG, observationSize, resolveEnvConfig, type EnvConfigInput } from '../env/config.js';
import { ActorCriticPolicy } from '../models/mlp-policy.js';
import { progress } from '../core/progress.js';
import { DEFAULT_DEMO_CLEANING, NOISE_STREAMS, recordExpertDemonstrations, type DemoCleaning, type NoiseStreams } from '../rl/data/demonstrations.js';
import { UsageError, WORKERS_HELP, ensureParentDir, flagError, intOption, numberOption, parseArgs, usageText, workersOption, type ParsedArgs } from './args.js';
import { parseSeedRange } from './env.js';
import type { CliIO } from './main.js';

const RULES = ['standstill', 'spikes', 'recovery', 'short'] as const;

export const RECORD_EXPERT_USAGE = `drivekit env record-expert --seeds A:B --out FILE.arrow [options]

  play the scripted expert for one episode per seed, clean the frames, write Arrow transitions
  (obs, action, reward, next_obs, terminated, truncated, episode_id, seed, step)
  --seeds A:B                scenario seeds A, A+1, ..., B-1 (required)
  --out FILE                 output Arrow IPC file (required; written atomically, folder created)
  --frames N                 stop after the episode in which the kept frames reach N (default: every seed)
  --density D                traffic density in [0, 1] (default ${DEFAULT_ENV_CONFIG.traffic_density})
  --map M                    number of blocks or a block string (default ${JSON.stringify(DEFAULT_ENV_CONFIG.map)})
  --horizon H                steps before truncation (default ${DEFAULT_ENV_CONFIG.horizon})
  --clean RULES              all | none | a comma list of ${RULES.join(',')} (default all)
  --standstill-kmh X         near-standstill speed, km/h (default ${DEFAULT_DEMO_CLEANING.standstillKmh})
  --max-steering-delta X     steering spike threshold (default ${DEFAULT_DEMO_CLEANING.maxSteeringDelta})
  --recovery-window N        frames before a crash/out-of-road kept whatever the rules say (default ${DEFAULT_DEMO_CLEANING.recoveryWindow})
  --min-length N             drop episodes left with fewer frames (default ${DEFAULT_DEMO_CLEANING.minEpisodeLength})
  --action-noise S,T         DART noise: the env executes the expert action plus N(0, S) steering and N(0, T) throttle
                             noise, the stored label stays the expert's (default none; 0.1,0.1 helps BC recover)
  --noise-seed N             seed of the noise and expert-mixture streams (default 0)
  --noise-streams M          run: one noise/mixture stream through the episodes in order (default; the files
                             of earlier versions) | episode: one stream per episode from (noise seed, scenario
                             seed), so --action-noise and --expert-prob recordings run in --workers threads
  --driver DIR               DAgger: this policy (policy.safetensors + policy.json, e.g. train-bc's) drives and the
                             expert labels the states it visits (default: the expert drives)
  --expert-prob B            DAgger mixture: each step is driven by the expert with probability B (default 0)
  --workers N                ${WORKERS_HELP}; shards of seeds, the same file as 1 (with --action-noise or
                             --expert-prob > 0 and --noise-streams run: this thread, their stream runs through
                             the episodes in order)
  --shard-size N             seeds per shard (default: a quarter of a worker's share, at most 8)
  --json                     one JSON object (counts per rule, frames/s, CPU seconds)
  --quiet                    no progress bar`;

/** The cleaning options from the flags. */
function cleaningFrom(opts: ParsedArgs): DemoCleaning {
  const spec = String(opts.clean ?? 'all');
  let on: Set<string>;
  if (spec === 'all') on = new Set(RULES);
  else if (spec === 'none') on = new Set();
  else {
    const parts = spec.split(',').map((s) => s.trim());
    const bad = parts.find((p) => !(RULES as readonly string[]).includes(p));
    if (bad !== undefined) throw flagError('clean', `all, none or a comma list of ${RULES.join(', ')}`, spec);
    on = new Set(parts);
  }
  return {
    standstillKmh: on.has('standstill') ? numberOption(opts, 'standstill-kmh', DEFAULT_DEMO_CLEANING.standstillKmh, { min: 0 }) : 0,
    maxSteeringDelta: on.has('spikes') ? numberOption(opts, 'max-steering-delta', DEFAULT_DEMO_CLEANING.maxSteeringDelta ?? 0.3, { min: Number.MIN_VALUE }) : null,
    recoveryWindow: on.has('recovery') ? intOption(opts, 'recovery-window', DEFAULT_DEMO_CLEANING.recoveryWindow, { min: 0 }) : 0,
    minEpisodeLength: on.has('short') ? intOption(opts, 'min-length', DEFAULT_DEMO_CLEANING.minEpisodeLength, { min: 0 }) : 0,
  };
}

export async function recordExpertCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(
    args,
    {
      seeds: 'string',
      out: 'string',
      frames: 'number',
      density: 'number',
      map: 'string',
      horizon: 'number',
      clean: 'string',
      'standstill-kmh': 'number',
      'max-steering-delta': 'number',
      'recovery-window': 'number',
      'min-length': 'number',
      'action-noise': 'string',
      'noise-seed': 'number',
      'noise-streams': 'string',
      driver: 'string',
      'expert-prob': 'number',
      workers: 'number',
      'shard-size': 'number',
      json: 'boolean',
      quiet: 'boolean',
    },
    RECORD_EXPERT_USAGE,
  );
  if (opts._.length > 0) throw new UsageError(`drivekit env record-expert: unexpected argument '${opts._[0]}'.\n${usageText(RECORD_EXPERT_USAGE)}`, { field: 'argument', expected: 'options only', found: opts._[0] });
  if (!opts.seeds || !opts.out) {
    const field = !opts.seeds ? '--seeds' : '--out';
    throw new UsageError(`drivekit env record-expert: --seeds and --out are required.\n${usageText(RECORD_EXPERT_USAGE)}`, { field, expected: 'a value', found: undefined });
  }
  const seeds = parseSeedRange(String(opts.seeds));
  const out = String(opts.out);
  const frames = intOption(opts, 'frames', undefined, { min: 1 });
  const env: EnvConfigInput = {};
  const density = numberOption(opts, 'density', undefined, { min: 0, max: 1 });
  if (density !== undefined) env.traffic_density = density;
  const horizon = intOption(opts, 'horizon', undefined, { min: 1 });
  if (horizon !== undefined) env.horizon = horizon;
  if (opts.map !== undefined) {
    const m = String(opts.map);
    env.map = /^\d+$/.test(m) ? Number(m) : m;
  }
  const cleaning = cleaningFrom(opts);
  const noiseStreams = String(opts['noise-streams'] ?? 'run') as NoiseStreams;
  if (!NOISE_STREAMS.includes(noiseStreams)) throw flagError('noise-streams', NOISE_STREAMS.join(' or '), opts['noise-streams']);
  ensureParentDir(out);

  let actionNoise: [number, number] | undefined;
  if (opts['action-noise'] !== undefined) {
    const parts = String(opts['action-noise']).split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
    if (parts.length !== 2 || !parts.every((x) => Number.isFinite(x) && x >= 0)) throw flagError('action-noise', 'two standard deviations >= 0, e.g. 0.1,0.1', opts['action-noise']);
    actionNoise = [parts[0]!, parts[1]!];
  }
  let driver: ActorCriticPolicy | null = null;
  if (opts.driver !== undefined) {
    await init({ backend: 'wasm' });
    ({ policy: driver } = await ActorCriticPolicy.load(String(opts.driver)));
    if (driver.config.obsDim !== observationSize(resolveEnvConfig(env)) || driver.config.actionType !== 'box' || driver.config.actionDim !== 2) {
      const found = driver.config.obsDim;
      driver.dispose();
      throw new InputError(InputError.format({ file: String(opts.driver), field: 'obsDim', expected: `a driving policy (observation ${observationSize(resolveEnvConfig(env))}, box:2 actions)`, found }), { file: String(opts.driver), field: 'obsDim', expected: observationSize(resolveEnvConfig(env)), found });
    }
  }
  const workers = workersOption(opts);
  const shardSize = intOption(opts, 'shard-size', undefined, { min: 1 });
  const expertProb = numberOption(opts, 'expert-prob', 0, { min: 0, max: 1 });
  const cpu0 = process.cpuUsage();
  const bar = progress({ total: frames ?? seeds.length, label: 'record-expert', mode: opts.quiet ? 'silent' : 'auto' });
  let report;
  try {
    report = await recordExpertDemonstrations({
      out,
      seeds,
      frames,
      env,
      cleaning,
      ...(actionNoise ? { actionNoise } : {}),
      // the driver folder (not the loaded policy): worker threads load it themselves
      ...(driver ? { driverDir: String(opts.driver), expertProbability: expertProb } : {}),
      noiseSeed: intOption(opts, 'noise-seed', 0, { min: 0 }),
      noiseStreams,
      workers,
      ...(shardSize !== undefined ? { shardSize } : {}),
      onEpisode: (e) =>
        bar.update(frames !== undefined ? Math.min(frames, e.counts.frames_kept) : e.counts.episodes_recorded, { kept: e.counts.frames_kept, failed: e.counts.episodes_failed }),
    });
  } finally {
    bar.stop();
    driver?.dispose();
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const c = report.counts;
  const played = report.seedsPlayed;
  const result = {
    out: report.out,
    seeds: [seeds[0], seeds[seeds.length - 1]! + 1],
    seeds_played: played.length > 0 ? [played[0], played[played.length - 1]! + 1] : [],
    frames: c.frames_kept,
    episodes: c.episodes_kept,
    counts: c,
    obs_dim: report.obsDim,
    action_dim: report.actDim,
    traffic_density: report.envConfig.traffic_density,
    cleaning: report.cleaning,
    record_seconds: report.recordSeconds,
    write_seconds: report.writeSeconds,
    frames_per_second: c.frames_recorded / Math.max(report.recordSeconds, 1e-9),
    /** CPU time of this process (record + write): frames per CPU second is steadier on a busy machine. */
    cpu_seconds: cpuSeconds,
    /** Threads that played the episodes (1 with --workers 1, or when the recording must run in order). */
    threads: report.threads,
    ...(report.sequentialReason ? { sequential_reason: report.sequentialReason } : {}),
    /** How the action-noise and expert-mixture draws were streamed (--noise-streams). */
    noise_streams: report.noiseStreams,
  };
  if (opts.json) io.out(JSON.stringify(result));
  else {
    const d = c.dropped;
    io.out(`wrote ${report.out}: ${c.frames_kept} frames in ${c.episodes_kept} episodes (obs ${report.obsDim}, action ${report.actDim})`);
    io.out(`recorded ${c.frames_recorded} frames over ${c.episodes_recorded} episodes (seeds ${result.seeds_played.join(':')}; ${c.episodes_failed} failed)`);
    io.out(`dropped: standstill ${d.standstill}, steering spikes ${d.steering_spike}, short trajectories ${d.short_trajectory}; kept in recovery windows ${d.recovery_exempt}`);
    io.out(`${result.frames_per_second.toFixed(0)} frames/s recording (${report.threads} thread${report.threads === 1 ? '' : 's'}${report.sequentialReason ? `: ${report.sequentialReason}` : ''}), ${report.writeSeconds.toFixed(2)} s writing, ${cpuSeconds.toFixed(1)} CPU s`);
  }
  return 0;
}
