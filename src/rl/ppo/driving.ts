/**
 * PPO on the MetaDrive-style driving env, the RL half of the MetaDrive IL+RL recipe:
 *
 * 1. The policy is a 256-256 tanh actor-critic on the 259-D observation, either fresh or
 *    initialised from a behaviour-cloning checkpoint (`init`, the same `ActorCriticPolicy`
 *    class, so it loads unchanged); with `init`, the Gaussian's log-std is reset to
 *    `initLogStd` (BC trains only the mean) and the critic is warmed up for
 *    `valueWarmupIterations` iterations with the actor frozen.
 * 2. `numEnvs` environments on the training maps (`start_seed`, `num_scenarios`) are stepped in
 *    lock-step; a traffic-density curriculum (e.g. 0.05 → 0.1 → 0.2) raises the density on the
 *    same maps by steps or by success rate.
 * 3. PPO updates with reward normalisation (VecNormalize; the driving observation is already in
 *    [0, 1], so observation normalisation is off by default), checkpoints in `out/last/` with the
 *    curriculum's state, and the policy in `out/` for `env evaluate`.
 *
 * With `gail`, the same loop is GAIL's (`rl/gail`): the discriminator relabels each rollout's
 * rewards as α·r_gail + β·r_env (+ shaping) and is updated after each PPO step.
 *
 * With `workers` > 1 the environments are stepped by that many threads (`env/WorkerVectorEnv`),
 * with the same results.
 *
 * Resume continues from `out/last/` with the optimizer, random streams, normaliser and
 * curriculum restored; the driving env does not snapshot its episodes, so the resumed run
 * starts fresh episodes (it is not bit-identical to an uninterrupted run; the classic envs are).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../../core/atomic.js';
import { InputError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { EnvConfigInput } from '../../env/config.js';
import { VectorEnv } from '../../env/vector-env.js';
import { WorkerVectorEnv } from '../../env/worker-vector-env.js';
import { evaluatePolicy } from '../common/evaluate.js';
import { ActorCriticPolicy, type PolicyConfig } from '../../models/mlp-policy.js';
import type { Callback } from '../common/callbacks.js';
import { TrafficCurriculum, type CurriculumState } from '../common/curriculum.js';
import { readDemonstrations } from '../data/demonstrations.js';
import { GAIL, type GAILConfig } from '../gail/gail.js';
import { drivingShaping, type DrivingShapingWeights } from '../gail/shaping.js';
import { MlpDiscriminator } from '../../models/discriminator.js';
import type { PPOConfig } from './config.js';
import { PPO } from './ppo.js';

/** PPO settings for the driving env (SB3 defaults where not listed). */
export const DRIVING_PPO_DEFAULTS: Readonly<Partial<PPOConfig>> = Object.freeze({
  learningRate: 1e-4,
  lrSchedule: 'linear',
  nSteps: 256,
  batchSize: 256,
  nEpochs: 5,
  gamma: 0.99,
  gaeLambda: 0.95,
  clipRange: 0.2,
  entCoef: 0,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: 0.05,
  normObs: false,
  normReward: true,
});

export const DRIVING_POLICY_DEFAULTS: Readonly<Partial<PolicyConfig>> = Object.freeze({ hidden: [256, 256], activation: 'tanh', sharedTrunk: false, logStdInit: -0.5 });

export interface DrivingPPOOptions {
  out: string;
  timesteps: number;
  /** A policy checkpoint to start from (e.g. BC's). */
  init?: string;
  /** Continue the run in `out/last/`. */
  resume?: boolean;
  numEnvs?: number;
  /**
   * Threads stepping the environments, this one included (default 1: this thread only): the
   * envs are split over them (`WorkerVectorEnv`), the policy still runs once per step here;
   * the run is bit-identical for any number.
   */
  workers?: number;
  seed?: number;
  /** Training maps: seeds [startSeed, startSeed + numScenarios). */
  startSeed?: number;
  numScenarios?: number;
  /** Curriculum spec for `TrafficCurriculum.parse` (default: constant `density`). */
  curriculum?: string;
  density?: number;
  envConfig?: EnvConfigInput;
  ppo?: Partial<PPOConfig>;
  policy?: Partial<PolicyConfig>;
  /** Log-std the Gaussian starts from when `init` is given (default −1.6, σ ≈ 0.2). */
  initLogStd?: number;
  /** Critic-only iterations after `init` (default 3). */
  valueWarmupIterations?: number;
  checkpointEvery?: number;
  logger?: Logger;
  callbacks?: Callback[];
  /** Shaping terms added to the env reward (each weight 0 = off). */
  shaping?: Partial<DrivingShapingWeights>;
  /** Train with GAIL on these demonstrations (the PPO update is the generator step). */
  gail?: { demos: string; config?: Partial<GAILConfig>; discHidden?: number[] };
  /**
   * Validation during training (SB3's `EvalCallback` with `best_model_save_path`): every `every`
   * iterations and at the end, the deterministic policy is evaluated on the validation maps
   * `seeds` (keep them disjoint from the training and the test maps); `eval/*` is logged and
   * the best policy so far (success rate, ties broken by route completion) is written to `out/best/`.
   */
  validation?: DrivingValidation;
}

