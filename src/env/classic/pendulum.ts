/**
 * Pendulum-v1, ported from gymnasium (`gymnasium/envs/classic_control/pendulum.py`, with the
 * `TimeLimit(max_episode_steps=200)` that `gymnasium.make` adds). A known-answer example of the
 * `Env` API with a continuous action.
 *
 *   state (theta, theta_dot), float64, theta = 0 upright; observation float32 [cos theta, sin theta, theta_dot]
 *   action: torque u in Box(-2, 2, (1,)); clipped to [-2, 2] before use
 *   reward = -(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2), from the state before the step
 *   never terminates; truncated after 200 steps
 *   reset: theta uniform in [-pi, pi), theta_dot uniform in [-1, 1)
 *
 * Dynamics (semi-implicit Euler, dt = 0.05, g = 10, m = l = 1):
 *   theta_dot' = clip(theta_dot + (3 g / (2 l) sin(theta) + 3 / (m l^2) u) dt, -8, 8)
 *   theta'     = theta + theta_dot' dt
 */
import { DrivekitError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { boxAction, seedStream, type BoxSpaceLike, type EnvStepResult, type ResetResult } from '../spaces.js';

export interface PendulumOptions {
  /** Seed of the stream that `reset()` without a seed draws from (default 0). */
  seed?: number;
  /** Gravity (m/s^2); gymnasium's `g` argument (default 10.0). */
  g?: number;
  /** Time limit in steps (gymnasium registers Pendulum-v1 with 200). */
  maxEpisodeSteps?: number;
}

/** gymnasium PendulumEnv constants. */
export const PENDULUM = Object.freeze({
  maxSpeed: 8,
  maxTorque: 2.0,
  dt: 0.05,
  g: 10.0,
  m: 1.0,
  l: 1.0,
  maxEpisodeSteps: 200,
  /** Reset bounds: theta in [-pi, pi), theta_dot in [-1, 1). */
  resetTheta: Math.PI,
  resetThetaDot: 1.0,
});

export interface PendulumState {
  state: number[];
  rng: number[];
  elapsedSteps: number;
  lastU: number | null;
  needsReset: boolean;
}

/** Wraps an angle into [-pi, pi), as gymnasium's `((x + pi) % (2 pi)) - pi` (Python's modulo is non-negative). */
export function angleNormalize(x: number): number {
  const twoPi = 2 * Math.PI;
  const r = (x + Math.PI) % twoPi;
  return (r < 0 ? r + twoPi : r) - Math.PI;
}

export class PendulumEnv {
  readonly id = 'Pendulum-v1';
  readonly observationSpace: BoxSpaceLike = Object.freeze({
    type: 'Box',
    shape: [3],
    low: Float32Array.from([-1, -1, -PENDULUM.maxSpeed]),
    high: Float32Array.from([1, 1, PENDULUM.maxSpeed]),
    dtype: 'float32',
  });
  readonly actionSpace: BoxSpaceLike = Object.freeze({ type: 'Box', shape: [1], low: -PENDULUM.maxTorque, high: PENDULUM.maxTorque, dtype: 'float32' });
  readonly maxEpisodeSteps: number;
  readonly g: number;

  /** (theta, theta_dot) in float64. */
  readonly state = new Float64Array(2);
  /** The clipped torque of the last step (null after reset), as gymnasium's `last_u`. */
  lastU: number | null = null;
  private rng: Rng;
  private elapsedSteps = 0;
  private needsReset = true;

  constructor(opts: PendulumOptions = {}) {
    this.rng = seedStream(opts.seed ?? 0);
    this.g = opts.g ?? PENDULUM.g;
    this.maxEpisodeSteps = opts.maxEpisodeSteps ?? PENDULUM.maxEpisodeSteps;
  }

  /** Steps taken in the current episode. */
  get stepsInEpisode(): number {
    return this.elapsedSteps;
  }

  reset(opts: { seed?: number } = {}): ResetResult {
    if (opts.seed !== undefined) this.rng = seedStream(opts.seed);
    this.state[0] = this.rng.uniform(-PENDULUM.resetTheta, PENDULUM.resetTheta);
    this.state[1] = this.rng.uniform(-PENDULUM.resetThetaDot, PENDULUM.resetThetaDot);
    this.lastU = null;
    this.elapsedSteps = 0;
    this.needsReset = false;
    return { obs: this.observation(), info: {} };
  }

  /** Sets (theta, theta_dot) directly (known-answer checks); the episode clock restarts. */
  setStateVector(s: ArrayLike<number>): void {
    this.state[0] = s[0]!;
    this.state[1] = s[1]!;
    this.lastU = null;
    this.elapsedSteps = 0;
    this.needsReset = false;
  }

  /** A JSON-serialisable snapshot (state, random stream, clock) for exact resume. */
  getState(): PendulumState {
    return { state: Array.from(this.state), rng: this.rng.state(), elapsedSteps: this.elapsedSteps, lastU: this.lastU, needsReset: this.needsReset };
  }

  /** Restores `getState()`'s snapshot. */
  setState(snapshot: unknown): void {
    const st = snapshot as PendulumState;
    this.state.set(st.state);
    this.rng = Rng.fromState(st.rng);
    this.elapsedSteps = st.elapsedSteps;
    this.lastU = st.lastU;
    this.needsReset = st.needsReset;
  }

  step(action: ArrayLike<number> | number): EnvStepResult {
    if (this.needsReset) throw new DrivekitError('Pendulum-v1: call reset() before step().', { file: 'Pendulum-v1', field: 'step', expected: 'reset() first' });
    const a = boxAction(action, 1, 'Pendulum-v1');
    const th = this.state[0]!, thDot = this.state[1]!;
    const { m, l, dt, maxTorque, maxSpeed } = PENDULUM;
    const g = this.g;
    const u = Math.min(maxTorque, Math.max(-maxTorque, a[0]!));
    this.lastU = u;
    const an = angleNormalize(th);
    const costs = an * an + 0.1 * thDot * thDot + 0.001 * (u * u);
    let newThDot = thDot + ((3 * g) / (2 * l) * Math.sin(th) + (3.0 / (m * l * l)) * u) * dt;
    newThDot = Math.min(maxSpeed, Math.max(-maxSpeed, newThDot));
    const newTh = th + newThDot * dt;
    this.state[0] = newTh;
    this.state[1] = newThDot;
    this.elapsedSteps++;
    const truncated = this.elapsedSteps >= this.maxEpisodeSteps;
    return { obs: this.observation(), reward: -costs, terminated: false, truncated, info: {} };
  }

  private observation(): Float32Array {
    const th = this.state[0]!;
    return Float32Array.from([Math.cos(th), Math.sin(th), this.state[1]!]);
  }
}
