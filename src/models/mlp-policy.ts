/**
 * Actor-critic MLP policy, as SB3's `ActorCriticPolicy` with `MlpExtractor`:
 *
 *   obs ─┬─ policy trunk (Linear → act)×L ─ action_net ─→ mean (Box) | logits (Discrete)
 *        └─ value trunk  (Linear → act)×L ─ value_net  ─→ V(s)
 *
 * (or one shared trunk feeding both heads, `sharedTrunk: true`). Continuous actions use a
 * diagonal Gaussian with a state-independent `log_std` parameter (initial value `logStdInit`,
 * SB3 default 0); discrete actions a categorical over logits. Weights are initialised as SB3's
 * `ortho_init`: orthogonal matrices with gain √2 for the trunks, 0.01 for the action head and 1
 * for the value head; zero biases. Parameter names follow SB3's state dict
 * (`mlp_extractor.policy_net.0.weight`, `action_net.weight`, `value_net.bias`, `log_std`), stored
 * as [in, out] for the WASM fast path (the checkpoint keeps PyTorch's [out, in]).
 *
 * Verbs: `act` (rollouts: host arrays in, sampled or deterministic actions, values and
 * log-probabilities out), `evaluateActions` (training: tensors, differentiable), `predictValues`.
 * `save(dir)` / `ActorCriticPolicy.load(dir)` write and read `policy.safetensors` + `policy.json`
 * (config), loadable for inference alone.
 */
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-io.js';
import { warnIfNotInitialised } from '../core/backend.js';
import { defineConfig } from '../core/config.js';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { SafeTensor } from '../core/safetensors-format.js';
import { categoricalEntropy, categoricalLogProb, gaussianEntropy, gaussianLogProb, sampleCategorical, sampleGaussian } from './distributions.js';
import { ParamStore, linear } from './layers.js';

/** What the policy acts on: a flat observation vector and a Box or Discrete action space. */
export interface PolicyConfig {
  obsDim: number;
  /** 'box': continuous actions of width `actionDim`; 'discrete': one of `actionDim` actions. */
  actionType: 'box' | 'discrete';
  actionDim: number;
  hidden: number[];
  activation: 'tanh' | 'relu';
  sharedTrunk: boolean;
  logStdInit: number;
  orthoInit: boolean;
  seed: number;
}

export const POLICY_CONFIG = defineConfig<PolicyConfig>('PolicyConfig', {
  obsDim: { type: 'integer', min: 1, default: 1, doc: 'Width of the (flat) observation vector.' },
  actionType: { type: 'enum', values: ['box', 'discrete'], default: 'box', doc: "'box' (diagonal Gaussian) or 'discrete' (categorical)." },
  actionDim: { type: 'integer', min: 1, default: 1, doc: 'Action width (box) or number of actions (discrete).' },
  hidden: { type: 'array', items: { type: 'integer', min: 1 }, default: [64, 64], doc: 'Hidden layer sizes of each trunk (SB3 default 64-64; 256-256 for the driving env).' },
  activation: { type: 'enum', values: ['tanh', 'relu'], default: 'tanh', doc: 'Trunk activation (SB3 default tanh).' },
  sharedTrunk: { type: 'boolean', default: false, doc: 'One trunk for actor and critic instead of two separate ones.' },
  logStdInit: { type: 'number', default: 0, doc: 'Initial log standard deviation of the Gaussian (box actions).' },
  orthoInit: { type: 'boolean', default: true, doc: 'SB3 orthogonal initialisation (gains sqrt 2 / 0.01 / 1); false keeps PyTorch Linear defaults.' },
  seed: { type: 'integer', default: 0, doc: 'Seed of the weight initialisation.' },
});

/** Output of `act`: host arrays, row i = env i. */
export interface ActResult {
  /** Sampled (or deterministic) actions `[n * actionDim]` (box) or `[n]` indices (discrete). */
  actions: Float32Array;
  /** `[n]` each. */
  values: Float32Array;
  logProbs: Float32Array;
}

