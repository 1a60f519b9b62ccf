/**
 * NAVSIM's "Ego Status MLP" baseline: a small MLP from the ego status alone (driving command
 * one-hot, velocity, acceleration: the planner's `status` [8]) to the 8 future poses (x, y, heading
 * at 0.5 .. 4 s in the ego frame), trained with an L1 loss on the train split. It sees neither the
 * map nor the agents, so it shows how much of the score the ego state alone explains.
 *
 * Plain JavaScript (no tfjs): two ReLU hidden layers, Adam, seeded initialisation and shuffling,
 * so training is deterministic on every backend and machine, and fast (a few seconds for 1000
 * scenes). Inputs are standardised with the training set's mean and std; outputs are scaled by
 * `OUTPUT_SCALE`.
 *
 * ```ts
 * const mlp = EgoStatusMlp.train(status, target, n, { epochs: 60 });
 * const plan = mlp.plan(statusOfOneScene);                  // Float64Array(24)
 * fs.writeFileSync('mlp.json', JSON.stringify(mlp.toJSON()));
 * const again = EgoStatusMlp.fromJSON(JSON.parse(fs.readFileSync('mlp.json', 'utf8')), 'mlp.json');
 * ```
 */
import { defineConfig, type ConfigDef, type ConfigInput } from '../core/config.js';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export const EGO_MLP_FORMAT = 'drivekit.ego-status-mlp/1';
/** Input (status) and output (8 poses x 3) sizes. */
export const EGO_MLP_IN = 8;
export const EGO_MLP_OUT = 24;
/** Outputs are learned divided by this (metres / radians -> about unit scale). */
const OUTPUT_SCALE = [10, 1, 0.1] as const;

export interface EgoMlpConfig {
  hidden: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export const EGO_MLP_CONFIG: ConfigDef<EgoMlpConfig> = defineConfig<EgoMlpConfig>('EgoMlpConfig', {
  hidden: { default: 64, type: 'integer', min: 1, doc: 'Width of both hidden ReLU layers.' },
  epochs: { default: 60, type: 'integer', min: 1, doc: 'Passes over the training scenes.' },
  batchSize: { default: 32, type: 'integer', min: 1, doc: 'Minibatch size.' },
  lr: { default: 1e-3, type: 'number', gt: 0, doc: 'Adam learning rate (β 0.9, 0.999), constant.' },
  seed: { default: 0, type: 'integer', doc: 'Seed of the initialisation and the shuffling.' },
});

interface Layer {
  w: Float64Array; // out x in
  b: Float64Array;
  nIn: number;
  nOut: number;
}

function layer(nIn: number, nOut: number, rng: Rng): Layer {
  const w = rng.fillNormal(new Float64Array(nIn * nOut), 0, Math.sqrt(2 / nIn));
  return { w, b: new Float64Array(nOut), nIn, nOut };
}

function forwardLayer(l: Layer, x: Float64Array, out: Float64Array, relu: boolean): void {
  for (let o = 0; o < l.nOut; o++) {
    let s = l.b[o]!;
    const row = o * l.nIn;
    for (let i = 0; i < l.nIn; i++) s += l.w[row + i]! * x[i]!;
    out[o] = relu && s < 0 ? 0 : s;
  }
}

/** The trained MLP: `plan(status)` gives 8 poses (x, y, heading) in the ego frame. */
export class EgoStatusMlp {
  private constructor(
    readonly config: Readonly<EgoMlpConfig>,
    private readonly mean: Float64Array,
    private readonly std: Float64Array,
    private readonly layers: Layer[],
    /** Mean L1 loss (scaled outputs) of the last epoch. */
    readonly finalLoss: number,
  ) {}

