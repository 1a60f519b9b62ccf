/**
 * Conditioning and action encoders of ReCogDrive's planner (`recogdrive_diffusion_planner.py`,
 * `blocks/encoder.py`) and the two sinusoidal embeddings. The sinusoids are computed on the host in
 * float32 with the PyTorch operation order (`Math.fround` after each op); timesteps are integers
 * and never need a gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { linear, linearP, type ParamStore, silu } from './layers.js';

const f32 = Math.fround;

/**
 * ActionEncoder sinusoid (GR00T `SinusoidalPositionalEncoding`): half = D/2,
 * f_k = exp(−k·(ln 10⁴ / half)), output [sin(t·f), cos(t·f)] (sin first). Returns [rows, D].
 */
export function actionSinusoid(t: ArrayLike<number>, dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const c = f32(f32(Math.log(10000)) / half);
  const freq = new Float32Array(half);
  for (let k = 0; k < half; k++) freq[k] = f32(Math.exp(f32(-k * c)));
  const out = new Float32Array(t.length * dim);
  for (let r = 0; r < t.length; r++) {
    const tr = f32(t[r]!);
    const o = r * dim;
    for (let k = 0; k < half; k++) {
      const a = f32(tr * freq[k]!);
      out[o + k] = Math.sin(a);
      out[o + half + k] = Math.cos(a);
    }
  }
  return out;
}

/**
 * diffusers `Timesteps(num_channels, flip_sin_to_cos=True, downscale_freq_shift=1)`:
 * e_k = exp(−ln 10⁴·k/(half − 1)), output [cos(t·e), sin(t·e)] (cos first). Returns [rows, channels].
 */
export function timestepSinusoid(t: ArrayLike<number>, channels = 256, downscaleFreqShift = 1): Float32Array {
  const half = Math.floor(channels / 2);
  const negLog = f32(-Math.log(10000));
  const freq = new Float32Array(half);
  for (let k = 0; k < half; k++) freq[k] = f32(Math.exp(f32(f32(negLog * k) / (half - downscaleFreqShift))));
  const out = new Float32Array(t.length * channels);
  for (let r = 0; r < t.length; r++) {
    const tr = f32(t[r]!);
    const o = r * channels;
    for (let k = 0; k < half; k++) {
      const a = f32(tr * freq[k]!);
      out[o + k] = Math.cos(a);
      out[o + half + k] = Math.sin(a);
    }
  }
  return out;
}

/**
 * ActionEncoder: fc3(silu(fc2([fc1(x_t), τ(t)]))), x_t [N, H, A] → [N, H, D], τ broadcast over the
 * H positions. `tau` is the [N, D] sinusoid from `actionSinusoid`. fc2 of the concatenation is
 * evaluated as fc1(x_t)·W₂ₐ + (τ·W₂ᵦ + b₂) with W₂ = [W₂ₐ; W₂ᵦ] split by rows: τ's half is one
 * row per sample instead of one per (sample, position), and no broadcast copy of τ is built.
 * `fc2Rows` passes the two row blocks of fc2's weight when the caller has them already.
 */
export function actionEncoder(store: ParamStore, x: tf.Tensor, tau: tf.Tensor2D, fc2Rows?: [tf.Tensor2D, tf.Tensor2D]): tf.Tensor {
  const [n, h] = x.shape;
  const d = tau.shape[1];
  const a = linearP(store, 'action_encoder.fc1', tf.reshape(x, [n! * h!, x.shape[2]!]));
  const [w2a, w2b] = fc2Rows ?? tf.split(store.get('action_encoder.fc2.weight'), 2, 0);
  const tauPart = linear(tau, w2b!, store.get('action_encoder.fc2.bias'));
  const hidden = silu(tf.add(tf.reshape(linear(a, w2a!), [n!, h!, d]), tf.reshape(tauPart, [n!, 1, d])));
  return linearP(store, 'action_encoder.fc3', hidden);
}
