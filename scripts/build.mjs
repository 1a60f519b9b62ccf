// Builds dist/esm (ESM + .d.ts, by tsc) and dist/cjs (CommonJS, by esbuild, file per file) so the
// package loads with both `import` and `require` (tslab compiles notebook imports to require).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import process from 'node:process';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

// TypeScript >= 5.7 writes typed arrays as generics (`Float64Array<ArrayBuffer>`) into .d.ts files;
// TypeScript 5.0 (tslab's compiler) rejects them (TS2315). The plain names mean the same there.
const GENERIC_TYPED_ARRAY = /\b((?:Float32|Float64|Int8|Int16|Int32|Uint8|Uint8Clamped|Uint16|Uint32|BigInt64|BigUint64)Array)<(?:ArrayBuffer|ArrayBufferLike|SharedArrayBuffer)>/g;
for (const file of declarations('dist/esm')) {
  const text = readFileSync(file, 'utf8');
  const plain = text.replace(GENERIC_TYPED_ARRAY, '$1');
  if (plain !== text) writeFileSync(file, plain);
}

function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return declarations(p);
    return e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}
await build({
  entryPoints: sources('src'),
  outdir: 'dist/cjs',
  outbase: 'src',
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  bundle: false,
  logLevel: 'warning',
  // core/module-path.ts reads import.meta only where __filename is missing, i.e. never in CJS.
  logOverride: { 'empty-import-meta': 'silent' },
});
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
