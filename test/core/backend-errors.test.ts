/**
 * Errors of the application after `init()` surface as themselves: the emscripten runtime of
 * tfjs-backend-wasm installs process handlers that rethrow (exit code 7, the minified runtime
 * printed); `init()` removes them. Each case runs in a child process (through tsx, on the sources)
 * because the behaviour under test is the process's exit.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const BACKEND = path.join(ROOT, 'src', 'core', 'backend.ts');
const PLANNER = path.join(ROOT, 'src', 'models', 'planner.ts');
// The scripts live in a temporary folder: tfjs is imported by path (one engine per process).
const TFJS = require.resolve('@tensorflow/tfjs', { paths: [ROOT] });

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-backend-errors-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function runScript(name: string, body: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(tmp, `${name}.mts`);
  fs.writeFileSync(file, body);
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DRIVEKIT_BACKEND: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('errors after init({ backend: "wasm" })', () => {
  it('an uncaught error prints itself and exits with 1, not a tfjs crash (7)', async () => {
    const r = await runScript(
      'throw',
      `import * as tf from ${JSON.stringify(TFJS)};
import { init } from ${JSON.stringify(BACKEND)};
await init({ backend: 'wasm' });
console.log(tf.getBackend(), tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]));
console.log(process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection'));
throw new Error('user boom at step 3');
`,
    );
    expect(r.stdout.trim().split('\n')).toEqual(['wasm 6', '0 0']); // wasm still computes; no handlers left
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: user boom at step 3');
    expect(r.stderr).not.toContain('tf-backend-wasm');
    expect(r.stderr.length).toBeLessThan(3000);
  }, 60_000);

  it('an unhandled rejection exits with 1 and names the error', async () => {
    const r = await runScript(
      'reject',
      `import { init } from ${JSON.stringify(BACKEND)};
await init({ backend: 'wasm' });
void Promise.reject(new RangeError('user rejection'));
`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('RangeError: user rejection');
    expect(r.stderr).not.toContain('tf-backend-wasm');
  }, 60_000);

  it('an application handler installed before init() is kept', async () => {
    const r = await runScript(
      'own-handler',
      `import { init } from ${JSON.stringify(BACKEND)};
process.on('uncaughtException', (e) => { console.log('handled: ' + (e as Error).message); process.exitCode = 3; });
await init({ backend: 'wasm' });
setTimeout(() => { throw new Error('late'); }, 0);
`,
    );
    expect(r.stdout.trim()).toBe('handled: late');
    expect(r.code).toBe(3);
  }, 60_000);
});

describe('forgetting init()', () => {
  it('the first planner warns once, naming init(); after init() nothing is printed', async () => {
    const r = await runScript(
      'no-init',
      `import { DiffusionPlanner } from ${JSON.stringify(PLANNER)};
const cfg = { preset: 'small' as const, condDim: 8, numHeads: 2, headDim: 16, numLayers: 2, ditOutputDim: 32, mlpHidden: 64 };
DiffusionPlanner.create(cfg).dispose();
DiffusionPlanner.create(cfg).dispose();
`,
    );
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('drivekit:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('before init()');
    expect(warnings[0]).toContain("'cpu' backend");

    const ok = await runScript(
      'with-init',
      `import { init } from ${JSON.stringify(BACKEND)};
import { DiffusionPlanner } from ${JSON.stringify(PLANNER)};
await init({ backend: 'wasm' });
DiffusionPlanner.create({ condDim: 8, numHeads: 2, headDim: 16, numLayers: 2, ditOutputDim: 32, mlpHidden: 64 }).dispose();
`,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('drivekit:');
  }, 60_000);
});
