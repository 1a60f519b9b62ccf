/**
 * Atomic file writes: data goes to a temporary file in the target's directory, is flushed to
 * disk, and only then renamed over the target. A failure at any point removes the temporary file
 * and leaves an existing target untouched (rename is atomic within one file system).
 *
 * Directories (checkpoints) cannot be renamed over each other, so they take two renames:
 *
 * ```ts
 * await writeDirAtomic('out/last', async (tmp) => { ... write files into tmp ... });
 * const r = await recoverDir('out/last'); // after a crash: r.dir is 'out/last' again, or null
 * ```
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let counter = 0;

/** A fresh temporary path next to `target` (same directory, so the final rename is atomic). */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  counter = (counter + 1) % 1_000_000;
  return path.join(dir, `.${base}.tmp-${process.pid}-${Date.now().toString(36)}-${counter}`);
}

/** Writes `data` to `target` atomically (synchronous). */
export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(target);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.byteLength) {
      written += fs.writeSync(fd, bytes, written, bytes.byteLength - written);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing; keep the first error */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes `data` to `target` atomically. */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await withAtomicFile(target, async (fh) => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.byteLength) {
      const r = await fh.write(bytes, written, bytes.byteLength - written);
      written += r.bytesWritten;
    }
  });
}

/**
 * Opens a temporary file next to `target`, lets `fill` write into it, then syncs and renames it
 * over `target`. If `fill` throws, the temporary file is removed and the error re-thrown; the
 * target is never touched.
 */
export async function withAtomicFile<T>(target: string, fill: (fh: fs.promises.FileHandle, tmpPath: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(target);
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(tmp, 'wx');
    const result = await fill(fh, tmp);
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.promises.rename(tmp, target);
    return result;
  } catch (e) {
    if (fh !== null) await fh.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Directories (checkpoints): fill a temporary sibling, mark it complete, swap it in.

/** The file written last into a directory by `writeDirAtomic`: its presence means "complete". */
export const DIR_COMPLETE_MARKER = '.complete';

/** The instants of `writeDirAtomic`, in order, at which its `hook` runs (for crash tests). */
export type DirWriteStep =
  /** `fill` has written the temporary folder; no marker yet. */
  | 'filled'
  /** The marker is in the temporary folder: it is a complete checkpoint. */
  | 'marked'
  /** A stale `<target>.old` from an earlier crash has been removed. */
  | 'old-removed'
  /** The previous `<target>` has been renamed to `<target>.old` (no `<target>` now). */
  | 'moved-aside'
  /** The temporary folder has been renamed to `<target>`. */
  | 'swapped'
  /** `<target>.old` has been removed; the write is over. */
  | 'done';

export interface WriteDirOptions {
  /**
   * Called at each step of the swap. A throw from it leaves the files exactly as a crash at that
   * instant would (no clean-up runs): tests use it to simulate `kill -9` between two renames.
   */
  hook?: (step: DirWriteStep) => void | Promise<void>;
}

export interface RecoverDirOptions {
  /**
   * Temporary folders created before this time (ms since the epoch) belong to an earlier run and
   * are removed, even if their process id is alive again (pid reuse). Default: this process's
   * start time.
   */
  olderThan?: number;
}

export interface RecoverDirResult {
  /** `target` when a complete checkpoint is there now (possibly restored), else null. */
  dir: string | null;
  /** Where the checkpoint came from: already in place, `<target>.old`, or a temporary folder. */
  source: 'target' | 'old' | 'temp' | null;
  /** Folders removed: stale temporary folders and an obsolete `<target>.old`. */
  removed: string[];
}

const PROCESS_START_MS = Date.now() - process.uptime() * 1000;

/** The prefix of every temporary folder `writeDirAtomic` makes for `target`. */
function dirTempPrefix(target: string): string {
  return `.${path.basename(target)}.tmp-`;
}

/**
 * `{owner, pid, createdMs}` parsed from the name of a temporary file or folder made by
 * `tempPathFor` or `writeDirAtomic` (`.<owner>.tmp-<pid>-<base-36 ms>-...`), or null.
 */
function parseTempName(name: string): { owner: string; pid: number; createdMs: number } | null {
  const m = /^\.(.+)\.tmp-(\d+)-([0-9a-z]+)-/.exec(name);
  if (!m) return null;
  return { owner: m[1]!, pid: Number(m[2]), createdMs: parseInt(m[3]!, 36) };
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The marker's write time (ms) if `dir` holds a complete checkpoint, else null. */
function completeAt(dir: string): number | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, DIR_COMPLETE_MARKER), 'utf8')) as { writtenAt?: unknown };
    return typeof m.writtenAt === 'number' && Number.isFinite(m.writtenAt) ? m.writtenAt : 0;
  } catch {
    return null;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes renames and new entries durable; best effort (not every platform can open a folder).
  try {
    const fh = await fs.promises.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* ignore */
  }
}

