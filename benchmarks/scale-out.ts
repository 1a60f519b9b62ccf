/**
 * Scale-out (issue 14): speed-up against the number of worker threads for the three parallel
 * paths, and the throughput of the Redis queue.
 *
 *  1. scoring: `ProposalScorePool.scoreBatch` of G = 8 proposals on every scene of a metric cache
 *     (the GRPO reward / `navsim eval` path), warm scenes; 1 = this thread.
 *  2. cache building: `buildSeedMetricCache` (scene generation, PDM-Closed for v1.1 and v2.2, the
 *     probe, Arrow shards) of `--seeds` seeds in shards of 2.
 *  3. env evaluation: `evaluatePolicyParallel` of a random MLP policy over `--episodes` seeds.
 *  4. rollouts: PPO's rollout collection (`PPO.collectRollouts`, `nSteps` x `--envs` env steps, the
 *     driving 256-256 policy once per step on this thread) on `WorkerVectorEnv` (`env train-ppo
 *     --workers N`: this thread and N-1 workers step slices of the envs); with the per-step costs
 *     that bound it: policy inference, this thread's env slice, the wait for the other slices, the
 *     decoding of their infos, and an empty round trip (`setTrafficDensity`, no env work).
 *  5. expert recording: `recordExpertDemonstrations` of `--record-seeds` seeds (`env record-expert
 *     --workers N`: shards of seeds in N threads, written here in seed order). Each call starts
 *     its threads afresh (JIT cold), while 1 = this thread is warm after its first round: the
 *     rows include that start-up, as a command does. With `--record-noise S,T` the recording has
 *     action noise in per-episode streams (`--noise-streams episode`, which threads can play), and
 *     a note gives the default run-mode stream's time (this thread, as it must run).
 *  6. queue: the same cache build through Redis (`submitNavsimCache`) with one `drivekit queue
 *     worker` in this process at concurrency 1, 2, cores; needs `redis-server` on the PATH
 *     (skipped with a note otherwise).
 *
 * Workers: 1, 2 and the core count (`os.availableParallelism()`), each case run `--rounds` times,
 * the best kept. Speed-up = time(1) / time(N); efficiency = speed-up / N. The 1-load average is
 * printed: on a shared machine the other processes' load is the first limit.
 *
 *   npx tsx benchmarks/scale-out.ts [--seeds 8] [--episodes 12] [--scenes 16] [--rounds 2]
 *     [--envs 8] [--n-steps 64] [--record-seeds 12] [--record-noise S,T] [--cases scoring,cache,env,rollout,record,queue]
 * Writes bench-results/scale-out.json.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { init } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { ActorCriticPolicy } from '../src/models/mlp-policy.js';
import { buildMetricCache, openMetricCache, seedScenes } from '../src/navsim/metric-cache.js';
import { ProposalScorePool, buildSeedMetricCache } from '../src/navsim/score-pool.js';
import { submitNavsimCache } from '../src/queue/submit.js';
import { startQueueWorker } from '../src/queue/worker.js';
import { evaluatePolicyParallel } from '../src/rl/common/evaluate-shard.js';
import { WorkerVectorEnv } from '../src/env/worker-vector-env.js';
import { recordExpertDemonstrations } from '../src/rl/data/demonstrations.js';
import { DRIVING_POLICY_DEFAULTS, DRIVING_PPO_DEFAULTS } from '../src/rl/ppo/driving.js';
import { PPO } from '../src/rl/ppo/ppo.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const SEEDS = Number(arg('seeds', '8'));
const EPISODES = Number(arg('episodes', '12'));
const SCENES = Number(arg('scenes', '16'));
const ROUNDS = Number(arg('rounds', '2'));
const CASES = new Set(arg('cases', 'scoring,cache,env,rollout,record,queue').split(','));
const ENVS = Number(arg('envs', '8'));
const N_STEPS = Number(arg('n-steps', '64'));
const RECORD_SEEDS = Number(arg('record-seeds', '12'));
/** `--record-noise S,T`: the recording case with DART action noise in per-episode streams (`noiseStreams: 'episode'`). */
const RECORD_NOISE = arg('record-noise', '') ? (arg('record-noise', '').split(',').map(Number) as [number, number]) : null;
const CORES = os.availableParallelism();
const WORKERS = [...new Set([1, 2, CORES])].sort((a, b) => a - b);

