/**
 * Trajectory min-max normalisation to [−1, 1] per channel, as ReCogDrive's `norm_odo` /
 * `denorm_odo` (`recogdrive_diffusion_planner.py`): n = 2·(v − min)/range − 1 and
 * v = (n + 1)/2·range + min, channels (x [m], y [m], heading [rad]). No clamping inside.
 */
import * as tf from '@tensorflow/tfjs';

export interface ChannelRange {
  min: number;
  range: number;
}

export interface TrajectoryNormalization {
  x: ChannelRange;
  y: ChannelRange;
  heading: ChannelRange;
}

/** ReCogDrive's constants: x ∈ [−1.57, 65.17], y ∈ [−19.68, 22.32], heading ∈ [−1.67, 1.86]. */
export const RECOGDRIVE_NORMALIZATION: Readonly<TrajectoryNormalization> = Object.freeze({
  x: Object.freeze({ min: -1.57, range: 66.74 }),
  y: Object.freeze({ min: -19.68, range: 42 }),
  heading: Object.freeze({ min: -1.67, range: 3.53 }),
});

export function validateNormalization(n: TrajectoryNormalization): void {
  for (const k of ['x', 'y', 'heading'] as const) {
    const c = n[k];
    if (!c || !Number.isFinite(c.min) || !(c.range > 0)) {
      throw new Error(`Invalid trajectory normalization for ${k}: ${JSON.stringify(c)}. Should be {min: finite, range: > 0}.`);
    }
  }
}

const f32 = Math.fround;

function channels(n: TrajectoryNormalization): ChannelRange[] {
  return [n.x, n.y, n.heading];
}

/**
 * Normalises a [..., 3] tensor with the PyTorch float32 operation order
 * `2 * (v + (−min)) / range − 1` per channel.
 */
export function normalizeTrajectory(traj: tf.Tensor, n: TrajectoryNormalization = RECOGDRIVE_NORMALIZATION): tf.Tensor {
  return tf.tidy(() => {
    const last = traj.shape[traj.shape.length - 1];
    if (last !== 3) throw new Error(`normalizeTrajectory: last axis should be 3 (x, y, heading), found shape [${traj.shape}].`);
    const cs = channels(n);
    const shift = tf.tensor1d(cs.map((c) => f32(-c.min)));
    const range = tf.tensor1d(cs.map((c) => f32(c.range)));
    return tf.sub(tf.div(tf.mul(2, tf.add(traj, shift)), range), 1);
  });
}

/** Inverse of `normalizeTrajectory`: `(n + 1) / 2 * range − (−min)`. */
export function denormalizeTrajectory(traj: tf.Tensor, n: TrajectoryNormalization = RECOGDRIVE_NORMALIZATION): tf.Tensor {
  return tf.tidy(() => {
    const last = traj.shape[traj.shape.length - 1];
    if (last !== 3) throw new Error(`denormalizeTrajectory: last axis should be 3 (x, y, heading), found shape [${traj.shape}].`);
    const cs = channels(n);
    const range = tf.tensor1d(cs.map((c) => f32(c.range)));
    const shift = tf.tensor1d(cs.map((c) => f32(-c.min)));
    return tf.sub(tf.mul(tf.div(tf.add(traj, 1), 2), range), shift);
  });
}

/** Float32Array version of `normalizeTrajectory` (flat [..., 3], float32 arithmetic). */
export function normalizeTrajectoryArray(data: ArrayLike<number>, n: TrajectoryNormalization = RECOGDRIVE_NORMALIZATION): Float32Array {
  if (data.length % 3 !== 0) throw new Error(`normalizeTrajectoryArray: length ${data.length} is not a multiple of 3.`);
  const cs = channels(n);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = cs[i % 3]!;
    out[i] = f32(f32(f32(2 * f32(data[i]! + f32(-c.min))) / f32(c.range)) - 1);
  }
  return out;
}

/** Float32Array version of `denormalizeTrajectory`. */
export function denormalizeTrajectoryArray(data: ArrayLike<number>, n: TrajectoryNormalization = RECOGDRIVE_NORMALIZATION): Float32Array {
  if (data.length % 3 !== 0) throw new Error(`denormalizeTrajectoryArray: length ${data.length} is not a multiple of 3.`);
  const cs = channels(n);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = cs[i % 3]!;
    out[i] = f32(f32(f32(f32(data[i]! + 1) / 2) * f32(c.range)) - f32(-c.min));
  }
  return out;
}
