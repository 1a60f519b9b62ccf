/**
 * The submitting side of the queue: a command (`navsim cache --queue URL`, `env evaluate --queue
 * URL`) splits its work into shard jobs (jobs.ts), adds them to the `drivekit` queue under their
 * content keys as job ids, waits until every shard's output file exists, and merges the shards in
 * order, so the result equals the one-process run's.
 *
 * Robustness, by design rather than by bookkeeping:
 * - Done means "the shard's output file exists" (written atomically by the job), not a Redis event,
 *   so nothing is lost when Redis restarts or an event is missed.
 * - Jobs that are not done are added again every `resubmitMs`; BullMQ ignores an add whose job id
 *   exists, so this only brings back jobs Redis lost (a restart without persistence).
 * - A failing job is retried by BullMQ with exponential backoff (`attempts`, `backoffMs`); when it
 *   has failed `attempts` times the submission fails with its error. A job whose worker died is
 *   put back by the other workers' stalled-job check (worker.ts).
 * - Failed jobs of an earlier submission under the same ids are removed first (a new try).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DrivekitError, InputError } from '../core/errors.js';
import { MetricCacheWriter, PDM_VERSIONS, shardFileName, type MetricCacheManifest, type WrittenShard } from '../navsim/metric-cache.js';
import type { PDMVersion } from '../navsim/types.js';
import type { EvaluationResult } from '../rl/common/evaluate.js';
import { evalShards, mergeEvalShards, type EvalShardResult, type EvalSpec } from '../rl/common/evaluate-shard.js';
import type { AgentScores, EvalResult, NavsimEvalShardTask } from '../cli/navsim-eval.js';
import { folderHash, fromJson, jobDoneFile, jobKey, policyHash, type EnvEvaluateShardJob, type NavsimCacheShardJob, type NavsimEvalShardJob, type QueueJobData } from './jobs.js';
import { QUEUE_NAME, redisConnection } from './worker.js';

export interface SubmitOptions {
  /** redis://host:port of the queue. */
  redis: string;
  /** A folder every worker sees at the same path; shard outputs go there (default `.drivekit-queue`). */
  queueDir?: string;
  queueName?: string;
  /** Tries per job before the submission fails (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled per retry (default 1000). */
  backoffMs?: number;
  /** Ms between checks of the output files (default 200). */
  pollMs?: number;
  /** Ms between re-adding the jobs not yet done (default 2000). */
  resubmitMs?: number;
  /** Called as shards finish (in any order) with the shard index and the count done. */
  onShard?: (index: number, done: number, total: number) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The queue folder as an absolute path (jobs carry it to the workers). */
export function queueDirOf(opts: SubmitOptions): string {
  return path.resolve(opts.queueDir ?? '.drivekit-queue');
}

/**
 * Adds `jobs` and waits until each one's done file exists; returns the done files in job order.
 * Rejects when a job has failed all its attempts.
 */
export async function runShardJobs(jobs: readonly QueueJobData[], opts: SubmitOptions): Promise<string[]> {
  const files = jobs.map(jobDoneFile);
  const ids = jobs.map(jobKey);
  const attempts = opts.attempts ?? 5;
  const pollMs = opts.pollMs ?? 200;
  const resubmitMs = opts.resubmitMs ?? 2000;
  const done = jobs.map(() => false);
  let count = 0;
  const check = () => {
    for (let i = 0; i < jobs.length; i++) {
      if (!done[i] && fs.existsSync(files[i]!)) {
        done[i] = true;
        count++; // not inside the optional call below: `f?.(++x)` skips the increment when f is absent
        opts.onShard?.(i, count, jobs.length);
      }
    }
  };
  check();
  if (count === jobs.length) return files;
  for (const j of jobs) fs.mkdirSync(j.outDir, { recursive: true });
  // the queue's own Redis client, closed by us below whatever state BullMQ's close() is left in
  const client = new Redis(redisConnection(opts.redis));
  client.on('error', () => {});
  const queue = new Queue<QueueJobData>(opts.queueName ?? QUEUE_NAME, { connection: client });
  queue.on('error', () => {}); // Redis away: waited out (the files tell what is done)
  // Redis is only asked in the background: (re)add the jobs not done, look for jobs that failed for
  // good. Each call has a deadline, and the wait below reads only the files, so no Redis call, even
  // one that never answers (a connection lost mid-reply), can hold the submission up.
  const redisMs = Math.max(5000, resubmitMs);
  let fatal: Error | null = null;
  let finished = false;
  const background = (async () => {
    try {
      for (const id of ids) {
        const old = await withDeadline(queue.getJob(id), redisMs);
        if (old && (await withDeadline(old.isFailed(), redisMs))) await withDeadline(old.remove(), redisMs);
      }
    } catch {
      // Redis away: the adds below will be tried again
    }
    while (!finished) {
      const pending = jobs.map((j, i) => ({ j, i })).filter(({ i }) => !done[i]);
      try {
        await withDeadline(
          queue.addBulk(
            pending.map(({ j, i }) => ({
              name: j.kind,
              data: j,
              opts: { jobId: ids[i]!, attempts, backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 }, removeOnComplete: true, removeOnFail: false },
            })),
          ),
          redisMs,
        );
        for (const { i } of pending) {
          if (finished) break;
          const job = await withDeadline(queue.getJob(ids[i]!), redisMs);
          if (job && (await withDeadline(job.isFailed(), redisMs)) && !fs.existsSync(files[i]!)) {
            fatal = new DrivekitError(`queue: shard job ${i} (${jobs[i]!.kind}, id ${ids[i]}) failed ${job.attemptsMade} time(s): ${job.failedReason}`, {
              field: 'job', expected: 'a job that succeeds', found: job.failedReason,
            });
            return;
          }
        }
      } catch {
        // Redis away or slow: try again after the pause
      }
      await sleep(resubmitMs);
    }
  })();
  try {
    for (;;) {
      check();
      if (count === jobs.length) return files;
      if (fatal) throw fatal;
      await sleep(pollMs);
    }
  } finally {
    finished = true;
    // closing waits for commands in flight: bounded, then the socket is dropped
    await withDeadline(Promise.all([background, queue.close()]), 3000).catch(() => {});
    client.disconnect();
  }
}

