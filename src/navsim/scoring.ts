/**
 * Top-level NAVSIM scoring of a scene: the EP normaliser comes from the scene's pinned
 * `pdm_closed_trajectory` or, when the scene pins none, from running PDM-Closed on the scene
 * (once per scene object and version, cached); then every trajectory is scored as NAVSIM scores
 * the pair [PDM-Closed, trajectory] (v2.2: with the human-penalty filter and extended comfort).
 *
 * - `scoreScene(scene, trajectories?, opts)`: per trajectory every sub-metric and the score (and
 *   the simulated states with `returnStates`); without trajectories the scene's own one is scored.
 * - `scoreSceneJson(json, opts)`: plain data in and out (`{name, metrics}` with the golden key
 *   names, or `{name, error}`), as the CLI and the worker pool use it; `scoreParsedScene(scene,
 *   opts)` the same for a parsed scene (Arrow input).
 *
 * Browser-safe; `score-scene.ts` (Node) adds reading scene files.
 */
import { parseScene } from './scene-json.js';
import { DEFAULT_PDM_CLOSED, type PDMClosedConfig, type PDMClosedResult, pdmClosedStates, runPDMClosedOnScene } from './pdm-closed.js';
import { scoreProposalsDetailed, toGoldenMetrics, type PDMMetricsOf, type Trajectory } from './scorer.js';
import { ConfigError, InputError } from '../core/errors.js';
import { resolvePDMWeights } from './weights.js';
import { NavsimInputError, type PDMScene, type PDMVersion, type PDMWeights, type ProposalScores } from './types.js';

export interface ScoreSceneOptions {
  /** 'v1.1' (PDMS) or 'v2.2' (EPDMS); default from the schema (v1 -> v1.1, v2 -> v2.2). */
  version?: PDMVersion;
  /** Weights of the weighted metrics (ReCogDrive trains with progress 10). */
  weights?: Partial<PDMWeights>;
  /** Attach simulated and reference states, ego areas and LK deviations. */
  returnStates?: boolean;
  /** 'auto': the pinned PDM-Closed trajectory when the scene has one, else run the planner; 'planner': always run it. */
  pdmClosed?: 'auto' | 'planner';
  /** PDM-Closed settings (defaults: NAVSIM's metric caching). */
  pdmClosedConfig?: PDMClosedConfig;
  /** v2.2 human-penalty filter for original frames (default true). */
  humanFilter?: boolean;
  /** `scoreSceneJson`: the file the scene came from, named in its errors. */
  source?: string;
}

export interface SceneScore<V extends PDMVersion = PDMVersion> {
  name: string;
  version: V;
  /** One entry per scored trajectory. */
  proposals: ProposalScores[];
  /** The same under the golden / NAVSIM metric key names (`PDMSMetrics` for v1.1, `EPDMSMetrics` for v2.2). */
  metrics: PDMMetricsOf<V>[];
  /** The EP normaliser and its own row of the [PDM-Closed, trajectory] batch. */
  pdmClosed: {
    source: 'pinned' | 'planner';
    /** Cached PDM-Closed trajectory (n x 11 at 0.1 s from t0). */
    states: Float64Array;
    scores: ProposalScores;
    /** The planner's result when it ran. */
    planner: PDMClosedResult | null;
  };
  /** v2.2: the human-filter run, when applied. */
  human: ProposalScores | null;
}

const plannerCache = new WeakMap<PDMScene, Map<string, PDMClosedResult>>();

/** Default version of a scene: v1 schema -> v1.1, v2 schema -> v2.2. */
export function defaultVersion(scene: PDMScene): PDMVersion {
  return scene.schema === 'pdm_ref_scene/v2' ? 'v2.2' : 'v1.1';
}

/** PDM-Closed's result for a scene and version (run once per scene object, then cached). */
export function pdmClosedFor(scene: PDMScene, version: PDMVersion, config: PDMClosedConfig = DEFAULT_PDM_CLOSED): PDMClosedResult {
  let byKey = plannerCache.get(scene);
  if (!byKey) {
    byKey = new Map();
    plannerCache.set(scene, byKey);
  }
  const key = config === DEFAULT_PDM_CLOSED ? version : `${version}:${JSON.stringify(config)}`;
  let r = byKey.get(key);
  if (!r) {
    r = runPDMClosedOnScene(scene, version, config);
    byKey.set(key, r);
  }
  return r;
}

/**
 * Scores trajectories of a scene (default: the scene's own trajectory). With a literal
 * `version` the metrics are typed for it; without one they are the union of both versions.
 */
