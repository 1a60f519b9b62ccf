/**
 * Proximal Policy Optimization with SB3's semantics (`ppo/ppo.py`,
 * `common/on_policy_algorithm.py`), built from shared parts: the `ActorCriticPolicy`
 * (models), the `RolloutBuffer` with GAE, `VecNormalize`, the gradient helpers and AdamW
 * (as Adam: weight decay 0, β = (0.9, 0.999), ε = 1e-5).
 *
 * One `iterate()`:
 * 1. Collect `nSteps` lock-steps of the N environments: one batched `policy.act` per step,
 *    actions clipped to the Box bounds for the env (the buffer keeps the sampled ones). A
 *    time-limit truncation adds γ·V(final observation) to that step's reward (SB3's timeout
 *    bootstrap; cleanrl treats it as terminal instead, which biases values near the limit).
 * 2. GAE(λ) advantages and returns from the last values (`RolloutBuffer`).
 * 3. Set the learning rate (constant, or linear in the progress remaining), then `nEpochs`
 *    passes of shuffled minibatches: `ppoLoss(policy.evaluateActions(...))`, gradients,
 *    global-norm clip, Adam step. With `targetKl`, an epoch stops at the first minibatch whose
 *    approximate KL exceeds 1.5·targetKl (before its step, as SB3).
 * 4. Log SB3's keys (`rollout/ep_rew_mean`, `train/approx_kl`, `train/clip_fraction`,
 *    `train/explained_variance`, `time/fps`, ...) and emit an `iteration` event.
 *
 * Randomness: one root stream (config `seed`), split once per iteration into the action stream
 * and the shuffle stream; a checkpoint stores the root at an iteration boundary, so a resumed
 * run continues bit-identically when the environments can snapshot their state (`getState`).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { recoverDir, writeDirAtomic } from '../../core/atomic.js';
import { ConfigError, InputError } from '../../core/errors.js';
import { Logger, type LogRecord } from '../../core/logger.js';
import { Rng } from '../../core/rng.js';
import { ActorCriticPolicy } from '../../models/mlp-policy.js';
import { RolloutBuffer, explainedVariance } from '../buffers/rollout-buffer.js';
import { type Callback, emit } from '../common/callbacks.js';
import { applyGradients, lossAndGrads } from '../common/grads.js';
import { VecNormalize, type VecNormalizeState } from '../common/running-norm.js';
import { type VecEnvLike, boxBounds, spaceWidth } from '../common/vec-env.js';
import { loadOptimizerState, saveOptimizerState } from '../common/optimizer-state.js';
import { assertResumable, readRunState, writeRunState } from '../common/run-state.js';
import { AdamW } from '../common/optim.js';
import { PPO_CONFIG, type PPOConfig } from './config.js';
import { ppoLoss, ppoStats } from './loss.js';

export interface PPOOptions {
  /** Logger for SB3-style keys (default: none). */
  logger?: Logger;
  callbacks?: Callback[];
  /** Extra values merged into every iteration's log record (e.g. a curriculum's stage). */
  extraLog?: () => LogRecord;
  /** Shaping terms added to the env reward at every step (logged as `shaping/<name>`). */
  shaping?: ShapingFn;
  /**
   * Relabels `buffer.rewards` after collection and before GAE (GAIL's discriminator reward);
   * may return values to log. The buffer keeps the reward's parts (`envRewards`, `shaping`,
   * `bootstrap`) to build the new reward from.
   */
  rewardFn?: (buffer: RolloutBuffer) => LogRecord | void;
  /** Runs after the policy update on the same rollout, before logging (GAIL's discriminator updates). */
  afterTrain?: (buffer: RolloutBuffer) => LogRecord | void;
}

/**
 * Per-step reward shaping from the envs' step infos, the applied actions and the raw observations
 * after the step (for a finished env: the next episode's first one): the total to add per env and
 * its named parts (for the log).
 */
export type ShapingFn = (infos: readonly unknown[], actions: Float32Array, n: number, obs: Float32Array) => { total: Float32Array; parts: Record<string, Float32Array> };

/** A finished episode (raw, unnormalised return). */
export interface EpisodeRecord {
  timesteps: number;
  return: number;
  length: number;
}

const PPO_RUN_FORMAT = 'drivekit.ppo-run/v1';

