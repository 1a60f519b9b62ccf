/**
 * Planner checkpoints as folders (`save` / `fromCheckpoint`, a run folder means its `last/`),
 * input validation of `sample` (an `InputError` naming the field), and loading weights of another
 * size (one error naming the preset the file matches instead of one line per tensor).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { writeSafetensors } from '../../src/core/safetensors.js';
import { DiffusionPlanner, plannerConfig, type PlannerInputs } from '../../src/models/planner.js';
import { resolvePlannerCheckpoint } from '../../src/models/planner-checkpoint.js';
import { loadPlannerWeights, plannerStateDict, savePlannerWeights } from '../../src/models/weights.js';

const SMALL = { condDim: 8, numHeads: 2, headDim: 8, numLayers: 2, ditOutputDim: 10, mlpHidden: 16 };

let tmp: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-planner-ckpt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function inputs(B: number, L = 3, condDim = 8): PlannerInputs {
  const rng = new Rng(5);
  return {
    hiddenStates: tf.tensor3d(rng.fillNormal(new Float32Array(B * L * condDim)), [B, L, condDim]),
    history: tf.tensor2d(rng.fillNormal(new Float32Array(B * 12)), [B, 12]),
    status: tf.tensor2d(rng.fillNormal(new Float32Array(B * 8)), [B, 8]),
  };
}

function sampleOf(p: DiffusionPlanner, x: PlannerInputs): number[] {
  const r = p.sample(x, { rng: new Rng(9), groupSize: 2 });
  const out = Array.from(r.trajectory.dataSync());
  tf.dispose([r.trajectory, r.normalized]);
  return out;
}

describe('DiffusionPlanner.save / fromCheckpoint', () => {
  it('round-trips config and weights; a run folder resolves to its last/', async () => {
    const a = DiffusionPlanner.create(SMALL, { seed: 3 });
    const dir = path.join(tmp, 'runs', 'r1', 'last');
    await a.save(dir);
    expect(fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort()).toEqual(['model.json', 'model.safetensors']);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['last']); // no temporary folder left
    const x = inputs(2);
    const fromDir = await DiffusionPlanner.fromCheckpoint(dir);
    const fromRun = await DiffusionPlanner.fromCheckpoint(path.join(tmp, 'runs', 'r1'));
    expect(fromDir.config).toEqual(a.config);
    expect(sampleOf(fromDir, x)).toEqual(sampleOf(a, x));
    expect(sampleOf(fromRun, x)).toEqual(sampleOf(a, x));
    expect(resolvePlannerCheckpoint(path.join(tmp, 'runs', 'r1')).dir).toBe(dir);
    // a bare .safetensors file: config from its metadata (savePlannerWeights writes it)
    const file = path.join(tmp, 'bare.safetensors');
    await savePlannerWeights(a, file);
    const fromFile = await DiffusionPlanner.fromCheckpoint(file);
    expect(sampleOf(fromFile, x)).toEqual(sampleOf(a, x));
    tf.dispose([x.hiddenStates, x.history, x.status]);
    for (const p of [a, fromDir, fromRun, fromFile]) p.dispose();
  });

  it('a missing path, an empty folder and a bare file without config are InputErrors naming the path', async () => {
    const missing = path.join(tmp, 'nope');
    await expect(DiffusionPlanner.fromCheckpoint(missing)).rejects.toThrow(InputError);
    await expect(DiffusionPlanner.fromCheckpoint(missing)).rejects.toMatchObject({ file: missing, found: 'nothing' });
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    await expect(DiffusionPlanner.fromCheckpoint(empty)).rejects.toMatchObject({ file: empty, found: 'an empty folder' });
    const p = DiffusionPlanner.create(SMALL);
    const bare = path.join(tmp, 'noconfig.safetensors');
    await writeSafetensors(bare, plannerStateDict(p));
    await expect(DiffusionPlanner.fromCheckpoint(bare)).rejects.toMatchObject({ file: bare, field: 'config' });
    const withConfig = await DiffusionPlanner.fromCheckpoint(bare, { config: SMALL });
    expect(withConfig.config.numLayers).toBe(2);
    withConfig.dispose();
    p.dispose();
  });
});

describe('weights of another size', () => {
  it('one error naming the preset the file matches, not one line per tensor', async () => {
    const tiny = DiffusionPlanner.create({ preset: 'tiny', condDim: 8 });
    const file = path.join(tmp, 'tiny.safetensors');
    await savePlannerWeights(tiny, file);
    const small = DiffusionPlanner.create({ preset: 'small', condDim: 8, numLayers: 4 });
    let err: unknown;
    try {
      await loadPlannerWeights(small, file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.field).toBe('config');
    expect(e.found).toBe("preset 'tiny' with condDim 8");
    expect(e.expected).toBe('{ condDim: 8, numHeads: 8, headDim: 48, numLayers: 4, ditOutputDim: 512, mlpHidden: 1024 } (no preset)');
    expect(e.message).toContain("DiffusionPlanner.create({ preset: 'tiny', condDim: 8 })");
    expect(e.message.split('\n').length).toBeLessThanOrEqual(5); // summary + 3 examples + "... and N more"
    tiny.dispose();
    small.dispose();
  });
});

describe('planner.sample input validation', () => {
  it('names the missing or mis-shaped field (InputError), leaking nothing', () => {
    const p = DiffusionPlanner.create(SMALL);
    const x = inputs(2);
    const before = tf.memory().numTensors;
    const call = (v: unknown) => () => p.sample(v as PlannerInputs, { rng: new Rng(1) });
    expect(call({ hiddenStates: x.hiddenStates, status: x.status })).toThrow(expect.objectContaining({ name: 'InputError', field: 'inputs.history', expected: 'a tf.Tensor [B, 12] or [B, 4, 3]' }));
    expect(call({ hiddenStates: [[[0]]], history: x.history, status: x.status })).toThrow(expect.objectContaining({ field: 'inputs.hiddenStates', found: 'a plain array' }));
    expect(call({ inputs: x, target: x.history })).toThrow(expect.objectContaining({ field: 'inputs', found: 'a training batch { inputs, target }' }));
    expect(call({ ...x, status: tf.zeros([2, 7]) })).toThrow(expect.objectContaining({ field: 'inputs.status', expected: 'shape [2, 8]', found: [2, 7] }));
    expect(call(null)).toThrow(InputError);
    expect(tf.memory().numTensors).toBe(before + 1); // only the tf.zeros above
    tf.dispose([x.hiddenStates, x.history, x.status]);
    p.dispose();
  });

  it('plannerConfig knows the tiny preset', () => {
    expect(plannerConfig({ preset: 'tiny', condDim: 64 })).toMatchObject({ numHeads: 2, headDim: 16, numLayers: 2, ditOutputDim: 32, mlpHidden: 64, condDim: 64 });
  });
});
