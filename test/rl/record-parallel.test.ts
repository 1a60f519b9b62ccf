/**
 * `recordExpertDemonstrations` split over worker threads (`workers`, `env record-expert --workers N`)
 * writes the same bytes as one thread: the same episodes, rows, record batches and metadata, with
 * and without a frames budget, with a DAgger driver folder; recordings whose episodes share a
 * stream run in this thread and say why.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { main } from '../../src/cli/main.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { recordExpertDemonstrations, type RecordExpertOptions } from '../../src/rl/data/demonstrations.js';

const ENV = { map: 3, horizon: 60, traffic_density: 0.1 };
let dir: string;
let n = 0;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-rec-par-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Records `opts` to a fresh file; returns its bytes and the report. */
async function record(opts: Omit<RecordExpertOptions, 'out'>) {
  const out = path.join(dir, `r${n++}.arrow`);
  const report = await recordExpertDemonstrations({ ...opts, out });
  return { bytes: fs.readFileSync(out), report };
}

describe('recordExpertDemonstrations with workers', () => {
  it('2 workers, shards of 1 and of 3 seeds, batches of 70 rows: byte-identical to 1', async () => {
    const opts = { seeds: [4, 5, 6, 7, 8, 9, 10], env: ENV, batchRows: 70 };
    const one = await record(opts);
    expect(one.report.threads).toBe(1);
    expect(one.report.counts.frames_kept).toBeGreaterThan(140); // several record batches
    for (const shardSize of [1, 3]) {
      const seen: number[] = [];
      const two = await record({ ...opts, workers: 2, shardSize, onEpisode: (e) => seen.push(e.seed) });
      expect(two.report.threads).toBe(2);
      expect(seen).toEqual(opts.seeds);
      expect(two.report.counts).toEqual(one.report.counts);
      expect(two.bytes.equals(one.bytes)).toBe(true);
    }
  }, 60_000);

  it('a frames budget stops at the same episode', async () => {
    const opts = { seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], frames: 120, env: ENV };
    const one = await record(opts);
    const two = await record({ ...opts, workers: 2, shardSize: 1 });
    expect(one.report.seedsPlayed.length).toBeLessThan(10);
    expect(two.report.seedsPlayed).toEqual(one.report.seedsPlayed);
    expect(two.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);

  it('DAgger with a driver folder: 2 workers write what 1 writes, and what the same policy as a function writes', async () => {
    const pdir = path.join(dir, 'driver');
    const p = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [8], seed: 2 });
    await p.save(pdir);
    const before = tf.memory().numTensors;
    const opts = { seeds: [0, 1, 2], env: ENV };
    const fn = await record({ ...opts, driver: (o) => p.act(o, 1, { deterministic: true }).actions });
    const one = await record({ ...opts, driverDir: pdir });
    const two = await record({ ...opts, driverDir: pdir, workers: 2, shardSize: 1 });
    expect(two.report.threads).toBe(2);
    expect(one.bytes.equals(fn.bytes)).toBe(true);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  }, 60_000);

  it('action noise runs in this thread (one stream through the episodes), saying why', async () => {
    const opts = { seeds: [0, 1], env: ENV, actionNoise: [0.2, 0.2] as const, noiseSeed: 1 };
    const one = await record(opts);
    const two = await record({ ...opts, workers: 2 });
    expect(two.report.threads).toBe(1);
    expect(two.report.sequentialReason).toMatch(/noise/);
    expect(two.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);

  it('drivekit env record-expert --workers 2 writes the file of --workers 1', async () => {
    const run = async (workers: number) => {
      const out = path.join(dir, `cli-w${workers}.arrow`);
      const lines: string[] = [];
      const code = await main(['env', 'record-expert', '--seeds', '0:5', '--map', '3', '--horizon', '60', '--out', out, '--workers', String(workers), '--json', '--quiet'], { out: (l) => lines.push(l), err: () => {} });
      expect(code).toBe(0);
      return { bytes: fs.readFileSync(out), summary: JSON.parse(lines.at(-1)!) as Record<string, unknown> };
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.summary.threads).toBe(1);
    expect(two.summary.threads).toBe(2);
    expect(two.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);
});
