/**
 * Checks of the files named on the command line, before a reader sees them: a missing path, a
 * folder, an empty file or a file of another kind (a scenes file given as a hidden-state cache)
 * is an `InputError` naming the flag or argument, what it expects and what was found.
 */
import * as fs from 'node:fs';
import { RecordBatchReader } from 'apache-arrow';
import { InputError } from '../core/errors.js';

/** What the first bytes of a file say it is. */
export type FileKind = 'arrow-file' | 'arrow-stream' | 'json' | 'other';

/** The arguments are `flag` (e.g. `--cache`) and `expected` (e.g. `a hidden-state cache (Arrow)`). */
function fail(file: string, flag: string, expected: string, found: string, hint?: string): never {
  const where = flag.startsWith('--') ? `${flag} ${file}` : file;
  throw new InputError(`${where}: expected ${expected}, found ${found}.${hint ? ` ${hint}` : ''}`, { file, field: flag, expected, found });
}

/**
 * Checks that `file` exists, is a file and is not empty; returns what its first bytes say it is.
 * `flag` names where it came from (`--cache`, or `argument` for positionals).
 */
export function checkInputFile(file: string, flag: string, expected: string): FileKind {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    fail(file, flag, expected, 'no such file');
  }
  if (stat.isDirectory()) fail(file, flag, expected, 'a folder');
  if (stat.size === 0) fail(file, flag, expected, 'an empty file (0 bytes)');
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.subarray(0, 6).toString('latin1') === 'ARROW1') return 'arrow-file';
  if (head.readUInt32LE(0) === 0xffffffff) return 'arrow-stream';
  const first = head.toString('utf8').replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '{' || first === '[') return 'json';
  return 'other';
}

/** Column names and metadata of an Arrow file (footer only; rows are not read), or null if unreadable. */
export async function arrowColumns(file: string): Promise<{ columns: string[]; metadata: Map<string, string> } | null> {
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(file, 'r');
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    return { columns: reader.schema.fields.map((f) => f.name), metadata: reader.schema.metadata };
  } catch {
    return null;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

const CACHE_COLUMNS = ['token', 'cond', 'history', 'status', 'target'];
const SCENE_COLUMNS = ['name', 'schema', 'ego', 'agents'];
const TRAJECTORY_COLUMNS = ['token', 'sample', 'trajectory'];

/** In words, what an Arrow file with these columns is (for "found ..."). */
function arrowKindOf(columns: string[]): string {
  const has = (cs: string[]) => cs.every((c) => columns.includes(c));
  if (has(CACHE_COLUMNS)) return 'a hidden-state cache';
  if (has(SCENE_COLUMNS)) return 'a NAVSIM scenes file (written by `drivekit navsim pack`)';
  if (has(TRAJECTORY_COLUMNS)) return 'a trajectory file (written by `drivekit planner sample`)';
  return `an Arrow file with columns ${columns.slice(0, 8).join(', ')}${columns.length > 8 ? ', ...' : ''}`;
}

const CACHE_EXPECTED = 'a hidden-state cache (Arrow IPC file with columns token, cond, history, status, target)';
const CACHE_HINT = 'Write one from your VLM (docs/il-training.md) or try `drivekit planner make-synthetic-cache --out cache.arrow --rows 256`.';

/** Checks a `--cache`/`--val-cache` argument before the cache reader opens it. */
export async function checkCacheFile(file: string, flag: string): Promise<void> {
  const kind = checkInputFile(file, flag, CACHE_EXPECTED);
  if (kind === 'json') fail(file, flag, CACHE_EXPECTED, 'a JSON file', CACHE_HINT);
  if (kind === 'other') fail(file, flag, CACHE_EXPECTED, 'a file that is not Arrow (no ARROW1 magic)', CACHE_HINT);
  if (kind === 'arrow-stream') return; // the reader says stream vs file
  const info = await arrowColumns(file);
  if (!info) return; // damaged: the reader names what is wrong
  const what = arrowKindOf(info.columns);
  if (what !== 'a hidden-state cache') fail(file, flag, CACHE_EXPECTED, what, CACHE_HINT);
}

const SCENES_EXPECTED = 'a NAVSIM scene file (.json: one scene, a golden file or an array of scenes; .arrow: from `drivekit navsim pack`)';

/** Checks a scene file argument of `navsim score`/`pack`; returns what it is. */
export async function checkSceneFile(file: string): Promise<'json' | 'arrow'> {
  const kind = checkInputFile(file, 'argument', SCENES_EXPECTED);
  if (kind === 'arrow-file' || kind === 'arrow-stream') {
    const info = await arrowColumns(file);
    if (info && !SCENE_COLUMNS.every((c) => info.columns.includes(c))) fail(file, 'argument', SCENES_EXPECTED, arrowKindOf(info.columns));
    return 'arrow';
  }
  if (file.endsWith('.arrow')) fail(file, 'argument', SCENES_EXPECTED, `a .arrow file that is not Arrow (it starts with ${JSON.stringify(fs.readFileSync(file).subarray(0, 16).toString('latin1'))})`);
  return 'json';
}
