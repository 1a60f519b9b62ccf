/**
 * `scoreProposals`: many trajectories of one scene, each scored exactly as NAVSIM's `pdm_score`
 * scores the pair [PDM-Closed, trajectory]: simulate, evaluate (`metrics.ts`), normalise EP
 * against the PDM-Closed row, apply the v2.2 human filter and extended comfort, aggregate.
 */
import { extendedComfort, type ExtendedComfortResult } from '../comfort.js';
import { initialStateArray, referenceStatesFromPoses, referenceStatesFromStateTrajectory } from '../interpolate.js';
import { simulateProposals } from '../simulate.js';
import { NUM_STATES, NavsimInputError, STATE_SIZE, type PDMScene, type PDMVersion, type PDMWeights, type ProposalScores } from '../types.js';
import { multiplicative, normalisedProgress, weightedScore, weightedScoreOf } from './aggregate.js';
import { defaultWeights, prepareScene, type PreparedScene } from './context.js';
import { applyHumanFilter, humanFilterValues, humanRun, type FilteredMetrics } from './human-filter.js';
import { evaluateBatch, type BatchMetrics } from './metrics.js';
import { proposalsToReferenceStates, type Trajectory } from './proposals.js';

export interface ScoreOptions {
  version: PDMVersion;
  weights?: Partial<PDMWeights>;
  /** Attach simulated / reference states, ego areas and LK deviations to each result. */
  returnStates?: boolean;
  /**
   * EP normaliser: the PDM-Closed trajectory as cached states (n x 11 at 0.1 s from t0, n >= 41),
   * e.g. `runPDMClosed(scene)`. Defaults to the scene's pinned `pdm_closed_trajectory`.
   */
  pdmClosedStates?: Float64Array;
  /** For a flat Float64Array of proposals: poses per proposal (default 8) and spacing (0.5 s). */
  posesPerProposal?: number;
  intervalS?: number;
  /** v2.2: apply the human-penalty filter for original frames (default true). */
  humanFilter?: boolean;
  /** v2.2: previous frame's simulated states for EC (41 x 11) and its time offset (s). */
  previous?: { states: Float64Array; intervalS: number } | null;
}

function pdmRow(prep: PreparedScene, pdmStates: Float64Array) {
  const c = prep.cache.pdm;
  if (c && c.key === pdmStates) return c;
  if (pdmStates.length < NUM_STATES * STATE_SIZE || pdmStates.length % STATE_SIZE !== 0) {
    throw new NavsimInputError(
      `scene ${JSON.stringify(prep.scene.name)}: pdmClosedStates: expected n x 11 values with n >= 41, found ${pdmStates.length}`,
      prep.scene.name,
      'pdmClosedStates',
    );
  }
  for (let i = 0; i < pdmStates.length; i++) {
    if (!Number.isFinite(pdmStates[i]!)) throw new NavsimInputError(`scene ${JSON.stringify(prep.scene.name)}: pdmClosedStates[${i}]: expected a finite number, found ${pdmStates[i]}`, prep.scene.name, 'pdmClosedStates');
  }
  const reference = referenceStatesFromStateTrajectory(pdmStates, prep.scene.timestampUs);
  const states = simulateProposals(reference, 1, prep.initialState);
  // ego areas / LK deviations of this row are evaluated only when asked (`rowDetails`)
  const result = evaluateBatch(prep, states, 1);
  const entry = { key: pdmStates, result, states, reference };
  prep.cache.pdm = entry;
  return entry;
}

/** Ego areas and LK deviations of a cached single-row run (evaluated once, on first request). */
function rowDetails(prep: PreparedScene, row: { states: Float64Array | null; details?: BatchMetrics }, history: Float64Array | null | undefined): BatchMetrics {
  if (!row.details) row.details = evaluateBatch(prep, row.states!, 1, { keepDetails: true, history });
  return row.details;
}

/** Simulated states of the previous frame's plan and the frame interval (v2.2 EC), or null. */
export function previousFrameStates(prep: PreparedScene): { states: Float64Array; intervalS: number } | null {
  if (prep.cache.previous !== undefined) return prep.cache.previous;
  const scene = prep.scene;
  const pf = scene.previousFrame;
  let res: { states: Float64Array; intervalS: number } | null = null;
  if (pf) {
    let ts: number;
    let states: Float64Array;
    if (pf.form === 'states') {
      ts = pf.timestampUs;
      states = pf.simulatedStates.subarray(0, NUM_STATES * STATE_SIZE);
    } else {
      const ego = pf.form === 'scene' ? pf.scene.ego : pf.ego;
      const traj = pf.form === 'scene' ? pf.scene.trajectory! : pf.trajectory;
      ts = pf.form === 'scene' ? pf.scene.timestampUs : pf.timestampUs;
      const refs = referenceStatesFromPoses(ego, ts, traj.poses, traj.poses.length / 3, traj.frame, traj.intervalS);
      states = simulateProposals(refs, 1, initialStateArray(ego));
    }
    const intervalS = scene.timestampUs * 1e-6 - ts * 1e-6;
    // one-stage aggregation: adjacent only if the previous frame is at most 0.55 s earlier
    if (intervalS > 0 && intervalS <= 0.55) res = { states, intervalS };
  }
  prep.cache.previous = res;
  return res;
}

