/**
 * Host rows (`ILRows`) to the planner's tensor batch (`PlannerBatch`, declared with the planner
 * in `models/planner.ts`) and back out of memory. Used by the IL trainer, the DiffGRPO trainer
 * and the `planner sample` command.
 */
import * as tf from '@tensorflow/tfjs';
import type { PlannerBatch, PlannerInputs } from '../../models/planner.js';
import { HISTORY_SIZE, type ILRows, STATUS_SIZE, TARGET_SIZE } from './il-data.js';

export type { PlannerBatch } from '../../models/planner.js';

/** Uploads host rows [from, to) (default: all) to a tensor batch. The caller disposes it (`disposeBatch`). */
export function rowsToBatch(rows: ILRows, from = 0, to = rows.count): PlannerBatch {
  const x = rowsToInputs(rows, from, to);
  return {
    cond: x.hiddenStates as tf.Tensor3D,
    history: x.history as tf.Tensor2D,
    status: x.status as tf.Tensor2D,
    target: tf.tensor3d(rows.target.subarray(from * TARGET_SIZE, to * TARGET_SIZE), [to - from, 8, 3]),
  };
}

/** The planner's inputs (no target) of host rows [from, to). The caller disposes them (`disposeInputs`). */
export function rowsToInputs(rows: ILRows, from = 0, to = rows.count): PlannerInputs {
  const n = to - from, lh = rows.condLength * rows.condDim;
  return {
    hiddenStates: tf.tensor3d(rows.cond.subarray(from * lh, to * lh), [n, rows.condLength, rows.condDim]),
    history: tf.tensor2d(rows.history.subarray(from * HISTORY_SIZE, to * HISTORY_SIZE), [n, HISTORY_SIZE]),
    status: tf.tensor2d(rows.status.subarray(from * STATUS_SIZE, to * STATUS_SIZE), [n, STATUS_SIZE]),
  };
}

/** Frees a batch's tensors (any field may be missing). */
export function disposeBatch(b: Partial<PlannerBatch>): void {
  const all: (tf.Tensor | undefined)[] = [b.cond, b.history, b.status, b.target];
  tf.dispose(all.filter((t): t is tf.Tensor => t !== undefined));
}

/** Frees the tensors of planner inputs. */
export function disposeInputs(x: PlannerInputs): void {
  tf.dispose([x.hiddenStates, x.history, x.status]);
}
