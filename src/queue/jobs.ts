/**
 * The queue's jobs: pure functions of their data (a config and a shard) that write their output
 * atomically under a name derived from that data, so a job run twice (a retry, a stalled job taken
 * over by another worker, a job added again after Redis lost it) writes the same bytes to the same
 * file and the second run finds it done.
 *
 * - `navsim-cache-shard`: generated seeds [start, end) cached as one metric-cache shard
 *   (`<outDir>/navsim-cache-<key>.arrow`, byte-identical to the one-process build's shard), then
 *   its manifest data as `<outDir>/navsim-cache-<key>.json` (`WrittenShard`; written last, so its
 *   presence means the shard is done).
 * - `env-evaluate-shard`: `evaluateShardTask` of a slice of the seeds; the episode outcomes as
 *   `<outDir>/env-evaluate-<key>.json`.
 *
 * - `navsim-eval-shard`: an agent's per-scene PDMS / EPDMS and sub-metrics on seeds [start, end)
 *   (`runNavsimEvalShard`), as `<outDir>/navsim-eval-<key>.json`.
 *
 * `<key>` is the sha256 of the job's kind, task and drivekit version (a policy is named by the
 * sha256 of its files, `policyHash`, so a changed policy at the same path is a new job). `outDir`
 * must be one folder that the submitter and every worker see at the same path (a shared volume).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic.js';
import { InputError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import type { PDMVersion } from '../navsim/types.js';
import type { AgentScores, NavsimEvalShardTask } from '../cli/navsim-eval.js';
import type { EvalShardResult, EvalShardTask } from '../rl/common/evaluate-shard.js';

export interface NavsimCacheShardJob {
  kind: 'navsim-cache-shard';
  outDir: string;
  task: { start: number; end: number; versions: PDMVersion[] };
}

export interface EnvEvaluateShardJob {
  kind: 'env-evaluate-shard';
  outDir: string;
  task: EvalShardTask & { policyHash: string };
}

export interface NavsimEvalShardJob {
  kind: 'navsim-eval-shard';
  outDir: string;
  /** `agentHash`: sha256 of a checkpoint's files (null for a baseline). */
  task: NavsimEvalShardTask & { agentHash: string | null };
}

export type QueueJobData = NavsimCacheShardJob | EnvEvaluateShardJob | NavsimEvalShardJob;

/** JSON with sorted keys (the content key must not depend on key order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object).filter((k) => (v as any)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The content key of a job: sha256 of its kind, task and the drivekit version (hex, 32 chars). */
export function jobKey(job: QueueJobData): string {
  return createHash('sha256').update(canonicalJson({ kind: job.kind, task: job.task, drivekit: VERSION })).digest('hex').slice(0, 32);
}

/** The file whose presence means the job is done (its result). */
export function jobDoneFile(job: QueueJobData): string {
  return path.join(job.outDir, `${job.kind.replace(/-shard$/, '')}-${jobKey(job)}.json`);
}

/** JSON that keeps NaN and the infinities (as `{"$num": "NaN"}`). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? { $num: String(x) } : x));
}

/** Reads `toJson`'s text back. */
export function fromJson<T>(text: string): T {
  return JSON.parse(text, (_k, x) => (x !== null && typeof x === 'object' && typeof x.$num === 'string' && Object.keys(x).length === 1 ? Number(x.$num) : x)) as T;
}

/** sha256 (hex) of the files of a checkpoint folder (its top level), naming a checkpoint in job keys. */
export function folderHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, f);
    if (fs.statSync(file).isFile()) h.update(f).update(fs.readFileSync(file));
  }
  return h.digest('hex');
}

/** sha256 (hex) of a policy folder's files, naming the policy in job keys. */
export function policyHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of ['policy.json', 'policy.safetensors']) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) throw new InputError(InputError.format({ file, expected: 'a policy file', found: 'nothing' }), { file, expected: 'a policy file', found: 'nothing' });
    h.update(f).update(fs.readFileSync(file));
  }
  return h.digest('hex');
}

/** What a job returns (also kept by BullMQ as its return value). */
export interface QueueJobResult {
  /** The done file. */
  file: string;
  /** Whether the output was already there (a repeated job). */
  reused: boolean;
}

/** Runs one job (the queue worker's handler, in a worker thread). */
export async function runQueueJob(job: QueueJobData): Promise<QueueJobResult> {
  const done = jobDoneFile(job);
  if (fs.existsSync(done)) return { file: done, reused: true };
  fs.mkdirSync(job.outDir, { recursive: true });
  if (job.kind === 'navsim-cache-shard') {
    const { buildShardTask } = await import('../navsim/score-pool.js');
    const arrow = `navsim-cache-${jobKey(job)}.arrow`;
    const shard = buildShardTask({ staging: job.outDir, file: arrow, ...job.task });
    writeFileAtomicSync(done, toJson(shard));
  } else if (job.kind === 'env-evaluate-shard') {
    const { evaluateShardTask } = await import('../rl/common/evaluate-shard.js');
    const r: EvalShardResult = await evaluateShardTask(job.task);
    writeFileAtomicSync(done, toJson(r));
  } else if (job.kind === 'navsim-eval-shard') {
    const { runNavsimEvalShard } = await import('../cli/navsim-eval.js');
    const r: AgentScores = await runNavsimEvalShard(job.task);
    writeFileAtomicSync(done, toJson(r));
  } else {
    throw new InputError(InputError.format({ field: 'kind', expected: 'navsim-cache-shard, env-evaluate-shard or navsim-eval-shard', found: (job as { kind: unknown }).kind }), { field: 'kind', expected: 'a job kind', found: (job as { kind: unknown }).kind });
  }
  return { file: done, reused: false };
}
