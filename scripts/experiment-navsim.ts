/**
 * The NAVSIM track end to end, one command (npm run experiment:navsim):
 *
 *   1. cache        metric caches (PDM-Closed computed once) of the train, val and test scenes
 *   2. train-il     imitation learning of the tiny DiT planner on the train scenes (scene tokens)
 *   3. train-grpo   DiffGRPO from the IL checkpoint: the trainer's defaults (PDMS reward, reversing
 *                   penalty 0.5) at ReCogDrive's schedule (peak lr 1e-4, cosine over
 *                   10 epochs) with EP weight 5 and BC weight 0.5 (ReCogDrive: 10 and 0.1), chosen on the val split (see
 *                   FINDINGS.md), rewards from a worker pool over the train cache
 *   4. eval         CV, the ego-status MLP, IL, GRPO, PDM-Closed and the human future on the test split
 *   5. seeds        IL and GRPO on the test split again with 8 evaluation seeds each (per-scene CSVs):
 *                   the spread of the sampler and the best-of-N oracle (per scene, the best of N of
 *                   the planner's own samples by the evaluation PDMS), what +4 PDMS asks for
 *   6. --study      the #23 study: BC weight λ ∈ {0, 0.1, 0.5} × reward ∈ {PDMS, EPDMS}, reversing
 *                   penalty off, evaluated on the val split (settings are selected there, never on test)
 *
 * and writes results/navsim-grpo/: README.md (tables, commands, configs, commit, wall time),
 * results.json, curves (SVG + PNG), a BEV picture of a sampled group with its scores, the MLP
 * checkpoint (mlp.json) and the planner checkpoints il/ and grpo/ (loadable by
 * `navsim eval --checkpoint`). Every stage is a `drivekit navsim ...` command run in this process.
 *
 *   npx tsx scripts/experiment-navsim.ts [--quick] [--study] [--out results/navsim-grpo] [--work .tmp/navsim-grpo]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { init } from '../src/core/backend.js';
import { readJsonl } from '../src/core/logger.js';
import { Rng } from '../src/core/rng.js';
import { main } from '../src/cli/main.js';
import { formatEvalTable, type EvalResult } from '../src/cli/navsim-eval.js';
import { DiffusionPlanner } from '../src/models/planner.js';
import { openMetricCache, scoreCachedScene } from '../src/navsim/metric-cache.js';
import { lastWaypointReverses } from '../src/navsim/score-pool.js';
import { sceneRows } from '../src/rl/data/scene-dataset.js';
import { renderNavsimScene } from '../src/viz/navsim-svg.js';
import { lineChartSpec, type ChartSpec } from '../src/viz/plot.js';
import { writePng } from '../src/viz/png.js';
import { flagReader, gitCommit, writeChart } from './experiment-common.js';

const argv = process.argv.slice(2);
const arg = flagReader(argv);
const quick = argv.includes('--quick');
const study = argv.includes('--study');
const out = arg('out', quick ? '.tmp/navsim-quick/results' : 'results/navsim-grpo');
const work = arg('work', quick ? '.tmp/navsim-quick' : '.tmp/navsim-grpo');
const P = quick
  ? { train: 48, val: 12, test: 16, ilEpochs: 2, ilBatch: 16, ilLr: '1e-3', grpoIterations: 4, grpoLr: '1e-4', studyLr: '1e-4', scenesPerIteration: 4, rolloutMinStd: '0.02', progressWeight: '5', bcCoeff: '0.5', studyIterations: 2, studyVal: 8, mlpSeeds: 48, workers: 1, evalSeeds: 2 }
  : {
      train: Number(arg('train', '2000')),
      val: Number(arg('val', '200')),
      test: Number(arg('test', '500')),
      ilEpochs: Number(arg('il-epochs', '40')),
      ilBatch: Number(arg('il-batch', '64')),
      ilLr: arg('il-lr', '1e-3'),
      grpoIterations: Number(arg('grpo-iterations', '1250')),
      grpoLr: arg('grpo-lr', '1e-4'),
      scenesPerIteration: Number(arg('scenes-per-iteration', '16')),
      rolloutMinStd: arg('rollout-min-std', '0.02'),
      progressWeight: arg('progress-weight', '5'),
      bcCoeff: arg('bc-coeff', '0.5'),
      studyIterations: Number(arg('study-iterations', '40')),
      studyLr: arg('study-lr', '3e-4'),
      studyVal: Number(arg('study-val', '200')),
      mlpSeeds: Number(arg('mlp-seeds', '2000')),
      workers: Number(arg('workers', '2')),
      evalSeeds: Number(arg('eval-seeds', '8')),
    };

fs.mkdirSync(out, { recursive: true });
fs.mkdirSync(work, { recursive: true });
const commit = gitCommit();

const tStart = performance.now();
const stages: { name: string; command: string; seconds: number }[] = [];
async function drivekit(name: string, args: string[]): Promise<string> {
  const lines: string[] = [];
  const t0 = performance.now();
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => process.stderr.write(l + '\n') });
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`stage ${name} failed (exit ${code}): drivekit ${args.join(' ')}`);
  stages.push({ name, command: `drivekit ${args.join(' ')}`, seconds });
  console.log(`[${name}] ${seconds.toFixed(0)} s (total ${((performance.now() - tStart) / 60000).toFixed(1)} min)`);
  return lines.at(-1) ?? '';
}

/**
 * A stage whose result is kept in WORK/stages/NAME.json: a rerun of the script (after a crash, or
 * with only the report changed) skips it when its command is the same and no earlier stage (other
 * than the metric caches) ran again. `--fresh` reruns everything.
 */
