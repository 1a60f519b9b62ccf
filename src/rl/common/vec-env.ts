/**
 * What the on-policy learners need from a vectorised environment: N environments stepped in
 * lock-step, with SB3 VecEnv semantics (finished environments reset inside `step`; the last
 * observation of a finished episode is in `finalObs[i]`; `terminated` and `truncated` kept
 * apart). `env/VectorEnv` (the driving env) and `env/SyncVectorEnv` (any gymnasium-shaped env)
 * both satisfy it structurally.
 */

/** A Box or Discrete space, gymnasium style (scalar or per-dimension bounds). */
export type SpaceLike =
  | { readonly type: 'Box'; readonly shape: readonly number[]; readonly low: number | ArrayLike<number>; readonly high: number | ArrayLike<number> }
  | { readonly type: 'Discrete'; readonly n: number };

export interface VecStepLike {
  obs: Float32Array;
  rewards: ArrayLike<number>;
  terminated: ArrayLike<number | boolean>;
  truncated: ArrayLike<number | boolean>;
  finalObs: (Float32Array | null)[];
  infos?: readonly unknown[];
}

export interface VecEnvLike {
  readonly numEnvs: number;
  readonly observationSpace: SpaceLike;
  readonly actionSpace: SpaceLike;
  reset(): { obs: Float32Array };
  step(actions: Float32Array): VecStepLike;
  /** Optional: a JSON-serialisable snapshot of every env (exact resume of a run). */
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** Flat observation width of a space. */
export function spaceWidth(space: SpaceLike): number {
  if (space.type === 'Discrete') return 1;
  return space.shape.reduce((a, b) => a * b, 1);
}

/** Per-dimension bounds of a Box space as arrays of `dim` values. */
export function boxBounds(space: SpaceLike, dim: number): { low: Float64Array; high: Float64Array } {
  const low = new Float64Array(dim).fill(-Infinity);
  const high = new Float64Array(dim).fill(Infinity);
  if (space.type === 'Box') {
    for (let j = 0; j < dim; j++) {
      low[j] = typeof space.low === 'number' ? space.low : space.low[j]!;
      high[j] = typeof space.high === 'number' ? space.high : space.high[j]!;
    }
  }
  return { low, high };
}
