import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { readDemonstrations } from '../../src/rl/index.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const SMALL = ['--density', '0', '--map', '3', '--horizon', '60', '--quiet'];

describe('drivekit env record-expert', () => {
  it('--json reports counts per rule and frames/s; the file reads back with them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drivekit-rec-'));
    const out = join(dir, 'sub', 'demos.arrow');
    const r = await run(['env', 'record-expert', '--seeds', '0:4', '--frames', '100', '--out', out, ...SMALL, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.seeds).toEqual([0, 4]);
    expect(j.seeds_played).toEqual([0, 2]);
    expect(j.frames).toBeGreaterThanOrEqual(100);
    expect(j.obs_dim).toBe(259);
    expect(j.action_dim).toBe(2);
    expect(j.frames_per_second).toBeGreaterThan(0);
    expect(j.cpu_seconds).toBeGreaterThan(0);
    const c = j.counts;
    expect(c.frames_recorded - c.frames_kept).toBe(c.dropped.standstill + c.dropped.steering_spike + c.dropped.short_trajectory);
    expect(j.cleaning).toEqual({ standstillKmh: 0.5, maxSteeringDelta: 0.3, recoveryWindow: 10, minEpisodeLength: 20 });
    const d = await readDemonstrations(out, { expectObsDim: 259, expectActDim: 2 });
    expect(d.numFrames).toBe(j.frames);
    expect(d.metadata.counts).toEqual(c);
  });

  it('--clean selects rules and the thresholds are flags; text output names the counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drivekit-rec-'));
    const out = join(dir, 'raw.arrow');
    const r = await run(['env', 'record-expert', '--seeds', '0:1', '--out', out, ...SMALL, '--clean', 'none']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/dropped: standstill 0, steering spikes 0, short trajectories 0/);
    const d = await readDemonstrations(out);
    expect(d.metadata.cleaning).toEqual({ standstillKmh: 0, maxSteeringDelta: null, recoveryWindow: 0, minEpisodeLength: 0 });
    expect(d.numFrames).toBe(d.metadata.counts!.frames_recorded);
    const out2 = join(dir, 'some.arrow');
    const r2 = await run(['env', 'record-expert', '--seeds', '0:1', '--out', out2, ...SMALL, '--clean', 'standstill,short', '--min-length', '5', '--json']);
    expect(JSON.parse(r2.out[0]!).cleaning).toEqual({ standstillKmh: 0.5, maxSteeringDelta: null, recoveryWindow: 0, minEpisodeLength: 5 });
  });

  it('usage errors exit 2 and name the flag; nothing is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drivekit-rec-'));
    const out = join(dir, 'x.arrow');
    const bad = [
      [['--seeds', '0:2'], '--out'],
      [['--out', out], '--seeds'],
      [['--seeds', '0:2', '--out', out, '--clean', 'spiky'], '--clean'],
      [['--seeds', '0:2', '--out', out, '--frames', '0'], '--frames'],
      [['--seeds', '0:2', '--out', out, '--density', '2'], '--density'],
      [['--seeds', '2:1', '--out', out], '--seeds'],
    ] as const;
    for (const [args, flag] of bad) {
      const r = await run(['env', 'record-expert', ...args, '--quiet']);
      expect(r.code, `${args.join(' ')}`).toBe(2);
      expect(r.err.join('\n')).toContain(flag);
    }
    expect(existsSync(out)).toBe(false);
    const help = await run(['env', 'record-expert', '--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toContain('--max-steering-delta');
  });
});
