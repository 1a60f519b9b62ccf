/**
 * docs/architecture.md lists the import edges between the top-level modules of `src/`; this test
 * reads every source file's relative imports (static, `export ... from` and dynamic `import()`)
 * and fails when the code and the list differ, naming the files behind an edge the list lacks.
 * It also checks the rules the page states in words.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const IMPORT = /(?:\bfrom\s*|\bimport\s*(\(\s*)|^\s*import\s+)['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `src/rl/x.ts` -> `rl`; `src/node.ts` -> `node`. */
const moduleOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!.replace(/\.ts$/, '');

/** Relative imports of a file, as absolute `.ts` paths (`loaded`: the static ones, run when the file loads), and its package imports. */
function importsOf(file: string): { local: string[]; loaded: string[]; packages: string[] } {
  const text = fs.readFileSync(file, 'utf8');
  const local: string[] = [];
  const loaded: string[] = [];
  const packages: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[2]!;
    if (!spec.startsWith('.')) {
      packages.push(spec);
      continue;
    }
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    local.push(target);
    if (m[1] === undefined) loaded.push(target);
  }
  return { local, loaded, packages };
}

const FILES = sourceFiles(SRC);

function actualEdges(): Map<string, Map<string, Set<string>>> {
  const edges = new Map<string, Map<string, Set<string>>>();
  for (const file of FILES) {
    const from = moduleOf(file);
    for (const target of importsOf(file).local) {
      const to = moduleOf(target);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const byTarget = edges.get(from)!;
      if (!byTarget.has(to)) byTarget.set(to, new Set());
      byTarget.get(to)!.add(path.relative(ROOT, file));
    }
  }
  return edges;
}

/** The "## Import edges" block of docs/architecture.md: `from -> to, to, ...` per line. */
function documentedEdges(): Map<string, Set<string>> {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.split(/^## Import edges\s*$/m)[1];
  expect(section, 'docs/architecture.md has an "## Import edges" section').toBeDefined();
  const block = /```\n([\s\S]*?)```/.exec(section!)![1]!;
  const out = new Map<string, Set<string>>();
  for (const line of block.split('\n')) {
    const m = /^\s*(\S+)\s*->\s*(.*?)\s*(?:#.*)?$/.exec(line);
    if (!m) continue;
    out.set(m[1]!, new Set(m[2] === '(nothing)' ? [] : m[2]!.split(',').map((s) => s.trim()).filter(Boolean)));
  }
  return out;
}

describe('architecture', () => {
  it('docs/architecture.md lists exactly the import edges between the modules of src/', () => {
    const actual = actualEdges();
    const documented = documentedEdges();
    const modules = new Set([...FILES.map(moduleOf)]);
    const problems: string[] = [];
    for (const mod of [...modules].sort()) {
      const got = actual.get(mod) ?? new Map<string, Set<string>>();
      const want = documented.get(mod);
      if (!want) {
        problems.push(`${mod}: missing from the list (it imports ${[...got.keys()].sort().join(', ') || 'nothing'})`);
        continue;
      }
      for (const [to, files] of got) if (!want.has(to)) problems.push(`${mod} -> ${to} is not listed (${[...files].sort().join(', ')})`);
      for (const to of want) if (!got.has(to)) problems.push(`${mod} -> ${to} is listed but no file imports it`);
    }
    for (const mod of documented.keys()) if (!modules.has(mod)) problems.push(`${mod}: listed but not a module of src/`);
    expect(problems).toEqual([]);
  });

  it('geometry and world never import tfjs; navsim never imports models', () => {
    const bad: string[] = [];
    for (const file of FILES) {
      const mod = moduleOf(file);
      const { local, packages } = importsOf(file);
      if ((mod === 'geometry' || mod === 'world') && packages.some((p) => p.startsWith('@tensorflow/'))) bad.push(`${path.relative(ROOT, file)} imports tfjs`);
      if (mod === 'navsim' && local.some((t) => moduleOf(t) === 'models')) bad.push(`${path.relative(ROOT, file)} imports models`);
    }
    expect(bad).toEqual([]);
  });

  it('the planner sample command does not load the IL trainer (not even through another module)', () => {
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file) || !fs.existsSync(file)) return;
      reached.add(file);
      for (const t of importsOf(file).loaded) visit(t);
    };
    visit(path.join(SRC, 'cli', 'planner-sample.ts'));
    expect(reached.has(path.join(SRC, 'rl', 'data', 'planner-batch.ts'))).toBe(true);
    expect(reached.has(path.join(SRC, 'rl', 'il-trainer.ts'))).toBe(false);
  });
});
