/**
 * Issue #16: `DiffusionPlanner.dispose()` must free every tensor the planner made. Before the
 * fix, `ParamStore.add` kept the tensor it wrapped in `tf.variable`, so each weight outlived
 * dispose (the `small` preset leaked 326 tensors and ~131 MB per create + dispose).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { makeSyntheticCacheCommand } from '../../src/cli/planner-train.js';
import { init } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { ParamStore } from '../../src/models/layers.js';
import { DiffusionPlanner, plannerConfig } from '../../src/models/planner.js';

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

const memory = () => {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
};

describe('planner memory', () => {
  it('ParamStore.dispose frees the variables and the tensors they were made from', () => {
    const before = memory();
    const store = new ParamStore();
    store.add('a', [3, 4], new Float32Array(12).fill(1), true);
    store.add('b', [5], new Float32Array(5));
    expect(tf.memory().numTensors - before.numTensors).toBe(2);
    expect(tf.memory().numBytes - before.numBytes).toBe(17 * 4);
    store.dispose();
    expect(memory()).toEqual(before);
  });

  it('create + dispose of the small preset leaves numTensors and numBytes unchanged', () => {
    const before = memory();
    const p = DiffusionPlanner.create({ preset: 'small', condDim: 64 }, { seed: 0 });
    expect(tf.memory().numTensors).toBeGreaterThan(before.numTensors + 300);
    p.dispose();
    expect(memory()).toEqual(before);
  }, 120_000);

  it('create + sample + dispose of the small preset leaves numTensors and numBytes unchanged', () => {
    const before = memory();
    const p = DiffusionPlanner.create({ preset: 'small', condDim: 64 }, { seed: 0 });
    const rng = new Rng(1);
    const inputs = {
      hiddenStates: tf.tensor(rng.fillNormal(new Float32Array(2 * 6 * 64)), [2, 6, 64]),
      history: tf.zeros([2, 12]),
      status: tf.zeros([2, 8]),
    };
    const { trajectory, normalized } = p.sample(inputs, { rng, steps: 2 });
    expect(trajectory.shape).toEqual([2, 8, 3]);
    expect(Array.from(trajectory.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([trajectory, normalized, inputs.hiddenStates, inputs.history, inputs.status]);
    p.dispose();
    expect(memory()).toEqual(before);
  }, 120_000);

  it('a tiny planner survives 20 create/sample/dispose cycles without growth', () => {
    const cfg = plannerConfig({ condDim: 12, numHeads: 2, headDim: 8, numLayers: 2, ditOutputDim: 10, mlpHidden: 16 });
    const before = memory();
    for (let i = 0; i < 20; i++) {
      const p = new DiffusionPlanner(cfg, { seed: i });
      const rng = new Rng(i);
      const inputs = { hiddenStates: tf.ones([1, 3, 12]), history: tf.zeros([1, 12]), status: tf.zeros([1, 8]) };
      const r = p.sample(inputs, { rng });
      tf.dispose([r.trajectory, r.normalized, inputs.hiddenStates, inputs.history, inputs.status]);
      p.dispose();
    }
    expect(memory()).toEqual(before);
  });

  it('a NaN weight makes sample() an InputError (not a clamped, finite trajectory), and leaks nothing', () => {
    const cfg = plannerConfig({ condDim: 12, numHeads: 2, headDim: 8, numLayers: 2, ditOutputDim: 10, mlpHidden: 16 });
    const p = new DiffusionPlanner(cfg, { seed: 0 });
    const w = p.paramStore.torchValues('action_decoder.fc2.weight');
    w[3] = Number.NaN;
    p.paramStore.assignTorch('action_decoder.fc2.weight', w);
    const inputs = { hiddenStates: tf.ones([2, 3, 12]), history: tf.zeros([2, 12]), status: tf.zeros([2, 8]) };
    const before = memory();
    let err: unknown;
    try {
      p.sample(inputs, { rng: new Rng(0) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('trajectory[0]');
    expect(memory()).toEqual(before);
    tf.dispose([inputs.hiddenStates, inputs.history, inputs.status]);
    p.dispose();
  });

  it('in-process CLI calls (train-il, planner sample, a failing sample) leave tf.memory() unchanged', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-leak-cli-'));
    const io = { out: () => undefined, err: () => undefined };
    try {
      const cache = path.join(tmp, 'cache.arrow');
      expect(await makeSyntheticCacheCommand(['--out', cache, '--rows', '12', '--cond-length', '3', '--cond-dim', '8', '--quiet'], io)).toBe(0);
      const run = path.join(tmp, 'run');
      const common = ['--backend', 'wasm', '--quiet', '--json'];
      // the first call initialises the backend (its own tensors are not the planner's)
      expect(await main(['planner', 'train-il', '--cache', cache, '--out', run, ...common, '--preset', 'tiny', '--epochs', '1', '--batch-size', '4'], io)).toBe(0);
      const before = memory();
      expect(await main(['planner', 'train-il', '--cache', cache, '--out', path.join(tmp, 'run2'), ...common, '--preset', 'tiny', '--epochs', '1', '--batch-size', '4'], io)).toBe(0);
      expect(await main(['planner', 'sample', '--cache', cache, '--checkpoint', path.join(run, 'last'), '--out', path.join(tmp, 't.arrow'), ...common], io)).toBe(0);
      const bad = path.join(tmp, 'bad.arrow');
      expect(await makeSyntheticCacheCommand(['--out', bad, '--rows', '4', '--cond-length', '3', '--cond-dim', '5', '--quiet'], io)).toBe(0);
      expect(await main(['planner', 'sample', '--cache', bad, '--checkpoint', path.join(run, 'last'), '--out', path.join(tmp, 'u.arrow'), ...common], io)).not.toBe(0);
      expect(memory()).toEqual(before);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
