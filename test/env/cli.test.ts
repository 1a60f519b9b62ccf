import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('drivekit env', () => {
  it('info --json lists spaces and defaults', async () => {
    const r = await run(['env', 'info', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.observation_space.shape).toEqual([259]);
    expect(j.action_space.shape).toEqual([2]);
    expect(j.config.traffic_density).toBe(0.1);
    expect(j.observation_layout.lidar).toEqual([19, 259]);
  });

  it('rollout --json gives per-episode results and means', async () => {
    const r = await run(['env', 'rollout', '--policy', 'constant', '--seeds', '0:3', '--density', '0', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.episodes.length).toBe(3);
    expect(j.seeds).toEqual([0, 3]);
    const mean = j.episodes.reduce((s: number, e: { episode_reward: number }) => s + e.episode_reward, 0) / 3;
    expect(j.summary.episode_reward).toBeCloseTo(mean, 9);
    for (const k of ['success_rate', 'crash_rate', 'out_of_road_rate', 'route_completion']) expect(typeof j.summary[k]).toBe('number');
  });

  it('bench --json reports steps/s', async () => {
    const r = await run(['env', 'bench', '--steps', '300', '--json']);
    const j = JSON.parse(r.out[0]!);
    expect(j.steps).toBe(300);
    expect(j.steps_per_second).toBeGreaterThan(0);
    expect(j.lidar_rays).toBe(240);
  });

  it('render writes an SVG and PNG frames', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drivekit-env-'));
    const r = await run(['env', 'render', '--seed', '1', '--out', join(dir, 'scene.svg'), '--steps', '3', '--frames', join(dir, 'frames')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'scene.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readdirSync(join(dir, 'frames')).filter((f) => f.endsWith('.png')).length).toBe(4);
  });

  it('render --animate writes the episode as an animated SVG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drivekit-env-'));
    const anim = join(dir, 'sub', 'episode.svg');
    const r = await run(['env', 'render', '--seed', '1', '--out', join(dir, 'scene.svg'), '--steps', '12', '--animate', anim]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^wrote .*episode\.svg: 4 frames, 12 steps, running$/); // t = 0, 5, 10 and the last step
    const svg = readFileSync(anim, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="480" height="480"/);
    expect(/<animateTransform [^>]*values="([^"]*)"/.exec(svg)![1]!.split(';')).toHaveLength(4);
    const bad = await run(['env', 'render', '--seed', '1', '--out', join(dir, 'scene.svg'), '--animate', join(dir, 'a.png')]);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--animate: expected an \.svg file/);
  });

  it('usage errors name the problem', async () => {
    expect((await run(['env', 'rollout', '--policy', 'fast', '--seeds', '0:2'])).err.join('\n')).toMatch(/--policy: expected one of expert, idm, constant, random/);
    expect((await run(['env', 'rollout', '--policy', 'idm', '--seeds', '5:2'])).err.join('\n')).toMatch(/--seeds: expected B > A/);
    expect((await run(['env', 'fly'])).code).toBe(2);
  });
});