/** `p`, or a rejection after `ms` (the pending call is left to finish or fail on its own). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer in ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `buildMetricCache` of generated seeds [start, end) through the queue (shards byte-identical to the one-process build). */
export async function submitNavsimCache(
  dir: string,
  range: { start: number; end: number },
  opts: SubmitOptions & { shardSize?: number; versions?: readonly PDMVersion[]; force?: boolean; source?: Record<string, unknown> },
): Promise<MetricCacheManifest> {
  const versions = [...(opts.versions ?? PDM_VERSIONS)];
  const shardSize = opts.shardSize ?? 256;
  const writer = new MetricCacheWriter(dir, versions, shardSize, { force: opts.force, source: opts.source ?? { seeds: [range.start, range.end] } });
  try {
    const outDir = queueDirOf(opts);
    const jobs: NavsimCacheShardJob[] = [];
    for (let s = range.start; s < range.end; s += shardSize) jobs.push({ kind: 'navsim-cache-shard', outDir, task: { start: s, end: Math.min(range.end, s + shardSize), versions } });
    const files = await runShardJobs(jobs, opts);
    files.forEach((f, k) => {
      const w = fromJson<WrittenShard>(fs.readFileSync(f, 'utf8'));
      const bytes = fs.readFileSync(path.join(outDir, w.file));
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== w.sha256) throw new InputError(InputError.format({ file: path.join(outDir, w.file), field: 'sha256', expected: w.sha256, found: sha }), { file: path.join(outDir, w.file), field: 'sha256', expected: w.sha256, found: sha });
      const file = shardFileName(k);
      fs.copyFileSync(path.join(outDir, w.file), path.join(writer.staging, file));
      writer.addWrittenShard({ ...w, file });
    });
    return writer.finish();
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/** `evaluatePolicy` of `spec` through the queue; equal to the one-thread evaluation but for the timings. */
export async function submitEnvEvaluate(spec: EvalSpec, opts: SubmitOptions & { shardSize?: number; onEpisodes?: (episodes: number) => void }): Promise<EvaluationResult> {
  const t0 = performance.now();
  const outDir = queueDirOf(opts);
  const hash = policyHash(spec.policyDir);
  const shardSize = opts.shardSize ?? Math.max(1, Math.min(64, Math.ceil(spec.seeds.length / 16)));
  const tasks = evalShards({ ...spec, policyDir: path.resolve(spec.policyDir) }, shardSize);
  const jobs: EnvEvaluateShardJob[] = tasks.map((task) => ({ kind: 'env-evaluate-shard', outDir, task: { ...task, policyHash: hash } }));
  const runs = spec.runs ?? 1;
  const files = await runShardJobs(jobs, { ...opts, onShard: (i) => opts.onEpisodes?.(runs * tasks[i]!.seeds.length) });
  const results = files.map((f) => fromJson<EvalShardResult>(fs.readFileSync(f, 'utf8')));
  return mergeEvalShards(results, (performance.now() - t0) / 1000);
}

/**
 * `navsim eval` of an agent on seeds [start, end) through the queue: shards of seeds, each planning
 * and scoring its scenes; the per-scene values joined in order and averaged as one process does
 * (a checkpoint's noise is drawn per scene, so a scene's plan does not depend on its shard).
 */
export async function submitNavsimEval(
  agentName: string,
  task: Omit<NavsimEvalShardTask, 'start' | 'end'>,
  range: { start: number; end: number },
  opts: SubmitOptions & { shardSize?: number; onScenes?: (scenes: number) => void; onScores?: (scores: AgentScores) => void },
): Promise<EvalResult> {
  const t0 = performance.now();
  const { mergeAgentScores, navsimCheckpointDir, summarizeAgent } = await import('../cli/navsim-eval.js');
  const outDir = queueDirOf(opts);
  const agent = task.agent.kind === 'checkpoint' ? { ...task.agent, dir: path.resolve(await navsimCheckpointDir(task.agent.dir)) } : task.agent;
  const agentHash = agent.kind === 'checkpoint' ? folderHash(agent.dir) : null;
  const n = range.end - range.start;
  const shardSize = opts.shardSize ?? Math.max(1, Math.min(64, Math.ceil(n / 16)));
  const jobs: NavsimEvalShardJob[] = [];
  for (let s = range.start; s < range.end; s += shardSize) {
    jobs.push({ kind: 'navsim-eval-shard', outDir, task: { ...task, agent, ...(task.cacheDir ? { cacheDir: path.resolve(task.cacheDir) } : {}), start: s, end: Math.min(range.end, s + shardSize), agentHash } });
  }
  const files = await runShardJobs(jobs, { ...opts, onShard: (i) => opts.onScenes?.(jobs[i]!.task.end - jobs[i]!.task.start) });
  const scores = mergeAgentScores(files.map((f) => fromJson<AgentScores>(fs.readFileSync(f, 'utf8'))));
  opts.onScores?.(scores);
  return summarizeAgent(agentName, { start: range.start, end: range.end }, n, scores, (performance.now() - t0) / 1000);
}