  /** Trains on n rows: `status` n x 8, `target` n x 24 (the scenes' human futures). */
  static train(status: ArrayLike<number>, target: ArrayLike<number>, n: number, options: ConfigInput<EgoMlpConfig> = {}): EgoStatusMlp {
    const cfg = EGO_MLP_CONFIG.resolve(options);
    if (!Number.isInteger(n) || n < 1 || status.length < n * EGO_MLP_IN || target.length < n * EGO_MLP_OUT) {
      const expected = `n >= 1 rows: ${EGO_MLP_IN} status and ${EGO_MLP_OUT} target values each`;
      const found = `n ${n}, ${status.length} status and ${target.length} target values`;
      throw new InputError(InputError.format({ field: 'rows', expected, found }), { field: 'rows', expected, found });
    }
    const mean = new Float64Array(EGO_MLP_IN), std = new Float64Array(EGO_MLP_IN);
    for (let j = 0; j < EGO_MLP_IN; j++) {
      let s = 0, q = 0;
      for (let r = 0; r < n; r++) s += status[r * EGO_MLP_IN + j]!;
      const m = s / n;
      for (let r = 0; r < n; r++) q += (status[r * EGO_MLP_IN + j]! - m) ** 2;
      mean[j] = m;
      std[j] = Math.max(Math.sqrt(q / n), 1e-3);
    }
    const rng = new Rng(cfg.seed);
    const H = cfg.hidden;
    const layers = [layer(EGO_MLP_IN, H, rng), layer(H, H, rng), layer(H, EGO_MLP_OUT, rng)];
    const params = layers.flatMap((l) => [l.w, l.b]);
    const grads = params.map((p) => new Float64Array(p.length));
    const m1 = params.map((p) => new Float64Array(p.length));
    const m2 = params.map((p) => new Float64Array(p.length));
    const acts = [new Float64Array(EGO_MLP_IN), new Float64Array(H), new Float64Array(H), new Float64Array(EGO_MLP_OUT)];
    const deltas = [new Float64Array(H), new Float64Array(H), new Float64Array(EGO_MLP_OUT)];
    const y = new Float64Array(EGO_MLP_OUT);
    let t = 0;
    let epochLoss = 0;
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const order = rng.permutation(n);
      epochLoss = 0;
      for (let start = 0; start < n; start += cfg.batchSize) {
        const end = Math.min(n, start + cfg.batchSize);
        grads.forEach((g) => g.fill(0));
        for (let k = start; k < end; k++) {
          const r = order[k]!;
          for (let j = 0; j < EGO_MLP_IN; j++) acts[0]![j] = (status[r * EGO_MLP_IN + j]! - mean[j]!) / std[j]!;
          for (let j = 0; j < EGO_MLP_OUT; j++) y[j] = target[r * EGO_MLP_OUT + j]! / OUTPUT_SCALE[j % 3]!;
          for (let l = 0; l < 3; l++) forwardLayer(layers[l]!, acts[l]!, acts[l + 1]!, l < 2);
          // L1 loss, mean over the outputs: d/dŷ = sign(ŷ - y) / 24
          const out = acts[3]!;
          for (let j = 0; j < EGO_MLP_OUT; j++) {
            const d = out[j]! - y[j]!;
            epochLoss += Math.abs(d) / EGO_MLP_OUT;
            deltas[2]![j] = (d > 0 ? 1 : d < 0 ? -1 : 0) / EGO_MLP_OUT;
          }
          for (let l = 2; l >= 0; l--) {
            const L = layers[l]!, gw = grads[2 * l]!, gb = grads[2 * l + 1]!, d = deltas[l]!, a = acts[l]!;
            for (let o = 0; o < L.nOut; o++) {
              const dv = d[o]!;
              if (dv === 0) continue;
              gb[o] += dv;
              const row = o * L.nIn;
              for (let i = 0; i < L.nIn; i++) gw[row + i] += dv * a[i]!;
            }
            if (l > 0) {
              const prev = deltas[l - 1]!;
              for (let i = 0; i < L.nIn; i++) {
                if (a[i]! <= 0) {
                  prev[i] = 0; // ReLU
                  continue;
                }
                let s = 0;
                for (let o = 0; o < L.nOut; o++) s += L.w[o * L.nIn + i]! * d[o]!;
                prev[i] = s;
              }
            }
          }
        }
        // Adam on the batch mean
        t++;
        const bs = end - start;
        const c1 = 1 - 0.9 ** t, c2 = 1 - 0.999 ** t;
        params.forEach((p, k) => {
          const g = grads[k]!, a = m1[k]!, v = m2[k]!;
          for (let i = 0; i < p.length; i++) {
            const gi = g[i]! / bs;
            a[i] = 0.9 * a[i]! + 0.1 * gi;
            v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
            p[i] -= (cfg.lr * (a[i]! / c1)) / (Math.sqrt(v[i]! / c2) + 1e-8);
          }
        });
      }
      epochLoss /= n;
    }
    return new EgoStatusMlp(cfg, mean, std, layers, epochLoss);
  }

