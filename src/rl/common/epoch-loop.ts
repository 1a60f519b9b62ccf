/**
 * An epoch loop over a fixed set of rows with seeded shuffling, resumable at any step.
 *
 * Randomness: one parent stream (the run's seed). At the start of epoch e it is split once for
 * the shuffle; every step then splits one stream for its own randomness (loss noise, dropout).
 * The position stores the parent's state at the start of the epoch and the step within it, so a
 * resumed loop replays the shuffle and the splits exactly: a run stopped anywhere and resumed
 * takes the same steps, with the same rows and streams, as an uninterrupted one.
 */
import { Rng } from '../../core/rng.js';

/** Where an epoch loop is: saved in a checkpoint, restored on resume. */
export interface EpochPosition {
  /** Next epoch to run (0-based). */
  epoch: number;
  /** Steps already done in `epoch`. */
  stepInEpoch: number;
  globalStep: number;
  /** Parent stream state at the start of `epoch`. */
  epochRngState: number[];
  /** Sum of the losses of the steps done in `epoch`, to finish the epoch mean after a resume. */
  epochLossSum: number;
}

/** The position of a run that has not started, from its seed. */
export function initialPosition(seed: number): EpochPosition {
  return { epoch: 0, stepInEpoch: 0, globalStep: 0, epochRngState: new Rng(seed).state(), epochLossSum: 0 };
}

/** Minibatches per epoch (the last one may be smaller, as a PyTorch DataLoader without drop_last). */
export function stepsPerEpoch(numRows: number, batchSize: number): number {
  return Math.ceil(numRows / batchSize);
}

/**
 * The streams of the epoch at `pos`, replayed from its start state: the row order (a seeded
 * permutation, or 0..n−1 without `shuffle`) and the parent stream, already advanced past the
 * `pos.stepInEpoch` steps done.
 */
export function openEpoch(pos: EpochPosition, numRows: number, shuffle: boolean): { order: Int32Array; parent: Rng } {
  const parent = Rng.fromState(pos.epochRngState);
  const shuffleRng = parent.split();
  const order = shuffle ? shuffleRng.permutation(numRows) : Int32Array.from({ length: numRows }, (_, i) => i);
  for (let s = 0; s < pos.stepInEpoch; s++) parent.split();
  return { order, parent };
}

/** The rows of step `step` of an epoch's `order` (a view). */
export function batchRows(order: Int32Array, step: number, batchSize: number): Int32Array {
  return order.subarray(step * batchSize, Math.min((step + 1) * batchSize, order.length));
}

/** One step of the loop, as handed to `EpochLoopHooks.step`. */
export interface EpochStep {
  epoch: number;
  /** Step within the epoch (0-based). */
  step: number;
  /** Steps done before this one, over all epochs. */
  globalStep: number;
  /** Row indices of this step's minibatch. */
  rows: Int32Array;
  /** This step's own random stream. */
  rng: Rng;
}

export interface EpochLoopHooks {
  /** Runs one step; returns its loss (summed into the epoch mean). */
  step(s: EpochStep): Promise<number>;
  /** After the position has advanced past the step; 'stop' ends the loop there. */
  afterStep?(s: EpochStep): Promise<void | 'stop'> | void | 'stop';
  /** After the epoch's last step, with the position already at the next epoch; 'stop' ends the loop. */
  afterEpoch?(e: { epoch: number; meanLoss: number }): Promise<void | 'stop'> | void | 'stop';
}

/**
 * The loop: epochs of `stepsPerEpoch` minibatches over `numRows` rows in a seeded order. Holds
 * the position (`position`, restored with `restore`).
 */
export class EpochLoop {
  private pos: EpochPosition;

  constructor(readonly numRows: number, readonly batchSize: number, readonly shuffle: boolean, seed: number) {
    this.pos = initialPosition(seed);
  }

  get stepsPerEpoch(): number {
    return stepsPerEpoch(this.numRows, this.batchSize);
  }

  get position(): Readonly<EpochPosition> {
    return this.pos;
  }

  /** A copy of the position, for a checkpoint. */
  snapshot(): EpochPosition {
    return { ...this.pos, epochRngState: [...this.pos.epochRngState] };
  }

  /** Continues from a saved position. */
  restore(pos: EpochPosition): void {
    this.pos = { ...pos, epochRngState: [...pos.epochRngState] };
  }

  /**
   * Runs until the start of epoch `until.epochs`, or until `until.steps` steps in all were done,
   * or a hook returns 'stop'. Returns true when it stopped before `until.epochs`.
   */
  async run(until: { epochs: number; steps?: number }, hooks: EpochLoopHooks): Promise<boolean> {
    const spe = this.stepsPerEpoch;
    const stopStep = until.steps ?? Number.POSITIVE_INFINITY;
    while (this.pos.epoch < until.epochs) {
      const epoch = this.pos.epoch;
      const { order, parent } = openEpoch(this.pos, this.numRows, this.shuffle);
      while (this.pos.stepInEpoch < spe) {
        if (this.pos.globalStep >= stopStep) return true;
        const s: EpochStep = { epoch, step: this.pos.stepInEpoch, globalStep: this.pos.globalStep, rows: batchRows(order, this.pos.stepInEpoch, this.batchSize), rng: parent.split() };
        const loss = await hooks.step(s);
        this.pos.stepInEpoch += 1;
        this.pos.globalStep += 1;
        this.pos.epochLossSum += loss;
        if ((await hooks.afterStep?.(s)) === 'stop') return true;
      }
      const meanLoss = this.pos.epochLossSum / spe;
      // The next epoch starts from the parent stream after all of this epoch's splits.
      this.pos = { epoch: epoch + 1, stepInEpoch: 0, globalStep: this.pos.globalStep, epochRngState: parent.state(), epochLossSum: 0 };
      if ((await hooks.afterEpoch?.({ epoch, meanLoss })) === 'stop') return this.pos.epoch < until.epochs;
    }
    return false;
  }
}
