/**
 * Generated NAVSIM scenes: builds scenes from procedural maps, scores the human future with the
 * PDM scorer (PDMS v1.1), scores two alternatives (constant velocity and a stop), vectorises the
 * scene into scene tokens and renders it to PNG with the proposals coloured by score.
 *
 *   npm run build && npx tsx examples/navsim-scenes.mts [seeds=0,1,6,11] [outDir=docs/images]
 *
 * Imports `drivekit` as an installed package would be; inside this repository the name resolves
 * to the built package (dist/) through the package's own `exports`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateScene, parseScene, sceneTokens, scoreScene, type Trajectory } from 'drivekit/navsim';
import { renderNavsimScene } from 'drivekit/viz';
import { writePng } from 'drivekit/node';

const seeds = (process.argv[2] ?? '0,1,6,11').split(',').map(Number);
const outDir = process.argv[3] ?? 'docs/images';
fs.mkdirSync(outDir, { recursive: true });

for (const seed of seeds) {
  const g = generateScene(seed);
  const scene = parseScene(g.scene);
  // the scene's own trajectory is the human future (ego frame, 8 poses at 0.5 s)
  const m = scoreScene(scene, null, { version: 'v1.1' }).metrics[0]!;
  const v = scene.ego.vx;
  const proposals: Trajectory[] = [
    { poses: scene.humanTrajectory!.poses, frame: 'ego' },
    { poses: Array.from({ length: 8 }, (_, k) => [v * 0.5 * (k + 1), 0, 0]), frame: 'ego' },
    { poses: Array.from({ length: 8 }, (_, k) => [Math.min(v * 0.5 * (k + 1), (v * v) / 6), 0, 0]), frame: 'ego' },
  ];
  const scores = scoreScene(scene, proposals, { version: 'v1.1' }).metrics.map((p) => p.score);
  const tokens = sceneTokens(scene, { numTokens: 32, width: 32 });
  const title = `${g.name} ${g.info.blocks.join('')} cmd=${g.info.command} v=${v.toFixed(1)} m/s  PDMS human ${scores[0]!.toFixed(3)}, const-v ${scores[1]!.toFixed(3)}, stop ${scores[2]!.toFixed(3)}`;
  const file = path.join(outDir, `scenegen-${seed}.png`);
  writePng(file, renderNavsimScene(scene, { proposals, scores, title, sceneTrajectory: false }));
  const nonZeroTokens = Array.from({ length: 32 }, (_, t) => tokens.subarray(t * 32, (t + 1) * 32).some((x) => x !== 0)).filter(Boolean).length;
  console.log(`${g.name}: ${scene.agents.length} agents, command ${g.info.command}, PDMS ${m.score.toFixed(3)} (EP ${m.ego_progress.toFixed(3)}), ${nonZeroTokens}/32 tokens used -> ${file}`);
}
