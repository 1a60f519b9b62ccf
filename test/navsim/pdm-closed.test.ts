/**
 * PDM-Closed and whole-scene golden parity: every v1.1 and v2.2 golden scene is scored through
 * `scoreScene`; where the scene does not pin a PDM-Closed trajectory the planner runs and its
 * 5 s trajectory must match `expected.pdm_closed.trajectory_states_10hz_5s` within 1e-6. The
 * planner is also run on the pinned scenes and compared with their golden output.
 * Golden folders: env DRIVEKIT_PDM_GOLDEN / DRIVEKIT_PDM_V2_GOLDEN (default test/golden/...).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePdmClosedProposals, pdmClosedStates, runPdmClosedOnScene } from '../../src/navsim/pdm-closed.js';
import { pdmClosedInputFromScene } from '../../src/navsim/pdm-closed-input.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { pdmClosedFor, scoreScene } from '../../src/navsim/score-scene.js';
import type { PdmVersion } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const V1 = PDM_V1_DIR;
const V2 = PDM_V2_DIR;

function goldenFiles(dir: string): { file: string; data: any }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, data: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

const EXACT_TOL: Record<string, number> = { ego_progress: 1e-9, score: 1e-9 };

function compareMetrics(expected: Record<string, number | null>, got: Record<string, number | null>): string[] {
  const bad: string[] = [];
  for (const [k, e] of Object.entries(expected)) {
    const g = got[k];
    const ok =
      e === null ? g === null || Number.isNaN(g as number) : typeof g === 'number' && Math.abs(g - e) <= (EXACT_TOL[k] ?? 0);
    if (!ok) bad.push(`${k}: expected ${e}, found ${g}`);
  }
  return bad;
}

function maxStateError(states: Float64Array, gold: number[][]): number {
  let err = 0;
  gold.forEach((row, t) => row.forEach((v, k) => (err = Math.max(err, Math.abs(states[t * 11 + k]! - v)))));
  return err;
}

for (const [label, dir, version] of [['v1.1', V1, 'v1.1'], ['v2.2', V2, 'v2.2']] as const) {
  describe(`PDM-Closed + scoreScene golden (${label}, ${dir})`, () => {
    // parsed once: scoreScene reuses the planner result cached per scene object and version
    const files = goldenFiles(dir).map((g) => ({ ...g, scene: parseScene(g.data, { source: g.file }) }));

    it('has golden scenes', () => {
      expect(files.length).toBeGreaterThan(0);
    });

    it('the planner reproduces trajectory_states_10hz_5s within 1e-6 on every scene', () => {
      const failures: string[] = [];
      let worst = 0;
      for (const { file, data, scene } of files) {
        const r = pdmClosedFor(scene, version as PdmVersion);
        const gold: number[][] = data.expected.pdm_closed.trajectory_states_10hz_5s;
        const states = pdmClosedStates(r);
        expect(states.length).toBe(gold.length * 11);
        const err = maxStateError(states, gold);
        worst = Math.max(worst, err);
        if (!(err <= 1e-6)) failures.push(`${file}: proposal ${r.proposalIndex}, max error ${err}`);
      }
      expect(failures).toEqual([]);
      expect(worst).toBeLessThan(1e-6);
    });

    it('scoreScene matches expected.metrics on every scene (exact; EP and score 1e-9)', () => {
      const failures: string[] = [];
      for (const { file, data, scene } of files) {
        const r = scoreScene(scene, null, { version: version as PdmVersion });
        expect(r.pdmClosed.source).toBe(scene.pdmClosedTrajectory ? 'pinned' : 'planner');
        const bad = compareMetrics(data.expected.metrics, r.metrics[0]!);
        if (bad.length) failures.push(`${file}: ${bad.join('; ')}`);
        // the PDM-Closed row of the [pdm, agent] pair
        const pc = data.expected.pdm_closed;
        if (!(Math.abs(r.pdmClosed.scores.progressRaw - pc.progress_raw_m) <= 1e-9)) failures.push(`${file}: pdm progress_raw ${r.pdmClosed.scores.progressRaw} vs ${pc.progress_raw_m}`);
      }
      expect(failures).toEqual([]);
    });
  });
}

describe('PDM-Closed proposals', () => {
  const data = JSON.parse(fs.readFileSync(path.join(V1, 'lead_brake_follow.json'), 'utf8'));
  const scene = parseScene(data);

  it('unrolls 3 paths x 5 IDM policies; the first IDM step brakes at -decel_max (step-0 leader quirk)', () => {
    const { generator, paths } = generatePdmClosedProposals(pdmClosedInputFromScene(scene));
    expect(paths.length).toBe(3);
    expect(generator.numProposals).toBe(15);
    const v0 = scene.ego.vx;
    for (let p = 0; p < 15; p++) {
      const i = p * 51 * 2;
      // progress advances with the old velocity, velocity drops by 0.1 * 3.0
      expect(generator.idm[i + 2 + 1]).toBeCloseTo(v0 - 0.3, 12);
      expect(generator.idm[i + 2]! - generator.idm[i]!).toBeCloseTo(0.1 * v0, 12);
    }
  });

  it('is deterministic and selects a proposal by score (first maximum)', () => {
    const a = runPdmClosedOnScene(scene, 'v1.1');
    const b = runPdmClosedOnScene(scene, 'v1.1');
    expect(Array.from(a.poses)).toEqual(Array.from(b.poses));
    const max = Math.max(...a.scores);
    expect(a.scores[a.proposalIndex]).toBe(max);
    expect(a.scores.findIndex((s) => s === max)).toBe(a.proposalIndex);
    expect(a.timesUs[50]! - a.timesUs[0]!).toBe(5_000_000);
  });
});
