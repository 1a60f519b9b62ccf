/**
 * `--workers N` means the same on every command: N threads doing the work, 1 = this thread only,
 * default the number of cores (`WORKERS_HELP`, `workersOption`). `navsim import-cache` keeps files
 * in flight in one thread, so its flag is `--concurrency` (`--workers` is its old name).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKERS_HELP } from '../../src/cli/args.js';
import { main } from '../../src/cli/main.js';

const COMMANDS = [
  ['navsim', 'score'],
  ['navsim', 'cache'],
  ['navsim', 'eval'],
  ['navsim', 'train-grpo'],
  ['env', 'evaluate'],
  ['env', 'record-expert'],
  ['env', 'train-ppo'],
  ['env', 'train-gail'],
];

async function help(cmd: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await main([...cmd, '--help'], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  expect(code).toBe(0);
  return lines.join('\n');
}

describe('--workers on every command', () => {
  it.each(COMMANDS)('%s %s --help describes --workers with the shared text', async (...cmd) => {
    const line = (await help(cmd)).split('\n').find((l) => /^\s*--workers N/.test(l));
    expect(line).toContain(WORKERS_HELP);
  });

  it('every command module that parses --workers reads it with workersOption (default: the cores)', () => {
    const dir = path.join(__dirname, '../../src/cli');
    const parsing = fs.readdirSync(dir).filter((f) => /workers: 'number'/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(parsing.length).toBeGreaterThanOrEqual(6);
    for (const f of parsing) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (f === 'navsim-import.ts') expect(text).toMatch(/--workers N is its old name \(files, not threads\)/);
      else expect([f, /workersOption\(opts\)/.test(text) && text.includes('WORKERS_HELP')]).toEqual([f, true]);
    }
  });

  it('navsim import-cache: --concurrency, not threads', async () => {
    const text = await help(['navsim', 'import-cache']);
    expect(text).toMatch(/--concurrency N\s+files read and decoded at once, in this thread/);
    expect(text).not.toContain(WORKERS_HELP);
  });
});
