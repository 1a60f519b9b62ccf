/**
 * AdamW state as a checkpoint file: `<name>.safetensors` holds the first and second moments
 * (`exp_avg.<param>`, `exp_avg_sq.<param>`), `<name>.json` the step count and the
 * hyper-parameters. Shared by every learner's resumable checkpoint.
 */
import { loadCheckpoint, saveCheckpoint } from '../../core/checkpoint.js';
import type { SafeTensor } from '../../core/safetensors.js';
import type { AdamW, AdamWState } from '../optim.js';

/** Writes `optimizer`'s state to `dir/<name>.safetensors` + `dir/<name>.json`. */
export async function saveOptimizerState(dir: string, optimizer: AdamW, name = 'optimizer'): Promise<void> {
  const st = optimizer.getState();
  const tensors = new Map<string, SafeTensor>();
  for (const [p, a] of Object.entries(st.expAvg)) tensors.set(`exp_avg.${p}`, { dtype: 'F32', shape: a.shape, data: a.data });
  for (const [p, a] of Object.entries(st.expAvgSq)) tensors.set(`exp_avg_sq.${p}`, { dtype: 'F32', shape: a.shape, data: a.data });
  await saveCheckpoint(dir, { tensors, config: { step: st.step, config: st.config } }, { name });
}

/** Restores `optimizer` from `saveOptimizerState`'s files (names and shapes must match; `AdamW.setState` checks). */
export async function loadOptimizerState(dir: string, optimizer: AdamW, name = 'optimizer'): Promise<void> {
  const ck = await loadCheckpoint<{ step: number; config: AdamWState['config'] }>(dir, { name });
  const expAvg: AdamWState['expAvg'] = {};
  const expAvgSq: AdamWState['expAvgSq'] = {};
  for (const [key, t] of ck.tensors) {
    if (key.startsWith('exp_avg_sq.')) expAvgSq[key.slice('exp_avg_sq.'.length)] = { shape: t.shape, data: t.data as Float32Array };
    else if (key.startsWith('exp_avg.')) expAvg[key.slice('exp_avg.'.length)] = { shape: t.shape, data: t.data as Float32Array };
  }
  optimizer.setState({ step: ck.config.step, config: ck.config.config, expAvg, expAvgSq });
}