/** Output of `evaluateActions`: tensors for the loss (the caller disposes them). */
export interface EvaluatedActions {
  values: tf.Tensor1D;
  logProb: tf.Tensor1D;
  entropy: tf.Tensor1D;
}

/** Orthogonal [rows, cols] matrix (torch.nn.init.orthogonal_) times `gain`, from a seeded stream. */
export function orthogonalValues(rng: Rng, rows: number, cols: number, gain: number): Float32Array {
  // QR of a tall Gaussian matrix by modified Gram-Schmidt on its columns.
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const k = tall ? cols : rows;
  const a: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const col = new Float64Array(m);
    for (let i = 0; i < m; i++) col[i] = rng.normal();
    a.push(col);
  }
  for (let j = 0; j < k; j++) {
    const v = a[j]!;
    for (let p = 0; p < j; p++) {
      const q = a[p]!;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[i]! * v[i]!;
      for (let i = 0; i < m; i++) v[i] = v[i]! - dot * q[i]!;
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < m; i++) v[i] = v[i]! / norm;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (tall ? a[c]![r]! : a[r]![c]!);
  return out;
}

export class ActorCriticPolicy {
  readonly config: Readonly<PolicyConfig>;
  readonly params = new ParamStore();
  private readonly piLayers: string[] = [];
  private readonly vfLayers: string[] = [];

  constructor(config: Partial<PolicyConfig> & Pick<PolicyConfig, 'obsDim' | 'actionType' | 'actionDim'>) {
    warnIfNotInitialised('new ActorCriticPolicy()');
    this.config = POLICY_CONFIG.resolve(config);
    const c = this.config;
    const rng = new Rng(c.seed);
    const addLinear = (name: string, inF: number, outF: number, gain: number) => {
      let w: Float32Array;
      if (c.orthoInit) w = orthogonalValues(rng, outF, inF, gain);
      else {
        const bound = 1 / Math.sqrt(inF);
        w = new Float32Array(outF * inF);
        for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
      }
      this.params.add(`${name}.weight`, [outF, inF], w, true);
      const b = new Float32Array(outF);
      if (!c.orthoInit) {
        const bound = 1 / Math.sqrt(inF);
        for (let i = 0; i < outF; i++) b[i] = rng.uniform(-bound, bound);
      }
      this.params.add(`${name}.bias`, [outF], b);
    };
    const trunk = (prefix: string, into: string[]) => {
      let inF = c.obsDim;
      c.hidden.forEach((h, i) => {
        addLinear(`${prefix}.${2 * i}`, inF, h, Math.SQRT2);
        into.push(`${prefix}.${2 * i}`);
        inF = h;
      });
      return inF;
    };
    let piOut: number;
    let vfOut: number;
    if (c.sharedTrunk) {
      piOut = vfOut = trunk('mlp_extractor.shared_net', this.piLayers);
    } else {
      piOut = trunk('mlp_extractor.policy_net', this.piLayers);
      vfOut = trunk('mlp_extractor.value_net', this.vfLayers);
    }
    addLinear('action_net', piOut, c.actionDim, 0.01);
    addLinear('value_net', vfOut, 1, 1);
    if (c.actionType === 'box') this.params.add('log_std', [c.actionDim], new Float32Array(c.actionDim).fill(c.logStdInit));
  }

  /** Trainable variables by name (the optimizer's parameter set). */
  get variables(): Map<string, tf.Variable> {
    return this.params.variables;
  }

  /** Action width as stored in buffers: `actionDim` (box) or 1 (discrete index). */
  get actionWidth(): number {
    return this.config.actionType === 'box' ? this.config.actionDim : 1;
  }

  private mlp(x: tf.Tensor2D, layers: string[]): tf.Tensor2D {
    let h = x;
    for (const name of layers) {
      const z = linear(h, this.params.get(`${name}.weight`), this.params.get(`${name}.bias`)) as tf.Tensor2D;
      h = this.config.activation === 'tanh' ? tf.tanh(z) : tf.relu(z);
    }
    return h;
  }

