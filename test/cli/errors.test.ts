/**
 * A new user's mistakes on the command line get errors that name the flag or file, what was
 * expected and what was found, with exit code 2 for usage errors and 1 for data errors; every
 * subcommand has its own --help. Runs the real bin script on the CommonJS build (`npm run build`).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_ORDER } from '../../src/core/backend.js';
import { PDM_V1_DIR } from '../golden-dirs.js';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'drivekit.cjs');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const SCENE = path.join(PDM_V1_DIR, 'straight_cruise.json');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function drivekit(args: string[]): Promise<Run> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cjs', 'cli', 'main.js'))) throw new Error('dist/cjs is missing: run `npm run build` first (npm test does).');
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DRIVEKIT_BACKEND: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The JSON lines of `navsim score --json`. */
const lines = (r: Run) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string; file?: string; error?: string });

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-cli-errors-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, content);
  return p;
}

describe('drivekit --version and --help', () => {
  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await drivekit([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`drivekit ${PKG.version}`);
    }
  });

  it('--backend names the valid backends (exit 2)', async () => {
    const r = await drivekit(['info', '--backend', 'gpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Option --backend: expected one of ${['auto', ...BACKEND_ORDER].join(', ')}, found "gpu".`);
  });

  it('every subcommand has its own help with its options and defaults', async () => {
    const cases: [string[], string[]][] = [
      [['info'], ['--backend', 'default auto', '--json']],
      [['env', 'info'], ['--json']],
      [['env', 'rollout'], ['--policy', '--seeds A:B', 'default 0:10', '--density', 'default 0.1', '--horizon', '--map']],
      [['env', 'bench'], ['--steps', 'default 10000', '--density']],
      [['env', 'render'], ['--seed', '--out', '--frames', '--window', '--width', 'default 900']],
      [['navsim', 'score'], ['--version', '--json', '--workers', 'default: the number of cores']],
      [['navsim', 'pack'], ['--out']],
      [['planner', 'info'], ['--preset', 'small | large | tiny', '--cond-dim', 'default 1536']],
      [['planner', 'train-il'], ['--cache', '--epochs N (200)', '--batch-size B (512', '--preset small|large|tiny']],
      [['planner', 'sample'], ['--checkpoint', 'run folder', '--group-size G (1']],
      [['planner', 'make-synthetic-cache'], ['--rows', '--cond-length L (32)']],
    ];
    const runs = await Promise.all(cases.map(([cmd]) => drivekit([...cmd, '--help'])));
    runs.forEach((r, i) => {
      const [cmd, words] = cases[i]!;
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout.startsWith(`Usage: drivekit ${cmd.join(' ')}`), `${cmd.join(' ')}: ${r.stdout.slice(0, 80)}`).toBe(true);
      for (const w of words) expect(r.stdout, `${cmd.join(' ')} --help: ${w}`).toContain(w);
    });
  });

  it('a group without a subcommand prints its usage and exits 2; with --help it exits 0', async () => {
    const [bare, help] = await Promise.all([drivekit(['env']), drivekit(['env', '--help'])]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('rollout');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('drivekit env <subcommand> --help');
  });
});

