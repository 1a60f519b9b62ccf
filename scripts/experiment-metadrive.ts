/**
 * The MetaDrive IL+RL experiment end to end, one command (npm run experiment:metadrive):
 *
 *   1. record-expert  the scripted expert on the training maps (seeds 0..N-1), with DART action noise
 *   2. train-bc       behaviour cloning into the 256-256 actor-critic policy; with --dagger-rounds K, K DAgger
 *                     rounds follow (the current BC policy drives on the training maps, the expert labels the
 *                     states it visits, BC is retrained on all the data)
 *   3. train-ppo      PPO from the BC checkpoint with a traffic-density curriculum on the same maps
 *   4. evaluate       BC and BC+PPO on unseen maps (seeds 5000..5099, density 0.1, 5 runs)
 *
 * and writes results/metadrive/: README.md (table, commands, commit, wall times), results.json,
 * curves (SVG + PNG), configs, and the policies bc/ and ppo/ (loadable by `env evaluate --policy`).
 * Every stage is a `drivekit env ...` command run in this process; `--quick` runs a small version
 * (minutes) for a smoke test.
 *
 *   npx tsx scripts/experiment-metadrive.ts [--quick] [--out results/metadrive] [--work .tmp/metadrive]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { readJsonl } from '../src/core/logger.js';
import { lineChartSpec, type ChartSpec } from '../src/viz/plot.js';
import { copyPolicy, evalTable, flagReader, gitCommit, Stages, writeChart } from './experiment-common.js';

const argv = process.argv.slice(2);
const arg = flagReader(argv);
const quick = argv.includes('--quick');
const out = arg('out', quick ? '.tmp/metadrive-quick/results' : 'results/metadrive');
const work = arg('work', quick ? '.tmp/metadrive-quick' : '.tmp/metadrive');
const daggerRounds = Number(arg('dagger-rounds', '1'));
const P = quick
  ? { trainSeeds: 20, noise: '0.1,0.1', bcEpochs: 3, ppoSteps: 4096, valSeeds: '4000:4010', valEvery: 1, evalSeeds: '5000:5010', runs: 2 }
  : { trainSeeds: Number(arg('train-seeds', '200')), noise: arg('noise', '0.1,0.1'), bcEpochs: Number(arg('bc-epochs', '20')), ppoSteps: Number(arg('ppo-steps', '300000')), valSeeds: arg('val-seeds', '4000:4100'), valEvery: Number(arg('val-every', '10')), evalSeeds: arg('eval-seeds', '5000:5100'), runs: Number(arg('runs', '5')) };

fs.mkdirSync(out, { recursive: true });
fs.mkdirSync(work, { recursive: true });
const commit = gitCommit();
// Stage records in `work`; `--reuse` skips a stage whose record holds the same command.
const stages = new Stages(work, argv.includes('--reuse'));
const drivekit = (name: string, args: string[]) => stages.run(name, args);

const demos = path.join(work, 'demos.arrow');
const bcDir = path.join(out, 'bc');
const ppoDir = path.join(out, 'ppo');
const ppoWork = path.join(work, 'ppo');

const record = JSON.parse(await drivekit('record-expert', ['env', 'record-expert', '--seeds', `0:${P.trainSeeds}`, '--density', '0.1', '--action-noise', P.noise, '--out', demos, '--json', '--quiet']));
let bc = JSON.parse(await drivekit('train-bc', ['env', 'train-bc', '--demos', demos, '--out', path.join(work, 'bc'), '--epochs', String(P.bcEpochs), '--json', '--quiet']));
let bcWork = path.join(work, 'bc');
const demoFiles = [demos];
for (let k = 1; k <= daggerRounds; k++) {
  // DAgger: the current BC policy drives (half the steps, the expert the rest), the expert labels.
  const file = path.join(work, `dagger-${k}.arrow`);
  await drivekit(`dagger-${k}-record`, ['env', 'record-expert', '--seeds', `0:${P.trainSeeds}`, '--density', '0.1', '--driver', bcWork, '--expert-prob', '0.5', '--noise-seed', String(k), '--out', file, '--json', '--quiet']);
  demoFiles.push(file);
  bcWork = path.join(work, `bc-dagger-${k}`);
  bc = JSON.parse(await drivekit(`dagger-${k}-train-bc`, ['env', 'train-bc', '--demos', demoFiles.join(','), '--out', bcWork, '--epochs', String(P.bcEpochs), '--json', '--quiet']));
}
copyPolicy(bcWork, bcDir, ['progress.jsonl']);
const ppo = JSON.parse(await stages.run('train-ppo', ['env', 'train-ppo', '--init', bcDir, '--out', ppoWork, '--timesteps', String(P.ppoSteps), '--num-scenarios', String(P.trainSeeds), '--curriculum', '0.05,0.1,0.2', '--val-seeds', P.valSeeds, '--val-every', String(P.valEvery), '--json'], { fresh: ppoWork }));
// The PPO policy is the best one on the validation maps (SB3's EvalCallback); the last one is kept beside it.
const ppoLastDir = path.join(out, 'ppo-last');
copyPolicy(path.join(ppoWork, 'best'), ppoDir);
copyPolicy(ppoWork, ppoLastDir);
fs.copyFileSync(path.join(ppoWork, 'progress.jsonl'), path.join(ppoDir, 'progress.jsonl'));
const evalArgs = ['--seeds', P.evalSeeds, '--runs', String(P.runs), '--density', '0.1', '--json', '--quiet'];
const evalBc = JSON.parse(await drivekit('evaluate-bc', ['env', 'evaluate', '--policy', bcDir, ...evalArgs]));
const evalPpo = JSON.parse(await drivekit('evaluate-ppo', ['env', 'evaluate', '--policy', ppoDir, ...evalArgs]));
const evalPpoLast = JSON.parse(await drivekit('evaluate-ppo-last', ['env', 'evaluate', '--policy', ppoLastDir, ...evalArgs]));

// Curves.
const bcLog = readJsonl(path.join(bcDir, 'progress.jsonl'));
const ppoAll = readJsonl(path.join(ppoDir, 'progress.jsonl'));
const ppoLog = ppoAll.filter((r) => r['eval/success_rate'] === undefined);
const valLog = ppoAll.filter((r) => r['eval/success_rate'] !== undefined);
const charts: [string, ChartSpec][] = [
  ['bc-loss', lineChartSpec([
    { name: 'train loss', x: bcLog.map((r) => Number(r['train/epoch'])), y: bcLog.map((r) => Number(r['train/loss'])) },
    { name: 'validation loss', x: bcLog.map((r) => Number(r['train/epoch'])), y: bcLog.map((r) => Number(r['val/loss'])) },
  ], { title: 'BC: loss per epoch', xLabel: 'epoch', yLabel: 'loss', logY: true })],
  ['ppo-success', lineChartSpec([
    { name: 'training success', x: ppoLog.map((r) => Number(r.step)), y: ppoLog.map((r) => Number(r['rollout/success_rate'] ?? NaN)) },
    { name: `validation success`, x: valLog.map((r) => Number(r.step)), y: valLog.map((r) => Number(r['eval/success_rate'])) },
    { name: 'density', x: ppoLog.map((r) => Number(r.step)), y: ppoLog.map((r) => Number(r['curriculum/density'])) },
  ], { title: `PPO from BC: training success, validation success (maps ${P.valSeeds}), curriculum density`, xLabel: 'environment steps', yLabel: 'rate / density' })],
  ['ppo-return', lineChartSpec([{ name: 'return (last 100)', x: ppoLog.map((r) => Number(r.step)), y: ppoLog.map((r) => Number(r['rollout/ep_rew_mean'] ?? NaN)) }], { title: 'PPO from BC: episode return', xLabel: 'environment steps', yLabel: 'return' })],
];
for (const [name, spec] of charts) await writeChart(out, name, spec);

const table = evalTable([
  ['BC', evalBc],
  ['BC + PPO (best on validation, `ppo/`)', evalPpo],
  ['BC + PPO (last, `ppo-last/`)', evalPpoLast],
]);
const results = { commit, quick, params: P, daggerRounds, record, bc, ppo, evaluate: { bc: evalBc, ppo: evalPpo, ppoLast: evalPpoLast }, stages: stages.list };
writeFileAtomicSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
const total = stages.seconds();
const beforePpo = stages.seconds('train-ppo');
const best = ppo.validation?.best as { timesteps: number; seconds: number; success_rate: number } | undefined;
const readme = `# MetaDrive track: expert → BC → PPO, evaluated on unseen maps

Made by \`npx tsx scripts/experiment-metadrive.ts ${argv.join(' ')}\`${argv.length === 0 ? ' (npm run experiment:metadrive)' : ''} at commit \`${commit}\`
on the 2-core development machine (WASM backend), ${(total / 60).toFixed(1)} minutes in all.

Unseen maps: seeds ${P.evalSeeds}, traffic density 0.1, ${P.runs} runs (each run draws its own traffic on the same maps),
deterministic actions. Mean ± standard deviation over runs:

${table}

The seed reports about 80 % success on its own maps and PGDrive's PPO 62-68 % on unseen maps; the issue's target
for BC + PPO is 85 %.

## Stages

${stages.table()}
${stages.reusedNote()}

- Demonstrations: ${record.frames} frames from ${record.episodes} expert episodes on maps 0..${P.trainSeeds - 1} (DART action noise ${P.noise}; the
  noisy expert failed ${record.counts?.episodes_failed} episodes, its labels are the clean expert actions).
- DAgger rounds: ${daggerRounds}${daggerRounds ? ' (the BC policy drove half the steps on the training maps, the expert labelled them; BC retrained on all the data)' : ''}.
- BC: best validation loss ${Number(bc.best_val_loss).toFixed(4)} at epoch ${bc.best_epoch} of ${bc.epochs} (see \`bc/progress.jsonl\`), policy in \`bc/\`.
- PPO: ${ppo.timesteps} steps from the BC policy, curriculum 0.05 → 0.1 → 0.2 on the training maps, final training success
  ${(100 * ppo.trainSuccess).toFixed(0)} %. Every ${P.valEvery} iterations the deterministic policy was evaluated on the validation maps
  ${P.valSeeds} (density 0.1, one run; disjoint from the training maps 0..${P.trainSeeds - 1} and the test maps ${P.evalSeeds}); the best one
  (${best ? `${(100 * best.success_rate).toFixed(0)} % validation success at ${best.timesteps} steps` : 'n/a'}) is \`ppo/\`, the last one \`ppo-last/\`.
  The selected policy existed ${best ? ((beforePpo + best.seconds) / 60).toFixed(1) : 'n/a'} minutes after the start of the run (wall time to the reported result).

The PPO budget (300k steps) was chosen on the validation maps: with 500k steps and the same pipeline the best validation
success was 49 % (test 45.2 %, \`results/metadrive-500k\`); learning rate and curriculum stretch with the budget, and
the longer runs ended worse (an earlier 1M-step run without DAgger: 48.2 % on the test maps, \`results/metadrive-1m\`).

Curves: [BC loss](bc-loss.svg), [PPO success and curriculum](ppo-success.svg), [PPO return](ppo-return.svg).
Everything measured is in \`results.json\` (configs of every stage included in the policies' \`policy.json\`).
`;
writeFileAtomicSync(path.join(out, 'README.md'), readme);
console.log(readme);
