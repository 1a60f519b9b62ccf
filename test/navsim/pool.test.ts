/**
 * The worker pool scores scenes in parallel with the same results as in-process scoring, loading
 * the scorer (a) from the TypeScript sources (tsx in the workers), (b) from a CommonJS build and
 * (c) from an ESM build, both transpiled file-per-file by esbuild as `npm run build` does.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScenePool, closeSharedScenePools, resolveScorerModule, sharedScenePool } from '../../src/navsim/pool.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreSceneJson } from '../../src/navsim/score-scene.js';
import { PDM_V1_DIR } from '../golden-dirs.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const V1 = PDM_V1_DIR;
// inside the repo so that package imports (apache-arrow) resolve from its node_modules
const buildDir = path.join(repoRoot, 'node_modules', '.cache', `drivekit-pool-test-${process.pid}`);

const names = ['straight_cruise', 'lead_brake_rear_end', 'ped_crossing_yield', 'static_obstacle_hit'];
const scenes = names.map((n) => JSON.parse(fs.readFileSync(path.join(V1, `${n}.json`), 'utf8')));
const bad = { schema: 'pdm_ref_scene/v1', name: 'bad', ego: { x: 0, y: 0, heading: 0, vx: NaN } };

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

beforeAll(async () => {
  const entryPoints = sources(path.join(repoRoot, 'src'));
  for (const format of ['cjs', 'esm'] as const) {
    const outdir = path.join(buildDir, format);
    await build({ entryPoints, outdir, outbase: path.join(repoRoot, 'src'), format, platform: 'node', target: 'node20', bundle: false, logLevel: 'silent' });
    fs.writeFileSync(path.join(outdir, 'package.json'), JSON.stringify({ type: format === 'cjs' ? 'commonjs' : 'module' }));
  }
});
afterAll(() => fs.rmSync(buildDir, { recursive: true, force: true }));

const expected = () => [...scenes, bad].map((s) => scoreSceneJson(s));

async function scoreWith(pool: ScenePool) {
  try {
    return await pool.scoreAll([...scenes, bad]);
  } finally {
    await pool.close();
  }
}

describe('ScenePool', () => {
  it('from the TypeScript sources: same results as in-process, bad scenes as error results', async () => {
    const pool = new ScenePool({ workers: 2 });
    expect(pool.modulePath.endsWith(path.join('src', 'navsim', 'score-scene.ts'))).toBe(true);
    const got = await scoreWith(pool);
    expect(got).toEqual(expected());
    expect(got[4]!.error).toMatch(/ego.vx/);
    expect(got.map((r) => r.name)).toEqual([...names, 'bad']);
  });

  it('from a CommonJS build: the build resolves its own sibling score-scene.js', async () => {
    const req = createRequire(path.join(buildDir, 'cjs', 'x.js'));
    const built = req(path.join(buildDir, 'cjs', 'navsim', 'pool.js'));
    expect(built.resolveScorerModule()).toBe(path.join(buildDir, 'cjs', 'navsim', 'score-scene.js'));
    const pool = new built.ScenePool({ workers: 2 }) as ScenePool;
    expect(await scoreWith(pool)).toEqual(expected());
  });

  it('from an ESM build: resolves its sibling score-scene.js (an explicit index.js works too)', async () => {
    const esmIndex = path.join(buildDir, 'esm', 'navsim', 'index.js');
    const built = await import(pathToFileURL(path.join(buildDir, 'esm', 'navsim', 'pool.js')).href);
    expect(built.resolveScorerModule()).toBe(path.join(buildDir, 'esm', 'navsim', 'score-scene.js'));
    const pool = new ScenePool({ workers: 1, modulePath: esmIndex });
    expect(await scoreWith(pool)).toEqual(expected());
  });

  it('scores parsed scenes (Arrow input) and files in the workers, as in-process', async () => {
    const pool = new ScenePool({ workers: 1 });
    try {
      const parsed = scenes.map((s) => parseScene(s));
      expect(await Promise.all(parsed.map((s) => pool.scoreParsed(s)))).toEqual(scenes.map((s) => scoreSceneJson(s)));
      const file = path.join(V1, `${names[1]}.json`);
      expect(await pool.scoreFile(file)).toEqual(scoreSceneJson(scenes[1]));
      expect(await pool.scoreFileAll(file)).toEqual([scoreSceneJson(scenes[1])]);
      const missing = await pool.scoreFileAll(path.join(V1, 'no-such-scene.json'));
      expect(missing).toHaveLength(1);
      expect(missing[0]!.error).toMatch(/ENOENT/);
    } finally {
      await pool.close();
    }
  });

  it('validates its options and refuses work after close', async () => {
    expect(() => new ScenePool({ workers: 0 })).toThrow(/invalid workers: 0/);
    expect(() => resolveScorerModule('/nonexistent/index.js')).not.toThrow(); // falls back to the sources
    const pool = new ScenePool({ workers: 1 });
    await pool.close();
    await expect(pool.score(scenes[0])).rejects.toThrow(/closed/);
  });

  it('keeps several scenes in flight per worker (depth) and returns results in input order', async () => {
    expect(() => new ScenePool({ workers: 1, depth: 0 })).toThrow(/invalid depth: 0/);
    const pool = new ScenePool({ workers: 2, depth: 3 });
    expect(pool.depth).toBe(3);
    const list = [...scenes, bad, ...scenes];
    try {
      expect(await pool.scoreAll(list)).toEqual(list.map((s) => scoreSceneJson(s)));
    } finally {
      await pool.close();
    }
  });

  it('sharedScenePool: one warm pool per process and size, replaced after close', async () => {
    try {
      const a = sharedScenePool({ workers: 1 });
      expect(sharedScenePool({ workers: 1 })).toBe(a);
      const b = sharedScenePool({ workers: 2 });
      expect(b).not.toBe(a);
      expect(await a.score(scenes[0])).toEqual(scoreSceneJson(scenes[0]));
      expect(await a.score(scenes[1])).toEqual(scoreSceneJson(scenes[1]));
      await a.close();
      const c = sharedScenePool({ workers: 1 });
      expect(c).not.toBe(a);
      expect(await c.score(scenes[2])).toEqual(scoreSceneJson(scenes[2]));
    } finally {
      await closeSharedScenePools();
    }
  });

  it('answers the tasks of a worker that exits, and sharedScenePool replaces a pool whose workers all died', async () => {
    const mod = path.join(buildDir, 'exiting-scorer.cjs');
    fs.mkdirSync(buildDir, { recursive: true });
    fs.writeFileSync(mod, 'exports.scoreSceneJson = () => process.exit(3);\n');
    try {
      const pool = sharedScenePool({ workers: 1, modulePath: mod });
      const got = await Promise.all([pool.score(scenes[0]), pool.score(scenes[1]), pool.score(scenes[2])]);
      expect(got.every((r) => r.error !== undefined)).toBe(true);
      expect(got[0]!.error).toMatch(/worker exited with code 3/);
      expect(got[2]!.error).toMatch(/worker exited with code 3|no worker left/);
      expect(pool.liveWorkers).toBe(0);
      const again = sharedScenePool({ workers: 1, modulePath: mod });
      expect(again).not.toBe(pool);
      expect(again.liveWorkers).toBe(1);
    } finally {
      await closeSharedScenePools();
    }
  });
});
