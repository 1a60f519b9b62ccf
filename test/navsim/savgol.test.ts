import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { comfortChecks, extendedComfort, phaseUnwrap } from '../../src/navsim/comfort.js';
import { historyStates } from '../../src/navsim/interpolate.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { meanTimeStep, npRound, pairwiseSum, savgolFilter } from '../../src/navsim/savgol.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const here = dirname(fileURLToPath(import.meta.url));
const v1dir = PDM_V1_DIR;
const v2dir = PDM_V2_DIR;

describe('savgolFilter (scipy mode="interp")', () => {
  // reference outputs of scipy 1.17.1 savgol_filter on the same signal
  const ref = JSON.parse(readFileSync(join(here, 'savgol-scipy.fixture.json'), 'utf8')) as { x: number[]; delta: number; y: Record<string, number[]> };
  for (const key of Object.keys(ref.y)) {
    const [w, p, m] = key.split(',').map(Number) as [number, number, number];
    it(`window ${w}, order ${p}, deriv ${m}${w % 2 === 0 ? ' (even window)' : ''}`, () => {
      const y = savgolFilter(ref.x, w, p, { deriv: m, delta: ref.delta });
      ref.y[key]!.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThan(1e-11 * (1 + Math.abs(v))));
    });
  }

  it('even window: interior = fit over x[i-3..i+4] evaluated at i + 0.5', () => {
    const x = Array.from({ length: 20 }, (_, i) => i * i); // exact quadratic
    const y = savgolFilter(x, 8, 2);
    for (let i = 4; i < 16; i++) expect(y[i]).toBeCloseTo((i + 0.5) ** 2, 9);
    for (let i = 0; i < 4; i++) expect(y[i]).toBeCloseTo(i * i, 9); // polyfit edges at 0..3
  });

  it('rejects bad windows', () => {
    expect(() => savgolFilter([1, 2, 3], 5, 2)).toThrow(RangeError);
    expect(() => savgolFilter([1, 2, 3, 4, 5], 3, 3)).toThrow(RangeError);
  });
});

describe('numpy helpers', () => {
  it('np.round is half-to-even', () => {
    expect(npRound(0.125, 2)).toBe(0.12);
    expect(npRound(0.375, 2)).toBe(0.38);
    expect(npRound(-2.5, 0)).toBe(-2);
    expect(npRound(-3.5, 0)).toBe(-4);
    expect(npRound(1.23456789012, 8)).toBe(1.23456789);
  });
  it('pairwise sum and mean step match numpy', () => {
    expect(meanTimeStep(41)).toBe(0.1);
    const a = Array.from({ length: 37 }, (_, i) => 0.1 * i + 1e-17 * i);
    let seq = 0;
    for (const v of a) seq += v;
    expect(Math.abs(pairwiseSum(a) - seq)).toBeLessThan(1e-12);
  });
  it('phase unwrap', () => {
    const out = phaseUnwrap([3.1, -3.1, -3.0], 3, new Float64Array(3));
    expect(out[1]).toBeCloseTo(-3.1 + 2 * Math.PI, 12);
    expect(out[2]).toBeCloseTo(-3.0 + 2 * Math.PI, 12);
  });
});

describe('comfort against the golden comfort details', () => {
  const detailMatches = (states: number[][], n: number, v2: boolean, exp: Record<string, boolean>, history?: Float64Array) => {
    let flat = new Float64Array(states.flat());
    if (history) {
      const joined = new Float64Array(history.length + flat.length);
      joined.set(history);
      joined.set(flat, history.length);
      flat = joined;
      n += history.length / 11;
    }
    expect(comfortChecks(flat, 0, n, v2)).toEqual(exp);
  };
  it('v1.1 comfort (window 41 accelerations, SG(8) + SG(41) jerk, SG(5) yaw) on every golden scene', () => {
    let falseSeen = 0;
    for (const f of readdirSync(v1dir).filter((x) => x.endsWith('.json'))) {
      const g = JSON.parse(readFileSync(join(v1dir, f), 'utf8'));
      for (const row of [g.expected.evaluated, g.expected.pdm_closed]) {
        detailMatches(row.simulated_states_10hz, 41, false, row.comfort_detail);
        falseSeen += Object.values(row.comfort_detail).filter((v) => v === false).length;
      }
    }
    expect(falseSeen).toBeGreaterThan(0);
  });
  it('v2.2 history comfort (even window 8 on history + simulation) on every golden scene', () => {
    let falseSeen = 0;
    for (const f of readdirSync(v2dir).filter((x) => x.endsWith('.json'))) {
      const g = JSON.parse(readFileSync(join(v2dir, f), 'utf8'));
      const scene = parseScene(g, { source: f });
      const hist = scene.history ? historyStates(scene.history) : undefined;
      const hs = g.expected.history_states_10hz as number[][] | undefined;
      if (hist && hs) hs.flat().forEach((v, i) => expect(Math.abs(v - hist[i]!)).toBeLessThan(1e-6));
      detailMatches(g.expected.evaluated.simulated_states_10hz, 41, true, g.expected.evaluated.history_comfort_detail, hist);
      falseSeen += Object.values(g.expected.evaluated.history_comfort_detail).filter((v) => v === false).length;
    }
    expect(falseSeen).toBeGreaterThan(0);
  });
  it('extended comfort RMS matches the golden ec_detail', () => {
    for (const f of ['v2_ec_two_frames_inconsistent.json', 'v2_ec_interval_0_3s.json', 'v2_ec_plan_only_lateral.json']) {
      const g = JSON.parse(readFileSync(join(v2dir, f), 'utf8'));
      const pf = g.expected.previous_frame;
      const ec = extendedComfort(
        new Float64Array(g.expected.evaluated.simulated_states_10hz.flat()), 0,
        new Float64Array(pf.simulated_states_10hz.flat()), 0, 41, pf.ec_detail.observation_interval_s,
      );
      expect(ec.overlapStart).toBe(pf.ec_detail.overlap_start);
      for (const k of ['acceleration', 'jerk', 'yaw_rate', 'yaw_accel'] as const) expect(ec.rms[k]).toBeCloseTo(pf.ec_detail.rms[k], 9);
      expect(ec.value).toBe(g.expected.metrics.two_frame_extended_comfort);
    }
  });
});
