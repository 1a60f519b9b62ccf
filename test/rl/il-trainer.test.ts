import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { readSafetensorsSync } from '../../src/core/safetensors.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { InMemoryIlData, makeSyntheticRows } from '../../src/rl/data/il-data.js';
import { DiffusionPlanner } from '../../src/models/planner.js';
import { plannerForIl } from '../../src/rl/il-planner.js';
import { IlTrainer, type IlEvent, accumulateGrads, disposeBatch, ilTrainStep, rowsToBatch, validateIl } from '../../src/rl/il-trainer.js';
import { AdamW } from '../../src/rl/optim.js';
import { TinyIlModel } from './helpers/tiny-il-model.js';

let tmp: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-il-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const L = 4, H = 8;
const trainRows = makeSyntheticRows({ rows: 20, condLength: L, condDim: H, seed: 1 });
const valRows = makeSyntheticRows({ rows: 6, condLength: L, condDim: H, seed: 2, firstIndex: 20 });

function weights(m: TinyIlModel): number[][] {
  return Object.values(m.variables).map((v) => Array.from(v.dataSync()));
}

describe('ilTrainStep', () => {
  it('updates the parameters and leaks no tensors', async () => {
    const model = new TinyIlModel(H);
    const opt = new AdamW(model.variables, { lr: 1e-3 });
    const rows = await new InMemoryIlData(trainRows).readRows([0, 1, 2, 3]);
    const before = weights(model);
    const rng = new Rng(0);
    const r = await expectNoTensorLeak(() => {
      const b = rowsToBatch(rows);
      try {
        return ilTrainStep(model, opt, b, rng, { maxGradNorm: 1 });
      } finally {
        disposeBatch(b);
      }
    }, 'ilTrainStep');
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
    expect(r.gradNorm).toBeGreaterThan(0);
    expect(weights(model)).not.toEqual(before);
    expect(opt.stepCount).toBe(1);
    opt.dispose();
    model.dispose();
  });
});

describe('gradient accumulation', () => {
  it('sums micro-batch gradients weighted by size into the full-batch gradient of a mean loss', () => {
    const w = tf.variable(tf.tensor2d([[0.5, -0.3], [0.2, 0.8], [-0.1, 0.4]]));
    const x = tf.tensor2d([[1, 2, 3], [0, -1, 2], [2, 2, -1], [1, 0, 0], [-2, 1, 1]]);
    const y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0], [2, -1]]);
    const gradOf = (xs: tf.Tensor2D, ys: tf.Tensor2D) => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tf.matMul(xs, w), ys))) as tf.Scalar, [w]);
      value.dispose();
      return new Map([['w', grads[w.name]!]]);
    };
    const full = gradOf(x, y);
    const parts = [[0, 2], [2, 4], [4, 5]] as const;
    let acc: Map<string, tf.Tensor> | null = null;
    for (const [a, b] of parts) {
      const xs = tf.slice(x, [a, 0], [b - a, 3]) as tf.Tensor2D;
      const ys = tf.slice(y, [a, 0], [b - a, 2]) as tf.Tensor2D;
      acc = accumulateGrads(acc, gradOf(xs, ys), (b - a) / 5);
      tf.dispose([xs, ys]);
    }
    const got = Array.from(acc!.get('w')!.dataSync());
    const want = Array.from(full.get('w')!.dataSync());
    for (let i = 0; i < want.length; i++) expect(got[i]!).toBeCloseTo(want[i]!, 6);
    tf.dispose([...acc!.values(), ...full.values(), w, x, y]);
  });

  it('trains with micro-batches deterministically and without leaks', async () => {
    const run = async () => {
      const m = new TinyIlModel(H);
      const t = new IlTrainer(m, new InMemoryIlData(trainRows), null, { epochs: 2, batchSize: 8, microBatchSize: 3, optimizer: { lr: 3e-3 }, warmup: 1, seed: 2 });
      const r = await expectNoTensorLeak(() => t.fit(), 'fit with micro-batches');
      const out = { w: weights(m), loss: r.trainLoss };
      t.dispose();
      m.dispose();
      return out;
    };
    const a = await run(), b = await run();
    expect(a).toEqual(b);
    expect(a.loss).toHaveLength(2);
    expect(a.loss.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
  });
});

