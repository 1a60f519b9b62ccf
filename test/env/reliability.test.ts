/**
 * Issue #16, environment: non-numeric or non-finite actions are errors naming the index; seeds are
 * integers in [0, 2^32) (2^32 no longer aliases seed 0); the map cache is bounded (LRU); rollouts
 * stream per-episode results (JSONL with --out) and survive a failure part-way; a seed range of
 * 130,000 no longer overflows the stack.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { InputError } from '../../src/core/errors.js';
import { DrivingEnv, MAX_SEED_EXCLUSIVE } from '../../src/env/env.js';
import { makePolicy, type EgoPolicy } from '../../src/env/policies.js';
import { rollout } from '../../src/env/rollout.js';
import { worldMapSource } from '../../src/env/world-adapter.js';
import { summarizeDriving, type EpisodeOutcome } from '../../src/metrics/driving.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('DrivingEnv.step actions', () => {
  const env = new DrivingEnv({ traffic_density: 0, num_scenarios: 1 });
  env.reset({ seed: 0 });
  const bad: [unknown, unknown, number][] = [
    ['0.5', 1, 0],
    [null, 1, 0],
    [Number.NaN, 1, 0],
    [0, Infinity, 1],
    [0, undefined, 1],
    [0, -Infinity, 1],
    [{}, 0, 0],
  ];
  for (const [a, b, index] of bad) {
    it(`[${String(a)}, ${String(b)}] is an InputError naming action[${index}]`, () => {
      let err: unknown;
      try {
        env.step([a, b] as unknown as number[]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe(`action[${index}]`);
    });
  }

  it('finite numbers still step (clipped to [-1, 1]), typed arrays included', () => {
    const r = env.step(Float32Array.of(5, -0.5));
    expect(r.info.steering).toBe(1);
    expect(r.info.raw_action).toEqual([5, -0.5]);
  });
});

describe('seeds', () => {
  it('2^32 (which aliased seed 0), negatives, fractions and NaN are InputErrors naming the seed', () => {
    const env = new DrivingEnv({ traffic_density: 0, start_seed: 0, num_scenarios: 10 });
    for (const s of [MAX_SEED_EXCLUSIVE, -1, 0.5, Number.NaN]) {
      let err: unknown;
      try {
        env.reset({ seed: s });
      } catch (e) {
        err = e;
      }
      expect(err, String(s)).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe('seed');
    }
    expect(MAX_SEED_EXCLUSIVE).toBe(4294967296);
  });

  it('the CLI refuses --seeds beyond 2^32 and handles a 130,000-seed range without a stack overflow', async () => {
    const big = await run(['env', 'rollout', '--policy', 'constant', '--seeds', '0:4294967297']);
    expect(big.code).toBe(2);
    expect(big.err.join('\n') + big.out.join('\n')).toMatch(/2\^32/);
    // --density 2 fails after the seed range has been turned into an env config.
    const wide = await run(['env', 'rollout', '--policy', 'constant', '--seeds', '0:130000', '--density', '2']);
    expect(wide.code).toBe(2);
    expect(wide.err.join('\n') + wide.out.join('\n')).not.toMatch(/call stack/);
    expect(wide.err.join('\n') + wide.out.join('\n')).toMatch(/density/);
  });
});

describe('map cache', () => {
  it('keeps at most mapCacheSize maps (LRU) and rebuilds evicted ones identically', () => {
    let built = 0;
    const env = new DrivingEnv({ traffic_density: 0, num_scenarios: 100 }, {
      mapCacheSize: 3,
      mapSource: (seed, cfg) => {
        built++;
        return worldMapSource(seed, cfg);
      },
    });
    env.mapFor(0);
    const one = env.mapFor(1);
    for (const s of [2, 0, 3, 4]) env.mapFor(s); // 0 was used again before 3: 1 and 2 are evicted
    expect(env.cachedMaps).toBe(3);
    expect(built).toBe(5);
    env.mapFor(4);
    env.mapFor(0);
    expect(built).toBe(5); // both still cached
    const again = env.mapFor(1);
    expect(built).toBe(6); // evicted → rebuilt, the same map
    expect(again).not.toBe(one);
    expect(JSON.stringify(again.lanes.map((l) => l.id))).toBe(JSON.stringify(one.lanes.map((l) => l.id)));
  });

  it('defaults to 64 maps over 80 seeds', () => {
    const env = new DrivingEnv({ traffic_density: 0, num_scenarios: 100, map: 1 });
    for (let s = 0; s < 80; s++) env.mapFor(s);
    expect(env.cachedMaps).toBe(64);
  });
});

describe('streamed rollouts', () => {
  it('onEpisode sees each outcome as it finishes; the summary equals summarizeDriving; keepEpisodes: false keeps none', () => {
    const env = new DrivingEnv({ traffic_density: 0, num_scenarios: 6, horizon: 30 });
    const seen: EpisodeOutcome[] = [];
    const full = rollout(env, makePolicy('constant'), [0, 1, 2, 3, 4, 5]);
    const lean = rollout(env, makePolicy('constant'), [0, 1, 2, 3, 4, 5], { onEpisode: (e) => seen.push(e), keepEpisodes: false });
    expect(lean.episodes).toEqual([]);
    expect(seen).toEqual(full.episodes);
    expect(lean.summary).toEqual(summarizeDriving(full.episodes));
  });

  it('a failure part-way keeps the episodes already written', () => {
    const env = new DrivingEnv({ traffic_density: 0, num_scenarios: 6, horizon: 30 });
    const base = makePolicy('constant');
    let resets = 0;
    const failing: EgoPolicy = {
      name: 'failing',
      reset: (e) => {
        if (++resets === 3) throw new Error('policy crashed');
        base.reset(e);
      },
      act: (e, o) => base.act(e, o),
    };
    const written: number[] = [];
    expect(() => rollout(env, failing, [0, 1, 2, 3], { onEpisode: (e) => written.push(e.seed) })).toThrow('policy crashed');
    expect(written).toEqual([0, 1]);
  });

  it('env rollout --out writes one JSON line per episode, then a summary line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-rollout-'));
    const file = join(dir, 'sub', 'episodes.jsonl');
    const r = await run(['env', 'rollout', '--policy', 'constant', '--seeds', '0:3', '--density', '0', '--horizon', '30', '--out', file]);
    expect(r.code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((l) => l.seed)).toEqual([0, 1, 2]);
    expect(lines[3].summary.episodes).toBe(3);
    expect(lines[3].summary).toEqual(summarizeDriving(lines.slice(0, 3)));
    expect(r.out.join('\n')).toMatch(/steps in/);
    expect(r.out.join('\n')).not.toMatch(/^0 steps/m);
  });
});
