import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const V1 = PDM_V1_DIR;
const V2 = PDM_V2_DIR;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-navsim-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const golden = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));

describe('drivekit navsim score', () => {
  const a = path.join(V1, 'straight_cruise.json');
  const b = path.join(V1, 'lane_change_sideswipe.json');
  const bad = path.join(tmp, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ schema: 'pdm_ref_scene/v1', name: 'broken', ego: { x: 0 } }));
  const notJson = path.join(tmp, 'not.json');
  fs.writeFileSync(notJson, '{ nope');

  it('prints one JSON line per scene with the golden metrics; bad files give error lines and exit 1', async () => {
    const r = await run(['navsim', 'score', a, bad, b, notJson, '--json']);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(4);
    const lines = r.out.map((l) => JSON.parse(l));
    expect(lines[0].name).toBe('straight_cruise');
    const exp = golden(V1, 'straight_cruise').expected.metrics;
    for (const k of Object.keys(exp)) expect(lines[0].metrics[k]).toBeCloseTo(exp[k], 9);
    expect(lines[1]).toMatchObject({ name: 'broken', file: bad });
    expect(lines[1].error).toMatch(/field 'ego.y': expected a finite number/);
    expect(lines[2].metrics.no_at_fault_collisions).toBe(0);
    expect(lines[2].metrics.score).toBe(0);
    expect(lines[3]).toMatchObject({ name: notJson, file: notJson });
    expect(Object.keys(lines[0].metrics)).toEqual([
      'no_at_fault_collisions', 'drivable_area_compliance', 'driving_direction_compliance', 'ego_progress',
      'time_to_collision_within_bound', 'comfort', 'score',
    ]);
  });

  it('v2 scenes get the v2.2 keys (EC null without a previous frame) and a table without --json', async () => {
    const f = path.join(V2, 'v2_human_forgives_ddc.json');
    const r = await run(['navsim', 'score', f]);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.out[0]!);
    const exp = golden(V2, 'v2_human_forgives_ddc').expected.metrics;
    expect(Object.keys(line.metrics)).toEqual(Object.keys(exp));
    expect(line.metrics.two_frame_extended_comfort).toBeNull();
    for (const k of Object.keys(exp)) {
      if (exp[k] === null) continue;
      expect(line.metrics[k]).toBeCloseTo(exp[k], 9);
    }
    expect(r.out.slice(1).join('\n')).toMatch(/EPDMS \(v2\.2\) over 1 valid scene/);
  });

  it('--version v1.1 scores a v2 scene with the PDMS keys', async () => {
    const r = await run(['navsim', 'score', path.join(V2, 'v2_ttc_after_step_31.json'), '--version', 'v1.1', '--json']);
    const line = JSON.parse(r.out[0]!);
    expect(line.metrics).toHaveProperty('comfort');
    expect(line.metrics).not.toHaveProperty('lane_keeping');
    // the v1.1 cross-check of the v2 README: TTC 0 under v1.1 (1 under v2.2)
    expect(line.metrics.time_to_collision_within_bound).toBe(0);
  });

  it('pack writes an Arrow file that scores to the same lines; usage errors are reported', async () => {
    const out = path.join(tmp, 'scenes.arrow');
    const p = await run(['navsim', 'pack', a, b, '--out', out]);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.out[0]!)).toEqual({ out, scenes: 2 });
    const fromArrow = await run(['navsim', 'score', out, '--json']);
    const fromJson = await run(['navsim', 'score', a, b, '--json']);
    expect(fromArrow.out).toEqual(fromJson.out);
    // decoded scenes go to the workers as they are (ScenePool.scoreParsed): the same lines
    expect((await run(['navsim', 'score', out, '--json', '--workers', '2'])).out).toEqual(fromJson.out);
    const refused = await run(['navsim', 'pack', a, bad, '--out', path.join(tmp, 'x.arrow')]);
    expect(refused.code).toBe(1);
    expect(fs.existsSync(path.join(tmp, 'x.arrow'))).toBe(false);
    expect((await run(['navsim', 'score'])).code).toBe(2);
    expect((await run(['navsim', 'score', a, '--version', 'v3'])).err.join('\n')).toMatch(/expected v1.1 or v2.2/);
    expect((await run(['navsim', 'frobnicate'])).err.join('\n')).toMatch(/unknown subcommand/);
  });

  it('--workers scores in a worker pool with identical results (a file of several scenes included)', async () => {
    const multi = path.join(tmp, 'multi.json');
    fs.writeFileSync(multi, JSON.stringify([golden(V1, 'ped_crossing_yield'), golden(V1, 'reversing').input]));
    const files = [a, notJson, b, multi, path.join(V1, 'curve_follow_left.json')];
    const seq = await run(['navsim', 'score', ...files, '--json']);
    const par = await run(['navsim', 'score', ...files, '--json', '--workers', '2']);
    expect(par.code).toBe(1);
    expect(par.out).toHaveLength(6);
    expect(par.out).toEqual(seq.out);
    expect(JSON.parse(par.out[1]!).error).toBeTypeOf('string');
    expect(par.out.slice(3, 5).map((l) => JSON.parse(l).name)).toEqual(['ped_crossing_yield', 'reversing']);
  });
});
