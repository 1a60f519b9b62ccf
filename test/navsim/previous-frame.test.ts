import { describe, expect, it } from 'vitest';
import { cacheEntry, previousPlanStates, scoreCachedScene } from '../../src/navsim/metric-cache.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreScene } from '../../src/navsim/score-scene.js';
import { generateScene, previousFrameScene } from '../../src/navsim/scenegen.js';

// One generated scene for every test (generation + PDM-Closed cost ~0.5 s).
const g = generateScene(20_001);
const scene = parseScene(g.scene, { source: g.name });
const entry = cacheEntry({ scene, seed: 20_001 }, ['v2.2']);
const human = Float64Array.from((g.scene.human_trajectory as { poses: number[][] }).poses.flat());
const prevHuman = Float64Array.from((g.previous.scene.human_trajectory as { poses: number[][] }).poses.flat());

describe('generated scenes carry the previous frame (v2.2 EC)', () => {
  it('the previous frame is the same world 0.5 s earlier: its ego is the -0.5 s history entry, its plan the human one', () => {
    const pf = scene.previousFrame;
    expect(pf?.form).toBe('scene');
    if (pf?.form !== 'scene') return;
    expect(scene.timestampUs - pf.scene.timestampUs).toBe(500_000);
    const h = scene.history![2]!;
    expect([pf.scene.ego.x, pf.scene.ego.y, pf.scene.ego.heading]).toEqual([h.x, h.y, h.heading]);
    expect(pf.scene.map).toBe(scene.map); // inherited, not repeated
    expect(pf.scene.agents.length).toBeGreaterThan(0);
    const p = previousFrameScene(g);
    expect(p.name).toBe(`${g.name}-prev`);
    expect(p.status[4]).toBe(Math.fround(pf.scene.ego.vx));
    expect(Array.from(p.target)).toEqual(Array.from(Float32Array.from(prevHuman)));
  });

  it('EC is defined for the human plan (0 or 1), and the EPDMS includes it', () => {
    const r = scoreScene(scene, [{ poses: human, frame: 'ego' }], { version: 'v2.2' }).proposals[0]!;
    expect([0, 1]).toContain(r.extendedComfort);
    const again = scoreCachedScene(entry, human, 1, { version: 'v2.2' });
    expect(again.metrics.two_frame_extended_comfort![0]).toBe(r.extendedComfort);
    expect(again.score[0]).toBe(r.score);
  });

  it("an agent's own previous plan replaces the logged one: the logged plan gives the default bit for bit, a different one changes EC", () => {
    const byDefault = scoreCachedScene(entry, human, 1, { version: 'v2.2' });
    const same = scoreCachedScene(entry, human, 1, { version: 'v2.2', previousPoses: prevHuman });
    expect(same.score[0]).toBe(byDefault.score[0]);
    expect(same.metrics.two_frame_extended_comfort![0]).toBe(byDefault.metrics.two_frame_extended_comfort![0]);
    // a previous plan that brakes to a stop is not consistent with the current one: EC = 0
    const stop = new Float64Array(24);
    for (let k = 0; k < 8; k++) stop[3 * k] = Math.min(k + 1, 2) * 0.5;
    const braked = scoreCachedScene(entry, human, 1, { version: 'v2.2', previousPoses: stop });
    expect(braked.metrics.two_frame_extended_comfort![0]).toBe(0);
    // v1.1 has no EC: the previous plan is ignored
    const v1 = cacheEntry({ scene, seed: 20_001 }, ['v1.1']);
    expect(scoreCachedScene(v1, human, 1, { version: 'v1.1', previousPoses: stop }).score[0]).toBe(scoreCachedScene(v1, human, 1, { version: 'v1.1' }).score[0]);
    expect(previousPlanStates(scene, stop)?.intervalS).toBeCloseTo(0.5, 12);
    expect(previousPlanStates({ ...scene, previousFrame: null }, stop)).toBeNull();
  });
});
