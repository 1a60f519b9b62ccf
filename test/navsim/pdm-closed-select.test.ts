/**
 * PDM-Closed's pruned proposal choice (`selectProposal`, the default) against the exhaustive
 * scoring (`exhaustiveScores: true`, i.e. `evaluateBatch` + `aggregateBatch` + np.argmax): same
 * proposal and trajectory on every golden scene and on generated scenes, in both versions; fully
 * scored proposals carry the exhaustive score bit for bit, skipped ones (-Infinity) could not
 * have been chosen. Other weights (DDC weighted, negative) and non-finite states are covered too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PDM_CLOSED, generatePdmClosedProposals, runPdmClosedOnScene, simulatePdmProposals } from '../../src/navsim/pdm-closed.js';
import { pdmClosedInputFromScene } from '../../src/navsim/pdm-closed-input.js';
import { forecastToScorerObservation } from '../../src/navsim/pdm-closed-observation.js';
import { generateScene } from '../../src/navsim/scenegen.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { aggregateBatch, argmaxFirst, defaultWeights, evaluateBatch, prepareScene, selectProposal } from '../../src/navsim/scorer.js';
import type { PdmScene, PdmVersion, PdmWeights } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const V1 = PDM_V1_DIR;
const V2 = PDM_V2_DIR;
const EXHAUSTIVE = { ...DEFAULT_PDM_CLOSED, exhaustiveScores: true };

function scenes(): { name: string; scene: PdmScene }[] {
  const out: { name: string; scene: PdmScene }[] = [];
  for (const dir of [V1, V2]) {
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      out.push({ name: f, scene: parseScene(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) });
    }
  }
  for (let seed = 0; seed < 40; seed++) out.push({ name: `generated ${seed}`, scene: parseScene(generateScene(seed).scene) });
  return out;
}

/** The PDM-Closed scoring context and simulated proposals of a scene. */
function closedBatch(scene: PdmScene, version: PdmVersion) {
  const input = pdmClosedInputFromScene(scene);
  const { generator, observation } = generatePdmClosedProposals(input);
  const N = generator.numProposals;
  const P = DEFAULT_PDM_CLOSED.proposalPoses;
  const reference = new Float64Array(N * (P + 1) * 3);
  for (let p = 0; p < N; p++) reference.set(generator.poses(p, P), p * (P + 1) * 3);
  const states = simulatePdmProposals(reference, N, input);
  const prep = prepareScene(scene, version);
  const ctx = { version, observation: forecastToScorerObservation(observation), map: prep.map, centerline: prep.centerline, history: null };
  return { ctx, states, n: N };
}

describe('PDM-Closed proposal choice without the proposals that cannot win', () => {
  const all = scenes();

  for (const version of ['v1.1', 'v2.2'] as const) {
    it(`${version}: same choice, trajectory and scores as the exhaustive scoring on ${all.length} scenes`, () => {
      const failures: string[] = [];
      let skipped = 0;
      let total = 0;
      for (const { name, scene } of all) {
        const fast = runPdmClosedOnScene(scene, version);
        const full = runPdmClosedOnScene(scene, version, EXHAUSTIVE);
        if (fast.proposalIndex !== full.proposalIndex) failures.push(`${name}: index ${fast.proposalIndex} vs ${full.proposalIndex}`);
        if (!fast.poses.every((v, i) => Object.is(v, full.poses[i]))) failures.push(`${name}: poses differ`);
        const chosen = full.scores[full.proposalIndex]!;
        for (let p = 0; p < full.scores.length; p++) {
          total++;
          const f = fast.scores[p]!;
          const e = full.scores[p]!;
          if (f === -Infinity) {
            skipped++;
            if (!(e < chosen || (e === chosen && p > full.proposalIndex))) failures.push(`${name}: skipped proposal ${p} (score ${e}) could win over ${chosen}`);
          } else if (!Object.is(f, e)) {
            failures.push(`${name}: proposal ${p} score ${f} vs ${e}`);
          }
        }
      }
      expect(failures).toEqual([]);
      // the pruning does happen (most proposals cannot win)
      expect(skipped).toBeGreaterThan(total / 3);
    });
  }

  it('matches evaluateBatch + aggregateBatch + argmax with other weights, and falls back on non-finite states', () => {
    const weightSets: Partial<PdmWeights>[] = [{ drivingDirection: 3 }, { progress: 10 }, { comfort: 0, ttc: 1 }, { progress: -1 }];
    const failures: string[] = [];
    for (const { name, scene } of all.slice(0, 30)) {
      for (const version of ['v1.1', 'v2.2'] as const) {
        const { ctx, states, n } = closedBatch(scene, version);
        for (const ws of weightSets) {
          const w = { ...defaultWeights(version), ...ws };
          const exp = aggregateBatch(evaluateBatch(ctx, states, n, { comfortFirstFail: true }), version, w).scores;
          const got = selectProposal(ctx, states, n, { weights: w });
          if (got.index !== argmaxFirst(exp)) failures.push(`${name} ${version} ${JSON.stringify(ws)}: ${got.index} vs ${argmaxFirst(exp)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // a NaN state: the full path (np.argmax semantics with NaN scores)
    const { ctx, states, n } = closedBatch(all[0]!.scene, 'v1.1');
    const bad = states.slice();
    bad[3 * 11 + 5] = NaN;
    const exp = aggregateBatch(evaluateBatch(ctx, bad, n, { comfortFirstFail: true }), 'v1.1').scores;
    const got = selectProposal(ctx, bad, n);
    expect(got.index).toBe(argmaxFirst(exp));
    expect(Array.from(got.scores)).toEqual(Array.from(exp));
  });
});
