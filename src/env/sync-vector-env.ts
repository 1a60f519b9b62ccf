/**
 * `SyncVectorEnv`: N copies of any `Env` stepped in lock-step on one thread, with SB3's VecEnv
 * semantics.
 *
 *   const venv = new SyncVectorEnv((i) => makeEnv('CartPole-v1'), 4, { seed: 0 });
 *   let { obs } = venv.reset();                     // obs: Float32Array [n * obsSize]
 *   // (reset(7): env i starts with seed 7 + i; reset([s0, s1, ...]): one seed per env)
 *   const r = venv.step(actions);                   // actions: [n * actDim], or [n] for Discrete
 *   // r.terminated[i] / r.truncated[i]: env i's episode ended; r.obs row i is already the first
 *   // observation of its next episode, r.finalObs[i] the last one of the finished episode.
 *
 * - Seeding: `reset(seed)` (or the constructor's `seed`, used by the first `reset()`) resets env
 *   i with `seed + i` (SB3's `VecEnv.seed`); auto-resets draw from each env's own stream, so the
 *   same seed gives the same episodes.
 * - `episodes[i]` holds the return and length of env i's finished episode (SB3's Monitor
 *   `info["episode"]`), for `rollout/ep_rew_mean`.
 * - `resetOptions(i)` (optional) gives the options of env i's auto-resets (e.g. a curriculum's seeds).
 */
import { DrivekitError, InputError } from '../core/errors.js';
import { discreteAction, flatDim, type Env, type Space } from './spaces.js';

export interface SyncVectorEnvOptions {
  /** Seed of the first `reset()`: env i gets `seed + i`. Without it, envs start from their own streams. */
  seed?: number;
  /** Options for the automatic reset of env i (called each time its episode ends). */
  resetOptions?: (envIndex: number) => { seed?: number } | undefined;
}

/** Return and length of a finished episode (SB3 Monitor's `info["episode"]` r and l). */
export interface EpisodeStats {
  return: number;
  length: number;
}

export interface SyncVectorStepResult {
  /** n * obsSize observations, after auto-reset for finished envs (a fresh copy). */
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Step infos (for finished envs, the info of the episode's last step). */
  infos: Record<string, unknown>[];
  /** For envs whose episode ended this step: its last observation (`terminal_observation`); else null. */
  finalObs: (Float32Array | null)[];
  /** For envs whose episode ended this step: its return and length; else null. */
  episodes: (EpisodeStats | null)[];
}

/** An env that can snapshot and restore itself exactly (the classic envs can). */
interface SnapshotEnv {
  getState(): unknown;
  setState(state: unknown): void;
}

export interface SyncVectorEnvState {
  envs: unknown[];
  returns: number[];
  lengths: number[];
  obs: number[];
  started: boolean;
}

function sameSpace(a: Space, b: Space): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'Discrete') return a.n === (b as { n: number }).n;
  const bs = (b as { shape: readonly number[] }).shape;
  return a.shape.length === bs.length && a.shape.every((d, i) => d === bs[i]);
}

export class SyncVectorEnv {
  readonly envs: Env[];
  readonly numEnvs: number;
  /** Values per observation row. */
  readonly obsSize: number;
  /** Values per action row (1 for Discrete). */
  readonly actDim: number;
  private readonly buf: Float32Array;
  private readonly returns: Float64Array;
  private readonly lengths: Int32Array;
  private readonly scratch: number[];
  private pendingSeed: number | undefined;
  private readonly resetOptions: ((envIndex: number) => { seed?: number } | undefined) | undefined;
  private started = false;

