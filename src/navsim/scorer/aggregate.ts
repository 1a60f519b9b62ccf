/**
 * Aggregation of the sub-metrics into the PDM score, as NAVSIM's `PDMScorer._aggregate_scores`:
 * the multiplicative metrics times the weighted average of the weighted ones, with EP normalised
 * by the batch's best progress.
 */
import type { PDMVersion, PDMWeights } from '../types.js';
import { SCORER_THRESHOLDS, defaultWeights } from './context.js';
import type { BatchMetrics } from './metrics.js';

/** Product of the multiplicative metrics of proposal i: NC · DAC (v1.1), NC · DAC · DDC · TLC (v2.2). */
export function multiplicative(m: BatchMetrics, i: number, v2: boolean): number {
  let prod = m.noAtFaultCollisions[i]! * m.drivableAreaCompliance[i]!;
  if (v2) prod = prod * m.drivingDirectionCompliance[i]! * m.trafficLightCompliance[i]!;
  return prod;
}

/** EP of a proposal with raw progress `raw` and multiplicative product `mult`, against the normaliser `norm`. */
export function normalisedProgress(raw: number, mult: number, norm: number, v2: boolean): number {
  if (v2) {
    if (norm > SCORER_THRESHOLDS.progressDistance) return Math.min(1, Math.max(0, raw / norm));
    return 1;
  }
  if (norm > SCORER_THRESHOLDS.progressDistance) return (raw * mult) / norm;
  return mult === 0 ? 0 : 1;
}

/** The weighted metrics of one proposal, by name (`weightedScore`). */
export interface WeightedScoreArgs {
  version: PDMVersion;
  weights: PDMWeights;
  /** Normalised ego progress. */
  egoProgress: number;
  timeToCollisionWithinBound: number;
  /** v1.1 comfort (read in v1.1 only). */
  comfort: number;
  /** DDC as a weighted metric (v1.1; weight 0 by default). */
  drivingDirectionCompliance: number;
  /** v2.2 only. */
  laneKeeping: number;
  /** v2.2 only. */
  historyComfort: number;
  /** v2.2 extended comfort: included (with its weight) only when given and finite. */
  extendedComfort?: number;
}

/** Weighted average of the weighted metrics. */
export function weightedScore(a: WeightedScoreArgs): number {
  const w = a.weights;
  const ttc = a.timeToCollisionWithinBound;
  if (a.version === 'v1.1') {
    const num = a.egoProgress * w.progress + ttc * w.ttc + a.comfort * w.comfort + a.drivingDirectionCompliance * w.drivingDirection;
    return num / (w.progress + w.ttc + w.comfort + w.drivingDirection);
  }
  let num = a.egoProgress * w.progress + ttc * w.ttc + a.laneKeeping * w.laneKeeping + a.historyComfort * w.historyComfort;
  let den = w.progress + w.ttc + w.laneKeeping + w.historyComfort;
  const ec = a.extendedComfort;
  if (ec !== undefined && Number.isFinite(ec)) {
    num += ec * w.extendedComfort;
    den += w.extendedComfort;
  }
  return num / den;
}

/** `weightedScore` of proposal i of a batch, with its EP (no extended comfort). */
export function weightedScoreOf(m: BatchMetrics, i: number, version: PDMVersion, weights: PDMWeights, egoProgress: number): number {
  return weightedScore({
    version,
    weights,
    egoProgress,
    timeToCollisionWithinBound: m.timeToCollisionWithinBound[i]!,
    comfort: m.comfort[i]!,
    drivingDirectionCompliance: m.drivingDirectionCompliance[i]!,
    laneKeeping: m.laneKeeping[i]!,
    historyComfort: m.historyComfort[i]!,
  });
}

/**
 * NAVSIM `PDMScorer._aggregate_scores` over a whole batch (EP normalised by the batch maximum),
 * as PDM-Closed uses it. v2.2 leaves EC out (and HC is whatever `evaluateBatch` computed).
 * Returns the scores and the normalised EP per proposal.
 */
export function aggregateBatch(m: BatchMetrics, version: PDMVersion, weights: PDMWeights = defaultWeights(version)): { scores: Float64Array; egoProgress: Float64Array } {
  const v2 = version === 'v2.2';
  const n = m.n;
  const mult = new Float64Array(n);
  let maxRaw = -Infinity;
  for (let i = 0; i < n; i++) {
    mult[i] = multiplicative(m, i, v2);
    maxRaw = Math.max(maxRaw, m.progressRaw[i]! * mult[i]!);
  }
  const ep = new Float64Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ep[i] = normalisedProgress(m.progressRaw[i]!, mult[i]!, maxRaw, v2);
    scores[i] = mult[i]! * weightedScoreOf(m, i, version, weights, ep[i]!);
  }
  return { scores, egoProgress: ep };
}
