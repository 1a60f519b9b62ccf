/**
 * PDM-Closed's proposal selection: the proposal NAVSIM's scorer ranks first among PDM-Closed's
 * candidates (`aggregateBatch` + np.argmax), computing only what that choice depends on. Its one
 * user is `pdm-closed.ts`; the metrics are the scorer's (`scorer/metrics.ts`).
 */
import { ArrayPack } from '../core/array-pack.js';
import { allComfortable } from './comfort.js';
import { aggregateBatch, multiplicative, normalisedProgress, weightedScoreOf } from './scorer/aggregate.js';
import { defaultWeights, type ScoringContext } from './scorer/context.js';
import {
  argmaxFirst,
  beginBatch,
  centreFlags,
  comfortOf,
  drivingDirectionOf,
  emptyBatchMetrics,
  evaluateBatch,
  laneKeepingOf,
  noAtFaultCollisionsOf,
  progressRawOf,
  stateNonDrivable,
  timeToCollisionOf,
  trafficLightOf,
} from './scorer/metrics.js';
import { NUM_STATES, STATE_SIZE, type PDMWeights } from './types.js';

/**
 * The proposal `aggregateBatch` ranks first (np.argmax of its scores), computing only what that
 * choice depends on, as PDM-Closed needs it:
 * - every proposal: DAC (stopping at the first non-drivable state), then NC, DDC and TLC only where
 *   DAC = 1, and the raw progress only where the multiplicative metrics are non-zero, which fixes
 *   the EP normaliser and every EP;
 * - then, in order of the upper bound of the score (TTC, comfort and LK taken as 1), TTC, comfort
 *   and LK only for proposals whose bound can still reach the best exact score so far.
 * `scores` holds the exact aggregated score of every proposal that was fully scored, 0 for those
 * with a zero multiplicative metric, and -Infinity for those skipped because they could not be
 * chosen; the index is the one `aggregateBatch` + np.argmax give. States with a non-finite value,
 * or negative weights, fall back to the full `evaluateBatch` + `aggregateBatch`.
 */
export function selectProposal(
  ctx: ScoringContext,
  states: Float64Array,
  n: number,
  opts: { numStates?: number; weights?: PDMWeights } = {},
): { index: number; scores: Float64Array } {
  const numStates = opts.numStates ?? NUM_STATES;
  const version = ctx.version;
  const v2 = version === 'v2.2';
  const w = opts.weights ?? defaultWeights(version);
  const count = n * numStates;
  let finite = true;
  for (let k = 0, end = count * STATE_SIZE; k < end; k++) {
    if (!Number.isFinite(states[k]!)) {
      finite = false;
      break;
    }
  }
  const weightsOk = Object.values(w).every((x) => x >= 0);
  if (!finite || !weightsOk || n === 0) {
    const m = evaluateBatch(ctx, states, n, { numStates, comfortFirstFail: true });
    const scores = aggregateBatch(m, version, w).scores;
    return { index: argmaxFirst(scores), scores };
  }
  const env = beginBatch(ctx, states, count, numStates);
  const ws = env.ws;
  const map = ctx.map;
  ws.ensureCand(map.size + 1);
  const { coords, nonDrivable, oncoming, centerInInter, multipleLanes, axleInInter } = ws;
  const needCentre = v2 || w.drivingDirection !== 0;
  // the metrics and per-proposal temporaries stay internal (only `scores` is returned): one
  // backing store for all of them (see ArrayPack)
  const m = emptyBatchMetrics(n, numStates, true);
  const pack = new ArrayPack(ArrayPack.f64Bytes(3 * n + numStates));
  const mult = pack.f64(n);
  const scratch = pack.f64(numStates);
  let norm = -Infinity;
  for (let p = 0; p < n; p++) {
    const base = p * numStates;
    let dac = 1;
    for (let i = base; i < base + numStates; i++) {
      multipleLanes[i] = 0;
      axleInInter[i] = 0;
      const nd = stateNonDrivable(ws, map, coords, i);
      nonDrivable[i] = nd ? 1 : 0;
      if (nd) {
        dac = 0; // the score is 0 whatever else holds: nothing more of this proposal is read
        break;
      }
    }
    m.drivableAreaCompliance[p] = dac;
    m.drivingDirectionCompliance[p] = 1;
    m.trafficLightCompliance[p] = 1;
    let prod = 0;
    if (dac === 1) {
      if (needCentre) {
        for (let i = base; i < base + numStates; i++) {
          const f = centreFlags(map, coords, i, v2);
          oncoming[i] = f & 1 ? 0 : 1;
          centerInInter[i] = f & 2 ? 1 : 0;
        }
        m.drivingDirectionCompliance[p] = drivingDirectionOf(env, p, scratch);
      }
      m.noAtFaultCollisions[p] = noAtFaultCollisionsOf(env, p, m.collisionTimeIdx);
      prod = multiplicative(m, p, false);
      if (v2 && prod !== 0) {
        m.trafficLightCompliance[p] = trafficLightOf(env, p);
        prod = multiplicative(m, p, true);
      }
      if (prod !== 0) m.progressRaw[p] = progressRawOf(env, p);
    }
    mult[p] = prod;
    norm = Math.max(norm, m.progressRaw[p]! * prod);
  }
  // upper bounds: TTC, comfort / history comfort and LK at 1
  const ep = pack.f64(n);
  const bound = pack.f64(n);
  const order: number[] = [];
  m.timeToCollisionWithinBound.fill(1);
  m.comfort.fill(1);
  m.historyComfort.fill(1);
  m.laneKeeping.fill(1);
  for (let p = 0; p < n; p++) {
    ep[p] = normalisedProgress(m.progressRaw[p]!, mult[p]!, norm, v2);
    bound[p] = mult[p]! * weightedScoreOf(m, p, version, w, ep[p]!);
    if (mult[p]! !== 0) order.push(p);
  }
  order.sort((a, b) => bound[b]! - bound[a]! || a - b);
  const scores = new Float64Array(n); // 0 for a zero multiplicative metric
  let best = -1;
  let bestScore = -Infinity;
  for (const p of order) {
    const ub = bound[p]!;
    if (best >= 0 && (ub < bestScore || (ub === bestScore && p > best))) {
      scores[p] = -Infinity;
      continue;
    }
    m.timeToCollisionWithinBound[p] = timeToCollisionOf(env, p, m.ttcTimeIdx);
    const comfortable = allComfortable(comfortOf(env, p, ctx.history, true)) ? 1 : 0;
    if (v2) m.historyComfort[p] = comfortable;
    else m.comfort[p] = comfortable;
    if (v2) m.laneKeeping[p] = laneKeepingOf(env, p, null);
    const s = mult[p]! * weightedScoreOf(m, p, version, w, ep[p]!);
    scores[p] = s;
    if (best < 0 || s > bestScore || (s === bestScore && p < best)) {
      best = p;
      bestScore = s;
    }
  }
  return { index: argmaxFirst(scores), scores };
}
