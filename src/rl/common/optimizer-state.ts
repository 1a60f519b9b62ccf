/**
 * AdamW state as a checkpoint file: `<name>.safetensors` holds the first and second moments
 * (`exp_avg.<param>`, `exp_avg_sq.<param>`), `<name>.json` the step count and the
 * hyper-parameters. Shared by every learner's resumable checkpoint; `putArrays`/`takeArrays`
 * store such tables under a prefix inside another checkpoint (the IL trainer's `trainer.*`).
 */
import { loadCheckpoint, saveCheckpoint } from '../../core/checkpoint.js';
import type { SafeTensor } from '../../core/safetensors.js';
import type { AdamW, AdamWState, NamedArray } from './optim.js';

/** Adds `table` to `into` as float32 tensors named `<prefix><name>`. */
export function putArrays(into: Map<string, SafeTensor>, prefix: string, table: Record<string, NamedArray>): void {
  for (const [name, a] of Object.entries(table)) into.set(`${prefix}${name}`, { dtype: 'F32', shape: a.shape, data: a.data });
}

/** The tensors of `from` named `<prefix><name>`, by `name`. */
export function takeArrays(from: Map<string, SafeTensor>, prefix: string): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [key, t] of from) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = { shape: t.shape, data: t.data as Float32Array };
  return out;
}

/** Writes `optimizer`'s state to `dir/<name>.safetensors` + `dir/<name>.json`. */
export async function saveOptimizerState(dir: string, optimizer: AdamW, name = 'optimizer'): Promise<void> {
  const st = optimizer.getState();
  const tensors = new Map<string, SafeTensor>();
  putArrays(tensors, 'exp_avg.', st.expAvg);
  putArrays(tensors, 'exp_avg_sq.', st.expAvgSq);
  await saveCheckpoint(dir, { tensors, config: { step: st.step, config: st.config } }, { name });
}

/** Restores `optimizer` from `saveOptimizerState`'s files (names and shapes must match; `AdamW.setState` checks). */
export async function loadOptimizerState(dir: string, optimizer: AdamW, name = 'optimizer'): Promise<void> {
  const ck = await loadCheckpoint<{ step: number; config: AdamWState['config'] }>(dir, { name });
  optimizer.setState({ step: ck.config.step, config: ck.config.config, expAvg: takeArrays(ck.tensors, 'exp_avg.'), expAvgSq: takeArrays(ck.tensors, 'exp_avg_sq.') });
}