const fresh = argv.includes('--fresh');
let rerunAll = false;
async function stage(name: string, args: string[], outputs: string[] = []): Promise<string> {
  const file = path.join(work, 'stages', `${name}.json`);
  const kept = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { result: string; command: string; seconds: number }) : null;
  if (!fresh && kept && kept.command === `drivekit ${args.join(' ')}` && !rerunAll && outputs.every((o) => fs.existsSync(o))) {
    stages.push({ name, command: kept.command, seconds: kept.seconds });
    console.log(`[${name}] kept from an earlier run (${kept.seconds.toFixed(0)} s)`);
    return kept.result;
  }
  for (const o of outputs) fs.rmSync(o, { recursive: true, force: true });
  // a training stage run again (new settings, or missing outputs) invalidates every later kept
  // stage; caches and evaluations feed nothing later
  if (!/^(cache-|eval-|study-eval-)/.test(name)) rerunAll = true;
  const result = await drivekit(name, args);
  const s = stages.at(-1)!;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, JSON.stringify({ result, command: s.command, seconds: s.seconds }));
  return result;
}

const trainSeeds = `train:${P.train}`;
const valSeeds = `val:${P.val}`;
const testSeeds = `test:${P.test}`;
const cacheDir = (split: string) => path.join(work, `cache-${split}`);

// 1. metric caches
for (const [split, seeds] of [['train', trainSeeds], ['val', valSeeds], ['test', testSeeds]] as const) {
  await stage(`cache-${split}`, ['navsim', 'cache', '--seeds', seeds, '--out', cacheDir(split), '--workers', '2', '--force', '--quiet'], [cacheDir(split)]);
}

// 2. IL
const ilWork = path.join(work, 'il');
const il = JSON.parse(await stage('train-il', ['navsim', 'train-il', '--seeds', trainSeeds, '--out', ilWork, '--epochs', String(P.ilEpochs), '--batch-size', String(P.ilBatch), '--optimizer-lr', P.ilLr, '--val-every', '0', '--keep-best', '0', '--json', '--quiet'], [ilWork]));

// 3. GRPO with the defaults
const grpoArgs = (dir: string, iterations: number, extra: string[], lr = P.grpoLr) => [
  'navsim', 'train-grpo', '--init', ilWork, '--seeds', trainSeeds, '--metric-cache', cacheDir('train'), '--workers', String(P.workers), '--out', dir,
  '--iterations', String(iterations), '--scenes-per-iteration', String(P.scenesPerIteration), '--lr', lr, '--rollout-min-std', P.rolloutMinStd, '--progress-weight', P.progressWeight, '--json', '--quiet', ...extra,
];
const grpoWork = path.join(work, 'grpo');
const grpo = JSON.parse(await stage('train-grpo', grpoArgs(grpoWork, P.grpoIterations, ['--bc-coeff', P.bcCoeff]), [grpoWork]));

