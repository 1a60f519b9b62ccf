/**
 * The NAVSIM metric cache: per scene, everything scoring needs, PDM-Closed's result included
 * (computed once, at build time), in sharded Arrow IPC files with a manifest.
 *
 * ```ts
 * const manifest = await buildMetricCache('cache/', seedScenes(0, 1000), { shardSize: 256 });
 * const cache = openMetricCache('cache/');          // format version + shard hashes checked
 * const c = cache.scene(17);                        // or cache.scene('gen_000017'): decoded once
 * const { score, metrics } = scoreCachedScene(c, poses, G, { version: 'v1.1' });
 * const report = verifyMetricCache('cache/', { sample: 0.01 }); // recompute, compare bit for bit
 * ```
 *
 * Layout of `DIR/`:
 * - `manifest.json`: `format` (`METRIC_CACHE_FORMAT`), `drivekitVersion`, `scorerVersion`,
 *   `versions`, `numScenes`, `names` and `seeds` per scene, and per shard `{file, rows, firstIndex,
 *   sha256}` (sha256 of the whole shard file).
 * - `shard-00000.arrow`, ...: the scene columns of `arrow-scenes.ts` (Float64 throughout) plus, per
 *   cached version `v` (`v1_1`, `v2_2`): `pdm_closed_<v>` (PDM-Closed's states, 11 per 0.1 s step,
 *   the EP normaliser), `pdm_closed_source_<v>` (`pinned` or `planner`) and `human_metrics_<v>`
 *   (the scene's own trajectory scored at build time, `METRIC_NAMES[v]` then `score`; a fixed probe
 *   that `verify` recomputes), and `seed` (generated scenes, else null).
 *
 * Scoring a cached scene runs no PDM-Closed and parses nothing: the scene is decoded from its shard
 * once, `prepareScene` (observation, drivable map, centerline) runs once per scene and version and
 * stays cached with it, and each call simulates and scores only the proposals. The result equals
 * `scoreScene(scene, proposals, {version})` bit for bit.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Field, Float64, List, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { writeFileAtomicSync } from '../core/atomic.js';
import { ConfigError, InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { VERSION } from '../core/version.js';
import { sceneToJson, scenesFromArrowTable, scenesToArrowTable } from './arrow-scenes.js';
import { DEFAULT_PDM_CLOSED, pdmClosedStates, runPDMClosedOnScene } from './pdm-closed.js';
import { parseScene } from './scene-json.js';
import { generateScene } from './scenegen.js';
import { initialStateArray, referenceStatesFromPoses } from './interpolate.js';
import { prepareScene, scoreProposalsDetailed, toGoldenMetrics } from './scorer.js';
import { simulateProposals } from './simulate.js';
import type { PDMScene, PDMVersion, PDMWeights } from './types.js';

/** Format of the files; another value in a manifest is an error naming both. */
export const METRIC_CACHE_FORMAT = 'drivekit.navsim.metric-cache/1';
/** Revision of the numbers the cache holds (PDM-Closed with its default config, the PDM scorer); bump when they change. */
export const METRIC_CACHE_SCORER = 'navsim-pdm-v1.1+v2.2/pdm-closed-default/1';
export const MANIFEST_FILE = 'manifest.json';
export const PDM_VERSIONS: readonly PDMVersion[] = ['v1.1', 'v2.2'];

/** Sub-metrics per version, golden / NAVSIM key names, in the order of `toGoldenMetrics` (without `score`). */
export const METRIC_NAMES: Readonly<Record<PDMVersion, readonly string[]>> = {
  'v1.1': ['no_at_fault_collisions', 'drivable_area_compliance', 'driving_direction_compliance', 'ego_progress', 'time_to_collision_within_bound', 'comfort'],
  'v2.2': [
    'no_at_fault_collisions', 'drivable_area_compliance', 'driving_direction_compliance', 'traffic_light_compliance', 'ego_progress',
    'time_to_collision_within_bound', 'lane_keeping', 'history_comfort', 'two_frame_extended_comfort',
  ],
};

export interface MetricCacheShard {
  /** File name inside the cache folder. */
  file: string;
  rows: number;
  /** Global index of the shard's first scene. */
  firstIndex: number;
  /** sha256 of the shard file, hex. */
  sha256: string;
}

export interface MetricCacheManifest {
  format: string;
  drivekitVersion: string;
  scorerVersion: string;
  /** PDM versions whose PDM-Closed result is cached. */
  versions: PDMVersion[];
  numScenes: number;
  /** Scene name (token) per global index. */
  names: string[];
  /** Generator seed per global index (null for scenes read from files). */
  seeds: (number | null)[];
  shards: MetricCacheShard[];
  /** What the scenes came from (informative). */
  source: Record<string, unknown>;
}

