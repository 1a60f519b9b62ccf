import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrivekitError, InputError } from '../../src/core/errors.js';
import { METRIC_NAMES, buildMetricCache, openMetricCache, scoreCachedScene, seedScenes } from '../../src/navsim/metric-cache.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { generateScene } from '../../src/navsim/scenegen.js';
import { scoreScene } from '../../src/navsim/score-scene.js';
import { ProposalScorePool, buildSeedMetricCache, lastWaypointReverses, reversingFraction } from '../../src/navsim/score-pool.js';
import { proposals } from './proposals.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-score-pool-'));
const dir = path.join(tmp, 'cache');
const SEEDS = [40, 44] as const;
const bits = (a: ArrayLike<number>) => Array.from(new BigUint64Array(Float64Array.from(a).buffer), String);

beforeAll(() => {
  buildMetricCache(dir, seedScenes(SEEDS[0], SEEDS[1]), { shardSize: 3 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ProposalScorePool', () => {
  it('in this thread (0 workers) equals direct scoring bit for bit, by index and by name', async () => {
    const pool = ProposalScorePool.open(dir);
    expect(pool.size).toBe(0);
    const g = generateScene(SEEDS[0] + 1);
    const scene = parseScene(g.scene);
    const poses = proposals(8, 8, 3);
    for (const version of ['v1.1', 'v2.2'] as const) {
      const direct = scoreScene(scene, poses, { version });
      const byIndex = await pool.score(1, poses, 8, { version });
      const byName = await pool.score(g.name, poses, 8, { version });
      expect(bits(byIndex.score)).toEqual(bits(direct.proposals.map((p) => p.score)));
      expect(bits(byName.score)).toEqual(bits(byIndex.score));
      expect(Object.keys(byIndex.metrics)).toEqual([...METRIC_NAMES[version]]);
      expect(bits(byIndex.metrics.ego_progress!)).toEqual(bits(direct.proposals.map((p) => p.egoProgress)));
    }
    await pool.close();
  });

  it('2 workers: a batch over many scenes equals in-process scoring, in input order, weights honoured', async () => {
    const pool = ProposalScorePool.open(dir, { workers: 2 });
    const cache = openMetricCache(dir);
    const items = [3, 0, 2, 1, 3].map((s, j) => ({ scene: s, poses: proposals(8, 7, 100 + j), count: 8 }));
    const weights = { progress: 10 };
    for (const version of ['v1.1', 'v2.2'] as const) {
      const rs = await pool.scoreBatch(items, { version, weights });
      expect(rs.length).toBe(items.length);
      items.forEach((it, j) => {
        const here = scoreCachedScene(cache.scene(it.scene), it.poses, 8, { version, weights });
        expect(bits(rs[j]!.score)).toEqual(bits(here.score));
        for (const n of METRIC_NAMES[version]) expect(bits(rs[j]!.metrics[n]!)).toEqual(bits(here.metrics[n]!));
      });
    }
    // weights change the score (EP weight 10 vs 5)
    const plain = await pool.score(0, items[1]!.poses, 8, { version: 'v1.1' });
    const heavy = await pool.score(0, items[1]!.poses, 8, { version: 'v1.1', weights });
    expect(bits(plain.score)).not.toEqual(bits(heavy.score));
    // worker errors come back as InputError with their fields
    await expect(pool.score(0, new Float64Array(10), 2, { version: 'v1.1' })).rejects.toBeInstanceOf(InputError);
    await expect(pool.score('no_such_scene', new Float64Array(24), 1, { version: 'v1.1' })).rejects.toMatchObject({ field: 'scene' });
    await pool.close();
  }, 60_000);

  it('a worker that dies gives an error, not a hang; its scenes move to the live worker', async () => {
    const pool = ProposalScorePool.open(dir, { workers: 2 });
    const poses = proposals(8, 6, 9);
    await pool.score(1, poses, 8, { version: 'v1.1' }); // worker 1 is up
    pool.crashWorker(1, 3);
    const err = await pool.score(1, poses, 8, { version: 'v1.1' }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(DrivekitError);
    expect(err.field).toBe('worker');
    expect(String(err.found)).toContain('code 3');
    expect(pool.liveWorkers).toBe(1);
    // scene 1 now goes to worker 0, and gives the same numbers
    const again = await pool.score(1, poses, 8, { version: 'v1.1' });
    const here = scoreCachedScene(openMetricCache(dir).scene(1), poses, 8, { version: 'v1.1' });
    expect(bits(again.score)).toEqual(bits(here.score));
    // every worker dead: calls reject at once
    pool.crashWorker(0, 4);
    await expect(pool.score(0, poses, 8, { version: 'v1.1' })).rejects.toBeInstanceOf(DrivekitError);
    await expect(pool.score(2, poses, 8, { version: 'v1.1' })).rejects.toMatchObject({ field: 'worker' });
    await pool.close();
  }, 60_000);

  it('a shard corrupted after opening is caught by the worker that loads it (InputError naming the shard)', async () => {
    const copy = path.join(tmp, 'corrupt');
    fs.cpSync(dir, copy, { recursive: true });
    const pool = ProposalScorePool.open(copy, { workers: 1 });
    const f = path.join(copy, 'shard-00001.arrow');
    const b = fs.readFileSync(f);
    b[b.length >> 1] ^= 0x10;
    fs.writeFileSync(f, b);
    const poses = proposals(2, 6, 1);
    expect((await pool.score(0, poses, 2, { version: 'v1.1' })).score.length).toBe(2); // shard 0 is intact
    const err = await pool.score(3, poses, 2, { version: 'v1.1' }).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.field).toBe('sha256');
    expect(err.file).toBe(f);
    await pool.close();
  }, 60_000);

  it('builds a seed cache with 2 workers, shard for shard identical to the one-thread build', async () => {
    const par = path.join(tmp, 'parallel');
    let progress = 0;
    const m = await buildSeedMetricCache(par, { start: SEEDS[0], end: SEEDS[1] }, { workers: 2, shardSize: 3, onProgress: (d) => (progress = d) });
    const one = openMetricCache(dir).manifest;
    expect(m.shards).toEqual(one.shards);
    expect(m.names).toEqual(one.names);
    expect(m.seeds).toEqual(one.seeds);
    expect(progress).toBe(SEEDS[1] - SEEDS[0]);
    expect(openMetricCache(par).numScenes).toBe(4);
    // an existing cache is refused before any work; nothing is left beside it
    await expect(buildSeedMetricCache(par, { start: 0, end: 2 }, { workers: 2 })).rejects.toBeInstanceOf(InputError);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('parallel'))).toEqual(['parallel']);
  }, 120_000);

  it('detects reversing last waypoints', () => {
    const forward = proposals(2, 5, 1);
    expect(reversingFraction(forward, 2)).toBe(0);
    const back = Float64Array.from(forward);
    back[21] = back[18]! - 1.0; // last x one metre behind the seventh
    expect(lastWaypointReverses(back, 0)).toBe(true);
    expect(lastWaypointReverses(back, 1)).toBe(false);
    expect(reversingFraction(back, 2)).toBe(0.5);
    // standing still with jitter below the tolerance is not reversing
    const still = new Float64Array(24);
    still[21] = -0.01;
    expect(lastWaypointReverses(still, 0)).toBe(false);
  });
});
