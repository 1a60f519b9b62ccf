/**
 * One DiffGRPO iteration and where its wall time goes (issue 11, "scoring is under 10 % of a GRPO
 * iteration's wall time"): the trainer as `drivekit navsim train-grpo --metric-cache` runs it.
 *
 *  1. A metric cache (v1.1, PDM-Closed computed once) of `--seeds` generated training scenes
 *     (train split, seeds 0 .. N-1; `buildSeedMetricCache`, the `navsim cache --seeds` path) in a
 *     temp folder, and their scene tokens as at IL time (`sceneRows`, the IL checkpoint's
 *     `data.json` condLength, its planner's condDim).
 *  2. Per case (`--workers 0,1,2`): the IL checkpoint `--init` (default the committed
 *     `results/navsim-grpo/il`) loaded as `train-grpo --init` loads it (`loadPlanner`, reference =
 *     a frozen copy, its sha256 recorded), a `ProposalScorePool` over the cache with that many
 *     worker threads (0: the pool scores in this thread, i.e. in-process, no overlap; it is warmed
 *     as after a first epoch), `poolPDMReward`, and a `DiffGRPOTrainer` with the experiment's
 *     settings (`npm run experiment:navsim`: G = 8, B = 16 scenes per iteration, peak lr 1e-4, EP
 *     weight 5, bcCoeff 0.5, rolloutMinStd 0.02, PDMS reward). `--warmup` iterations (kernel
 *     compilation, JIT), then `--iterations` measured ones; the trainer's own `time/*` log keys are
 *     what is reported: iteration s (best, median), sampling (rollouts + teacher chains), scoring
 *     on the main thread (the reward call: all of scoring with 0 workers, dispatch only with a
 *     pool), scoring wait (the part of the pool's work sampling did not cover), backward (loss,
 *     gradients, clip, AdamW) and the scoring share `time/scoring_fraction` = (main-thread
 *     scoring + wait) / iteration. Target: median share < 10 %.
 *  3. The same cases in the first epoch (unless `--no-cold`): a fresh, unwarmed pool (and fresh
 *     worker threads), the first ceil(seeds / B) iterations, so every scene is decoded and prepared
 *     from its shard on first use, as in the first epoch of `train-grpo` (the pool is not warmed
 *     there). Shards here hold seeds / 4 scenes, so each worker keeps all its shard tables; a cache
 *     of more shards than `MetricCache.maxShardTables` (4) per worker, like the experiment's 8 x 256,
 *     re-reads and re-hashes a shard for most cold scenes and costs more than measured here.
 *
 * Every case starts from the same weights and seed and the pool scores bit-identically to the
 * in-process path, so all cases run the same iterations: the reward means are compared across
 * cases as a check. Shared machine: the load average and a fixed arithmetic loop (calibration,
 * before every iteration) are recorded; tensors are counted before and after every case.
 *
 *   npx tsx benchmarks/navsim-grpo.ts [--seeds 64] [--iterations 12] [--warmup 2] [--workers 0,1,2]
 *                                     [--scenes-per-iteration 16] [--scoring-chunks 1] [--no-cold] [--init results/navsim-grpo/il] [--backend auto]
 * (`--scoring-chunks K`: the trainer's `scoringChunks`, the batch sampled in K chunks of scenes, each
 * scored while the next is sampled; the experiment uses 1, so a pool overlaps only the teacher chains.)
 * Writes bench-results/navsim-grpo.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { type BackendRequest, init } from '../src/core/backend.js';
import { DiffusionPlanner, type PlannerConfig } from '../src/models/planner.js';
import { plannerCheckpointConfig, resolvePlannerCheckpoint } from '../src/models/planner-checkpoint.js';
import { ProposalScorePool, buildSeedMetricCache } from '../src/navsim/score-pool.js';
import { NAVSIM_SPLITS } from '../src/navsim/splits.js';
import { GRPO_TRAIN_CONFIG, type GRPOTrainConfig } from '../src/rl/grpo/config.js';
import { checkpointDir, loadPlanner, weightsSha256 } from '../src/rl/grpo/reference.js';
import { pdmRewardOptions, poolPDMReward } from '../src/rl/grpo/reward.js';
import { DiffGRPOTrainer } from '../src/rl/grpo/trainer.js';
import { InMemoryILData } from '../src/rl/data/il-data.js';
import { sceneRows } from '../src/rl/data/scene-dataset.js';
import { calibrationMs, calibrationSink, machineLine, machineRecord, median } from './lib/calibration.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const NUM_SEEDS = Number(arg('seeds', '64'));
const ITERATIONS = Number(arg('iterations', '12'));
const WARMUP = Number(arg('warmup', '2'));
const WORKERS = arg('workers', '0,1,2').split(',').filter(Boolean).map(Number);
const B = Number(arg('scenes-per-iteration', '16'));
const CHUNKS = Number(arg('scoring-chunks', '1'));
const COLD = !process.argv.includes('--no-cold');
const INIT = arg('init', 'results/navsim-grpo/il');
const BACKEND = arg('backend', 'auto') as BackendRequest;
const TARGET_SHARE = 0.1;
const SEED0 = NAVSIM_SPLITS.train.start;

/** The experiment's DiffGRPO settings (scripts/experiment-navsim.ts, full size). */
const SETTINGS: Partial<Omit<GRPOTrainConfig, 'optimizer'>> & { optimizer: Partial<GRPOTrainConfig['optimizer']> } = {
  groupSize: 8,
  scenesPerIteration: B,
  iterations: 250,
  optimizer: { lr: 1e-4 },
  progressWeight: 5,
  bcCoeff: 0.5,
  rolloutMinStd: 0.02,
  reward: 'pdms',
  scoringChunks: CHUNKS,
};