interface RunPosition {
  iteration: number;
  numTimesteps: number;
  rootRng: number[];
  lastObs: number[];
  lastEpisodeStarts: number[];
  epReturns: number[];
  epLengths: number[];
  recentEpisodes: EpisodeRecord[];
  envState: unknown;
  normalizer: VecNormalizeState | null;
}

const RECENT = 100;

export class PPO {
  readonly config: Readonly<PPOConfig>;
  readonly policy: ActorCriticPolicy;
  readonly env: VecEnvLike;
  readonly optimizer: AdamW;
  readonly buffer: RolloutBuffer;
  readonly normalizer: VecNormalize | null;
  logger: Logger | null;
  callbacks: Callback[];
  extraLog: (() => LogRecord) | null;
  shaping: ShapingFn | null;
  rewardFn: ((buffer: RolloutBuffer) => LogRecord | void) | null;
  afterTrain: ((buffer: RolloutBuffer) => LogRecord | void) | null;
  /**
   * While true, updates change only the critic (value trunk and head): a value warm-up after
   * initialising the actor from behaviour cloning, so the first policy steps use sensible
   * advantages. Only meaningful with separate trunks.
   */
  freezeActor = false;
  /** Environment steps taken so far (summed over environments). */
  numTimesteps = 0;
  iteration = 0;
  /** The last `RECENT` finished episodes (SB3's ep_info_buffer). */
  readonly recentEpisodes: EpisodeRecord[] = [];
  private root: Rng;
  private lastObs: Float32Array | null = null;
  private lastEpisodeStarts: Float32Array;
  private epReturns: Float64Array;
  private epLengths: Float64Array;
  private readonly obsDim: number;
  private readonly actLow: Float64Array;
  private readonly actHigh: Float64Array;
  private startTime = 0;
  private startTimesteps = 0;

  constructor(policy: ActorCriticPolicy, env: VecEnvLike, config: Partial<PPOConfig> = {}, options: PPOOptions = {}) {
    this.config = PPO_CONFIG.resolve(config);
    const c = this.config;
    this.policy = policy;
    this.env = env;
    this.obsDim = spaceWidth(env.observationSpace);
    if (this.obsDim !== policy.config.obsDim) {
      throw new ConfigError(`PPO: the policy takes observations of width ${policy.config.obsDim}, the environment gives ${this.obsDim}.`, { field: 'policy.obsDim', expected: this.obsDim, found: policy.config.obsDim });
    }
    const a = env.actionSpace;
    const envAct = a.type === 'Discrete' ? { type: 'discrete', dim: a.n } : { type: 'box', dim: spaceWidth(a) };
    if (envAct.type !== policy.config.actionType || envAct.dim !== policy.config.actionDim) {
      throw new ConfigError(`PPO: the policy's action head is ${policy.config.actionType}:${policy.config.actionDim}, the environment's action space is ${envAct.type}:${envAct.dim}.`, { field: 'policy.action', expected: `${envAct.type}:${envAct.dim}`, found: `${policy.config.actionType}:${policy.config.actionDim}` });
    }
    ({ low: this.actLow, high: this.actHigh } = boxBounds(a, policy.actionWidth));
    const n = env.numEnvs;
    if (c.batchSize > c.nSteps * n) {
      throw new ConfigError(`PPO: batchSize ${c.batchSize} is larger than a rollout (nSteps ${c.nSteps} x ${n} envs = ${c.nSteps * n}).`, { field: 'batchSize', expected: `<= ${c.nSteps * n}`, found: c.batchSize });
    }
    this.optimizer = new AdamW(policy.variables, { lr: c.learningRate, beta1: 0.9, beta2: 0.999, eps: c.adamEps, weightDecay: 0 });
    this.buffer = new RolloutBuffer({ nSteps: c.nSteps, numEnvs: n, obsDim: this.obsDim, actionWidth: policy.actionWidth, gamma: c.gamma, gaeLambda: c.gaeLambda });
    this.normalizer = c.normObs || c.normReward ? new VecNormalize(this.obsDim, n, { normObs: c.normObs, normReward: c.normReward, clipObs: c.clipObs, clipReward: c.clipReward, gamma: c.gamma }) : null;
    this.root = new Rng(c.seed);
    this.lastEpisodeStarts = new Float32Array(n).fill(1);
    this.epReturns = new Float64Array(n);
    this.epLengths = new Float64Array(n);
    this.logger = options.logger ?? null;
    this.callbacks = options.callbacks ?? [];
    this.extraLog = options.extraLog ?? null;
    this.shaping = options.shaping ?? null;
    this.rewardFn = options.rewardFn ?? null;
    this.afterTrain = options.afterTrain ?? null;
  }