interface Row {
  path: string;
  workers: number;
  seconds: number;
  units: number;
  unit: string;
  per_second: number;
  speedup: number;
  efficiency: number;
}

const rows: Row[] = [];
const notes: string[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-bench-scale-'));

async function best(f: () => Promise<void>): Promise<number> {
  let t = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await f();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

function add(pathName: string, workers: number, seconds: number, units: number, unit: string): void {
  const base = rows.find((r) => r.path === pathName && r.workers === 1);
  const speedup = base ? base.seconds / seconds : 1;
  rows.push({ path: pathName, workers, seconds, units, unit, per_second: units / seconds, speedup, efficiency: speedup / workers });
  console.error(`${pathName} x${workers}: ${seconds.toFixed(2)} s`);
}

// 1. scoring
if (CASES.has('scoring')) {
const cacheDir = path.join(tmp, 'score-cache');
buildMetricCache(cacheDir, seedScenes(30_000, 30_000 + SCENES), { shardSize: 4 });
const cache = openMetricCache(cacheDir);
const rng = new Rng(3);
const G = 8;
const items = Array.from({ length: SCENES }, (_, s) => {
  const poses = new Float64Array(G * 8 * 3);
  for (let g = 0; g < G; g++) {
    for (let k = 0; k < 8; k++) {
      const o = (g * 8 + k) * 3;
      poses[o] = (k + 1) * (2 + rng.uniform(0, 1.5));
      poses[o + 1] = (k + 1) * rng.uniform(-0.2, 0.2);
      poses[o + 2] = rng.uniform(-0.05, 0.05);
    }
  }
  return { scene: s, poses, count: G };
});
for (const w of WORKERS) {
  const pool = new ProposalScorePool(cache, { workers: w > 1 ? w : 0 });
  await pool.warm();
  await pool.scoreBatch(items, { version: 'v1.1' });
  const t = await best(async () => {
    for (let rep = 0; rep < 3; rep++) await pool.scoreBatch(items, { version: 'v1.1' });
  });
  await pool.close();
  add('scoring (ProposalScorePool, v1.1, G=8)', w, t, 3 * SCENES * G, 'proposals');
}
}

// 2. cache building
for (const w of CASES.has('cache') ? WORKERS : []) {
  let k = 0;
  const t = await best(async () => {
    await buildSeedMetricCache(path.join(tmp, `build-${w}-${k++}`), { start: 31_000, end: 31_000 + SEEDS }, { workers: w, shardSize: 2 });
  });
  add('cache building (buildSeedMetricCache)', w, t, SEEDS, 'scenes');
}

// 3. env evaluation
if (CASES.has('env')) {
await init({ backend: 'wasm' });
const policyDir = path.join(tmp, 'policy');
const p = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [64, 64], seed: 1 });
await p.save(policyDir);
p.dispose();
for (const w of WORKERS) {
  let episodes = 0;
  const spec = { policyDir, seeds: Array.from({ length: EPISODES }, (_, i) => 500 + i), envConfig: { map: 3, horizon: 300 } };
  const t = await best(async () => {
    const r = await evaluatePolicyParallel(spec, { workers: w, shardSize: w > 1 ? Math.ceil(EPISODES / (2 * w)) : EPISODES });
    episodes = r.episodes;
  });
  add('env evaluation (evaluatePolicyParallel)', w, t, episodes, 'episodes');
}
}