describe('IlTrainer', () => {
  const cfg = { epochs: 4, batchSize: 6, optimizer: { lr: 3e-3 }, warmup: 1, emaDecay: 0.9, valBatchSize: 4, keepBest: 2, seed: 7 };

  it('resumes from an epoch-end and a mid-epoch checkpoint bit-identically to an uninterrupted run', async () => {
    const full = new TinyIlModel(H);
    const t1 = new IlTrainer(full, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: path.join(tmp, 'full') });
    const r1 = await t1.fit();
    expect(r1.epochs).toBe(4);
    expect(r1.globalStep).toBe(16); // ceil(20/6) = 4 steps per epoch
    const ref = weights(full);
    const refEma = Array.from(t1.ema!.get('fc1.weight').dataSync());

    // Run 1: stop after 2 epochs; then a fresh model + trainer resumes from last/.
    const a = new TinyIlModel(H);
    const ta = new IlTrainer(a, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: path.join(tmp, 'split') });
    await ta.fit({ epochs: 2 });
    const b = new TinyIlModel(H, 32, 5); // different init: resume must overwrite it
    const tb = new IlTrainer(b, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: path.join(tmp, 'split') });
    await tb.resume(path.join(tmp, 'split', 'last'));
    expect(tb.position.epoch).toBe(2);
    const rb = await tb.fit();
    expect(rb.globalStep).toBe(16);
    expect(weights(b)).toEqual(ref);
    expect(Array.from(tb.ema!.get('fc1.weight').dataSync())).toEqual(refEma);
    expect(rb.validation.map((v) => v.result.l1)).toEqual(r1.validation.slice(2).map((v) => v.result.l1));

    // Run 2: stop in the middle of epoch 1 (global step 6), resume, finish.
    const c = new TinyIlModel(H);
    const tc = new IlTrainer(c, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: path.join(tmp, 'mid') });
    await tc.fit({ steps: 6 });
    expect(tc.position).toMatchObject({ epoch: 1, stepInEpoch: 2, globalStep: 6 });
    const d = new TinyIlModel(H, 32, 3);
    const td = new IlTrainer(d, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: path.join(tmp, 'mid') });
    await td.resume(path.join(tmp, 'mid', 'last'));
    const rd = await td.fit();
    expect(weights(d)).toEqual(ref);
    // Resuming into another directory neither tracks nor prunes the original best checkpoints.
    const e = new TinyIlModel(H);
    const te = new IlTrainer(e, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: path.join(tmp, 'elsewhere') });
    await te.resume(path.join(tmp, 'mid', 'last'));
    expect(td.bestCheckpoints.length).toBe(2);
    expect(te.bestCheckpoints).toEqual([]);
    te.dispose();
    e.dispose();
    // the resumed epoch's mean loss includes the steps done before the interruption
    expect(rd.trainLoss[0]).toBe(r1.trainLoss[1]);

    for (const t of [t1, ta, tb, tc, td]) t.dispose();
    for (const m of [full, a, b, c, d]) m.dispose();
  });

  it('keeps the best k checkpoints by validation L1 and emits events', async () => {
    const m = new TinyIlModel(H);
    const events: IlEvent[] = [];
    const out = path.join(tmp, 'best');
    const t = new IlTrainer(m, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, outDir: out, onEvent: (e) => events.push(e) });
    const r = await t.fit();
    const vals = r.validation.map((v) => ({ epoch: v.epoch, l1: v.result.l1 })).sort((x, y) => x.l1 - y.l1);
    expect(r.best.map((b) => b.epoch)).toEqual(vals.slice(0, 2).map((v) => v.epoch));
    const dirs = fs.readdirSync(out).filter((n) => n.startsWith('best-epoch-')).sort();
    expect(dirs).toEqual(r.best.map((b) => path.basename(b.dir)).sort());
    for (const dname of dirs) {
      expect(fs.existsSync(path.join(out, dname, 'model.safetensors'))).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(out, dname, 'metrics.json'), 'utf8')).ema).toBe(true);
    }
    expect(events.filter((e) => e.type === 'step')).toHaveLength(16);
    expect(events.filter((e) => e.type === 'validation')).toHaveLength(4);
    expect(events[0]!.type).toBe('start');
    expect(events.at(-1)!.type).toBe('end');
    const steps = events.filter((e): e is Extract<IlEvent, { type: 'step' }> => e.type === 'step');
    expect(steps[0]!.lr).toBeCloseTo(3e-3, 12); // warmup 1 epoch: epoch 0 already at the peak
    t.dispose();
    m.dispose();
  });

  it('refuses to resume with different settings, naming the field', async () => {
    const m = new TinyIlModel(H);
    const t = new IlTrainer(m, new InMemoryIlData(trainRows), null, { ...cfg, batchSize: 5, outDir: path.join(tmp, 'cfg') });
    await expect(t.resume(path.join(tmp, 'full', 'last'))).rejects.toThrow(/batchSize: checkpoint 6, here 5/);
    t.dispose();
    m.dispose();
    expect(() => new IlTrainer(new TinyIlModel(H), new InMemoryIlData(trainRows), null, { epochs: 0 })).toThrow(ConfigError);
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });

  it('leaks no tensors over a short fit with validation and EMA', async () => {
    const m = new TinyIlModel(H);
    const t = new IlTrainer(m, new InMemoryIlData(trainRows), new InMemoryIlData(valRows), { ...cfg, epochs: 1 });
    await expectNoTensorLeak(() => t.fit(), 'IlTrainer.fit');
    t.dispose();
    m.dispose();
  });
});

