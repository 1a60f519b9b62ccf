/**
 * ReCogDrive checkpoints ⇄ `DiffusionPlanner`. Tensor names are PyTorch `state_dict()` names of
 * `ReCogDriveDiffusionPlanner`, in PyTorch layout (Linear weight [out, in]).
 *
 * Loading accepts the bare names or the Lightning prefix `agent.action_head.`; `old_policy.*`
 * (the frozen RL reference copy) is dropped, as are other `agent.*` modules of a Lightning file
 * (e.g. `agent.backbone.*`). Buffers (`ddpm_*`, `ddim_*`, `model.rotary_embedder.inv_freq`) are
 * checked for shape and otherwise recomputed from the config. A missing, extra or mis-shaped
 * tensor is an error naming it with the expected and found shape. Saving writes the same names
 * (parameters, `eta.eta_logit`, all buffers), so the file loads into PyTorch with `strict=True`.
 */
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, type SafeTensor, writeSafetensors } from '../core/safetensors.js';
import { ddpmBuffers } from './schedule.js';
import type { DiffusionPlanner } from './planner.js';

export const LIGHTNING_PREFIX = 'agent.action_head.';
export const OLD_POLICY_PREFIX = 'old_policy.';

/** All buffers a ReCogDrive planner registers (float ones and the two int64 DDIM index buffers). */
export function plannerBuffers(planner: DiffusionPlanner): Map<string, SafeTensor> {
  const sched = planner.scheduler();
  const out = new Map<string, SafeTensor>();
  for (const [name, data] of Object.entries(ddpmBuffers(sched.schedule))) out.set(name, { dtype: 'F32', shape: [data.length], data });
  const f32 = Math.fround;
  const ts = sched.timesteps; // sampling order, e.g. 80 … 0
  const K = ts.length;
  const ac = sched.schedule.alphasCumprod;
  const alphas = new Float32Array(K);
  const alphasSqrt = new Float32Array(K);
  const alphasPrev = new Float32Array(K);
  const sqrt1m = new Float32Array(K);
  const sigmas = new Float32Array(K); // built with ddim_eta = 0 (never read by the code)
  for (let i = 0; i < K; i++) {
    alphas[i] = ac[ts[i]!]!;
    alphasSqrt[i] = Math.sqrt(alphas[i]!);
    alphasPrev[i] = sched.alphaPrevOf(ts[i]!);
    sqrt1m[i] = Math.sqrt(f32(1 - alphas[i]!));
  }
  const vec = (data: Float32Array): SafeTensor => ({ dtype: 'F32', shape: [data.length], data });
  out.set('ddim_alphas', vec(alphas));
  out.set('ddim_alphas_sqrt', vec(alphasSqrt));
  out.set('ddim_alphas_prev', vec(alphasPrev));
  out.set('ddim_sqrt_one_minus_alphas', vec(sqrt1m));
  out.set('ddim_sigmas', vec(sigmas));
  out.set('model.rotary_embedder.inv_freq', vec(Float32Array.from(planner.ropeInvFreq)));
  out.set('ddim_t_schedule', { dtype: 'I64', shape: [K], data: Int32Array.from([...ts].reverse()) });
  out.set('ddim_t', { dtype: 'I64', shape: [K], data: Int32Array.from(ts) });
  return out;
}

/** The planner's full state dict (parameters in order, `eta.eta_logit`, buffers). */
export function plannerStateDict(planner: DiffusionPlanner): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  const store = planner.paramStore;
  for (const name of planner.variables.keys()) out.set(name, { dtype: 'F32', shape: store.torchShape(name), data: store.torchValues(name) });
  out.set('eta.eta_logit', { dtype: 'F32', shape: [1], data: Float32Array.of(planner.etaLogit) });
  for (const [name, t] of plannerBuffers(planner)) out.set(name, t);
  return out;
}

