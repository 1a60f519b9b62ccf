/**
 * GAIL (Ho & Ermon 2016) composed from PPO's parts, with imitation's discriminator training and
 * statistics, and a mixed reward.
 *
 * One `iterate()`:
 * 1. `ppo.iterate()` collects a rollout with the current policy; between collection and GAE its
 *    `rewardFn` relabels every sample in one batched discriminator pass:
 *      r = α·r_gail + β·r_env + shaping + γ·V(final obs) on time-limit truncations,
 *      r_gail = −log(1 − D(s, a)) = softplus(ℓ(s, a))   (`gailReward`, stable for any logit),
 *    then PPO updates the policy on it (the generator step).
 * 2. `nDiscUpdatesPerRound` discriminator updates: each draws `demoBatchSize` expert pairs and as
 *    many pairs of the rollout just collected (actions as applied, clipped to the action bounds),
 *    updates the input statistics, and takes an Adam step on the BCE loss (expert = 1).
 * 3. Logs `gail/reward_mean`, `gail/env_reward_mean` and imitation's `disc/*` statistics with
 *    PPO's keys, in one record per iteration (PPO's `rewardFn` and `afterTrain` hooks).
 *
 * α = 1, β = 0 is pure GAIL; α = 0 is PPO on the env reward (plus shaping). The policy can start
 * from a BC checkpoint (a BC warm-up of the generator). Observations are fed to the discriminator
 * as the policy sees them (normalised by PPO's VecNormalize when that is on).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeDirAtomic, writeFileAtomic } from '../../core/atomic.js';
import { loadCheckpoint, saveCheckpoint } from '../../core/checkpoint.js';
import { defineConfig } from '../../core/config.js';
import { InputError } from '../../core/errors.js';
import type { LogRecord } from '../../core/logger.js';
import { Rng } from '../../core/rng.js';
import { MlpDiscriminator } from '../../models/discriminator.js';
import type { RolloutBuffer } from '../buffers/rollout-buffer.js';
import { applyGradients, lossAndGrads } from '../common/grads.js';
import { loadOptimizerState, saveOptimizerState } from '../common/optimizer-state.js';
import { AdamW } from '../common/optim.js';
import type { PPO } from '../ppo/ppo.js';
import { discriminatorLoss, discriminatorStats, gailReward } from './loss.js';

export interface GAILConfig {
  /** Weight α of the discriminator reward. */
  gailWeight: number;
  /** Weight β of the environment reward. */
  envWeight: number;
  demoBatchSize: number;
  nDiscUpdatesPerRound: number;
  discLearningRate: number;
  discMaxGradNorm: number;
  seed: number;
}

export const GAIL_CONFIG = defineConfig<GAILConfig>('GAILConfig', {
  gailWeight: { type: 'number', min: 0, default: 1, doc: 'Weight alpha of the GAIL reward -log(1 - D(s, a)).' },
  envWeight: { type: 'number', min: 0, default: 0, doc: 'Weight beta of the environment reward (0: pure GAIL, chosen on validation maps over 0.1 and 1; see results/metadrive/gail).' },
  demoBatchSize: { type: 'integer', min: 1, default: 512, doc: 'Expert (and as many generator) samples per discriminator update (imitation demo_batch_size).' },
  nDiscUpdatesPerRound: { type: 'integer', min: 1, default: 2, doc: 'Discriminator updates after each generator rollout (imitation n_disc_updates_per_round).' },
  discLearningRate: { type: 'number', gt: 0, default: 1e-3, doc: "Discriminator Adam learning rate (imitation's Adam default)." },
  discMaxGradNorm: { type: 'number', min: 0, default: 0, doc: 'Global gradient-norm clip of the discriminator (0: none).' },
  seed: { type: 'integer', default: 0, doc: 'Seed of the discriminator batch sampling.' },
});

/** Expert pairs: `n` rows of observations and (applied) actions. */
export interface ExpertPairs {
  obs: Float32Array;
  actions: Float32Array;
  n: number;
  file?: string;
}

export class GAIL {
  readonly config: Readonly<GAILConfig>;
  readonly ppo: PPO;
  readonly discriminator: MlpDiscriminator;
  readonly discOptimizer: AdamW;
  private readonly expert: ExpertPairs;
  private rng: Rng;

