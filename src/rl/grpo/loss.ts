/**
 * The DiffGRPO loss of ReCogDrive (`forward_grpo`) as pure functions:
 *  - group-normalised advantages A_i = (r_i − mean_G r)/(max(std_G r, s_min) + 1e-8), std unbiased
 *    (N − 1), then clipped to the batch quantiles [q_lo, q_hi] (0 and 1 by default: a no-op). The
 *    std floor s_min is 0 in ReCogDrive; a floor of 1 or more (rewards in [0, 1] have a group std
 *    below 0.54) is Dr. GRPO's unnormalised A_i = r_i − mean_G r (Liu et al. 2025);
 *  - denoising discount w_k = γ^(K−1−k);
 *  - L_RL = −mean_{i,k}(ℓ_{i,k}·A_i·w_k), ℓ = clamp(log π, −5, 2) averaged over the trajectory;
 *  - L_BC = −mean_b mean_{k,…} clamp(log π_θ(teacher transition), −5, 2);
 *  - total = L_RL + λ·L_BC.
 * Rows of the log-prob tensors are ordered chain-major: row = chain·K + step.
 *
 * (Moved from `models/grpo.ts`, which re-exports it; the trainer is `./trainer.ts`.)
 */
import * as tf from '@tensorflow/tfjs';
import { clampedMeanPerRow, LOGPROB_CLAMP } from '../../models/logprob.js';
import type { CachedCondition, DiffusionPlanner, PlannerInputs } from '../../models/planner.js';

const f32 = Math.fround;

export interface GRPOOptions {
  /** G, samples per scene (rewards are grouped in consecutive runs of G). */
  groupSize: number;
  /** γ of the denoising discount (ReCogDrive 0.6). */
  gamma: number;
  /** λ, weight of the BC term (ReCogDrive 0.1). */
  bcCoeff: number;
  /** Advantage clip quantiles (ReCogDrive 0 and 1, i.e. none). */
  advantageQuantiles: [number, number];
  /** Floor of the group std that divides the advantages (ReCogDrive 0; ≥ 1: Dr. GRPO, no normalisation). */
  advantageStdFloor: number;
  /** Clamp applied to log-probs before averaging (ReCogDrive [−5, 2]). */
  logProbClamp: { min: number; max: number };
}

export const DEFAULT_GRPO_OPTIONS: Readonly<GRPOOptions> = Object.freeze({
  groupSize: 8,
  gamma: 0.6,
  bcCoeff: 0.1,
  advantageQuantiles: [0, 1] as [number, number],
  advantageStdFloor: 0,
  logProbClamp: LOGPROB_CLAMP,
});

/** torch.quantile with linear interpolation (values need not be sorted). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q = ${q}; should be in [0, 1].`);
  const s = Float64Array.from(values).sort();
  if (s.length === 0) throw new Error('quantile of an empty array.');
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface GroupAdvantages {
  advantages: Float32Array;
  /** Per-group mean reward. */
  mean: Float32Array;
  /** Per-group max(unbiased std, floor) + 1e-8. */
  stdPlusEps: Float32Array;
  /** Clip bounds (quantiles). */
  min: number;
  max: number;
}

/**
 * Group-normalised advantages in float32, as `forward_grpo` computes them (`stdFloor` 0). With a
 * std floor, groups whose rewards barely differ (every rollout safe, only progress varying) get
 * advantages in proportion to their reward differences instead of ±1.
 */