/** Result of `scoreProposals` for one proposal plus per-scene extras. */
export interface ScoredProposals {
  proposals: ProposalScores[];
  /** The PDM-Closed row (EP normaliser) as scored in the same batch. */
  pdmClosed: ProposalScores;
  /** v2.2: the human-filter run, if applied. */
  human: ProposalScores | null;
  /** v2.2: extended comfort details per proposal (null without a previous frame). */
  extendedComfort: (ExtendedComfortResult | null)[];
}

/**
 * Scores many trajectories of one scene. Each proposal gets exactly the values NAVSIM's
 * `pdm_score` gives it when scored together with the PDM-Closed trajectory.
 */
export function scoreProposals(
  sceneOrPrepared: PDMScene | PreparedScene,
  proposals: readonly Trajectory[] | Float64Array,
  opts: ScoreOptions,
): ProposalScores[] {
  return scoreProposalsDetailed(sceneOrPrepared, proposals, opts).proposals;
}

/** `scoreProposals` with the PDM-Closed row, the human run and EC details. */
export function scoreProposalsDetailed(
  sceneOrPrepared: PDMScene | PreparedScene,
  proposals: readonly Trajectory[] | Float64Array,
  opts: ScoreOptions,
): ScoredProposals {
  const version = opts.version;
  if (version !== 'v1.1' && version !== 'v2.2') throw new NavsimInputError(`version: expected "v1.1" or "v2.2", found ${String(version)}`, undefined, 'version');
  const prep = 'observation' in sceneOrPrepared ? sceneOrPrepared : prepareScene(sceneOrPrepared, version);
  if (prep.version !== version) throw new NavsimInputError(`prepared scene is for ${prep.version}, not ${version}`, prep.scene.name, 'version');
  const scene = prep.scene;
  const weights = { ...defaultWeights(version), ...(opts.weights ?? {}) };
  for (const [k, v] of Object.entries(weights)) {
    if (!(Number.isFinite(v) && v >= 0)) throw new NavsimInputError(`weights.${k}: expected a finite number >= 0, found ${v}`, scene.name, `weights.${k}`);
  }
  const v2 = version === 'v2.2';
  const pdmStates = opts.pdmClosedStates ?? scene.pdmClosedTrajectory;
  if (!pdmStates) {
    throw new NavsimInputError(
      `scene ${JSON.stringify(scene.name)}: no EP normaliser: the scene pins no pdm_closed_trajectory; pass pdmClosedStates (e.g. from runPDMClosed)`,
      scene.name,
      'pdm_closed_trajectory',
    );
  }
  const pdm = pdmRow(prep, pdmStates);
  const { refs, count } = proposalsToReferenceStates(scene, proposals, opts);
  const states = simulateProposals(refs, count, prep.initialState);
  const m = evaluateBatch(prep, states, count, { keepDetails: opts.returnStates === true });
  const pm = pdm.result;
  const pdmMult = multiplicative(pm, 0, v2);
  const pdmR = pm.progressRaw[0]! * pdmMult;

  const human = v2 && opts.humanFilter !== false ? humanRun(prep).result : null;
  const humanValues = human ? humanFilterValues(human) : null;
  const previous = v2 ? (opts.previous !== undefined ? opts.previous : previousFrameStates(prep)) : null;

  const results: ProposalScores[] = [];
  const ecDetails: (ExtendedComfortResult | null)[] = [];
  for (let i = 0; i < count; i++) {
    const mult = multiplicative(m, i, v2);
    const norm = Math.max(pdmR, m.progressRaw[i]! * mult);
    const ep = normalisedProgress(m.progressRaw[i]!, mult, norm, v2);
    const r = baseScores(m, i, ep, mult, version, weights);
    if (v2) {
      // scorer's own pdm_score (no EC, before the human filter)
      r.scorerScore = mult * weightedScoreOf(m, i, version, weights, ep);
      const own: FilteredMetrics = {
        noAtFaultCollisions: m.noAtFaultCollisions[i]!,
        drivableAreaCompliance: m.drivableAreaCompliance[i]!,
        drivingDirectionCompliance: m.drivingDirectionCompliance[i]!,
        trafficLightCompliance: m.trafficLightCompliance[i]!,
        egoProgress: ep,
        timeToCollisionWithinBound: m.timeToCollisionWithinBound[i]!,
        laneKeeping: m.laneKeeping[i]!,
        historyComfort: m.historyComfort[i]!,
      };
      const f = humanValues ? applyHumanFilter(own, humanValues, r.forgivenMetrics) : own;
      let ec = NaN;
      let ecd: ExtendedComfortResult | null = null;
      if (previous) {
        ecd = extendedComfort(states, i * NUM_STATES * STATE_SIZE, previous.states, 0, NUM_STATES, previous.intervalS);
        ec = ecd.value;
      }
      ecDetails.push(ecd);
      const multF = f.noAtFaultCollisions * f.drivableAreaCompliance * f.drivingDirectionCompliance * f.trafficLightCompliance;
      Object.assign(r, f); // the eight filtered metrics
      r.extendedComfort = ec;
      r.multiplicativeProduct = multF;
      r.score =
        multF *
        weightedScore({
          version,
          weights,
          egoProgress: f.egoProgress,
          timeToCollisionWithinBound: f.timeToCollisionWithinBound,
          comfort: m.comfort[i]!,
          drivingDirectionCompliance: m.drivingDirectionCompliance[i]!,
          laneKeeping: f.laneKeeping,
          historyComfort: f.historyComfort,
          extendedComfort: ec,
        });
    } else {
      ecDetails.push(null);
    }
    if (opts.returnStates) {
      r.states = states.slice(i * NUM_STATES * STATE_SIZE, (i + 1) * NUM_STATES * STATE_SIZE);
      r.referenceStates = refs.slice(i * NUM_STATES * STATE_SIZE, (i + 1) * NUM_STATES * STATE_SIZE);
      r.egoAreas = m.egoAreas![i];
      if (v2) r.laneKeepingDeviation = m.laneKeepingDeviation![i];
    }
    results.push(r);
  }

  // the PDM-Closed row as NAVSIM reports it (normalised within the [pdm, first proposal] pair)
  const firstR = count > 0 ? m.progressRaw[0]! * multiplicative(m, 0, v2) : -Infinity;
  const pdmEp = normalisedProgress(pm.progressRaw[0]!, pdmMult, Math.max(pdmR, firstR), v2);
  const pdmScores = baseScores(pm, 0, pdmEp, pdmMult, version, weights);
  if (v2) pdmScores.scorerScore = pdmScores.score;
  pdmScores.states = pdm.states;
  pdmScores.referenceStates = pdm.reference;
  if (opts.returnStates) {
    const d = rowDetails(prep, pdm, undefined);
    pdmScores.egoAreas = d.egoAreas![0];
    if (v2) pdmScores.laneKeepingDeviation = d.laneKeepingDeviation![0];
  }

  let humanScores: ProposalScores | null = null;
  if (human) {
    const hr = humanRun(prep);
    const hMult = multiplicative(human, 0, true);
    const hEp = normalisedProgress(human.progressRaw[0]!, hMult, human.progressRaw[0]! * hMult, true);
    humanScores = baseScores(human, 0, hEp, hMult, version, weights);
    humanScores.scorerScore = humanScores.score;
    humanScores.states = hr.states!;
    humanScores.referenceStates = hr.reference!;
    if (opts.returnStates) {
      const d = rowDetails(prep, hr, null);
      humanScores.egoAreas = d.egoAreas![0];
      humanScores.laneKeepingDeviation = d.laneKeepingDeviation![0];
    }
  }
  return { proposals: results, pdmClosed: pdmScores, human: humanScores, extendedComfort: ecDetails };
}

