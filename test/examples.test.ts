/**
 * Smoke tests of the examples as a new user runs them: every tslab notebook's code cells run in
 * order (through tsx, against the built package, `display()` being a no-op outside a kernel), and
 * the example scripts (`examples/*.mts`, which import `drivekit` like a user's code) type-check
 * in strict mode and run against the built package, with their output sent to a temporary folder.
 * Inside the repository `drivekit` resolves to this package through its own `exports` map, so
 * these tests need `npm run build` first (npm test does it).
 * `npm run notebooks` (scripts/run-notebooks.sh) executes every notebook in a real tslab kernel;
 * the pipeline notebooks (minutes each) are checked here through their committed executed copies.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const SCRIPTS = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.mts') || f.endsWith('.ts'));

function requireBuild(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'esm', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-examples-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(file: string, args: string[] = [], runner = TSX): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [runner, file, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20, env: { ...process.env, DRIVEKIT_BACKEND: '' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(file)} failed: ${(stderr || err.message).slice(-3000)}`)) : resolve(stdout),
    ),
  );
}

interface Notebook {
  cells: { cell_type: string; source: string | string[]; metadata?: { execution?: Record<string, string> }; outputs?: { output_type: string; name?: string; data?: Record<string, unknown> }[] }[];
  metadata: { kernelspec?: { name?: string }; drivekit?: { executed_by?: string } };
}
const readNotebook = (name: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8')) as Notebook;

describe('notebooks', () => {
  const all = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.ipynb'));
  // The pipeline notebooks take minutes: `npm run notebooks` (CI, after the tests) executes them in
  // a tslab kernel; here their committed, executed copies are checked instead.
  const executed = all.filter((f) => readNotebook(f).metadata.drivekit?.executed_by === 'npm run notebooks');
  const notebooks = all.filter((f) => !executed.includes(f));
  it('there is at least one', () => expect(notebooks.length).toBeGreaterThan(0));
  for (const name of executed) {
    it(`${name}: committed executed, every code cell in order, without errors, with pictures`, () => {
      const nb = readNotebook(name);
      expect(nb.metadata.kernelspec?.name).toBe('tslab');
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      // nbclient records when each cell ran (tslab leaves execution_count empty): all ran, in order, in one run.
      const started = code.map((c) => c.metadata?.execution?.['iopub.status.busy'] ?? null);
      expect(started.every((t) => typeof t === 'string')).toBe(true);
      expect([...started].sort()).toEqual(started);
      expect(code.every((c) => typeof c.metadata?.execution?.['shell.execute_reply'] === 'string')).toBe(true);
      const outputs = code.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error' || o.name === 'stderr')).toEqual([]);
      expect(outputs.filter((o) => o.data !== undefined && 'image/svg+xml' in o.data).length).toBeGreaterThanOrEqual(3);
    });
  }
  for (const name of notebooks) {
    it(`${name}: code cells run in order without error`, async () => {
      requireBuild();
      const nb = JSON.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[]; metadata: { kernelspec?: { name?: string } } };
      expect(nb.metadata.kernelspec?.name).toBe('tslab');
      const code = nb.cells
        .filter((c) => c.cell_type === 'code')
        .map((c, i) => `// --- cell ${i + 1}\n${Array.isArray(c.source) ? c.source.join('') : c.source}`)
        .join('\n;\n');
      // Inside the repository 'drivekit' resolves to this package through its own `exports` map.
      const file = path.join(ROOT, '.tmp', `notebook-${name.replace(/\.ipynb$/, '')}.mts`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${code}\nconsole.log('NOTEBOOK-OK');\n`);
      const out = await run(file);
      expect(out.trim().split('\n').at(-1)).toBe('NOTEBOOK-OK');
    });
  }
});

describe('example scripts', () => {
  it('import drivekit by its package name (no relative imports into src/) and type-check in strict mode', async () => {
    requireBuild();
    expect(SCRIPTS).toEqual(expect.arrayContaining(['navsim-scenes.mts', 'world-maps.mts']));
    for (const f of SCRIPTS) {
      const text = fs.readFileSync(path.join(EXAMPLES, f), 'utf8');
      expect(text, f).not.toMatch(/from '\.\.?\//);
      expect(text, f).toMatch(/from 'drivekit(\/\w+)?'/);
    }
    // compiled on their own (not through tsconfig.json), so 'drivekit' resolves to dist/ types
    const files = SCRIPTS.map((f) => path.join(EXAMPLES, f));
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node'];
    await run(flags[0]!, [...flags.slice(1), ...files], TSC);
  });

  it('world-maps.mts renders every block type to PNG', async () => {
    const out = path.join(tmp, 'world');
    await run(path.join(EXAMPLES, 'world-maps.mts'), [out]);
    const pngs = fs.readdirSync(out).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBeGreaterThanOrEqual(8);
    for (const f of pngs) expect(fs.readFileSync(path.join(out, f)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('navsim-scenes.mts generates, scores and renders scenes', async () => {
    const out = path.join(tmp, 'scenes');
    fs.mkdirSync(out, { recursive: true });
    const stdout = await run(path.join(EXAMPLES, 'navsim-scenes.mts'), ['0,1', out]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const m = /PDMS ([0-9.]+)/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0.5);
    }
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.png'))).toHaveLength(2);
  });
});
