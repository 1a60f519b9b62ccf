/**
 * Vite config of the browser demo (web/): `npm run web` serves it, `npm run build:web` builds it to
 * web/dist. The page imports drivekit's leaf modules from src/ directly. A few of those import
 * `node:*` modules for their file-system functions (checkpoint files, config paths); the page
 * never calls those, so each `node:*` module is replaced by a stub whose functions throw a clear
 * error if one is ever reached. The tfjs WASM binaries and the policy weights are emitted as
 * assets of the build (served from the page's own origin, no CDN).
 */
import { createRequire, builtinModules } from 'node:module';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);

const STUB_PREFIX = '\0drivekit-node-stub:';
const WEBGPU_ID = 'virtual:drivekit-webgpu';

/** Source of a stub for `node:<name>`: every export of the real module, as a throwing function. */
function stubSource(name: string): string {
  let names: string[] = [];
  try {
    names = Object.keys(require(`node:${name}`) as object).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
  } catch {
    names = [];
  }
  const special: Record<string, string> = {
    // module-path.ts anchors a require at its own file at load time; the page never requires through it.
    'module.createRequire': '(from) => (id) => unavailable(`require(${JSON.stringify(id)}) from ${from}`)()',
    'url.fileURLToPath': '(u) => String(u)',
    'url.pathToFileURL': '(p) => new URL(String(p), "file:///")',
  };
  const lines = [
    `const unavailable = (what) => () => { throw new Error(\`drivekit in the browser: \${what} is not available (it needs Node's node:${name}).\`); };`,
  ];
  for (const k of names) lines.push(`export const ${k} = ${special[`${name}.${k}`] ?? `unavailable('node:${name} ${k}')`};`);
  lines.push(`export default { ${names.join(', ')} };`);
  return lines.join('\n');
}

/**
 * Leaf modules of src/ that touch Node globals at load time (not only through node:* imports),
 * replaced in the page by stubs that throw when called: navsim/scene-file.ts builds a Buffer at
 * load; score-scene.ts re-exports its two file readers, which the page does not use.
 */
const BROWSER_STUBS: Record<string, string> = {
  'src/navsim/scene-file.ts': [
    "const unavailable = (what) => () => { throw new Error(`drivekit in the browser: ${what} reads files with Node; parse the scene JSON with parseScene instead.`); };",
    "export const parseSceneJsonBytes = unavailable('parseSceneJsonBytes');",
    "export const readSceneFile = unavailable('readSceneFile');",
  ].join('\n'),
};

function nodeStubs(): Plugin {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const builtins = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));
  return {
    name: 'drivekit-node-stubs',
    enforce: 'pre',
    async resolveId(id, importer, options) {
      if (id.startsWith('node:')) return STUB_PREFIX + id.slice(5);
      if (!importer || !id.startsWith('.')) return null;
      const resolved = await this.resolve(id, importer, { ...options, skipSelf: true });
      const rel = resolved ? relative(repo, resolved.id).split(sep).join('/') : '';
      return rel in BROWSER_STUBS ? STUB_PREFIX + rel : null;
    },
    load(id) {
      if (!id.startsWith(STUB_PREFIX)) return null;
      if (id.slice(STUB_PREFIX.length) in BROWSER_STUBS) return BROWSER_STUBS[id.slice(STUB_PREFIX.length)];
      const name = id.slice(STUB_PREFIX.length);
      return builtins.has(name) ? stubSource(name) : null;
    },
  };
}

/**
 * `virtual:drivekit-webgpu`: registers tfjs's WebGPU backend when the optional
 * `@tensorflow/tfjs-backend-webgpu` package is installed, else exports `available = false`
 * (the page then runs on WASM whatever the browser offers).
 */
function optionalWebgpu(): Plugin {
  let installed = false;
  try {
    require.resolve('@tensorflow/tfjs-backend-webgpu');
    installed = true;
  } catch {
    installed = false;
  }
  return {
    name: 'drivekit-optional-webgpu',
    resolveId(id) {
      return id === WEBGPU_ID ? '\0' + WEBGPU_ID : null;
    },
    load(id) {
      if (id !== '\0' + WEBGPU_ID) return null;
      return installed
        ? "import '@tensorflow/tfjs-backend-webgpu';\nexport const available = true;\nexport const reason = '';"
        : "export const available = false;\nexport const reason = 'the optional package @tensorflow/tfjs-backend-webgpu is not installed';";
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [nodeStubs(), optionalWebgpu()],
  // src/core/atomic.ts reads process.uptime() at load (for its temp-file names); the page writes no files.
  define: { 'process.uptime': '(() => 0)' },
  server: { host: '127.0.0.1', fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  preview: { host: '127.0.0.1' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096, assetsInlineLimit: 0, target: 'es2022' },
});