/** One cached scene: the scene plus what scoring needs per version. */
export interface CachedScene {
  index: number;
  name: string;
  seed: number | null;
  scene: PDMScene;
  /** PDM-Closed's states per cached version (n x 11 at 0.1 s from t0), the EP normaliser. */
  pdmClosed: Partial<Record<PDMVersion, Float64Array>>;
  pdmClosedSource: Partial<Record<PDMVersion, 'pinned' | 'planner'>>;
  /** The scene's own trajectory scored at build time: `METRIC_NAMES[v]` then the score; null without one. */
  humanMetrics: Partial<Record<PDMVersion, Float64Array | null>>;
}

/** What `buildMetricCache` takes per scene. */
export interface MetricCacheSource {
  scene: PDMScene;
  seed?: number | null;
}

export interface BuildMetricCacheOptions {
  /** Scenes per shard file (default 256). */
  shardSize?: number;
  /** PDM versions to cache (default both). */
  versions?: readonly PDMVersion[];
  /** Replace an existing cache folder (default false: an existing non-empty folder is an error). */
  force?: boolean;
  /** Informative description of the input, kept in the manifest. */
  source?: Record<string, unknown>;
  /** Called after each scene with (done, total or undefined). */
  onProgress?: (done: number) => void;
}

export interface OpenMetricCacheOptions {
  /** 'open': hash every shard now (default); 'load': hash each shard when it is first read. */
  checkHashes?: 'open' | 'load';
  /**
   * Shard tables kept in memory at once (default: no count limit, only `maxShardBytes`; decoded
   * scenes are kept regardless).
   */
  maxShardTables?: number;
  /**
   * Bytes of shard tables kept in memory at once (default 1 GiB; a table holds its file's bytes),
   * least recently used dropped first; the shard in use always stays. A trainer that draws scenes
   * in random order from a cache that fits reads each shard once instead of once per miss.
   */
  maxShardBytes?: number;
}

/** Default of `OpenMetricCacheOptions.maxShardBytes`. */
export const DEFAULT_MAX_SHARD_BYTES = 1024 * 1024 * 1024;

const versionKey = (v: PDMVersion): string => (v === 'v1.1' ? 'v1_1' : 'v2_2');

function checkVersions(versions: readonly PDMVersion[], file?: string): void {
  if (versions.length === 0 || versions.some((v) => v !== 'v1.1' && v !== 'v2.2') || new Set(versions).size !== versions.length) {
    throw new InputError(InputError.format({ file, field: 'versions', expected: 'distinct "v1.1" / "v2.2"', found: versions }), { file, field: 'versions', expected: 'distinct "v1.1" / "v2.2"', found: versions });
  }
}

/** The scene's own trajectory (or the human one) scored against `pdm`: `METRIC_NAMES[version]` then the score. */
function probeMetrics(scene: PDMScene, version: PDMVersion, pdm: Float64Array): Float64Array | null {
  const t = scene.trajectory ?? scene.humanTrajectory;
  if (!t) return null;
  const r = scoreProposalsDetailed(prepareScene(scene, version), [{ poses: t.poses, frame: t.frame, intervalS: t.intervalS }], { version, pdmClosedStates: pdm });
  return goldenRow(toGoldenMetrics(r.proposals[0]!, version), version);
}

function goldenRow(m: Record<string, number | null>, version: PDMVersion): Float64Array {
  const names = METRIC_NAMES[version];
  const out = new Float64Array(names.length + 1);
  names.forEach((k, i) => (out[i] = m[k] ?? NaN));
  out[names.length] = m.score ?? NaN;
  return out;
}

/**
 * Computes what the cache keeps for one scene: per version PDM-Closed's states (the scene's pinned
 * trajectory when it has one, as `scoreScene` does, else the planner with NAVSIM's defaults) and the
 * probe metrics.
 */
export function cacheEntry(source: MetricCacheSource, versions: readonly PDMVersion[] = PDM_VERSIONS, index = 0): CachedScene {
  const { scene } = source;
  const entry: CachedScene = { index, name: scene.name, seed: source.seed ?? null, scene, pdmClosed: {}, pdmClosedSource: {}, humanMetrics: {} };
  for (const v of versions) {
    const pinned = scene.pdmClosedTrajectory;
    const states = pinned ?? pdmClosedStates(runPDMClosedOnScene(scene, v, DEFAULT_PDM_CLOSED));
    entry.pdmClosed[v] = states;
    entry.pdmClosedSource[v] = pinned ? 'pinned' : 'planner';
    entry.humanMetrics[v] = probeMetrics(scene, v, states);
  }
  return entry;
}

