/**
 * Renders procedural maps to PNG: one map per block type and a few default (3-block) maps.
 *
 *   npm run build && npx tsx examples/world-maps.mts [outDir]      (default docs/images)
 *
 * Imports `drivekit` as an installed package would be; inside this repository the name resolves
 * to the built package (dist/) through the package's own `exports`.
 */
import * as fs from 'node:fs';
import { generateMap } from 'drivekit/world';
import { mapToSvg } from 'drivekit/viz';
import { writePng } from 'drivekit/node';

const outDir = process.argv[2] ?? 'docs/images';
fs.mkdirSync(outDir, { recursive: true });
const cases: { name: string; seed: number; map: number | string }[] = [
  ...['C', 'S', 'r', 'R', 'X', 'T', 'O'].map((b) => ({ name: `world-block-${b === b.toLowerCase() && b !== b.toUpperCase() ? 'inramp' : b === 'R' ? 'outramp' : b}`, seed: 1, map: b })),
  { name: 'world-SCrRXTO', seed: 0, map: 'SCrRXTO' },
  ...[0, 1, 2, 3].map((seed) => ({ name: `world-seed-${seed}`, seed, map: 3 })),
];
for (const c of cases) {
  const map = generateMap(c.seed, { map: c.map });
  const title = `map ${JSON.stringify(c.map)} seed ${c.seed}: ${map.blocks.map((b) => b.name).join(' ')}, route ${map.totalLength.toFixed(0)} m`;
  const path = `${outDir}/${c.name}.png`;
  writePng(path, mapToSvg(map, { width: 700, labels: true, title }));
  console.log(path);
}