  /** Action-head output (`mean` or `logits`, `[B, actionDim]`) and values `[B]`. */
  forward(obs: tf.Tensor2D): { head: tf.Tensor2D; values: tf.Tensor1D } {
    return tf.tidy(() => {
      const piFeat = this.mlp(obs, this.piLayers);
      const vfFeat = this.config.sharedTrunk ? piFeat : this.mlp(obs, this.vfLayers);
      const head = linear(piFeat, this.params.get('action_net.weight'), this.params.get('action_net.bias')) as tf.Tensor2D;
      const values = tf.reshape(linear(vfFeat, this.params.get('value_net.weight'), this.params.get('value_net.bias')), [-1]) as tf.Tensor1D;
      return { head, values };
    });
  }

  /** The Gaussian's log standard deviation (box actions). */
  logStd(): Float32Array {
    return this.config.actionType === 'box' ? (this.params.get('log_std').dataSync() as Float32Array).slice() : new Float32Array(0);
  }

  private checkObs(obs: ArrayLike<number>, n: number, where: string): void {
    if (obs.length !== n * this.config.obsDim) {
      throw new InputError(`${where}: observations should hold ${n} x ${this.config.obsDim} values, found ${obs.length}.`, { field: 'obs', expected: n * this.config.obsDim, found: obs.length });
    }
  }

  /**
   * One batched policy call for `n` observations (row-major `[n, obsDim]`): actions sampled with
   * `rng` (or the mean / arg-max when `deterministic`), values and log-probabilities. Non-finite
   * network outputs are an `InputError` (they mean diverged weights or bad observations).
   */
  act(obs: Float32Array, n: number, options: { rng?: Rng; deterministic?: boolean } = {}): ActResult {
    this.checkObs(obs, n, 'ActorCriticPolicy.act');
    const { head, values } = tf.tidy(() => this.forward(tf.tensor2d(obs, [n, this.config.obsDim])));
    const headData = head.dataSync() as Float32Array;
    const valueData = (values.dataSync() as Float32Array).slice();
    head.dispose();
    values.dispose();
    for (let i = 0; i < headData.length; i++) {
      if (!Number.isFinite(headData[i]!)) {
        throw new InputError(`ActorCriticPolicy.act: the action head gave a non-finite value (${headData[i]}) for row ${Math.floor(i / this.config.actionDim)}; check the observations and the weights.`, { field: 'action_net', found: headData[i] });
      }
    }
    const deterministic = options.deterministic ?? false;
    const rng = options.rng ?? null;
    if (!deterministic && rng === null) throw new InputError('ActorCriticPolicy.act: sampling needs an rng (or deterministic: true).', { field: 'rng' });
    const logProbs = new Float32Array(n);
    let actions: Float32Array;
    if (this.config.actionType === 'box') {
      actions = new Float32Array(n * this.config.actionDim);
      sampleGaussian(headData, this.logStd(), n, rng, deterministic, actions, logProbs);
    } else {
      actions = new Float32Array(n);
      sampleCategorical(headData, this.config.actionDim, n, rng, deterministic, actions, logProbs);
    }
    return { actions, values: valueData, logProbs };
  }

  /** V(s) for `n` observations. */
  predictValues(obs: Float32Array, n: number): Float32Array {
    this.checkObs(obs, n, 'ActorCriticPolicy.predictValues');
    const v = tf.tidy(() => this.forward(tf.tensor2d(obs, [n, this.config.obsDim])).values);
    const out = (v.dataSync() as Float32Array).slice();
    v.dispose();
    return out;
  }

