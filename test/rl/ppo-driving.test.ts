import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { readJsonl } from '../../src/core/logger.js';
import { createLogger } from '../../src/core/logger.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { TrafficCurriculum } from '../../src/rl/common/curriculum.js';
import { evaluatePolicy } from '../../src/rl/common/evaluate.js';
import { recordExpertDemonstrations } from '../../src/rl/data/demonstrations.js';
import { trainDrivingPPO } from '../../src/rl/ppo/driving.js';

beforeAll(async () => {
  await init({ backend: 'wasm' });
});

describe('TrafficCurriculum', () => {
  it('advances by steps in equal shares and never past the last stage', () => {
    const c = TrafficCurriculum.parse('0.05,0.1,0.2', 300);
    const seen: number[] = [];
    const target = { setTrafficDensity: (d: number) => seen.push(d) };
    c.apply(target);
    expect(c.update(99)).toBe(false);
    expect(c.update(100)).toBe(true);
    c.apply(target);
    expect(c.update(200)).toBe(true);
    c.apply(target);
    expect(c.update(10_000)).toBe(false);
    expect(seen).toEqual([0.05, 0.1, 0.2]);
  });

  it('advances by success rate over a full window, and its state round-trips', () => {
    const c = TrafficCurriculum.parse('0.05@0.8,0.2', 1000, 10);
    for (let i = 0; i < 9; i++) c.recordEpisode(true);
    expect(c.update(5)).toBe(false); // window not full
    c.recordEpisode(false);
    expect(c.recentSuccess).toBeCloseTo(0.9, 12);
    const copy = TrafficCurriculum.parse('0.05@0.8,0.2', 1000, 10);
    copy.setState(c.state());
    expect(c.update(6)).toBe(true);
    expect(c.density).toBe(0.2);
    expect(copy.update(6)).toBe(true);
    expect(() => TrafficCurriculum.parse('1.5,0.1', 10)).toThrow(/density/);
  });
});

