/**
 * Rewards of the DiffGRPO trainer: the PDM score of each sampled plan (spec §3.3), behind one small
 * interface so the trainer does not care where scoring runs.
 *
 * ```ts
 * type RewardFn = (sceneIds, trajectories, G) => Promise<{ reward, metrics }>;
 * const inProc = inProcessPDMReward(scenesByName, { version: 'v1.1' });   // this thread, sequential
 * const pooled = poolPDMReward(ProposalScorePool.open('cache/', { workers: 2 }), { version: 'v1.1' });
 * const { reward, metrics } = await pooled(['gen_000003', 'gen_000004'], poses, 8); // poses: B·G·8·3
 * ```
 *
 * - `trajectories` is B·G·8·3 (x, y, heading in the ego frame at 0.5 s … 4 s, the planner's
 *   de-normalised output); plans [b·G, (b+1)·G) belong to `sceneIds[b]`.
 * - `reward[i]` is PDMS (v1.1) or EPDMS (v2.2) with the **training** weights (`trainingWeights`:
 *   EP weight 10 instead of NAVSIM's 5, ReCogDrive's `PDMScorerConfig(progress_weight=10)`), or
 *   the weights given; `metrics[name][i]` every sub-metric (golden key names, NaN where undefined).
 * - Both implementations score through `scoreCachedScene` (PDM-Closed computed once per scene,
 *   the prepared scene reused), so they give the same numbers bit for bit. The in-process one
 *   runs on the calling thread: its promise is already settled when it returns, so scoring cannot
 *   overlap sampling. The pool scores in worker threads while the trainer samples.
 * - The reversing guard (ReCogDrive #23) is applied by the trainer, not here (`reversePenalty`).
 */
import { InputError } from '../../core/errors.js';
import { type CachedScene, cacheEntry, METRIC_NAMES, scoreCachedScene } from '../../navsim/metric-cache.js';
import type { ProposalScorePool } from '../../navsim/score-pool.js';
import { defaultWeights } from '../../navsim/scorer.js';
import { resolvePDMWeights } from '../../navsim/weights.js';
import type { PDMScene, PDMVersion, PDMWeights } from '../../navsim/types.js';

export interface RewardResult {
  /** One reward per plan (B·G). */
  reward: Float64Array;
  /** Sub-metrics per plan under NAVSIM's key names (NaN where undefined). */
  metrics: Record<string, Float64Array>;
}

/** Scores B·G plans (`trajectories`: B·G·8·3, ego frame); plans [b·G, (b+1)·G) belong to `sceneIds[b]`. */
export type RewardFn = (sceneIds: readonly string[], trajectories: Float64Array, groupSize: number) => Promise<RewardResult>;

/** ReCogDrive's training EP weight (spec §3.3, `progress_weight=10`; the first code drop used 30). */
export const TRAINING_PROGRESS_WEIGHT = 10;

/**
 * The training weights of a version: NAVSIM's evaluation weights with EP weight 10.
 * v1.1: r = NC·DAC·(10·EP + 5·TTC + 2·C)/17. v2.2: r = NC·DAC·DDC·TLC·(10·EP + 5·TTC + 2·LK + 2·HC)/19,
 * extended comfort (two-frame) left out as ReCogDrive's refactor does for single-frame scoring.
 */
export function trainingWeights(version: PDMVersion, progress = TRAINING_PROGRESS_WEIGHT): PDMWeights {
  const w = { ...defaultWeights(version), progress };
  if (version === 'v2.2') w.extendedComfort = 0;
  return w;
}

export interface PDMRewardOptions {
  /** 'v1.1' (PDMS) or 'v2.2' (EPDMS). */
  version: PDMVersion;
  /** Metric weights (default `trainingWeights(version)`); given fields override it (an unknown key is a `ConfigError`). */
  weights?: Partial<PDMWeights>;
}

/** The reward options of a trainer config (`reward`, `progressWeight`, `metricWeights`): what to pass to `inProcessPDMReward` / `poolPDMReward`. */
export function pdmRewardOptions(c: { reward: 'pdms' | 'epdms'; progressWeight: number; metricWeights: Readonly<Record<string, number>> }): PDMRewardOptions {
  return { version: c.reward === 'epdms' ? 'v2.2' : 'v1.1', weights: { progress: c.progressWeight, ...c.metricWeights } };
}