// the committed checkpoints: weights, config and conditioning length (no optimiser state)
function copyCheckpoint(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const f of ['model.safetensors', 'model.json', 'data.json']) fs.copyFileSync(path.join(from, 'last', f), path.join(to, f));
  fs.copyFileSync(path.join(from, 'run.json'), path.join(to, 'run.json'));
  fs.copyFileSync(path.join(from, 'progress.jsonl'), path.join(to, 'progress.jsonl'));
}
const ilDir = path.join(out, 'il');
const grpoDir = path.join(out, 'grpo');
copyCheckpoint(ilWork, ilDir);
copyCheckpoint(grpoWork, grpoDir);

// 4. evaluation on the test split
const evalOn = async (name: string, agent: string[], seeds: string, cache: string, outputs: string[] = []): Promise<EvalResult> =>
  JSON.parse(await stage(name, ['navsim', 'eval', ...agent, '--seeds', seeds, '--cache', cache, '--json', '--quiet'], outputs)) as EvalResult;
// the MLP's checkpoint is an output of its evaluation stage: removed (and trained again) when the stage reruns
const mlpFile = path.join(out, 'mlp.json');
const agents: [string, string[]][] = [
  ['CV', ['--baseline', 'cv']],
  ['MLP', ['--baseline', 'mlp', '--mlp', mlpFile, '--mlp-seeds', `train:${P.mlpSeeds}`]],
  ['IL', ['--checkpoint', ilDir]],
  ['GRPO', ['--checkpoint', grpoDir]],
  ['PDM-Closed', ['--baseline', 'pdm-closed']],
  ['human', ['--baseline', 'human']],
];
const test: EvalResult[] = [];
for (const [name, a] of agents) test.push({ ...(await evalOn(`eval-test-${name}`, a, testSeeds, cacheDir('test'), name === 'MLP' ? [mlpFile] : [])), agent: name });
const byName = (n: string) => test.find((r) => r.agent === n)!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

// 5. the evaluation seeds: each planner sampled with seeds 0..K-1 (one stream per scene and seed),
// every scene's scores kept (navsim eval --out); the spread over seeds and the best-of-N oracle
type SeedRow = { agent: string; seeds: number; pdms: number[]; epdms: number[]; ec: number[]; reversing: number; plans: number; bestOf: { n: number; pdms: number; epdms: number }[] };
const seedRows: SeedRow[] = [];
{
  const K = P.evalSeeds;
  const readCsv = (file: string) => {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    const head = lines[0]!.split(',');
    const rows = lines.slice(1, -1).map((l) => l.split(','));
    return (name: string) => rows.map((r) => Number(r[head.indexOf(name)]));
  };
  for (const [name, dir] of [['IL', ilDir], ['GRPO', grpoDir]] as const) {
    const cols: ((name: string) => number[])[] = [];
    for (let s = 0; s < K; s++) {
      const csv = path.join(work, 'seeds', `${name}-${s}.csv`);
      await stage(`seeds-${name}-${s}`, ['navsim', 'eval', '--checkpoint', dir, '--seeds', testSeeds, '--cache', cacheDir('test'), '--seed', String(s), '--out', csv, '--json', '--quiet'], [csv]);
      cols.push(readCsv(csv));
    }
    const per = (col: string) => cols.map((c) => c(col)); // [seed][scene]
    const pd = per('v1.1.pdms'), ep = per('v2.2.epdms'), ec = per('v2.2.two_frame_extended_comfort'), rev = per('reversing');
    // best of N: seeds split into K / N disjoint groups of N; per scene the best value in a group; averaged over scenes and groups
    const bestOf = (m: number[][], n: number) => {
      const groups = Math.floor(K / n);
      let sum = 0;
      for (let g = 0; g < groups; g++) sum += mean(m[0]!.map((_, i) => Math.max(...m.slice(g * n, (g + 1) * n).map((row) => row[i]!))));
      return sum / groups;
    };
    seedRows.push({
      agent: name, seeds: K, pdms: pd.map(mean), epdms: ep.map(mean), ec: ec.map(mean),
      reversing: rev.flat().reduce((a, b) => a + b, 0), plans: rev.flat().length,
      bestOf: [1, 2, 4, 8, 16].filter((n) => n <= K).map((n) => ({ n, pdms: bestOf(pd, n), epdms: bestOf(ep, n) })),
    });
  }
}

