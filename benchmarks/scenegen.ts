/**
 * Scene generation: time per scene, scene size, agents, and how the human future scores (PDMS
 * v1.1 and EPDMS v2.2 with PDM-Closed run on each scene), plus scene-token times.
 *
 *   npx tsx benchmarks/scenegen.ts [seeds=100]
 */
import * as fs from 'node:fs';
import { generateScene, parseScene, sceneTokens, scoreScene } from '../src/navsim/index.js';

const N = Number(process.argv[2] ?? 100);
const gen: number[] = [], score1: number[] = [], score2: number[] = [], sizes: number[] = [], agents: number[] = [], removed: number[] = [];
const pdms: number[] = [], epdms: number[] = [];
const sub = { nc: 0, dac: 0, ttc: 0, c: 0, hc: 0, lk: 0, ddc: 0 };
const commands: Record<string, number> = {};
let lead = 0;
for (let seed = 0; seed < N; seed++) {
  let t = performance.now();
  const g = generateScene(seed);
  gen.push(performance.now() - t);
  const json = JSON.stringify(g.scene);
  sizes.push(json.length / 1024);
  agents.push(g.info.numAgents);
  removed.push(g.info.removedAgents);
  commands[g.info.command] = (commands[g.info.command] ?? 0) + 1;
  if (g.info.leadId) lead++;
  const scene = parseScene(JSON.parse(json));
  t = performance.now();
  const m1 = scoreScene(scene, null, { version: 'v1.1' }).metrics[0]!;
  score1.push(performance.now() - t);
  const scene2 = parseScene(JSON.parse(json));
  t = performance.now();
  const m2 = scoreScene(scene2, null, { version: 'v2.2' }).metrics[0]!;
  score2.push(performance.now() - t);
  pdms.push(m1.score!);
  epdms.push(m2.score!);
  sub.nc += m1.no_at_fault_collisions === 1 ? 1 : 0;
  sub.dac += m1.drivable_area_compliance === 1 ? 1 : 0;
  sub.ttc += m1.time_to_collision_within_bound === 1 ? 1 : 0;
  sub.c += m1.comfort === 1 ? 1 : 0;
  sub.hc += m2.history_comfort === 1 ? 1 : 0;
  sub.lk += m2.lane_keeping === 1 ? 1 : 0;
  sub.ddc += m2.driving_direction_compliance === 1 ? 1 : 0;
}
const g0 = generateScene(0);
const tokenTimes: Record<string, number> = {};
for (const [L, H] of [[64, 256], [2800, 1536]] as const) {
  const reps = L * H > 1e6 ? 3 : 50;
  const t = performance.now();
  for (let i = 0; i < reps; i++) sceneTokens(g0, { numTokens: L, width: H });
  tokenTimes[`${L}x${H}`] = (performance.now() - t) / reps;
}
const stats = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return { mean: a.reduce((x, y) => x + y, 0) / a.length, median: s[Math.floor(s.length / 2)]!, p95: s[Math.floor(s.length * 0.95)]!, max: s[s.length - 1]! };
};
const result = {
  seeds: N,
  generate_ms: stats(gen),
  score_v11_ms: stats(score1),
  score_v22_ms: stats(score2),
  scene_json_kb: stats(sizes),
  agents: stats(agents),
  removed_by_filter: stats(removed),
  with_lead: lead / N,
  commands,
  human_pdms_v11: stats(pdms),
  human_epdms_v22: stats(epdms),
  fraction_ok: Object.fromEntries(Object.entries(sub).map(([k, v]) => [k, v / N])),
  scene_tokens_ms: tokenTimes,
};
const f = (x: number) => x.toFixed(3);
console.log('| quantity | mean | median | p95 | max |\n|---|---|---|---|---|');
for (const k of ['generate_ms', 'score_v11_ms', 'score_v22_ms', 'scene_json_kb', 'agents', 'removed_by_filter', 'human_pdms_v11', 'human_epdms_v22'] as const) {
  const s = result[k];
  console.log(`| ${k} | ${f(s.mean)} | ${f(s.median)} | ${f(s.p95)} | ${f(s.max)} |`);
}
console.log('fraction of seeds with the metric = 1:', result.fraction_ok);
console.log('commands:', commands, 'with lead car:', result.with_lead);
console.log('scene tokens ms:', tokenTimes);
fs.mkdirSync('bench-results', { recursive: true });
fs.writeFileSync('bench-results/scenegen.json', JSON.stringify(result, null, 2));
