/**
 * Reference runs of PPO on the gymnasium classics, as the issue's cleanrl references are
 * reported: CartPole-v1 (cleanrl ppo.py defaults, 500k steps) and Pendulum-v1 (rl-zoo settings
 * without gSDE, 200k steps), seeds 1, 2, 3. Writes results/ppo-classic/: README.md (table, command,
 * commit, settings), curves.json, one SVG + PNG curve per task, and the seed-1 policies.
 *
 *   npx tsx scripts/experiment-classic.ts [--seeds 1,2,3] [--cartpole-steps 500000] [--pendulum-steps 200000] [--out results/ppo-classic]
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { init } from '../src/core/backend.js';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { PPO_PRESETS } from '../src/rl/ppo/presets.js';
import { trainClassicPPO } from '../src/rl/ppo/classic.js';
import { lineChartSpec } from '../src/viz/plot.js';
import { writeChart } from '../src/viz/vega-node.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const out = arg('out', 'results/ppo-classic');
const budgets = { 'CartPole-v1': Number(arg('cartpole-steps', '500000')), 'Pendulum-v1': Number(arg('pendulum-steps', '200000')) } as const;
const tasks = arg('tasks', 'CartPole-v1,Pendulum-v1').split(',') as ('CartPole-v1' | 'Pendulum-v1')[];
// --report-only: rebuild the table and pictures from curves.json without training (e.g. after an interrupted run).
const reportOnly = argv.includes('--report-only');

const backend = await init({ backend: 'wasm' });
fs.mkdirSync(out, { recursive: true });
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const curvesFile = path.join(out, 'curves.json');
const all: Record<string, { seed: number; timesteps: number; seconds: number; finalMean: number; firstAt475: number | null; curve: [number, number][] }[]> = fs.existsSync(curvesFile) ? JSON.parse(fs.readFileSync(curvesFile, 'utf8')) : {};

for (const id of tasks) {
  if (reportOnly && !all[id]) continue;
  if (!reportOnly) all[id] = (all[id] ?? []).filter((r) => !seeds.includes(r.seed));
  for (const seed of reportOnly ? [] : seeds) {
    const r = await trainClassicPPO(id, { timesteps: budgets[id], seed });
    const firstAt475 = r.curve.find(([, m]) => m >= 475)?.[0] ?? null;
    console.log(`${id} seed ${seed}: final mean ${r.finalMean.toFixed(1)}${id === 'CartPole-v1' ? `, first >= 475 at ${firstAt475}` : ''}, ${r.seconds.toFixed(0)} s`);
    if (seed === seeds[0]) await r.policy.save(path.join(out, `${id}-seed${seed}`), { env: id, algorithm: 'PPO', timesteps: r.timesteps, seed });
    r.policy.dispose();
    // Keep the curve light: at most ~400 points per run.
    const stride = Math.max(1, Math.ceil(r.curve.length / 400));
    const curve = r.curve.filter((_, i) => i % stride === 0 || i === r.curve.length - 1).map(([s, m]) => [s, +m.toFixed(2)] as [number, number]);
    all[id]!.push({ seed, timesteps: r.timesteps, seconds: +r.seconds.toFixed(1), finalMean: +r.finalMean.toFixed(2), firstAt475, curve });
    all[id]!.sort((a, b) => a.seed - b.seed);
    writeFileAtomicSync(curvesFile, JSON.stringify(all) + '\n');
  }
  const spec = lineChartSpec(all[id]!.map((r) => ({ name: `seed ${r.seed}`, x: r.curve.map((c) => c[0]), y: r.curve.map((c) => c[1]) })), { title: `PPO on ${id} (mean of the last 10 returns)`, xLabel: 'environment steps', yLabel: 'return' });
  await writeChart(path.join(out, id), spec);
}

const rows: string[] = [];
for (const [id, runs] of Object.entries(all)) {
  for (const r of runs) rows.push(`| ${id} | ${r.seed} | ${r.timesteps} | ${r.finalMean.toFixed(1)} | ${id === 'CartPole-v1' ? (r.firstAt475 ?? 'never') : '-'} | ${r.seconds.toFixed(0)} |`);
}
const readme = `# PPO on the gymnasium classics

Made by \`npx tsx scripts/experiment-classic.ts --seeds ${seeds.join(',')}\` (npm run experiment:classic) at commit \`${commit}\`${reportOnly ? ' (table rebuilt from curves.json; the runs listed are those that finished)' : ''},
backend ${backend}, on the 2-core development machine. Settings: \`PPO_PRESETS\` (src/rl/ppo/presets.ts):

- CartPole-v1 (${PPO_PRESETS['CartPole-v1'].source}): \`${JSON.stringify(PPO_PRESETS['CartPole-v1'].ppo)}\`, 4 envs, 64-64 tanh.
- Pendulum-v1 (${PPO_PRESETS['Pendulum-v1'].source}): \`${JSON.stringify(PPO_PRESETS['Pendulum-v1'].ppo)}\`, 4 envs, 64-64 tanh.

"final mean" is the mean of the last 10 episodic returns at the end of the run (the curve's last point);
"first >= 475" is the first environment step at which that running mean reached 475.

| task | seed | steps | final mean | first >= 475 | seconds |
|---|---|---|---|---|---|
${rows.join('\n')}

References (cleanrl PPO, torch, same budgets, 3 seeds): CartPole-v1 reaches 475 between 119k and 167k
steps on every seed and ends near 480; Pendulum-v1 with these rl-zoo settings ends near -660 after 200k
steps (cleanrl, truncation treated as terminal); SB3's tuned PPO with gSDE reaches about -200.

Curves: ${Object.keys(all).map((id) => `[${id}](${id}.svg)`).join(', ')}; data in \`curves.json\`; the seed-${seeds[0]} policies in \`<task>-seed${seeds[0]}/\`
(load with \`ActorCriticPolicy.load\`).
`;
writeFileAtomicSync(path.join(out, 'README.md'), readme);
console.log(readme);
