/**
 * A planner dataset from generated NAVSIM scenes (no VLM, no NAVSIM logs needed): for every seed
 * `navsim.generateScene(seed)` makes a scene; its scene tokens `[L, H]` take the place of the VLM
 * hidden states, and history / status / target come from the scene. Rows go to the planner's
 * hidden-state cache (`hidden-state-cache.ts`, Arrow IPC, one row per scene, token = scene name);
 * the scenes go beside it (Arrow scene file of `navsim/arrow-scenes.ts`, or JSON lines) so that
 * sampled trajectories can be scored against them later (`drivekit navsim score scenes.arrow`).
 *
 * Both files are written atomically; on failure neither appears (an existing file stays).
 */
import * as fs from 'node:fs';
import { withAtomicFile } from '../../core/atomic.js';
import { writeScenesArrow } from '../../navsim/arrow-scenes.js';
import { parseScene } from '../../navsim/scene-json.js';
import { SCENE_TOKEN_WIDTH, sceneTokens } from '../../navsim/scene-tokens.js';
import { generateScene, type GeneratedScene, type SceneGenOptions } from '../../navsim/scenegen.js';
import type { PDMScene } from '../../navsim/types.js';
import { HiddenStateCacheWriter } from './hidden-state-cache.js';
import { HISTORY_SIZE, type ILRows, STATUS_SIZE, TARGET_SIZE, allocRows } from './il-data.js';

export const SCENE_DATASET_FORMAT = 'drivekit-scene-dataset';

export interface SceneDatasetOptions {
  /** Scene tokens per sample L (the planner's conditioning length). */
  numTokens: number;
  /** Token width H (the planner's conditioning width). */
  width: number;
  /** Where the scenes go (default: the cache path with `.arrow` replaced by `.scenes.arrow` / `.scenes.jsonl`). */
  scenesPath?: string;
  /** 'arrow' (default; all scenes are held in memory until written) or 'jsonl' (streamed). */
  scenesFormat?: 'arrow' | 'jsonl';
  /** Scene generation options (same for every seed). */
  sceneGen?: Partial<SceneGenOptions>;
  /** Rows generated and appended at a time (default 64). */
  chunkRows?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SceneDatasetResult {
  rows: number;
  path: string;
  scenesPath: string;
}

/** Default scenes path next to a cache path. */
export function defaultScenesPath(cachePath: string, format: 'arrow' | 'jsonl' = 'arrow'): string {
  const base = cachePath.endsWith('.arrow') ? cachePath.slice(0, -'.arrow'.length) : cachePath;
  return `${base}.scenes.${format}`;
}

function validateSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) throw new Error('writeSceneDataset: seeds is empty. Give at least one scenario index.');
  const seen = new Set<number>();
  seeds.forEach((s, i) => {
    if (!Number.isSafeInteger(s)) throw new Error(`writeSceneDataset: seeds[${i}] = ${s} is not an integer.`);
    if (seen.has(s)) throw new Error(`writeSceneDataset: seeds[${i}] = ${s} appears twice (tokens must be unique).`);
    seen.add(s);
  });
}

/** Generates the rows (and parsed scenes) of some seeds. */
export function sceneRows(seeds: readonly number[], opts: Pick<SceneDatasetOptions, 'numTokens' | 'width' | 'sceneGen'>): { rows: ILRows; scenes: Record<string, unknown>[] } {
  return rowsOfGenerated(seeds.map((seed) => generateScene(seed, opts.sceneGen)), opts);
}

