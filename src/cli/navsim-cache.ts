/**
 * `drivekit navsim cache`: NAVSIM's metric-caching step (see docs/navsim-cache.md).
 *
 *   drivekit navsim cache (SCENES... | --seeds A:B [--workers N | --queue URL]) --out DIR [--shard-size N] [--version v1.1|v2.2] [--force]
 *   drivekit navsim cache verify DIR [--sample 0.01 | --scenes a,b] [--json]
 *
 * Building prints one JSON line `{out, scenes, shards, versions, seconds}`; `verify` prints
 * `{ok, checked, mismatches: [{scene, field, expected, found}]}` (with `--json`, else one line per
 * mismatch) and exits 1 when a value differs.
 */
import * as fs from 'node:fs';
import { progress } from '../core/progress.js';
import { readScenesArrow } from '../navsim/arrow-scenes.js';
import { buildSeedMetricCache } from '../navsim/score-pool.js';
import { PDM_VERSIONS, buildMetricCache, seedScenes, verifyMetricCache, type MetricCacheSource } from '../navsim/metric-cache.js';
import { parseScene } from '../navsim/scene-json.js';
import { readSceneFile } from '../navsim/score-scene.js';
import { parseSeedRange } from '../navsim/splits.js';
import type { PDMVersion } from '../navsim/types.js';
import { UsageError, WORKERS_HELP, flagError, intOption, numberOption, parseArgs, workersOption } from './args.js';
import type { CliIO } from './main.js';

const USAGE = `drivekit navsim cache (SCENES... | --seeds A:B) --out DIR [options]
       drivekit navsim cache verify DIR [--sample F | --scenes a,b] [--json]

  build   per scene: the scene, PDM-Closed's states (run once) and a scored probe, per version,
          into sharded Arrow files plus manifest.json (format, versions, sha256 per shard)
          SCENES          scene JSON / golden files, JSON arrays of scenes, or Arrow scene files
          --seeds A:B     generated scenes for seeds A .. B-1 (or train | val | test[:N])
          --out DIR       the cache folder (must be new or empty, unless --force)
          --shard-size N  scenes per shard file (256)
          --version V     cache only v1.1 or v2.2 (default: both)
          --workers N     ${WORKERS_HELP}; one shard at a time each (--seeds; scene files: this thread)
          --queue URL     build the shards as jobs on a Redis queue (redis://host:port; --seeds only;
                          run \`drivekit queue worker\` on any number of machines; docs/scale-out.md)
          --queue-dir DIR shard outputs, a folder every worker sees at the same path (.drivekit-queue)
          --force         replace an existing cache folder
          --quiet         no progress
  verify  recompute a sample and compare bit for bit (scene from its seed, PDM-Closed, probe)
          --sample F      fraction of scenes (0.01; at least one)
          --scenes a,b    these scenes (names or indices) instead
          --seed S        seed of the sample draw (0)
          --json          one JSON object instead of lines`;

function versionsOf(v: string | undefined): PDMVersion[] {
  if (v === undefined) return [...PDM_VERSIONS];
  if (v !== 'v1.1' && v !== 'v2.2') throw flagError('version', 'v1.1 or v2.2', v);
  return [v];
}

function* fileScenes(files: string[]): Generator<MetricCacheSource> {
  for (const file of files) {
    if (file.endsWith('.arrow')) {
      for (const scene of readScenesArrow(file)) yield { scene };
      continue;
    }
    const parsed = readSceneFile(file);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    for (const [i, json] of list.entries()) yield { scene: parseScene(json, { source: Array.isArray(parsed) ? `${file}#${i}` : file }) };
  }
}

