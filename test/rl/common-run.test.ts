import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { CheckpointDirs } from '../../src/rl/common/checkpoints.js';
import { EpochLoop, batchRows, initialPosition, openEpoch } from '../../src/rl/common/epoch-loop.js';
import { GradientAccumulator, lossAndGrads, microBatches } from '../../src/rl/common/grads.js';
import { assertResumable, configDifferences, readRunState, writeRunState } from '../../src/rl/common/run-state.js';

let tmp: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-common-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const writeMarker = (value: string) => async (dir: string) => fs.promises.writeFile(path.join(dir, 'marker.txt'), value);

describe('CheckpointDirs', () => {
  it('keeps the best k by a lower-is-better metric, deleting the worst only after a better one is written', async () => {
    const out = path.join(tmp, 'best');
    const dirs = new CheckpointDirs(out, { keepBest: 2 });
    const values = [0.5, 0.7, 0.4, 0.9, 0.45, NaN];
    const kept: (string | null)[] = [];
    for (const [epoch, v] of values.entries()) kept.push(await dirs.offerBest(epoch, v, writeMarker(`epoch ${epoch}`)));
    expect(kept.map((d) => (d ? path.basename(d) : null))).toEqual(['best-epoch-0000', 'best-epoch-0001', 'best-epoch-0002', null, 'best-epoch-0004', null]);
    expect(dirs.best.map((b) => [b.epoch, b.value])).toEqual([[2, 0.4], [4, 0.45]]);
    expect(fs.readdirSync(out).sort()).toEqual(['best-epoch-0002', 'best-epoch-0004']);
    expect(fs.readFileSync(path.join(out, 'best-epoch-0004', 'marker.txt'), 'utf8')).toBe('epoch 4');
    expect(dirs.qualifies(0.44)).toBe(true);
    expect(dirs.qualifies(0.45)).toBe(false);
    expect(new CheckpointDirs(out, { keepBest: 0 }).qualifies(0)).toBe(false);

    // A run resumed into this directory adopts only entries that are here and exist.
    const again = new CheckpointDirs(out, { keepBest: 2 });
    again.adoptBest([...dirs.best, { epoch: 7, value: 0.1, dir: path.join(tmp, 'elsewhere', 'best-epoch-0007') }, { epoch: 8, value: 0.2, dir: path.join(out, 'best-epoch-0008') }]);
    expect(again.best.map((b) => b.epoch)).toEqual([2, 4]);
  });

  it('replaces last/ as a whole and recovers it from the copy a crash between the renames leaves', async () => {
    const out = path.join(tmp, 'last');
    const dirs = new CheckpointDirs(out, { keepBest: 0 });
    expect(await dirs.writeLast(writeMarker('one'))).toBe(path.join(out, 'last'));
    await dirs.writeLast(async (d) => {
      await writeMarker('two')(d);
      await fs.promises.writeFile(path.join(d, 'extra.txt'), 'x');
    });
    expect(fs.readdirSync(dirs.lastDir).filter((n) => !n.startsWith('.')).sort()).toEqual(['extra.txt', 'marker.txt']);
    expect(fs.readFileSync(path.join(dirs.lastDir, 'marker.txt'), 'utf8')).toBe('two');
    // A failing fill leaves the previous folder untouched.
    await expect(dirs.writeLast(async (d) => {
      await writeMarker('three')(d);
      throw new Error('disk full');
    })).rejects.toThrow('disk full');
    expect(fs.readFileSync(path.join(dirs.lastDir, 'marker.txt'), 'utf8')).toBe('two');
    // Crash after `last` was renamed away: recover puts `last.old` back.
    fs.renameSync(dirs.lastDir, `${dirs.lastDir}.old`);
    expect(fs.existsSync(dirs.lastDir)).toBe(false);
    await CheckpointDirs.recover(dirs.lastDir);
    expect(fs.readFileSync(path.join(dirs.lastDir, 'marker.txt'), 'utf8')).toBe('two');
  });
});