const calib: number[] = [];

const backend = await init({ backend: BACKEND });
const loadBefore = os.loadavg()[0]!;
for (let i = 0; i < 10; i++) calib.push(calibrationMs());

// 1. metric cache and scene tokens
const initDir = path.resolve(checkpointDir(INIT));
const ck = resolvePlannerCheckpoint(initDir);
const plannerCfg: PlannerConfig = (await plannerCheckpointConfig(ck)).config;
const dataJson = path.join(initDir, 'data.json');
const condLength = fs.existsSync(dataJson) ? (JSON.parse(fs.readFileSync(dataJson, 'utf8')) as { condLength: number }).condLength : 48;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-bench-grpo-'));
const cacheDir = path.join(tmp, 'cache');
let t = performance.now();
await buildSeedMetricCache(cacheDir, { start: SEED0, end: SEED0 + NUM_SEEDS }, { versions: ['v1.1'], shardSize: Math.ceil(NUM_SEEDS / 4), workers: 2 });
const cacheS = (performance.now() - t) / 1000;
t = performance.now();
const seeds = Array.from({ length: NUM_SEEDS }, (_, i) => SEED0 + i);
const data = new InMemoryILData(sceneRows(seeds, { numTokens: condLength, width: plannerCfg.condDim }).rows);
const tokensS = (performance.now() - t) / 1000;
const sha256 = weightsSha256(initDir);

// 2. the cases
interface Iter {
  iterationS: number;
  samplingS: number;
  scoringMainS: number;
  scoringWaitS: number;
  scoringS: number;
  backwardS: number;
  /** iteration - sampling - scoring - backward: reading the rows, building the inputs, bookkeeping. */
  otherS: number;
  share: number;
  rewardMean: number;
}
interface Case {
  workers: number;
  /** 'warm': scenes decoded and prepared beforehand (steady state, after a first epoch); 'cold': the first epoch, every scene decoded on first use. */
  scenes: 'warm' | 'cold';
  loadedCheckpoint: boolean;
  /** Seconds `pool.warm()` took for every scene of the cache (warm cases; fresh workers included): what warming up front costs. */
  poolWarmS: number | null;
  tensorsBefore: number;
  tensorsAfter: number;
  iterations: Iter[];
  best: { iterationS: number };
  median: Omit<Iter, 'rewardMean'>;
  pass: boolean;
}

