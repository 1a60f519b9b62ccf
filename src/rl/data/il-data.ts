/**
 * Host-side IL samples: what the hidden-state cache holds per row and what the IL trainer
 * reads, plus a seeded synthetic generator with a learnable relation between conditioning and
 * target (so a user can try the IL pipeline without ReCogDrive's VLM cache).
 *
 * Layout per sample (spec §1.1, §6):
 * - `token`: the NAVSIM sample token (utf8);
 * - `cond`: VLM last hidden states `[L, H]` float32 (L = 2800, H = 1536 or 3584 for ReCogDrive);
 * - `history`: 4 past ego poses `(x, y, heading)` at t−1.5 … t in the current ego frame, `[4, 3]`;
 * - `status`: `[cmd one-hot (left, straight, right, unknown), v_x, v_y, a_x, a_y]`, `[8]`;
 * - `target`: 8 future poses at 0.5 s steps in the ego frame (metres, radians), `[8, 3]`.
 */
import { Rng } from '../../core/rng.js';

export const HISTORY_SHAPE = [4, 3] as const;
export const STATUS_SHAPE = [8] as const;
export const TARGET_SHAPE = [8, 3] as const;
export const HISTORY_SIZE = 12;
export const STATUS_SIZE = 8;
export const TARGET_SIZE = 24;

/** A set of rows, row-major and contiguous per field. */
export interface ILRows {
  count: number;
  /** Conditioning length L and width H. */
  condLength: number;
  condDim: number;
  tokens: string[];
  /** `[count, L, H]` */
  cond: Float32Array;
  /** `[count, 4, 3]` */
  history: Float32Array;
  /** `[count, 8]` */
  status: Float32Array;
  /** `[count, 8, 3]` */
  target: Float32Array;
}

/** Random access to IL samples (the hidden-state cache, or an in-memory set). */
export interface ILDataSource {
  readonly numRows: number;
  readonly condLength: number;
  readonly condDim: number;
  /** Reads the given rows (any order, repeats allowed) into one contiguous block. */
  readRows(indices: ArrayLike<number>): Promise<ILRows>;
}

/** Checks the lengths of an `ILRows` block; errors name the field, the expected and found sizes. */
/** Zero-filled rows for `count` samples with `[condLength, condDim]` conditioning (tokens empty strings). */
export function allocRows(count: number, condLength: number, condDim: number): ILRows {
  return {
    count,
    condLength,
    condDim,
    tokens: new Array<string>(count).fill(''),
    cond: new Float32Array(count * condLength * condDim),
    history: new Float32Array(count * HISTORY_SIZE),
    status: new Float32Array(count * STATUS_SIZE),
    target: new Float32Array(count * TARGET_SIZE),
  };
}

export function validateRows(rows: ILRows, where = 'ILRows'): void {
  const n = rows.count;
  const want: [string, number, number][] = [
    ['tokens', n, rows.tokens.length],
    ['cond', n * rows.condLength * rows.condDim, rows.cond.length],
    ['history', n * HISTORY_SIZE, rows.history.length],
    ['status', n * STATUS_SIZE, rows.status.length],
    ['target', n * TARGET_SIZE, rows.target.length],
  ];
  for (const [field, expected, found] of want) {
    if (expected !== found) throw new Error(`${where}: field '${field}' should hold ${expected} values for ${n} rows, found ${found}.`);
  }
}

/** Copies the selected rows of a block into a new block. */
export function selectRows(rows: ILRows, indices: ArrayLike<number>): ILRows {
  const k = indices.length;
  const out = allocRows(k, rows.condLength, rows.condDim);
  for (let j = 0; j < k; j++) {
    const i = indices[j]!;
    if (!Number.isInteger(i) || i < 0 || i >= rows.count) throw new Error(`Row index ${i} out of range [0, ${rows.count}).`);
    copyRow(rows, i, out, j);
  }
  return out;
}

/** Copies row `i` of `from` into row `j` of `to` (blocks of the same conditioning size). */
export function copyRow(from: ILRows, i: number, to: ILRows, j: number): void {
  const lh = from.condLength * from.condDim;
  to.tokens[j] = from.tokens[i]!;
  to.cond.set(from.cond.subarray(i * lh, (i + 1) * lh), j * lh);
  to.history.set(from.history.subarray(i * HISTORY_SIZE, (i + 1) * HISTORY_SIZE), j * HISTORY_SIZE);
  to.status.set(from.status.subarray(i * STATUS_SIZE, (i + 1) * STATUS_SIZE), j * STATUS_SIZE);
  to.target.set(from.target.subarray(i * TARGET_SIZE, (i + 1) * TARGET_SIZE), j * TARGET_SIZE);
}

/** An in-memory data source over one block of rows (tests, small synthetic sets). */
export class InMemoryILData implements ILDataSource {
  constructor(readonly rows: ILRows) {
    validateRows(rows, 'InMemoryILData');
  }
  get numRows(): number {
    return this.rows.count;
  }
  get condLength(): number {
    return this.rows.condLength;
  }
  get condDim(): number {
    return this.rows.condDim;
  }
  async readRows(indices: ArrayLike<number>): Promise<ILRows> {
    return selectRows(this.rows, indices);
  }
}

