/**
 * CartPole-v1, ported from gymnasium (`gymnasium/envs/classic_control/cartpole.py`, with the
 * `TimeLimit(max_episode_steps=500)` that `gymnasium.make` adds). A known-answer example of the
 * `Env` API.
 *
 *   state s = (x, x_dot, theta, theta_dot), float64; observation = float32(s)
 *   action 0 pushes the cart left with 10 N, action 1 right (Discrete(2))
 *   reward +1 every step, including the one that terminates
 *   terminated when |x| > 2.4 or |theta| > 12 deg; truncated after 500 steps
 *   reset: every state value uniform in [-0.05, 0.05)
 *
 * Dynamics (Barto, Sutton & Anderson 1983; Florian 2007 for the corrected pole equation), with
 * gymnasium's explicit Euler integrator and tau = 0.02 s:
 *   temp     = (F + m_p l theta_dot^2 sin(theta)) / (m_c + m_p)
 *   theta_acc = (g sin(theta) - cos(theta) temp) / (l (4/3 - m_p cos^2(theta) / (m_c + m_p)))
 *   x_acc    = temp - m_p l theta_acc cos(theta) / (m_c + m_p)
 *   x += tau x_dot; x_dot += tau x_acc; theta += tau theta_dot; theta_dot += tau theta_acc
 * where l = 0.5 is half the pole's length. Stepping after termination gives reward 0 (gymnasium
 * warns); `reset()` is required before the first step.
 */
import { Rng } from '../../core/rng.js';
import { DrivekitError } from '../../core/errors.js';
import { discreteAction, seedStream, type BoxSpaceLike, type DiscreteSpace, type EnvStepResult, type ResetResult } from '../spaces.js';

export interface CartPoleOptions {
  /** Seed of the stream that `reset()` without a seed draws from (default 0). */
  seed?: number;
  /** Time limit in steps (gymnasium registers CartPole-v1 with 500). */
  maxEpisodeSteps?: number;
}

/** gymnasium CartPoleEnv constants. */
export const CARTPOLE = Object.freeze({
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  /** Half the pole's length (m). */
  length: 0.5,
  forceMag: 10.0,
  /** Seconds between state updates. */
  tau: 0.02,
  /** 12 degrees. */
  thetaThresholdRadians: (12 * 2 * Math.PI) / 360,
  xThreshold: 2.4,
  maxEpisodeSteps: 500,
  /** Reset bound: every state value uniform in [-resetBound, resetBound). */
  resetBound: 0.05,
});

export interface CartPoleState {
  state: number[];
  rng: number[];
  elapsedSteps: number;
  stepsBeyondTerminated: number | null;
  needsReset: boolean;
}

const TOTAL_MASS = CARTPOLE.massPole + CARTPOLE.massCart;
const POLEMASS_LENGTH = CARTPOLE.massPole * CARTPOLE.length;

export class CartPoleEnv {
  readonly id = 'CartPole-v1';
  /** Bounds are twice the termination thresholds (and +-inf for the velocities), as gymnasium's. */
  readonly observationSpace: BoxSpaceLike = Object.freeze({
    type: 'Box',
    shape: [4],
    low: Float32Array.from([-CARTPOLE.xThreshold * 2, -Infinity, -CARTPOLE.thetaThresholdRadians * 2, -Infinity]),
    high: Float32Array.from([CARTPOLE.xThreshold * 2, Infinity, CARTPOLE.thetaThresholdRadians * 2, Infinity]),
    dtype: 'float32',
  });
  readonly actionSpace: DiscreteSpace = Object.freeze({ type: 'Discrete', n: 2 });
  readonly maxEpisodeSteps: number;

  /** (x, x_dot, theta, theta_dot) in float64, as gymnasium keeps it. */
  readonly state = new Float64Array(4);
  private rng: Rng;
  private elapsedSteps = 0;
  private stepsBeyondTerminated: number | null = null;
  private needsReset = true;

  constructor(opts: CartPoleOptions = {}) {
    this.rng = seedStream(opts.seed ?? 0);
    this.maxEpisodeSteps = opts.maxEpisodeSteps ?? CARTPOLE.maxEpisodeSteps;
  }