function baseScores(m: BatchMetrics, i: number, ep: number, mult: number, version: PDMVersion, weights: PDMWeights): ProposalScores {
  const v2 = version === 'v2.2';
  const score = mult * weightedScoreOf(m, i, version, weights, ep);
  return {
    noAtFaultCollisions: m.noAtFaultCollisions[i]!,
    drivableAreaCompliance: m.drivableAreaCompliance[i]!,
    drivingDirectionCompliance: m.drivingDirectionCompliance[i]!,
    trafficLightCompliance: v2 ? m.trafficLightCompliance[i]! : NaN,
    egoProgress: ep,
    timeToCollisionWithinBound: m.timeToCollisionWithinBound[i]!,
    comfort: v2 ? NaN : m.comfort[i]!,
    laneKeeping: v2 ? m.laneKeeping[i]! : NaN,
    historyComfort: v2 ? m.historyComfort[i]! : NaN,
    extendedComfort: NaN,
    score,
    multiplicativeProduct: mult,
    progressRaw: m.progressRaw[i]!,
    collisionTimeIdx: Number.isFinite(m.collisionTimeIdx[i]!) ? m.collisionTimeIdx[i]! : null,
    ttcTimeIdx: Number.isFinite(m.ttcTimeIdx[i]!) ? m.ttcTimeIdx[i]! : null,
    comfortDetail: m.comfortDetail[i]!,
    scorerScore: v2 ? score : NaN,
    forgivenMetrics: [],
  };
}