describe('run state', () => {
  const saved = { epochs: 10, batchSize: 6, optimizer: { lr: 1e-3 }, seed: 7 };

  it('names the first differing field, with the checkpoint value as expected and the given one as found', () => {
    expect(configDifferences(saved, { ...saved, epochs: 20, seed: 8 }, ['epochs'])).toEqual([{ field: 'seed', saved: 7, found: 8 }]);
    expect(configDifferences(saved, { batchSize: undefined, optimizer: { lr: 1e-3 } })).toEqual([]);
    let err: unknown;
    try {
      assertResumable(saved, { ...saved, batchSize: 5, optimizer: { lr: 2e-3 } }, { file: 'runs/x/last', extra: [{ field: 'trainRows', saved: 20, found: 21 }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: 'runs/x/last', field: 'batchSize', expected: 6, found: 5 });
    expect((err as Error).message).toContain('batchSize: checkpoint 6, here 5; optimizer: checkpoint {"lr":0.001}, here {"lr":0.002}; trainRows: checkpoint 20, here 21');
    expect(() => assertResumable(saved, { ...saved, epochs: 99 }, { file: 'f', free: ['epochs'] })).not.toThrow();
  });

  it('writes and reads a run file, refusing another format or an unreadable file with an InputError naming it', async () => {
    const file = path.join(tmp, 'run.json');
    await writeRunState(file, { format: 'drivekit.test-run/v1', position: { epoch: 3 } });
    expect(await readRunState(file, 'drivekit.test-run/v1', 'a test run')).toEqual({ format: 'drivekit.test-run/v1', position: { epoch: 3 } });
    await expect(readRunState(file, 'drivekit.other/v1', 'a test run')).rejects.toMatchObject({ file, field: 'format', expected: 'drivekit.other/v1', found: 'drivekit.test-run/v1' });
    const missing = path.join(tmp, 'none.json');
    const e = await readRunState(missing, 'x', 'a test run').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).file).toBe(missing);
  });
});