/** The rows (and scene JSON) of already generated scenes (e.g. `previousFrameScene(g)`: the frame 0.5 s earlier). */
export function rowsOfGenerated(generated: readonly GeneratedScene[], opts: Pick<SceneDatasetOptions, 'numTokens' | 'width'>): { rows: ILRows; scenes: Record<string, unknown>[] } {
  const L = opts.numTokens, H = opts.width;
  const n = generated.length;
  const rows = allocRows(n, L, H);
  const scenes: Record<string, unknown>[] = [];
  generated.forEach((g, i) => {
    rows.tokens[i] = g.name;
    rows.cond.set(sceneTokens(g, { numTokens: L, width: H }), i * L * H);
    rows.history.set(g.history, i * HISTORY_SIZE);
    rows.status.set(g.status, i * STATUS_SIZE);
    rows.target.set(g.target, i * TARGET_SIZE);
    scenes.push(g.scene);
  });
  return { rows, scenes };
}

/**
 * Writes the planner cache of the generated scenes of `seeds` to `path` and the scenes beside it.
 * Returns the row count and both paths.
 */
export async function writeSceneDataset(path: string, seeds: readonly number[], opts: SceneDatasetOptions): Promise<SceneDatasetResult> {
  const { numTokens: L, width: H } = opts;
  for (const [name, v] of [['numTokens', L], ['width', H]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`writeSceneDataset: invalid ${name} ${v}. Should be an integer >= 1.`);
  }
  validateSeeds(seeds);
  const format = opts.scenesFormat ?? 'arrow';
  if (format !== 'arrow' && format !== 'jsonl') throw new Error(`writeSceneDataset: scenesFormat must be "arrow" or "jsonl", found ${JSON.stringify(format)}.`);
  const scenesPath = opts.scenesPath ?? defaultScenesPath(path, format);
  if (scenesPath === path) throw new Error(`writeSceneDataset: scenesPath and the cache path are the same file (${path}).`);
  const chunk = opts.chunkRows ?? 64;
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`writeSceneDataset: invalid chunkRows ${chunk}. Should be an integer >= 1.`);
  const writer = await HiddenStateCacheWriter.open(path, {
    condLength: L,
    condDim: H,
    metadata: {
      'drivekit.dataset': SCENE_DATASET_FORMAT,
      'drivekit.scene_tokens': JSON.stringify({ numTokens: L, width: H, nativeWidth: SCENE_TOKEN_WIDTH }),
      'drivekit.scenegen': JSON.stringify({ seeds: seeds.length, firstSeed: seeds[0], lastSeed: seeds[seeds.length - 1], options: opts.sceneGen ?? {} }),
      'drivekit.scenes_path': scenesPath,
    },
  });
  const parsed: PDMScene[] = [];
  // The scenes file is completed before the cache is closed, so a failure leaves neither file.
  const run = async (emit: (scenes: Record<string, unknown>[]) => Promise<void>, beforeClose: () => void = () => undefined) => {
    for (let done = 0; done < seeds.length; done += chunk) {
      const part = seeds.slice(done, done + chunk);
      const { rows, scenes } = sceneRows(part, opts);
      await writer.append(rows);
      await emit(scenes);
      opts.onProgress?.(done + part.length, seeds.length);
    }
    beforeClose();
    await writer.close();
  };
  try {
    if (format === 'jsonl') {
      await withAtomicFile(scenesPath, async (fh) => {
        await run(async (scenes) => {
          await fh.write(scenes.map((s) => JSON.stringify(s)).join('\n') + '\n');
        });
      });
    } else {
      await run(
        async (scenes) => {
          for (const s of scenes) parsed.push(parseScene(s));
        },
        () => writeScenesArrow(scenesPath, parsed),
      );
    }
  } catch (e) {
    await writer.abort().catch(() => undefined);
    throw e;
  }
  return { rows: seeds.length, path, scenesPath };
}

/** Reads scenes written as JSON lines (one `pdm_ref_scene` per line); errors name the file and line. */
export function readScenesJsonl(path: string): PDMScene[] {
  const text = fs.readFileSync(path, 'utf8');
  const out: PDMScene[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON (${(e as Error).message}).`);
    }
    out.push(parseScene(json, { source: `${path}:${i + 1}` }));
  });
  return out;
}