// 6. the #23 study (val split)
type StudyRow = { lambda: number; reward: string; pdms: number | null; epdms: number | null; ec: number | null; reversing: number; trainReversing: number | null };
const studyRows: StudyRow[] = [];
let studyVal: EvalResult | null = null;
if (study) {
  const seeds = `val:${P.studyVal}`;
  studyVal = await evalOn('study-eval-IL', ['--checkpoint', ilDir], seeds, cacheDir('val'));
  for (const reward of ['pdms', 'epdms']) {
    for (const lambda of [0, 0.1, 0.5]) {
      const dir = path.join(work, `study-${reward}-${lambda}`);
      await stage(`study-${reward}-${lambda}`, grpoArgs(dir, P.studyIterations, ['--bc-coeff', String(lambda), '--reward', reward, '--reverse-penalty', '0'], P.studyLr), [dir]);
      const r = await evalOn(`study-eval-${reward}-${lambda}`, ['--checkpoint', dir], seeds, cacheDir('val'));
      const log = readJsonl(path.join(dir, 'progress.jsonl'));
      const tail = log.slice(-10).map((x) => Number(x['rollout/reversing_fraction']));
      studyRows.push({
        lambda, reward, pdms: r.pdms, epdms: r.epdms, ec: r.metrics['v2.2']?.ec ?? null, reversing: r.reversing_fraction,
        trainReversing: tail.length ? tail.reduce((s, x) => s + x, 0) / tail.length : null,
      });
    }
  }
}

// Curves
const ilAll = readJsonl(path.join(ilDir, 'progress.jsonl'));
const ilLog = ilAll.filter((r) => r['train/loss'] !== undefined);
const ilEpochs = ilAll.filter((r) => r['train/epoch_loss'] !== undefined);
const grpoLog = readJsonl(path.join(grpoDir, 'progress.jsonl'));
const it = grpoLog.map((r) => Number(r.step));
const col = (k: string) => grpoLog.map((r) => Number(r[k] ?? NaN));
const smooth = (ys: number[], w = 10) => ys.map((_, i) => {
  const s = ys.slice(Math.max(0, i - w + 1), i + 1).filter((v) => Number.isFinite(v));
  return s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
});
const charts: [string, ChartSpec][] = [
  ['il-loss', lineChartSpec([
    ...(ilLog.length ? [{ name: 'IL loss (ε-MSE), logged steps', x: ilLog.map((r) => Number(r.step)), y: ilLog.map((r) => Number(r['train/loss'])) }] : []),
    { name: 'epoch mean', x: ilEpochs.map((r) => Number(r.step)), y: ilEpochs.map((r) => Number(r['train/epoch_loss'])) },
  ], { title: 'IL: training loss', xLabel: 'step', yLabel: 'loss', logY: true })],
  ['grpo-reward', lineChartSpec([
    { name: 'reward', x: it, y: col('rollout/reward_mean') },
    { name: 'reward (mean of 10)', x: it, y: smooth(col('rollout/reward_mean')) },
    { name: 'reversing', x: it, y: col('rollout/reversing_fraction') },
  ], { title: 'DiffGRPO: rollout reward (PDMS, training weights, after the reversing penalty)', xLabel: 'iteration', yLabel: 'reward / fraction' })],
  ['grpo-loss', lineChartSpec([
    { name: 'policy loss L_RL', x: it, y: col('train/policy_loss') },
    { name: 'BC loss L_BC (before λ)', x: it, y: col('train/bc_loss') },
    { name: 'total L', x: it, y: col('train/loss') },
  ], { title: 'DiffGRPO: losses per iteration', xLabel: 'iteration', yLabel: 'loss' })],
];
for (const [name, spec] of charts) await writeChart(out, name, spec);

