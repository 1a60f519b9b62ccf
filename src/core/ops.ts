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
 */
import * as tf from '@tensorflow/tfjs';

/** `a @ b` for 2-D `a [m, k]`, `b [k, n]` with forward and gradient matmuls on the fast path. */
// Built once: the custom gradient keeps both backward matmuls plain as well.
const matMulNNGrad = tf.customGrad<tf.Tensor2D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, y, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, y]);
  return {
    value: tf.matMul(x, y) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sy] = saved as [tf.Tensor2D, tf.Tensor2D];
      // dA = dY B^T, dB = A^T dY, with explicit transposes so both matmuls are plain.
      return [tf.matMul(dy, tf.transpose(sy)), tf.matMul(tf.transpose(sx), dy)];
    },
  };
});

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

/**
 * A dense layer `x @ w + b` for `x [..., in]`, `w [in, out]` (tfjs kernel layout; a PyTorch
 * `nn.Linear.weight` is `[out, in]`: load it transposed), `b [out]`. Leading dimensions are
 * flattened so the matmul is one 2-D fast-path call, in the forward and the backward pass.
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  if (w.rank !== 2 || inDim !== w.shape[0]) {
    throw new Error(`linear: x [${x.shape}] and w [${w.shape}] do not match; expected w of shape [${inDim}, out].`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[1])) throw new Error(`linear: bias [${b.shape}] should be [${w.shape[1]}].`);
  if (x.rank === 2) {
    // Hot path of the DiT planner (hundreds of calls per pass): no reshapes.
    return b ? tf.tidy(() => tf.add(matMulNN(x as tf.Tensor2D, w), b)) : matMulNN(x as tf.Tensor2D, w);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = x.reshape([-1, inDim!]) as tf.Tensor2D;
    let y: tf.Tensor = matMulNN(x2, w);
    if (b) y = tf.add(y, b);
    return y.reshape([...lead, w.shape[1]]);
  });
}