/** One case: a fresh planner from the checkpoint, a fresh pool (warmed or not), a fresh trainer; `skip` iterations, then `measure`. */
async function runCase(workers: number, scenes: 'warm' | 'cold', skip: number, measure: number): Promise<Case> {
  const tensorsBefore = tf.memory().numTensors;
  let planner: DiffusionPlanner;
  let loadedCheckpoint = true;
  try {
    planner = (await loadPlanner(initDir)).planner;
  } catch (e) {
    // not expected with the committed checkpoint; said in the table when it happens
    console.error(`could not load ${initDir} (${(e as Error).message}); a fresh planner of its config instead`);
    planner = new DiffusionPlanner(plannerCfg, { seed: 0 });
    loadedCheckpoint = false;
  }
  const pool = ProposalScorePool.open(cacheDir, { workers });
  let trainer: DiffGRPOTrainer | null = null;
  const iterations: Iter[] = [];
  let poolWarmS: number | null = null;
  try {
    if (scenes === 'warm') {
      const tw = performance.now();
      await pool.warm(undefined, { version: 'v1.1' });
      poolWarmS = (performance.now() - tw) / 1000;
    }
    const config = GRPO_TRAIN_CONFIG.resolve(SETTINGS);
    trainer = new DiffGRPOTrainer(planner, data, poolPDMReward(pool, pdmRewardOptions(config)), { config: SETTINGS, referenceSource: { path: initDir, sha256 } });
    for (let i = 0; i < skip + measure; i++) {
      calib.push(calibrationMs());
      const r = await trainer.iterate();
      if (i < skip) continue;
      const n = (k: string) => Number(r[k]);
      iterations.push({
        iterationS: n('time/iteration_s'),
        samplingS: n('time/sampling_s'),
        scoringMainS: n('time/scoring_s') - n('time/scoring_wait_s'),
        scoringWaitS: n('time/scoring_wait_s'),
        scoringS: n('time/scoring_s'),
        backwardS: n('time/backward_s'),
        otherS: n('time/iteration_s') - n('time/sampling_s') - n('time/scoring_s') - n('time/backward_s'),
        share: n('time/scoring_fraction'),
        rewardMean: n('rollout/reward_mean'),
      });
    }
  } finally {
    trainer?.dispose();
    planner.dispose();
    await pool.close();
  }
  const med = (k: keyof Iter) => median(iterations.map((x) => x[k]));
  const m = { iterationS: med('iterationS'), samplingS: med('samplingS'), scoringMainS: med('scoringMainS'), scoringWaitS: med('scoringWaitS'), scoringS: med('scoringS'), backwardS: med('backwardS'), otherS: med('otherS'), share: med('share') };
  return { workers, scenes, loadedCheckpoint, poolWarmS, tensorsBefore, tensorsAfter: tf.memory().numTensors, iterations, best: { iterationS: Math.min(...iterations.map((x) => x.iterationS)) }, median: m, pass: m.share < TARGET_SHARE };
}

const cases: Case[] = [];
// steady state first (its warm-up iterations also compile the backend's kernels for the cold cases)
for (const workers of WORKERS) cases.push(await runCase(workers, 'warm', WARMUP, ITERATIONS));
// the first epoch: iterations 1 .. ceil(seeds / B), every scene cold (not measured with --no-cold)
const firstEpoch = Math.ceil(NUM_SEEDS / B);
if (COLD) for (const workers of WORKERS) cases.push(await runCase(workers, 'cold', 0, firstEpoch));
fs.rmSync(tmp, { recursive: true, force: true });
const loadAfter = os.loadavg()[0]!;

// every case ran the same iterations (same weights, seed, bit-identical scoring)
const rewards0 = cases[0]?.iterations.map((x) => x.rewardMean) ?? [];
const coldRewards0 = cases.find((c) => c.scenes === 'cold')?.iterations.map((x) => x.rewardMean) ?? [];
const sameRewards = cases.every((c) => c.iterations.every((x, i) => x.rewardMean === (c.scenes === 'warm' ? rewards0 : coldRewards0)[i]));
const leaks = cases.filter((c) => c.tensorsAfter !== c.tensorsBefore);

