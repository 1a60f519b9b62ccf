import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { ConfigError } from '../../src/core/errors.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import type { TrainEvent } from '../../src/rl/common/callbacks.js';
import { InMemoryILData, makeSyntheticRows } from '../../src/rl/data/il-data.js';
import { ILTrainer } from '../../src/rl/il-trainer.js';
import { TinyIlModel } from './helpers/tiny-il-model.js';

let tmp: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-il-cb-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const H = 8;
const train = () => new InMemoryILData(makeSyntheticRows({ rows: 12, condLength: 4, condDim: H, seed: 1 }));
const val = () => new InMemoryILData(makeSyntheticRows({ rows: 4, condLength: 4, condDim: H, seed: 2, firstIndex: 12 }));
const cfg = { epochs: 3, batchSize: 5, optimizer: { lr: 3e-3 }, warmup: 1, seed: 4, valBatchSize: 4, keepBest: 1 };
const weights = (m: TinyIlModel) => Object.values(m.variables).map((v) => Array.from(v.dataSync()));

describe('ILTrainer with the shared callbacks', () => {
  it('emits typed events; a callback stop ends the run after that step with last/ written, and a resume finishes it identically', async () => {
    const ref = new TinyIlModel(H);
    const events: TrainEvent[] = [];
    const tr = new ILTrainer(ref, train(), val(), { ...cfg, outDir: path.join(tmp, 'full'), callbacks: [(e) => void events.push(e)] });
    await tr.fit();
    // 3 steps per epoch (ceil(12 / 5)), 3 epochs; one validation per epoch; last/ per epoch, best when improved.
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('start');
    expect(types.at(-1)).toBe('end');
    expect(types.filter((t) => t === 'iteration')).toHaveLength(9);
    expect(events.filter((e) => e.type === 'evaluation').map((e) => (e as Extract<TrainEvent, { type: 'evaluation' }>).iteration)).toEqual([3, 6, 9]);
    const ckpts = events.filter((e): e is Extract<TrainEvent, { type: 'checkpoint' }> => e.type === 'checkpoint');
    expect(ckpts.filter((e) => e.kind === 'last').map((e) => e.iteration)).toEqual([3, 6, 9]);
    expect(ckpts.filter((e) => e.kind === 'best').length).toBeGreaterThanOrEqual(1);
    expect(events.at(-1)).toEqual({ type: 'end', iteration: 9, timesteps: 9, stopped: false });
    const it1 = events.find((e) => e.type === 'iteration') as Extract<TrainEvent, { type: 'iteration' }>;
    expect(it1.iteration).toBe(1);
    expect(it1.log['train/epoch']).toBe(0);
    expect(it1.log['train/lr']).toBeCloseTo(3e-3, 12);

    const a = new TinyIlModel(H);
    const ta = new ILTrainer(a, train(), val(), { ...cfg, outDir: path.join(tmp, 'stop'), callbacks: [(e) => (e.type === 'iteration' && e.iteration === 5 ? 'stop' : undefined)] });
    const ra = await expectNoTensorLeak(() => ta.fit(), 'fit stopped by a callback');
    expect(ra.globalStep).toBe(5);
    expect(ta.position).toMatchObject({ epoch: 1, stepInEpoch: 2, globalStep: 5 });
    const b = new TinyIlModel(H, 32, 9);
    const tb = new ILTrainer(b, train(), val(), { ...cfg, outDir: path.join(tmp, 'stop') });
    await tb.resume(path.join(tmp, 'stop', 'last'));
    expect(tb.position).toMatchObject({ epoch: 1, stepInEpoch: 2, globalStep: 5 });
    await tb.fit();
    expect(weights(b)).toEqual(weights(ref));

    // A resume with another setting is a ConfigError naming it (expected: the checkpoint's value).
    const c = new TinyIlModel(H);
    const tc = new ILTrainer(c, train(), val(), { ...cfg, seed: 5, outDir: path.join(tmp, 'other') });
    await expect(tc.resume(path.join(tmp, 'stop', 'last'))).rejects.toSatisfy((e: unknown) => e instanceof ConfigError && e.field === 'seed' && e.expected === 4 && e.found === 5);
    for (const t of [tr, ta, tb, tc]) t.dispose();
    for (const m of [ref, a, b, c]) m.dispose();
  });
});
