/**
 * PDM-Closed proposal generation (`proposal/batch_idm_policy.py`, `proposal/pdm_generator.py`):
 * every lateral path is unrolled with a batch of IDM policies (one per speed-limit fraction) at
 * 0.1 s steps; the leading object is searched in the path's driving corridor every second step.
 *
 * Two quirks of the reference are kept on purpose (they change the numbers):
 * - odd steps copy the leader row of the previous step, so step 1 copies the never-filled step-0
 *   row (all zeros): the first IDM update sees a leader at progress 0 and brakes at -decel_max;
 * - within one lateral path a single 3-element leader buffer is reused for all of its proposals
 *   at a step, so a field written for an earlier proposal carries over unless overwritten.
 */
import { ArrayPack } from '../core/array-pack.js';
import { Corridor, type Ring, ringCentroid, ringDistance, egoFootprintRing } from './pdm-closed-geometry.js';
import type { ForecastObservation } from './pdm-closed-observation.js';
import { RED_LIGHT_TOKEN, isAgentType } from './pdm-closed-observation.js';
import { PDMPath } from './pdm-closed-path.js';
import { PACIFICA } from './types.js';

/** IDM parameters of PDM-Closed's metric-caching planner (`pdm_closed_planner.yaml`). */
export interface IdmPolicyConfig {
  /** Target speed when the lane has no speed limit [m/s]. */
  fallbackTargetVelocity: number;
  /** One policy per fraction of the speed limit. */
  speedLimitFractions: number[];
  /** s0 [m]. */
  minGapToLeadAgent: number;
  /** T [s]. */
  headwayTime: number;
  /** a [m/s^2]. */
  accelMax: number;
  /** b [m/s^2] (positive). */
  decelMax: number;
  /** delta (the reference hard-codes 10). */
  accelerationExponent: number;
}

export const DEFAULT_IDM_POLICY: Readonly<IdmPolicyConfig> = Object.freeze({
  fallbackTargetVelocity: 15.0,
  speedLimitFractions: [0.2, 0.4, 0.6, 0.8, 1.0],
  minGapToLeadAgent: 1.0,
  headwayTime: 1.5,
  accelMax: 1.5,
  decelMax: 3.0,
  accelerationExponent: 10,
});

/** Generator settings. */
export interface ProposalGeneratorConfig {
  /** Poses of the proposals (40 at 0.1 s). */
  proposalPoses: number;
  /** Poses of the final trajectory (50 at 0.1 s). */
  trajectoryPoses: number;
  /** Sample interval [s]. */
  sampleInterval: number;
  /** Leader refresh period in steps (2). */
  leadingAgentUpdateRate: number;
}

export const DEFAULT_GENERATOR: Readonly<ProposalGeneratorConfig> = Object.freeze({
  proposalPoses: 40,
  trajectoryPoses: 50,
  sampleInterval: 0.1,
  leadingAgentUpdateRate: 2,
});

let substringScratch = new Float64Array(0);

/**
 * Proposals for P lateral paths x L policies, index = lateral * L + longitudinal. Holds the
 * (x, y, heading) states (T+1 per proposal, T = trajectoryPoses), the IDM (progress, velocity)
 * states and the leader (progress, velocity, rear length) rows, exactly as the reference arrays.
 */
export class ProposalGenerator {
  readonly paths: PDMPath[];
  readonly numLongitudinal: number;
  readonly numProposals: number;
  /** [proposal][time][3]: x, y, heading */
  readonly states: Float64Array;
  /** [proposal][time][2]: progress, velocity */
  readonly idm: Float64Array;
  /** [proposal][time][3]: progress, velocity, rear length */
  readonly leaders: Float64Array;
  readonly targetVelocities: Float64Array;
  private readonly corridors = new Map<number, Corridor>();
  private readonly fixedRings: ReadonlySet<Ring>;
  /** Per lateral path: progress of a fixed ring that is a leader candidate, null when it is none. */
  private readonly fixedProgress: Map<Ring, number | null>[];
  private readonly T: number;
  private readonly idmCfg: IdmPolicyConfig;
  private readonly cfg: ProposalGeneratorConfig;
  private readonly obs: ForecastObservation;
  private readonly collided: Set<string>;

