import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArrowFile } from '../../src/core/arrow.js';
import { readJsonl } from '../../src/core/logger.js';
import { main } from '../../src/cli/main.js';
import { makeSyntheticCacheCommand } from '../../src/cli/planner-train.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-cli-il-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture() {
  const out: string[] = [], err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('drivekit planner train-il / sample / make-synthetic-cache', () => {
  it('makes a cache, trains, resumes, samples, and writes JSONL logs', async () => {
    const cache = path.join(tmp, 'cache.arrow');
    const c0 = capture();
    expect(await makeSyntheticCacheCommand(['--out', cache, '--rows', '20', '--cond-length', '4', '--cond-dim', '8', '--quiet', '--json'], c0.io)).toBe(0);
    expect(JSON.parse(c0.out[0]!)).toMatchObject({ rows: 20, condLength: 4, condDim: 8 });

    const run = path.join(tmp, 'run');
    const c1 = capture();
    const common = ['--cache', cache, '--out', run, '--backend', 'wasm', '--quiet', '--json'];
    expect(await main(['planner', 'train-il', ...common, '--preset', 'tiny', '--epochs', '2', '--batch-size', '8', '--lr', '1e-3', '--warmup', '1', '--log-every', '1'], c1.io)).toBe(0);
    const s1 = JSON.parse(c1.out[0]!);
    expect(s1).toMatchObject({ epochs: 2, globalStep: 6 }); // 18 train rows (10% held out) / 8 -> 3 steps per epoch
    expect(s1.valL1).toBeGreaterThan(0);
    for (const f of ['model.safetensors', 'model.json', 'trainer.safetensors', 'trainer.json', 'data.json']) expect(fs.existsSync(path.join(run, 'last', f))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(run, 'last', 'data.json'), 'utf8'))).toMatchObject({ condLength: 4, condDim: 8, trainRows: 18, valRows: 2 });
    const log = readJsonl(path.join(run, 'progress.jsonl'));
    expect(log.some((r) => typeof r['train/loss'] === 'number')).toBe(true);
    expect(log.filter((r) => typeof r['val/l1'] === 'number')).toHaveLength(2);

    const c2 = capture();
    expect(await main(['planner', 'train-il', ...common, '--resume', path.join(run, 'last'), '--epochs', '3'], c2.io)).toBe(0);
    expect(JSON.parse(c2.out[0]!)).toMatchObject({ epochs: 3, globalStep: 9 });
    expect(readJsonl(path.join(run, 'progress.jsonl')).filter((r) => typeof r['val/l1'] === 'number')).toHaveLength(3); // appended

    const traj = path.join(tmp, 'traj.arrow');
    const c3 = capture();
    expect(await main(['planner', 'sample', '--cache', cache, '--checkpoint', path.join(run, 'last'), '--out', traj, '--group-size', '2', '--batch-size', '8', '--seed', '3', '--backend', 'wasm', '--quiet', '--json'], c3.io)).toBe(0);
    const s3 = JSON.parse(c3.out[0]!);
    expect(s3).toMatchObject({ rows: 20, samples: 40 });
    const t = await readArrowFile(traj);
    expect(t.numRows).toBe(40);
    expect((t.token as string[]).slice(0, 3)).toEqual(['synthetic-0', 'synthetic-0', 'synthetic-1']);
    expect(Array.from(t.sample as Int32Array).slice(0, 4)).toEqual([0, 1, 0, 1]);
    const xs = t.trajectory as Float32Array;
    expect(xs.length).toBe(40 * 24);
    // predictions stay inside ReCogDrive's normalisation box (x in [-1.57, 65.17] m)
    for (let i = 0; i < xs.length; i += 3) expect(xs[i]! >= -1.5701 && xs[i]! <= 65.1701).toBe(true);
    expect(readJsonl(traj.replace(/\.arrow$/, '.log.jsonl')).at(-1)!['sample/l1']).toBeCloseTo(s3.l1, 10);

    // Same seed -> same trajectories.
    const again = path.join(tmp, 'traj2.arrow');
    expect(await main(['planner', 'sample', '--cache', cache, '--checkpoint', path.join(run, 'last'), '--out', again, '--group-size', '2', '--batch-size', '8', '--seed', '3', '--quiet'], capture().io)).toBe(0);
    expect(Array.from((await readArrowFile(again)).trajectory as Float32Array)).toEqual(Array.from(xs));
  });

  it('reports a cache whose conditioning differs from the checkpoint, and usage errors', async () => {
    const other = path.join(tmp, 'other.arrow');
    await makeSyntheticCacheCommand(['--out', other, '--rows', '2', '--cond-length', '5', '--cond-dim', '8', '--quiet'], capture().io);
    const mismatch = capture();
    expect(await main(['planner', 'sample', '--cache', other, '--checkpoint', path.join(tmp, 'run', 'last'), '--out', path.join(tmp, 'x.arrow'), '--quiet'], mismatch.io)).toBe(1);
    expect(mismatch.err.join('\n')).toMatch(/conditioning length L \(column 'cond' dim 0\): expected 4 from the checkpoint .*data\.json\), found 5/);
    expect(fs.existsSync(path.join(tmp, 'x.arrow'))).toBe(false);
    const c = capture();
    expect(await main(['planner', 'train-il', '--out', path.join(tmp, 'y')], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/Missing required option --cache/);
    const nope = capture();
    expect(await main(['planner', 'sample', '--cache', other, '--checkpoint', path.join(tmp, 'nope.safetensors'), '--out', path.join(tmp, 'z.arrow'), '--quiet'], nope.io)).toBe(1);
    expect(nope.err.join('\n')).toContain(`${path.join(tmp, 'nope.safetensors')}: expected a planner checkpoint folder`);
  });
});