  /** The plan (8 x 3 in the ego frame) of one status vector, written into `out` at `offset`. */
  plan(status: ArrayLike<number>, out: Float64Array = new Float64Array(EGO_MLP_OUT), offset = 0, statusOffset = 0): Float64Array {
    const H = this.config.hidden;
    const x = new Float64Array(EGO_MLP_IN), h1 = new Float64Array(H), h2 = new Float64Array(H), y = new Float64Array(EGO_MLP_OUT);
    for (let j = 0; j < EGO_MLP_IN; j++) x[j] = (status[statusOffset + j]! - this.mean[j]!) / this.std[j]!;
    forwardLayer(this.layers[0]!, x, h1, true);
    forwardLayer(this.layers[1]!, h1, h2, true);
    forwardLayer(this.layers[2]!, h2, y, false);
    for (let j = 0; j < EGO_MLP_OUT; j++) out[offset + j] = y[j]! * OUTPUT_SCALE[j % 3]!;
    return out;
  }

  /** A JSON checkpoint (format, config, normalisation, weights). */
  toJSON(): Record<string, unknown> {
    return {
      format: EGO_MLP_FORMAT,
      config: { ...this.config },
      finalLoss: this.finalLoss,
      mean: Array.from(this.mean),
      std: Array.from(this.std),
      layers: this.layers.map((l) => ({ nIn: l.nIn, nOut: l.nOut, w: Array.from(l.w), b: Array.from(l.b) })),
    };
  }

  /** Reads `toJSON`'s object; a wrong format or shape is an `InputError` naming the field. */
  static fromJSON(json: unknown, file = '<ego-mlp>'): EgoStatusMlp {
    const o = json as Record<string, any>;
    const fail = (field: string, expected: string, found: unknown): never => {
      throw new InputError(InputError.format({ file, field, expected, found }), { file, field, expected, found });
    };
    if (o?.format !== EGO_MLP_FORMAT) fail('format', EGO_MLP_FORMAT, o?.format);
    const cfg = EGO_MLP_CONFIG.resolve(o.config);
    const H = cfg.hidden;
    const shapes: [number, number][] = [[EGO_MLP_IN, H], [H, H], [H, EGO_MLP_OUT]];
    if (!Array.isArray(o.layers) || o.layers.length !== 3) fail('layers', '3 layers', Array.isArray(o.layers) ? o.layers.length : o.layers);
    const layers = (o.layers as Record<string, any>[]).map((l, k) => {
      const [nIn, nOut] = shapes[k]!;
      if (!Array.isArray(l.w) || l.w.length !== nIn * nOut) fail(`layers[${k}].w`, `${nIn * nOut} numbers`, Array.isArray(l.w) ? l.w.length : l.w);
      if (!Array.isArray(l.b) || l.b.length !== nOut) fail(`layers[${k}].b`, `${nOut} numbers`, Array.isArray(l.b) ? l.b.length : l.b);
      return { nIn, nOut, w: Float64Array.from(l.w as number[]), b: Float64Array.from(l.b as number[]) };
    });
    for (const f of ['mean', 'std'] as const) if (!Array.isArray(o[f]) || o[f].length !== EGO_MLP_IN) fail(f, `${EGO_MLP_IN} numbers`, o[f]);
    return new EgoStatusMlp(cfg, Float64Array.from(o.mean as number[]), Float64Array.from(o.std as number[]), layers, Number(o.finalLoss ?? NaN));
  }
}
