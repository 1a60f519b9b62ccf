/**
 * Generated NAVSIM scenes: builds scenes from procedural maps, scores the human future with the
 * PDM scorer (PDMS v1.1 and EPDMS v2.2), vectorises them into scene tokens and renders a few to
 * PNG (map, agents with their 5 s futures, the human trajectory and the PDM-Closed plan).
 *
 *   npx tsx examples/navsim-scenes.ts [seeds=0,1,6,11] [outDir=docs/images]
 */
import * as path from 'node:path';
import { generateScene, parseScene, sceneTokens, scoreScene } from '../src/navsim/index.js';
import { drawTrajectories, drawVehicles, renderMap, writePng, type VehicleBox } from '../src/viz/index.js';

const seeds = (process.argv[2] ?? '0,1,6,11').split(',').map(Number);
const outDir = process.argv[3] ?? 'docs/images';

for (const seed of seeds) {
  const g = generateScene(seed);
  const scene = parseScene(g.scene);
  const r = scoreScene(scene, null, { version: 'v1.1' });
  const m = r.metrics[0]!;
  const tokens = sceneTokens(scene, { numTokens: 32, width: 32 });
  const e = scene.ego;
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  // Human poses (ego frame) to world points, starting at the ego rear axle.
  const human: number[] = [e.x, e.y];
  const hp = scene.humanTrajectory!.poses;
  for (let i = 0; i < hp.length; i += 3) human.push(e.x + c * hp[i]! - s * hp[i + 1]!, e.y + s * hp[i]! + c * hp[i + 1]!);
  const pdm = r.pdmClosed.states;
  const pdmPts: number[] = [];
  for (let i = 0; i < pdm.length; i += 11) pdmPts.push(pdm[i]!, pdm[i + 1]!);
  const vehicles: VehicleBox[] = [];
  const futures = [];
  for (const a of scene.agents) {
    const first = a.states.find((st) => st !== null);
    if (!first) continue;
    const pts: number[] = [];
    for (const st of a.states) if (st) pts.push(st.x, st.y);
    futures.push({ points: pts, color: a.type === 'pedestrian' ? '#f0a030' : '#9cc0ff', width: 0.25, dashed: true });
    const parked = Math.hypot(first.vx, first.vy) < 0.05;
    vehicles.push({ x: first.x, y: first.y, heading: first.heading, length: a.length, width: a.width, color: a.type === 'pedestrian' ? '#f0a030' : parked ? '#8a8f99' : undefined, label: a.id });
  }
  const cx = e.x + 1.461 * c, cy = e.y + 1.461 * s;
  vehicles.push({ x: cx, y: cy, heading: e.heading, length: 5.176, width: 2.297, ego: true });
  const R = 70;
  const canvas = renderMap(g.map, { bounds: [e.x - R, e.y - R, e.x + R, e.y + R], width: 800, title: `${g.name} ${g.info.blocks.join('')} cmd=${g.info.command} v=${e.vx.toFixed(1)} m/s PDMS=${m.score!.toFixed(3)}` });
  drawTrajectories(canvas, [...futures, { points: pdmPts, color: '#36c26b', width: 0.5, dashed: true }, { points: human, color: '#e0452b', width: 0.6 }]);
  drawVehicles(canvas, vehicles);
  const file = path.join(outDir, `scenegen-${seed}.png`);
  writePng(file, canvas.toString());
  const nonZeroTokens = Array.from({ length: 32 }, (_, t) => tokens.subarray(t * 32, (t + 1) * 32).some((v) => v !== 0)).filter(Boolean).length;
  console.log(`${g.name}: ${scene.agents.length} agents, command ${g.info.command}, PDMS ${m.score!.toFixed(3)} (EP ${m.ego_progress!.toFixed(3)}), ${nonZeroTokens}/32 tokens used -> ${file}`);
}
