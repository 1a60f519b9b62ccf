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
import { InputError } from '../core/errors.js';
import type { SafeTensor } from '../core/safetensors-format.js';
import { readSafetensors, writeSafetensors } from './checkpoint-io.js';
import { ddpmBuffers } from './schedule.js';
import { type DiffusionPlanner, PLANNER_PRESETS, type PlannerConfig } from './planner.js';

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
  const sizeMismatch = sizeMismatchError(planner, named, problems, source);
  if (sizeMismatch) throw sizeMismatch;
  if (problems.length > 0) {
    throw new Error(`${source}: cannot load into DiffusionPlanner (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`);
  }
  for (const name of planner.variables.keys()) store.assignTorch(name, named.get(name)!.data);
  const eta = named.get('eta.eta_logit');
  if (eta) planner.etaLogit = eta.data[0]!;
  return { loaded: planner.variables.size, dropped, prefixed };
}

type PlannerSize = Pick<PlannerConfig, 'condDim' | 'numHeads' | 'headDim' | 'numLayers' | 'ditOutputDim' | 'mlpHidden'>;
const SIZE_KEYS: readonly (keyof PlannerSize)[] = ['condDim', 'numHeads', 'headDim', 'numLayers', 'ditOutputDim', 'mlpHidden'];

/** The size fields of the planner a state dict was saved from, read off its tensor shapes (null if not a planner's). */
export function plannerSizeOfStateDict(tensors: ReadonlyMap<string, SafeTensor>): PlannerSize | null {
  const shape = (n: string) => tensors.get(n)?.shape;
  const feat = shape('feature_encoder.weight'); // [W, condDim]
  const qNorm = shape('model.transformer_blocks.0.attn.q_norm.weight'); // [headDim]
  const dec = shape('action_decoder.fc1.weight'); // [mlpHidden, ditOutputDim]
  if (!feat || feat.length !== 2 || !qNorm || qNorm.length !== 1 || !dec || dec.length !== 2) return null;
  let numLayers = 0;
  while ([...tensors.keys()].some((k) => k.startsWith(`model.transformer_blocks.${numLayers}.`))) numLayers++;
  return { condDim: feat[1]!, numHeads: feat[0]! / qNorm[0]!, headDim: qNorm[0]!, numLayers, ditOutputDim: dec[1]!, mlpHidden: dec[0]! };
}

/** `preset 'tiny' with condDim 8`, or the fields when no preset has that size. */
export function describePlannerSize(size: PlannerSize): string {
  for (const [name, p] of Object.entries(PLANNER_PRESETS)) {
    if (SIZE_KEYS.every((k) => k === 'condDim' || p[k] === size[k])) return `preset '${name}' with condDim ${size.condDim}`;
  }
  return `{ ${SIZE_KEYS.map((k) => `${k}: ${size[k]}`).join(', ')} } (no preset)`;
}

/**
 * When a file holds a planner of another size than `planner`, one error saying which preset or
 * config the file matches (instead of one line per mis-shaped tensor).
 */
function sizeMismatchError(planner: DiffusionPlanner, named: ReadonlyMap<string, SafeTensor>, problems: readonly string[], source: string): InputError | null {
  if (problems.length === 0) return null;
  const found = plannerSizeOfStateDict(named);
  if (!found) return null;
  const want = planner.config;
  const differ = SIZE_KEYS.filter((k) => found[k] !== want[k]);
  if (differ.length === 0) return null;
  const fileDesc = describePlannerSize(found);
  const hereDesc = describePlannerSize(want);
  const cfg = fileDesc.startsWith('preset')
    ? `{ preset: '${/'(\w+)'/.exec(fileDesc)![1]}', condDim: ${found.condDim} }`
    : `{ ${SIZE_KEYS.map((k) => `${k}: ${found[k]}`).join(', ')} }`;
  return new InputError(
    `${source}: the weights are of another planner size: they match ${fileDesc}, this planner is ${hereDesc} ` +
      `(${differ.map((k) => `${k} ${want[k]} here, ${found[k]} in the file`).join('; ')}). ` +
      `Build the planner with DiffusionPlanner.create(${cfg}), or load a checkpoint folder with DiffusionPlanner.fromCheckpoint(dir), which reads its config. ` +
      `${problems.length} tensor${problems.length > 1 ? 's differ' : ' differs'}; the first:\n  ${problems.slice(0, 3).join('\n  ')}${problems.length > 3 ? `\n  ... and ${problems.length - 3} more` : ''}`,
    { file: source, field: 'config', expected: hereDesc, found: fileDesc },
  );
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
