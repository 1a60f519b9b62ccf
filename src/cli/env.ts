/**
 * `drivekit env <info|rollout|bench|render>`: the MetaDrive-style environment from the shell.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ENV_CONFIG, observationSize, type EnvConfigInput } from '../env/config.js';
import { DrivingEnv } from '../env/env.js';
import { STATE_FEATURE_NAMES } from '../env/observation.js';
import { POLICY_NAMES, makePolicy } from '../env/policies.js';
import { rollout } from '../env/rollout.js';
import { animateEpisode } from '../viz/animate.js';
import { envToSvg } from '../viz/env-svg.js';
import { writePng, writeSvg } from '../viz/png.js';
import { ConfigError } from '../core/errors.js';
import { HelpRequest, UsageError, ensureParentDir, flagError, intOption, numberOption, parseArgs, usageText, type ParsedArgs } from './args.js';
import type { CliIO } from './main.js';

const INFO_USAGE = `drivekit env info [--json]

  observation/action spaces, the observation layout and every config default
  --json    one JSON object instead of text`;

const ROLLOUT_USAGE = `drivekit env rollout --policy P [options]

  run a scripted policy for one episode per seed and print the MetaDrive summary
  --policy P      expert | idm | constant | random (required)
  --seeds A:B     seeds A, A+1, ..., B-1 (B exclusive), or one seed A (default 0:10)
  --density D     traffic density in [0, 1] (default ${DEFAULT_ENV_CONFIG.traffic_density})
  --map M         number of blocks or a block string of C S r R X T O (default ${JSON.stringify(DEFAULT_ENV_CONFIG.map)})
  --horizon H     steps before truncation, integer >= 1 (default ${DEFAULT_ENV_CONFIG.horizon})
  --json          one JSON object with the summary and every episode
  --out FILE      also write one JSON line per episode as it finishes, then a summary line
                  (results survive a failure part-way; memory stays constant in the seed count)`;

const BENCH_USAGE = `drivekit env bench [options]

  env steps/s on one thread with the constant action [0, 1] (reset time excluded)
  --steps N       steps to time, integer >= 1 (default 10000)
  --density D     traffic density in [0, 1] (default ${DEFAULT_ENV_CONFIG.traffic_density})
  --json          one JSON object`;

const RENDER_USAGE = `drivekit env render --seed S --out FILE.svg|FILE.png [options]

  draw the scenario of one seed after some steps of a policy (the out folder is created)
  --seed S        scenario seed, integer >= 0 (required)
  --out FILE      .svg or .png (required)
  --policy P      expert | idm | constant | random (default expert)
  --steps N       steps to drive before drawing, integer >= 0 (default 0; with --frames: the whole episode)
  --frames DIR    also write one PNG per step into DIR
  --animate FILE  also write the episode (with --steps: its first N steps) as an animated SVG,
                  a frame every 5 steps, the view following the ego (--window, default 40)
  --window M      half-size in metres of the view around the ego (default 60, a 120 m square;
                  frames: 40); a large M such as 2000 shows the whole map
  --density D     traffic density in [0, 1] (default ${DEFAULT_ENV_CONFIG.traffic_density})
  --map M         number of blocks or a block string (default ${JSON.stringify(DEFAULT_ENV_CONFIG.map)})
  --width PX      picture width in pixels (default 900)`;

const USAGE = `drivekit env <subcommand> [options]

  info      observation/action spaces and config defaults
  rollout   scripted policy over seeds (--policy, --seeds A:B, default 0:10)
  bench     env steps/s on one thread
  render    draw one scenario (SVG or PNG, optional frames)
  record-expert  expert demonstrations as Arrow (--seeds A:B, --frames N, --out FILE, cleaning)
  train-ppo PPO on the driving env (fresh or from BC, traffic curriculum, --resume)
  train-gail GAIL on the driving env (mixed reward, shaping, BC warm start, --resume)
  train-bc  behaviour cloning from expert demonstrations (--demos, --out, --resume)
  evaluate  a saved policy over seeds and runs (--policy, --seeds A:B, --runs K, --record)

Run \`drivekit env <subcommand> --help\` for its options and defaults.`;

/** "A:B" -> [A, B) ; "A" -> [A, A + 1). */
export function parseSeedRange(s: string): number[] {
  const m = /^(\d+)(?::(\d+))?$/.exec(s.trim());
  if (!m) throw flagError('seeds', 'A:B (integers >= 0, B exclusive) or A', s);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (!(b > a)) throw flagError('seeds', 'B > A', s);
  if (b > 2 ** 32) throw flagError('seeds', 'B <= 2^32 (scenario seeds are 32-bit)', s);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/** The command-line flag of each env config field the CLI sets, to name it in errors. */
const FLAG_OF_FIELD: Record<string, string> = { traffic_density: 'density', horizon: 'horizon', map: 'map', start_seed: 'seed', num_scenarios: 'seeds' };

function envConfigFrom(opts: ParsedArgs, seeds: number[]): EnvConfigInput {
  // A loop, not Math.min(...seeds): spreading 130,000 seeds overflows the call stack.
  let lo = Infinity, hi = -Infinity;
  for (const s of seeds) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  const cfg: EnvConfigInput = { start_seed: lo, num_scenarios: hi - lo + 1, ...mapAndHorizonFrom(opts) };
  const density = numberOption(opts, 'density', undefined, { min: 0, max: 1 });
  if (density !== undefined) cfg.traffic_density = density;
  return cfg;
}

/** The `--map` and `--horizon` flags as env config fields (only those given). */
export function mapAndHorizonFrom(opts: ParsedArgs): EnvConfigInput {
  const cfg: EnvConfigInput = {};
  const horizon = intOption(opts, 'horizon', undefined, { min: 1 });
  if (horizon !== undefined) cfg.horizon = horizon;
  if (opts.map !== undefined) {
    const m = String(opts.map);
    cfg.map = /^\d+$/.test(m) ? Number(m) : m;
  }
  return cfg;
}

/** A `DrivingEnv` from the flags; a config error names the flag it came from (exit 2). */
function makeEnv(opts: ParsedArgs, seeds: number[]): DrivingEnv {
  try {
    return new DrivingEnv(envConfigFrom(opts, seeds));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const field = e.field ?? Object.keys(FLAG_OF_FIELD).find((k) => e.message.includes(`.${k}:`));
    const flag = field !== undefined ? FLAG_OF_FIELD[field.replace(/^.*\./, '')] : undefined;
    if (flag === undefined) throw e;
    throw new UsageError(`Option --${flag}: ${e.message.replace(/^[^:]*:\s*/, '')}`, { field: `--${flag}`, expected: e.expected, found: e.found, cause: e });
  }
}

const SUBCOMMANDS = ['info', 'rollout', 'bench', 'render', 'record-expert', 'train-bc', 'train-ppo', 'train-gail', 'evaluate'] as const;

export async function envCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') throw new HelpRequest(usageText(USAGE));
  if (!sub) throw new UsageError(usageText(USAGE));
  switch (sub) {
    case 'info':
      return info(rest, io);
    case 'rollout':
      return rolloutCmd(rest, io);
    case 'bench':
      return bench(rest, io);
    case 'render':
      return render(rest, io);
    case 'record-expert':
      return (await import('./env-record.js')).recordExpertCommand(rest, io);
    case 'train-ppo':
      return (await import('./env-ppo.js')).trainPpoCommand(rest, io);
    case 'train-gail':
      return (await import('./env-ppo.js')).trainGailCommand(rest, io);
    case 'train-bc':
      return (await import('./env-train.js')).trainBcCommand(rest, io);
    case 'evaluate':
      return (await import('./env-train.js')).evaluateCommand(rest, io);
    default:
      throw new UsageError(`drivekit env: unknown subcommand '${sub}'. Valid: ${SUBCOMMANDS.join(', ')}.\n${usageText(USAGE)}`, { field: 'subcommand', expected: `one of ${SUBCOMMANDS.join(', ')}`, found: sub });
  }
}