/** A contiguous sub-range of another source (train / validation splits). */
export class ILDataRange implements ILDataSource {
  constructor(readonly source: ILDataSource, readonly start: number, readonly end: number) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= source.numRows)) {
      throw new Error(`Invalid row range [${start}, ${end}) of a source with ${source.numRows} rows.`);
    }
  }
  get numRows(): number {
    return this.end - this.start;
  }
  get condLength(): number {
    return this.source.condLength;
  }
  get condDim(): number {
    return this.source.condDim;
  }
  readRows(indices: ArrayLike<number>): Promise<ILRows> {
    const mapped = new Int32Array(indices.length);
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      if (!(i >= 0 && i < this.numRows)) throw new Error(`Row index ${i} out of range [0, ${this.numRows}).`);
      mapped[j] = this.start + i;
    }
    return this.source.readRows(mapped);
  }
}

// ---------------------------------------------------------------------------------------------
// Synthetic samples

export interface SyntheticOptions {
  /** Number of rows. */
  rows: number;
  /** Conditioning length L (ReCogDrive: 2800). */
  condLength: number;
  /** Conditioning width H (ReCogDrive: 1536 or 3584). */
  condDim: number;
  /** Seed of the sample stream. */
  seed?: number;
  /**
   * Seed of the fixed random "VLM" projection that maps the latent driving intent to hidden
   * states. Keep it the same for a train and a validation set so they share the relation.
   */
  worldSeed?: number;
  /** Std of the per-element noise added to the hidden states (signal has unit scale). Default 0.5. */
  condNoise?: number;
  /**
   * When true (default), history and status carry no information about the future (zeros,
   * command 'unknown'), so the planner must read the intent from the conditioning tokens.
   */
  conditioningOnly?: boolean;
  /** Index of the first row (tokens are `synthetic-<index>`); lets a validation set follow a training set. */
  firstIndex?: number;
}

const HORIZON_DT = 0.5;

/**
 * Unicycle pose at time t (s) for speed v (m/s) and yaw rate w (rad/s), starting at the origin
 * facing +x. Negative t gives past poses.
 */
function unicyclePose(v: number, w: number, t: number): [number, number, number] {
  const h = w * t;
  if (Math.abs(w) < 1e-6) return [v * t, 0, h];
  return [(v / w) * Math.sin(h), (v / w) * (1 - Math.cos(h)), h];
}

/**
 * Generates rows whose future trajectory is a constant-speed, constant-yaw-rate arc with the
 * speed v ~ U[2, 14] m/s and yaw rate w ~ U[−0.35, 0.35] rad/s, and whose hidden states are a
 * fixed random linear image of the features (v, w, v·w) spread over all tokens with a
 * per-token gain, plus Gaussian noise. The target is a smooth function of the mean token, so a
 * planner that mean-pools or cross-attends the tokens can learn it.
 */
export function makeSyntheticRows(options: SyntheticOptions): ILRows {
  const { rows: n, condLength: L, condDim: H } = options;
  for (const [name, v] of [['rows', n], ['condLength', L], ['condDim', H]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`Invalid synthetic ${name}: ${v}. Should be an integer >= 1.`);
  }
  const condNoise = options.condNoise ?? 0.5;
  const conditioningOnly = options.conditioningOnly ?? true;
  const firstIndex = options.firstIndex ?? 0;
  // The fixed "VLM": 3 feature directions over H channels and a positive gain per token.
  const world = new Rng(options.worldSeed ?? 1234);
  const dirs = world.fillNormal(new Float32Array(3 * H), 0, 1);
  const gains = new Float32Array(L);
  for (let l = 0; l < L; l++) gains[l] = 0.5 + world.uniform();
  const rng = new Rng(options.seed ?? 0);
  const out = allocRows(n, L, H);
  for (let i = 0; i < n; i++) {
    out.tokens[i] = `synthetic-${firstIndex + i}`;
    const v = rng.uniform(2, 14);
    const w = rng.uniform(-0.35, 0.35);
    for (let k = 0; k < 8; k++) {
      const p = unicyclePose(v, w, (k + 1) * HORIZON_DT);
      out.target.set(p, i * TARGET_SIZE + k * 3);
    }
    if (!conditioningOnly) {
      for (let k = 0; k < 4; k++) {
        const p = unicyclePose(v, w, (k - 3) * HORIZON_DT);
        out.history.set(p, i * HISTORY_SIZE + k * 3);
      }
      const cmd = w > 0.1 ? 0 : w < -0.1 ? 2 : 1;
      out.status[i * STATUS_SIZE + cmd] = 1;
      out.status[i * STATUS_SIZE + 4] = v;
      out.status[i * STATUS_SIZE + 7] = v * w; // lateral (centripetal) acceleration
    } else {
      out.status[i * STATUS_SIZE + 3] = 1; // command 'unknown'
    }
    // Features normalised to about unit scale.
    const f0 = (v - 8) / 6;
    const f1 = w / 0.35;
    const f2 = f0 * f1;
    const base = i * L * H;
    for (let l = 0; l < L; l++) {
      const g = gains[l]!;
      const row = base + l * H;
      for (let h = 0; h < H; h++) {
        const signal = f0 * dirs[h]! + f1 * dirs[H + h]! + f2 * dirs[2 * H + h]!;
        out.cond[row + h] = g * signal + condNoise * rng.normal();
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, as DDIM, PDM, PPO)

/** @deprecated Renamed `ILRows`. */
export type IlRows = ILRows;
/** @deprecated Renamed `ILDataSource`. */
export type IlDataSource = ILDataSource;
/** @deprecated Renamed `ILDataRange`. */
export const IlDataRange = ILDataRange;
/** @deprecated Renamed `ILDataRange`. */
export type IlDataRange = ILDataRange;
/** @deprecated Renamed `InMemoryILData`. */
export const InMemoryIlData = InMemoryILData;
/** @deprecated Renamed `InMemoryILData`. */
export type InMemoryIlData = InMemoryILData;