// 4. rollouts (PPO collection on WorkerVectorEnv)
interface RolloutBreakdown {
  workers: number;
  env_steps: number;
  /** Per lock-step of all envs, milliseconds. */
  step_ms: number;
  policy_ms: number;
  env_ms: number;
  local_slice_ms: number;
  wait_ms: number;
  decode_ms: number;
  empty_round_trip_ms: number;
  policy_share: number;
}
const breakdown: RolloutBreakdown[] = [];
if (CASES.has('rollout')) {
  await init({ backend: 'wasm' });
  const envConfig = { start_seed: 0, num_scenarios: 50, traffic_density: 0.1 };
  // one run per worker count, warmed by a first collection, then --rounds collections each,
  // interleaved (1, 2, cores, 1, 2, ...) so that the machine's load changes hit every count alike
  const runs = [];
  for (const w of WORKERS) {
    const env = await WorkerVectorEnv.create(ENVS, envConfig, { seed: 0, workers: w });
    const policy = new ActorCriticPolicy({ ...DRIVING_POLICY_DEFAULTS, obsDim: env.obsSize, actionType: 'box', actionDim: 2, seed: 0 });
    // drive like a BC start: mean throttle 0.5, sigma 0.2 (-1.6 as after --init), so the ego moves
    // through traffic and the env steps cost what they cost in training
    tf.tidy(() => {
      policy.params.get('action_net.bias').assign(tf.tensor1d([0, 0.5]));
      policy.params.get('log_std').assign(tf.fill([2], -1.6));
    });
    const ppo = new PPO(policy, env, { ...DRIVING_PPO_DEFAULTS, nSteps: N_STEPS, batchSize: N_STEPS, seed: 0 });
    const rng = new Rng(1);
    ppo.collectRollouts(rng); // warm: maps built, JIT, tfjs kernels
    runs.push({ w, env, policy, ppo, rng, t: Infinity, policyS: 0, envS: 0, d: { steps: 1, localSeconds: 0, waitSeconds: 0, decodeSeconds: 0 } });
  }
  for (let r = 0; r < Math.max(3, ROUNDS); r++) {
    for (const run of runs) {
      const s0 = { ...run.env.stats };
      const t0 = performance.now();
      const c = run.ppo.collectRollouts(run.rng);
      const dt = (performance.now() - t0) / 1000;
      if (dt < run.t) {
        // the best collection, with its own breakdown
        const s1 = run.env.stats;
        Object.assign(run, { t: dt, policyS: c.policySeconds, envS: c.envSeconds, d: { steps: s1.steps - s0.steps, localSeconds: s1.localSeconds - s0.localSeconds, waitSeconds: s1.waitSeconds - s0.waitSeconds, decodeSeconds: s1.decodeSeconds - s0.decodeSeconds } });
      }
    }
  }
  for (const run of runs) {
    const { env, d } = run;
    // an empty round trip: every slice woken, answering at once (no env work)
    const K = 2000;
    const tr = performance.now();
    for (let k = 0; k < K; k++) env.setTrafficDensity(0.1);
    const rt = (performance.now() - tr) / K;
    const perStep = (x: number) => (1000 * x) / N_STEPS;
    breakdown.push({
      workers: env.threads,
      env_steps: N_STEPS * ENVS,
      step_ms: (1000 * run.t) / N_STEPS,
      policy_ms: perStep(run.policyS),
      env_ms: perStep(run.envS),
      local_slice_ms: (1000 * d.localSeconds) / d.steps,
      wait_ms: (1000 * d.waitSeconds) / d.steps,
      decode_ms: (1000 * d.decodeSeconds) / d.steps,
      empty_round_trip_ms: env.threads > 1 ? rt : 0,
      policy_share: run.policyS / (run.policyS + run.envS),
    });
    add(`rollouts (PPO collection, ${ENVS} envs, 256-256 policy)`, run.w, run.t, N_STEPS * ENVS, 'env steps');
    run.ppo.dispose();
    run.policy.dispose();
    await env.close();
  }
}