/**
 * Writes a directory atomically: `fill(tmp)` writes into a fresh temporary sibling
 * (`.<name>.tmp-<pid>-<time>-XXXXXX`), a marker file (`DIR_COMPLETE_MARKER`) is written last,
 * then the previous `target` is moved to `<target>.old`, the temporary folder renamed to
 * `target`, and `<target>.old` removed. A crash at any instant leaves at least one complete copy
 * (`target`, `<target>.old` or the marked temporary folder) that `recoverDir` finds. If `fill`
 * throws, the temporary folder is removed and `target` is untouched.
 */
export async function writeDirAtomic(target: string, fill: (tmp: string) => Promise<void>, options: WriteDirOptions = {}): Promise<void> {
  const hook = options.hook ?? (() => undefined);
  const parent = path.dirname(target);
  await fs.promises.mkdir(parent, { recursive: true });
  const tmp = await fs.promises.mkdtemp(path.join(parent, `${dirTempPrefix(target)}${process.pid}-${Date.now().toString(36)}-`));
  try {
    await fill(tmp);
  } catch (e) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await hook('filled');
  await writeFileAtomic(path.join(tmp, DIR_COMPLETE_MARKER), JSON.stringify({ writtenAt: Date.now(), pid: process.pid }) + '\n');
  await fsyncDir(tmp);
  await hook('marked');
  const old = `${target}.old`;
  await fs.promises.rm(old, { recursive: true, force: true });
  await hook('old-removed');
  const existed = fs.existsSync(target);
  if (existed) {
    await fs.promises.rename(target, old);
    await hook('moved-aside');
  }
  await fs.promises.rename(tmp, target);
  await fsyncDir(parent);
  await hook('swapped');
  if (existed) await fs.promises.rm(old, { recursive: true, force: true });
  await hook('done');
}

/**
 * Brings `target` back after a crash of `writeDirAtomic` and removes what killed runs left:
 *
 * 1. `target` exists: it is used as is (folders written before the marker existed count as
 *    complete).
 * 2. Otherwise the newest complete candidate (by the marker's time) among `<target>.old` and
 *    the marked temporary folders is renamed to `target`.
 * 3. Temporary files and folders in `target`'s parent (of any name: `best-epoch-*` checkpoints,
 *    atomic files) made by processes that are gone, or created before `olderThan`, are removed,
 *    and so is `<target>.old` once `target` is in place.
 *
 * Returns `{dir: null}` when there is nothing to recover; never throws for a missing `target`.
 */
export async function recoverDir(target: string, options: RecoverDirOptions = {}): Promise<RecoverDirResult> {
  const olderThan = options.olderThan ?? PROCESS_START_MS;
  const parent = path.dirname(target);
  const old = `${target}.old`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.promises.readdir(parent);
  } catch {
    return { dir: null, source: null, removed };
  }
  const temps = names
    .map((name) => ({ name, info: parseTempName(name), full: path.join(parent, name) }))
    .filter((t): t is { name: string; info: { owner: string; pid: number; createdMs: number }; full: string } => t.info !== null);
  let source: RecoverDirResult['source'] = null;
  if (fs.existsSync(target)) {
    source = 'target';
  } else {
    let best: { dir: string; at: number; kind: 'old' | 'temp' } | null = null;
    const oldAt = fs.existsSync(old) ? completeAt(old) : null;
    if (oldAt !== null) best = { dir: old, at: oldAt, kind: 'old' };
    for (const t of temps) {
      if (t.info.owner !== path.basename(target)) continue;
      const at = completeAt(t.full);
      if (at !== null && (best === null || at > best.at)) best = { dir: t.full, at, kind: 'temp' };
    }
    if (best) {
      await fs.promises.rename(best.dir, target);
      await fsyncDir(parent);
      source = best.kind;
    }
  }
  for (const t of temps) {
    if (!fs.existsSync(t.full)) continue;
    if (!pidAlive(t.info.pid) || t.info.createdMs < olderThan) {
      await fs.promises.rm(t.full, { recursive: true, force: true });
      removed.push(t.full);
    }
  }
  if (source !== null && fs.existsSync(old)) {
    await fs.promises.rm(old, { recursive: true, force: true });
    removed.push(old);
  }
  return { dir: source === null ? null : target, source, removed };
}