describe('trainDrivingPPO', () => {
  it('initialises from a policy checkpoint, warms up the critic with the actor frozen, follows the curriculum, resumes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-drv-'));
    const initDir = path.join(dir, 'bc');
    const start = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [32, 32], seed: 4 });
    await start.save(initDir);
    const actorBefore = [...start.stateDict().get('action_net.weight')!.data];
    start.dispose();
    const out = path.join(dir, 'ppo');
    const before = tf.memory().numTensors;
    const logger = createLogger({ dir: out, formats: ['jsonl'] });
    const ppoCfg = { nSteps: 32, batchSize: 32, nEpochs: 1 };
    const r = await trainDrivingPPO({ out, init: initDir, timesteps: 2 * 64, numEnvs: 2, numScenarios: 4, curriculum: '0.05,0.2', valueWarmupIterations: 2, ppo: ppoCfg, logger });
    logger.close();
    expect(r.timesteps).toBe(128);
    expect(r.finalStage).toBe(1);
    const { policy, extra } = await ActorCriticPolicy.load(out);
    // Two warm-up iterations: the actor did not move, the log-std was reset to -1.6.
    expect([...policy.stateDict().get('action_net.weight')!.data]).toEqual(actorBefore);
    expect([...policy.logStd()].map((v) => +v.toFixed(5))).toEqual([-1.6, -1.6]);
    expect(extra.algorithm).toBe('PPO');
    policy.dispose();
    const log = readJsonl(path.join(out, 'progress.jsonl'));
    expect(log.map((l) => l['train/actor_frozen'])).toEqual([1, 1]);
    // The density each iteration ran with: the stage changes after the first half of the run.
    expect(log.map((l) => l['curriculum/density'])).toEqual([0.05, 0.2]);
    // Resume: two more iterations, the actor now trains.
    const r2 = await trainDrivingPPO({ out, resume: true, timesteps: 4 * 64, numEnvs: 2, numScenarios: 4, curriculum: '0.05,0.2', ppo: ppoCfg });
    expect(r2.timesteps).toBe(256);
    const { policy: after } = await ActorCriticPolicy.load(out);
    expect([...after.stateDict().get('action_net.weight')!.data]).not.toEqual(actorBefore);
    after.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainDrivingPPO({ out: path.join(dir, 'x'), resume: true, timesteps: 10 })).rejects.toBeInstanceOf(InputError);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('validates every k iterations on held-out maps, keeps the best policy in out/best/, and resumes the record', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-drv-'));
    const out = path.join(dir, 'ppo');
    const before = tf.memory().numTensors;
    const logger = createLogger({ dir: out, formats: ['jsonl'] });
    const common = { out, numEnvs: 2, numScenarios: 3, ppo: { nSteps: 16, batchSize: 32, nEpochs: 1 }, policy: { hidden: [16] }, validation: { seeds: [900, 901], every: 2 } };
    const r = await trainDrivingPPO({ ...common, timesteps: 3 * 32, logger });
    logger.close();
    // Iterations 2 and the last (3) are validated.
    expect(r.validation!.points.map((p) => p.iteration)).toEqual([2, 3]);
    const best = r.validation!.best;
    const top = Math.max(...r.validation!.points.map((p) => p.success_rate));
    expect(best.success_rate).toBe(top);
    // The saved best policy gives the recorded validation numbers again (deterministic evaluation).
    const { policy, extra } = await ActorCriticPolicy.load(path.join(out, 'best'));
    expect(extra.timesteps).toBe(best.timesteps);
    const again = evaluatePolicy(policy, { seeds: [900, 901], density: 0.1, numEnvs: 2 });
    expect(again.success_rate).toBe(best.success_rate);
    expect(again.route_completion).toBe(best.route_completion);
    policy.dispose();
    const log = readJsonl(path.join(out, 'progress.jsonl')).filter((l) => l['eval/success_rate'] !== undefined);
    expect(log.map((l) => l.step)).toEqual([64, 96]);
    // Resume keeps the validation record and adds to it.
    const r2 = await trainDrivingPPO({ ...common, resume: true, timesteps: 4 * 32 });
    expect(r2.validation!.points.map((p) => p.iteration)).toEqual([2, 3, 4]);
    expect(tf.memory().numTensors).toBe(before);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('rejects an init policy for another observation width, naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-drv-'));
    const p = new ActorCriticPolicy({ obsDim: 4, actionType: 'discrete', actionDim: 2, hidden: [8] });
    await p.save(dir);
    p.dispose();
    await expect(trainDrivingPPO({ out: path.join(dir, 'o'), init: dir, timesteps: 64, numEnvs: 1 })).rejects.toMatchObject({ field: 'obsDim', expected: 259, found: 4 });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('trainDrivingPPO with GAIL and shaping', () => {
  it('logs the discriminator and shaping terms, saves the discriminator and resumes with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-gail-drv-'));
    const demos = path.join(dir, 'demos.arrow');
    await recordExpertDemonstrations({ out: demos, seeds: [0, 1], frames: 150, env: { start_seed: 0, num_scenarios: 4, traffic_density: 0.05 } });
    const out = path.join(dir, 'gail');
    const logger = createLogger({ dir: out, formats: ['jsonl'] });
    const common = { out, numEnvs: 2, numScenarios: 4, density: 0.05, ppo: { nSteps: 32, batchSize: 32, nEpochs: 1 }, shaping: { offRoad: 1, progress: 10 }, gail: { demos, config: { demoBatchSize: 16, gailWeight: 1, envWeight: 0.5 }, discHidden: [16, 16] } };
    const r = await trainDrivingPPO({ ...common, timesteps: 128, logger });
    logger.close();
    expect(r.timesteps).toBe(128);
    const log = readJsonl(path.join(out, 'progress.jsonl'));
    expect(log).toHaveLength(2);
    for (const k of ['disc/loss', 'disc/disc_acc_expert', 'gail/reward_mean', 'shaping/progress', 'shaping/off_road']) expect(log[0]).toHaveProperty(k);
    expect(fs.existsSync(path.join(out, 'last', 'discriminator.safetensors'))).toBe(true);
    const { extra } = await ActorCriticPolicy.load(out);
    expect(extra.algorithm).toBe('GAIL');
    const r2 = await trainDrivingPPO({ ...common, timesteps: 192, resume: true });
    expect(r2.timesteps).toBe(192);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
