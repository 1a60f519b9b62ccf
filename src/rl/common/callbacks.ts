/**
 * Typed training events and callbacks (SB3's `BaseCallback`, with a discriminated union instead
 * of `locals()`). A callback returning `'stop'` ends training after the current iteration (the
 * trainers then write their resumable checkpoint, as at any other stop).
 *
 * Events, in order: `start`; per iteration (an optimiser step of an epoch-based learner, a
 * rollout + update of an on-policy one) `iteration`, with `episode` as episodes end; `evaluation`
 * after a validation or evaluation pass; `checkpoint` after a folder was written; `end`.
 */
import type { LogRecord } from '../../core/logger.js';

export type TrainEvent =
  | { type: 'start'; algorithm: string; totalTimesteps: number; startTimesteps: number }
  | { type: 'episode'; timesteps: number; return: number; length: number; env: number; info?: unknown }
  | { type: 'iteration'; iteration: number; timesteps: number; log: LogRecord }
  | { type: 'evaluation'; iteration: number; timesteps: number; metrics: Record<string, number> }
  | { type: 'checkpoint'; iteration: number; timesteps: number; dir: string; kind?: 'last' | 'best' }
  | { type: 'end'; iteration: number; timesteps: number; stopped: boolean };

export type Callback = (event: TrainEvent) => void | 'stop';

/** A namespaced metric sink (SB3 style: `train/loss`, `val/l1`); `core/logger`'s `Logger` fits it. */
export interface MetricSink {
  record(key: string, value: number | string): void;
  dump(step: number): void;
}

/** Calls every callback; true if any asked to stop. */
export function emit(callbacks: readonly Callback[], event: TrainEvent): boolean {
  let stop = false;
  for (const cb of callbacks) if (cb(event) === 'stop') stop = true;
  return stop;
}

/** Stops training once the mean of the last `window` episode returns reaches `threshold` (SB3 StopTrainingOnRewardThreshold). */
export function stopOnReward(threshold: number, window = 100): Callback {
  const last: number[] = [];
  return (e) => {
    if (e.type !== 'episode') return;
    last.push(e.return);
    if (last.length > window) last.shift();
    if (last.length === window && last.reduce((a, b) => a + b, 0) / window >= threshold) return 'stop';
  };
}
