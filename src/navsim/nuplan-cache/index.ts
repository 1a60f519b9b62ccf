/**
 * Reading NAVSIM's own metric caches (v1.1) into drivekit scenes, with no Python and no NAVSIM:
 *
 * ```ts
 * const listing = listNavsimCache('exp/metric_cache');     // metadata CSV rows, or a walk
 * for (const ref of listing.files) {
 *   const { scene } = await readNavsimCacheFile(ref);      // xz -> restricted unpickle -> PDMScene
 *   scoreScene(scene, [trajectory], { version: 'v1.1' }); // PDM-Closed pinned from the cache
 * }
 * ```
 *
 * See `docs/navsim.md` for what is and is not read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PDMScene } from '../types.js';
import { METRIC_CACHE_FILE, type NavsimCacheFileRef } from './layout.js';
import { NavsimCacheError, unpickleRestricted } from './pickle.js';
import { metricCacheToScene, type ImportDiagnostics } from './to-scene.js';
import { decompressXz } from './xz.js';

export * from './layout.js';
export { ALLOWED_CLASSES, ALLOWED_ENUMS, ALLOWED_FUNCTIONS, NavsimCacheError, NdArray, PyEnum, PyObject, unpickleRestricted } from './pickle.js';
export type { UnpickleContext } from './pickle.js';
export { V1_METRIC_CACHE_FIELDS, metricCacheToScene, type ImportDiagnostics } from './to-scene.js';
export { parseWkb, type WkbGeometry } from './wkb.js';
export { decompressXz } from './xz.js';

export interface ImportedScene {
  ref: NavsimCacheFileRef;
  scene: PDMScene;
  diagnostics: ImportDiagnostics;
  /** Seconds spent reading, decompressing, unpickling and converting. */
  seconds: { read: number; xz: number; unpickle: number; convert: number };
}

/** A file reference for a lone `metric_cache.pkl` (token, scenario type and log from its folders). */
export function refOfFile(file: string): NavsimCacheFileRef {
  const abs = path.resolve(file);
  const parts = abs.split(path.sep);
  const n = parts.length;
  const token = path.basename(abs) === METRIC_CACHE_FILE ? parts[n - 2]! : path.basename(abs).replace(/\.pkl$/, '');
  return { token, scenarioType: parts[n - 3] ?? '', logName: parts[n - 4] ?? '', file: abs, listedIn: 'file' };
}

/** Decodes the bytes of one `metric_cache.pkl` (xz + pickle) into a scene named `ref.token`. */
export async function decodeNavsimCacheBytes(bytes: Uint8Array, ref: NavsimCacheFileRef): Promise<Omit<ImportedScene, 'seconds' | 'ref'> & { seconds: Omit<ImportedScene['seconds'], 'read'> }> {
  const ctx = { file: ref.file, token: ref.token };
  const t0 = performance.now();
  const raw = await decompressXz(bytes, ctx);
  const t1 = performance.now();
  const root = unpickleRestricted(raw, ctx);
  const t2 = performance.now();
  let converted: ReturnType<typeof metricCacheToScene>;
  try {
    converted = metricCacheToScene(root, ctx, { logName: ref.logName || null });
  } catch (e) {
    // a hostile pickle can give plain values odd shapes (e.g. BUILD on a list): never let that out as a TypeError
    if (e instanceof NavsimCacheError) throw e;
    throw new NavsimCacheError(ctx, 'MetricCache', 'a NAVSIM v1.1 metric cache of the expected shape', (e as Error)?.message ?? String(e), e);
  }
  const { scene, diagnostics } = converted;
  const t3 = performance.now();
  return { scene, diagnostics, seconds: { xz: (t1 - t0) / 1e3, unpickle: (t2 - t1) / 1e3, convert: (t3 - t2) / 1e3 } };
}

/** Reads one scene file of a NAVSIM v1.1 metric cache (a listing entry or a path). */
export async function readNavsimCacheFile(refOrFile: NavsimCacheFileRef | string): Promise<ImportedScene> {
  const ref = typeof refOrFile === 'string' ? refOfFile(refOrFile) : refOrFile;
  const t0 = performance.now();
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(ref.file);
  } catch (e) {
    throw new NavsimCacheError({ file: ref.file, token: ref.token }, 'file', 'a readable metric_cache.pkl', (e as NodeJS.ErrnoException).code ?? String(e), e);
  }
  const read = (performance.now() - t0) / 1e3;
  const d = await decodeNavsimCacheBytes(bytes, ref);
  return { ref, scene: d.scene, diagnostics: d.diagnostics, seconds: { read, ...d.seconds } };
}
