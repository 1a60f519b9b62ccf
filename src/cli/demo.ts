/**
 * `drivekit demo`: the main job on embedded defaults (WASM backend, no GPU, no downloads).
 * Both tracks end to end, small enough for a laptop:
 *
 * 1. MetaDrive track: the scripted expert and the IDM policy drive unseen procedural maps with
 *    traffic; success, crash, out-of-road, route completion, steering jerk.
 * 2. ReCogDrive track: NAVSIM-style scenes are cut from procedural maps, vectorised to scene
 *    tokens, a small DiT diffusion planner learns them by imitation (epsilon-MSE, AdamW, warmup
 *    + cosine), then samples G trajectories per held-out scene with the 5-step DDIM sampler, and
 *    the NAVSIM PDM score (v1.1, with PDM-Closed as EP normaliser) rates them against the human
 *    future and a constant-velocity baseline.
 * 3. A short DiffGRPO stage (ReCogDrive stage 3: G rollouts per training scene, PDMS reward, BC
 *    anchor to the IL weights) fine-tunes the planner; the held-out scenes are sampled and scored
 *    again and a before / after table is printed.
 */
import * as tf from '@tensorflow/tfjs';
import { init } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import { DrivingEnv } from '../env/env.js';
import { makePolicy } from '../env/policies.js';
import { rollout } from '../env/rollout.js';
import { DiffusionPlanner } from '../models/planner.js';
import { parseScene } from '../navsim/scene-json.js';
import { scoreScene } from '../navsim/score-scene.js';
import type { Trajectory } from '../navsim/scorer.js';
import type { PDMScene } from '../navsim/types.js';
import { GRPO_TRAIN_DEFAULTS } from '../rl/grpo/config.js';
import { inProcessPDMReward, pdmRewardOptions } from '../rl/grpo/reward.js';
import { DiffGRPOTrainer } from '../rl/grpo/trainer.js';
import { type ILRows, InMemoryILData } from '../rl/data/il-data.js';
import { plannerForIL } from '../rl/il-planner.js';
import { ILTrainer } from '../rl/il-trainer.js';
import { sceneRows } from '../rl/data/scene-dataset.js';
import { parseArgs } from './args.js';
import type { CliIO } from './main.js';

const USAGE =
  'drivekit demo [--quick] [--json] [--backend auto|wasm|cpu|webgpu|tensorflow] [--train-scenes N] [--test-scenes N] [--epochs N] [--grpo-iterations N] [--seed S]';

export interface DemoOptions {
  /** Seeds of the MetaDrive evaluation episodes (unseen maps). */
  envSeeds: number[];
  trainScenes: number;
  testScenes: number;
  epochs: number;
  /** DiffGRPO iterations after IL (B = 4 training scenes x G rollouts each, PDMS reward). */
  grpoIterations: number;
  /** Samples per test scene (GRPO's G). */
  groupSize: number;
  seed: number;
}

export const DEMO_DEFAULTS: Readonly<DemoOptions> = Object.freeze({
  envSeeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  trainScenes: 192,
  testScenes: 16,
  epochs: 30,
  grpoIterations: 30,
  groupSize: 8,
  seed: 0,
});

/** Scene tokens L x H and the planner size of the demo (a few hundred thousand parameters). */
const TOKENS = { numTokens: 24, width: 32 } as const;
const PLANNER = { condDim: TOKENS.width, numHeads: 4, headDim: 16, numLayers: 4, ditOutputDim: 64, mlpHidden: 128 } as const;
/** Scene seeds: training maps and held-out maps never overlap. */
const TRAIN_SEED0 = 10_000;
const TEST_SEED0 = 50_000;

interface PdmsSummary {
  score: number;
  nc: number;
  dac: number;
  ep: number;
  ttc: number;
  comfort: number;
  n: number;
}

function summarise(rows: Record<string, number | null>[]): PdmsSummary {
  const mean = (k: string) => rows.reduce((s, r) => s + (r[k] ?? 0), 0) / rows.length;
  return {
    score: mean('score'),
    nc: mean('no_at_fault_collisions'),
    dac: mean('drivable_area_compliance'),
    ep: mean('ego_progress'),
    ttc: mean('time_to_collision_within_bound'),
    comfort: mean('comfort'),
    n: rows.length,
  };
}

/** Constant-velocity baseline in the ego frame: keeps the current speed and heading. */
function constantVelocity(vx: number): Trajectory {
  const poses: number[][] = [];
  for (let i = 1; i <= 8; i++) poses.push([vx * 0.5 * i, 0, 0]);
  return { poses, frame: 'ego' };
}

/**
 * Samples G trajectories per held-out scene and scores each with the PDM score (v1.1): the planner's
 * samples, the best of each group and (with `baselines`) the human future and constant velocity.
 */
