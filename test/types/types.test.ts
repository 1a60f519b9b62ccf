/**
 * The published shape of the package, tested against the built `dist/` (npm test builds first):
 * - the emitted .d.ts files type-check under TypeScript 5.0 (tslab's compiler), strict, both with
 *   moduleResolution node16 (ESM) and like tslab (CommonJS, node10 resolution);
 * - the compiled consumers run, and `require`/`import` of the root and every subpath work.
 * Each check runs in a temporary project whose node_modules/drivekit links to this repository.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const TSC50 = path.join(ROOT, 'node_modules', 'typescript-5.0', 'bin', 'tsc');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const SUBPATHS = Object.keys(PKG.exports)
  .filter((k) => k !== '.' && k !== './package.json')
  .map((k) => `drivekit/${k.slice(2)}`);

let tmp = '';

function project(name: string, type: 'module' | 'commonjs', files: Record<string, string>, tsconfig: object): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'drivekit'), 'dir');
  for (const dep of ['@tensorflow', '@types']) fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(dir, 'node_modules', dep), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type }));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

/** The fixture without its `@ts-nocheck` line (only there to keep the pre-build root typecheck quiet). */
function fixture(name: string): string {
  return fs
    .readFileSync(path.join(__dirname, name), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('// @ts-nocheck'))
    .join('\n');
}

/** Runs a command without blocking the test worker (vitest's RPC needs the event loop). */
function run(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, DRIVEKIT_CONSUMER_DIR: cwd, DRIVEKIT_BACKEND: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/**
 * Compiles with TypeScript 5.0 through `ts50-check.mjs`: every diagnostic in drivekit's dist/
 * declarations or in the consumer fails the test (third-party declaration files are not checked).
 */
async function tsc(dir: string): Promise<void> {
  const r = await run([path.join(__dirname, 'ts50-check.mjs'), path.join(ROOT, 'node_modules', 'typescript-5.0'), dir], dir);
  if (r.code !== 0 || !r.out.includes('with TypeScript 5.0.')) {
    const hint = r.out.includes('TS2315')
      ? "\nHint: TypeScript >= 5.7 infers generic typed arrays (Float64Array<ArrayBuffer>) that TypeScript 5.0 cannot read; annotate those exported functions' return types (e.g. `: Float64Array`)."
      : '';
    throw new Error(`TypeScript 5.0 failed in ${dir} (exit ${r.code}):\n${r.out}${hint}`);
  }
}

async function node(dir: string, args: string[]): Promise<string> {
  const r = await run(args, dir);
  if (r.code !== 0) throw new Error(`node ${args.join(' ')} failed in ${dir} (exit ${r.code}):\n${r.out}`);
  return r.out.trim();
}

beforeAll(() => {
  for (const f of ['dist/esm/index.d.ts', 'dist/esm/index.js', 'dist/cjs/index.js']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` before this test (npm test does).`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-types-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// About 20 s of CPU per compilation; the generous limit is for a 2-core machine shared with other jobs.
describe('TypeScript 5.0 consumers', { timeout: 400_000 }, () => {
  // Both compilations start together (they take tens of seconds each); each test awaits its own.
  const compiled: Record<'esm' | 'cjs', { dir: string; done: Promise<void> }> = {} as any;
  beforeAll(() => {
    const esm = project('esm', 'module', { 'consumer.ts': fixture('consumer.ts'), 'run.mjs': "import { main } from './consumer.js';\nconsole.log(await main());\n" }, {
      compilerOptions: { strict: true, target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'Node16', moduleResolution: 'Node16', types: ['node'], outDir: '.', skipLibCheck: false },
      files: ['consumer.ts'],
    });
    const cjs = project('cjs', 'commonjs', { 'consumer-cjs.ts': fixture('consumer-cjs.ts'), 'run.cjs': "require('./consumer-cjs.js').main().then((v) => console.log(v));\n" }, {
      // tslab's converter: module CommonJS, target ES2017, default lib, classic node resolution.
      compilerOptions: { strict: true, target: 'ES2017', module: 'CommonJS', moduleResolution: 'node', types: ['node'], outDir: '.', skipLibCheck: false },
      files: ['consumer-cjs.ts'],
    });
    for (const [k, dir] of [['esm', esm], ['cjs', cjs]] as const) {
      const done = tsc(dir);
      done.catch(() => undefined); // reported by the test that awaits it
      compiled[k] = { dir, done };
    }
  });

  it('uses the TypeScript 5.0 compiler', () => {
    expect(execFileSync(process.execPath, [TSC50, '--version'], { encoding: 'utf8' })).toMatch(/^Version 5\.0\./);
  });

  it('type-checks (strict, node16 ESM) and runs a consumer of the root and every subpath', async () => {
    const { dir, done } = compiled.esm;
    await done;
    const out = await node(dir, ['run.mjs']);
    expect(out.startsWith('0.1.0 wasm ')).toBe(true);
    expect(out).toContain(' 2,2 w 1 12 a '); // shape, loaded names, state-dict size, obs length, tokens
  });

  it('type-checks and runs like tslab (CommonJS, node10 resolution, imports become require)', async () => {
    const { dir, done } = compiled.cjs;
    await done;
    const js = fs.readFileSync(path.join(dir, 'consumer-cjs.js'), 'utf8');
    expect(js).toContain('require("drivekit")');
    // 1 + 2 + int in [0, 1) + 0 tensors + 8 namespaces + 1 column + 'wasm'.length
    expect(await node(dir, ['run.cjs'])).toBe('16');
  });
});

describe('runtime entry points', () => {
  it('loads the root and every subpath with require (CommonJS) and import (ESM)', async () => {
    const dir = project('load', 'commonjs', {}, {});
    const list = JSON.stringify(['drivekit', ...SUBPATHS]);
    const cjs = await node(dir, [
      '-e',
      `const r = {}; for (const s of ${list}) r[s] = Object.keys(require(s)).length; const d = require('drivekit'); if (typeof d.init !== 'function' || typeof d.Rng !== 'function' || typeof d.geometry.wrapAngle !== 'function') throw new Error('bad root exports'); console.log(JSON.stringify(r));`,
    ]);
    const esm = await node(dir, [
      '--input-type=module',
      '-e',
      `const r = {}; for (const s of ${list}) r[s] = Object.keys(await import(s)).filter((k) => k !== 'default').length; const d = await import('drivekit'); if (typeof d.init !== 'function' || typeof d.parseSafetensors !== 'function') throw new Error('bad root exports'); console.log(JSON.stringify(r));`,
    ]);
    const c = JSON.parse(cjs) as Record<string, number>;
    const e = JSON.parse(esm) as Record<string, number>;
    expect(Object.keys(c).sort()).toEqual(['drivekit', ...SUBPATHS].sort());
    expect(SUBPATHS.length).toBe(10);
    // Both builds expose the same names.
    for (const s of Object.keys(c)) expect(c[s] === e[s] || c[s] === e[s]! + 1, `${s}: cjs ${c[s]} vs esm ${e[s]}`).toBe(true);
    expect(c['drivekit/core']).toBeGreaterThan(20);
  });

  it('runs a tensor op on the wasm backend from the CommonJS build', async () => {
    const dir = project('wasm', 'commonjs', {}, {});
    const out = await node(dir, [
      '-e',
      "const d = require('drivekit'); const tf = require('@tensorflow/tfjs'); d.init({ backend: 'wasm' }).then((b) => { const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).arraySync(); console.log(b, JSON.stringify(y)); });",
    ]);
    expect(out.split('\n').at(-1)).toBe('wasm [[3,3],[3,3]]');
  });
});
