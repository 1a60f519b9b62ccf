/**
 * `drivekit env <info|rollout|bench|render>`: the MetaDrive-style environment from the shell.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ENV_CONFIG, observationSize, type EnvConfigInput } from '../env/config.js';
import { DrivingEnv } from '../env/env.js';
import { STATE_FEATURE_NAMES } from '../env/observation.js';
import { POLICY_NAMES, makePolicy } from '../env/policies.js';
import { rollout } from '../env/rollout.js';
import { envToSvg } from '../viz/env-svg.js';
import { writePng, writeSvg } from '../viz/png.js';
import { UsageError, parseArgs } from './args.js';
import type { CliIO } from './main.js';

const USAGE = `drivekit env <subcommand> [options]

  info    [--json]                                   observation/action spaces and config defaults
  rollout --policy expert|idm|constant|random --seeds A:B [--density D] [--map M] [--horizon H] [--json]
  bench   [--steps N] [--density D] [--json]         env steps/s on one thread (constant action [0, 1])
  render  --seed S --out FILE.svg|.png [--policy P] [--steps N] [--frames DIR] [--window M] [--density D]
  record-expert --seeds A:B --out FILE.arrow [--frames N] [--density D] [--clean RULES]   expert demonstrations (Arrow)`;

/** "A:B" -> [A, B) ; "A" -> [A, A + 1). */
export function parseSeedRange(s: string): number[] {
  const m = /^(\d+)(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`--seeds: expected A:B (B exclusive) or A, found ${JSON.stringify(s)}.`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (!(b > a)) throw new UsageError(`--seeds: expected B > A, found ${s}.`);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function envConfigFrom(opts: Record<string, unknown>, seeds: number[]): EnvConfigInput {
  const cfg: EnvConfigInput = { start_seed: Math.min(...seeds), num_scenarios: Math.max(...seeds) - Math.min(...seeds) + 1 };
  if (opts.density !== undefined) cfg.traffic_density = opts.density as number;
  if (opts.horizon !== undefined) cfg.horizon = opts.horizon as number;
  if (opts.map !== undefined) {
    const m = String(opts.map);
    cfg.map = /^\d+$/.test(m) ? Number(m) : m;
  }
  return cfg;
}

export async function envCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') throw new UsageError(`Usage: ${USAGE}`);
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
    default:
      throw new UsageError(`drivekit env: unknown subcommand '${sub}'. Valid: info, rollout, bench, render.\nUsage: ${USAGE}`);
  }
}

function info(args: string[], io: CliIO): number {
  const opts = parseArgs(args, { json: 'boolean' }, USAGE);
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
  const opts = parseArgs(args, { policy: 'string', seeds: 'string', density: 'number', map: 'string', horizon: 'number', json: 'boolean' }, USAGE);
  if (!opts.policy) throw new UsageError(`drivekit env rollout: --policy is required (${POLICY_NAMES.join('|')}).\nUsage: ${USAGE}`);
  if (!POLICY_NAMES.includes(opts.policy as never)) throw new UsageError(`--policy: expected one of ${POLICY_NAMES.join(', ')}, found ${JSON.stringify(opts.policy)}.`);
  const seeds = parseSeedRange((opts.seeds as string | undefined) ?? '0:10');
  const env = new DrivingEnv(envConfigFrom(opts, seeds));
  const t0 = performance.now();
  const res = rollout(env, makePolicy(opts.policy as string), seeds);
  const seconds = (performance.now() - t0) / 1000;
  const steps = res.episodes.reduce((s, e) => s + e.episode_length, 0);
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
  const opts = parseArgs(args, { steps: 'number', density: 'number', json: 'boolean' }, USAGE);
  const steps = (opts.steps as number | undefined) ?? 10000;
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps: expected an integer >= 1, found ${steps}.`);
  const density = (opts.density as number | undefined) ?? DEFAULT_ENV_CONFIG.traffic_density;
  const r = measureThroughput(steps, density);
  const out = { ...r, traffic_density: density, lidar_rays: DEFAULT_ENV_CONFIG.lidar.num_lasers, action: [0, 1], threads: 1 };
  if (opts.json) io.out(JSON.stringify(out));
  else io.out(`${r.steps} steps in ${r.seconds.toFixed(2)} s: ${r.steps_per_second.toFixed(0)} steps/s (${r.episodes} episodes, density ${density}, reset excluded)`);
  return 0;
}

function render(args: string[], io: CliIO): number {
  const opts = parseArgs(args, { seed: 'number', out: 'string', policy: 'string', steps: 'number', frames: 'string', window: 'number', density: 'number', map: 'string', width: 'number' }, USAGE);
  if (opts.seed === undefined || !opts.out) throw new UsageError(`drivekit env render: --seed and --out are required.\nUsage: ${USAGE}`);
  const out = opts.out as string;
  if (!/\.(svg|png)$/i.test(out)) throw new UsageError(`--out: expected a .svg or .png file, found ${JSON.stringify(out)}.`);
  const seed = opts.seed as number;
  const env = new DrivingEnv(envConfigFrom(opts, [seed]));
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
  io.out(`wrote ${out}${framesDir ? ` and frames in ${framesDir}` : ''}`);
  return 0;
}