// BEV picture: one test scene, G = 8 samples of the GRPO planner (eval sampler, η = 1), scored (PDMS)
await init({ backend: 'wasm' });
const bevScores: number[] = [];
{
  const cache = openMetricCache(cacheDir('test'));
  const c = cache.scene(0);
  const planner = await DiffusionPlanner.fromCheckpoint(grpoDir);
  const L = (JSON.parse(fs.readFileSync(path.join(grpoDir, 'data.json'), 'utf8')) as { condLength: number }).condLength;
  const { rows } = sceneRows([c.seed!], { numTokens: L, width: planner.config.condDim });
  const tf = await import('@tensorflow/tfjs');
  const G = 8;
  const traj = tf.tidy(() => {
    const s = planner.sample(
      { hiddenStates: tf.tensor3d(rows.cond, [1, L, rows.condDim]), history: tf.tensor2d(rows.history, [1, 12]), status: tf.tensor2d(rows.status, [1, 8]) },
      { rng: new Rng(7), groupSize: G },
    );
    s.normalized.dispose();
    return s.trajectory;
  });
  const poses = Float64Array.from(traj.dataSync());
  traj.dispose();
  planner.dispose();
  const r = scoreCachedScene(c, poses, G, { version: 'v1.1' });
  bevScores.push(...r.score);
  const proposals = Array.from({ length: G }, (_, g) => ({ poses: poses.subarray(g * 24, (g + 1) * 24), frame: 'ego' as const }));
  const rev = proposals.filter((_, g) => lastWaypointReverses(poses, g)).length;
  const svg = renderNavsimScene(c.scene, {
    proposals, scores: Array.from(r.score),
    title: `${c.name}: ${G} GRPO samples, PDMS ${Array.from(r.score, (x) => x.toFixed(2)).join(' ')}${rev ? `, ${rev} reversing` : ''}`,
  });
  writeFileAtomicSync(path.join(out, 'bev-group.svg'), svg);
  writePng(path.join(out, 'bev-group.png'), svg);
}

// Results
const wallMinutes = (performance.now() - tStart) / 60000;
const stageMinutes = stages.reduce((a, st) => a + st.seconds, 0) / 60;
const grpoTail = grpoLog.slice(-20);
const timing = {
  iteration_s: mean(grpoTail.map((r) => Number(r['time/iteration_s']))),
  sampling_s: mean(grpoTail.map((r) => Number(r['time/sampling_s']))),
  scoring_s: mean(grpoTail.map((r) => Number(r['time/scoring_s']))),
  backward_s: mean(grpoTail.map((r) => Number(r['time/backward_s']))),
  scoring_fraction: mean(grpoTail.map((r) => Number(r['time/scoring_fraction']))),
  // the whole run, first epoch included (scenes decoded and prepared on first use)
  run_s: grpoLog.reduce((a, r) => a + Number(r['time/iteration_s']), 0),
  run_scoring_s: grpoLog.reduce((a, r) => a + Number(r['time/scoring_fraction']) * Number(r['time/iteration_s']), 0),
};
const results = { commit, quick, params: P, il, grpo, test, seeds: seedRows, studyVal, study: studyRows, timing, bevScores, stages, wallMinutes, stageMinutes };
writeFileAtomicSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : (100 * v).toFixed(1));
const cols = ['NC', 'DAC', 'TTC', 'C', 'EP', 'PDMS'] as const;
const v1 = (r: EvalResult) => r.metrics['v1.1'] ?? {};
const v2 = (r: EvalResult) => r.metrics['v2.2'] ?? {};
const navsimTable = [
  `| method | ${cols.join(' | ')} | NC | DAC | DDC | TLC | EP | TTC | LK | HC | EC | EPDMS | reversing |`,
  `|---|${cols.map(() => '---').join('|')}|---|---|---|---|---|---|---|---|---|---|---|`,
  ...test.map((r) => {
    const a = v1(r), b = v2(r);
    return `| ${r.agent} | ${[a.nc, a.dac, a.ttc, a.c, a.ep].map(pct).join(' | ')} | **${pct(r.pdms)}** | ${[b.nc, b.dac, b.ddc, b.tlc, b.ep, b.ttc, b.lk, b.hc, b.ec].map(pct).join(' | ')} | **${pct(r.epdms)}** | ${pct(r.reversing_fraction)} |`;
  }),
].join('\n');
const d = (a: number | null, b: number | null) => {
  if (a === null || b === null) return '-';
  const t = (100 * (a - b)).toFixed(1);
  return Number(t) === 0 ? '±0.0' : `${Number(t) > 0 ? '+' : ''}${t}`;
};
const IL = byName('IL'), GR = byName('GRPO'), CV = byName('CV');
const studyTable = studyRows.length
  ? [
      '| reward | λ (BC weight) | PDMS | EPDMS | EC | reversing (val plans) | reversing (training rollouts, last 10 iterations) |',
      '|---|---|---|---|---|---|---|',
      `| (IL start) | - | ${pct(studyVal?.pdms)} | ${pct(studyVal?.epdms)} | ${pct(studyVal?.metrics['v2.2']?.ec)} | ${pct(studyVal?.reversing_fraction)} | - |`,
      ...studyRows.map((r) => `| ${r.reward.toUpperCase()} | ${r.lambda} | ${pct(r.pdms)} | ${pct(r.epdms)} | ${pct(r.ec)} | ${pct(r.reversing)} | ${pct(r.trainReversing)} |`),
    ].join('\n')
  : '(not run: add `--study`)';