  /**
   * Values, log-probabilities and entropies of given actions (`[B, actionDim]` floats for box,
   * `[B]` or `[B, 1]` indices for discrete), differentiable: the training verb.
   */
  evaluateActions(obs: tf.Tensor2D, actions: tf.Tensor): EvaluatedActions {
    return tf.tidy(() => {
      const { head, values } = this.forward(obs);
      const b = obs.shape[0];
      if (this.config.actionType === 'box') {
        const logStd = this.params.get('log_std') as tf.Tensor1D;
        const logProb = gaussianLogProb(head, logStd, tf.reshape(actions, [b, this.config.actionDim]) as tf.Tensor2D);
        const entropy = tf.mul(tf.onesLike(logProb), gaussianEntropy(logStd)) as tf.Tensor1D;
        return { values, logProb, entropy };
      }
      const oneHot = tf.oneHot(tf.cast(tf.reshape(actions, [b]), 'int32') as tf.Tensor1D, this.config.actionDim).toFloat() as tf.Tensor2D;
      return { values, logProb: categoricalLogProb(head, oneHot), entropy: categoricalEntropy(head) };
    });
  }

  /** Weights in PyTorch layout, by SB3 state-dict name. */
  stateDict(): Map<string, SafeTensor> {
    const out = new Map<string, SafeTensor>();
    for (const name of this.params.variables.keys()) out.set(name, { dtype: 'F32', shape: this.params.torchShape(name), data: this.params.torchValues(name) });
    return out;
  }

  /** Assigns weights from a state dict (PyTorch layout); names and shapes must match exactly. */
  loadStateDict(tensors: Map<string, SafeTensor>, file = '<state dict>'): void {
    for (const name of this.params.variables.keys()) {
      const t = tensors.get(name);
      if (!t) throw new InputError(`${file}: missing tensor ${name}; is this a policy checkpoint for another configuration?`, { file, field: name, expected: 'present', found: 'missing' });
      const want = this.params.torchShape(name);
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new InputError(`${file}: tensor ${name} has shape [${t.shape}], this policy needs [${want}] (observation ${this.config.obsDim}, action ${this.config.actionType}:${this.config.actionDim}, hidden ${this.config.hidden.join('-')}).`, { file, field: name, expected: want, found: t.shape });
      }
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i] as number)) throw new InputError(`${file}: tensor ${name} holds a non-finite value (${t.data[i]}) at index ${i}.`, { file, field: name, expected: 'finite values', found: t.data[i] });
      }
      this.params.assignTorch(name, t.data as Float32Array);
    }
    for (const name of tensors.keys()) {
      if (!this.params.variables.has(name)) throw new InputError(`${file}: unexpected tensor ${name} (not a parameter of this policy).`, { file, field: name, expected: 'absent', found: 'present' });
    }
  }

  /** Copies the weights of another policy of the same configuration. */
  copyFrom(other: ActorCriticPolicy): void {
    this.loadStateDict(other.stateDict(), 'policy copy');
  }

  /** Writes `dir/policy.safetensors` + `dir/policy.json` atomically. `extra` goes into the JSON. */
  async save(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    await saveCheckpoint(dir, { tensors: this.stateDict(), config: { kind: 'drivekit.ActorCriticPolicy', policy: POLICY_CONFIG.toJSON(this.config), ...extra }, metadata: { format: 'drivekit.policy/v1' } }, { name: 'policy' });
  }

  /** Loads a policy saved by `save` (the JSON's extra fields are returned as `extra`). */
  static async load(dir: string): Promise<{ policy: ActorCriticPolicy; extra: Record<string, unknown> }> {
    const ckpt = await loadCheckpoint<Record<string, unknown>>(dir, { name: 'policy' });
    const { kind, policy: cfg, ...extra } = ckpt.config ?? {};
    if (kind !== 'drivekit.ActorCriticPolicy') {
      throw new InputError(`${ckpt.configPath}: not a drivekit policy checkpoint (kind ${JSON.stringify(kind)}).`, { file: ckpt.configPath, field: 'kind', expected: 'drivekit.ActorCriticPolicy', found: kind });
    }
    const config = POLICY_CONFIG.resolve(cfg, { file: ckpt.configPath });
    const policy = new ActorCriticPolicy(config);
    try {
      policy.loadStateDict(ckpt.tensors, ckpt.weightsPath);
    } catch (e) {
      policy.dispose();
      throw e;
    }
    return { policy, extra };
  }

  numParameters(): number {
    return this.params.numParameters();
  }

  dispose(): void {
    this.params.dispose();
  }
}
