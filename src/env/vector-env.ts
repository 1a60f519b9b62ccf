/**
 * N environments stepped together (synchronously, one thread) with batched observations:
 * `obs` is one Float32Array of N * obsSize. Finished environments are reset automatically
 * (SB3 VecEnv semantics): the observation returned for them is the first one of the new
 * episode, and the last observation of the finished episode is kept in `finalObs[i]`.
 */
import type { EnvConfigInput } from './config.js';
import { DrivingEnv, type DrivingEnvOptions, type ResetInfo, type StepInfo } from './env.js';

export interface VectorEnvOptions extends DrivingEnvOptions {
  /** Reset finished environments inside step() (default true). */
  autoReset?: boolean;
}

export interface VectorStepResult {
  /** `[N, obsSize]` observations, flat row-major (after auto-reset for finished envs). */
  obs: Float32Array;
  /** `[N]` rewards. */
  rewards: Float32Array;
  /** `[N]`, 1 where env i's episode terminated this step, else 0. */
  terminated: Uint8Array;
  /** `[N]`, 1 where env i's episode hit the time limit this step, else 0. */
  truncated: Uint8Array;
  infos: StepInfo[];
  /** For envs whose episode ended this step: the episode's last observation; else null. */
  finalObs: (Float32Array | null)[];
}

export class VectorEnv {
  readonly envs: DrivingEnv[];
  readonly numEnvs: number;
  readonly obsSize: number;
  private readonly autoReset: boolean;
  private readonly obs: Float32Array;

  /** Env i draws its reset() seeds from a stream seeded with `options.seed + i`. */
  constructor(numEnvs: number, config: EnvConfigInput = {}, options: VectorEnvOptions = {}) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new Error(`VectorEnv: numEnvs must be an integer >= 1, found ${numEnvs}.`);
    const base = options.seed ?? 0;
    this.envs = [];
    for (let i = 0; i < numEnvs; i++) this.envs.push(new DrivingEnv(config, { ...options, seed: base + i }));
    this.numEnvs = numEnvs;
    this.obsSize = this.envs[0]!.obsSize;
    this.autoReset = options.autoReset ?? true;
    this.obs = new Float32Array(numEnvs * this.obsSize);
  }

  /** Sets the traffic density used by every env's next reset (curricula). */
  setTrafficDensity(d: number): void {
    for (const e of this.envs) e.trafficDensity = d;
  }

  get observationSpace() {
    return this.envs[0]!.observationSpace;
  }
  get actionSpace() {
    return this.envs[0]!.actionSpace;
  }

  /** Resets every env (env i with seeds[i] when given). Returns a copy of the batched obs. */
  reset(seeds?: readonly number[]): { obs: Float32Array; infos: ResetInfo[] } {
    if (seeds !== undefined && seeds.length !== this.numEnvs) {
      throw new Error(`VectorEnv.reset: expected ${this.numEnvs} seeds, found ${seeds.length}.`);
    }
    const infos = this.envs.map((e, i) => e.resetInto(this.obs, i * this.obsSize, seeds ? { seed: seeds[i]! } : {}));
    return { obs: this.obs.slice(), infos };
  }

  /** Steps every env with actions [N * 2] (row i = env i). */
  step(actions: ArrayLike<number>): VectorStepResult {
    const n = this.numEnvs;
    if (actions.length !== 2 * n) throw new Error(`VectorEnv.step: expected ${2 * n} action values (${n} envs x 2), found ${actions.length}.`);
    const rewards = new Float32Array(n);
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const infos: StepInfo[] = new Array(n);
    const finalObs: (Float32Array | null)[] = new Array(n).fill(null);
    const a = [0, 0];
    for (let i = 0; i < n; i++) {
      a[0] = actions[2 * i]!;
      a[1] = actions[2 * i + 1]!;
      const off = i * this.obsSize;
      const r = this.envs[i]!.stepInto(a, this.obs, off);
      rewards[i] = r.reward;
      terminated[i] = r.terminated ? 1 : 0;
      truncated[i] = r.truncated ? 1 : 0;
      infos[i] = r.info;
      if ((r.terminated || r.truncated) && this.autoReset) {
        finalObs[i] = this.obs.slice(off, off + this.obsSize);
        this.envs[i]!.resetInto(this.obs, off);
      }
    }
    return { obs: this.obs.slice(), rewards, terminated, truncated, infos, finalObs };
  }
}
