/**
 * Procedural map generation speed (MetaDrive BIG with overlap checks), single thread:
 *  - default config (3 blocks after the first, 3 lanes of 3.5 m) over seeds [0, N);
 *  - the 7-block string "SCrRXTO";
 *  - map polygons (lane, roadblock, intersection, sidewalk) and SVG rendering of one map.
 *
 *   npx tsx benchmarks/world-gen.ts [--n 1000]
 * Prints a table and writes bench-results/world-gen.json.
 */
import * as fs from 'node:fs';
import { generateMap, type MapConfig } from '../src/world/generator.js';
import { intersectionPolygons, lanePolygons, roadblockPolygons, sidewalkPolygons } from '../src/world/polygons.js';
import { mapToSvg } from '../src/viz/map-svg.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const n = Number(arg('n', '1000'));

function timeMaps(config: Partial<MapConfig>, count: number): { msPerMap: number; p50: number; p99: number; maxMs: number; retries: number } {
  for (let s = 0; s < Math.min(200, count); s++) generateMap(s, config); // warm-up (JIT)
  const times: number[] = [];
  let retries = 0;
  for (let s = 0; s < count; s++) {
    const t0 = performance.now();
    const m = generateMap(s, config);
    times.push(performance.now() - t0);
    if (m.attempts > m.blocks.length - 1) retries++;
  }
  times.sort((a, b) => a - b);
  const sum = times.reduce((a, b) => a + b, 0);
  return { msPerMap: sum / count, p50: times[Math.floor(count / 2)]!, p99: times[Math.floor(count * 0.99)]!, maxMs: times[count - 1]!, retries };
}

function timeIt(fn: () => void, reps: number): number {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

const rows: Record<string, unknown>[] = [];
const def = timeMaps({}, n);
rows.push({ case: `map=3 (default), seeds 0..${n - 1}`, ...def });
const seq = timeMaps({ map: 'SCrRXTO' }, Math.min(n, 300));
rows.push({ case: 'map="SCrRXTO"', ...seq });
const m = generateMap(7);
rows.push({
  case: 'polygons of one default map (lane+roadblock+intersection+sidewalk)',
  msPerMap: timeIt(() => {
    lanePolygons(m);
    roadblockPolygons(m);
    intersectionPolygons(m);
    sidewalkPolygons(m);
  }, 50),
});
rows.push({ case: 'SVG of one default map', msPerMap: timeIt(() => mapToSvg(m), 20) });

console.log('world-gen benchmark (ms per map, one thread, Node ' + process.version + ')');
console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toFixed(3)) : v]))));
fs.mkdirSync('bench-results', { recursive: true });
const out = { benchmark: 'world-gen', node: process.version, date: new Date().toISOString(), rows };
fs.writeFileSync('bench-results/world-gen.json.tmp', JSON.stringify(out, null, 2));
fs.renameSync('bench-results/world-gen.json.tmp', 'bench-results/world-gen.json');
