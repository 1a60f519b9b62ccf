/**
 * Scene scoring (`scoring.ts`) plus reading scene JSON files (`scene-file.ts`, Node): the module
 * the CLI, the worker pool and the metric cache import.
 */
import { readSceneFile } from './scene-file.js';
import { scoreSceneJson, type ScoreSceneOptions } from './scoring.js';

export * from './scoring.js';
export { parseSceneJsonBytes, readSceneFile } from './scene-file.js';

type SceneResult = ReturnType<typeof scoreSceneJson>;

/**
 * The worker task of `ScenePool.scoreFile` / `scoreFileAll`: reads a scene JSON file (a scene, a
 * golden file or, with `all`, an array of either) and scores it; with `all` one result per scene in
 * file order. A file that cannot be read or parsed throws (the pool makes it an error result).
 */
export function scoreSceneFileTask(file: string, options: ScoreSceneOptions = {}, all = false): SceneResult | SceneResult[] {
  const scene = readSceneFile(file);
  if (!all) return scoreSceneJson(scene, options);
  return (Array.isArray(scene) ? scene : [scene]).map((s) => scoreSceneJson(s, options));
}
