import { describe, expect, it } from 'vitest';
import { groupAdvantages } from '../../src/rl/grpo/loss.js';

describe('groupAdvantages std floor', () => {
  // Group 0: every rollout safe, only progress differs (std ~0.0129); group 1: one collision.
  const rewards = [0.98, 0.97, 0.99, 0.96, 1.0, 0.95, 0.0, 0.97];
  const G = 4;

  it('floor 0 is ReCogDrive: every group scaled to unit std', () => {
    const a = groupAdvantages(rewards, G);
    const b = groupAdvantages(rewards, G, [0, 1], 0);
    expect(Array.from(b.advantages)).toEqual(Array.from(a.advantages));
    // unit unbiased std in each group
    for (let g = 0; g < 2; g++) {
      const x = Array.from(a.advantages.subarray(g * G, g * G + G));
      const m = x.reduce((s, v) => s + v, 0) / G;
      const v = x.reduce((s, y) => s + (y - m) ** 2, 0) / (G - 1);
      expect(Math.abs(m)).toBeLessThan(1e-5); // float32 rewards, divided by a std of 0.013
      expect(v).toBeCloseTo(1, 5);
    }
    // the progress-only group gets advantages as large as the collision group's
    expect(Math.max(...a.advantages.subarray(0, G))).toBeGreaterThan(1);
  });

  it('a floor of 1 gives r - mean (Dr. GRPO)', () => {
    const a = groupAdvantages(rewards, G, [0, 1], 1);
    const m0 = (0.98 + 0.97 + 0.99 + 0.96) / 4;
    const m1 = (1.0 + 0.95 + 0.0 + 0.97) / 4;
    const expected = rewards.map((r, i) => (r - (i < G ? m0 : m1)) / (1 + 1e-8));
    for (let i = 0; i < rewards.length; i++) expect(a.advantages[i]).toBeCloseTo(expected[i]!, 6);
    expect(Array.from(a.stdPlusEps)).toEqual([Math.fround(1 + 1e-8), Math.fround(1 + 1e-8)]);
  });

  it('a floor between the group stds only damps the low-variance group', () => {
    const none = groupAdvantages(rewards, G);
    const a = groupAdvantages(rewards, G, [0, 1], 0.1);
    // group 1 (std ~0.48 > 0.1) is unchanged, group 0 (std ~0.013 < 0.1) is divided by 0.1
    expect(Array.from(a.advantages.subarray(G))).toEqual(Array.from(none.advantages.subarray(G)));
    expect(a.advantages[2]).toBeCloseTo((0.99 - 0.975) / 0.1, 5);
  });

  it('rejects a negative or non-finite floor', () => {
    expect(() => groupAdvantages(rewards, G, [0, 1], -0.1)).toThrow(/stdFloor -0.1/);
    expect(() => groupAdvantages(rewards, G, [0, 1], Number.NaN)).toThrow(/stdFloor NaN/);
  });
});