async function buildCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { seeds: 'string', out: 'string', 'shard-size': 'number', version: 'string', force: 'boolean', quiet: 'boolean', workers: 'number', queue: 'string', 'queue-dir': 'string' }, USAGE);
  const out = opts.out as string | undefined;
  if (!out) throw new UsageError(`--out DIR is required.\n${USAGE}`, { field: '--out', expected: 'a folder', found: undefined });
  const files = opts._;
  const seeds = opts.seeds as string | undefined;
  if ((seeds === undefined) === (files.length === 0)) {
    throw new UsageError(`give scene files or --seeds A:B (one of them).\n${USAGE}`, { field: '--seeds', expected: 'scene files or --seeds', found: seeds ?? files });
  }
  const shardSize = intOption(opts, 'shard-size', 256, { min: 1 });
  const versions = versionsOf(opts.version as string | undefined);
  const range = seeds !== undefined ? parseSeedRange(seeds, '--seeds') : null;
  if (opts.workers !== undefined && opts.workers !== 1 && !range) throw new UsageError('--workers needs --seeds (scene files are cached in this thread).', { field: '--workers', expected: '1 with scene files', found: opts.workers });
  const workers = range ? workersOption(opts) : 1;
  const queue = opts.queue as string | undefined;
  if (queue !== undefined && !range) throw new UsageError('--queue needs --seeds (the jobs generate their scenes from seeds).', { field: '--queue', expected: '--seeds A:B', found: files });
  const sources = range ? seedScenes(range.start, range.end) : fileScenes(files);
  const bar = progress({ total: range ? range.end - range.start : 0, label: 'navsim cache', mode: opts.quiet || !range ? 'silent' : 'auto' });
  const t0 = performance.now();
  let manifest;
  const buildOpts = {
    shardSize,
    versions,
    force: Boolean(opts.force),
    source: range ? { seeds: [range.start, range.end] } : { files },
    onProgress: (done: number) => bar.update(done),
  };
  try {
    if (queue !== undefined && range) {
      const { submitNavsimCache } = await import('../queue/submit.js');
      let scenes = 0;
      manifest = await submitNavsimCache(out, range, {
        ...buildOpts,
        redis: queue,
        queueDir: opts['queue-dir'] as string | undefined,
        onShard: (i) => bar.update((scenes += Math.min(shardSize, range.end - range.start - i * shardSize))),
      });
    } else manifest = workers > 1 && range ? await buildSeedMetricCache(out, range, { ...buildOpts, workers }) : buildMetricCache(out, sources, buildOpts);
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  io.out(JSON.stringify({ out, scenes: manifest.numScenes, shards: manifest.shards.length, versions: manifest.versions, seconds: Number(seconds.toFixed(3)) }));
  return 0;
}

async function verifyCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { sample: 'number', scenes: 'string', seed: 'number', json: 'boolean', quiet: 'boolean' }, USAGE);
  const dir = opts._[0];
  if (!dir || opts._.length > 1) throw new UsageError(`navsim cache verify takes one cache folder.\n${USAGE}`, { field: 'DIR', expected: 'one folder', found: opts._ });
  if (!fs.existsSync(dir)) throw new UsageError(`${dir}: no such folder.`, { file: dir, expected: 'a cache folder', found: 'nothing' });
  if (opts.sample !== undefined && opts.scenes !== undefined) throw new UsageError('give --sample or --scenes, not both.', { field: '--scenes', expected: 'one of --sample, --scenes', found: 'both' });
  const sample = numberOption(opts, 'sample', 0.01, { min: Number.MIN_VALUE, max: 1 });
  const scenes = typeof opts.scenes === 'string' ? opts.scenes.split(',').filter((s) => s.length > 0) : undefined;
  const report = verifyMetricCache(dir, { sample, scenes, seed: intOption(opts, 'seed', 0) });
  if (opts.json) io.out(JSON.stringify(report));
  else {
    for (const m of report.mismatches) io.out(`${m.scene}: ${m.field}: cached ${JSON.stringify(m.found)}, recomputed ${JSON.stringify(m.expected)}`);
    io.out(report.ok ? `ok: ${report.checked.length} scene(s) recomputed, every value equal` : `FAILED: ${report.mismatches.length} value(s) differ in ${new Set(report.mismatches.map((m) => m.scene)).size} of ${report.checked.length} scene(s)`);
  }
  return report.ok ? 0 : 1;
}

/** Entry point of `drivekit navsim cache`. */
export async function navsimCacheCommand(args: string[], io: CliIO): Promise<number> {
  if (args[0] === 'verify') return verifyCommand(args.slice(1), io);
  return buildCommand(args, io);
}
