/**
 * The environment API every drivekit learner is written against: gymnasium's, in TypeScript.
 *
 *   const env = makeEnv('CartPole-v1', { seed: 0 });
 *   let { obs } = env.reset({ seed: 42 });          // same seed, same episode
 *   const r = env.step(1);                          // {obs, reward, terminated, truncated, info}
 *   if (r.terminated || r.truncated) ({ obs } = env.reset());
 *
 * - `Space` is a `Box` (float32 vectors; bounds scalar or per element) or a `Discrete(n)` (actions
 *   0..n-1). Observations are always a flat `Float32Array` of `flatDim(observationSpace)` values.
 * - `terminated` means the MDP reached a terminal state (no bootstrapping); `truncated` means the
 *   episode was cut by a time limit (learners bootstrap from the last observation, as SB3 does).
 * - `DrivingEnv` (env.ts) satisfies `Env` structurally; so do the classic control examples in
 *   `classic/` (CartPole-v1, Pendulum-v1), which `makeEnv` builds by id.
 */
import { ConfigError, InputError, nearest } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { CartPoleEnv } from './classic/cartpole.js';
import { PendulumEnv } from './classic/pendulum.js';

export type BoxSpaceLike = {
  readonly type: 'Box';
  readonly shape: readonly number[];
  /** Lower bound: one value for every element, or one per element (row-major). */
  readonly low: number | Float32Array;
  /** Upper bound: one value for every element, or one per element (row-major). */
  readonly high: number | Float32Array;
  readonly dtype: 'float32';
};

export type DiscreteSpace = { readonly type: 'Discrete'; readonly n: number };

export type Space = BoxSpaceLike | DiscreteSpace;

export interface ResetResult {
  obs: Float32Array;
  info: Record<string, unknown>;
}

export interface EnvStepResult {
  obs: Float32Array;
  reward: number;
  /** A terminal state of the MDP was reached (learners do not bootstrap). */
  terminated: boolean;
  /** The episode was cut by a time limit (learners bootstrap from `obs`). */
  truncated: boolean;
  info: Record<string, unknown>;
}

/** A gymnasium-shaped environment. */
export interface Env {
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  /** Starts an episode; with `seed`, the episode is a function of the seed alone. */
  reset(opts?: { seed?: number }): ResetResult;
  /** Box actions as an array of `flatDim(actionSpace)` values; Discrete actions as an integer. */
  step(action: ArrayLike<number> | number): EnvStepResult;
}

/** Ids accepted by `makeEnv`. */
export type ClassicEnvId = 'CartPole-v1' | 'Pendulum-v1';
export const CLASSIC_ENV_IDS: readonly ClassicEnvId[] = ['CartPole-v1', 'Pendulum-v1'];

export interface MakeEnvOptions {
  /** Seed of the stream that `reset()` without a seed draws from (default 0). */
  seed?: number;
}

/** Builds a known-answer environment by gymnasium id (with its TimeLimit: 500 and 200 steps). */
export function makeEnv(id: ClassicEnvId, opts: MakeEnvOptions = {}): Env {
  switch (id) {
    case 'CartPole-v1':
      return new CartPoleEnv(opts);
    case 'Pendulum-v1':
      return new PendulumEnv(opts);
    default: {
      const found: unknown = id;
      const guess = typeof found === 'string' ? nearest(found, CLASSIC_ENV_IDS) : undefined;
      throw new ConfigError(
        ConfigError.format({ field: 'env id', expected: `one of ${CLASSIC_ENV_IDS.join(', ')}`, found }, guess ? `Did you mean '${guess}'?` : undefined),
        { field: 'env id', expected: CLASSIC_ENV_IDS, found },
      );
    }
  }
}

/** Number of values in one observation or action: prod(shape) for a Box, 1 for Discrete. */
export function flatDim(space: Space): number {
  return space.type === 'Discrete' ? 1 : space.shape.reduce((a, b) => a * b, 1);
}

/** Bound `i` of a Box (scalar bounds apply to every element). */
export function boxBound(bound: number | Float32Array, i: number): number {
  return typeof bound === 'number' ? bound : bound[i]!;
}

/**
 * Clips `action` into the Box bounds, writing `out` (SB3 clips sampled actions only when sending
 * them to the env; the buffer keeps the unclipped ones).
 */
export function clipToBox(space: BoxSpaceLike, action: ArrayLike<number>, out: Float32Array | number[] = new Float32Array(action.length)): Float32Array | number[] {
  for (let i = 0; i < action.length; i++) {
    const lo = boxBound(space.low, i), hi = boxBound(space.high, i);
    const a = action[i]!;
    out[i] = a < lo ? lo : a > hi ? hi : a;
  }
  return out;
}

/**
 * Reads a Box action of `dim` values from `number | ArrayLike<number>` (a scalar is accepted for
 * dim 1) and checks it is finite; `who` names the env in the error.
 */
export function boxAction(action: ArrayLike<number> | number, dim: number, who: string): ArrayLike<number> {
  const a: ArrayLike<number> = typeof action === 'number' ? [action] : action;
  if (a.length !== dim) {
    throw new InputError(InputError.format({ file: who, field: 'action', expected: `${dim} value(s)`, found: `${a.length} value(s)` }), {
      file: who,
      field: 'action',
      expected: dim,
      found: a.length,
    });
  }
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(a[i]!)) {
      const field = `action[${i}]`;
      throw new InputError(InputError.format({ file: who, field, expected: 'a finite number', found: a[i] }), { file: who, field, expected: 'a finite number', found: a[i] });
    }
  }
  return a;
}

/** Reads a Discrete action (an integer in [0, n), or a one-element array holding one). */
export function discreteAction(action: ArrayLike<number> | number, n: number, who: string): number {
  const a = typeof action === 'number' ? action : action.length === 1 ? action[0]! : NaN;
  if (!Number.isInteger(a) || a < 0 || a >= n) {
    const found = typeof action === 'number' ? action : Array.from(action);
    throw new InputError(InputError.format({ file: who, field: 'action', expected: `an integer in [0, ${n})`, found }), {
      file: who,
      field: 'action',
      expected: `an integer in [0, ${n})`,
      found,
    });
  }
  return a;
}

/**
 * The random stream of an env seeded with `seed`. `new Rng(seed)` alone is a poor choice here: its
 * first draws are nearly equal for nearby seeds (xoroshiro128+ started from a small state; e.g. the
 * first `uint32()` is 2^32 - 1 - seed), so reset states of seeds 0, 1, 2, ... would be alike. The
 * seed is hashed (murmur3's fmix32) and the stream jumped 2^64 draws ahead before use.
 */
export function seedStream(seed: number): Rng {
  let h = seed | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return new Rng(h).jump();
}