const label = (w: number) => (w === 0 ? 'in-process (pool, 0 workers)' : `pool, ${w} worker thread${w > 1 ? 's' : ''}`);
const scenesLabel = (c: Case) => (c.scenes === 'warm' ? `warm, ${c.iterations.length} iterations after ${WARMUP}` : `cold: first epoch, ${c.iterations.length} iterations`);
const f = (x: number) => x.toFixed(3);
const ms = (x: number) => (1000 * x).toFixed(1);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
console.log(
  `DiffGRPO iteration, ${backend} backend, IL checkpoint ${path.relative(process.cwd(), initDir) || initDir}, B = ${B} scenes x G = ${SETTINGS.groupSize} rollouts (${B * SETTINGS.groupSize!} plans), scoringChunks ${CHUNKS}, ` +
    `${NUM_SEEDS} train seeds (${SEED0}..${SEED0 + NUM_SEEDS - 1}), PDMS reward; ${WARMUP} warm-up + ${ITERATIONS} measured iterations per case`,
);
console.log(`metric cache build (v1.1, 2 workers): ${cacheS.toFixed(1)} s; scene tokens ${condLength} x ${plannerCfg.condDim}: ${tokensS.toFixed(1)} s`);
console.log('');
console.log('| scorer | scenes | iteration s best | median | sampling s | scoring, main thread ms | scoring wait ms | backward s | other ms | scoring share (median) | target | pass | tensors before -> after |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of cases) {
  const m = c.median;
  console.log(
    `| ${label(c.workers)}${c.loadedCheckpoint ? '' : ' (fresh planner: checkpoint not loadable)'} | ${scenesLabel(c)} | ${f(c.best.iterationS)} | ${f(m.iterationS)} | ${f(m.samplingS)} | ${ms(m.scoringMainS)} | ${ms(m.scoringWaitS)} | ${f(m.backwardS)} | ${ms(m.otherS)} | ${pct(m.share)} | < ${pct(TARGET_SHARE)} | ${c.pass ? 'PASS' : 'FAIL'} | ${c.tensorsBefore} -> ${c.tensorsAfter} |`,
  );
}
const inProc = cases.find((c) => c.workers === 0 && c.scenes === 'warm');
if (inProc) {
  const plansPerS = (B * SETTINGS.groupSize!) / inProc.median.scoringMainS;
  console.log('');
  console.log(
    `in-process scoring (what a pool takes off the main thread): median ${(1000 * inProc.median.scoringMainS).toFixed(1)} ms per iteration ` +
      `(${plansPerS.toFixed(0)} plans/s), best ${(1000 * Math.min(...inProc.iterations.map((x) => x.scoringMainS))).toFixed(1)} ms`,
  );
}
const warmCases = cases.filter((c) => c.poolWarmS !== null);
if (warmCases.length > 0) {
  console.log(
    `pool.warm() of all ${NUM_SEEDS} scenes before the first iteration (fresh pool): ` +
      warmCases.map((c) => `${label(c.workers)} ${(1000 * c.poolWarmS!).toFixed(0)} ms (${((1000 * c.poolWarmS!) / NUM_SEEDS).toFixed(1)} ms/scene)`).join(', '),
  );
}
console.log(`same reward means in every warm case and in every cold case (same iterations): ${sameRewards ? 'yes' : 'NO'}; tensor leaks: ${leaks.length === 0 ? 'none' : leaks.map((c) => `${label(c.workers)} ${c.scenes}`).join(', ')}`);
const env = { ...machineRecord(loadBefore, loadAfter, calib), backend };
console.log(machineLine(env, `pass = median scoring share < ${pct(TARGET_SHARE)}.`));
if (calibrationSink() === 42) console.log('');
fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync(
  'bench-results/navsim-grpo.json',
  JSON.stringify({ benchmark: 'navsim-grpo', date: new Date().toISOString(), env, init: initDir, initSha256: sha256, settings: GRPO_TRAIN_CONFIG.toJSON(GRPO_TRAIN_CONFIG.resolve(SETTINGS)), seeds: [SEED0, SEED0 + NUM_SEEDS], warmup: WARMUP, firstEpochIterations: COLD ? firstEpoch : 0, cacheBuildS: cacheS, sceneTokensS: tokensS, targetShare: TARGET_SHARE, sameRewards, cases }, null, 2) + '\n',
);
if (leaks.length > 0 || !sameRewards) process.exitCode = 1;
