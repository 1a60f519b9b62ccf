/**
 * Loads the ReCogDrive golden set (`DRIVEKIT_DIT_GOLDEN`, default test/golden/dit in
 * the repo root) and builds a planner whose configuration is read entirely from golden.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DiffusionPlanner, plannerConfig, type PlannerConfig } from '../../src/models/planner.js';
import { loadPlannerWeights } from '../../src/models/weights.js';
import { DIT_DIR } from '../golden-dirs.js';

export const GOLDEN_DIR = DIT_DIR;

export interface GT {
  shape: number[];
  dtype: string;
  data: number[];
}

let cache: any = null;
export function golden(): any {
  if (!cache) cache = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'golden.json'), 'utf8'));
  return cache;
}

/** Resolves `"inputs.x_T"`-style references. */
export function ref(g: any, v: any): any {
  if (typeof v !== 'string') return v;
  return v.split('.').reduce((o: any, k: string) => o[k], g);
}

export function tensorOf(x: GT): tf.Tensor {
  return tf.tensor(x.data, x.shape, 'float32');
}

/** The planner config described by golden.json's `config`. */
export function goldenConfig(g: any): PlannerConfig {
  const c = g.config;
  const grpo = c.grpo_cfg;
  return plannerConfig({
    condDim: c.H_vlm,
    numHeads: c.num_heads,
    headDim: c.head_dim,
    numLayers: c.num_layers,
    ditOutputDim: c.dit_output_dim,
    mlpHidden: c.hidden_size,
    horizon: c.action_horizon,
    actionDim: c.action_dim,
    interleaveAttention: c.diffusion_model_cfg.interleave_attention,
    numInferenceSteps: c.num_inference_steps,
    scheduler: {
      ...plannerConfig().scheduler,
      numTrainTimesteps: c.num_train_timesteps,
      clipSample: grpo.denoised_clip_value !== null,
      clipSampleRange: grpo.denoised_clip_value ?? 1,
      epsilonClip: grpo.eps_clip_value,
    },
    sampler: {
      eval: { eta: g.schedule.eta_stochastic, minStd: grpo.eval_min_sampling_denoising_std, noiseClip: grpo.eval_randn_clip_value },
      rollout: { eta: g.schedule.eta_stochastic, minStd: grpo.min_sampling_denoising_std, noiseClip: grpo.randn_clip_value },
      logProb: { eta: g.schedule.eta_stochastic, minStd: grpo.min_logprob_denoising_std, noiseClip: null },
      finalClip: grpo.final_action_clip_value,
    },
    normalization: {
      x: { ...g.normalization.constants.x },
      y: { ...g.normalization.constants.y },
      heading: { ...g.normalization.constants.heading },
    },
  });
}

export async function goldenPlanner(): Promise<DiffusionPlanner> {
  const g = golden();
  const planner = new DiffusionPlanner(goldenConfig(g), { seed: 1 });
  await loadPlannerWeights(planner, path.join(GOLDEN_DIR, g.meta.weights_file));
  return planner;
}

export function goldenInputs(g: any) {
  return {
    hiddenStates: tensorOf(g.inputs.vl_features),
    history: tensorOf(g.inputs.his_traj),
    status: tensorOf(g.inputs.status_feature),
  };
}

/** max |a − b| and max |a − b| / (|b| + tiny) over the elements. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number; at: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let abs = 0;
  let rel = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > abs) {
      abs = d;
      at = i;
    }
    rel = Math.max(rel, d / (Math.abs(b[i]!) + 1e-30));
  }
  return { abs, rel, at };
}
