/**
 * Atomic file writes: data goes to a temporary file in the target's directory, is flushed to
 * disk, and only then renamed over the target. A failure at any point removes the temporary file
 * and leaves an existing target untouched (rename is atomic within one file system).
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
