import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('drivekit classic train-ppo', () => {
  it('--json prints timesteps and the learning curve; --out saves a loadable policy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-classic-'));
    const r = await run(['classic', 'train-ppo', '--env', 'CartPole-v1', '--timesteps', '1024', '--seed', '3', '--json', '--out', dir, '--n-epochs', '1']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j.timesteps).toBe(1024);
    expect(j.settings.nEpochs).toBe(1);
    expect(j.settings.nSteps).toBe(128);
    expect(j.curve.length).toBe(j.episodes);
    expect(j.curve.length).toBeGreaterThan(10);
    for (let i = 1; i < j.curve.length; i++) expect(j.curve[i][0]).toBeGreaterThanOrEqual(j.curve[i - 1][0]);
    const { policy, extra } = await ActorCriticPolicy.load(dir);
    expect(policy.config.actionType).toBe('discrete');
    expect(extra.env).toBe('CartPole-v1');
    policy.dispose();
    expect(fs.readFileSync(path.join(dir, 'progress.jsonl'), 'utf8').split('\n').filter(Boolean).length).toBe(2);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('bad flags exit 2 naming the flag', async () => {
    let r = await run(['classic', 'train-ppo', '--env', 'CartPole-v1', '--gamma', '2']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--gamma/);
    r = await run(['classic', 'train-ppo', '--env', 'MountainCar-v0']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--env/);
    r = await run(['classic', 'train-ppo', '--env', 'CartPole-v1', '--n-step', '3']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--n-steps/);
  });
});
