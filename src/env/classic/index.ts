// Classic control environments ported from gymnasium: small, known-answer examples of the `Env` API.
export { CARTPOLE, CartPoleEnv } from './cartpole.js';
export type { CartPoleOptions, CartPoleState } from './cartpole.js';
export { PENDULUM, PendulumEnv, angleNormalize } from './pendulum.js';
export type { PendulumOptions, PendulumState } from './pendulum.js';