export interface LoadReport {
  /** Parameters assigned. */
  loaded: number;
  /** Keys dropped on purpose (old_policy.*, other agent.* modules). */
  dropped: string[];
  /** Whether the Lightning prefix was present. */
  prefixed: boolean;
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Loads a state dict into the planner. Throws (without touching any variable) if a parameter is
 * missing, a key is unknown or a shape differs; `source` names the file in the message.
 */
export function loadPlannerStateDict(planner: DiffusionPlanner, tensors: Map<string, SafeTensor>, source = '<state dict>'): LoadReport {
  const prefixed = [...tensors.keys()].some((k) => k.startsWith(LIGHTNING_PREFIX));
  const dropped: string[] = [];
  const named = new Map<string, SafeTensor>();
  for (const [key, t] of tensors) {
    let k = key;
    if (prefixed) {
      if (!k.startsWith(LIGHTNING_PREFIX)) {
        if (k.startsWith('agent.')) {
          dropped.push(key);
          continue;
        }
      } else k = k.slice(LIGHTNING_PREFIX.length);
    }
    if (k.startsWith(OLD_POLICY_PREFIX)) {
      dropped.push(key);
      continue;
    }
    named.set(k, t);
  }
  const buffers = plannerBuffers(planner);
  const problems: string[] = [];
  const store = planner.paramStore;
  for (const name of planner.variables.keys()) {
    const t = named.get(name);
    const shape = store.torchShape(name);
    if (!t) problems.push(`missing parameter ${JSON.stringify(name)} (expected shape ${shapeStr(shape)})`);
    else if (!tf.util.arraysEqual(t.shape, shape)) problems.push(`parameter ${JSON.stringify(name)} has shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
    else if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) problems.push(`parameter ${JSON.stringify(name)} has dtype ${t.dtype}, expected a float type`);
  }
  for (const [name, t] of named) {
    if (planner.variables.has(name)) continue;
    if (name === 'eta.eta_logit') {
      if (t.shape.length !== 1 || t.shape[0] !== 1) problems.push(`eta.eta_logit has shape ${shapeStr(t.shape)}, expected [1]`);
      continue;
    }
    const b = buffers.get(name);
    if (b) {
      if (!tf.util.arraysEqual(t.shape, b.shape)) problems.push(`buffer ${JSON.stringify(name)} has shape ${shapeStr(t.shape)}, expected ${shapeStr(b.shape)} (check numTrainTimesteps / numInferenceSteps / headDim)`);
      continue;
    }
    problems.push(`unexpected tensor ${JSON.stringify(name)} with shape ${shapeStr(t.shape)} (not a parameter or buffer of this planner config)`);
  }
  if (problems.length > 0) {
    throw new Error(`${source}: cannot load into DiffusionPlanner (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`);
  }
  for (const name of planner.variables.keys()) store.assignTorch(name, named.get(name)!.data);
  const eta = named.get('eta.eta_logit');
  if (eta) planner.etaLogit = eta.data[0]!;
  return { loaded: planner.variables.size, dropped, prefixed };
}

/** Reads a safetensors file (bare or Lightning names) into the planner. */
export async function loadPlannerWeights(planner: DiffusionPlanner, path: string): Promise<LoadReport> {
  const file = await readSafetensors(path);
  return loadPlannerStateDict(planner, file.tensors, path);
}

export interface SaveOptions {
  /** Prefix every name with `agent.action_head.` (a Lightning-style file). Default false. */
  lightningPrefix?: boolean;
  metadata?: Record<string, string>;
}

/** Writes the planner's state dict atomically as safetensors with PyTorch names. */
export async function savePlannerWeights(planner: DiffusionPlanner, path: string, options: SaveOptions = {}): Promise<void> {
  const sd = plannerStateDict(planner);
  const out = new Map<string, SafeTensor>();
  for (const [k, v] of sd) out.set(options.lightningPrefix ? LIGHTNING_PREFIX + k : k, v);
  await writeSafetensors(path, out, { format: 'pt', generator: 'drivekit', config: JSON.stringify(planner.config), ...options.metadata });
}
