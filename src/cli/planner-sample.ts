/**
 * `drivekit planner sample`: trajectories from a planner checkpoint for every row of a
 * hidden-state cache (Arrow), with L1 / ADE / FDE against the cache's targets. Needs the planner
 * and the data module only (not the IL trainer).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { col, ArrowFileWriter } from '../core/arrow.js';
import { JsonlSink, Logger } from '../core/logger.js';
import { progress, type Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { readSafetensors } from '../core/safetensors.js';
import { TrajectoryErrors } from '../metrics/trajectory.js';
import { batchInputs, DiffusionPlanner, type PlannerConfig, type PlannerConfigInput, plannerConfig } from '../models/planner.js';
import { plannerCheckpointConfig, resolvePlannerCheckpoint } from '../models/planner-checkpoint.js';
import { loadPlannerStateDict } from '../models/weights.js';
import { disposeBatch, rowsToBatch } from '../rl/data/planner-batch.js';
import { HiddenStateCache } from '../rl/data/hidden-state-cache.js';
import { ensureParentDir, intOption, type OptionSpec, parseArgs, UsageError } from './args.js';
import { checkCacheFile } from './files.js';
import type { CliIO } from './main.js';
import { initBackend, namingFlags, PLANNER_OPTIONS, plannerConfigFromArgs, progressMode, readJson, required, str } from './planner-common.js';

const SAMPLE_USAGE = `drivekit planner sample --cache FILE --checkpoint CKPT --out traj.arrow [options]

  --checkpoint CKPT   a checkpoint folder (model.safetensors + model.json), a train-il run folder
                      (its last/ is used) or a .safetensors file (its config: FILE.json beside it,
                      the file's config metadata, or --preset/--config/--cond-dim)
  --out FILE          the trajectories (Arrow; its folder is created)
  --steps K (5) --seed S (0) --batch-size B (16) --group-size G (1: samples per scene)
  --deterministic     plain DDIM (eta = 0) instead of ReCogDrive's stochastic evaluation sampler
  --rows N            only the first N rows
  --log FILE          JSONL log (default: OUT with .log.jsonl)
  --backend ...  --quiet  --json`;

const SAMPLE_SPEC: OptionSpec = {
  cache: 'string',
  checkpoint: 'string',
  out: 'string',
  ...PLANNER_OPTIONS,
  steps: 'number',
  seed: 'number',
  'batch-size': 'number',
  'group-size': 'number',
  deterministic: 'boolean',
  rows: 'number',
  log: 'string',
  backend: 'string',
  quiet: 'boolean',
  json: 'boolean',
};

/** Output schema of `planner sample`: one row per (scene, sample). */
export const TRAJECTORY_SCHEMA = { token: col.utf8(), sample: col.int32(), trajectory: col.vector([8, 3]) };