function info(args: string[], io: CliIO): number {
  const opts = parseArgs(args, { json: 'boolean' }, INFO_USAGE);
  if (opts._.length > 0) throw new UsageError(`drivekit env info: unexpected argument '${opts._[0]}'.`);
  const n = observationSize(DEFAULT_ENV_CONFIG);
  const out = {
    observation_space: { type: 'Box', shape: [n], low: 0, high: 1, dtype: 'float32' },
    action_space: { type: 'Box', shape: [2], low: -1, high: 1, dtype: 'float32', names: ['steering', 'throttle_brake'] },
    observation_layout: {
      ego_state: [0, 9],
      navigation: [9, 19],
      others: [19, 19 + 4 * DEFAULT_ENV_CONFIG.lidar.num_others],
      lidar: [19 + 4 * DEFAULT_ENV_CONFIG.lidar.num_others, n],
      state_features: STATE_FEATURE_NAMES,
    },
    config: DEFAULT_ENV_CONFIG,
    policies: POLICY_NAMES,
  };
  if (opts.json) io.out(JSON.stringify(out));
  else {
    io.out(`observation: Box(0, 1, (${n},), float32)  [ego 9 | navigation 10 | lidar ${DEFAULT_ENV_CONFIG.lidar.num_lasers}]`);
    io.out('action:      Box(-1, 1, (2,), float32)   [steering, throttle_brake]');
    io.out('config defaults:');
    for (const [k, v] of Object.entries(DEFAULT_ENV_CONFIG)) io.out(`  ${k.padEnd(26)} ${JSON.stringify(v)}`);
  }
  return 0;
}

