/**
 * `drivekit navsim`: NAVSIM PDM scoring from the command line.
 *
 *   drivekit navsim score <scene.json | scenes.arrow>... [--version v1.1|v2.2] [--json] [--workers N]
 *   drivekit navsim pack <scene.json>... --out <scenes.arrow>
 *
 * `score` prints one JSON line per scene, `{"name", "metrics": {...}}`, with the golden files'
 * metric keys (NaN as null); a golden file (`{input, expected}`) is scored from its `input`. A file
 * that cannot be read or scored gives `{"name", "file", "error"}` and the others are still scored;
 * the exit code is 1 when any scene failed. Without `--json` a PDMS / EPDMS table follows the lines.
 * `pack` validates scenes and writes them to one Arrow IPC file (the multi-scene layout).
 */
import * as fs from 'node:fs';
import { formatPdmTable, pdmTable, type PdmSceneResult } from '../metrics/pdm-table.js';
import { readScenesArrow, sceneToJson, writeScenesArrow } from '../navsim/arrow-scenes.js';
import { ScenePool, type PoolSceneResult } from '../navsim/pool.js';
import { parseScene } from '../navsim/scene-json.js';
import { scoreSceneJson } from '../navsim/score-scene.js';
import type { PdmScene, PdmVersion } from '../navsim/types.js';
import { UsageError, parseArgs } from './args.js';
import type { CliIO } from './main.js';

const USAGE = `drivekit navsim score <scene.json|scenes.arrow>... [--version v1.1|v2.2] [--json] [--workers N]
       drivekit navsim pack <scene.json>... --out <scenes.arrow>

  score    score every scene (PDM-Closed runs unless the scene pins pdm_closed_trajectory);
           one JSON line per scene: {"name", "metrics"}; a bad file gives {"name", "file", "error"}
           --version   v1.1 (PDMS) or v2.2 (EPDMS); default: from the scene schema (v1 -> v1.1, v2 -> v2.2)
           --json      only the JSON lines (no summary table)
           --workers   score in N worker threads (needs the built package)
  pack     validate scenes and write them to one Arrow IPC file (--out)`;

interface SceneJob {
  file: string;
  name: string;
  /** Scene JSON (plain data, as the workers get it) or a load error. */
  json?: unknown;
  error?: string;
}

function loadJobs(files: string[]): SceneJob[] {
  const jobs: SceneJob[] = [];
  for (const file of files) {
    try {
      if (file.endsWith('.arrow')) {
        for (const s of readScenesArrow(file)) jobs.push({ file, name: s.name, json: sceneToJson(s) });
        continue;
      }
      const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      const list = Array.isArray(parsed) ? parsed : [parsed];
      list.forEach((j, i) => {
        const root = (j as any)?.input && !(j as any)?.schema ? (j as any).input : j;
        const name = typeof root?.name === 'string' ? root.name : Array.isArray(parsed) ? `${file}#${i}` : file;
        jobs.push({ file, name, json: j });
      });
    } catch (e) {
      jobs.push({ file, name: file, error: (e as Error).message });
    }
  }
  return jobs;
}

function line(r: PoolSceneResult, file: string): string {
  if (r.error !== undefined) return JSON.stringify({ name: r.name, file, error: r.error });
  return JSON.stringify({ name: r.name, metrics: r.metrics });
}

async function scoreCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { version: 'string', json: 'boolean', workers: 'number' }, USAGE);
  const files = opts._;
  if (files.length === 0) throw new UsageError(`drivekit navsim score: no scene files given.\nUsage: ${USAGE}`);
  const version = opts.version as string | undefined;
  if (version !== undefined && version !== 'v1.1' && version !== 'v2.2') {
    throw new UsageError(`Option --version: expected v1.1 or v2.2, found ${JSON.stringify(version)}.`);
  }
  const workers = (opts.workers as number | undefined) ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`Option --workers: expected an integer >= 1, found ${workers}.`);
  const jobs = loadJobs(files);
  const scoreOptions = version ? { version: version as PdmVersion } : {};
  const results: PoolSceneResult[] = new Array(jobs.length);
  const todo = jobs.map((j, i) => ({ j, i })).filter(({ j }) => j.error === undefined);
  for (const { j, i } of jobs.map((j, i) => ({ j, i }))) if (j.error !== undefined) results[i] = { name: j.name, error: j.error };
  if (workers > 1 && todo.length > 1) {
    const pool = new ScenePool({ workers: Math.min(workers, todo.length) });
    try {
      const out = await pool.scoreAll(todo.map(({ j }) => j.json), scoreOptions);
      todo.forEach(({ i }, k) => (results[i] = out[k]!));
    } finally {
      await pool.close();
    }
  } else {
    for (const { j, i } of todo) results[i] = scoreSceneJson(j.json, scoreOptions);
  }
  results.forEach((r, i) => io.out(line(r, jobs[i]!.file)));
  if (!opts.json) {
    // one table per version present
    const byVersion = new Map<string, PdmSceneResult[]>();
    results.forEach((r, i) => {
      const v = version ?? versionOfJob(jobs[i]!);
      if (!byVersion.has(v)) byVersion.set(v, []);
      byVersion.get(v)!.push(r.error !== undefined ? { name: r.name, error: r.error } : { name: r.name, metrics: r.metrics });
    });
    for (const [v, rows] of byVersion) io.out(formatPdmTable(pdmTable(rows, v as PdmVersion)));
  }
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

function versionOfJob(j: SceneJob): PdmVersion {
  const root = (j.json as any)?.input && !(j.json as any)?.schema ? (j.json as any).input : j.json;
  return root?.schema === 'pdm_ref_scene/v2' ? 'v2.2' : 'v1.1';
}

async function packCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { out: 'string' }, USAGE);
  const out = opts.out as string | undefined;
  if (!out) throw new UsageError(`drivekit navsim pack: --out <scenes.arrow> is required.\nUsage: ${USAGE}`);
  if (opts._.length === 0) throw new UsageError(`drivekit navsim pack: no scene files given.\nUsage: ${USAGE}`);
  const scenes: PdmScene[] = [];
  let failed = 0;
  for (const job of loadJobs(opts._)) {
    try {
      if (job.error !== undefined) throw new Error(job.error);
      scenes.push(parseScene(job.json, { source: job.file }));
    } catch (e) {
      failed++;
      io.err(JSON.stringify({ name: job.name, file: job.file, error: (e as Error).message }));
    }
  }
  if (failed > 0) {
    io.err(`drivekit navsim pack: ${failed} scene(s) invalid; ${out} not written.`);
    return 1;
  }
  writeScenesArrow(out, scenes);
  io.out(JSON.stringify({ out, scenes: scenes.length }));
  return 0;
}

/** Entry point of `drivekit navsim`. */
export async function navsimCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'score') return scoreCommand(rest, io);
  if (sub === 'pack') return packCommand(rest, io);
  if (sub === undefined || sub === '--help' || sub === '-h') throw new UsageError(`Usage: ${USAGE}`);
  throw new UsageError(`drivekit navsim: unknown subcommand '${sub}'. Valid: score, pack.\nUsage: ${USAGE}`);
}
