import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScene } from '../../src/navsim/scene-json.js';
import { aggregateBatch, evaluateBatch, prepareScene, proposalsToReferenceStates, scoreProposals } from '../../src/navsim/scorer.js';
import { simulateProposals } from '../../src/navsim/simulate.js';
import { NavsimInputError } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const v1dir = PDM_V1_DIR;
const v2dir = PDM_V2_DIR;
const load = (path: string) => {
  const g = JSON.parse(readFileSync(path, 'utf8'));
  return { g, scene: parseScene(g, { source: path }), pdm: new Float64Array(g.expected.pdm_closed.trajectory_states_10hz_5s.flat()) };
};

describe('scoreProposals API', () => {
  const { g, scene, pdm } = load(join(v1dir, 'straight_cruise.json'));
  const poses = scene.trajectory!.poses;

  it('scores a flat Float64Array batch like individual trajectories', () => {
    const stopped = new Float64Array(24); // stays at the origin
    const flat = new Float64Array([...poses, ...stopped]);
    const batch = scoreProposals(scene, flat, { version: 'v1.1', pdmClosedStates: pdm });
    expect(batch).toHaveLength(2);
    expect(batch[0]!.score).toBeCloseTo(g.expected.metrics.score, 12);
    const single = scoreProposals(scene, [{ poses: stopped }], { version: 'v1.1', pdmClosedStates: pdm });
    expect(batch[1]).toEqual(single[0]);
    // the LQR overshoots a standstill plan from 10 m/s, so some progress remains, but less
    expect(batch[1]!.egoProgress).toBeLessThan(batch[0]!.egoProgress);
    const b = batch[1]!;
    expect(b.score).toBeCloseTo((b.multiplicativeProduct * (5 * b.egoProgress + 5 * b.timeToCollisionWithinBound + 2 * b.comfort)) / 12, 12);
  });

  it('accepts nested pose arrays and global frames', () => {
    const nested = Array.from({ length: 8 }, (_, i) => [poses[3 * i]!, poses[3 * i + 1]!, poses[3 * i + 2]!]);
    const a = scoreProposals(scene, [{ poses: nested }], { version: 'v1.1', pdmClosedStates: pdm })[0]!;
    expect(a.score).toBeCloseTo(g.expected.metrics.score, 12);
  });

  it('uses configurable weights (EP weight 10)', () => {
    const w = scoreProposals(scene, [{ poses }], { version: 'v1.1', pdmClosedStates: pdm, weights: { progress: 10 } })[0]!;
    const ep = g.expected.metrics.ego_progress;
    expect(w.score).toBeCloseTo((10 * ep + 5 + 2) / 17, 12);
  });

  it('returns states only when asked', () => {
    const a = scoreProposals(scene, [{ poses }], { version: 'v1.1', pdmClosedStates: pdm })[0]!;
    expect(a.states).toBeUndefined();
    const b = scoreProposals(scene, [{ poses }], { version: 'v1.1', pdmClosedStates: pdm, returnStates: true })[0]!;
    expect(b.states).toHaveLength(41 * 11);
    expect(b.egoAreas!.oncomingTraffic).toHaveLength(41);
  });

  it('throws typed errors for bad input', () => {
    expect(() => scoreProposals(scene, new Float64Array(23), { version: 'v1.1', pdmClosedStates: pdm })).toThrow(NavsimInputError);
    const nan = new Float64Array(24).fill(NaN);
    expect(() => scoreProposals(scene, nan, { version: 'v1.1', pdmClosedStates: pdm })).toThrow(/finite/);
    expect(() => scoreProposals(scene, [{ poses }], { version: 'v1.1' })).toThrow(/EP normaliser/);
    expect(() => scoreProposals(scene, [{ poses }], { version: 'v1.1', pdmClosedStates: new Float64Array(11 * 10) })).toThrow(NavsimInputError);
    expect(() => scoreProposals(scene, [{ poses }], { version: 'v1.1', pdmClosedStates: pdm, weights: { ttc: -1 } })).toThrow(/weights.ttc/);
    expect(() => scoreProposals(scene, [{ poses }], { version: 'v3' as never, pdmClosedStates: pdm })).toThrow(/version/);
  });

  it('keeps every score in [0, 1] for random proposals', () => {
    const flat = new Float64Array(32 * 24);
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let i = 0; i < flat.length; i++) flat[i] = i % 3 === 2 ? rnd() * 0.5 : rnd() * 30;
    for (const version of ['v1.1', 'v2.2'] as const) {
      const res = scoreProposals(scene, flat, { version, pdmClosedStates: pdm });
      for (const r of res) {
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect([0, 0.5, 1]).toContain(r.noAtFaultCollisions);
        expect([0, 1]).toContain(r.drivableAreaCompliance);
      }
    }
  });
});

describe('scorer building blocks', () => {
  it('evaluateBatch + aggregateBatch reproduce NAVSIM batch normalisation', () => {
    const { scene, pdm } = load(join(v1dir, 'straight_slow_progress.json'));
    const prep = prepareScene(scene, 'v1.1');
    const { refs, count } = proposalsToReferenceStates(scene, [{ poses: scene.trajectory!.poses }]);
    const sim = simulateProposals(refs, count, prep.initialState);
    const m = evaluateBatch(prep, sim, count);
    const agg = aggregateBatch(m, 'v1.1');
    // a single proposal normalises against itself: EP = 1
    expect(agg.egoProgress[0]).toBe(1);
    const pair = scoreProposals(scene, [{ poses: scene.trajectory!.poses }], { version: 'v1.1', pdmClosedStates: pdm })[0]!;
    expect(pair.egoProgress).toBeLessThan(1);
    expect(m.progressRaw[0]).toBeCloseTo(pair.progressRaw, 12);
  });

  it('v2.2 extended comfort is NaN without a previous frame and uses /14', () => {
    const { g, scene, pdm } = load(join(v2dir, 'v2_hc_smooth_history.json'));
    const r = scoreProposals(scene, [{ poses: scene.trajectory!.poses }], { version: 'v2.2', pdmClosedStates: pdm })[0]!;
    expect(Number.isNaN(r.extendedComfort)).toBe(true);
    expect(r.score).toBeCloseTo(g.expected.metrics.score, 12);
  });
});