function evaluatePlanner(planner: DiffusionPlanner, rows: ILRows, scenes: readonly PDMScene[], opts: DemoOptions, baselines: boolean): Record<string, PdmsSummary> {
  const G = opts.groupSize;
  const cond = tf.tensor3d(rows.cond, [rows.count, rows.condLength, rows.condDim]);
  const history = tf.tensor2d(rows.history, [rows.count, 12]);
  const status = tf.tensor2d(rows.status, [rows.count, 8]);
  const encoded = planner.encodeCondition({ hiddenStates: cond, history, status });
  const sample = planner.sample(encoded, { rng: new Rng(opts.seed + 1), groupSize: G });
  const traj = sample.trajectory.arraySync() as number[][][];
  sample.trajectory.dispose();
  sample.normalized.dispose();
  encoded.dispose();
  tf.dispose([cond, history, status]);

  const planned: Record<string, number | null>[] = [];
  const best: Record<string, number | null>[] = [];
  const human: Record<string, number | null>[] = [];
  const cv: Record<string, number | null>[] = [];
  for (let i = 0; i < rows.count; i++) {
    const scene = scenes[i]!;
    const proposals: Trajectory[] = traj.slice(i * G, (i + 1) * G).map((poses) => ({ poses, frame: 'ego' }));
    const humanPoses: number[][] = [];
    for (let k = 0; k < 8; k++) humanPoses.push([rows.target[i * 24 + k * 3]!, rows.target[i * 24 + k * 3 + 1]!, rows.target[i * 24 + k * 3 + 2]!]);
    const vx = rows.status[i * 8 + 4]!;
    const scored = scoreScene(scene, [...proposals, ...(baselines ? [{ poses: humanPoses, frame: 'ego' as const }, constantVelocity(vx)] : [])], { version: 'v1.1' });
    const m = scored.metrics as unknown as Record<string, number | null>[];
    planned.push(...m.slice(0, G));
    best.push(m.slice(0, G).reduce((a, b) => ((b.score ?? 0) > (a.score ?? 0) ? b : a)));
    if (baselines) {
      human.push(m[G]!);
      cv.push(m[G + 1]!);
    }
  }
  return {
    planner_samples: summarise(planned),
    planner_best_of_group: summarise(best),
    ...(baselines ? { human: summarise(human), constant_velocity: summarise(cv) } : {}),
  };
}

