/**
 * PPO and GAIL on the driving env with the rollouts stepped by worker threads (`workers: 2`,
 * `drivekit env train-gail --workers 2`) equal the in-process run: the same losses, statistics
 * and weights, bit for bit.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { createLogger, readJsonl } from '../../src/core/logger.js';
import { main } from '../../src/cli/main.js';
import { recordExpertDemonstrations } from '../../src/rl/data/demonstrations.js';
import { trainDrivingPPO } from '../../src/rl/ppo/driving.js';

let dir: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-ppo-workers-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A log record less what depends on the clock. */
const timeless = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('time/') && k !== 'wall_time'));

describe('driving PPO with worker rollouts', () => {
  it('workers 2 gives the losses, statistics and weights of workers 1 (curriculum and shaping on)', async () => {
    const before = tf.memory().numTensors;
    const run = async (workers: number) => {
      const out = path.join(dir, `ppo-w${workers}`);
      const logger = createLogger({ dir: out, formats: ['jsonl'] });
      const r = await trainDrivingPPO({
        out, workers, timesteps: 3 * 48, numEnvs: 3, numScenarios: 4, curriculum: '0.05,0.2', envConfig: { horizon: 25 },
        ppo: { nSteps: 16, batchSize: 24, nEpochs: 2 }, policy: { hidden: [16] }, shaping: { offRoad: 1, progress: 10 }, logger,
      });
      logger.close();
      return { r, log: readJsonl(path.join(out, 'progress.jsonl')).map(timeless), weights: fs.readFileSync(path.join(out, 'policy.safetensors')) };
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.log).toHaveLength(3);
    expect(one.log[0]!['train/value_loss']).toBeGreaterThan(0);
    expect(two.log).toEqual(one.log);
    expect(two.weights.equals(one.weights)).toBe(true);
    expect(two.r.trainSuccess).toBe(one.r.trainSuccess);
    expect(two.r.timesteps).toBe(144);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('drivekit env train-gail --workers 2 writes the policy of --workers 1', async () => {
    const demos = path.join(dir, 'demos.arrow');
    await recordExpertDemonstrations({ out: demos, seeds: [0, 1], frames: 100, env: { start_seed: 0, num_scenarios: 4, traffic_density: 0.05, horizon: 60 } });
    const before = tf.memory().numTensors;
    const run = async (workers: number) => {
      const out = path.join(dir, `gail-w${workers}`);
      const lines: string[] = [];
      const code = await main(
        ['env', 'train-gail', '--demos', demos, '--out', out, '--timesteps', '64', '--num-envs', '2', '--num-scenarios', '4', '--n-steps', '16', '--batch-size', '32', '--n-epochs', '1', '--demo-batch-size', '16', '--workers', String(workers), '--json'],
        { out: (l) => lines.push(l), err: () => {} },
      );
      expect(code).toBe(0);
      const summary = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
      return { summary, log: readJsonl(path.join(out, 'progress.jsonl')).map(timeless), weights: fs.readFileSync(path.join(out, 'policy.safetensors')), disc: fs.readFileSync(path.join(out, 'last', 'discriminator.safetensors')) };
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.summary.workers).toBe(1);
    expect(two.summary.workers).toBe(2);
    expect(one.log).toHaveLength(2);
    expect(one.log[0]).toHaveProperty('disc/loss');
    expect(two.log).toEqual(one.log);
    expect(two.weights.equals(one.weights)).toBe(true);
    expect(two.disc.equals(one.disc)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
