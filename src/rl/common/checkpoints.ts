/**
 * The checkpoint folders of a training run's output directory:
 *
 * - `last/`: the resumable state, replaced as a whole (`writeDirAtomic`: written into a temporary
 *   folder, then swapped in; `recover` puts back a copy left by a crash between the renames);
 * - `best-epoch-XXXX/`: the best `keepBest` checkpoints by a metric where lower is better (a
 *   validation loss or L1); a better one is written first, then the worst beyond `keepBest` is
 *   deleted, so at no time are fewer than the best k on disk.
 *
 * Only folders inside this output directory are ever deleted: `adoptBest` drops entries of a
 * run that lived elsewhere (a run resumed into a new directory keeps the original's files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recoverDir, writeDirAtomic } from '../../core/atomic.js';

/** A kept checkpoint: the epoch it was taken at, its metric (lower is better) and its folder. */
export interface RankedCheckpoint {
  epoch: number;
  value: number;
  dir: string;
}

export interface CheckpointDirsOptions {
  /** How many best checkpoints to keep (0: none). */
  keepBest: number;
  /** Name of the resumable folder (default `last`). */
  lastName?: string;
  /** Name of a best folder from its epoch (default `best-epoch-XXXX`, 4 digits). */
  bestName?: (epoch: number) => string;
}

const pad4 = (n: number) => String(n).padStart(4, '0');

export class CheckpointDirs {
  readonly outDir: string;
  readonly keepBest: number;
  private readonly lastName: string;
  private readonly bestName: (epoch: number) => string;
  private ranked: RankedCheckpoint[] = [];

  constructor(outDir: string, options: CheckpointDirsOptions) {
    this.outDir = outDir;
    this.keepBest = options.keepBest;
    this.lastName = options.lastName ?? 'last';
    this.bestName = options.bestName ?? ((epoch) => `best-epoch-${pad4(epoch)}`);
  }

  /** The resumable folder (`outDir/last`). */
  get lastDir(): string {
    return path.join(this.outDir, this.lastName);
  }

  /** The kept best checkpoints, best first (ties: earlier epoch first). */
  get best(): readonly RankedCheckpoint[] {
    return this.ranked;
  }

  /** Replaces `last/` atomically with what `fill` writes into a temporary folder; returns its path. */
  async writeLast(fill: (tmp: string) => Promise<void>): Promise<string> {
    await writeDirAtomic(this.lastDir, fill);
    return this.lastDir;
  }

  /** Whether a checkpoint with metric `value` would be kept (finite and better than the k-th best). */
  qualifies(value: number): boolean {
    if (this.keepBest === 0 || !Number.isFinite(value)) return false;
    const worst = this.ranked.length >= this.keepBest ? this.ranked[this.ranked.length - 1]! : null;
    return !worst || value < worst.value;
  }

  /**
   * Writes a best checkpoint for `epoch` (atomically, through `fill`) when `value` qualifies,
   * then deletes the ones beyond `keepBest`. Returns the new folder, or null when not kept.
   */
  async offerBest(epoch: number, value: number, fill: (tmp: string) => Promise<void>): Promise<string | null> {
    if (!this.qualifies(value)) return null;
    const dir = path.join(this.outDir, this.bestName(epoch));
    await writeDirAtomic(dir, fill);
    this.ranked.push({ epoch, value, dir });
    this.ranked.sort((a, b) => a.value - b.value || a.epoch - b.epoch);
    while (this.ranked.length > this.keepBest) {
      const drop = this.ranked.pop()!;
      await fs.promises.rm(drop.dir, { recursive: true, force: true });
    }
    return dir;
  }

  /**
   * Takes over the best checkpoints recorded by a resumed run, keeping only those that are
   * inside this output directory and still exist (so pruning never reaches another run's files).
   */
  adoptBest(entries: readonly RankedCheckpoint[]): void {
    const here = path.resolve(this.outDir);
    this.ranked = entries.filter((b) => path.resolve(path.dirname(b.dir)) === here && fs.existsSync(b.dir)).map((b) => ({ ...b }));
  }

  /** Puts back a checkpoint folder that a crash left in its temporary or `.old` copy (see `recoverDir`). */
  static async recover(dir: string): Promise<void> {
    await recoverDir(dir);
  }
}