export async function sampleCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, SAMPLE_SPEC, SAMPLE_USAGE);
  const cachePath = required(opts, 'cache', SAMPLE_USAGE);
  const ckpt = required(opts, 'checkpoint', SAMPLE_USAGE);
  const outPath = required(opts, 'out', SAMPLE_USAGE);
  const quiet = Boolean(opts.quiet);
  const steps = intOption(opts, 'steps', undefined, { min: 1 });
  const seed = intOption(opts, 'seed', 0);
  const bs = intOption(opts, 'batch-size', 16, { min: 1 });
  const G = intOption(opts, 'group-size', 1, { min: 1 });
  const rowsLimit = intOption(opts, 'rows', undefined, { min: 1 });
  // A missing path or a folder without weights is reported before the backend starts.
  const paths = resolvePlannerCheckpoint(ckpt);
  const dir = paths.dir;
  await checkCacheFile(cachePath, '--cache');
  await initBackend(opts, io, quiet);

  let config: PlannerConfig;
  const sizeFlags = Object.keys(PLANNER_OPTIONS).filter((k) => opts[k] !== undefined);
  if (fs.existsSync(paths.configPath)) {
    if (sizeFlags.length > 0) throw new UsageError(`${paths.configPath} gives the planner config; drop ${sizeFlags.map((f) => '--' + f).join(', ')}.`, { field: `--${sizeFlags[0]}`, expected: 'no size options with a checkpoint that has a config', found: sizeFlags.map((f) => '--' + f) });
    config = plannerConfig(readJson<PlannerConfigInput>(paths.configPath, 'planner config'));
  } else if (sizeFlags.length > 0) {
    config = namingFlags(opts, () => plannerConfigFromArgs(opts, undefined));
  } else {
    config = (await plannerCheckpointConfig(paths)).config; // the weights' config metadata, or an error naming --preset/--config
  }
  // The conditioning length the checkpoint was trained with, when known (issue #12: changing L breaks the planner).
  const dataJson = path.join(dir, 'data.json');
  const trainedL = fs.existsSync(dataJson) ? readJson<{ condLength?: number }>(dataJson, 'checkpoint data info').condLength : undefined;
  const cache = await HiddenStateCache.open(cachePath, {
    condDim: config.condDim,
    ...(trainedL !== undefined ? { condLength: trainedL } : {}),
    source: trainedL !== undefined ? `the checkpoint (${dataJson})` : `the checkpoint config (${paths.configPath})`,
  });
  const planner = new DiffusionPlanner(config);
  const logPath = str(opts, 'log') ?? outPath.replace(/\.arrow$/, '') + '.log.jsonl';
  ensureParentDir(outPath);
  ensureParentDir(logPath, 'log');
  const logger = new Logger([new JsonlSink(logPath, { append: false })]);
  let writer: ArrowFileWriter<typeof TRAJECTORY_SCHEMA> | null = null;
  let bar: Progress | null = null;
  try {
    const file = await readSafetensors(paths.weightsPath);
    loadPlannerStateDict(planner, file.tensors, paths.weightsPath);
    const n = Math.min(rowsLimit ?? cache.numRows, cache.numRows);
    writer = await ArrowFileWriter.open(outPath, TRAJECTORY_SCHEMA, {
      metadata: { 'drivekit.source': path.resolve(cachePath), 'drivekit.checkpoint': path.resolve(ckpt), 'drivekit.sampler': JSON.stringify({ steps: steps ?? config.numInferenceSteps, seed, groupSize: G, deterministic: Boolean(opts.deterministic) }) },
    });
    bar = progress({ total: n, label: 'sample', mode: progressMode(opts) });
    const rng = new Rng(seed);
    const errors = new TrajectoryErrors({ horizon: config.horizon, poseDim: config.actionDim });
    const t0 = performance.now();
    for (let start = 0; start < n; start += bs) {
      const count = Math.min(bs, n - start);
      const rows = await cache.readRows(Int32Array.from({ length: count }, (_, j) => start + j));
      const batch = rowsToBatch(rows);
      let traj: Float32Array;
      try {
        const r = planner.sample(
          batchInputs(batch),
          { rng: rng.split(), groupSize: G, ...(steps !== undefined ? { steps } : {}), ...(opts.deterministic ? { deterministic: true } : {}) },
        );
        traj = r.trajectory.dataSync() as Float32Array;
        r.trajectory.dispose();
        r.normalized.dispose();
      } finally {
        disposeBatch(batch);
      }
      const tokens: string[] = [];
      const sampleIdx = new Int32Array(count * G);
      let bl1 = 0;
      const stride = errors.stride;
      for (let i = 0; i < count; i++) {
        for (let g = 0; g < G; g++) {
          const row = i * G + g;
          tokens.push(rows.tokens[i]!);
          sampleIdx[row] = g;
          bl1 += errors.add(traj, row * stride, rows.target, i * stride);
        }
      }
      await writer.writeBatch({ token: tokens, sample: sampleIdx, trajectory: traj });
      bar.update(start + count);
      logger.record('sample/rows', start + count);
      logger.record('sample/batch_l1', bl1 / (count * G * errors.stride));
      logger.record('time/rows_per_sec', (start + count) / ((performance.now() - t0) / 1000));
      logger.dump(start + count);
    }
    await writer.close();
    writer = null;
    bar.stop();
    const m = n * G;
    const err = errors.result();
    const summary = { rows: n, samples: m, out: outPath, l1: err.l1, ade: err.ade, fde: err.fde, seconds: (performance.now() - t0) / 1000 };
    logger.record('sample/l1', summary.l1);
    logger.record('sample/ade', summary.ade);
    logger.record('sample/fde', summary.fde);
    logger.dump(n);
    if (opts.json) io.out(JSON.stringify(summary));
    else io.out(`wrote ${m} trajectories for ${n} scenes to ${outPath}; vs cache targets: L1 ${summary.l1.toFixed(4)}, ADE ${summary.ade.toFixed(3)} m, FDE ${summary.fde.toFixed(3)} m (${summary.seconds.toFixed(1)} s)`);
    return 0;
  } finally {
    bar?.stop();
    if (writer) await writer.abort().catch(() => undefined);
    logger.close();
    planner.dispose();
    await cache.close();
  }
}
