/**
 * Matmul helpers that keep the WASM backend on its fast path.
 *
 * tfjs-backend-wasm 4.22 runs `BatchMatMul` through XNNPACK only when both operands have batch
 * size 1 and neither is transposed (`batch_mat_mul_impl.cc`); every other call — `transposeA`,
 * `transposeB`, a batched or broadcast operand such as `[B, T, in] x [in, out]` — falls back to a
 * scalar blocked loop that is about 8-10x slower (measured in docs/core.md). tfjs's own matMul
 * gradient uses the transposed forms, so a plain `tf.matMul` layer also trains on the slow path.
 *
 * `linear` and `matMul2d` reshape to 2-D and transpose explicitly (a cheap copy), in the forward
 * pass and in their custom gradients, so forward and backward both run on XNNPACK. Results are
 * the same as `tf.matMul` up to float32 summation order. On other backends they are equally valid.
 *
 * This is the one implementation of the trick in drivekit (src/models/layers.ts `mm`/`linear`
 * delegate here). It always goes through `tf.customGrad`, also when no gradient is recorded: a
 * "plain tf.matMul outside a tape" shortcut would have to read engine state, and the custom
 * gradient's bookkeeping measured only ~5-15 µs per call without a tape (a [64×384]·[384×384]
 * product takes ~1 ms), i.e. < 1 % of a DiT sampling pass.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * dA = dY·Bᵀ of a product A·B (dY [m, n], B [k, n]) with plain matmuls only. Two ways:
 * dY·transpose(B), which transposes B and lets XNNPACK pack the fresh transpose (~2·k·n floats
 * moved), or transpose(B·transpose(dY)), which moves ~2·m·n + 2·m·k. For a weight B and a few rows
 * (a DiT pass backpropagates 8-64 tokens through [384, 384]…[384, 2304] weights) the second is
 * far less memory traffic: measured on wasm (fresh B, best of 10) 2.6 → 0.48 ms for
 * dY [8, 384]·[384, 384]ᵀ, 14.1 → 1.7 ms for [1, 2304]·[384, 2304]ᵀ, 3.8 → 2.1 ms for
 * [64, 384]·[384, 384]ᵀ; for dY [2800, 384] the first stays faster (61 vs 73 ms) and is kept.
 */
function gradLeft(dy: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = dy.shape;
  const k = b.shape[0];
  if (m * (n + k) < k * n) return tf.transpose(tf.matMul(b, tf.transpose(dy))) as tf.Tensor2D;
  return tf.matMul(dy, tf.transpose(b));
}

// Built once: the custom gradient keeps both backward matmuls plain as well.
const matMulNNGrad = tf.customGrad<tf.Tensor2D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, y, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, y]);
  return {
    value: tf.matMul(x, y) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sy] = saved as [tf.Tensor2D, tf.Tensor2D];
      // dA = dY B^T, dB = A^T dY, with explicit transposes so both matmuls are plain.
      return [gradLeft(dy, sy), tf.matMul(tf.transpose(sx), dy)];
    },
  };
});

/**
 * `a @ b` with a gradient for `b` only: `a` is treated as a constant (e.g. input features that
 * never need a gradient), which saves the dA product of the backward pass.
 */
function matMulConstLeft(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad<tf.Tensor2D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [y, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([a]);
    return {
      value: tf.matMul(a, y) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy)],
    };
  });
  return f(b) as tf.Tensor2D;
}

/** `a @ b` for 2-D `a [m, k]`, `b [k, n]` with forward and gradient matmuls on the fast path. */
function matMulNN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulNNGrad(a, b) as tf.Tensor2D;
}

/**
 * 2-D matmul with optional transposes, equal to `tf.matMul(a, b, transposeA, transposeB)`, with the
 * transposes done explicitly so the forward and backward passes use plain (fast) matmuls.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`matMul2d: expected rank-2 operands, found shapes [${a.shape}] and [${b.shape}].`);
  return tf.tidy(() => {
    const x = transposeA ? tf.transpose(a) : a;
    const y = transposeB ? tf.transpose(b) : b;
    if (x.shape[1] !== y.shape[0]) {
      throw new Error(`matMul2d: inner dimensions differ: [${a.shape}]${transposeA ? '^T' : ''} x [${b.shape}]${transposeB ? '^T' : ''}.`);
    }
    return matMulNN(x, y);
  });
}

/** Options of `linear`. */
export interface LinearOptions {
  /**
   * Whether gradients flow back to `x` (default true). `false` treats `x` as a constant, e.g. input
   * features: the backward pass then skips the [rows, in] product for dX (a gradient w.r.t. `x`
   * is then not available at all).
   */
  inputGradient?: boolean;
}

/**
 * A dense layer `x @ w + b` for `x [..., in]`, `w [in, out]` (tfjs kernel layout; a PyTorch
 * `nn.Linear.weight` is `[out, in]`: load it transposed), `b [out]`. Leading dimensions are
 * flattened so the matmul is one 2-D fast-path call, in the forward and the backward pass.
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D, options: LinearOptions = {}): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  if (w.rank !== 2 || inDim !== w.shape[0]) {
    throw new Error(`linear: x [${x.shape}] and w [${w.shape}] do not match; expected w of shape [${inDim}, out].`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[1])) throw new Error(`linear: bias [${b.shape}] should be [${w.shape[1]}].`);
  const product = options.inputGradient === false ? matMulConstLeft : matMulNN;
  if (x.rank === 2) {
    // Hot path of the DiT planner (hundreds of calls per pass): no reshapes.
    return b ? tf.tidy(() => tf.add(product(x as tf.Tensor2D, w), b)) : product(x as tf.Tensor2D, w);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = x.reshape([-1, inDim!]) as tf.Tensor2D;
    let y: tf.Tensor = product(x2, w);
    if (b) y = tf.add(y, b);
    return y.reshape([...lead, w.shape[1]]);
  });
}