export async function runDemo(opts: DemoOptions, backend: string, log: (line: string) => void) {
  const t0 = performance.now();
  // --- 1. MetaDrive track -------------------------------------------------------------------
  const env = new DrivingEnv({ start_seed: 0, num_scenarios: Math.max(...opts.envSeeds) + 1 });
  const metadrive: Record<string, unknown> = {};
  for (const name of ['expert', 'idm']) {
    const r = rollout(env, makePolicy(name), opts.envSeeds);
    metadrive[name] = r.summary;
    const s = r.summary;
    log(
      `metadrive ${name.padEnd(6)} seeds ${opts.envSeeds[0]}..${opts.envSeeds[opts.envSeeds.length - 1]}: ` +
        `success ${fmt(s.success_rate)} crash ${fmt(s.crash_rate)} out_of_road ${fmt(s.out_of_road_rate)} ` +
        `route_completion ${fmt(s.route_completion)} reward ${fmt(s.episode_reward, 1)}`,
    );
  }
  const tEnv = performance.now();

  // --- 2. ReCogDrive track: scenes -> tokens -> IL -> DDIM samples -> PDM score --------------
  const trainSeeds = Array.from({ length: opts.trainScenes }, (_, i) => TRAIN_SEED0 + opts.seed * 1000 + i);
  const testSeeds = Array.from({ length: opts.testScenes }, (_, i) => TEST_SEED0 + opts.seed * 1000 + i);
  const train = sceneRows(trainSeeds, TOKENS);
  const test = sceneRows(testSeeds, TOKENS);
  log(`recogdrive scenes: ${trainSeeds.length} train, ${testSeeds.length} held-out (procedural maps, scene tokens ${TOKENS.numTokens}x${TOKENS.width})`);
  const tScenes = performance.now();

  const planner = DiffusionPlanner.create(PLANNER, { seed: opts.seed });
  const trainer = new ILTrainer(plannerForIL(planner), new InMemoryILData(train.rows), null, {
    epochs: opts.epochs,
    batchSize: 32,
    warmup: Math.max(1, Math.round(opts.epochs * 0.05)),
    optimizer: { lr: 2e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 1e-4 },
    minLr: 1e-5,
    valEvery: 0,
    seed: opts.seed,
  });
  const fit = await trainer.fit();
  const losses = fit.trainLoss;
  log(
    `recogdrive IL: planner ${planner.numParameters().toLocaleString('en-US')} params, ${opts.epochs} epochs, ` +
      `eps-MSE ${fmt(losses[0] ?? NaN)} -> ${fmt(losses[losses.length - 1] ?? NaN)}`,
  );
  const tTrain = performance.now();

  // Sample G trajectories per held-out scene and score each with the PDM score (v1.1).
  const testScenes: PDMScene[] = test.scenes.map((j, i) => parseScene(j, { source: `scene ${testSeeds[i]}` }));
  const pdms = evaluatePlanner(planner, test.rows, testScenes, opts, true);
  const tScore = performance.now();
  for (const [k, s] of Object.entries(pdms)) {
    log(
      `recogdrive PDMS v1.1 ${k.padEnd(22)} ${fmt(s.score)}  (NC ${fmt(s.nc)} DAC ${fmt(s.dac)} EP ${fmt(s.ep)} TTC ${fmt(s.ttc)} C ${fmt(s.comfort)}, n=${s.n})`,
    );
  }

  // --- 3. DiffGRPO after IL: G rollouts per training scene, PDMS reward, BC anchor to the IL weights ----
  const byName = new Map(train.scenes.map((j, i) => [train.rows.tokens[i]!, parseScene(j, { source: `scene ${trainSeeds[i]}` })]));
  const reward = inProcessPDMReward(byName, pdmRewardOptions(GRPO_TRAIN_DEFAULTS));
  const grpo = new DiffGRPOTrainer(planner, new InMemoryILData(train.rows), reward, {
    config: { iterations: opts.grpoIterations, scenesPerIteration: 4, groupSize: opts.groupSize, optimizer: { lr: 1e-4 }, seed: opts.seed, checkpointEvery: 0 },
  });
  const rewards: number[] = [];
  grpo.callbacks.push((e) => void (e.type === 'iteration' && rewards.push(Number(e.log['rollout/reward_mean']))));
  await grpo.fit();
  grpo.dispose();
  const tGrpo = performance.now();
  const after = evaluatePlanner(planner, test.rows, testScenes, opts, false);
  const tScore2 = performance.now();
  const head = (a: number[]) => a.slice(0, 5).reduce((x, y) => x + y, 0) / Math.max(1, Math.min(5, a.length));
  log(`recogdrive DiffGRPO: ${opts.grpoIterations} iterations of 4 scenes x ${opts.groupSize} rollouts, reward (first 5 / last 5) ${fmt(head(rewards))} -> ${fmt(head(rewards.slice(-5)))}`);
  log('recogdrive before / after DiffGRPO (held-out scenes, PDMS v1.1 of the planner samples):');
  log(`  ${'agent'.padEnd(16)} ${['PDMS', 'NC', 'DAC', 'EP', 'TTC', 'C'].map((h) => h.padStart(6)).join(' ')}`);
  for (const [k, s] of [['constant velocity', pdms.constant_velocity], ['IL', pdms.planner_samples], ['IL + DiffGRPO', after.planner_samples], ['human', pdms.human]] as const) {
    log(`  ${k.padEnd(16)} ${[s.score, s.nc, s.dac, s.ep, s.ttc, s.comfort].map((x) => fmt(x).padStart(6)).join(' ')}`);
  }
  planner.dispose();
  const seconds = {
    metadrive: (tEnv - t0) / 1000,
    scenes: (tScenes - tEnv) / 1000,
    il_train: (tTrain - tScenes) / 1000,
    sample_and_score: (tScore - tTrain) / 1000,
    grpo: (tGrpo - tScore) / 1000,
    sample_and_score_after_grpo: (tScore2 - tGrpo) / 1000,
    total: (tScore2 - t0) / 1000,
  };
  log(`time: ${Object.entries(seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  return { backend, options: opts, metadrive, recogdrive: { il_loss: losses, pdms, grpo: { reward: rewards, pdms: after } }, seconds };
}

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

export async function demoCommand(args: string[], io: CliIO): Promise<number> {
  const a = parseArgs(
    args,
    { quick: 'boolean', json: 'boolean', backend: 'string', 'train-scenes': 'number', 'test-scenes': 'number', epochs: 'number', 'grpo-iterations': 'number', seed: 'number' },
    USAGE,
  );
  const opts: DemoOptions = { ...DEMO_DEFAULTS, envSeeds: [...DEMO_DEFAULTS.envSeeds] };
  if (a.quick) Object.assign(opts, { envSeeds: [0, 1, 2], trainScenes: 48, testScenes: 4, epochs: 4, grpoIterations: 2 });
  for (const [flag, key] of [['train-scenes', 'trainScenes'], ['test-scenes', 'testScenes'], ['epochs', 'epochs'], ['grpo-iterations', 'grpoIterations'], ['seed', 'seed']] as const) {
    const v = a[flag];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < (key === 'seed' ? 0 : 1)) {
      io.err(`drivekit demo: --${flag} must be an integer >= ${key === 'seed' ? 0 : 1}, found ${v}.`);
      return 2;
    }
    opts[key] = v as number;
  }
  const backend = await init({ backend: (a.backend as 'auto' | undefined) ?? 'auto' });
  const log = a.json ? () => undefined : io.out;
  log(`drivekit demo on the ${backend} backend`);
  const result = await runDemo(opts, backend, log);
  if (a.json) io.out(JSON.stringify(result));
  return 0;
}
