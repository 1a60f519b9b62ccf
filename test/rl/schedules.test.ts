import { describe, expect, it } from 'vitest';
import { RECOGDRIVE_IL_SCHEDULE, WarmupCosineSchedule } from '../../src/rl/schedules.js';

describe('WarmupCosineSchedule (ReCogDrive WarmupCosLR)', () => {
  const s = new WarmupCosineSchedule(RECOGDRIVE_IL_SCHEDULE);

  it('warms up linearly over 3 epochs starting at lr/3', () => {
    expect(s.lrAt(0)).toBeCloseTo(1e-4 / 3, 15);
    expect(s.lrAt(1)).toBeCloseTo(2e-4 / 3, 15);
    expect(s.lrAt(2)).toBeCloseTo(1e-4, 15);
  });

  it('peaks at the end of warmup, is halfway at the cosine midpoint, and reaches the 1e-6 floor at epoch 200', () => {
    expect(s.lrAt(3)).toBeCloseTo(1e-4, 15);
    // midpoint of the 197-epoch cosine: (e - 3) / 197 = 1/2 is not an integer; check its neighbours around 50.5%
    const mid = 1e-6 + 0.5 * (1e-4 - 1e-6);
    const e = 3 + 98; // cos(pi * 98 / 197)
    expect(s.lrAt(e)).toBeCloseTo(1e-6 + 0.5 * (1e-4 - 1e-6) * (1 + Math.cos((Math.PI * 98) / 197)), 15);
    expect(s.lrAt(e)).toBeGreaterThan(mid);
    expect(s.lrAt(e + 1)).toBeLessThan(mid);
    expect(s.lrAt(199)).toBeCloseTo(1e-6 + 0.5 * 99e-6 * (1 + Math.cos((Math.PI * 196) / 197)), 15);
    expect(s.lrAt(199)).toBeGreaterThan(1e-6);
    expect(s.lrAt(200)).toBe(1e-6);
    expect(s.lrAt(500)).toBe(1e-6);
  });

  it('decreases monotonically after warmup', () => {
    for (let e = 3; e < 200; e++) expect(s.lrAt(e + 1)).toBeLessThanOrEqual(s.lrAt(e));
  });

  it('is the RL stage cosine without warmup (1e-4 to 0 over 10 epochs)', () => {
    const rl = new WarmupCosineSchedule({ lr: 1e-4, minLr: 0, warmup: 0, total: 10 });
    expect(rl.lrAt(0)).toBe(1e-4);
    expect(rl.lrAt(5)).toBeCloseTo(5e-5, 15);
    expect(rl.lrAt(10)).toBe(0);
  });

  it('steps per optimizer step when interval is step', () => {
    const st = new WarmupCosineSchedule({ lr: 1, minLr: 0, warmup: 2, total: 6, interval: 'step' });
    expect(st.lrFor({ epoch: 0, globalStep: 0 })).toBe(0.5);
    expect(st.lrFor({ epoch: 3, globalStep: 1 })).toBe(1);
    expect(st.lrFor({ epoch: 0, globalStep: 4 })).toBeCloseTo(0.5, 12);
    expect(s.lrFor({ epoch: 0, globalStep: 1000 })).toBeCloseTo(1e-4 / 3, 15);
  });

  it('round-trips through JSON and validates with messages that say what to change', () => {
    const back = new WarmupCosineSchedule(JSON.parse(JSON.stringify(s)));
    for (const e of [0, 2, 3, 77, 199]) expect(back.lrAt(e)).toBe(s.lrAt(e));
    expect(() => new WarmupCosineSchedule({ warmup: 5, total: 5 })).toThrow(/Invalid schedule warmup: 5. Should be smaller than total \(5\)/);
    expect(() => new WarmupCosineSchedule({ lr: -1 })).toThrow(/Invalid schedule lr/);
    expect(() => s.lrAt(-1)).toThrow(/Invalid schedule index/);
  });
});