const pm = (xs: number[]) => {
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${pct(m)} ± ${(100 * sd).toFixed(1)}`;
};
const seedNs = seedRows[0]?.bestOf.map((b) => b.n) ?? [];
const seedTable = [
  `| planner | PDMS | EPDMS | EC | reversing plans | ${seedNs.map((n) => `PDMS best of ${n}`).join(' | ')} | ${seedNs.map((n) => `EPDMS best of ${n}`).join(' | ')} |`,
  `|---|---|---|---|---|${seedNs.map(() => '---').join('|')}|${seedNs.map(() => '---').join('|')}|`,
  ...seedRows.map((r) => `| ${r.agent} | ${pm(r.pdms)} | ${pm(r.epdms)} | ${pm(r.ec)} | ${r.reversing} of ${r.plans} | ${r.bestOf.map((b) => pct(b.pdms)).join(' | ')} | ${r.bestOf.map((b) => pct(b.epdms)).join(' | ')} |`),
].join('\n');
const oracleLine = (() => {
  const il = seedRows.find((r) => r.agent === 'IL');
  if (!il) return '';
  const target = mean(il.pdms) + 0.04;
  const reached = il.bestOf.find((b) => b.pdms >= target);
  const best = il.bestOf.at(-1)!;
  return `The +4 PDMS target over IL's mean (${pct(target)}) ${reached ? `equals IL's best of ${reached.n} (${pct(reached.pdms)})` : `lies above even IL's best of ${best.n} (${pct(best.pdms)})`}.`;
})();
// Hand-written findings about a run live in OUT/FINDINGS.md (kept across reruns) and are appended here.
const findingsFile = path.join(out, 'FINDINGS.md');
const findings = fs.existsSync(findingsFile) ? `\n${fs.readFileSync(findingsFile, 'utf8').trimEnd()}\n` : '';
const readme = `# NAVSIM track: scenes → metric cache → IL → DiffGRPO → evaluation

Made by \`npx tsx scripts/experiment-navsim.ts ${argv.join(' ')}\`${argv.length === 0 ? ' (npm run experiment:navsim)' : ''} at commit \`${commit}\`
on the shared 2-core development machine (WASM backend, other agents' jobs running beside it):
**${stageMinutes.toFixed(1)} minutes** for all stages (each stage's seconds as measured when it last ran;
this invocation took ${wallMinutes.toFixed(1)} minutes, stages kept from an earlier run of the same command included as 0).

## Test split (${testSeeds}: seeds ${20000}..${20000 + P.test - 1}), NAVSIM's table layout

v1.1 columns (NC, DAC, TTC, C, EP, PDMS), then the v2.2 EPDMS columns; percentages. EC is NAVSIM v2's
two-frame extended comfort: the plan against the plan the same agent made at the previous frame
(0.5 s earlier; generated scenes carry that frame). \`reversing\`: share of plans whose last waypoint
goes backwards (ReCogDrive #23). The planners (IL, GRPO) are sampled as ReCogDrive evaluates them:
its \`get_action\` sampler (DDIM, η = 1, std ≥ 1e-4, noise clip ±1), seeded per scene
(\`navsim eval --sampler stochastic\`, the default).

${navsimTable}

- IL − CV: ${d(IL.pdms, CV.pdms)} PDMS. GRPO − IL: **${d(GR.pdms, IL.pdms)} PDMS** (target ≥ +4.0), ${d(GR.epdms, IL.epdms)} EPDMS,
  EC ${d(GR.metrics['v2.2']?.ec ?? null, IL.metrics['v2.2']?.ec ?? null)} (target ≥ −2.0), reversing plans ${pct(GR.reversing_fraction)} % (target 0).
- MLP: NAVSIM's Ego Status MLP (\`navsim/ego-mlp.ts\`, status → 8 poses, L1), trained on train:${P.mlpSeeds}, checkpoint \`mlp.json\`.
- PDM-Closed is privileged (it sees the map and the agents); human is the logged future.

## Evaluation seeds and the best-of-N oracle (${testSeeds}, ${P.evalSeeds} seeds)

The planners are stochastic: each is evaluated again with evaluation seeds 0..${P.evalSeeds - 1} (\`navsim eval --seed S --out\`,
per-scene CSVs in \`${path.join(work, 'seeds')}\`). Mean ± standard deviation over the seeds; reversing counts plans over all seeds.
*Best of N* is an oracle: per scene, the best of N of the planner's own samples by the evaluation score itself
(the ${P.evalSeeds} seeds split into groups of N), averaged over scenes and groups. A policy that puts its mass on its best
samples can at most approach it. ${oracleLine}

${seedTable}

## The #23 study (val split, val:${P.studyVal})

GRPO from the same IL checkpoint for ${P.studyIterations} iterations per row at lr ${P.studyLr}, reversing penalty **off** (λ_rev = 0, so the BC
weight alone has to hold the policy back from the hack), evaluated on the val split:

${studyTable}

## Stages

| stage | seconds | command |
|---|---|---|
${stages.map((s) => `| ${s.name} | ${s.seconds.toFixed(0)} | \`${s.command}\` |`).join('\n')}

