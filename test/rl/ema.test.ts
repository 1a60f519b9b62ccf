import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { Ema } from '../../src/rl/ema.js';

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

describe('Ema', () => {
  it('updates shadow = d*shadow + (1-d)*theta', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const ema = new Ema({ w }, { decay: 0.9 });
    w.assign(tf.tensor1d([3, -2]));
    ema.update();
    expect(Array.from(ema.get('w').dataSync())[0]).toBeCloseTo(0.9 * 1 + 0.1 * 3, 6);
    expect(Array.from(ema.get('w').dataSync())[1]).toBeCloseTo(0.9 * 2 + 0.1 * -2, 6);
    ema.update();
    expect(Array.from(ema.get('w').dataSync())[0]).toBeCloseTo(0.9 * 1.2 + 0.1 * 3, 6);
    expect(ema.numUpdates).toBe(2);
    ema.dispose();
    w.dispose();
  });

  it('supports warm-up decay and batch-size scaling', () => {
    const w = tf.variable(tf.tensor1d([0]));
    const ema = new Ema({ w }, { decay: 0.999, warmup: true });
    expect(ema.decayFor()).toBeCloseTo(0.1, 12);
    ema.update();
    expect(ema.decayFor()).toBeCloseTo(2 / 11, 12);
    const scaled = new Ema({ w }, { decay: 0.999, referenceBatch: 128 });
    expect(scaled.decayFor(256)).toBeCloseTo(0.999 ** 2, 12);
    expect(() => scaled.update()).toThrow(/needs the batch size/);
    ema.dispose();
    scaled.dispose();
    w.dispose();
  });

  it('swaps the averaged weights in for a function and restores the raw ones, without leaks', async () => {
    const w = tf.variable(tf.tensor1d([1]));
    const ema = new Ema({ w }, { decay: 0.5 });
    w.assign(tf.tensor1d([3]));
    ema.update(); // shadow 2
    const seen = await expectNoTensorLeak(() => ema.withAveraged(() => w.dataSync()[0]));
    expect(seen).toBe(2);
    expect(w.dataSync()[0]).toBe(3);
    const st = ema.getState();
    const other = new Ema({ w }, { decay: 0.5 });
    other.setState(st);
    expect(other.get('w').dataSync()[0]).toBe(2);
    expect(other.numUpdates).toBe(1);
    expect(() => other.setState({ ...st, decay: 0.9 })).toThrow(/decay is 0.9 in the checkpoint but 0.5 here/);
    expect(() => other.setState({ ...st, shadow: {} })).toThrow(/w: missing/);
    ema.dispose();
    other.dispose();
    w.dispose();
  });
});
