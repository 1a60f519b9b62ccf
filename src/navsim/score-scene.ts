/**
 * Scene scoring (`scoring.ts`) plus reading scene JSON files (`scene-file.ts`, Node): the module
 * the CLI, the worker pool and the metric cache import.
 */
export * from './scoring.js';
export { parseSceneJsonBytes, readSceneFile } from './scene-file.js';