export interface DrivingValidation {
  seeds: readonly number[];
  /** Iterations between evaluations (default 10). */
  every?: number;
  /** Traffic density of the validation episodes (default 0.1). */
  density?: number;
  /** Runs over the seeds (default 1). */
  runs?: number;
}

export interface ValidationPoint {
  timesteps: number;
  iteration: number;
  seconds: number;
  success_rate: number;
  route_completion: number;
}

export interface DrivingPPOResult {
  timesteps: number;
  iterations: number;
  seconds: number;
  finalStage: number;
  /** Success rate of the last 100 training episodes. */
  trainSuccess: number;
  policyDir: string;
  /** With `validation`: every evaluation, and the best one (its policy is in `bestDir`). */
  validation?: { points: ValidationPoint[]; best: ValidationPoint; bestDir: string };
}

/** Trains PPO on the driving env; writes the policy to `out/` and the resumable run to `out/last/`. */
export async function trainDrivingPPO(o: DrivingPPOOptions): Promise<DrivingPPOResult> {
  const seed = o.seed ?? 0;
  const numEnvs = o.numEnvs ?? 8;
  const lastDir = path.join(o.out, 'last');
  const curriculum = o.curriculum ? TrafficCurriculum.parse(o.curriculum, o.timesteps) : new TrafficCurriculum([{ density: o.density ?? 0.1 }]);
  const envConfig: EnvConfigInput = { start_seed: o.startSeed ?? 0, num_scenarios: o.numScenarios ?? 100, ...o.envConfig, traffic_density: curriculum.density };
  const workers = o.workers ?? 1;
  const env = workers > 1 ? await WorkerVectorEnv.create(numEnvs, envConfig, { seed, workers }) : new VectorEnv(numEnvs, envConfig, { seed });
  try {
    return await trainOn(o, env, { seed, numEnvs, lastDir, curriculum, envConfig });
  } finally {
    if (env instanceof WorkerVectorEnv) await env.close();
  }
}