export function groupAdvantages(rewards: ArrayLike<number>, groupSize: number, quantiles: [number, number] = [0, 1], stdFloor = 0): GroupAdvantages {
  const n = rewards.length;
  if (!Number.isInteger(groupSize) || groupSize < 2) throw new Error(`groupAdvantages: groupSize ${groupSize}; should be an integer >= 2 (unbiased std).`);
  if (n % groupSize !== 0) throw new Error(`groupAdvantages: ${n} rewards are not a multiple of groupSize ${groupSize}.`);
  if (!(stdFloor >= 0 && Number.isFinite(stdFloor))) throw new Error(`groupAdvantages: stdFloor ${stdFloor}; should be a finite number >= 0.`);
  const floor = f32(stdFloor);
  const groups = n / groupSize;
  const adv = new Float32Array(n);
  const mean = new Float32Array(groups);
  const stdPlusEps = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    let sum = 0;
    for (let j = 0; j < groupSize; j++) sum += f32(rewards[g * groupSize + j]!);
    const m = f32(sum / groupSize);
    let ss = 0;
    for (let j = 0; j < groupSize; j++) {
      const dv = f32(rewards[g * groupSize + j]!) - m;
      ss += dv * dv;
    }
    const sd = f32(Math.max(f32(Math.sqrt(ss / (groupSize - 1))), floor) + f32(1e-8));
    mean[g] = m;
    stdPlusEps[g] = sd;
    for (let j = 0; j < groupSize; j++) adv[g * groupSize + j] = f32(f32(f32(rewards[g * groupSize + j]!) - m) / sd);
  }
  const lo = f32(quantile(adv, quantiles[0]));
  const hi = f32(quantile(adv, quantiles[1]));
  for (let i = 0; i < n; i++) adv[i] = Math.min(Math.max(adv[i]!, lo), hi);
  return { advantages: adv, mean, stdPlusEps, min: lo, max: hi };
}

/** w_k = γ^(K−1−k) for k = 0..K−1 (float32). */
export function denoisingDiscount(numSteps: number, gamma: number): Float32Array {
  const out = new Float32Array(numSteps);
  for (let k = 0; k < numSteps; k++) out[k] = Math.pow(f32(gamma), numSteps - k - 1);
  return out;
}

/** A_i·w_k flattened chain-major (row = i·K + k). */
export function weightedAdvantages(advantages: ArrayLike<number>, discount: ArrayLike<number>): Float32Array {
  const K = discount.length;
  const out = new Float32Array(advantages.length * K);
  for (let i = 0; i < advantages.length; i++) for (let k = 0; k < K; k++) out[i * K + k] = f32(advantages[i]! * discount[k]!);
  return out;
}

export interface GRPOLossInputs {
  /** Raw log-probs of the rollout transitions under θ, [N·K, ...] (row = chain·K + step). */
  rlLogProb: tf.Tensor;
  /** Rewards of the N = B·G rollouts (chain j belongs to scene ⌊j/G⌋). */
  rewards: ArrayLike<number>;
  /** Raw log-probs of the B teacher chains under θ, [B·K, ...]; omit to skip the BC term. */
  bcLogProb?: tf.Tensor;
}

export interface GRPOLossOutput {
  /** L_RL + λ·L_BC (scalar tensor; differentiate this). */
  total: tf.Scalar;
  policyLoss: tf.Scalar;
  /** Null when no BC log-probs were given. */
  bcLoss: tf.Scalar | null;
  advantages: Float32Array;
  discount: Float32Array;
  rewardMean: number;
}

