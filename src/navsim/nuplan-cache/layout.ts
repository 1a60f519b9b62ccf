/**
 * The folder layout of a NAVSIM metric cache and its metadata CSV:
 *
 *     <cache>/<log_name>/<scenario_type>/<token>/metric_cache.pkl
 *     <cache>/metadata/metric_cache_metadata_node_<k>.csv     header `file_name`, one absolute path per row
 *
 * The CSV rows hold absolute paths of the machine that built the cache; each row is resolved by
 * its last four path parts (`log/type/token/metric_cache.pkl`) under the folder given. Without a
 * metadata folder the cache folder is walked for `metric_cache.pkl` files. A row that resolves to
 * no file is kept in `unresolved` as a `NavsimCacheError` naming the CSV, the row and the token.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../core/errors.js';
import { NavsimCacheError } from './pickle.js';

export const METRIC_CACHE_FILE = 'metric_cache.pkl';
export const METADATA_DIR = 'metadata';

/** One scene file of a cache. */
export interface NavsimCacheFileRef {
  token: string;
  logName: string;
  scenarioType: string;
  /** The file on this machine. */
  file: string;
  /** Where it was listed: `<csv>:<row>` or `walk`. */
  listedIn: string;
}

export interface NavsimCacheListing {
  /** The cache folder (the one holding `metadata/`). */
  root: string;
  files: NavsimCacheFileRef[];
  /** The metadata CSVs read (empty when the folder was walked). */
  metadata: string[];
  /** Metadata rows that resolve to no file (or are no cache path), each naming the CSV row and the token. */
  unresolved: NavsimCacheError[];
}

function refOf(root: string, parts: string[], listedIn: string): NavsimCacheFileRef {
  const [logName, scenarioType, token] = parts.slice(-4) as [string, string, string];
  return { token, logName, scenarioType, file: path.join(root, ...parts.slice(-4)), listedIn };
}

function splitPath(p: string): string[] {
  return p.split(/[\\/]+/).filter((s) => s.length > 0);
}

/** Reads the `file_name` column of a metadata CSV (a quoted value may hold commas). */
function csvPaths(csv: string, text: string): { row: number; value: string }[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  const col = header.indexOf('file_name');
  if (col < 0) {
    const details = { file: csv, field: 'header', expected: 'a file_name column', found: lines[0] ?? '' };
    throw new InputError(InputError.format(details), details);
  }
  const out: { row: number; value: string }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells: string[] = [];
    let cur = '', quoted = false;
    for (let k = 0; k < line.length; k++) {
      const ch = line[k]!;
      if (quoted) {
        if (ch === '"' && line[k + 1] === '"') {
          cur += '"';
          k++;
        } else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') {
        cells.push(cur);
        cur = '';
      } else cur += ch;
    }
    cells.push(cur);
    out.push({ row: i + 1, value: (cells[col] ?? '').trim() });
  }
  return out;
}

function walk(root: string): NavsimCacheFileRef[] {
  const out: NavsimCacheFileRef[] = [];
  const visit = (dir: string, rel: string[]) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.isDirectory()) {
        if (rel.length < 3 && !(rel.length === 0 && e.name === METADATA_DIR)) visit(path.join(dir, e.name), [...rel, e.name]);
      } else if (e.isFile() && e.name === METRIC_CACHE_FILE && rel.length === 3) {
        out.push(refOf(root, [...rel, e.name], 'walk'));
      }
    }
  };
  visit(root, []);
  return out;
}

/**
 * Lists the scene files of a NAVSIM metric cache folder (or of its parent holding `metric_cache/`).
 * With `metadata/*.csv` the rows are resolved under the folder; without, the folder is walked.
 */
export function listNavsimCache(dir: string): NavsimCacheListing {
  let root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    const details = { file: root, expected: 'a NAVSIM metric cache folder', found: fs.existsSync(root) ? 'a file' : 'nothing' };
    throw new InputError(InputError.format(details), details);
  }
  if (!fs.existsSync(path.join(root, METADATA_DIR)) && fs.existsSync(path.join(root, 'metric_cache', METADATA_DIR))) root = path.join(root, 'metric_cache');
  const metaDir = path.join(root, METADATA_DIR);
  const csvs = fs.existsSync(metaDir) ? fs.readdirSync(metaDir).filter((f) => f.endsWith('.csv')).sort().map((f) => path.join(metaDir, f)) : [];
  if (csvs.length === 0) return { root, files: walk(root), metadata: [], unresolved: [] };
  const files: NavsimCacheFileRef[] = [];
  const unresolved: NavsimCacheError[] = [];
  for (const csv of csvs) {
    for (const { row, value } of csvPaths(csv, fs.readFileSync(csv, 'utf8'))) {
      const parts = splitPath(value);
      const listedIn = `${csv}:${row}`;
      const token = parts.length >= 2 ? parts[parts.length - 2]! : value;
      if (parts.length < 4 || parts[parts.length - 1] !== METRIC_CACHE_FILE) {
        unresolved.push(new NavsimCacheError({ file: listedIn, token }, 'file_name', `a path ending <log>/<scenario_type>/<token>/${METRIC_CACHE_FILE}`, value));
        continue;
      }
      const ref = refOf(root, parts, listedIn);
      if (!fs.existsSync(ref.file)) {
        unresolved.push(new NavsimCacheError({ file: listedIn, token: ref.token }, 'file_name', `a file at ${ref.file} (the row's last four path parts under ${root})`, value));
        continue;
      }
      files.push(ref);
    }
  }
  return { root, files, metadata: csvs, unresolved };
}