// 5. expert recording
if (CASES.has('record')) {
  // A command starts cold: 1 is timed as one fresh worker thread playing every seed (one shard),
  // like `env record-expert --workers 1` in a new process; the warm row (this thread, after a first
  // round) is printed for reference only.
  const seeds = Array.from({ length: RECORD_SEEDS }, (_, i) => 700 + i);
  let k = 0;
  let frames = 0;
  const noisy = RECORD_NOISE ? { actionNoise: RECORD_NOISE, noiseSeed: 1 } : {};
  const rec = async (opts: { workers: number; shardSize?: number; noiseStreams?: 'run' | 'episode' }) => {
    const r = await recordExpertDemonstrations({ out: path.join(tmp, `rec-${k++}.arrow`), seeds, env: { map: 3, horizon: 300 }, ...noisy, noiseStreams: 'episode', ...opts });
    if (r.threads !== (opts.workers === 1 || opts.noiseStreams === 'run' ? 1 : Math.min(opts.workers, seeds.length))) throw new Error(`record: ${r.threads} threads (${r.sequentialReason ?? ''})`);
    frames = r.counts.frames_recorded;
  };
  const label = RECORD_NOISE ? `expert recording, action noise ${RECORD_NOISE.join(',')}, per-episode streams (cold threads)` : 'expert recording (recordExpertDemonstrations, cold threads)';
  for (const w of WORKERS) {
    const t = await best(() => (w === 1 ? rec({ workers: 2, shardSize: seeds.length }) : rec({ workers: w })));
    add(label, w, t, frames, 'frames');
  }
  await rec({ workers: 1 });
  const warm = await best(() => rec({ workers: 1 }));
  notes.push(`expert recording in this thread, warm (reference): ${warm.toFixed(2)} s, ${(frames / warm).toFixed(0)} frames/s`);
  if (RECORD_NOISE) {
    const run = await best(() => rec({ workers: 2, noiseStreams: 'run' }));
    notes.push(`the same noisy recording with the default run-mode stream (this thread whatever --workers, warm): ${run.toFixed(2)} s, ${(frames / run).toFixed(0)} frames/s`);
  }
}

// 6. queue (cache building through Redis, one in-process queue worker)
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
let redis: ReturnType<typeof spawn> | null = null;
if (CASES.has('queue')) try {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    redis!.once('error', reject);
    setTimeout(resolve, 500);
  });
  const url = `redis://127.0.0.1:${port}`;
  for (const w of WORKERS) {
    const worker = startQueueWorker({ redis: url, concurrency: w });
    let k = 0;
    const t = await best(async () => {
      await submitNavsimCache(path.join(tmp, `queue-${w}-${k}`), { start: 31_000, end: 31_000 + SEEDS }, { redis: url, queueDir: path.join(tmp, `q-${w}-${k++}`), shardSize: 2, pollMs: 50 });
    });
    await worker.close();
    add('queue: cache building via Redis (1 worker process)', w, t, SEEDS, 'scenes');
  }
} catch (e) {
  notes.push(`queue case skipped: ${(e as Error).message}`);
} finally {
  redis?.kill('SIGKILL');
}

const table = [
  `| path | workers | seconds | throughput | speed-up | efficiency |`,
  `|---|---:|---:|---:|---:|---:|`,
  ...rows.map((r) => `| ${r.path} | ${r.workers} | ${r.seconds.toFixed(2)} | ${r.per_second.toFixed(1)} ${r.unit}/s | ${r.speedup.toFixed(2)}x | ${(100 * r.efficiency).toFixed(0)} % |`),
];
console.log(table.join('\n'));
if (breakdown.length) {
  console.log('\nrollout step (all envs), ms: policy | env (this thread\'s slice + wait + decode) | empty round trip');
  console.log('| workers | step | policy | this thread\'s slice | wait for the others | decode infos | empty round trip | policy share |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of breakdown) console.log(`| ${b.workers} | ${b.step_ms.toFixed(3)} | ${b.policy_ms.toFixed(3)} | ${b.local_slice_ms.toFixed(3)} | ${b.wait_ms.toFixed(3)} | ${b.decode_ms.toFixed(3)} | ${b.empty_round_trip_ms.toFixed(4)} | ${(100 * b.policy_share).toFixed(0)} % |`);
}
console.log(`cores ${CORES}, load average (1 min) ${os.loadavg()[0]!.toFixed(2)}, node ${process.version}${notes.length ? `\n${notes.join('\n')}` : ''}`);
fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync(
  'bench-results/scale-out.json',
  JSON.stringify({ cores: CORES, load_average_1m: os.loadavg()[0], node: process.version, seeds: SEEDS, episodes: EPISODES, scenes: SCENES, rounds: ROUNDS, envs: ENVS, n_steps: N_STEPS, record_seeds: RECORD_SEEDS, rows, rollout_breakdown: breakdown, notes }, null, 2) + '\n',
);
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(0);