function rolloutCmd(args: string[], io: CliIO): number {
  const opts = parseArgs(args, { policy: 'string', seeds: 'string', density: 'number', map: 'string', horizon: 'number', json: 'boolean', out: 'string' }, ROLLOUT_USAGE);
  if (opts._.length > 0) throw new UsageError(`drivekit env rollout: unexpected argument '${opts._[0]}'.\n${usageText(ROLLOUT_USAGE)}`);
  if (!opts.policy) throw new UsageError(`drivekit env rollout: --policy is required (${POLICY_NAMES.join('|')}).\n${usageText(ROLLOUT_USAGE)}`, { field: '--policy', expected: POLICY_NAMES.join(', '), found: undefined });
  if (!POLICY_NAMES.includes(opts.policy as never)) throw flagError('policy', `one of ${POLICY_NAMES.join(', ')}`, opts.policy);
  const seeds = parseSeedRange((opts.seeds as string | undefined) ?? '0:10');
  const env = makeEnv(opts, seeds);
  const t0 = performance.now();
  const outPath = opts.out as string | undefined;
  if (outPath !== undefined) ensureParentDir(outPath);
  const fd = outPath !== undefined ? openSync(outPath, 'w') : null;
  let res: ReturnType<typeof rollout>;
  let steps = 0;
  try {
    const onEpisode = (e: { episode_length: number }) => {
      steps += e.episode_length;
      if (fd !== null) writeSync(fd, JSON.stringify(e) + '\n');
    };
    res = rollout(env, makePolicy(opts.policy as string), seeds, { onEpisode, keepEpisodes: fd === null || Boolean(opts.json) });
    if (fd !== null) writeSync(fd, JSON.stringify({ summary: res.summary, policy: res.policy, seeds: [seeds[0], seeds[seeds.length - 1]! + 1] }) + '\n');
  } finally {
    if (fd !== null) closeSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  const out = {
    policy: res.policy,
    seeds: [seeds[0], seeds[seeds.length - 1]! + 1],
    traffic_density: env.config.traffic_density,
    map: env.config.map,
    summary: res.summary,
    steps,
    seconds,
    episodes: res.episodes,
  };
  if (opts.json) io.out(JSON.stringify(out));
  else {
    const s = res.summary;
    io.out(`policy ${res.policy}, seeds ${out.seeds[0]}:${out.seeds[1]}, density ${out.traffic_density}`);
    io.out(`success ${s.success_rate.toFixed(3)}  crash ${s.crash_rate.toFixed(3)}  out_of_road ${s.out_of_road_rate.toFixed(3)}  max_step ${s.max_step_rate.toFixed(3)}`);
    io.out(`route_completion ${s.route_completion.toFixed(3)}  episode_reward ${s.episode_reward.toFixed(1)}  episode_length ${s.episode_length.toFixed(1)}  velocity ${s.mean_velocity.toFixed(1)} km/h`);
    io.out(`${steps} steps in ${seconds.toFixed(1)} s`);
  }
  return 0;
}

/** Steps/s of the default env with constant action [0, 1]; reset time excluded (profile_metadrive). */
export function measureThroughput(steps: number, density = DEFAULT_ENV_CONFIG.traffic_density, startSeed = 1010, numScenarios = 1000): { steps: number; seconds: number; steps_per_second: number; episodes: number } {
  const env = new DrivingEnv({ start_seed: startSeed, num_scenarios: numScenarios, traffic_density: density });
  const action = [0, 1];
  const obs = new Float32Array(env.obsSize);
  let seed = startSeed;
  env.resetInto(obs, 0, { seed });
  let stepTime = 0;
  let episodes = 1;
  let done = 0;
  while (done < steps) {
    const t0 = performance.now();
    const r = env.stepInto(action, obs, 0);
    stepTime += performance.now() - t0;
    done++;
    if (r.terminated || r.truncated) {
      seed = startSeed + ((seed - startSeed + 1) % numScenarios);
      env.resetInto(obs, 0, { seed });
      episodes++;
    }
  }
  return { steps: done, seconds: stepTime / 1000, steps_per_second: done / (stepTime / 1000), episodes };
}

function bench(args: string[], io: CliIO): number {
  const opts = parseArgs(args, { steps: 'number', density: 'number', json: 'boolean' }, BENCH_USAGE);
  if (opts._.length > 0) throw new UsageError(`drivekit env bench: unexpected argument '${opts._[0]}'.`);
  const steps = intOption(opts, 'steps', 10000, { min: 1 });
  const density = numberOption(opts, 'density', DEFAULT_ENV_CONFIG.traffic_density, { min: 0, max: 1 });
  const r = measureThroughput(steps, density);
  const out = { ...r, traffic_density: density, lidar_rays: DEFAULT_ENV_CONFIG.lidar.num_lasers, action: [0, 1], threads: 1 };
  if (opts.json) io.out(JSON.stringify(out));
  else io.out(`${r.steps} steps in ${r.seconds.toFixed(2)} s: ${r.steps_per_second.toFixed(0)} steps/s (${r.episodes} episodes, density ${density}, reset excluded)`);
  return 0;
}

function render(args: string[], io: CliIO): number {
  const opts = parseArgs(args, { seed: 'number', out: 'string', policy: 'string', steps: 'number', frames: 'string', animate: 'string', window: 'number', density: 'number', map: 'string', width: 'number' }, RENDER_USAGE);
  if (opts._.length > 0) throw new UsageError(`drivekit env render: unexpected argument '${opts._[0]}'.`);
  if (opts.seed === undefined || !opts.out) throw new UsageError(`drivekit env render: --seed and --out are required.\n${usageText(RENDER_USAGE)}`, { field: opts.seed === undefined ? '--seed' : '--out', expected: 'a value', found: undefined });
  const out = opts.out as string;
  if (!/\.(svg|png)$/i.test(out)) throw flagError('out', 'a .svg or .png file', out);
  const animate = opts.animate as string | undefined;
  if (animate !== undefined && !/\.svg$/i.test(animate)) throw flagError('animate', 'an .svg file', animate);
  const seed = intOption(opts, 'seed', 0, { min: 0 });
  if (opts.policy !== undefined && !POLICY_NAMES.includes(opts.policy as never)) throw flagError('policy', `one of ${POLICY_NAMES.join(', ')}`, opts.policy);
  intOption(opts, 'steps', 0, { min: 0 });
  numberOption(opts, 'window', undefined, { min: Number.MIN_VALUE });
  intOption(opts, 'width', 900, { min: 16 });
  ensureParentDir(out);
  const env = makeEnv(opts, [seed]);
  const policy = makePolicy((opts.policy as string | undefined) ?? 'expert');
  let { obs } = env.reset({ seed });
  policy.reset(env);
  const steps = (opts.steps as number | undefined) ?? 0;
  const framesDir = opts.frames as string | undefined;
  if (framesDir) mkdirSync(framesDir, { recursive: true });
  const width = (opts.width as number | undefined) ?? 900;
  const window = opts.window as number | undefined;
  const trail: number[] = [env.ego.x, env.ego.y];
  const frame = (t: number) => {
    if (!framesDir) return;
    const svg = envToSvg(env, { window: window ?? 40, trail, width: 480, title: `seed ${seed}  t=${t}  ${env.ego.speedKmh.toFixed(0)} km/h` });
    writePng(join(framesDir, `frame_${String(t).padStart(4, '0')}.png`), svg);
  };
  frame(0);
  let last = 'running';
  const maxSteps = framesDir && steps === 0 ? env.config.horizon : steps;
  for (let t = 1; t <= maxSteps; t++) {
    const r = env.step(policy.act(env, obs));
    obs = r.obs;
    trail.push(env.ego.x, env.ego.y);
    frame(t);
    if (r.terminated || r.truncated) {
      last = r.info.arrive_dest ? 'arrive_dest' : r.info.crash ? 'crash' : r.info.out_of_road ? 'out_of_road' : 'max_step';
      break;
    }
  }
  const pg = env.map.source as { blocks?: { id: string }[] } | null;
  const blocks = pg?.blocks ? pg.blocks.map((b) => b.id).join('') : '';
  const svg = envToSvg(env, { window, trail, width, title: `seed ${seed} ${blocks}  step ${env.stepsInEpisode}  ${last}` });
  if (/\.png$/i.test(out)) writePng(out, svg);
  else writeSvg(out, svg);
  if (animate) {
    ensureParentDir(animate, 'animate');
    const a = animateEpisode(makeEnv(opts, [seed]), makePolicy((opts.policy as string | undefined) ?? 'expert'), { seed, window: window ?? 40, ...(steps > 0 ? { maxSteps: steps } : {}) });
    writeSvg(animate, a.svg);
    io.out(`wrote ${animate}: ${a.frames} frames, ${a.steps} steps, ${a.outcome}`);
  }
  io.out(`wrote ${out}${framesDir ? ` and frames in ${framesDir}` : ''}`);
  return 0;
}