  constructor(
    paths: PDMPath[],
    observation: ForecastObservation,
    speedLimitMps: number | null,
    idm: IdmPolicyConfig = DEFAULT_IDM_POLICY,
    cfg: ProposalGeneratorConfig = DEFAULT_GENERATOR,
  ) {
    this.paths = paths;
    this.obs = observation;
    // rings that are the same object in every forecast frame (see updateLeadingAgents)
    const f0 = observation.frames[0];
    const fl = observation.frames[observation.frames.length - 1];
    this.fixedRings = new Set(f0 && fl && observation.frames.length > 1 ? f0.rings.filter((r, i) => observation.frames.every((f) => f.rings[i] === r)) : []);
    this.fixedProgress = paths.map(() => new Map<Ring, number | null>());
    this.collided = new Set(observation.collidedTrackIds);
    this.idmCfg = idm;
    this.powBounds = ProposalGenerator.powBoundsOf(idm);
    this.cfg = cfg;
    this.numLongitudinal = idm.speedLimitFractions.length;
    this.numProposals = paths.length * this.numLongitudinal;
    this.T = cfg.trajectoryPoses;
    const n = this.numProposals * (this.T + 1);
    // one backing store for the generator's arrays (see ArrayPack)
    const pack = new ArrayPack(ArrayPack.f64Bytes(n * 3 + n * 2 + n * 3 + this.numLongitudinal + 10));
    this.states = pack.f64(n * 3);
    this.idm = pack.f64(n * 2);
    this.leaders = pack.f64(n * 3);
    this.targetVelocities = pack.f64(this.numLongitudinal);
    this.egoRing = pack.f64(10);
    for (let i = 0; i < this.numLongitudinal; i++) {
      // BatchIDMPolicy.update: fractions * speed limit, or fractions * fallback
      this.targetVelocities[i] =
        speedLimitMps !== null && speedLimitMps !== undefined
          ? idm.speedLimitFractions[i]! * speedLimitMps
          : idm.speedLimitFractions[i]! * idm.fallbackTargetVelocity;
    }
  }

  private get maxTargetVelocity(): number {
    let m = -Infinity;
    for (const v of this.targetVelocities) if (v > m || Number.isNaN(v)) m = v;
    return m;
  }

  private si(p: number, t: number): number {
    return (p * (this.T + 1) + t) * 3;
  }

  private ii(p: number, t: number): number {
    return (p * (this.T + 1) + t) * 2;
  }

  /** Unrolls all proposals for `proposalPoses` steps from the rear-axle state (x, y, vx). */
  generate(egoX: number, egoY: number, egoVx: number): void {
    const L = this.numLongitudinal;
    for (let lat = 0; lat < this.paths.length; lat++) {
      const batch: number[] = [];
      for (let k = 0; k < L; k++) batch.push(lat * L + k);
      // _initialize_states
      const path = this.paths[lat]!;
      const progress = path.project(egoX, egoY);
      const s0 = new Float64Array(3);
      path.interpolateInto(progress, s0, 0);
      for (const p of batch) {
        this.idm[this.ii(p, 0)] = progress;
        this.idm[this.ii(p, 0) + 1] = egoVx;
        this.states.set(s0, this.si(p, 0));
      }
      for (let t = 1; t <= this.cfg.proposalPoses; t++) this.step(batch, t);
    }
  }

  /** Extends one proposal to `trajectoryPoses` (`generate_trajectory`). */
  extend(proposal: number): void {
    for (let t = this.cfg.proposalPoses + 1; t <= this.T; t++) this.step([proposal], t);
  }

  /** (x, y, heading) of one proposal at times 0..upTo. */
  poses(proposal: number, upTo = this.T): Float64Array {
    return this.states.slice(this.si(proposal, 0), this.si(proposal, upTo) + 3);
  }

  private step(batch: number[], t: number): void {
    this.updateLeadingAgents(batch, t);
    this.updateIdmStates(batch, t);
    this.updateStatesSe2(batch, t);
  }

  private corridor(proposal: number): Corridor {
    const lat = Math.floor(proposal / this.numLongitudinal);
    let c = this.corridors.get(lat);
    if (!c) {
      const egoDistance = this.idm[this.ii(proposal, 0)]!;
      const trajectoryDistance = egoDistance + Math.abs(this.maxTargetVelocity) * this.T * this.cfg.sampleInterval;
      const path = this.paths[lat]!;
      // the corridor keeps its own arrays: the substring can go through a scratch buffer
      if (substringScratch.length < 2 * path.n) substringScratch = new Float64Array(2 * path.n);
      const ahead = path.substring(egoDistance, trajectoryDistance, substringScratch);
      c = new Corridor(ahead, PACIFICA.width / 2);
      this.corridors.set(lat, c);
    }
    return c;
  }