const POSES = 8;
const PER_PLAN = POSES * 3;

function checkShape(sceneIds: readonly string[], trajectories: Float64Array, G: number): void {
  const want = sceneIds.length * G * PER_PLAN;
  if (!Number.isInteger(G) || G < 1 || trajectories.length !== want) {
    const expected = `${sceneIds.length} scenes x G x ${POSES} x 3 = ${want} values (G = ${G})`;
    throw new InputError(InputError.format({ field: 'trajectories', expected, found: `${trajectories.length} values` }), { field: 'trajectories', expected, found: trajectories.length });
  }
}

function emptyResult(version: PDMVersion, n: number): RewardResult {
  return { reward: new Float64Array(n), metrics: Object.fromEntries(METRIC_NAMES[version].map((m) => [m, new Float64Array(n)])) };
}

/** Copies scene b's G results into the batch arrays. */
function place(out: RewardResult, b: number, G: number, score: Float64Array, metrics: Record<string, Float64Array>): void {
  out.reward.set(score, b * G);
  for (const [name, v] of Object.entries(metrics)) {
    if (!out.metrics[name]) out.metrics[name] = new Float64Array(out.reward.length);
    out.metrics[name]!.set(v, b * G);
  }
}

/**
 * Scores in this thread against scenes looked up by name (`Map` or function). Each scene's cache
 * entry (PDM-Closed, prepared scene) is computed on first use and kept.
 */
export function inProcessPDMReward(scenes: ReadonlyMap<string, PDMScene> | ((id: string) => PDMScene | undefined), options: PDMRewardOptions): RewardFn {
  const version = options.version;
  const weights = resolvePDMWeights(version, { ...trainingWeights(version), ...options.weights });
  const lookup = typeof scenes === 'function' ? scenes : (id: string) => scenes.get(id);
  const entries = new Map<string, CachedScene>();
  const entry = (id: string): CachedScene => {
    let e = entries.get(id);
    if (!e) {
      const scene = lookup(id);
      if (!scene) throw new InputError(InputError.format({ field: 'sceneIds', expected: 'a scene the reward knows', found: id }), { field: 'sceneIds', expected: 'a known scene name', found: id });
      e = cacheEntry({ scene }, [version]);
      entries.set(id, e);
    }
    return e;
  };
  return async (sceneIds, trajectories, G) => {
    checkShape(sceneIds, trajectories, G);
    const out = emptyResult(version, sceneIds.length * G);
    sceneIds.forEach((id, b) => {
      const r = scoreCachedScene(entry(id), trajectories.subarray(b * G * PER_PLAN, (b + 1) * G * PER_PLAN), G, { version, weights });
      place(out, b, G, r.score, r.metrics);
    });
    return out;
  };
}

/** Scores through a `ProposalScorePool` (worker threads keep the cached scenes warm). */
export function poolPDMReward(pool: ProposalScorePool, options: PDMRewardOptions): RewardFn {
  const version = options.version;
  const weights = resolvePDMWeights(version, { ...trainingWeights(version), ...options.weights });
  return async (sceneIds, trajectories, G) => {
    checkShape(sceneIds, trajectories, G);
    // slice(): a message clones a view's whole buffer, so each scene gets its own.
    const items = sceneIds.map((id, b) => ({ scene: id, poses: trajectories.slice(b * G * PER_PLAN, (b + 1) * G * PER_PLAN), count: G }));
    const rs = await pool.scoreBatch(items, { version, weights });
    const out = emptyResult(version, sceneIds.length * G);
    rs.forEach((r, b) => place(out, b, G, r.score, r.metrics));
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMRewardOptions`. */
export type PdmRewardOptions = PDMRewardOptions;
/** @deprecated Renamed `inProcessPDMReward`. */
export const inProcessPdmReward = inProcessPDMReward;
/** @deprecated Renamed `poolPDMReward`. */
export const poolPdmReward = poolPDMReward;