export function scoreScene<V extends PDMVersion = PDMVersion>(
  scene: PDMScene,
  trajectories?: readonly Trajectory[] | Float64Array | null,
  opts: ScoreSceneOptions & { version?: V } = {},
): SceneScore<V> {
  const version = opts.version ?? defaultVersion(scene);
  if (version !== 'v1.1' && version !== 'v2.2') {
    throw new NavsimInputError(`version: expected "v1.1" or "v2.2", found ${JSON.stringify(version)}`, scene.name, 'version');
  }
  // A weight typo is a ConfigError naming the nearest weight, before any scoring work.
  const weights = resolvePDMWeights(version, opts.weights);
  let props: readonly Trajectory[] | Float64Array;
  if (trajectories === undefined || trajectories === null) {
    if (!scene.trajectory) {
      throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: field 'trajectory': expected a trajectory to score, found none`, scene.name, 'trajectory');
    }
    props = [{ poses: scene.trajectory.poses, frame: scene.trajectory.frame, intervalS: scene.trajectory.intervalS }];
  } else {
    props = trajectories;
  }
  if (!(props instanceof Float64Array)) {
    props.forEach((t, p) => {
      // One pose gives no motion to interpolate the 4 s reference from: NAVSIM's are 8 poses.
      const n = t.poses.length > 0 && Array.isArray(t.poses[0]) ? t.poses.length : Math.floor(t.poses.length / 3);
      if (n < 2) {
        const field = trajectories === undefined || trajectories === null ? 'trajectory.poses' : `trajectories[${p}].poses`;
        throw new NavsimInputError(`scene ${JSON.stringify(scene.name)}: ${field}: expected at least 2 poses (NAVSIM: 8 at 0.5 s), found ${n}`, scene.name, field, { expected: 'at least 2 poses', found: n });
      }
    });
  }
  const usePinned = (opts.pdmClosed ?? 'auto') === 'auto' && scene.pdmClosedTrajectory !== null;
  let planner: PDMClosedResult | null = null;
  let states: Float64Array;
  if (usePinned) {
    states = scene.pdmClosedTrajectory!;
  } else {
    planner = pdmClosedFor(scene, version, opts.pdmClosedConfig ?? DEFAULT_PDM_CLOSED);
    states = pdmClosedStates(planner);
  }
  const scored = scoreProposalsDetailed(scene, props, {
    version,
    weights,
    returnStates: opts.returnStates,
    pdmClosedStates: states,
    humanFilter: opts.humanFilter,
  });
  return {
    name: scene.name,
    version: version as V,
    proposals: scored.proposals,
    metrics: scored.proposals.map((p) => toGoldenMetrics(p, version) as PDMMetricsOf<V>),
    pdmClosed: { source: usePinned ? 'pinned' : 'planner', states, scores: scored.pdmClosed, planner },
    human: scored.human,
  };
}

function jsonNumber(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}

/**
 * Scores a scene given as JSON (a `pdm_ref_scene` object or a golden file with `input`); never
 * throws on bad input: returns `{name, error}` instead. Metrics use the golden key names, NaN as null.
 */
export function scoreSceneJson(
  json: unknown,
  opts: ScoreSceneOptions = {},
): { name: string; metrics: Record<string, number | null>; error?: undefined } | { name: string; error: string; metrics?: undefined } {
  const root = (json as any)?.input && (json as any)?.schema === undefined ? (json as any).input : json;
  const name = typeof root?.name === 'string' ? root.name : (opts.source ?? '<scene>');
  let scene: PDMScene;
  try {
    scene = parseScene(json, { source: opts.source ?? name });
  } catch (e) {
    return failed(name, e);
  }
  return scoreParsedScene(scene, opts);
}

/** `{name, error}` of a failure: bad scene data or bad options (a weight typo) say what to fix. */
function failed(name: string, e: unknown): { name: string; error: string } {
  if (e instanceof InputError || e instanceof ConfigError) return { name, error: e.message };
  return { name, error: `internal error: ${(e as Error)?.message ?? String(e)}` };
}

/**
 * `scoreSceneJson` for an already parsed scene (from an Arrow file: no JSON in between); the
 * same result, bit for bit, as scoring the scene's JSON.
 */
export function scoreParsedScene(
  scene: PDMScene,
  opts: ScoreSceneOptions = {},
): { name: string; metrics: Record<string, number | null>; error?: undefined } | { name: string; error: string; metrics?: undefined } {
  try {
    const r = scoreScene(scene, null, opts);
    const m = r.metrics[0]!;
    const metrics: Record<string, number | null> = {};
    for (const k in m) metrics[k] = jsonNumber((m as unknown as Record<string, number | null>)[k]!);
    return { name: scene.name, metrics };
  } catch (e) {
    return failed(scene.name, e);
  }
}