/** The extra columns of a shard (besides the scene layout). */
function cacheColumns(versions: readonly PDMVersion[]): [string, DataType][] {
  const cols: [string, DataType][] = [['seed', new Float64()]];
  for (const v of versions) {
    cols.push([`pdm_closed_${versionKey(v)}`, new List(new Field('item', new Float64(), false))]);
    cols.push([`pdm_closed_source_${versionKey(v)}`, new Utf8()]);
    cols.push([`human_metrics_${versionKey(v)}`, new List(new Field('item', new Float64(), false))]);
  }
  return cols;
}

/** One shard as Arrow IPC file bytes. */
export function shardBytes(entries: readonly CachedScene[], versions: readonly PDMVersion[]): Uint8Array {
  let table = scenesToArrowTable(entries.map((e) => e.scene), Math.max(1, entries.length));
  const columns: Record<string, any> = {};
  for (const [name, type] of cacheColumns(versions)) {
    const values = entries.map((e) => {
      if (name === 'seed') return e.seed;
      const v: PDMVersion = name.endsWith('v1_1') ? 'v1.1' : 'v2.2';
      if (name.startsWith('pdm_closed_source_')) return e.pdmClosedSource[v]!;
      if (name.startsWith('pdm_closed_')) return e.pdmClosed[v]!;
      return e.humanMetrics[v] ?? null;
    });
    columns[name] = vectorFromArray(values as any[], type as any);
  }
  table = table.assign(new Table(columns));
  table.schema.metadata.set('drivekit.layout', METRIC_CACHE_FORMAT);
  return tableToIPC(table, 'file');
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Writes a cache folder shard by shard: shards go into a fresh sibling folder, the manifest last,
 * then the folder is renamed into place, so a failure never leaves a half cache at `dir` and never
 * touches an existing one (replaced only with `force`). Only one shard's scenes are held at a time.
 */
export class MetricCacheWriter {
  private readonly target: string;
  /** The folder the shards are written to before it is renamed into place. */
  readonly staging: string;
  private readonly shards: MetricCacheShard[] = [];
  private readonly names: string[] = [];
  private readonly seeds: (number | null)[] = [];
  private pending: CachedScene[] = [];

  constructor(
    dir: string,
    private readonly versions: PDMVersion[],
    private readonly shardSize: number,
    private readonly opts: BuildMetricCacheOptions,
  ) {
    checkVersions(versions);
    if (!Number.isInteger(shardSize) || shardSize < 1) {
      throw new InputError(InputError.format({ field: 'shardSize', expected: 'an integer >= 1', found: shardSize }), { field: 'shardSize', expected: 'an integer >= 1', found: shardSize });
    }
    this.target = path.resolve(dir);
    if (fs.existsSync(this.target) && fs.readdirSync(this.target).length > 0 && !opts.force) {
      const details = { file: this.target, expected: 'a new or empty folder', found: 'an existing folder with files' };
      throw new InputError(InputError.format(details, 'Pass force (--force) to replace it.'), details);
    }
    this.staging = `${this.target}.tmp-${process.pid}-${Date.now().toString(36)}`;
    fs.mkdirSync(this.staging, { recursive: true });
  }

  add(entry: CachedScene): void {
    this.pending.push(entry);
    this.names.push(entry.name);
    this.seeds.push(entry.seed);
    if (this.pending.length === this.shardSize) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const w = writeShardFile(this.staging, shardFileName(this.shards.length), this.pending, this.versions);
    this.shards.push({ file: w.file, rows: w.rows, firstIndex: this.names.length - this.pending.length, sha256: w.sha256 });
    this.pending = [];
  }

  /** Appends a shard already written into `staging` (by a worker), after every earlier one. */
  addWrittenShard(w: WrittenShard): void {
    if (this.pending.length > 0) this.flush();
    this.shards.push({ file: w.file, rows: w.rows, firstIndex: this.names.length, sha256: w.sha256 });
    this.names.push(...w.names);
    this.seeds.push(...w.seeds);
  }

  /** Name of the next shard file. */
  get nextShardFile(): string {
    return shardFileName(this.shards.length);
  }

  finish(): MetricCacheManifest {
    this.flush();
    const manifest: MetricCacheManifest = {
      format: METRIC_CACHE_FORMAT,
      drivekitVersion: VERSION,
      scorerVersion: METRIC_CACHE_SCORER,
      versions: this.versions,
      numScenes: this.names.length,
      names: this.names,
      seeds: this.seeds,
      shards: this.shards,
      source: this.opts.source ?? {},
    };
    writeFileAtomicSync(path.join(this.staging, MANIFEST_FILE), JSON.stringify(manifest, null, 1) + '\n');
    if (fs.existsSync(this.target)) {
      const old = `${this.target}.old-${process.pid}-${Date.now().toString(36)}`;
      fs.renameSync(this.target, old);
      fs.renameSync(this.staging, this.target);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.mkdirSync(path.dirname(this.target), { recursive: true });
      fs.renameSync(this.staging, this.target);
    }
    return manifest;
  }

  abort(): void {
    fs.rmSync(this.staging, { recursive: true, force: true });
  }
}

/** A shard file written into a staging folder, with what the manifest needs of it. */
export interface WrittenShard {
  file: string;
  rows: number;
  sha256: string;
  names: string[];
  seeds: (number | null)[];
}

export const shardFileName = (k: number): string => `shard-${String(k).padStart(5, '0')}.arrow`;

/** Writes one shard of entries into `dir` (atomically) and returns its manifest data. */
export function writeShardFile(dir: string, file: string, entries: readonly CachedScene[], versions: readonly PDMVersion[]): WrittenShard {
  const bytes = shardBytes(entries, versions);
  writeFileAtomicSync(path.join(dir, file), bytes);
  return { file, rows: entries.length, sha256: sha256(bytes), names: entries.map((e) => e.name), seeds: entries.map((e) => e.seed) };
}

function writeAll(dir: string, entries: Iterable<CachedScene>, opts: BuildMetricCacheOptions): MetricCacheManifest {
  const w = new MetricCacheWriter(dir, [...(opts.versions ?? PDM_VERSIONS)], opts.shardSize ?? 256, opts);
  try {
    for (const e of entries) w.add(e);
    return w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** Writes already computed entries as a cache folder (atomically; see `buildMetricCache`). */
export function writeMetricCache(dir: string, entries: readonly CachedScene[], opts: BuildMetricCacheOptions = {}): MetricCacheManifest {
  return writeAll(dir, entries, opts);
}

/**
 * Computes every entry (PDM-Closed once per scene and version) and writes the cache, one shard at
 * a time (memory: one shard's scenes). The folder appears only when complete.
 */
export function buildMetricCache(dir: string, sources: Iterable<MetricCacheSource>, opts: BuildMetricCacheOptions = {}): MetricCacheManifest {
  const versions = [...(opts.versions ?? PDM_VERSIONS)];
  checkVersions(versions);
  function* entries(): Generator<CachedScene> {
    let i = 0;
    for (const s of sources) {
      yield cacheEntry(s, versions, i++);
      opts.onProgress?.(i);
    }
  }
  return writeAll(dir, entries(), { ...opts, versions });
}

/** Generated scenes for seeds [start, end), parsed (the `--seeds A:B` input). */
export function* seedScenes(start: number, end: number): Generator<MetricCacheSource> {
  for (let seed = start; seed < end; seed++) {
    const g = generateScene(seed);
    yield { scene: parseScene(g.scene, { source: g.name }), seed };
  }
}

function readManifest(dir: string): MetricCacheManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(InputError.format({ file, expected: 'a metric cache manifest', found: 'no readable file' }, 'Build one with `drivekit navsim cache`.'), { file, expected: 'a metric cache manifest', found: 'no readable file', cause: e });
  }
  let m: MetricCacheManifest;
  try {
    m = JSON.parse(text) as MetricCacheManifest;
  } catch (e) {
    throw new InputError(InputError.format({ file, expected: 'JSON', found: (e as Error).message }), { file, expected: 'JSON', found: (e as Error).message, cause: e });
  }
  if (m?.format !== METRIC_CACHE_FORMAT) {
    const found = m?.format;
    throw new InputError(
      InputError.format({ file, field: 'format', expected: METRIC_CACHE_FORMAT, found }, `This drivekit (${VERSION}) reads ${METRIC_CACHE_FORMAT}; rebuild the cache with \`drivekit navsim cache\`.`),
      { file, field: 'format', expected: METRIC_CACHE_FORMAT, found },
    );
  }
  if (m.scorerVersion !== METRIC_CACHE_SCORER) {
    // the cached PDM-Closed states and probes come from another scorer: scores would not match a direct run
    const found = m.scorerVersion;
    throw new InputError(
      InputError.format({ file, field: 'scorerVersion', expected: METRIC_CACHE_SCORER, found }, 'The cache was built by another scorer revision; rebuild it with `drivekit navsim cache`.'),
      { file, field: 'scorerVersion', expected: METRIC_CACHE_SCORER, found },
    );
  }
  checkVersions(m.versions, file);
  const bad = (field: string, expected: string, found: unknown) => new InputError(InputError.format({ file, field, expected, found }), { file, field, expected, found });
  if (!Array.isArray(m.shards) || !Array.isArray(m.names) || m.names.length !== m.numScenes) throw bad('names', `${m.numScenes} scene names`, Array.isArray(m.names) ? m.names.length : m.names);
  let next = 0;
  for (const s of m.shards) {
    if (s.firstIndex !== next || !(s.rows > 0) || typeof s.sha256 !== 'string' || typeof s.file !== 'string' || s.file.includes('/') || s.file.includes('\\')) {
      throw bad(`shards[${m.shards.indexOf(s)}]`, `{file, rows > 0, firstIndex: ${next}, sha256}`, s);
    }
    next += s.rows;
  }
  if (next !== m.numScenes) throw bad('shards', `${m.numScenes} rows in all`, next);
  return m;
}

/** A metric cache opened for reading; scenes are decoded on first use and kept. */
export class MetricCache {
  readonly dir: string;
  readonly manifest: MetricCacheManifest;
  private readonly tables = new Map<number, { table: Table; bytes: number }>();
  private tableBytes = 0;
  private readonly decoded = new Map<number, CachedScene>();
  private readonly byName = new Map<string, number>();
  private readonly checked = new Set<number>();

  /** Shard tables kept in memory at once (least recently used dropped first). */
  maxShardTables = Number.POSITIVE_INFINITY;
  /** Bytes of shard tables kept in memory at once (least recently used dropped first). */
  maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
  /** Shard files read so far (a shard dropped and used again is read again). */
  shardReads = 0;

  constructor(dir: string, manifest: MetricCacheManifest, entries?: readonly CachedScene[]) {
    this.dir = dir;
    this.manifest = manifest;
    manifest.names.forEach((n, i) => {
      if (!this.byName.has(n)) this.byName.set(n, i);
    });
    entries?.forEach((e, i) => this.decoded.set(i, e));
  }

  /** An in-memory cache (no files) over computed entries, e.g. for a one-off evaluation. */
  static fromEntries(entries: readonly CachedScene[], versions: readonly PDMVersion[] = PDM_VERSIONS): MetricCache {
    const manifest: MetricCacheManifest = {
      format: METRIC_CACHE_FORMAT, drivekitVersion: VERSION, scorerVersion: METRIC_CACHE_SCORER, versions: [...versions],
      numScenes: entries.length, names: entries.map((e) => e.name), seeds: entries.map((e) => e.seed), shards: [], source: { inMemory: true },
    };
    return new MetricCache('<memory>', manifest, entries.map((e, i) => ({ ...e, index: i })));
  }

  get numScenes(): number {
    return this.manifest.numScenes;
  }

  get versions(): readonly PDMVersion[] {
    return this.manifest.versions;
  }

  /** Global index of a scene given by index or name (token); an unknown one is an `InputError`. */
  indexOf(scene: number | string): number {
    const i = typeof scene === 'number' ? scene : this.byName.get(scene);
    if (i === undefined || !Number.isInteger(i) || i < 0 || i >= this.numScenes) {
      const expected = typeof scene === 'number' ? `an index in [0, ${this.numScenes})` : 'a scene name of the cache';
      throw new InputError(InputError.format({ file: this.dir, field: 'scene', expected, found: scene }), { file: this.dir, field: 'scene', expected, found: scene });
    }
    return i;
  }

  /** Index of the shard holding global index `i`. */
  shardOf(i: number): number {
    const shards = this.manifest.shards;
    let lo = 0, hi = shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (shards[mid]!.firstIndex <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reads shard `k` and checks its sha256 against the manifest (once). */
  checkShard(k: number): Uint8Array {
    const s = this.manifest.shards[k]!;
    const file = path.join(this.dir, s.file);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new InputError(InputError.format({ file, expected: `shard ${s.file} of the cache`, found: 'no readable file' }), { file, field: 'shards', expected: `shard ${s.file}`, found: 'no readable file', cause: e });
    }
    const h = sha256(bytes);
    if (h !== s.sha256) {
      throw new InputError(
        InputError.format({ file, field: 'sha256', expected: s.sha256, found: h }, `Shard ${s.file} is corrupted or was changed after the cache was built; rebuild the cache.`),
        { file, field: 'sha256', expected: s.sha256, found: h },
      );
    }
    this.checked.add(k);
    return bytes;
  }

  private table(k: number): Table {
    const kept = this.tables.get(k);
    if (kept) {
      this.tables.delete(k); // most recently used last
      this.tables.set(k, kept);
      return kept.table;
    }
    const s = this.manifest.shards[k]!;
    const bytes = this.checkShard(k);
    this.shardReads++;
    let t: Table;
    const file = path.join(this.dir, s.file);
    try {
      t = tableFromIPC(bytes);
    } catch (e) {
      throw new InputError(InputError.format({ file, expected: 'an Arrow IPC file', found: (e as Error).message }), { file, expected: 'an Arrow IPC file', found: (e as Error).message, cause: e });
    }
    for (const [name, type] of cacheColumns(this.versions)) {
      const f = t.schema.fields.find((x) => x.name === name);
      if (!f || String(f.type) !== String(type)) {
        const found = f ? String(f.type) : 'no such column';
        throw new InputError(InputError.format({ file, field: name, expected: String(type), found }), { file, field: name, expected: String(type), found });
      }
    }
    if (t.numRows !== s.rows) throw new InputError(InputError.format({ file, field: 'rows', expected: s.rows, found: t.numRows }), { file, field: 'rows', expected: s.rows, found: t.numRows });
    this.tables.set(k, { table: t, bytes: bytes.byteLength });
    this.tableBytes += bytes.byteLength;
    // drop the least recently used tables (never the one just read) over either limit
    while (this.tables.size > 1 && (this.tables.size > Math.max(1, this.maxShardTables) || this.tableBytes > this.maxShardBytes)) {
      const oldest = this.tables.keys().next().value!;
      this.tableBytes -= this.tables.get(oldest)!.bytes;
      this.tables.delete(oldest);
    }
    return t;
  }

  /** The cached scene (decoded from its shard on first use, then kept warm). */
  scene(sceneIndexOrToken: number | string): CachedScene {
    const i = this.indexOf(sceneIndexOrToken);
    const hit = this.decoded.get(i);
    if (hit) return hit;
    const k = this.shardOf(i);
    const shard = this.manifest.shards[k]!;
    const t = this.table(k);
    const r = i - shard.firstIndex;
    const file = path.join(this.dir, shard.file);
    const scene = scenesFromArrowTable(t, file, [r])[0]!;
    const row = t.get(r)! as any;
    const entry: CachedScene = { index: i, name: scene.name, seed: row.seed ?? null, scene, pdmClosed: {}, pdmClosedSource: {}, humanMetrics: {} };
    for (const v of this.versions) {
      const key = versionKey(v);
      const states = row[`pdm_closed_${key}`];
      entry.pdmClosed[v] = Float64Array.from(states.toArray() as Float64Array);
      entry.pdmClosedSource[v] = row[`pdm_closed_source_${key}`] as 'pinned' | 'planner';
      const hm = row[`human_metrics_${key}`];
      entry.humanMetrics[v] = hm ? Float64Array.from(hm.toArray() as Float64Array) : null;
    }
    if (scene.name !== this.manifest.names[i]) {
      throw new InputError(InputError.format({ file, field: `row ${r}: name`, expected: this.manifest.names[i], found: scene.name }), { file, field: 'name', expected: this.manifest.names[i], found: scene.name });
    }
    this.decoded.set(i, entry);
    return entry;
  }

  /** Drops decoded scenes and shard tables (memory); they are read again on next use. */
  release(): void {
    this.tables.clear();
    this.tableBytes = 0;
    this.decoded.clear();
  }
}

/**
 * Opens a cache folder: reads and checks the manifest (another format version is an `InputError`
 * naming both) and, by default, the sha256 of every shard (a mismatch names the shard).
 */
export function openMetricCache(dir: string, opts: OpenMetricCacheOptions = {}): MetricCache {
  const d = path.resolve(dir);
  const cache = new MetricCache(d, readManifest(d));
  if (opts.maxShardTables !== undefined) cache.maxShardTables = opts.maxShardTables;
  for (const field of ['maxShardTables', 'maxShardBytes'] as const) {
    const v = opts[field];
    if (v !== undefined && !(v >= 1)) throw new ConfigError(ConfigError.format({ field, expected: 'a number >= 1', found: v }), { field, expected: 'a number >= 1', found: v });
  }
  if (opts.maxShardBytes !== undefined) cache.maxShardBytes = opts.maxShardBytes;
  if ((opts.checkHashes ?? 'open') === 'open') cache.manifest.shards.forEach((_, k) => cache.checkShard(k));
  return cache;
}

export interface CachedScoreOptions {
  version: PDMVersion;
  /** Weights of the weighted metrics (default: the version's). */
  weights?: Partial<PDMWeights>;
  /** Poses per proposal (default 8) and their spacing (default 0.5 s). */
  posesPerProposal?: number;
  intervalS?: number;
  /**
   * v2.2 EC: the plan the agent made at the scene's previous frame (8 x 3, x / y / heading in that
   * frame's ego frame, 0.5 s apart), compared with every proposal. Default: the previous frame's own
   * trajectory (the logged plan), as `scoreScene` does.
   */
  previousPoses?: Float64Array;
}

/**
 * The simulated states (41 x 11) of a plan made at the scene's previous frame (`poses`: 8 x 3 in
 * that frame's ego frame) and the frame interval: what v2.2 EC compares a proposal with (spec 5.10).
 * Null when the scene has no previous frame within 0.55 s, or one given only as simulated states
 * (no ego state to plan from).
 */
export function previousPlanStates(scene: PDMScene, poses: ArrayLike<number>, posesPerProposal = 8, intervalS = 0.5): { states: Float64Array; intervalS: number } | null {
  const pf = scene.previousFrame;
  if (!pf || pf.form === 'states') return null;
  const ego = pf.form === 'scene' ? pf.scene.ego : pf.ego;
  const ts = pf.form === 'scene' ? pf.scene.timestampUs : pf.timestampUs;
  const dt = scene.timestampUs * 1e-6 - ts * 1e-6;
  if (!(dt > 0 && dt <= 0.55)) return null;
  const refs = referenceStatesFromPoses(ego, ts, poses, posesPerProposal, 'ego', intervalS);
  return { states: simulateProposals(refs, 1, initialStateArray(ego)), intervalS: dt };
}

/** Per-proposal scores: `score[g]` and `metrics[name][g]` (golden key names; NaN where a metric is undefined, e.g. EC without a previous frame). */
/** Scores of `count` proposals, one column per metric (flat host arrays, entry g = proposal g). */
export interface ProposalScoreResult {
  /** `[count]`: PDMS (v1.1) or EPDMS (v2.2). */
  score: Float64Array;
  /** `[count]` per metric name (`METRIC_NAMES[version]`); NaN where undefined. */
  metrics: Record<string, Float64Array>;
}

/**
 * Scores `count` proposals (`poses`: count x K x 3, x / y / heading in the ego frame) against a
 * cached scene: the cached PDM-Closed states are the EP normaliser, the prepared scene is reused.
 */
export function scoreCachedScene(c: CachedScene, poses: Float64Array, count: number, opts: CachedScoreOptions): ProposalScoreResult {
  const version = opts.version;
  const pdm = c.pdmClosed[version];
  if (!pdm) {
    const expected = `one of ${Object.keys(c.pdmClosed).join(', ')}`;
    throw new InputError(InputError.format({ file: c.name, field: 'version', expected, found: version }, 'Build the cache with this version.'), { file: c.name, field: 'version', expected, found: version });
  }
  const k = opts.posesPerProposal ?? 8;
  if (!Number.isInteger(count) || count < 0 || poses.length < count * k * 3) {
    const expected = `count >= 0 with at least count x ${k} x 3 pose values`;
    const found = `count ${count}, ${poses.length} values`;
    throw new InputError(InputError.format({ file: c.name, field: 'poses', expected, found }), { file: c.name, field: 'poses', expected, found });
  }
  const names = METRIC_NAMES[version];
  const out: ProposalScoreResult = { score: new Float64Array(count), metrics: Object.fromEntries(names.map((n) => [n, new Float64Array(count)])) };
  if (count === 0) return out;
  const r = scoreProposalsDetailed(prepareScene(c.scene, version), poses.subarray(0, count * k * 3), {
    version,
    weights: opts.weights,
    pdmClosedStates: pdm,
    posesPerProposal: k,
    intervalS: opts.intervalS,
    ...(opts.previousPoses !== undefined && version === 'v2.2' ? { previous: previousPlanStates(c.scene, opts.previousPoses, k, opts.intervalS) } : {}),
  });
  r.proposals.forEach((p, g) => {
    const m = toGoldenMetrics(p, version) as Record<string, number | null>;
    out.score[g] = p.score;
    for (const n of names) out.metrics[n]![g] = m[n] ?? NaN;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// verify

export interface VerifyMetricCacheOptions {
  /** Fraction of scenes to recompute (default 0.01; at least one scene). */
  sample?: number;
  /** Scenes to recompute (names or indices) instead of a sample. */
  scenes?: readonly (string | number)[];
  /** Seed of the sample draw (default 0). */
  seed?: number;
  /** Called after each scene. */
  onProgress?: (done: number, total: number) => void;
}

export interface MetricCacheMismatch {
  scene: string;
  /** Column / field that differs (`pdm_closed_v1_1[37]`, `human_metrics_v2_2.ego_progress`, `scene.agents[2].states[4].vx`). */
  field: string;
  expected: unknown;
  found: unknown;
}

export interface VerifyMetricCacheReport {
  ok: boolean;
  checked: string[];
  mismatches: MetricCacheMismatch[];
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** First path where two JSON-like values differ, or null. */
function firstDifference(a: unknown, b: unknown, at: string): { field: string; expected: unknown; found: unknown } | null {
  if (typeof a === 'number' && typeof b === 'number') return same(a, b) ? null : { field: at, expected: a, found: b };
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { field: `${at}.length`, expected: a.length, found: b.length };
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as any)[k], (b as any)[k], `${at}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : { field: at, expected: a, found: b };
}

/** Which scenes `verify` recomputes. */
export function verifySample(cache: MetricCache, opts: VerifyMetricCacheOptions = {}): number[] {
  if (opts.scenes && opts.scenes.length > 0) return opts.scenes.map((s) => cache.indexOf(typeof s === 'string' && /^\d+$/.test(s) && !cache.manifest.names.includes(s) ? Number(s) : s));
  const frac = opts.sample ?? 0.01;
  if (!(frac > 0 && frac <= 1)) {
    throw new InputError(InputError.format({ field: 'sample', expected: 'a fraction in (0, 1]', found: frac }), { field: 'sample', expected: 'a fraction in (0, 1]', found: frac });
  }
  const n = cache.numScenes;
  const k = Math.min(n, Math.max(1, Math.round(frac * n)));
  const idx = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(opts.seed ?? 0);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.uniform(0, 1) * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/**
 * Recomputes sampled scenes and compares bit for bit: the scene against a fresh generation from
 * its seed (generated scenes), PDM-Closed's states, and the probe metrics, per cached version.
 * Shard hashes are checked on the way (a corrupted shard is an `InputError`).
 */
export function verifyMetricCache(dir: string, opts: VerifyMetricCacheOptions = {}): VerifyMetricCacheReport {
  const cache = openMetricCache(dir);
  const picks = verifySample(cache, opts);
  const mismatches: MetricCacheMismatch[] = [];
  const checked: string[] = [];
  picks.forEach((i, done) => {
    const c = cache.scene(i);
    checked.push(c.name);
    const miss = (field: string, expected: unknown, found: unknown) => mismatches.push({ scene: c.name, field, expected, found });
    let scene = c.scene;
    if (c.seed !== null) {
      const g = generateScene(c.seed);
      const fresh = parseScene(g.scene, { source: g.name });
      const d = firstDifference(sceneToJson(fresh), sceneToJson(c.scene), 'scene');
      if (d) miss(d.field, d.expected, d.found);
      scene = fresh;
    } else {
      scene = parseScene(sceneToJson(c.scene), { source: c.name }); // a fresh object: nothing cached on it
    }
    const fresh = cacheEntry({ scene, seed: c.seed }, cache.versions, i);
    for (const v of cache.versions) {
      const key = versionKey(v);
      if (fresh.pdmClosedSource[v] !== c.pdmClosedSource[v]) miss(`pdm_closed_source_${key}`, fresh.pdmClosedSource[v], c.pdmClosedSource[v]);
      const a = fresh.pdmClosed[v]!, b = c.pdmClosed[v]!;
      if (a.length !== b.length) miss(`pdm_closed_${key}.length`, a.length, b.length);
      else {
        for (let j = 0; j < a.length; j++) {
          if (!same(a[j]!, b[j]!)) {
            miss(`pdm_closed_${key}[${j}]`, a[j], b[j]);
            break;
          }
        }
      }
      const ha = fresh.humanMetrics[v] ?? null, hb = c.humanMetrics[v] ?? null;
      if ((ha === null) !== (hb === null)) miss(`human_metrics_${key}`, ha === null ? null : 'values', hb === null ? null : 'values');
      else if (ha && hb) {
        const names = [...METRIC_NAMES[v], 'score'];
        for (let j = 0; j < names.length; j++) if (!same(ha[j]!, hb[j]!)) miss(`human_metrics_${key}.${names[j]}`, ha[j], hb[j]);
      }
    }
    opts.onProgress?.(done + 1, picks.length);
  });
  return { ok: mismatches.length === 0, checked, mismatches };
}
