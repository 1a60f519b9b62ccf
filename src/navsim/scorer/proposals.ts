/**
 * Proposals as trajectories (poses in the ego or global frame) and their reference states for the
 * LQR tracker (41 states at 0.1 s), as NAVSIM interpolates them.
 */
import { referenceStatesFromPoses } from '../interpolate.js';
import { NUM_STATES, NavsimInputError, STATE_SIZE, type PDMScene, type PoseTrajectory } from '../types.js';

/** A trajectory to score: poses (x, y, heading) from t0 + interval, NAVSIM default 8 x 0.5 s. */
export interface Trajectory {
  poses: ArrayLike<number> | readonly (readonly number[])[];
  frame?: 'ego' | 'global';
  intervalS?: number;
}

function flattenPoses(p: Trajectory['poses']): Float64Array {
  if (p instanceof Float64Array) return p;
  const arr = p as ArrayLike<unknown>;
  if (arr.length > 0 && Array.isArray(arr[0])) {
    const rows = p as readonly (readonly number[])[];
    const out = new Float64Array(rows.length * 3);
    rows.forEach((r, i) => {
      out[3 * i] = r[0]!;
      out[3 * i + 1] = r[1]!;
      out[3 * i + 2] = r[2]!;
    });
    return out;
  }
  return Float64Array.from(p as ArrayLike<number>);
}

/**
 * Reference states (P x 41 x 11) of proposals given as trajectories or a flat ego-frame pose array.
 * Throws `NavsimInputError` on non-finite poses or wrong sizes.
 */
export function proposalsToReferenceStates(
  scene: PDMScene,
  proposals: readonly Trajectory[] | Float64Array,
  opts: { posesPerProposal?: number; intervalS?: number } = {},
): { refs: Float64Array; count: number } {
  const list: PoseTrajectory[] = [];
  if (proposals instanceof Float64Array) {
    const k = opts.posesPerProposal ?? 8;
    if (!(Number.isInteger(k) && k >= 1)) throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: posesPerProposal must be a positive integer, found ${k}`, scene.name, 'posesPerProposal');
    if (proposals.length % (3 * k) !== 0) {
      throw new NavsimInputError(
        `scene ${JSON.stringify(scene.name)}: proposals: expected a multiple of ${3 * k} values (${k} poses x 3), found ${proposals.length}`,
        scene.name,
        'proposals',
      );
    }
    const count = proposals.length / (3 * k);
    for (let p = 0; p < count; p++) list.push({ frame: 'ego', poses: proposals.subarray(3 * k * p, 3 * k * (p + 1)), intervalS: opts.intervalS ?? 0.5 });
  } else {
    proposals.forEach((t) => list.push({ frame: t.frame ?? 'ego', poses: flattenPoses(t.poses), intervalS: t.intervalS ?? opts.intervalS ?? 0.5 }));
  }
  const refs = new Float64Array(list.length * NUM_STATES * STATE_SIZE);
  list.forEach((t, p) => {
    const n = Math.floor(t.poses.length / 3);
    if (n < 1 || t.poses.length !== 3 * n) {
      throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: proposals[${p}].poses: expected n x 3 values with n >= 1, found ${t.poses.length}`, scene.name, `proposals[${p}].poses`);
    }
    for (let i = 0; i < t.poses.length; i++) {
      if (!Number.isFinite(t.poses[i]!)) {
        throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: proposals[${p}].poses[${Math.floor(i / 3)}][${i % 3}]: expected a finite number, found ${t.poses[i]}`, scene.name, `proposals[${p}].poses`);
      }
    }
    if (!(t.intervalS > 0 && Number.isFinite(t.intervalS))) {
      throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: proposals[${p}].intervalS: expected a positive number, found ${t.intervalS}`, scene.name, `proposals[${p}].intervalS`);
    }
    referenceStatesFromPoses(scene.ego, scene.timestampUs, t.poses, n, t.frame, t.intervalS, refs, p * NUM_STATES * STATE_SIZE);
  });
  return { refs, count: list.length };
}
