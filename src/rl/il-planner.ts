/**
 * Adapts `DiffusionPlanner` (src/models) to the IL trainer's `ILModel` contract: the ε-MSE loss
 * is the planner's `ilLoss` (ReCogDrive `forward`), validation samples with the evaluation
 * sampler (`get_action`: η = 1, std ≥ 1e-4, noise clip ±1), and checkpoints use the PyTorch
 * state-dict names and layout (so an IL checkpoint's `model.safetensors` loads into ReCogDrive).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import type { SafeTensor } from '../core/safetensors.js';
import { batchInputs, type DiffusionPlanner, type PlannerBatch } from '../models/planner.js';
import { loadPlannerStateDict, plannerStateDict } from '../models/weights.js';
import type { ILModel } from './il-trainer.js';

export interface PlannerILOptions {
  /** DDIM steps of the validation sampler (default: the planner's, 5). */
  steps?: number;
  /** Validate with plain DDIM (η = 0) instead of ReCogDrive's stochastic evaluation sampler. */
  deterministic?: boolean;
}

/** The IL view of a planner. The planner stays owned by the caller. */
export function plannerForIL(planner: DiffusionPlanner, options: PlannerILOptions = {}): ILModel {
  return {
    variables: planner.variables,
    config: planner.config,
    ilLoss(batch: PlannerBatch, rng: Rng): tf.Scalar {
      return planner.ilLoss(batch, { rng });
    },
    sampleTrajectories(batch: Omit<PlannerBatch, 'target'>, rng: Rng): tf.Tensor3D {
      const r = planner.sample(
        batchInputs(batch),
        { rng, ...(options.steps !== undefined ? { steps: options.steps } : {}), ...(options.deterministic ? { deterministic: true } : {}) },
      );
      r.normalized.dispose();
      return r.trajectory;
    },
    stateDict(): Map<string, SafeTensor> {
      return plannerStateDict(planner);
    },
    loadStateDict(tensors: Map<string, SafeTensor>, source: string): void {
      loadPlannerStateDict(planner, tensors, source);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, as DDIM, PDM, PPO)

/** @deprecated Renamed `plannerForIL`. */
export const plannerForIl = plannerForIL;
/** @deprecated Renamed `PlannerILOptions`. */
export type PlannerIlOptions = PlannerILOptions;
