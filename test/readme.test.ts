/**
 * The README's usage example is real code: it is extracted, run against the built package
 * (`npm test` builds first) through the public `drivekit` entry points, and its output checked.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function exampleBlock(): string {
  const marker = '<!-- readme-example: tested by test/readme.test.ts -->';
  const at = README.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker} marker.`);
  const m = /```ts\n([\s\S]*?)```/.exec(README.slice(at));
  if (!m) throw new Error('README.md: no ```ts block after the example marker.');
  return m[1]!;
}

describe('README', () => {
  it('has exactly the two set-up commands: the main job and the tests', () => {
    const setup = /## Set up\n\n```sh\n([\s\S]*?)```/.exec(README);
    expect(setup).not.toBeNull();
    const lines = setup![1]!.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
    expect(lines).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });

  it('usage example runs against the built package and prints sensible numbers', async () => {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'esm', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
    const dir = path.join(ROOT, '.tmp');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'readme-example.mts');
    fs.writeFileSync(file, exampleBlock());
    const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [tsx, file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DRIVEKIT_BACKEND: '' } }, (err, stdout, stderr) =>
        err ? reject(new Error(`README example failed: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [backend, success, completion] = lines[0]!.split(' ');
    expect(backend).toBe('wasm');
    expect(Number(success)).toBeGreaterThanOrEqual(2 / 3);
    expect(Number(completion)).toBeGreaterThan(0.6);
    const score = Number(lines[1]);
    expect(score).toBeGreaterThan(0.5);
    expect(score).toBeLessThanOrEqual(1);
  });
});