/** DiffGRPO + BC loss. All returned tensors belong to the caller. */
export function diffGRPOLoss(inputs: GRPOLossInputs, options: Partial<GRPOOptions> = {}): GRPOLossOutput {
  const o: GRPOOptions = { ...DEFAULT_GRPO_OPTIONS, ...options };
  const N = inputs.rewards.length;
  const rows = inputs.rlLogProb.shape[0]!;
  if (rows % N !== 0) throw new Error(`diffGRPOLoss: rlLogProb has ${rows} rows, not a multiple of ${N} rewards.`);
  const K = rows / N;
  const adv = groupAdvantages(inputs.rewards, o.groupSize, o.advantageQuantiles, o.advantageStdFloor);
  const discount = denoisingDiscount(K, o.gamma);
  const w = weightedAdvantages(adv.advantages, discount);
  let rewardSum = 0;
  for (let i = 0; i < N; i++) rewardSum += f32(inputs.rewards[i]!);
  const bcLogProb = inputs.bcLogProb;
  if (bcLogProb && bcLogProb.shape[0]! % K !== 0) throw new Error(`diffGRPOLoss: bcLogProb has ${bcLogProb.shape[0]} rows, not a multiple of K = ${K}.`);
  const [total, policyLoss, bcLoss] = tf.tidy(() => {
    const stepMean = clampedMeanPerRow(inputs.rlLogProb, o.logProbClamp);
    const policy = tf.neg(tf.mean(tf.mul(stepMean, tf.tensor1d(w)))) as tf.Scalar;
    if (!bcLogProb) return [tf.clone(policy), policy];
    const per = tf.reshape(tf.clipByValue(bcLogProb, o.logProbClamp.min, o.logProbClamp.max), [bcLogProb.shape[0]! / K, -1]);
    const bc = tf.neg(tf.mean(tf.mean(per, 1))) as tf.Scalar;
    return [tf.add(policy, tf.mul(bc, o.bcCoeff)) as tf.Scalar, policy, bc];
  });
  return {
    total: total as tf.Scalar,
    policyLoss: policyLoss as tf.Scalar,
    bcLoss: (bcLoss as tf.Scalar | undefined) ?? null,
    advantages: adv.advantages,
    discount,
    rewardMean: f32(rewardSum / N),
  };
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `GRPOLossInputs`. */
export type GrpoLossInputs = GRPOLossInputs;
/** @deprecated Renamed `GRPOLossOutput`. */
export type GrpoLossOutput = GRPOLossOutput;
/** @deprecated Renamed `GRPOOptions`. */
export type GrpoOptions = GRPOOptions;
/** @deprecated Renamed `diffGRPOLoss`. */
export const diffGrpoLoss = diffGRPOLoss;

/** Stored rollouts of a planner and their rewards: what `plannerGRPOLoss` re-evaluates under θ. */
export interface GRPOBatch {
  inputs: PlannerInputs | CachedCondition;
  /** Rollout chains [B·G, K+1, 8, 3] from `sampleChain` (chain j belongs to scene ⌊j/G⌋). */
  chain: tf.Tensor;
  rewards: ArrayLike<number>;
  /** Teacher chains [B, K+1, 8, 3] from the frozen reference policy (BC term); omit to skip it. */
  teacherChain?: tf.Tensor;
}

/** @deprecated Renamed `GRPOBatch`. */
export type GrpoBatch = GRPOBatch;

/**
 * DiffGRPO + BC loss (`forward_grpo`) of a planner for stored rollouts and rewards: the rollout
 * log-probs (and the teacher chains' for BC) are re-evaluated under the planner's current weights
 * (`planner.logProb`, one conditioning encode shared by both) and combined by `diffGRPOLoss`.
 * Differentiable; call inside `tf.variableGrads(() => plannerGRPOLoss(planner, b).total)`.
 * Tensors returned belong to the caller.
 */
export function plannerGRPOLoss(planner: DiffusionPlanner, batch: GRPOBatch, options: Partial<GRPOOptions> = {}): GRPOLossOutput {
  const o = { ...DEFAULT_GRPO_OPTIONS, ...options };
  const given = (batch.inputs as CachedCondition).kind === 'CachedCondition';
  const cond = given ? (batch.inputs as CachedCondition) : planner.encodeCondition(batch.inputs as PlannerInputs, undefined, { differentiable: true });
  try {
    const N = batch.chain.shape[0]!;
    if (N !== cond.numScenes * o.groupSize) throw new Error(`plannerGRPOLoss: ${N} chains ≠ ${cond.numScenes} scenes × groupSize ${o.groupSize}.`);
    const rl = planner.logProb(cond, batch.chain, { groupSize: o.groupSize });
    const bc = batch.teacherChain ? planner.logProb(cond, batch.teacherChain, { groupSize: 1 }) : undefined;
    try {
      return diffGRPOLoss({ rlLogProb: rl, rewards: batch.rewards, bcLogProb: bc }, o);
    } finally {
      rl.dispose();
      bc?.dispose();
    }
  } finally {
    if (!given) cond.dispose();
  }
}
