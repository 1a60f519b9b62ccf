/**
 * `drivekit navsim render`: a bird's-eye picture of one NAVSIM scene (`renderNavsimScene`).
 *
 *   drivekit navsim render scene.json --out scene.png
 *   drivekit navsim render scene.json --proposals plans.json --out scene.svg --version v2.2
 *
 * The scene's own trajectory and the proposals (when given) are scored with the PDM scorer and
 * drawn in score colours; the output format follows the extension of `--out` (.svg or .png).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DrivekitError, InputError, UsageError } from '../core/errors.js';
import type { Trajectory } from '../navsim/scorer.js';
import type { PDMScene, PDMVersion } from '../navsim/types.js';
import { parseArgs } from './args.js';
import type { CliIO } from './main.js';

export const RENDER_USAGE = `drivekit navsim render <scene.json|scenes.arrow> --out <scene.svg|scene.png> [options]

  Draws the map, the PDM-Closed centre line, the agents at t0 with their futures, the ego, the
  human and the scene's own trajectory, and proposals coloured by their PDM score.
  --out        output file; .svg or .png (required)
  --proposals  JSON file with trajectories to score and draw: an array of pose lists
               [[x, y, heading] x 8] (ego frame, 0.5 s apart) or of {"poses", "frame"} objects
  --version    v1.1 (PDMS) or v2.2 (EPDMS) for the scores; default: from the scene schema
  --index      which scene of a file holding several (an array or an Arrow file); default 0
  --window     half-size in metres of a square view around the ego; default: fit the trajectories
  --width      image width in pixels; default 900
  --no-score   do not score (no PDM-Closed run; proposals in one colour)`;

/** Reads scene `index` of a JSON (scene, golden file or array) or Arrow scenes file. */
async function loadScene(file: string, index: number): Promise<PDMScene> {
  if (!fs.existsSync(file)) throw new InputError(`${file}: no such file.`, { file, expected: 'a scene JSON or Arrow file', found: 'nothing' });
  if (fs.statSync(file).isDirectory()) throw new InputError(`${file}: is a directory; give one scene file.`, { file, expected: 'a file', found: 'a directory' });
  const { parseScene } = await import('../navsim/scene-json.js');
  if (file.endsWith('.arrow')) {
    const { readScenesArrow } = await import('../navsim/arrow-scenes.js');
    const scenes = readScenesArrow(file);
    if (index >= scenes.length) {
      const d = { file, field: '--index', expected: `< ${scenes.length} (scenes in the file)`, found: index };
      throw new UsageError(DrivekitError.format(d), d);
    }
    return scenes[index]!;
  }
  const { readSceneFile } = await import('../navsim/score-scene.js');
  const json: unknown = readSceneFile(file);
  const list = Array.isArray(json) ? json : [json];
  if (index >= list.length) {
    const d = { file, field: '--index', expected: `< ${list.length} (scenes in the file)`, found: index };
    throw new UsageError(DrivekitError.format(d), d);
  }
  return parseScene(list[index], { source: file });
}

/** Proposals from a JSON file: an array of pose lists or of `{poses, frame}` objects. */
function loadProposals(file: string): Trajectory[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: cannot read proposals: ${(e as Error).message}`, { file, cause: e });
  }
  if (!Array.isArray(json)) throw new InputError(`${file}: expected an array of trajectories, found ${typeof json}.`, { file, expected: 'an array of trajectories', found: typeof json });
  return json.map((t: unknown, i) => {
    const poses = Array.isArray(t) ? t : (t as { poses?: unknown })?.poses;
    const frame = Array.isArray(t) ? 'ego' : ((t as { frame?: unknown })?.frame ?? 'ego');
    const ok = Array.isArray(poses) && poses.length > 0 && poses.every((p) => Array.isArray(p) && p.length >= 3 && p.slice(0, 3).every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!ok || (frame !== 'ego' && frame !== 'global')) {
      throw new InputError(`${file}: [${i}]: expected a list of [x, y, heading] poses (frame "ego" or "global").`, { file, field: `[${i}]`, expected: 'a list of [x, y, heading] poses' });
    }
    return { poses: poses as number[][], frame: frame as 'ego' | 'global' };
  });
}

/** Entry point of `drivekit navsim render`. */
export async function navsimRenderCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { out: 'string', proposals: 'string', version: 'string', index: 'number', window: 'number', width: 'number', 'no-score': 'boolean' }, RENDER_USAGE);
  const [file, ...extra] = opts._;
  if (!file) throw new UsageError(`drivekit navsim render: no scene file given.\n${RENDER_USAGE}`, { field: '<scene>', expected: 'one scene file', found: undefined });
  if (extra.length > 0) throw new UsageError(`drivekit navsim render: one scene file at a time, found ${opts._.length}.`, { field: '<scene>', expected: 'one scene file', found: opts._ });
  const out = opts.out as string | undefined;
  if (!out || !/\.(svg|png)$/i.test(out)) throw new UsageError(`--out: expected a file ending in .svg or .png, found ${JSON.stringify(out)}.`, { field: '--out', expected: 'a .svg or .png path', found: out });
  const version = opts.version as string | undefined;
  if (version !== undefined && version !== 'v1.1' && version !== 'v2.2') throw new UsageError(`--version: expected v1.1 or v2.2, found ${JSON.stringify(version)}.`, { field: '--version', expected: 'v1.1 or v2.2', found: version });
  const index = (opts.index as number | undefined) ?? 0;
  if (!Number.isInteger(index) || index < 0) throw new UsageError(`--index: expected an integer >= 0, found ${index}.`, { field: '--index', expected: 'an integer >= 0', found: index });
  const width = (opts.width as number | undefined) ?? 900;
  if (!Number.isInteger(width) || width < 200 || width > 8000) throw new UsageError(`--width: expected an integer in 200..8000, found ${width}.`, { field: '--width', expected: 'an integer in 200..8000', found: width });
  const window = opts.window as number | undefined;
  if (window !== undefined && !(window > 0)) throw new UsageError(`--window: expected a positive number of metres, found ${window}.`, { field: '--window', expected: 'a positive number', found: window });

  const scene = await loadScene(file, index);
  const proposals = opts.proposals ? loadProposals(opts.proposals as string) : [];
  let scores: number[] | undefined;
  let title: string | undefined;
  if (!opts['no-score']) {
    const { scoreScene } = await import('../navsim/score-scene.js');
    const v = version as PDMVersion | undefined;
    const label = (v ?? (scene.schema === 'pdm_ref_scene/v2' ? 'v2.2' : 'v1.1')) === 'v2.2' ? 'EPDMS' : 'PDMS';
    if (proposals.length > 0) scores = scoreScene(scene, proposals, { version: v }).metrics.map((m) => m.score);
    if (scene.trajectory) {
      const own = scoreScene(scene, null, { version: v }).metrics[0]!.score;
      title = `${scene.name}  (${scene.schema}, ${scene.agents.length} agents; scene trajectory ${label} ${own.toFixed(3)})`;
    }
  }
  const { renderNavsimScene } = await import('../viz/navsim-svg.js');
  const svg = renderNavsimScene(scene, { proposals, scores, width, window, title });
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const { writePng, writeSvg } = await import('../viz/png.js');
  if (/\.png$/i.test(out)) writePng(out, svg);
  else writeSvg(out, svg);
  const best = scores && scores.length ? Math.max(...scores) : null;
  io.out(JSON.stringify({ out, scene: scene.name, proposals: proposals.length, best_score: best }));
  return 0;
}
