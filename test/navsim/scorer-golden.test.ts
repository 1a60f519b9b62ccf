/**
 * Golden parity of the PDM scorer with NAVSIM's Python code (v1.1 PDMS and v2.2 EPDMS), scorer only:
 * the EP normaliser is the expected PDM-Closed trajectory of each golden file.
 * Folders: DRIVEKIT_PDM_GOLDEN / DRIVEKIT_PDM_V2_GOLDEN (default test/golden/pdm_v1, pdm_v2).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreProposalsDetailed, toGoldenMetrics } from '../../src/navsim/scorer.js';
import type { PdmVersion, ProposalScores } from '../../src/navsim/types.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const dirs: [string, PdmVersion][] = [
  [PDM_V1_DIR, 'v1.1'],
  [PDM_V2_DIR, 'v2.2'],
];

function maxAbsDiff(a: Float64Array, b: number[][]): number {
  let m = 0;
  b.flat().forEach((v, i) => {
    m = Math.max(m, Math.abs(v - a[i]!));
  });
  return m;
}

/** Compares one golden file; returns a list of mismatches (empty = pass). */
function check(file: string, version: PdmVersion): string[] {
  const g = JSON.parse(readFileSync(file, 'utf8'));
  const scene = parseScene(g, { source: file });
  const pdm = new Float64Array(g.expected.pdm_closed.trajectory_states_10hz_5s.flat());
  const res = scoreProposalsDetailed(scene, [{ poses: scene.trajectory!.poses, frame: scene.trajectory!.frame }], {
    version,
    returnStates: true,
    pdmClosedStates: pdm,
  });
  const r = res.proposals[0]!;
  const errs: string[] = [];
  const metricCheck = (label: string, exp: Record<string, number | null>, got: Record<string, number | null>): void => {
    for (const k of Object.keys(exp)) {
      const e = exp[k]!;
      const a = got[k];
      if (a === undefined) continue;
      const tol = k === 'ego_progress' || k === 'score' ? 1e-9 : 0; // {0, 0.5, 1} metrics exactly
      const ok = e === null ? a === null : a !== null && Math.abs(e - a) <= tol;
      if (!ok) errs.push(`${label}.${k}: expected ${e}, got ${a}`);
    }
  };
  metricCheck('metrics', g.expected.metrics, toGoldenMetrics(r, version));
  const ev = g.expected.evaluated;
  const areas = (s: ProposalScores, exp: Record<string, number[]>, label: string): void => {
    const got: Record<string, Uint8Array> = {
      multiple_lanes: s.egoAreas!.multipleLanes,
      non_drivable_area: s.egoAreas!.nonDrivableArea,
      oncoming_traffic: s.egoAreas!.oncomingTraffic,
      center_in_intersection: s.egoAreas!.centerInIntersection,
    };
    for (const k of Object.keys(exp)) if (exp[k]!.some((v, i) => Number(v) !== got[k]![i])) errs.push(`${label}.ego_areas.${k}`);
  };
  areas(r, ev.ego_areas, 'evaluated');
  if ((ev.collision_time_idx ?? null) !== r.collisionTimeIdx) errs.push(`collision_time_idx: expected ${ev.collision_time_idx}, got ${r.collisionTimeIdx}`);
  if ((ev.ttc_time_idx ?? null) !== r.ttcTimeIdx) errs.push(`ttc_time_idx: expected ${ev.ttc_time_idx}, got ${r.ttcTimeIdx}`);
  const detail = ev.comfort_detail ?? ev.history_comfort_detail;
  for (const k of Object.keys(detail)) if (detail[k] !== (r.comfortDetail as unknown as Record<string, boolean>)[k]) errs.push(`comfort_detail.${k}`);
  if (Math.abs(ev.progress_raw_m - r.progressRaw) > 1e-9) errs.push(`progress_raw_m: expected ${ev.progress_raw_m}, got ${r.progressRaw}`);
  if (maxAbsDiff(r.referenceStates!, ev.reference_states_10hz) > 1e-6) errs.push('reference_states_10hz');
  if (maxAbsDiff(r.states!, ev.simulated_states_10hz) > 1e-6) errs.push('simulated_states_10hz');
  if (ev.lane_keeping_lateral_deviation_m) {
    ev.lane_keeping_lateral_deviation_m.forEach((d: number | null, i: number) => {
      const a = r.laneKeepingDeviation![i]!;
      if (d === null ? !Number.isNaN(a) : Math.abs(d - a) > 1e-9) errs.push(`lane_keeping_lateral_deviation_m[${i}]`);
    });
  }
  // the PDM-Closed row of the same batch
  const pc = g.expected.pdm_closed;
  metricCheck('pdm_closed.metrics', pc.metrics, toGoldenMetrics(res.pdmClosed, version));
  areas(res.pdmClosed, pc.ego_areas, 'pdm_closed');
  if (maxAbsDiff(res.pdmClosed.referenceStates!, pc.reference_states_10hz) > 1e-6) errs.push('pdm_closed.reference_states_10hz');
  if (maxAbsDiff(res.pdmClosed.states!, pc.simulated_states_10hz) > 1e-6) errs.push('pdm_closed.simulated_states_10hz');
  if (version === 'v2.2') {
    if (Math.abs(g.expected.aggregation.scorer_pdm_score - r.scorerScore) > 1e-9) errs.push('aggregation.scorer_pdm_score');
    if (Math.abs(g.expected.aggregation.multiplicative_metrics_prod - r.multiplicativeProduct) > 0) errs.push('aggregation.multiplicative_metrics_prod');
    const hf = g.expected.human_filter;
    if (hf.applied !== (res.human !== null)) errs.push('human_filter.applied');
    if (hf.applied) {
      if ([...r.forgivenMetrics].sort().join() !== [...hf.forgiven_metrics].sort().join()) errs.push(`human_filter.forgiven_metrics: expected ${hf.forgiven_metrics}, got ${r.forgivenMetrics}`);
      metricCheck('human_filter.metrics', hf.metrics, toGoldenMetrics(res.human!, version));
      if (maxAbsDiff(res.human!.states!, hf.simulated_states_10hz) > 1e-6) errs.push('human_filter.simulated_states_10hz');
    }
    const pf = g.expected.previous_frame;
    if (pf?.ec_detail) {
      const ec = res.extendedComfort[0];
      if (!ec) errs.push('previous_frame: no EC computed');
      else {
        for (const k of ['acceleration', 'jerk', 'yaw_rate', 'yaw_accel'] as const) {
          if (Math.abs(pf.ec_detail.rms[k] - ec.rms[k]) > 1e-9) errs.push(`ec_detail.rms.${k}: expected ${pf.ec_detail.rms[k]}, got ${ec.rms[k]}`);
        }
        if (pf.ec_detail.overlap_start !== ec.overlapStart || pf.ec_detail.n_overlap !== ec.nOverlap) errs.push('ec_detail overlap');
      }
    }
  }
  return errs;
}

for (const [dir, version] of dirs) {
  describe(`PDM scorer golden parity ${version} (${dir})`, () => {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
    it('finds the golden scenes', () => {
      expect(files.length, `no golden files in ${dir}`).toBeGreaterThan(0);
    });
    for (const f of files) {
      it(f, () => {
        expect(check(join(dir, f), version)).toEqual([]);
      });
    }
  });
}
