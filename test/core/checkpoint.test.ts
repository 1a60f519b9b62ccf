import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import {
  checkpointPaths,
  loadCheckpoint,
  loadStateDictInto,
  safeTensorFromTf,
  saveCheckpoint,
  tfFromSafeTensor,
  toStateDict,
} from '../../src/core/checkpoint.js';
import { readSafetensors, serializeSafetensors, type SafeTensor } from '../../src/core/safetensors.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { DIT_DIR } from '../golden-dirs.js';

const GOLDEN = path.join(DIT_DIR, 'weights.safetensors');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-ckpt-'));
beforeAll(async () => {
  await init({ backend: 'cpu' });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const f32 = (shape: number[], data: number[]): SafeTensor => ({ dtype: 'F32', shape, data: Float32Array.from(data) });

describe('checkpoint files', () => {
  it('resolves directory and file targets', () => {
    expect(checkpointPaths('/a/run')).toEqual({ weightsPath: '/a/run/model.safetensors', configPath: '/a/run/model.json' });
    expect(checkpointPaths('/a/run', 'policy')).toEqual({ weightsPath: '/a/run/policy.safetensors', configPath: '/a/run/policy.json' });
    expect(checkpointPaths('/a/step10.safetensors')).toEqual({ weightsPath: '/a/step10.safetensors', configPath: '/a/step10.json' });
  });

  it('round-trips tensors, config and metadata through a directory', async () => {
    const dir = path.join(tmp, 'run1');
    const config = { hidden: 96, schedule: { kind: 'cosine', T: 100 }, lr: 1e-4 };
    const paths = await saveCheckpoint(dir, { tensors: { w: f32([2], [1, 2]) }, config, metadata: { step: '10' } });
    expect(fs.existsSync(paths.weightsPath) && fs.existsSync(paths.configPath)).toBe(true);
    const ck = await loadCheckpoint<typeof config>(dir);
    expect(ck.config).toEqual(config);
    expect(ck.metadata).toEqual({ step: '10' });
    expect(Array.from(ck.tensors.get('w')!.data)).toEqual([1, 2]);
  });

  it('does not overwrite a checkpoint when the new one is invalid, and names a missing config', async () => {
    const file = path.join(tmp, 'keep.safetensors');
    await saveCheckpoint(file, { tensors: { w: f32([1], [5]) }, config: { a: 1 } });
    const cyclic: any = {};
    cyclic.self = cyclic;
    await expect(saveCheckpoint(file, { tensors: { w: f32([1], [6]) }, config: cyclic })).rejects.toThrow(/circular/i);
    await expect(saveCheckpoint(file, { tensors: { w: f32([2], [6]) }, config: { a: 2 } })).rejects.toThrow('needs 2');
    const ck = await loadCheckpoint(file);
    expect(ck.config).toEqual({ a: 1 });
    expect(Array.from(ck.tensors.get('w')!.data)).toEqual([5]);
    fs.rmSync(path.join(tmp, 'keep.json'));
    await expect(loadCheckpoint(file)).rejects.toThrow(`cannot read config ${path.join(tmp, 'keep.json')} beside ${file}`);
  });
});

describe('tfjs conversion', () => {
  it('converts tensors both ways without leaks', async () => {
    await expectNoTensorLeak(() => {
      const t = tf.tensor([[1.5, -2], [3, 4]]);
      const st = safeTensorFromTf(t, 'BF16');
      expect(st).toMatchObject({ dtype: 'BF16', shape: [2, 2] });
      const back = tfFromSafeTensor(st);
      expect(back.dtype).toBe('float32');
      expect(Array.from(back.dataSync())).toEqual([1.5, -2, 3, 4]);
      const i = tfFromSafeTensor({ dtype: 'I64', shape: [2], data: Int32Array.from([7, -7]) });
      expect(i.dtype).toBe('int32');
      expect(() => safeTensorFromTf(t, 'I32')).toThrow('a float32 tensor cannot be stored as I32');
      tf.dispose([t, back, i]);
    });
  });
});

describe('PyTorch state_dict mapping', () => {
  const isLinearWeight = (name: string, shape: readonly number[]) => shape.length === 2 && name.endsWith('.weight');

  it('loads torch [out, in] Linear weights into [in, out] tfjs kernels, dropping old_policy', async () => {
    const file = serializeSafetensors({
      'agent.action_head.fc.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]), // [out=2, in=3]
      'agent.action_head.fc.bias': f32([2], [0.5, -0.5]),
      'agent.action_head.old_policy.fc.weight': f32([2, 3], [0, 0, 0, 0, 0, 0]),
    });
    const vars = { 'fc.weight': tf.variable(tf.zeros([3, 2])), 'fc.bias': tf.variable(tf.zeros([2])) };
    const rename = (n: string) => (n.includes('.old_policy.') ? null : n.replace(/^agent\.action_head\./, ''));
    const before = tf.memory().numTensors;
    const report = await loadStateDictInto(vars, file, { rename, transpose: isLinearWeight });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.loaded.sort()).toEqual(['fc.bias', 'fc.weight']);
    expect(report.dropped).toEqual(['agent.action_head.old_policy.fc.weight']);
    expect(vars['fc.weight'].arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
    // x @ W_tf == (W_torch @ x^T)^T: the transposed kernel computes the same Linear layer.
    const y = tf.tidy(() => tf.matMul(tf.tensor([[1, 1, 1]]), vars['fc.weight']).add(vars['fc.bias']).arraySync());
    expect(y).toEqual([[6.5, 14.5]]);
    // Back to torch names and layout: identical bytes for the kept tensors.
    const sd = toStateDict(vars, { rename: (n) => `agent.action_head.${n}`, transpose: isLinearWeight });
    expect(sd.get('agent.action_head.fc.weight')).toEqual(f32([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(sd.get('agent.action_head.fc.bias')).toEqual(f32([2], [0.5, -0.5]));
    tf.dispose(Object.values(vars));
  });

  it('lists every missing, unexpected and mis-shaped name in one error and changes nothing', async () => {
    const file = serializeSafetensors({
      'a.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]),
      'b.bias': f32([4], [1, 2, 3, 4]),
      extra: f32([1], [9]),
    });
    const vars = {
      'a.weight': tf.variable(tf.zeros([2, 3])), // transposed layout expects torch [3, 2]
      'b.bias': tf.variable(tf.zeros([3])),
      'c.bias': tf.variable(tf.zeros([1])),
    };
    let msg = '';
    try {
      await loadStateDictInto(vars, file, { transpose: isLinearWeight });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('4 problem(s); no variable was changed');
    expect(msg).toContain('mis-shaped: a.weight -> a.weight: expected [3, 2] (torch layout of tfjs [2, 3]), found [2, 3]');
    expect(msg).toContain('mis-shaped: b.bias -> b.bias: expected [3], found [4]');
    expect(msg).toContain('missing: c.bias (expected [1], found nothing in the file)');
    expect(msg).toContain('unexpected: extra ([1] F32; no variable named extra)');
    expect(Array.from(vars['a.weight'].dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    // strict: false tolerates missing/unexpected but reports them.
    const vars2 = { 'b.bias': tf.variable(tf.zeros([4])), 'c.bias': tf.variable(tf.zeros([1])) };
    const rep = await loadStateDictInto(vars2, file, { strict: false, rename: (n) => (n === 'a.weight' ? null : n) });
    expect(rep).toEqual({ loaded: ['b.bias'], missing: ['c.bias'], unexpected: ['extra'], dropped: ['a.weight'] });
    expect(Array.from(vars2['b.bias'].dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([...Object.values(vars), ...Object.values(vars2)]);
  });

  it('reads a file lazily: dropped tensors are never decoded', async () => {
    // An out-of-int32 I64 tensor would fail to decode; under a dropped name it is never read.
    const bytes = serializeSafetensors({ w: f32([1], [3]), 'old_policy.step': { dtype: 'I64', shape: [1], data: Int32Array.from([0]) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    new DataView(bytes.buffer).setBigInt64(8 + n + header['old_policy.step'].data_offsets[0], 1n << 40n, true);
    const p = path.join(tmp, 'lazy.safetensors');
    fs.writeFileSync(p, bytes);
    const vars = { w: tf.variable(tf.zeros([1])) };
    const rep = await loadStateDictInto(vars, p, { rename: (x) => (x.startsWith('old_policy.') ? null : x) });
    expect(rep.dropped).toEqual(['old_policy.step']);
    expect(vars.w.dataSync()[0]).toBe(3);
    await expect(loadStateDictInto(vars, bytes, { rename: (x) => (x.startsWith('old_policy.') ? null : x) })).rejects.toThrow('outside the int32 range');
    tf.dispose(Object.values(vars));
  });

  it('loads every tensor of the golden ReCogDrive planner into matching variables', async () => {
    const golden = await readSafetensors(GOLDEN);
    const vars: Record<string, tf.Variable> = {};
    for (const [name, t] of golden.tensors) {
      const shape = isLinearWeight(name, t.shape) ? [t.shape[1]!, t.shape[0]!] : t.shape;
      vars[name] = tf.variable(tf.zeros(shape));
    }
    const report = await loadStateDictInto(vars, GOLDEN, { transpose: isLinearWeight });
    expect(report.loaded.length).toBe(93);
    const w = golden.tensors.get('model.final_layer.linear.weight')!; // torch [40, 96]
    const k = vars['model.final_layer.linear.weight']!.arraySync() as number[][]; // tfjs [96, 40]
    expect(k.length).toBe(96);
    expect(k[5]![7]).toBe(w.data[7 * 96 + 5]);
    tf.dispose(Object.values(vars));
  });
});
