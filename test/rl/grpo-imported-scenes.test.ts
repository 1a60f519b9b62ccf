/**
 * DiffGRPO on scenes imported from NAVSIM's own metric caches: `navsim import-cache --out DIR`
 * writes a drivekit metric cache (v1.1, one scene per NAVSIM token), and `navsim train-grpo
 * --cache HIDDEN --metric-cache DIR` trains with rewards from those scenes, the hidden-state
 * cache's rows naming them by token.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DiffusionPlanner } from '../../src/models/planner.js';
import { writeHiddenStateCache } from '../../src/rl/data/hidden-state-cache.js';
import type { RewardFn } from '../../src/rl/grpo/reward.js';
import { DiffGrpoTrainer } from '../../src/rl/grpo/trainer.js';
import { InMemoryIlData, makeSyntheticRows } from '../../src/rl/data/il-data.js';
import { NAVSIM_CACHE_V1_DIR } from '../golden-dirs.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-grpo-imported-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const TOKENS = ['straight_cruise', 'lead_brake_follow'];

describe('DiffGRPO on imported NAVSIM scenes', () => {
  it('train-grpo scores rollouts on the scenes an import-cache folder holds, by token', async () => {
    const io = { lines: [] as string[], errs: [] as string[] };
    const cli = { out: (l: string) => void io.lines.push(l), err: (l: string) => void io.errs.push(l) };
    // two NAVSIM samples -> a drivekit metric cache folder
    const navsim = path.join(tmp, 'navsim');
    for (const t of TOKENS) {
      const rel = path.join('drivekit_ref_log', 'unknown', t, 'metric_cache.pkl');
      fs.mkdirSync(path.dirname(path.join(navsim, rel)), { recursive: true });
      fs.copyFileSync(path.join(NAVSIM_CACHE_V1_DIR, 'metric_cache', rel), path.join(navsim, rel));
    }
    const scenes = path.join(tmp, 'imported');
    expect(await main(['navsim', 'import-cache', navsim, '--out', scenes, '--quiet'], cli)).toBe(0);
    // hidden states keyed by the same tokens (here synthetic, as a VLM would give them)
    const rows = makeSyntheticRows({ rows: 2, condLength: 4, condDim: 24, seed: 1 });
    rows.tokens = [...TOKENS];
    const hidden = path.join(tmp, 'hidden.arrow');
    await writeHiddenStateCache(hidden, rows);
    // an IL checkpoint to start from
    const il = path.join(tmp, 'il');
    const planner = DiffusionPlanner.create({ preset: 'tiny', condDim: 24 }, { seed: 0 });
    const unused: RewardFn = async (ids, _traj, G) => ({ reward: new Float64Array(ids.length * G), metrics: {} });
    const saver = new DiffGrpoTrainer(planner, new InMemoryIlData(rows), unused, { dataInfo: { condLength: 4 } });
    await saver.save(path.join(il, 'last'));
    saver.dispose();
    planner.dispose();
    const out = path.join(tmp, 'grpo');
    const args = ['navsim', 'train-grpo', '--init', il, '--cache', hidden, '--metric-cache', scenes, '--out', out, '--iterations', '1', '--group-size', '2', '--scenes-per-iteration', '2', '--quiet', '--json', '--backend', 'wasm'];
    expect(await main(args, cli)).toBe(0);
    const summary = JSON.parse(io.lines.at(-1)!);
    expect(summary.iterations).toBe(1);
    expect(Number.isFinite(summary.reward_mean)).toBe(true);
    const log = fs.readFileSync(path.join(out, 'progress.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toHaveLength(1);
    expect(log[0]['rollout/ego_progress']).toBeGreaterThanOrEqual(0);
    expect(log[0]['rollout/no_at_fault_collisions']).toBeGreaterThanOrEqual(0);
  }, 180_000);
});