describe('IL with the real DiffusionPlanner (tiny custom size)', () => {
  // 2 DiT blocks (one self-, one cross-attention), W = 32: ~56 k parameters.
  const size = { numHeads: 2, headDim: 16, numLayers: 2, ditOutputDim: 32, mlpHidden: 64 };
  const PL = 8, PH = 16;

  it('converges on synthetic conditioning: the epsilon-MSE falls well below its start and validation L1 improves', async () => {
    const planner = DiffusionPlanner.create({ ...size, condDim: PH }, { seed: 0 });
    const model = plannerForIl(planner);
    const train = new InMemoryIlData(makeSyntheticRows({ rows: 48, condLength: PL, condDim: PH, seed: 1 }));
    const val = new InMemoryIlData(makeSyntheticRows({ rows: 16, condLength: PL, condDim: PH, seed: 2 }));
    const before = await validateIl(model, val, { seed: 5 });
    const losses: number[] = [];
    const t = new IlTrainer(model, train, null, {
      epochs: 16, batchSize: 16, optimizer: { lr: 2e-3 }, warmup: 1, minLr: 1e-5, seed: 3,
      onEvent: (e) => { if (e.type === 'step') losses.push(e.loss); },
    });
    await t.fit();
    const after = await validateIl(model, val, { seed: 5 });
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const start = mean(losses.slice(0, 3));
    const end = mean(losses.slice(-9));
    expect(losses).toHaveLength(48);
    expect(start).toBeGreaterThan(0.8); // epsilon-MSE of an untrained net is about Var(eps) = 1
    expect(end).toBeLessThan(0.4 * start);
    expect(after.l1).toBeLessThan(0.7 * before.l1);
    t.dispose();
    planner.dispose();
  });

  it('resumes bit-identically with torch-named planner checkpoints, and a train step leaks nothing', async () => {
    const rows = makeSyntheticRows({ rows: 12, condLength: PL, condDim: PH, seed: 4 });
    const opts = { epochs: 2, batchSize: 6, optimizer: { lr: 1e-3 }, warmup: 1, emaDecay: 0.99, seed: 11, valBatchSize: 6, keepBest: 1 };
    const mk = (seed: number) => DiffusionPlanner.create({ ...size, condDim: PH }, { seed });
    const ref = mk(0);
    const tr = new IlTrainer(plannerForIl(ref), new InMemoryIlData(rows), new InMemoryIlData(rows), { ...opts, outDir: path.join(tmp, 'p-full') });
    await tr.fit();
    const a = mk(0);
    const ta = new IlTrainer(plannerForIl(a), new InMemoryIlData(rows), new InMemoryIlData(rows), { ...opts, outDir: path.join(tmp, 'p-split') });
    await ta.fit({ epochs: 1 });
    const last = path.join(tmp, 'p-split', 'last');
    // The checkpoint uses PyTorch state-dict names and layout (Linear weight [out, in]).
    const saved = readSafetensorsSync(path.join(last, 'model.safetensors')).tensors;
    expect(saved.get('feature_encoder.weight')!.shape).toEqual([32, PH]);
    expect(saved.get('position_embedding.weight')!.shape).toEqual([8, 32]);
    expect(saved.has('eta.eta_logit')).toBe(true);
    const b = mk(9);
    const tb = new IlTrainer(plannerForIl(b), new InMemoryIlData(rows), new InMemoryIlData(rows), { ...opts, outDir: path.join(tmp, 'p-split') });
    await tb.resume(last);
    await tb.fit();
    for (const [name, v] of ref.variables) expect(Array.from(b.variables.get(name)!.dataSync()), name).toEqual(Array.from(v.dataSync()));

    const opt = new AdamW(a.variables);
    const batchRows = await new InMemoryIlData(rows).readRows([0, 1, 2]);
    const rng = new Rng(1);
    await expectNoTensorLeak(() => {
      const batch = rowsToBatch(batchRows);
      try {
        ilTrainStep(plannerForIl(a), opt, batch, rng);
      } finally {
        disposeBatch(batch);
      }
    }, 'ilTrainStep(DiffusionPlanner)');
    opt.dispose();
    for (const t of [tr, ta, tb]) t.dispose();
    for (const p of [ref, a, b]) p.dispose();
  });
});
