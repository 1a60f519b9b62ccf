import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { animatedSvg } from '../../src/viz/animate.js';
import { main } from '../../src/cli/main.js';
import { readJsonl } from '../../src/core/logger.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { recordExpertDemonstrations } from '../../src/rl/data/demonstrations.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-env-train-'));
const demos = path.join(root, 'demos.arrow');
const SMALL = ['--map', '3', '--horizon', '30', '--density', '0'];

beforeAll(async () => {
  await recordExpertDemonstrations({ out: demos, seeds: [0, 1, 2, 3, 4, 5], env: { traffic_density: 0, map: 3, horizon: 60 } });
}, 60_000);

describe('drivekit env train-bc', () => {
  it('--json prints the run; the folder holds a loadable best policy and the log; --resume continues', async () => {
    const out = path.join(root, 'bc');
    let r = await run(['env', 'train-bc', '--demos', demos, '--out', out, '--epochs', '2', '--hidden', '16,16', '--batch-size', '64', '--val-fraction', '0.3', '--json']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    let j = JSON.parse(r.out.at(-1)!);
    expect(j).toMatchObject({ epochs: 2, epochs_run: 2, resumed: false, val_episodes: 2, train_episodes: 4, settings: { batchSize: 64, epochs: 2, seed: 0 } });
    expect(j.best_val_loss).toBeGreaterThan(0);
    expect(j.samples_per_second).toBeGreaterThan(0);
    const { policy, extra } = await ActorCriticPolicy.load(out);
    expect(policy.config).toMatchObject({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [16, 16] });
    expect(extra).toMatchObject({ algorithm: 'BC', epoch: j.best_epoch, normalizer: null });
    policy.dispose();
    const log = readJsonl(path.join(out, 'progress.jsonl'));
    expect(log).toHaveLength(2);
    for (const k of ['train/loss', 'train/steer_loss', 'train/throttle_loss', 'train/sign_bce', 'val/loss', 'val/steer_mae', 'val/throttle_mae']) expect(Number.isFinite(log[1]![k] as number)).toBe(true);
    // the curves next to the log: one panel per group of keys, a PNG beside the SVG
    const curves = fs.readFileSync(path.join(out, 'progress.svg'), 'utf8');
    const titles = [...curves.matchAll(/role-title-text"[^>]*><text[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(titles).toEqual(['loss', 'validation errors', 'validation sign accuracy', 'learning rate', 'BC']); // panels, then the chart's title
    expect([...fs.readFileSync(path.join(out, 'progress.png')).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

    r = await run(['env', 'train-bc', '--demos', demos, '--out', out, '--epochs', '3', '--hidden', '16,16', '--batch-size', '64', '--val-fraction', '0.3', '--json', '--resume']);
    expect(r.code).toBe(0);
    j = JSON.parse(r.out.at(-1)!);
    expect(j).toMatchObject({ resumed: true, start_epoch: 2, epochs: 3, epochs_run: 1 });
    expect(readJsonl(path.join(out, 'progress.jsonl'))).toHaveLength(3);

    r = await run(['env', 'train-bc', '--demos', demos, '--out', out, '--batch-size', '32', '--resume', '--json']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/batchSize/);
  }, 60_000);

  it('bad flags exit 2 naming the flag', async () => {
    let r = await run(['env', 'train-bc', '--out', path.join(root, 'x')]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--demos/);
    r = await run(['env', 'train-bc', '--demos', demos, '--out', path.join(root, 'x'), '--learning-rate', '-1']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--learning-rate/);
    r = await run(['env', 'train-bc', '--demos', demos, '--out', path.join(root, 'x'), '--hidden', '16,x']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--hidden/);
  });
});

describe('drivekit env evaluate', () => {
  it('--json prints the rates with their spread over runs; --record writes frames and an animated SVG', async () => {
    const dir = path.join(root, 'pol');
    const p = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [8] });
    await p.save(dir, { algorithm: 'test' });
    p.dispose();
    const rec = path.join(root, 'rec');
    const r = await run(['env', 'evaluate', '--policy', dir, '--seeds', '0:3', '--runs', '2', ...SMALL, '--json', '--record', rec, '--record-episodes', '1', '--record-every', '10']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.at(-1)!);
    for (const k of ['success_rate', 'crash_rate', 'out_of_road_rate', 'route_completion', 'steering_jerk']) {
      expect(typeof j[k]).toBe('number');
      expect(Object.keys(j.spread[k]).sort()).toEqual(['max', 'min', 'std']);
    }
    expect(j).toMatchObject({ runs: 2, episodes: 6, seeds: [0, 3], deterministic: true, traffic_density: 0, algorithm: 'test' });
    expect(j.per_run).toHaveLength(2);
    expect(j.outcomes).toBeUndefined();
    expect(fs.readdirSync(path.join(rec, 'seed_1')).sort()).toEqual(['frame_0000.svg', 'frame_0010.svg', 'frame_0020.svg', 'frame_0030.svg']);
    const anim = fs.readFileSync(path.join(rec, 'seed_1.svg'), 'utf8');
    expect(j.recorded).toEqual([path.join(rec, 'seed_1.svg')]);
    expect(anim.match(/<animate /g)).toHaveLength(4);
  }, 30_000);

  it('a checkpoint for another observation width is an input error (exit 1) naming the file and both widths', async () => {
    const dir = path.join(root, 'narrow');
    const p = new ActorCriticPolicy({ obsDim: 12, actionType: 'box', actionDim: 2, hidden: [4] });
    await p.save(dir);
    p.dispose();
    const r = await run(['env', 'evaluate', '--policy', dir, '--seeds', '0:1', ...SMALL]);
    expect(r.code).toBe(1);
    const msg = r.err.join('\n');
    expect(msg).toContain(path.join(dir, 'policy.json'));
    expect(msg).toMatch(/259/);
    expect(msg).toMatch(/found 12/);
    const missing = await run(['env', 'evaluate', '--policy', path.join(root, 'nothing'), '--seeds', '0:1']);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toMatch(/nothing/);
    const bad = await run(['env', 'evaluate', '--policy', dir, '--seeds', '0:2', '--record', path.join(root, 'r2'), '--record-episodes', '5']);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--record-episodes/);
  });

  it('animatedSvg shows each frame in turn', () => {
    const f = (c: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20" viewBox="0 0 10 20"><rect fill="${c}"/></svg>`;
    const s = animatedSvg([f('red'), f('blue')], 0.5);
    expect(s.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"')).toBe(true);
    expect(s).toContain('visibility="visible"><animate attributeName="visibility" values="visible;hidden" keyTimes="0;0.500000" dur="1.000s"');
    expect(s).toContain('values="hidden;visible;hidden" keyTimes="0;0.500000;1.000000"');
  });
});
