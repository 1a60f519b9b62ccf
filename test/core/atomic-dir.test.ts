/**
 * Issue #16: a crash between the two renames of the checkpoint swap left no `last/`. Every step
 * of `writeDirAtomic` is interrupted (the hook throws, leaving the files as a crash would; one
 * case is a real `kill -9` of a child process), then `recoverDir` must bring back a complete
 * checkpoint (the newest one) and remove what the killed run left.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIR_COMPLETE_MARKER, type DirWriteStep, recoverDir, writeDirAtomic } from '../../src/core/atomic.js';
import { init } from '../../src/core/backend.js';
import { readSafetensors } from '../../src/core/safetensors.js';
import { main } from '../../src/cli/main.js';
import { makeSyntheticCacheCommand } from '../../src/cli/planner-train.js';
import { InMemoryIlData, makeSyntheticRows } from '../../src/rl/data/il-data.js';
import { IlTrainer } from '../../src/rl/il-trainer.js';
import { TinyIlModel } from '../rl/helpers/tiny-il-model.js';

const STEPS: DirWriteStep[] = ['filled', 'marked', 'old-removed', 'moved-aside', 'swapped', 'done'];

class Crash extends Error {}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-atomic-dir-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function writeVersion(target: string, version: number, crashAt?: DirWriteStep): Promise<void> {
  await writeDirAtomic(
    target,
    async (dir) => {
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(1000, version));
      fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ version }));
    },
    {
      hook: (step) => {
        if (step === crashAt) throw new Crash(step);
      },
    },
  );
}

const versionOf = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as { version: number }).version;
const leftovers = () => fs.readdirSync(tmp).filter((n) => n !== 'last').sort();

describe('writeDirAtomic', () => {
  it('writes a marked directory and leaves nothing beside it', async () => {
    const target = path.join(tmp, 'last');
    await writeVersion(target, 1);
    await writeVersion(target, 2);
    expect(versionOf(target)).toBe(2);
    expect(fs.existsSync(path.join(target, DIR_COMPLETE_MARKER))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('a failing fill removes its temporary folder and keeps the target', async () => {
    const target = path.join(tmp, 'last');
    await writeVersion(target, 1);
    await expect(writeDirAtomic(target, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(versionOf(target)).toBe(1);
    expect(leftovers()).toEqual([]);
  });

  // After a crash at `step` while replacing version 1 by version 2, the newest complete copy.
  const expected: Record<DirWriteStep, number> = { filled: 1, marked: 1, 'old-removed': 1, 'moved-aside': 2, swapped: 2, done: 2 };
  for (const step of STEPS) {
    it(`a crash after step "${step}" of a replacement is recovered (version ${expected[step]})`, async () => {
      const target = path.join(tmp, 'last');
      await writeVersion(target, 1);
      await expect(writeVersion(target, 2, step)).rejects.toBeInstanceOf(Crash);
      if (step === 'moved-aside') expect(fs.existsSync(target)).toBe(false); // the window of the issue
      // A new run starts: everything older than now belongs to the killed run.
      const r = await recoverDir(target, { olderThan: Date.now() + 1 });
      expect(r.dir).toBe(target);
      expect(r.source).toBe(step === 'moved-aside' ? 'temp' : 'target');
      expect(versionOf(target)).toBe(expected[step]);
      expect(leftovers()).toEqual([]);
      // and the next write works as usual
      await writeVersion(target, 3);
      expect(versionOf(target)).toBe(3);
      expect(leftovers()).toEqual([]);
    });
  }

  // ('moved-aside' does not happen when there is no previous target.)
  for (const step of STEPS.filter((s) => s !== 'moved-aside')) {
    it(`a crash after step "${step}" of the first write leaves a complete target or none`, async () => {
      const target = path.join(tmp, 'last');
      await expect(writeVersion(target, 1, step)).rejects.toBeInstanceOf(Crash);
      const r = await recoverDir(target, { olderThan: Date.now() + 1 });
      if (step === 'filled') {
        expect(r).toMatchObject({ dir: null, source: null });
        expect(fs.existsSync(target)).toBe(false);
      } else {
        expect(r.dir).toBe(target);
        expect(versionOf(target)).toBe(1);
      }
      expect(leftovers()).toEqual([]);
    });
  }

  it('recovers from <target>.old when the marked temporary folder is gone', async () => {
    const target = path.join(tmp, 'last');
    await writeVersion(target, 1);
    await expect(writeVersion(target, 2, 'moved-aside')).rejects.toBeInstanceOf(Crash);
    for (const n of fs.readdirSync(tmp)) if (n.includes('.tmp-')) fs.rmSync(path.join(tmp, n), { recursive: true });
    const r = await recoverDir(target);
    expect(r.source).toBe('old');
    expect(versionOf(target)).toBe(1);
    expect(leftovers()).toEqual([]);
  });

  it('keeps the temporary folders of live runs (this process, started after olderThan)', async () => {
    const target = path.join(tmp, 'last');
    await writeVersion(target, 1);
    await expect(writeVersion(target, 2, 'filled')).rejects.toBeInstanceOf(Crash);
    const r = await recoverDir(target); // default olderThan: this process's start
    expect(r.removed).toEqual([]);
    expect(leftovers()).toHaveLength(1);
  });

  it('removes temporary files and folders of dead processes beside the target, of any name', async () => {
    const target = path.join(tmp, 'last');
    await writeVersion(target, 1);
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!; // a pid that has exited
    const t = Date.now().toString(36);
    fs.mkdirSync(path.join(tmp, `.best-epoch-0002.tmp-${dead}-${t}-abcdef`));
    fs.writeFileSync(path.join(tmp, `.metrics.json.tmp-${dead}-${t}-7`), '{');
    fs.writeFileSync(path.join(tmp, 'keep.json'), '{}');
    const r = await recoverDir(target);
    expect(r.removed).toHaveLength(2);
    expect(leftovers()).toEqual(['keep.json']);
  });

  it('a missing target with nothing to recover gives {dir: null} and does not throw', async () => {
    expect(await recoverDir(path.join(tmp, 'nope', 'last'))).toEqual({ dir: null, source: null, removed: [] });
  });

  it('kill -9 of a writer between the renames: the next run recovers and cleans up', () => {
    const target = path.join(tmp, 'last');
    const atomic = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/core/atomic.ts');
    const script = path.join(tmp, 'writer.mts');
    fs.writeFileSync(
      script,
      `import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from ${JSON.stringify(atomic)};
const target = ${JSON.stringify(target)};
const write = (v: number, kill: boolean) => writeDirAtomic(target, async (d) => fs.writeFileSync(path.join(d, 'state.json'), JSON.stringify({ version: v })), {
  hook: (step) => { if (kill && step === 'moved-aside') process.kill(process.pid, 'SIGKILL'); },
});
await write(1, false);
await write(2, true);
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(tmp).some((n) => n.startsWith('.last.tmp-'))).toBe(true);
    const check = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', `import(${JSON.stringify(atomic)}).then(async (m) => console.log(JSON.stringify(await m.recoverDir(${JSON.stringify(target)}))))`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(check.status).toBe(0);
    const rec = JSON.parse(check.stdout) as { dir: string; source: string; removed: string[] };
    expect(rec.source).toBe('temp');
    expect(versionOf(target)).toBe(2);
    expect(fs.readdirSync(tmp).sort()).toEqual(['last', 'writer.mts']);
  }, 90_000);
});

describe('IlTrainer.resume after a crash in the checkpoint swap', () => {
  const rows = makeSyntheticRows({ rows: 12, condLength: 4, condDim: 8, seed: 1 });
  const cfg = { epochs: 3, batchSize: 6, optimizer: { lr: 3e-3 }, warmup: 1, seed: 7 };
  const weights = (m: TinyIlModel) => Object.values(m.variables).map((v) => Array.from(v.dataSync()));

  for (const where of ['old', 'temp'] as const) {
    it(`finds last/ in ${where === 'old' ? 'last.old/' : 'a complete temporary folder'} and continues identically`, async () => {
      await init({ backend: 'wasm' });
      const full = new TinyIlModel(8);
      const t0 = new IlTrainer(full, new InMemoryIlData(rows), null, cfg);
      await t0.fit();
      const a = new TinyIlModel(8);
      const out = path.join(tmp, 'run');
      const ta = new IlTrainer(a, new InMemoryIlData(rows), null, { ...cfg, outDir: out });
      await ta.fit({ epochs: 2 });
      // The state a kill between the two renames leaves: no last/.
      const last = path.join(out, 'last');
      const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
      const moved = where === 'old' ? `${last}.old` : path.join(out, `.last.tmp-${dead}-${Date.now().toString(36)}-abcdef`);
      fs.renameSync(last, moved);
      const b = new TinyIlModel(8, 32, 5);
      const tb = new IlTrainer(b, new InMemoryIlData(rows), null, { ...cfg, outDir: out });
      await tb.resume(last);
      expect(tb.position.epoch).toBe(2);
      expect(fs.existsSync(moved)).toBe(false);
      await tb.fit();
      expect(weights(b)).toEqual(weights(full));
      for (const t of [t0, ta, tb]) t.dispose();
      for (const m of [full, a, b]) m.dispose();
    }, 60_000);
  }
});

describe('drivekit planner train-il: --resume after a crash, --epochs vs --stop-at-epoch', () => {
  const capture = () => {
    const out: string[] = [], err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  };
  const weightsOf = async (dir: string) => [...(await readSafetensors(path.join(dir, 'model.safetensors'))).tensors].map(([k, t]) => [k, Array.from(t.data)]);

  it('stop at epoch 2 + resume equals an uninterrupted 4-epoch run; a kill between the renames is recovered; a longer --epochs warns', async () => {
    const cache = path.join(tmp, 'cache.arrow');
    expect(await makeSyntheticCacheCommand(['--out', cache, '--rows', '20', '--cond-length', '4', '--cond-dim', '8', '--quiet'], capture().io)).toBe(0);
    const train = (run: string, ...extra: string[]) => ['planner', 'train-il', '--cache', cache, '--out', run, '--backend', 'wasm', '--quiet', '--json', ...extra];
    const first = ['--preset', 'tiny', '--epochs', '4', '--batch-size', '8', '--lr', '1e-3', '--warmup', '1'];

    const full = path.join(tmp, 'full');
    expect(await main(train(full, ...first), capture().io)).toBe(0);

    const split = path.join(tmp, 'split');
    const c1 = capture();
    expect(await main(train(split, ...first, '--stop-at-epoch', '2'), c1.io)).toBe(0);
    expect(JSON.parse(c1.out[0]!)).toMatchObject({ epochs: 2 });
    // kill -9 between the two renames: last/ is gone, last.old/ holds epoch 2
    fs.renameSync(path.join(split, 'last'), path.join(split, 'last.old'));
    const c2 = capture();
    expect(await main(train(split, '--resume', path.join(split, 'last')), c2.io)).toBe(0);
    expect(JSON.parse(c2.out[0]!)).toMatchObject({ epochs: 4 });
    expect(c2.err.join('\n')).not.toMatch(/warning: --epochs/);
    expect(await weightsOf(path.join(split, 'last'))).toEqual(await weightsOf(path.join(full, 'last')));

    const c3 = capture();
    expect(await main(train(full, '--resume', path.join(full, 'last'), '--epochs', '5'), c3.io)).toBe(0);
    expect(c3.err.join('\n')).toMatch(/warning: --epochs 5 differs from the 4 epochs the checkpoint was planned for: the learning-rate schedule .* is stretched/);
    const c4 = capture();
    expect(await main(train(path.join(tmp, 'bad'), ...first, '--stop-at-epoch', '9'), c4.io)).toBe(2);
  }, 120_000);
});