  /** `factory(i)` builds env i; all envs must have the same spaces. */
  constructor(factory: (envIndex: number) => Env, numEnvs: number, options: SyncVectorEnvOptions = {}) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) {
      throw new DrivekitError(DrivekitError.format({ field: 'numEnvs', expected: 'an integer >= 1', found: numEnvs }), { field: 'numEnvs', expected: 'an integer >= 1', found: numEnvs });
    }
    this.envs = [];
    for (let i = 0; i < numEnvs; i++) this.envs.push(factory(i));
    const first = this.envs[0]!;
    if (first.observationSpace.type !== 'Box') {
      throw new DrivekitError(DrivekitError.format({ field: 'observationSpace', expected: 'a Box', found: first.observationSpace.type }), { field: 'observationSpace', expected: 'Box', found: first.observationSpace.type });
    }
    for (let i = 1; i < numEnvs; i++) {
      const e = this.envs[i]!;
      for (const key of ['observationSpace', 'actionSpace'] as const) {
        if (!sameSpace(first[key], e[key])) {
          const field = `envs[${i}].${key}`;
          throw new DrivekitError(DrivekitError.format({ field, expected: first[key], found: e[key] }), { field, expected: first[key], found: e[key] });
        }
      }
    }
    this.numEnvs = numEnvs;
    this.obsSize = flatDim(first.observationSpace);
    this.actDim = flatDim(first.actionSpace);
    this.buf = new Float32Array(numEnvs * this.obsSize);
    this.returns = new Float64Array(numEnvs);
    this.lengths = new Int32Array(numEnvs);
    this.scratch = new Array<number>(this.actDim).fill(0);
    this.pendingSeed = options.seed;
    this.resetOptions = options.resetOptions;
  }

  /** The space of one env's observation (SB3's `VecEnv.observation_space`). */
  get observationSpace(): Space {
    return this.envs[0]!.observationSpace;
  }
  /** The space of one env's action. */
  get actionSpace(): Space {
    return this.envs[0]!.actionSpace;
  }

  /**
   * Resets every env. `seeds` (a number: env i gets seeds + i; or one seed per env) makes the
   * episodes a function of the seed; without it the constructor's seed is used once, then each
   * env's own stream. (Same call shape as the driving env's `VectorEnv.reset(seeds)`.)
   */
  reset(seeds?: number | readonly number[]): { obs: Float32Array; infos: Record<string, unknown>[] } {
    const seed = seeds ?? this.pendingSeed;
    this.pendingSeed = undefined;
    if (typeof seed !== 'number' && seed !== undefined && seed.length !== this.numEnvs) {
      throw new InputError(InputError.format({ field: 'seeds', expected: `${this.numEnvs} seeds`, found: `${seed.length} seeds` }), { field: 'seeds', expected: this.numEnvs, found: seed.length });
    }
    const infos: Record<string, unknown>[] = [];
    for (let i = 0; i < this.numEnvs; i++) {
      const s = seed === undefined ? undefined : typeof seed === 'number' ? seed + i : seed[i]!;
      const r = this.envs[i]!.reset(s === undefined ? {} : { seed: s });
      this.writeObs(i, r.obs);
      infos.push(r.info);
    }
    this.returns.fill(0);
    this.lengths.fill(0);
    this.started = true;
    return { obs: this.buf.slice(), infos };
  }

  /**
   * A JSON-serialisable snapshot (each env's `getState()`, the running episode returns and
   * lengths, the current observations) for bit-identical resume; null when an env has no
   * `getState`/`setState` (e.g. `DrivingEnv`).
   */
  getState(): SyncVectorEnvState | null {
    const envs: unknown[] = [];
    for (const e of this.envs) {
      const s = e as Partial<SnapshotEnv>;
      if (typeof s.getState !== 'function' || typeof s.setState !== 'function') return null;
      envs.push(s.getState());
    }
    return { envs, returns: Array.from(this.returns), lengths: Array.from(this.lengths), obs: Array.from(this.buf), started: this.started };
  }

  /** Restores `getState()`'s snapshot. */
  setState(state: unknown): void {
    const st = state as SyncVectorEnvState | null;
    if (st === null || typeof st !== 'object' || !Array.isArray(st.envs) || st.envs.length !== this.numEnvs) {
      const found = st === null ? null : Array.isArray(st?.envs) ? `${st.envs.length} env states` : typeof st;
      throw new InputError(InputError.format({ field: 'SyncVectorEnv state', expected: `a getState() snapshot of ${this.numEnvs} envs`, found }), { field: 'SyncVectorEnv state', expected: this.numEnvs, found });
    }
    this.envs.forEach((e, i) => {
      const s = e as Partial<SnapshotEnv>;
      if (typeof s.setState !== 'function') throw new DrivekitError(`SyncVectorEnv.setState: env ${i} has no setState().`, { field: `envs[${i}]`, expected: 'an env with setState()' });
      s.setState(st.envs[i]);
    });
    this.returns.set(st.returns);
    this.lengths.set(st.lengths);
    this.buf.set(st.obs);
    this.started = st.started;
    this.pendingSeed = undefined;
  }

  /** Steps every env: actions [n * actDim] (row i = env i), or [n] integers for Discrete. */
  step(actions: ArrayLike<number>): SyncVectorStepResult {
    if (!this.started) throw new DrivekitError('SyncVectorEnv: call reset() before step().', { field: 'step', expected: 'reset() first' });
    const n = this.numEnvs, d = this.actDim;
    if (actions.length !== n * d) {
      const expected = this.actionSpace.type === 'Discrete' ? `${n} actions (one per env)` : `${n * d} action values (${n} envs x ${d})`;
      throw new InputError(InputError.format({ field: 'actions', expected, found: `${actions.length} values` }), { field: 'actions', expected: n * d, found: actions.length });
    }
    const discrete = this.actionSpace.type === 'Discrete';
    const rewards = new Float32Array(n);
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const infos: Record<string, unknown>[] = new Array(n);
    const finalObs: (Float32Array | null)[] = new Array(n).fill(null);
    const episodes: (EpisodeStats | null)[] = new Array(n).fill(null);
    const a = this.scratch;
    for (let i = 0; i < n; i++) {
      const env = this.envs[i]!;
      let r;
      if (discrete) r = env.step(discreteAction(actions[i]!, (this.actionSpace as { n: number }).n, `SyncVectorEnv env ${i}`));
      else {
        for (let k = 0; k < d; k++) a[k] = actions[i * d + k]!;
        r = env.step(a);
      }
      rewards[i] = r.reward;
      terminated[i] = r.terminated ? 1 : 0;
      truncated[i] = r.truncated ? 1 : 0;
      infos[i] = r.info;
      this.returns[i] += r.reward;
      this.lengths[i]++;
      if (r.terminated || r.truncated) {
        finalObs[i] = r.obs;
        episodes[i] = { return: this.returns[i]!, length: this.lengths[i]! };
        this.returns[i] = 0;
        this.lengths[i] = 0;
        const next = env.reset(this.resetOptions?.(i) ?? {});
        this.writeObs(i, next.obs);
      } else {
        this.writeObs(i, r.obs);
      }
    }
    return { obs: this.buf.slice(), rewards, terminated, truncated, infos, finalObs, episodes };
  }

  private writeObs(i: number, obs: Float32Array): void {
    if (obs.length !== this.obsSize) {
      const field = `envs[${i}] observation`;
      throw new InputError(InputError.format({ field, expected: `${this.obsSize} values`, found: `${obs.length} values` }), { field, expected: this.obsSize, found: obs.length });
    }
    this.buf.set(obs, i * this.obsSize);
  }
}
