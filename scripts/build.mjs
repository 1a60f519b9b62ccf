// Builds dist/esm (ESM + .d.ts, by tsc) and dist/cjs (CommonJS, by esbuild, file per file) so the
// package loads with both `import` and `require` (tslab compiles notebook imports to require).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

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
});
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
