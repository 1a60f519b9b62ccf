/**
 * PDMS / EPDMS table over many scenes, aggregated as NAVSIM does (`run_pdm_score.py`,
 * `run_pdm_score_one_stage.py`): the benchmark score is the plain mean of the per-scene scores
 * over valid scenes; every sub-metric column is averaged separately over the scenes where it is
 * defined (NaN / null skipped, as pandas `mean(skipna=True)`), so the columns do not multiply back
 * into the score. A scene is invalid when it failed (an error) or its score is not a finite number.
 */

/** Golden / NAVSIM metric keys of PDMS v1.1, in table order. */
export const PDMS_V1_KEYS = [
  'no_at_fault_collisions',
  'drivable_area_compliance',
  'driving_direction_compliance',
  'ego_progress',
  'time_to_collision_within_bound',
  'comfort',
  'score',
] as const;

/** Golden / NAVSIM metric keys of EPDMS v2.2, in table order. */
export const EPDMS_V2_KEYS = [
  'no_at_fault_collisions',
  'drivable_area_compliance',
  'driving_direction_compliance',
  'traffic_light_compliance',
  'ego_progress',
  'time_to_collision_within_bound',
  'lane_keeping',
  'history_comfort',
  'two_frame_extended_comfort',
  'score',
] as const;

/** Short column labels used by the NAVSIM papers. */
export const METRIC_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  no_at_fault_collisions: 'NC',
  drivable_area_compliance: 'DAC',
  driving_direction_compliance: 'DDC',
  traffic_light_compliance: 'TLC',
  ego_progress: 'EP',
  time_to_collision_within_bound: 'TTC',
  comfort: 'C',
  lane_keeping: 'LK',
  history_comfort: 'HC',
  two_frame_extended_comfort: 'EC',
  score: 'score',
});

export type PDMTableVersion = 'v1.1' | 'v2.2';

/** One scene's result: its metrics (null values = NaN), or the error that made it invalid. */
export interface PDMSceneResult {
  name: string;
  metrics?: Readonly<Record<string, number | null>> | null;
  error?: string;
}

export interface PDMColumn {
  key: string;
  label: string;
  /** Mean over the scenes where the metric is a finite number; NaN when there is none. */
  mean: number;
  /** Number of scenes that contributed to the mean. */
  count: number;
}

/** The aggregated table (JSON-serialisable; NaN means become null in `toJSON`). */
export interface PDMTable {
  version: PDMTableVersion;
  /** 'PDMS' for v1.1, 'EPDMS' for v2.2. */
  scoreName: 'PDMS' | 'EPDMS';
  numScenes: number;
  numValid: number;
  numInvalid: number;
  /** Mean score over the valid scenes (NaN when none is valid). */
  score: number;
  columns: PDMColumn[];
  /** Names and reasons of the invalid scenes. */
  invalid: { name: string; reason: string }[];
}

function asNumber(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

/** Aggregates per-scene results into a PDMS (v1.1) or EPDMS (v2.2) table. */
export function pdmTable(results: ReadonlyArray<PDMSceneResult>, version: PDMTableVersion = 'v1.1'): PDMTable {
  if (version !== 'v1.1' && version !== 'v2.2') {
    throw new RangeError(`pdmTable: invalid version ${JSON.stringify(version)}. Should be 'v1.1' or 'v2.2'.`);
  }
  const keys: readonly string[] = version === 'v1.1' ? PDMS_V1_KEYS : EPDMS_V2_KEYS;
  const sums = new Map<string, number>(keys.map((k) => [k, 0]));
  const counts = new Map<string, number>(keys.map((k) => [k, 0]));
  const invalid: { name: string; reason: string }[] = [];
  let numValid = 0;
  for (const r of results) {
    if (r.error !== undefined || !r.metrics) {
      invalid.push({ name: r.name, reason: r.error ?? 'no metrics' });
      continue;
    }
    const score = asNumber(r.metrics.score);
    if (!Number.isFinite(score)) {
      invalid.push({ name: r.name, reason: `score is ${r.metrics.score === null ? 'null' : String(r.metrics.score)}` });
      continue;
    }
    numValid++;
    for (const k of keys) {
      const v = asNumber(r.metrics[k]);
      if (!Number.isFinite(v)) continue;
      sums.set(k, sums.get(k)! + v);
      counts.set(k, counts.get(k)! + 1);
    }
  }
  const columns: PDMColumn[] = keys.map((k) => {
    const count = counts.get(k)!;
    return { key: k, label: METRIC_ABBREVIATIONS[k] ?? k, mean: count > 0 ? sums.get(k)! / count : NaN, count };
  });
  return {
    version,
    scoreName: version === 'v1.1' ? 'PDMS' : 'EPDMS',
    numScenes: results.length,
    numValid,
    numInvalid: invalid.length,
    score: columns[columns.length - 1]!.mean,
    columns,
    invalid,
  };
}

/** JSON form of a table: NaN means become null. */
export function pdmTableToJSON(table: PDMTable): Record<string, unknown> {
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    version: table.version,
    score_name: table.scoreName,
    num_scenes: table.numScenes,
    num_valid: table.numValid,
    num_invalid: table.numInvalid,
    score: fin(table.score),
    columns: Object.fromEntries(table.columns.map((c) => [c.key, { label: c.label, mean: fin(c.mean), count: c.count }])),
    invalid: table.invalid,
  };
}

/**
 * A printable table: one header row of abbreviations, one row of means in percent (as the NAVSIM
 * papers print them, 2 decimals), then the counts of valid and invalid scenes.
 */
export function formatPDMTable(table: PDMTable): string {
  const labels = table.columns.map((c) => (c.key === 'score' ? table.scoreName : c.label));
  const values = table.columns.map((c) => (Number.isFinite(c.mean) ? (100 * c.mean).toFixed(2) : 'n/a'));
  const widths = labels.map((l, i) => Math.max(l.length, values[i]!.length));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padStart(widths[i]!)).join(' | ') + ' |';
  const sep = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  const out = [line(labels), sep, line(values)];
  out.push(`${table.scoreName} (${table.version}) over ${table.numValid} valid scene(s); ${table.numInvalid} invalid of ${table.numScenes}.`);
  for (const inv of table.invalid.slice(0, 20)) out.push(`  invalid: ${inv.name}: ${inv.reason}`);
  if (table.invalid.length > 20) out.push(`  ... and ${table.invalid.length - 20} more`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `PDMColumn`. */
export type PdmColumn = PDMColumn;
/** @deprecated Renamed `PDMSceneResult`. */
export type PdmSceneResult = PDMSceneResult;
/** @deprecated Renamed `PDMTable`. */
export type PdmTable = PDMTable;
/** @deprecated Renamed `PDMTableVersion`. */
export type PdmTableVersion = PDMTableVersion;
/** @deprecated Renamed `formatPDMTable`. */
export const formatPdmTable = formatPDMTable;
