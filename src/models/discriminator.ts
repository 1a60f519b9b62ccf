/**
 * The GAIL discriminator: an MLP on (observation, action) giving one logit per sample, high for
 * expert-like pairs (imitation's `BasicRewardNet` with `use_state`, `use_action`: hidden 32-32,
 * ReLU, inputs normalised by running statistics as imitation's `RunningNorm` input layer).
 * Parameters are named `mlp.{0,2,4}.{weight,bias}` (PyTorch layout in checkpoints).
 */
import * as tf from '@tensorflow/tfjs';
import { warnIfNotInitialised } from '../core/backend.js';
import { defineConfig } from '../core/config.js';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { SafeTensor } from '../core/safetensors-format.js';
import { ParamStore, linear } from './layers.js';

export interface DiscriminatorConfig {
  obsDim: number;
  actionDim: number;
  hidden: number[];
  seed: number;
}

export const DISCRIMINATOR_CONFIG = defineConfig<DiscriminatorConfig>('DiscriminatorConfig', {
  obsDim: { type: 'integer', min: 1, default: 1, doc: 'Observation width.' },
  actionDim: { type: 'integer', min: 1, default: 1, doc: 'Action width.' },
  hidden: { type: 'array', items: { type: 'integer', min: 1 }, default: [32, 32], doc: "Hidden sizes (imitation's default 32-32, ReLU)." },
  seed: { type: 'integer', default: 0, doc: 'Seed of the weight initialisation (PyTorch Linear defaults).' },
});

export class MlpDiscriminator {
  readonly config: Readonly<DiscriminatorConfig>;
  readonly params = new ParamStore();
  private readonly layers: string[] = [];
  /** Running input statistics (updated by the trainer on every discriminator batch). */
  inputMean: Float64Array;
  inputVar: Float64Array;
  inputCount = 0;

  constructor(config: Partial<DiscriminatorConfig> & Pick<DiscriminatorConfig, 'obsDim' | 'actionDim'>) {
    warnIfNotInitialised('new MlpDiscriminator()');
    this.config = DISCRIMINATOR_CONFIG.resolve(config);
    const c = this.config;
    const rng = new Rng(c.seed);
    const sizes = [c.obsDim + c.actionDim, ...c.hidden, 1];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const inF = sizes[i]!;
      const outF = sizes[i + 1]!;
      const bound = 1 / Math.sqrt(inF);
      const w = new Float32Array(outF * inF);
      for (let k = 0; k < w.length; k++) w[k] = rng.uniform(-bound, bound);
      const b = new Float32Array(outF);
      for (let k = 0; k < outF; k++) b[k] = rng.uniform(-bound, bound);
      const name = `mlp.${2 * i}`;
      this.params.add(`${name}.weight`, [outF, inF], w, true);
      this.params.add(`${name}.bias`, [outF], b);
      this.layers.push(name);
    }
    const d = c.obsDim + c.actionDim;
    this.inputMean = new Float64Array(d);
    this.inputVar = new Float64Array(d).fill(1);
  }

  get variables(): Map<string, tf.Variable> {
    return this.params.variables;
  }

  get inputDim(): number {
    return this.config.obsDim + this.config.actionDim;
  }

  /** Concatenates `n` observation and action rows into `[n, obs + act]` inputs. */
  pack(obs: Float32Array, actions: Float32Array, n: number): Float32Array {
    const { obsDim: o, actionDim: a } = this.config;
    if (obs.length !== n * o || actions.length !== n * a) {
      throw new InputError(`MlpDiscriminator: expected ${n} x ${o} observations and ${n} x ${a} actions, found ${obs.length} and ${actions.length} values.`, { field: obs.length !== n * o ? 'obs' : 'actions', expected: obs.length !== n * o ? n * o : n * a, found: obs.length !== n * o ? obs.length : actions.length });
    }
    const out = new Float32Array(n * (o + a));
    for (let i = 0; i < n; i++) {
      out.set(obs.subarray(i * o, i * o + o), i * (o + a));
      out.set(actions.subarray(i * a, i * a + a), i * (o + a) + o);
    }
    return out;
  }

  /** Merges the moments of `n` packed input rows into the running statistics (Chan et al.). */
  updateInputStats(x: Float32Array, n: number): void {
    const d = this.inputDim;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[i * d + j]!;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[i * d + j]! - m) ** 2;
      v /= n;
      const tot = this.inputCount + n;
      const delta = m - this.inputMean[j]!;
      this.inputVar[j] = (this.inputVar[j]! * this.inputCount + v * n + (delta * delta * this.inputCount * n) / tot) / tot;
      this.inputMean[j] = this.inputMean[j]! + (delta * n) / tot;
    }
    this.inputCount += n;
  }

  /** Logits `[n]` of packed inputs `[n, obs + act]` (differentiable w.r.t. the weights). */
  logits(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const mean = tf.tensor1d(Float32Array.from(this.inputMean));
      const std = tf.tensor1d(Float32Array.from(this.inputVar, (v) => Math.sqrt(v + 1e-5)));
      let h: tf.Tensor2D = tf.div(tf.sub(x, mean), std);
      this.layers.forEach((name, i) => {
        const z = linear(h, this.params.get(`${name}.weight`), this.params.get(`${name}.bias`)) as tf.Tensor2D;
        h = i + 1 < this.layers.length ? tf.relu(z) : z;
      });
      return tf.reshape(h, [-1]) as tf.Tensor1D;
    });
  }

  /** Host logits of `n` (obs, action) pairs. */
  predictLogits(obs: Float32Array, actions: Float32Array, n: number): Float32Array {
    const x = this.pack(obs, actions, n);
    const t = tf.tidy(() => this.logits(tf.tensor2d(x, [n, this.inputDim])));
    const out = (t.dataSync() as Float32Array).slice();
    t.dispose();
    return out;
  }

  stateDict(): Map<string, SafeTensor> {
    const out = new Map<string, SafeTensor>();
    for (const name of this.params.variables.keys()) out.set(name, { dtype: 'F32', shape: this.params.torchShape(name), data: this.params.torchValues(name) });
    // The running statistics are float64 on the host: kept exact (F64) so a resumed run matches.
    out.set('input_norm.mean', { dtype: 'F64', shape: [this.inputDim], data: Float64Array.from(this.inputMean) });
    out.set('input_norm.var', { dtype: 'F64', shape: [this.inputDim], data: Float64Array.from(this.inputVar) });
    out.set('input_norm.count', { dtype: 'F64', shape: [1], data: Float64Array.of(this.inputCount) });
    return out;
  }

  loadStateDict(t: Map<string, SafeTensor>, file = '<state dict>'): void {
    for (const name of this.params.variables.keys()) {
      const x = t.get(name);
      const want = this.params.torchShape(name);
      if (!x || x.shape.join() !== want.join()) throw new InputError(`${file}: discriminator tensor ${name} should have shape [${want}], found ${x ? `[${x.shape}]` : 'none'}.`, { file, field: name, expected: want, found: x?.shape ?? null });
      this.params.assignTorch(name, x.data as Float32Array);
    }
    const mean = t.get('input_norm.mean');
    const vr = t.get('input_norm.var');
    const count = t.get('input_norm.count');
    if (mean && vr && count) {
      this.inputMean = Float64Array.from(mean.data);
      this.inputVar = Float64Array.from(vr.data);
      this.inputCount = Number(count.data[0]);
    }
  }

  dispose(): void {
    this.params.dispose();
  }
}