describe('EpochLoop', () => {
  it('shuffles with the seed, replays the same order and streams from any saved position, and walks every row once per epoch', async () => {
    const record = async (loop: EpochLoop, until: { epochs: number; steps?: number }) => {
      const seen: { epoch: number; step: number; rows: number[]; draw: number }[] = [];
      await loop.run(until, { step: async (s) => (seen.push({ epoch: s.epoch, step: s.step, rows: Array.from(s.rows), draw: s.rng.uniform() }), s.rows.length) });
      return seen;
    };
    const full = await record(new EpochLoop(10, 4, true, 3), { epochs: 3 });
    expect(full).toHaveLength(9); // ceil(10 / 4) = 3 steps per epoch, the last of 2 rows
    expect(full.map((s) => s.rows.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2]);
    for (let e = 0; e < 3; e++) expect(full.filter((s) => s.epoch === e).flatMap((s) => s.rows).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The order is the first split of the seeded parent stream.
    expect(full.slice(0, 3).flatMap((s) => s.rows)).toEqual(Array.from(new Rng(3).split().permutation(10)));
    expect(full[0]!.rows).not.toEqual(full[3]!.rows);
    // Another seed, another order; no shuffle, 0..n-1.
    expect((await record(new EpochLoop(10, 4, true, 4), { epochs: 1 })).map((s) => s.rows)).not.toEqual(full.slice(0, 3).map((s) => s.rows));
    expect((await record(new EpochLoop(10, 4, false, 3), { epochs: 1 })).flatMap((s) => s.rows)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // Stop mid-epoch 1 (global step 4), restore the position into a new loop: the same steps follow.
    const a = new EpochLoop(10, 4, true, 3);
    const first = await record(a, { epochs: 3, steps: 4 });
    expect(a.position).toMatchObject({ epoch: 1, stepInEpoch: 1, globalStep: 4, epochLossSum: 4 });
    const b = new EpochLoop(10, 4, true, 3);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rest = await record(b, { epochs: 3 });
    expect([...first, ...rest]).toEqual(full);
    expect(b.position).toMatchObject({ epoch: 3, stepInEpoch: 0, globalStep: 9 });
  });

  it('averages the step losses per epoch and stops when a hook says so', async () => {
    const loop = new EpochLoop(6, 4, true, 0);
    const means: number[] = [];
    let n = 0;
    const stopped = await loop.run({ epochs: 5 }, {
      step: async (s) => s.step + 1, // losses 1, 2 per epoch
      afterStep: () => (++n === 5 ? 'stop' : undefined),
      afterEpoch: (e) => void means.push(e.meanLoss),
    });
    expect(stopped).toBe(true);
    expect(means).toEqual([1.5, 1.5]);
    expect(loop.position).toMatchObject({ epoch: 2, stepInEpoch: 1, globalStep: 5 });
    expect(openEpoch(initialPosition(0), 6, true).order).toEqual(new Rng(0).split().permutation(6));
    expect(Array.from(batchRows(Int32Array.from([5, 4, 3, 2, 1, 0]), 1, 4))).toEqual([1, 0]);
  });
});

describe('micro-batches', () => {
  it('splits a batch by size with weights rows / batch', () => {
    expect(microBatches(10, 4)).toEqual([{ from: 0, to: 4, weight: 0.4 }, { from: 4, to: 8, weight: 0.4 }, { from: 8, to: 10, weight: 0.2 }]);
    expect(microBatches(10, 0)).toEqual([{ from: 0, to: 10, weight: 1 }]);
    expect(microBatches(3, 8)).toEqual([{ from: 0, to: 3, weight: 1 }]);
  });

  it('accumulated micro-batch gradients, loss and statistics equal the whole batch of a mean loss, without leaks', async () => {
    const w = tf.variable(tf.tensor2d([[0.5, -0.3], [0.2, 0.8], [-0.1, 0.4]]));
    const vars = new Map([['w', w]]);
    const x = tf.tensor2d([[1, 2, 3], [0, -1, 2], [2, 2, -1], [1, 0, 0], [-2, 1, 1], [0.5, 0.5, 0.5], [3, -1, 0]]);
    const y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0], [2, -1], [1, 1], [-1, 0]]);
    const of = (from: number, to: number) => lossAndGrads(vars, () => {
      const xs = tf.slice(x, [from, 0], [to - from, 3]);
      const ys = tf.slice(y, [from, 0], [to - from, 2]);
      const err = tf.sub(tf.matMul(xs, w), ys);
      return { loss: tf.mean(tf.square(err)) as tf.Scalar, aux: () => ({ meanAbs: tf.mean(tf.abs(err)).dataSync()[0]! }) };
    });
    const whole = await expectNoTensorLeak(() => {
      const acc = new GradientAccumulator();
      const r = of(0, 7);
      acc.add(r.loss, r.grads, 1, r.aux);
      const g = acc.take();
      const out = { loss: acc.loss, aux: { ...acc.aux }, grad: Array.from(g.get('w')!.dataSync()), direct: r.grads.get('w') === g.get('w') };
      tf.dispose([...g.values()]);
      acc.dispose();
      return out;
    }, 'one micro-batch');
    expect(whole.direct).toBe(true); // weight 1: the gradients are taken as they are
    const parts = await expectNoTensorLeak(() => {
      const acc = new GradientAccumulator();
      for (const { from, to, weight } of microBatches(7, 3)) {
        const r = of(from, to);
        acc.add(r.loss, r.grads, weight, r.aux);
      }
      const g = acc.take();
      const out = { loss: acc.loss, aux: { ...acc.aux }, grad: Array.from(g.get('w')!.dataSync()) };
      tf.dispose([...g.values()]);
      acc.dispose();
      return out;
    }, 'three micro-batches');
    expect(parts.loss).toBeCloseTo(whole.loss, 6);
    expect(parts.aux.meanAbs!).toBeCloseTo(whole.aux.meanAbs!, 6);
    for (let i = 0; i < whole.grad.length; i++) expect(parts.grad[i]!).toBeCloseTo(whole.grad[i]!, 6);
    expect(() => new GradientAccumulator().take()).toThrow('no micro-batch');
    tf.dispose([w, x, y]);
  });
});