## Configs

- Scenes: train ${trainSeeds}, val ${valSeeds}, test ${testSeeds} (\`src/navsim/splits.ts\`); metric caches built with 2 workers.
- IL: tiny preset (2 blocks, width 32), scene tokens 48 × 24, ${P.ilEpochs} epochs, batch ${P.ilBatch}, peak lr ${P.ilLr}
  (every setting in \`il/run.json\`).
- GRPO: defaults of \`GRPO_TRAIN_CONFIG\` (G = 8, PDMS reward, λ_rev = 0.5, γ = 0.6, clip 1.0), EP weight ${P.progressWeight}
  (ReCogDrive: 10), BC weight λ = ${P.bcCoeff} (ReCogDrive: 0.1; both chosen on the val split, see the findings), ${P.grpoIterations} iterations of B = ${P.scenesPerIteration} scenes (${((P.grpoIterations * P.scenesPerIteration) / P.train).toFixed(1)} epochs of the train scenes), peak lr ${P.grpoLr} (cosine to 0 over the trainer's 10 epochs, stepped per epoch, as ReCogDrive) and a rollout std floor of ${P.rolloutMinStd}
  (paper v1's value; the code's default is 0.04); rewards from a
  \`ProposalScorePool\` with ${P.workers} worker(s) over the train metric cache (every setting in \`grpo/run.json\`).
- GRPO iteration time (mean of the last 20): ${timing.iteration_s.toFixed(2)} s = sampling ${timing.sampling_s.toFixed(2)} s
  + scoring (main-thread time) ${timing.scoring_s.toFixed(3)} s + backward ${timing.backward_s.toFixed(2)} s; scoring share ${(100 * timing.scoring_fraction).toFixed(1)} %.
  Over the whole run (${grpoLog.length} iterations, the first epoch's cold scenes included): ${timing.run_s.toFixed(0)} s, of which scoring
  (main-thread time and waiting for the pool) ${timing.run_scoring_s.toFixed(0)} s = ${(100 * timing.run_scoring_s / Math.max(1e-9, timing.run_s)).toFixed(1)} %.

## Files

- \`il/\`, \`grpo/\`: planner checkpoints (\`navsim eval --checkpoint results/navsim-grpo/grpo --seeds test:${P.test}\`),
  with their \`run.json\` and \`progress.jsonl\`.
- \`mlp.json\`: the ego-status MLP (\`navsim eval --baseline mlp --mlp results/navsim-grpo/mlp.json\`).
- Curves: [IL loss](il-loss.svg), [GRPO reward](grpo-reward.svg), [GRPO losses](grpo-loss.svg) (and PNGs).
- [BEV picture](bev-group.svg): test scene ${20000}, 8 GRPO samples coloured by PDMS (${bevScores.map((x) => x.toFixed(2)).join(', ')}).
- \`results.json\`: every number above.
${findings}`;
writeFileAtomicSync(path.join(out, 'README.md'), readme);
console.log(formatEvalTable(test));
console.log(`wall time ${wallMinutes.toFixed(1)} min`);
