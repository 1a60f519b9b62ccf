/**
 * Where the golden sets live: the repository's own copy under `test/golden/` (vendored from the
 * drivekit workspace's shared/golden, see each folder's README for provenance), unless an
 * environment variable names another directory. A test given another directory reads everything,
 * configuration included, from that directory.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (parent of `test/`). */
export const REPO_ROOT = path.resolve(here, '..');
/** The vendored golden sets. */
export const GOLDEN_ROOT = path.join(here, 'golden');

/** NAVSIM v1.1 PDM golden scenes (`DRIVEKIT_PDM_GOLDEN` overrides). */
export const PDM_V1_DIR = path.resolve(process.env.DRIVEKIT_PDM_GOLDEN || path.join(GOLDEN_ROOT, 'pdm_v1'));
/** NAVSIM v2.2 EPDM golden scenes (`DRIVEKIT_PDM_V2_GOLDEN` overrides). */
export const PDM_V2_DIR = path.resolve(process.env.DRIVEKIT_PDM_V2_GOLDEN || path.join(GOLDEN_ROOT, 'pdm_v2'));
/** ReCogDrive DiT planner golden set (`DRIVEKIT_DIT_GOLDEN` overrides). */
export const DIT_DIR = path.resolve(process.env.DRIVEKIT_DIT_GOLDEN || path.join(GOLDEN_ROOT, 'dit'));
/** NAVSIM v1.1 metric-cache samples (`DRIVEKIT_NAVSIM_METRIC_CACHE_GOLDEN` or `DRIVEKIT_NAVSIM_CACHE_GOLDEN` overrides). */
export const NAVSIM_CACHE_V1_DIR = path.resolve(
  process.env.DRIVEKIT_NAVSIM_METRIC_CACHE_GOLDEN || process.env.DRIVEKIT_NAVSIM_CACHE_GOLDEN || path.join(GOLDEN_ROOT, 'navsim_metric_cache_v1'),
);