async function trainOn(
  o: DrivingPPOOptions,
  env: VectorEnv | WorkerVectorEnv,
  { seed, numEnvs, lastDir, curriculum, envConfig }: { seed: number; numEnvs: number; lastDir: string; curriculum: TrafficCurriculum; envConfig: EnvConfigInput },
): Promise<DrivingPPOResult> {
  const recentSuccess: number[] = [];
  const onEpisode: Callback = (e) => {
    if (e.type !== 'episode') return;
    const ok = !!(e.info as { arrive_dest?: boolean } | undefined)?.arrive_dest;
    curriculum.recordEpisode(ok);
    recentSuccess.push(ok ? 1 : 0);
    if (recentSuccess.length > 100) recentSuccess.shift();
  };
  let ppo: PPO;
  const shaping = o.shaping && Object.values(o.shaping).some((w) => w) ? drivingShaping(o.shaping, numEnvs, env.obsSize) : undefined;
  const extraLog = () => ({ 'curriculum/stage': curriculum.stage, 'curriculum/density': curriculum.density, 'rollout/success_rate': recentSuccess.length ? recentSuccess.reduce((a, b) => a + b, 0) / recentSuccess.length : NaN });
  const callbacks = [onEpisode, ...(o.callbacks ?? [])];
  let warmup = o.init ? (o.valueWarmupIterations ?? 3) : 0;
  if (o.resume) {
    if (!fs.existsSync(path.join(lastDir, 'run.json'))) throw new InputError(`${lastDir}: no PPO run to resume (run.json missing).`, { file: lastDir, field: 'run.json', expected: 'present', found: 'missing' });
    ppo = await PPO.load(lastDir, env, { ...(o.logger ? { logger: o.logger } : {}), callbacks, extraLog, ...(shaping ? { shaping } : {}) });
    const cur = path.join(lastDir, 'curriculum.json');
    if (fs.existsSync(cur)) {
      const saved = JSON.parse(fs.readFileSync(cur, 'utf8')) as { curriculum: CurriculumState; warmupLeft: number };
      curriculum.setState(saved.curriculum);
      warmup = saved.warmupLeft;
    }
  } else {
    let policy: ActorCriticPolicy;
    if (o.init) {
      ({ policy } = await ActorCriticPolicy.load(o.init));
      if (policy.config.obsDim !== env.obsSize || policy.config.actionType !== 'box' || policy.config.actionDim !== 2) {
        policy.dispose();
        throw new InputError(`${o.init}: the policy takes observations of width ${policy.config.obsDim} and ${policy.config.actionType}:${policy.config.actionDim} actions; the driving env gives ${env.obsSize} and box:2.`, { file: o.init, field: 'obsDim', expected: env.obsSize, found: policy.config.obsDim });
      }
      const ls = o.initLogStd ?? -1.6;
      tf.tidy(() => policy.params.get('log_std').assign(tf.fill([2], ls)));
    } else {
      policy = new ActorCriticPolicy({ ...DRIVING_POLICY_DEFAULTS, ...o.policy, obsDim: env.obsSize, actionType: 'box', actionDim: 2, seed });
    }
    ppo = new PPO(policy, env, { ...DRIVING_PPO_DEFAULTS, ...o.ppo, seed }, { ...(o.logger ? { logger: o.logger } : {}), callbacks, extraLog, ...(shaping ? { shaping } : {}) });
  }
  let gail: GAIL | null = null;
  let disc: MlpDiscriminator | null = null;
  if (o.gail) {
    const demos = await readDemonstrations(o.gail.demos, { expectObsDim: env.obsSize, expectActDim: 2, nextObs: false });
    disc = new MlpDiscriminator({ obsDim: env.obsSize, actionDim: 2, ...(o.gail.discHidden ? { hidden: o.gail.discHidden } : {}), seed });
    gail = new GAIL(ppo, disc, { obs: demos.obs, actions: demos.actions, n: demos.numFrames, file: demos.file }, { ...o.gail.config, seed });
    if (o.resume && fs.existsSync(path.join(lastDir, 'gail.json'))) await gail.restore(lastDir);
  }
  curriculum.apply(env);
  const t0 = performance.now();
  const every = o.checkpointEvery ?? 10;
  const normalizerState = () => (ppo.normalizer ? { ...ppo.normalizer.state(), options: { ...ppo.normalizer.options, normReward: false } } : null);
  const savePolicy = (dir: string) => ppo.policy.save(dir, { algorithm: gail ? 'GAIL' : 'PPO', env: 'DrivingEnv', envConfig, normalizer: normalizerState(), timesteps: ppo.numTimesteps, curriculum: curriculum.state() });
  const bestDir = path.join(o.out, 'best');
  const points: ValidationPoint[] = [];
  let best: ValidationPoint | null = null;
  if (o.resume && o.validation && fs.existsSync(path.join(lastDir, 'validation.json'))) {
    const saved = JSON.parse(fs.readFileSync(path.join(lastDir, 'validation.json'), 'utf8')) as { points: ValidationPoint[]; best: ValidationPoint | null };
    points.push(...saved.points);
    best = saved.best;
  }
  const validate = async () => {
    const v = o.validation!;
    const r = evaluatePolicy(ppo.policy, { seeds: v.seeds, runs: v.runs ?? 1, density: v.density ?? 0.1, normalizer: normalizerState(), envConfig: { ...o.envConfig }, numEnvs, source: 'validation' });
    const point: ValidationPoint = { timesteps: ppo.numTimesteps, iteration: ppo.iteration, seconds: (performance.now() - t0) / 1000, success_rate: r.success_rate, route_completion: r.route_completion };
    points.push(point);
    const better = !best || point.success_rate > best.success_rate || (point.success_rate === best.success_rate && point.route_completion > best.route_completion);
    if (better) {
      best = point;
      await savePolicy(bestDir);
    }
    if (o.logger) {
      o.logger.record('eval/success_rate', point.success_rate);
      o.logger.record('eval/route_completion', point.route_completion);
      o.logger.record('eval/best_success_rate', best!.success_rate);
      o.logger.dump(ppo.numTimesteps);
    }
  };
  const save = async () => {
    if (gail) await gail.save(lastDir);
    else await ppo.save(lastDir);
    await writeFileAtomic(path.join(lastDir, 'curriculum.json'), JSON.stringify({ curriculum: curriculum.state(), warmupLeft: warmup }) + '\n');
    if (o.validation) await writeFileAtomic(path.join(lastDir, 'validation.json'), JSON.stringify({ points, best }) + '\n');
  };
  const validateEvery = o.validation?.every ?? 10;
  try {
    let stopped = false;
    while (!stopped && ppo.numTimesteps < o.timesteps) {
      ppo.freezeActor = warmup > 0;
      const log = ppo.iterate(o.timesteps);
      if (warmup > 0) warmup -= 1;
      if (curriculum.update(ppo.numTimesteps)) curriculum.apply(env);
      for (const cb of callbacks) if (cb({ type: 'iteration', iteration: ppo.iteration, timesteps: ppo.numTimesteps, log }) === 'stop') stopped = true;
      if (o.validation && warmup === 0 && ppo.iteration % validateEvery === 0) await validate();
      if (ppo.iteration % every === 0) await save();
    }
    if (o.validation && points.at(-1)?.iteration !== ppo.iteration) await validate();
    await save();
    await savePolicy(o.out);
    return {
      timesteps: ppo.numTimesteps,
      iterations: ppo.iteration,
      seconds: (performance.now() - t0) / 1000,
      finalStage: curriculum.stage,
      trainSuccess: recentSuccess.length ? recentSuccess.reduce((a, b) => a + b, 0) / recentSuccess.length : NaN,
      policyDir: o.out,
      ...(o.validation && best ? { validation: { points, best, bestDir } } : {}),
    };
  } finally {
    gail?.dispose();
    disc?.dispose();
    ppo.dispose();
    ppo.policy.dispose();
  }
}