  /** Steps taken in the current episode. */
  get stepsInEpisode(): number {
    return this.elapsedSteps;
  }

  reset(opts: { seed?: number } = {}): ResetResult {
    if (opts.seed !== undefined) this.rng = seedStream(opts.seed);
    const b = CARTPOLE.resetBound;
    for (let i = 0; i < 4; i++) this.state[i] = this.rng.uniform(-b, b);
    this.stepsBeyondTerminated = null;
    this.elapsedSteps = 0;
    this.needsReset = false;
    return { obs: Float32Array.from(this.state), info: {} };
  }

  /** Sets (x, x_dot, theta, theta_dot) directly (known-answer checks); the episode clock restarts. */
  setStateVector(s: ArrayLike<number>): void {
    for (let i = 0; i < 4; i++) this.state[i] = s[i]!;
    this.stepsBeyondTerminated = null;
    this.elapsedSteps = 0;
    this.needsReset = false;
  }

  /** A JSON-serialisable snapshot (state, random stream, clocks) for exact resume. */
  getState(): CartPoleState {
    return { state: Array.from(this.state), rng: this.rng.state(), elapsedSteps: this.elapsedSteps, stepsBeyondTerminated: this.stepsBeyondTerminated, needsReset: this.needsReset };
  }

  /** Restores `getState()`'s snapshot. */
  setState(snapshot: unknown): void {
    const st = snapshot as CartPoleState;
    this.state.set(st.state);
    this.rng = Rng.fromState(st.rng);
    this.elapsedSteps = st.elapsedSteps;
    this.stepsBeyondTerminated = st.stepsBeyondTerminated;
    this.needsReset = st.needsReset;
  }

  step(action: ArrayLike<number> | number): EnvStepResult {
    if (this.needsReset) throw new DrivekitError('CartPole-v1: call reset() before step().', { file: 'CartPole-v1', field: 'step', expected: 'reset() first' });
    const a = discreteAction(action, 2, 'CartPole-v1');
    const s = this.state;
    let x = s[0]!, xDot = s[1]!, theta = s[2]!, thetaDot = s[3]!;
    const force = a === 1 ? CARTPOLE.forceMag : -CARTPOLE.forceMag;
    const cosTheta = Math.cos(theta);
    const sinTheta = Math.sin(theta);
    const temp = (force + POLEMASS_LENGTH * thetaDot * thetaDot * sinTheta) / TOTAL_MASS;
    const thetaAcc = (CARTPOLE.gravity * sinTheta - cosTheta * temp) / (CARTPOLE.length * (4.0 / 3.0 - (CARTPOLE.massPole * cosTheta * cosTheta) / TOTAL_MASS));
    const xAcc = temp - (POLEMASS_LENGTH * thetaAcc * cosTheta) / TOTAL_MASS;
    // kinematics_integrator == "euler"
    x = x + CARTPOLE.tau * xDot;
    xDot = xDot + CARTPOLE.tau * xAcc;
    theta = theta + CARTPOLE.tau * thetaDot;
    thetaDot = thetaDot + CARTPOLE.tau * thetaAcc;
    s[0] = x;
    s[1] = xDot;
    s[2] = theta;
    s[3] = thetaDot;

    const terminated = x < -CARTPOLE.xThreshold || x > CARTPOLE.xThreshold || theta < -CARTPOLE.thetaThresholdRadians || theta > CARTPOLE.thetaThresholdRadians;
    let reward: number;
    if (!terminated) reward = 1.0;
    else if (this.stepsBeyondTerminated === null) {
      // The pole just fell.
      this.stepsBeyondTerminated = 0;
      reward = 1.0;
    } else {
      this.stepsBeyondTerminated += 1;
      reward = 0.0;
    }
    this.elapsedSteps++;
    const truncated = this.elapsedSteps >= this.maxEpisodeSteps;
    return { obs: Float32Array.from(s), reward, terminated, truncated, info: {} };
  }
}