  // scratch buffers of updateLeadingAgents (no allocation per step)
  private readonly lead = new Float64Array(3);
  private readonly egoRing: Float64Array;
  private candIdx = new Int32Array(16);
  private candProgress = new Float64Array(16);

  private updateLeadingAgents(batch: number[], t: number): void {
    const leaders = this.leaders;
    if (t % this.cfg.leadingAgentUpdateRate !== 0) {
      for (let b = 0; b < batch.length; b++) {
        const dst = (batch[b]! * (this.T + 1) + t) * 3;
        leaders[dst] = leaders[dst - 3]!;
        leaders[dst + 1] = leaders[dst - 2]!;
        leaders[dst + 2] = leaders[dst - 1]!;
      }
      return;
    }
    const lead = this.lead; // one buffer shared across the batch (reference quirk)
    lead[0] = 0;
    lead[1] = 0;
    lead[2] = 0;
    const path = this.paths[Math.floor(batch[0]! / this.numLongitudinal)]!;
    const corridor = this.corridor(batch[0]!);
    const frame = this.obs.at(t);
    const lat = Math.floor(batch[0]! / this.numLongitudinal);
    let nc = 0;
    for (let i = 0; i < frame.tokens.length; i++) {
      // a ring shared by every frame (static objects, red lights) is the same candidate with the
      // same progress at every step of a path: tested and projected once per path
      const ring = frame.rings[i]!;
      const fixed = this.fixedRings.has(ring);
      let progress: number;
      const known = fixed ? this.fixedProgress[lat]!.get(ring) : undefined;
      if (known !== undefined) {
        if (known === null) continue;
        progress = known;
      } else {
        if (!corridor.intersects(ring, frame.boxes[i]) || this.collided.has(frame.tokens[i]!)) {
          if (fixed) this.fixedProgress[lat]!.set(ring, null);
          continue;
        }
        const [cx, cy] = ringCentroid(ring);
        progress = path.project(cx, cy);
        if (fixed) this.fixedProgress[lat]!.set(ring, progress);
      }
      if (nc === this.candIdx.length) {
        const ci = new Int32Array(2 * nc);
        ci.set(this.candIdx);
        this.candIdx = ci;
        const cp = new Float64Array(2 * nc);
        cp.set(this.candProgress);
        this.candProgress = cp;
      }
      this.candIdx[nc] = i;
      this.candProgress[nc] = progress;
      nc++;
    }
    const egoRing = this.egoRing;
    for (const p of batch) {
      const egoProgress = this.idm[this.ii(p, t - 1)]!;
      let best = Infinity;
      let arg = -1;
      let ringReady = false;
      let heading = 0;
      for (let k = 0; k < nc; k++) {
        if (!(this.candProgress[k]! > egoProgress)) continue;
        if (!ringReady) {
          const s = this.si(p, t - 1);
          heading = this.states[s + 2]!;
          egoFootprintRing(this.states[s]!, this.states[s + 1]!, heading, egoRing);
          ringReady = true;
        }
        const d = ringDistance(egoRing, frame.rings[this.candIdx[k]!]!);
        // np.argmin: first minimum; a NaN is the minimum
        if (arg < 0 || d < best || (Number.isNaN(d) && !Number.isNaN(best))) {
          best = d;
          arg = k;
        }
      }
      if (arg >= 0) {
        const nearest = frame.tokens[this.candIdx[arg]!]!;
        lead[0] = egoProgress + best;
        if (!nearest.includes(RED_LIGHT_TOKEN)) lead[1] = this.leadingAgentVelocity(heading, nearest);
      } else {
        lead[0] = this.paths[Math.floor(p / this.numLongitudinal)]!.length;
        lead[2] = PACIFICA.length / 2;
      }
      const dst = (p * (this.T + 1) + t) * 3;
      leaders[dst] = lead[0]!;
      leaders[dst + 1] = lead[1]!;
      leaders[dst + 2] = lead[2]!;
    }
  }

  private leadingAgentVelocity(egoHeading: number, token: string): number {
    const obj = this.obs.uniqueObjects.get(token);
    if (!obj || !isAgentType(obj.type)) return 0.0;
    const rel = Math.atan2(Math.sin(obj.heading - egoHeading), Math.cos(obj.heading - egoHeading));
    // |v| of an object is the same at every call: computed once (Math.hypot is slow in V8)
    let speed = this.speeds.get(token);
    if (speed === undefined) {
      speed = Math.hypot(obj.vx, obj.vy);
      this.speeds.set(token, speed);
    }
    // transform(StateSE2(|v|, 0, 0), R(rel)).x = cos(rel) * |v|
    return Math.cos(rel) * speed;
  }
  private readonly speeds = new Map<string, number>();

