/**
 * The browser-safe entries bundle for a browser: esbuild (platform 'browser', as Vite resolves,
 * package.json `browser` field included) bundles each from source, and any Node built-in that an
 * entry pulls in fails the test, naming the built-in and the chain of imports that reaches it.
 * `drivekit/node` and `drivekit/rl` are the Node-only entries (the control case below shows that
 * the check sees a built-in).
 */
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

/** Browser-safe package entry -> its source. */
const BROWSER_SAFE: Record<string, string> = {
  '.': 'src/index.ts',
  './core': 'src/core/index.ts',
  './geometry': 'src/geometry/index.ts',
  './world': 'src/world/index.ts',
  './env': 'src/env/index.ts',
  './navsim': 'src/navsim/index.ts',
  './models': 'src/models/index.ts',
  './metrics': 'src/metrics/index.ts',
  './viz': 'src/viz/index.ts',
};
const NODE_ONLY = ['./node', './rl'];

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface Pulled {
  builtin: string;
  chain: string[];
}

/**
 * Bundles the entries for the browser in one esbuild run (it shares the parsing); returns, per
 * entry, every Node built-in it reaches, with the chain of imports from the entry.
 */
async function nodeBuiltinsPulledIn(entries: string[]): Promise<Map<string, Pulled[]>> {
  const hits: { builtin: string; importer: string }[] = [];
  const detect: Plugin = {
    name: 'detect-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (!BUILTINS.has(args.path) || args.pluginData === 'inner') return undefined;
        // Let esbuild resolve it as usual first: a package's `browser` field may map it away.
        const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
        if (r.errors.length === 0) return undefined;
        hits.push({ builtin: args.path, importer: path.relative(ROOT, args.importer) });
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir: 'browser-bundle-check', // nothing is written
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [detect],
  });
  const out = new Map<string, Pulled[]>();
  for (const entry of entries) {
    const pulled: Pulled[] = [];
    for (const h of hits) {
      const chain = importChain(result.metafile, entry, h.importer);
      if (chain[0] === entry) pulled.push({ builtin: h.builtin, chain });
    }
    out.set(entry, pulled);
  }
  return out;
}

/** The shortest chain of imports from `entry` to `target` in the bundle's metafile. */
function importChain(meta: Metafile, entry: string, target: string): string[] {
  const prev = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (file === target) break;
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.external || prev.has(imp.path)) continue;
      prev.set(imp.path, file);
      queue.push(imp.path);
    }
  }
  if (!prev.has(target)) return [];
  const chain: string[] = [];
  for (let f: string | null | undefined = target; f; f = prev.get(f)) chain.unshift(f);
  return chain;
}

function report(entry: string, pulled: Pulled[]): string {
  return pulled.map((p) => `${entry} pulls in the Node built-in "${p.builtin}": ${p.chain.join(' -> ')}`).join('\n');
}

describe('browser-safe entries', () => {
  // One bundling run for all entries and the Node-only control (a few seconds).
  const results = nodeBuiltinsPulledIn([...Object.values(BROWSER_SAFE), 'src/node.ts']);
  results.catch(() => undefined); // reported by the tests that await it

  it('cover every package entry except the Node-only ones', () => {
    const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json');
    expect(entries.sort()).toEqual([...Object.keys(BROWSER_SAFE), ...NODE_ONLY].sort());
  });

  for (const [subpath, source] of Object.entries(BROWSER_SAFE)) {
    it(`drivekit${subpath.slice(1)} bundles for the browser without a Node built-in`, async () => {
      const pulled = (await results).get(source)!;
      expect(report(`drivekit${subpath.slice(1)}`, pulled)).toBe('');
    });
  }

  it('the check names a built-in and its import chain (drivekit/node, Node-only)', async () => {
    const pulled = (await results).get('src/node.ts')!;
    const atomic = pulled.find((p) => p.chain.at(-1) === 'src/core/atomic.ts' && p.builtin === 'node:fs');
    expect(atomic?.chain).toEqual(['src/node.ts', 'src/core/atomic.ts']);
    expect(new Set(pulled.map((p) => p.builtin))).toEqual(new Set(['node:fs', 'node:path', 'node:zlib', 'node:module', 'node:url', 'node:os', 'node:worker_threads', 'node:crypto', 'node:v8', 'events', 'readline'])); // node:v8: WorkerVectorEnv's step infos
    expect(report('drivekit/node', pulled)).toContain('drivekit/node pulls in the Node built-in "node:worker_threads": src/node.ts -> src/navsim/pool.ts');
  });
});