  /** Mean return of the recent episodes (NaN before the first one ends). */
  get meanEpisodeReturn(): number {
    if (this.recentEpisodes.length === 0) return NaN;
    return this.recentEpisodes.reduce((s, e) => s + e.return, 0) / this.recentEpisodes.length;
  }

  private normObs(raw: Float32Array, n: number): Float32Array {
    return this.normalizer ? this.normalizer.normalizeObs(raw, n) : raw;
  }

  /**
   * Step 1: fills the buffer with `nSteps` lock-steps. Returns host timings, the values of the
   * observations after the last step and whether each env's last step ended its episode (for GAE),
   * and the mean shaping terms.
   */
  collectRollouts(rng: Rng): { envSeconds: number; policySeconds: number; lastValues: Float32Array; dones: Float32Array; shaping: LogRecord } {
    const n = this.env.numEnvs;
    const d = this.obsDim;
    const w = this.policy.actionWidth;
    const gamma = this.config.gamma;
    if (this.lastObs === null) {
      const raw = this.env.reset().obs;
      this.lastObs = this.normObs(raw, n);
    }
    this.buffer.reset();
    let envSeconds = 0;
    let policySeconds = 0;
    const clipped = new Float32Array(n * w);
    const dones = new Float32Array(n);
    const shapingSums: Record<string, number> = {};
    const zeros = new Float32Array(n);
    while (!this.buffer.full) {
      const t0 = performance.now();
      const { actions, values, logProbs } = this.policy.act(this.lastObs, n, { rng });
      const t1 = performance.now();
      for (let k = 0; k < n * w; k++) {
        const j = k % w;
        const a = actions[k]!;
        clipped[k] = a < this.actLow[j]! ? this.actLow[j]! : a > this.actHigh[j]! ? this.actHigh[j]! : a;
      }
      const r = this.env.step(clipped);
      const t2 = performance.now();
      for (let i = 0; i < n; i++) {
        const raw = r.rewards[i]!;
        if (!Number.isFinite(raw)) throw new InputError(`PPO: environment ${i} returned a non-finite reward (${raw}) at timestep ${this.numTimesteps + i}.`, { field: 'reward', expected: 'a finite number', found: raw });
        this.epReturns[i] = this.epReturns[i]! + raw;
        this.epLengths[i] = this.epLengths[i]! + 1;
        dones[i] = r.terminated[i] || r.truncated[i] ? 1 : 0;
      }
      for (let k = 0; k < r.obs.length; k++) {
        if (!Number.isFinite(r.obs[k]!)) throw new InputError(`PPO: environment ${Math.floor(k / d)} returned a non-finite observation (index ${k % d}: ${r.obs[k]}) at timestep ${this.numTimesteps}.`, { field: `obs[${k % d}]`, expected: 'finite values', found: r.obs[k] });
      }
      let envRewards: Float32Array = Float32Array.from(r.rewards);
      if (this.normalizer) envRewards = this.normalizer.normalizeReward(envRewards, dones);
      let shaping: Float32Array = zeros;
      if (this.shaping) {
        const sh = this.shaping(r.infos ?? [], clipped, n, r.obs);
        shaping = sh.total;
        for (const [k, v] of Object.entries(sh.parts)) shapingSums[k] = (shapingSums[k] ?? 0) + v.reduce((a, b) => a + b, 0);
      }
      // SB3 timeout bootstrap: r += γ·V(s_final) for truncated (not terminated) episodes.
      const bootstrap = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (this.config.bootstrapTimeouts && r.truncated[i] && !r.terminated[i] && r.finalObs[i]) {
          const fo = this.normalizer ? this.normalizer.normalizeObsRow(r.finalObs[i]!) : r.finalObs[i]!;
          bootstrap[i] = gamma * this.policy.predictValues(fo, 1)[0]!;
        }
      }
      const rewards = new Float32Array(n);
      for (let i = 0; i < n; i++) rewards[i] = envRewards[i]! + shaping[i]! + bootstrap[i]!;
      this.buffer.add(this.lastObs, actions, rewards, this.lastEpisodeStarts, values, logProbs, { env: envRewards, shaping, bootstrap });
      this.numTimesteps += n;
      for (let i = 0; i < n; i++) {
        if (dones[i]) {
          const ep = { timesteps: this.numTimesteps, return: this.epReturns[i]!, length: this.epLengths[i]! };
          this.recentEpisodes.push(ep);
          if (this.recentEpisodes.length > RECENT) this.recentEpisodes.shift();
          emit(this.callbacks, { type: 'episode', timesteps: ep.timesteps, return: ep.return, length: ep.length, env: i, info: r.infos?.[i] });
          this.epReturns[i] = 0;
          this.epLengths[i] = 0;
        }
      }
      this.lastObs = this.normObs(r.obs, n);
      this.lastEpisodeStarts = dones.slice();
      envSeconds += (t2 - t1) / 1000;
      policySeconds += (t1 - t0) / 1000;
    }
    const lastValues = this.policy.predictValues(this.lastObs, n);
    const shapingLog: LogRecord = {};
    for (const [k, v] of Object.entries(shapingSums)) shapingLog[`shaping/${k}`] = v / this.buffer.size;
    return { envSeconds, policySeconds, lastValues, dones: this.lastEpisodeStarts.slice(), shaping: shapingLog };
  }

  /** Step 3: `nEpochs` passes of minibatch updates. Returns the logged statistics. */
  train(rng: Rng, progressRemaining: number): LogRecord {
    const c = this.config;
    const lr = c.lrSchedule === 'linear' ? c.learningRate * progressRemaining : c.learningRate;
    this.optimizer.lr = lr;
    const settings = { clipRange: c.clipRange, clipRangeVf: c.clipRangeVf, entCoef: c.entCoef, vfCoef: c.vfCoef, normalizeAdvantage: c.normalizeAdvantage };
    const pgLosses: number[] = [];
    const valueLosses: number[] = [];
    const entropyLosses: number[] = [];
    const clipFractions: number[] = [];
    const kls: number[] = [];
    let loss = NaN;
    let gradNorm = 0;
    let updates = 0;
    let continueTraining = true;
    const d = this.obsDim;
    const w = this.policy.actionWidth;
    for (let epoch = 0; epoch < c.nEpochs && continueTraining; epoch++) {
      for (const mb of this.buffer.minibatches(c.batchSize, rng)) {
        const out = lossAndGrads(this.policy.variables, () => {
          const obs = tf.tensor2d(mb.obs, [mb.size, d]);
          const actions = tf.tensor2d(mb.actions, [mb.size, w]);
          const ev = this.policy.evaluateActions(obs, actions);
          const terms = ppoLoss(
            { logProb: ev.logProb, entropy: ev.entropy, values: ev.values, oldLogProbs: tf.tensor1d(mb.oldLogProbs), oldValues: tf.tensor1d(mb.oldValues), advantages: tf.tensor1d(mb.advantages), returns: tf.tensor1d(mb.returns) },
            settings,
          );
          return {
            loss: terms.total,
            aux: () => ({ logProb: ev.logProb.dataSync() as Float32Array, pg: terms.policyLoss.dataSync()[0]!, vf: terms.valueLoss.dataSync()[0]!, ent: terms.entropyLoss.dataSync()[0]! }),
          };
        });
        const stats = ppoStats(out.aux.logProb, mb.oldLogProbs, c.clipRange);
        kls.push(stats.approxKl);
        if (c.targetKl !== null && stats.approxKl > 1.5 * c.targetKl) {
          for (const g of out.grads.values()) g.dispose();
          continueTraining = false;
          break;
        }
        pgLosses.push(out.aux.pg);
        valueLosses.push(out.aux.vf);
        entropyLosses.push(out.aux.ent);
        clipFractions.push(stats.clipFraction);
        loss = out.loss;
        if (this.freezeActor) {
          for (const [name, g] of out.grads) {
            if (!name.startsWith('mlp_extractor.value_net') && !name.startsWith('value_net')) {
              g.dispose();
              out.grads.delete(name);
            }
          }
        }
        gradNorm = applyGradients(this.optimizer, out.grads, c.maxGradNorm, `PPO update ${this.iteration}`);
        updates += 1;
      }
    }
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const rec: LogRecord = {
      'train/learning_rate': lr,
      'train/policy_gradient_loss': mean(pgLosses),
      'train/value_loss': mean(valueLosses),
      'train/entropy_loss': mean(entropyLosses),
      'train/approx_kl': mean(kls),
      'train/clip_fraction': mean(clipFractions),
      'train/loss': loss,
      'train/grad_norm': gradNorm,
      'train/explained_variance': explainedVariance(this.buffer.values, this.buffer.returns),
      'train/n_updates': this.optimizer.stepCount,
      'train/clip_range': c.clipRange,
      'train/epoch_updates': updates,
    };
    if (this.policy.config.actionType === 'box') {
      const ls = this.policy.logStd();
      rec['train/std'] = ls.reduce((s, v) => s + Math.exp(v), 0) / ls.length;
    }
    return rec;
  }

  /** One collect + train iteration; returns its log record. */
  iterate(totalTimesteps: number): LogRecord {
    const [actionRng, shuffleRng] = this.root.split(2);
    const tCollect = performance.now();
    if (this.startTime === 0) {
      // iterate() called directly (without learn()): time from the first iteration.
      this.startTime = tCollect;
      this.startTimesteps = this.numTimesteps;
    }
    const timing = this.collectRollouts(actionRng);
    // Step 2: relabel the rewards (GAIL), then GAE(λ).
    const relabel = this.rewardFn ? this.rewardFn(this.buffer) : undefined;
    this.buffer.computeReturnsAndAdvantage(timing.lastValues, timing.dones);
    const tTrain = performance.now();
    const progressRemaining = Math.max(0, 1 - this.numTimesteps / totalTimesteps);
    const rec = this.train(shuffleRng, progressRemaining);
    const after = this.afterTrain ? this.afterTrain(this.buffer) : undefined;
    Object.assign(rec, timing.shaping, relabel ?? {}, after ?? {});
    const tEnd = performance.now();
    this.iteration += 1;
    const elapsed = (tEnd - this.startTime) / 1000;
    const eps = this.recentEpisodes;
    if (eps.length) {
      rec['rollout/ep_rew_mean'] = this.meanEpisodeReturn;
      rec['rollout/ep_len_mean'] = eps.reduce((s, e) => s + e.length, 0) / eps.length;
    }
    rec['time/iterations'] = this.iteration;
    rec['time/total_timesteps'] = this.numTimesteps;
    rec['time/time_elapsed'] = elapsed;
    rec['time/fps'] = (this.numTimesteps - this.startTimesteps) / Math.max(elapsed, 1e-9);
    rec['time/collect_s'] = (tTrain - tCollect) / 1000;
    rec['time/env_s'] = timing.envSeconds;
    rec['time/policy_s'] = timing.policySeconds;
    rec['time/train_s'] = (tEnd - tTrain) / 1000;
    rec['time/update_samples_per_s'] = (this.buffer.size * this.config.nEpochs) / Math.max((tEnd - tTrain) / 1000, 1e-9);
    if (this.extraLog) Object.assign(rec, this.extraLog());
    rec['train/actor_frozen'] = this.freezeActor ? 1 : 0;
    if (this.logger) {
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'string' || Number.isFinite(v)) this.logger.record(k, v);
      this.logger.dump(this.numTimesteps);
    }
    return rec;
  }

  /**
   * Trains until `totalTimesteps` environment steps (counted over all environments, including
   * those of a resumed run) or until a callback returns 'stop'. `checkpointDir` + `checkpointEvery`
   * save a resumable checkpoint every that many iterations (and at the end).
   */
  async learn(totalTimesteps: number, options: { checkpointDir?: string; checkpointEvery?: number } = {}): Promise<{ timesteps: number; iterations: number; stopped: boolean }> {
    if (!Number.isInteger(totalTimesteps) || totalTimesteps < 1) throw new ConfigError(`PPO.learn: totalTimesteps must be an integer >= 1, found ${totalTimesteps}.`, { field: 'totalTimesteps', expected: 'an integer >= 1', found: totalTimesteps });
    this.startTime = performance.now();
    this.startTimesteps = this.numTimesteps;
    let stopped = emit(this.callbacks, { type: 'start', algorithm: 'PPO', totalTimesteps, startTimesteps: this.numTimesteps });
    while (!stopped && this.numTimesteps < totalTimesteps) {
      const log = this.iterate(totalTimesteps);
      stopped = emit(this.callbacks, { type: 'iteration', iteration: this.iteration, timesteps: this.numTimesteps, log });
      const every = options.checkpointEvery ?? 0;
      if (options.checkpointDir && every > 0 && this.iteration % every === 0) {
        await this.save(options.checkpointDir);
        emit(this.callbacks, { type: 'checkpoint', iteration: this.iteration, timesteps: this.numTimesteps, dir: options.checkpointDir });
      }
    }
    if (options.checkpointDir) await this.save(options.checkpointDir);
    emit(this.callbacks, { type: 'end', iteration: this.iteration, timesteps: this.numTimesteps, stopped });
    return { timesteps: this.numTimesteps, iterations: this.iteration, stopped };
  }

  /**
   * Writes a resumable checkpoint to `dir`, atomically as a whole (`writeDirAtomic`; `load` recovers
   * from a crash at any instant): `policy.safetensors`/`policy.json` (loadable alone for
   * inference, with the normaliser's statistics), `optimizer.safetensors` and `run.json`
   * (position, random stream, environment snapshot).
   */
  async save(dir: string): Promise<void> {
    await writeDirAtomic(dir, (tmp) => this.saveInto(tmp));
  }

  /** Writes the checkpoint files into an existing folder (what `save` does inside its temporary folder). */
  async saveInto(dir: string): Promise<void> {
    const norm = this.normalizer ? this.normalizer.state() : null;
    await this.policy.save(dir, { algorithm: 'PPO', ppo: PPO_CONFIG.toJSON(this.config), normalizer: norm });
    await saveOptimizerState(dir, this.optimizer);
    const pos: RunPosition = {
      iteration: this.iteration,
      numTimesteps: this.numTimesteps,
      rootRng: this.root.state(),
      lastObs: this.lastObs ? [...this.lastObs] : [],
      lastEpisodeStarts: [...this.lastEpisodeStarts],
      epReturns: [...this.epReturns],
      epLengths: [...this.epLengths],
      recentEpisodes: this.recentEpisodes.map((e) => ({ ...e })),
      envState: this.env.getState ? this.env.getState() : null,
      normalizer: norm,
    };
    await writeRunState(path.join(dir, 'run.json'), { format: PPO_RUN_FORMAT, ppo: PPO_CONFIG.toJSON(this.config), position: pos });
  }

  /**
   * Rebuilds a run from `save(dir)` on `env` (which must match the saved one's spaces and
   * number of environments). Config overrides other than `seed` must equal the saved config:
   * a differing field is a `ConfigError` naming it.
   */
  static async load(dir: string, env: VecEnvLike, options: PPOOptions & { config?: Partial<PPOConfig> } = {}): Promise<PPO> {
    // A crash during the last save leaves a complete copy beside `dir`: put it back first.
    await recoverDir(dir);
    const runFile = path.join(dir, 'run.json');
    const run = await readRunState<{ format: string; ppo: PPOConfig; position: RunPosition }>(runFile, PPO_RUN_FORMAT, `the run state of a PPO checkpoint folder (${dir})`);
    const saved = PPO_CONFIG.resolve(run.ppo, { file: runFile });
    assertResumable(saved, options.config ?? {}, { file: runFile });
    const { policy } = await ActorCriticPolicy.load(dir);
    const ppo = new PPO(policy, env, saved, options);
    const p = run.position;
    if (p.lastEpisodeStarts.length !== env.numEnvs) {
      policy.dispose();
      throw new InputError(`${runFile}: the checkpoint ran ${p.lastEpisodeStarts.length} environments, this run has ${env.numEnvs}.`, { file: runFile, field: 'numEnvs', expected: p.lastEpisodeStarts.length, found: env.numEnvs });
    }
    await loadOptimizerState(dir, ppo.optimizer);
    ppo.iteration = p.iteration;
    ppo.numTimesteps = p.numTimesteps;
    ppo.root = Rng.fromState(p.rootRng);
    ppo.lastEpisodeStarts = Float32Array.from(p.lastEpisodeStarts);
    ppo.epReturns = Float64Array.from(p.epReturns);
    ppo.epLengths = Float64Array.from(p.epLengths);
    ppo.recentEpisodes.push(...p.recentEpisodes);
    if (p.normalizer && ppo.normalizer) ppo.normalizer.setState(p.normalizer);
    if (p.envState !== null && p.envState !== undefined && env.setState && p.lastObs.length > 0) {
      env.setState(p.envState);
      ppo.lastObs = Float32Array.from(p.lastObs);
    }
    return ppo;
  }

  /** Frees the optimizer state (the policy stays usable; dispose it separately). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