  /**
   * Where `a (1 - (v / v0)^delta - ratio²)` clipped to [-b, a] does not depend on the exact power
   * p = pow(u, delta), u = v / v0 (Math.pow is a slow C call in V8), for an even integer delta > 0
   * (p >= 0) and a > 0, b >= 0:
   * - |u| <= powLo: p <= 2^-54, so 1 - p rounds to 1 (ties to even): the value is a (1 - ratio²);
   * - |u| >= powHi: p >= pHi with a (1 - pHi) < -b, and rounding is monotone, so the value is
   *   below -b (ratio² >= 0) and clipped to -b; likewise when a (1 - ratio²) < -b already.
   * Both bounds keep a relative margin of 1e-9 on u (>= 1e-8 on p, far above pow's < 1 ulp error).
   * powNonNegative false (another delta, a or b): powLo = -1, powHi = Infinity, every case computed.
   */
  private readonly powBounds: { powNonNegative: boolean; powLo: number; powHi: number };

  private static powBoundsOf(idm: IdmPolicyConfig): { powNonNegative: boolean; powLo: number; powHi: number } {
    const { accelMax: a, decelMax: b, accelerationExponent: delta } = idm;
    const ok = Number.isInteger(delta) && delta > 0 && delta % 2 === 0 && a > 0 && Number.isFinite(a) && b >= 0 && Number.isFinite(b);
    if (!ok) return { powNonNegative: false, powLo: -1, powHi: Infinity };
    const pHi = 1 + (b / a) * 1.01 + 1e-6;
    const powHi = a * (1 - pHi) < -b ? Math.pow(pHi, 1 / delta) * (1 + 1e-9) : Infinity;
    const powLo = Math.pow(2 ** -54, 1 / delta) * (1 - 1e-9);
    return { powNonNegative: true, powLo, powHi };
  }

  private updateIdmStates(batch: number[], t: number): void {
    const c = this.idmCfg;
    const dt = this.cfg.sampleInterval;
    const s0 = c.minGapToLeadAgent;
    const T = c.headwayTime;
    const a = c.accelMax;
    const b = c.decelMax;
    const delta = c.accelerationExponent;
    const twoSqrtAb = 2 * Math.sqrt(a * b);
    const { powNonNegative, powLo, powHi } = this.powBounds;
    const idm = this.idm;
    const leaders = this.leaders;
    const stride = this.T + 1;
    for (const p of batch) {
      const prev = (p * stride + t - 1) * 2;
      const x = idm[prev]!;
      const v = idm[prev + 1]!;
      const l = (p * stride + t) * 3;
      const xLead = leaders[l]!;
      const vLead = leaders[l + 1]!;
      const lRear = leaders[l + 2]!;
      const target = this.targetVelocities[p % this.numLongitudinal]!;
      // s* = s0 + v T + v (v - v_lead) / (2 sqrt(a b)); s = max(x_lead - x - l_rear, s0)
      const sStar = s0 + v * T + (v * (v - vLead)) / twoSqrtAb;
      const sAlpha = Math.max(xLead - x - lRear, s0);
      const ratio = sStar / sAlpha;
      const u = v / target;
      const r2 = ratio * ratio;
      const au = Math.abs(u);
      let vDot: number;
      // the same value without the slow Math.pow where the power cannot change it (`powBounds`)
      if (au <= powLo) vDot = a * (1 - r2);
      else if (powNonNegative && u === u && r2 === r2 && (au >= powHi || a * (1 - r2) < -b)) vDot = -b;
      else vDot = a * (1 - Math.pow(u, delta) - r2);
      // np.clip(v_dot, -b, a)
      if (vDot < -b) vDot = -b;
      else if (vDot > a) vDot = a;
      idm[prev + 2] = x + dt * v;
      idm[prev + 3] = v + dt * vDot;
    }
  }

  private updateStatesSe2(batch: number[], t: number): void {
    const path = this.paths[Math.floor(batch[0]! / this.numLongitudinal)]!;
    for (const p of batch) path.interpolateInto(this.idm[this.ii(p, t)]!, this.states, this.si(p, t));
  }
}
