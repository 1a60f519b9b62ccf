/**
 * The NAVSIM PDM scorer, batched over many proposals of one scene: PDMS v1.1 (NC, DAC, DDC, EP,
 * TTC, C) and EPDMS v2.2 (NC, DAC, DDC, TLC, EP, TTC, LK, HC, EC, human-penalty filter, one-stage
 * aggregation), with configurable weights. The entry of `scorer/`:
 *
 * - `scorer/context.ts`: thresholds, default weights, `prepareScene` (the per-scene context:
 *   observation, drivable map, centre line, history; cached per scene object);
 * - `scorer/metrics.ts`: `evaluateBatch`, one function per metric over a batch of simulated states;
 * - `scorer/aggregate.ts`: `weightedScore` (named arguments), `aggregateBatch`;
 * - `scorer/human-filter.ts`: the v2.2 human-penalty filter on named metrics;
 * - `scorer/proposals.ts`: trajectories to reference states;
 * - `scorer/score.ts`: `scoreProposals` / `scoreProposalsDetailed`;
 * - `scorer/golden-metrics.ts`: metrics under the golden files' key names.
 * PDM-Closed's proposal selection (`selectProposal`) lives beside it, in `pdm-closed-select.ts`.
 *
 * Public API (stable; PDM-Closed and the CLI build on it):
 * - `scoreProposals(scene, proposals, opts)`: every sub-metric and the score per proposal. Each
 *   proposal is scored exactly as NAVSIM scores the pair [PDM-Closed, proposal] (EP normalised
 *   against the PDM-Closed trajectory, from `opts.pdmClosedStates` or the scene's pinned one).
 * - `prepareScene(scene, version)`: the per-scene context, cached per scene object.
 * - Lower-level pieces for planners: `proposalsToReferenceStates`, `simulateProposals`
 *   (simulate.ts), `evaluateBatch(ctx, states, n)` (raw metrics of simulated states against any
 *   observation, e.g. PDM-Closed's constant-velocity forecast) and `aggregateBatch` (NAVSIM's
 *   `_aggregate_scores` over the whole batch, as PDM-Closed uses it to pick its proposal).
 */
export { SCORER_THRESHOLDS, defaultWeights, prepareScene } from './scorer/context.js';
export type { PreparedScene, ScoringContext } from './scorer/context.js';
export { argmaxFirst, egoCoords, evaluateBatch } from './scorer/metrics.js';
export type { BatchMetrics } from './scorer/metrics.js';
export { aggregateBatch, weightedScore } from './scorer/aggregate.js';
export type { WeightedScoreArgs } from './scorer/aggregate.js';
export { applyHumanFilter, humanRun } from './scorer/human-filter.js';
export type { FilteredMetrics } from './scorer/human-filter.js';
export { proposalsToReferenceStates } from './scorer/proposals.js';
export type { Trajectory } from './scorer/proposals.js';
export { previousFrameStates, scoreProposals, scoreProposalsDetailed } from './scorer/score.js';
export type { ScoredProposals, ScoreOptions } from './scorer/score.js';
export { toGoldenMetrics } from './scorer/golden-metrics.js';
export type { EPDMSMetrics, PDMMetricsOf, PDMSMetrics } from './scorer/golden-metrics.js';
export { selectProposal } from './pdm-closed-select.js';

/** @deprecated Names before the acronym casing (IL, PDM, DDIM, PPO, GRPO); they remain as aliases. */
export type { EpdmsMetrics, PdmMetricsOf, PdmsMetrics } from './scorer/golden-metrics.js';
