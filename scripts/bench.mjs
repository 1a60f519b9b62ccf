// Runs the benchmarks in benchmarks/*.ts with tsx, one after another (they measure throughput, so
// never in parallel). `npm run bench` runs all; `npm run bench -- matmul planner` runs a subset.
// Each benchmark prints its table and writes bench-results/<name>.json.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import console from 'node:console';
import process from 'node:process';

const require = createRequire(import.meta.url);
const tsx = require.resolve('tsx/cli');
const all = readdirSync('benchmarks')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${all.join(', ')}.`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : all;
const summary = [];
for (const name of names) {
  console.log(`\n=== benchmarks/${name}.ts ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [tsx, join('benchmarks', `${name}.ts`)], { stdio: 'inherit' });
  summary.push({ name, status: r.status === 0 ? 'ok' : `failed (exit ${r.status ?? r.signal})`, seconds: ((Date.now() - t0) / 1000).toFixed(1) });
}
console.log('\n| benchmark | status | seconds |\n|---|---|---|');
for (const s of summary) console.log(`| ${s.name} | ${s.status} | ${s.seconds} |`);
if (summary.some((s) => s.status !== 'ok')) process.exitCode = 1;