describe('env: flags are named, usage errors exit 2', () => {
  it('--density 2, --seed -1, --seeds 5:2, a misspelt flag', async () => {
    const [density, seed, seeds, typo, horizon] = await Promise.all([
      drivekit(['env', 'rollout', '--policy', 'idm', '--seeds', '0:1', '--density', '2']),
      drivekit(['env', 'render', '--seed', '-1', '--out', path.join(tmp, 'r.svg')]),
      drivekit(['env', 'rollout', '--policy', 'idm', '--seeds', '5:2']),
      drivekit(['env', 'rollout', '--policy', 'idm', '--seed', '1']),
      drivekit(['env', 'rollout', '--policy', 'idm', '--seeds', '0:1', '--horizon', '0']),
    ]);
    expect(density.code).toBe(2);
    expect(density.stderr).toContain('Option --density: expected a number in [0, 1], found 2.');
    expect(density.stderr).not.toContain('traffic_density');
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('Option --seed: expected an integer >= 0, found -1.');
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toContain('Option --seeds: expected B > A, found "5:2"');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Unknown option --seed. Did you mean --seeds?');
    expect(horizon.code).toBe(2);
    expect(horizon.stderr).toContain('Option --horizon: expected an integer >= 1, found 0.');
  });

  it('render creates the folder of --out', async () => {
    const out = path.join(tmp, 'new', 'folder', 'scene.svg');
    const r = await drivekit(['env', 'render', '--seed', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^<svg/);
  });
});

describe('navsim score: each bad input is one error line naming the file, exit 1', () => {
  it('a missing file, a folder, an empty file, [], a fake .arrow, no schema, a one-pose trajectory', async () => {
    const scene = JSON.parse(fs.readFileSync(SCENE, 'utf8')) as { input: Record<string, unknown> };
    const onePose = { ...scene.input, name: 'one_pose', trajectory: { frame: 'ego', poses: [[1, 0, 0]] } };
    const inputs = {
      missing: path.join(tmp, 'missing.json'),
      folder: fs.mkdtempSync(path.join(tmp, 'dir-')),
      empty: file('empty.json', ''),
      array: file('array.json', '[]'),
      fake: file('fake.arrow', 'not an arrow file at all'),
      noSchema: file('noschema.json', JSON.stringify({ ego: {} })),
      onePose: file('onepose.json', JSON.stringify(onePose)),
    };
    const expected: Record<keyof typeof inputs, string> = {
      missing: 'found no such file',
      folder: 'found a folder',
      empty: 'found an empty file (0 bytes)',
      array: 'expected a scene object or a non-empty array of scenes, found an empty array []',
      fake: 'found a .arrow file that is not Arrow (it starts with "not an arrow fil")',
      noSchema: "field 'schema': expected \"pdm_ref_scene/v1\" or \"pdm_ref_scene/v2\", found undefined",
      onePose: 'trajectory.poses: expected at least 2 poses (NAVSIM: 8 at 0.5 s), found 1',
    };
    const names = Object.keys(inputs) as (keyof typeof inputs)[];
    const runs = await Promise.all(names.map((k) => drivekit(['navsim', 'score', '--json', inputs[k]])));
    runs.forEach((r, i) => {
      const k = names[i]!;
      expect(r.code, k).toBe(1);
      const out = lines(r);
      expect(out, k).toHaveLength(1);
      expect(out[0]!.file, k).toBe(inputs[k]);
      expect(out[0]!.error, k).toContain(inputs[k]); // the message names the file
      expect(out[0]!.error, k).toContain(expected[k]);
    });
    // good files next to a bad one are still scored
    const mixed = await drivekit(['navsim', 'score', '--json', inputs.array, SCENE]);
    expect(mixed.code).toBe(1);
    expect(lines(mixed).map((l) => l.name)).toEqual([inputs.array, 'straight_cruise']);
  });

  it('no files is a usage error (2); pack creates the folder of --out', async () => {
    const none = await drivekit(['navsim', 'score']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no scene files given');
    const out = path.join(tmp, 'packed', 'deep', 'scenes.arrow');
    const pack = await drivekit(['navsim', 'pack', SCENE, '--out', out]);
    expect(pack.code, pack.stderr).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['scenes.arrow']); // no temporary file left
  });
});

describe('planner: caches, checkpoints, presets, small data', () => {
  let cache: string;
  let run: string;
  let scenes: string;
  beforeAll(async () => {
    cache = path.join(tmp, 'caches', 'new', 'cache.arrow'); // a folder that does not exist yet
    const c = await drivekit(['planner', 'make-synthetic-cache', '--out', cache, '--rows', '12', '--cond-length', '4', '--cond-dim', '8', '--quiet']);
    expect(c.code, c.stderr).toBe(0);
    expect(fs.readdirSync(path.dirname(cache))).toEqual(['cache.arrow']);
    scenes = path.join(tmp, 'scenes.arrow');
    expect((await drivekit(['navsim', 'pack', SCENE, '--out', scenes])).code).toBe(0);
    run = path.join(tmp, 'run');
  }, 120_000);

  it('train-il on few rows: the batch is cut to the data (said in the log) and a too-short run is a warning', async () => {
    const r = await drivekit(['planner', 'train-il', '--cache', cache, '--out', run, '--preset', 'tiny', '--epochs', '2', '--backend', 'wasm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('batch size 512 is larger than the 11 training rows: using batch size 11');
    expect(r.stderr).toContain('warning: this run makes 2 optimiser steps (2 epochs x 1 of batch 11), too few to learn');
    expect(r.stderr).toContain('--warmup 3 epochs');
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ epochs: 2, globalStep: 2 });
    expect(JSON.parse(fs.readFileSync(path.join(run, 'last', 'trainer.json'), 'utf8')).config.batchSize).toBe(11);
  }, 120_000);

  it('train-il --cache: an empty file, a scenes file from navsim pack, a missing file (exit 1)', async () => {
    const empty = file('empty-cache.arrow', '');
    const [e, s, m] = await Promise.all([
      drivekit(['planner', 'train-il', '--cache', empty, '--out', path.join(tmp, 'r1'), '--quiet']),
      drivekit(['planner', 'train-il', '--cache', scenes, '--out', path.join(tmp, 'r2'), '--quiet']),
      drivekit(['planner', 'train-il', '--cache', path.join(tmp, 'nope.arrow'), '--out', path.join(tmp, 'r3'), '--quiet']),
    ]);
    for (const r of [e, s, m]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('--cache');
      expect(r.stderr).toContain('expected a hidden-state cache');
      expect(r.stderr.split('\n').filter(Boolean).length).toBeLessThan(4);
    }
    expect(e.stderr).toContain('found an empty file (0 bytes)');
    expect(e.stderr).not.toContain('stream');
    expect(s.stderr).toContain('found a NAVSIM scenes file (written by `drivekit navsim pack`)');
    expect(m.stderr).toContain('found no such file');
  });

  it('sample --checkpoint: a run folder means its last/; a missing path or an empty folder is named (exit 1)', async () => {
    const out = path.join(tmp, 'traj', 'new', 'traj.arrow');
    const ok = await drivekit(['planner', 'sample', '--cache', cache, '--checkpoint', run, '--out', out, '--quiet', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1)!)).toMatchObject({ rows: 12, samples: 12 });
    expect(fs.existsSync(out)).toBe(true);
    const emptyDir = fs.mkdtempSync(path.join(tmp, 'ckpt-'));
    const [missing, empty] = await Promise.all([
      drivekit(['planner', 'sample', '--cache', cache, '--checkpoint', path.join(tmp, 'no-such-run'), '--out', path.join(tmp, 'x.arrow')]),
      drivekit(['planner', 'sample', '--cache', cache, '--checkpoint', emptyDir, '--out', path.join(tmp, 'y.arrow')]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${path.join(tmp, 'no-such-run')}: expected a planner checkpoint folder`);
    expect(missing.stderr).toContain('found no such file or folder');
    expect(missing.stderr).not.toContain('--preset');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('found an empty folder (neither model.safetensors nor last/model.safetensors)');
  }, 120_000);

  it('a config value set by a flag names the flag, not the config field (exit 2)', async () => {
    const [head, epochs] = await Promise.all([
      drivekit(['planner', 'train-il', '--cache', cache, '--out', path.join(tmp, 'r4'), '--preset', 'tiny', '--head-dim', '7', '--quiet']),
      drivekit(['planner', 'train-il', '--cache', cache, '--out', path.join(tmp, 'r5'), '--preset', 'tiny', '--epochs', '0', '--quiet']),
    ]);
    expect(head.code).toBe(2);
    expect(head.stderr).toContain('Option --head-dim: expected an even integer');
    expect(epochs.code).toBe(2);
    expect(epochs.stderr).toContain('Option --epochs: expected an integer >= 1, found 0.');
  });

  it('one preset set: planner info --preset tiny; a wrong preset names the flag and the presets (exit 2)', async () => {
    const [tiny, bad] = await Promise.all([drivekit(['planner', 'info', '--preset', 'tiny', '--cond-dim', '8', '--json']), drivekit(['planner', 'info', '--preset', 'huge'])]);
    expect(tiny.code, tiny.stderr).toBe(0);
    const info = JSON.parse(tiny.stdout.trim());
    expect(info).toMatchObject({ preset: 'tiny', condDim: 8, width: 32, numLayers: 2, numHeads: 2 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Option --preset: expected one of small, large, tiny, found "huge".');
  });
});