  constructor(ppo: PPO, discriminator: MlpDiscriminator, expert: ExpertPairs, config: Partial<GAILConfig> = {}) {
    this.config = GAIL_CONFIG.resolve(config);
    this.ppo = ppo;
    this.discriminator = discriminator;
    const o = discriminator.config.obsDim;
    const a = discriminator.config.actionDim;
    if (o !== ppo.policy.config.obsDim) throw new InputError(`GAIL: the discriminator takes observations of width ${o}, the policy ${ppo.policy.config.obsDim}.`, { field: 'obsDim', expected: ppo.policy.config.obsDim, found: o });
    if (expert.obs.length !== expert.n * o) throw new InputError(`${expert.file ?? 'demonstrations'}: observations should have width ${o}, found ${expert.obs.length / Math.max(expert.n, 1)}.`, { file: expert.file, field: 'obs', expected: o, found: expert.obs.length / Math.max(expert.n, 1) });
    if (expert.actions.length !== expert.n * a) throw new InputError(`${expert.file ?? 'demonstrations'}: actions should have width ${a}, found ${expert.actions.length / Math.max(expert.n, 1)}.`, { file: expert.file, field: 'action', expected: a, found: expert.actions.length / Math.max(expert.n, 1) });
    if (expert.n < 1) throw new InputError(`${expert.file ?? 'demonstrations'}: no expert frames.`, { file: expert.file, field: 'frames', expected: '>= 1', found: 0 });
    this.expert = expert;
    this.discOptimizer = new AdamW(discriminator.variables, { lr: this.config.discLearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    this.rng = new Rng(this.config.seed ^ 0x6a11);
    ppo.rewardFn = (buffer) => this.relabel(buffer);
    ppo.afterTrain = (buffer) => this.trainDiscriminator(buffer);
  }

  /** The actions of the buffer as the env applied them (clipped to the policy's Box bounds of [-1, 1] where finite). */
  private appliedActions(buffer: RolloutBuffer): Float32Array {
    const out = Float32Array.from(buffer.actions.subarray(0, buffer.size * buffer.actionWidth));
    if (this.ppo.policy.config.actionType === 'box') for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(-1, out[i]!));
    return out;
  }

  /** Step 1's relabelling: r = α·softplus(ℓ) + β·r_env + shaping + bootstrap. */
  relabel(buffer: RolloutBuffer): LogRecord {
    const n = buffer.size;
    const logits = this.discriminator.predictLogits(buffer.obs.subarray(0, n * buffer.obsDim), this.appliedActions(buffer), n);
    const rg = gailReward(logits);
    const { gailWeight: a, envWeight: b } = this.config;
    let sumG = 0;
    let sumE = 0;
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(rg[k]!)) throw new InputError(`GAIL: non-finite discriminator reward at sample ${k}.`, { field: 'gail_reward', found: rg[k] });
      buffer.rewards[k] = a * rg[k]! + b * buffer.envRewards[k]! + buffer.shaping[k]! + buffer.bootstrap[k]!;
      sumG += rg[k]!;
      sumE += buffer.envRewards[k]!;
    }
    return { 'gail/reward_mean': sumG / n, 'gail/env_reward_mean': sumE / n };
  }

  /** Step 2: discriminator updates on expert pairs vs the rollout just collected. Returns the last update's statistics. */
  trainDiscriminator(buffer: RolloutBuffer): LogRecord {
    const d = this.discriminator;
    const o = d.config.obsDim;
    const a = d.config.actionDim;
    const m = this.config.demoBatchSize;
    const genActions = this.appliedActions(buffer);
    const norm = this.ppo.normalizer?.options.normObs ? this.ppo.normalizer : null;
    let stats: LogRecord = {};
    for (let u = 0; u < this.config.nDiscUpdatesPerRound; u++) {
      let eObs: Float32Array = new Float32Array(m * o);
      const eAct = new Float32Array(m * a);
      const gObs = new Float32Array(m * o);
      const gAct = new Float32Array(m * a);
      for (let r = 0; r < m; r++) {
        const i = this.rng.int(0, this.expert.n);
        eObs.set(this.expert.obs.subarray(i * o, i * o + o), r * o);
        eAct.set(this.expert.actions.subarray(i * a, i * a + a), r * a);
        const j = this.rng.int(0, buffer.size);
        gObs.set(buffer.obs.subarray(j * o, j * o + o), r * o);
        gAct.set(genActions.subarray(j * a, j * a + a), r * a);
      }
      if (norm) eObs = norm.normalizeObs(eObs, m, false);
      const x = new Float32Array(2 * m * (o + a));
      x.set(d.pack(eObs, eAct, m), 0);
      x.set(d.pack(gObs, gAct, m), m * (o + a));
      d.updateInputStats(x, 2 * m);
      const labels = new Float32Array(2 * m);
      labels.fill(1, 0, m);
      const out = lossAndGrads(d.variables, () => {
        const logits = d.logits(tf.tensor2d(x, [2 * m, o + a]));
        return { loss: discriminatorLoss(logits, tf.tensor1d(labels)), aux: () => logits.dataSync() as Float32Array };
      });
      const gradNorm = applyGradients(this.discOptimizer, out.grads, this.config.discMaxGradNorm, 'GAIL discriminator');
      stats = { ...discriminatorStats(out.aux, labels, out.loss), 'disc/grad_norm': gradNorm };
    }
    return stats;
  }

  /** One generator rollout + update, then the discriminator updates (both logged in one record). */
  iterate(totalTimesteps: number): LogRecord {
    return this.ppo.iterate(totalTimesteps);
  }

  /** Saves the PPO run (policy, optimizer, position) plus the discriminator, its optimizer and the sampling stream, atomically to `dir`. */
  async save(dir: string): Promise<void> {
    await writeDirAtomic(dir, async (tmp) => {
      await this.ppo.saveInto(tmp);
      await saveCheckpoint(tmp, { tensors: this.discriminator.stateDict(), config: { kind: 'drivekit.GAIL', gail: GAIL_CONFIG.toJSON(this.config), discriminator: this.discriminator.config } }, { name: 'discriminator' });
      await saveOptimizerState(tmp, this.discOptimizer, 'discriminator_optimizer');
      await writeFileAtomic(path.join(tmp, 'gail.json'), JSON.stringify({ rng: this.rng.state() }) + '\n');
    });
  }

  /** Restores the discriminator, its optimizer and the sampling stream saved by `save` (the PPO part is restored by `PPO.load`). */
  async restore(dir: string): Promise<void> {
    const ck = await loadCheckpoint(dir, { name: 'discriminator' });
    this.discriminator.loadStateDict(ck.tensors, ck.weightsPath);
    await loadOptimizerState(dir, this.discOptimizer, 'discriminator_optimizer');
    const g = JSON.parse(fs.readFileSync(path.join(dir, 'gail.json'), 'utf8')) as { rng: number[] };
    this.rng = Rng.fromState(g.rng);
  }

  dispose(): void {
    this.discOptimizer.dispose();
  }
}
