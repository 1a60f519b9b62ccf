/**
 * The queue worker (`drivekit queue worker --redis URL [--concurrency N]`): a BullMQ `Worker` on
 * the `drivekit` queue that runs each job (`runQueueJob`, jobs.ts) in a thread of a `WorkerPool`,
 * `concurrency` jobs at a time. The jobs run off the main thread, so the worker keeps renewing its
 * job locks however long a job computes; a worker that dies (SIGKILL, a lost machine) stops
 * renewing, and after `lockDuration` another worker's stalled-job check puts its job back in the
 * queue for someone else. Redis going away is waited out (ioredis reconnects).
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import { ConfigError } from '../core/errors.js';
import { WorkerPool } from '../core/worker-pool.js';
import type { QueueJobData, QueueJobResult } from './jobs.js';

/** The queue drivekit's commands and workers use (override with `queueName`). */
export const QUEUE_NAME = 'drivekit';

/** BullMQ connection options from `redis://[user:password@]host:port[/db]`. */
export function redisConnection(url: string): ConnectionOptions & { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(ConfigError.format({ field: '--redis', expected: 'a URL redis://host:port[/db]', found: url }), { field: '--redis', expected: 'redis://host:port', found: url });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(ConfigError.format({ field: '--redis', expected: 'a redis:// or rediss:// URL', found: url }), { field: '--redis', expected: 'redis://host:port', found: url });
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // a worker's blocking connection must wait out a Redis restart instead of failing its commands
    maxRetriesPerRequest: null,
  };
}

export interface QueueWorkerOptions {
  redis: string;
  /** Jobs at once (threads; default 1). */
  concurrency?: number;
  queueName?: string;
  /** Ms a job's lock lasts without renewal before the job counts as stalled (default 30000). */
  lockDuration?: number;
  /** Ms between stalled-job checks (default 30000). */
  stalledInterval?: number;
  /** Called when a job starts. */
  onStart?: (e: { id: string; kind: string }) => void;
  /** Called per finished or failed job. */
  onJob?: (e: { id: string; kind: string; ok: boolean; reused?: boolean; error?: string; seconds: number }) => void;
  onError?: (e: Error) => void;
}

export interface QueueWorkerHandle {
  worker: Worker;
  close(): Promise<void>;
}

/** Starts a worker; it runs until `close()`. */
export function startQueueWorker(opts: QueueWorkerOptions): QueueWorkerHandle {
  const concurrency = opts.concurrency ?? 1;
  const pool = new WorkerPool(concurrency);
  pool.preload('queue/jobs'); // the main thread must be free to renew job locks once jobs run
  const worker = new Worker<QueueJobData, QueueJobResult>(
    opts.queueName ?? QUEUE_NAME,
    async (job) => {
      const t0 = performance.now();
      opts.onStart?.({ id: String(job.id), kind: job.data.kind });
      try {
        const r = await pool.run<QueueJobResult>('queue/jobs', 'runQueueJob', job.data);
        opts.onJob?.({ id: String(job.id), kind: job.data.kind, ok: true, reused: r.reused, seconds: (performance.now() - t0) / 1000 });
        return r;
      } catch (e) {
        opts.onJob?.({ id: String(job.id), kind: job.data.kind, ok: false, error: (e as Error).message, seconds: (performance.now() - t0) / 1000 });
        throw e;
      }
    },
    {
      connection: redisConnection(opts.redis),
      concurrency,
      lockDuration: opts.lockDuration ?? 30_000,
      stalledInterval: opts.stalledInterval ?? 30_000,
      // a job is put back after each stall (a dead worker); it fails only after this many
      maxStalledCount: 10,
    },
  );
  worker.on('error', (e) => opts.onError?.(e));
  return {
    worker,
    async close() {
      await worker.close(true);
      await pool.close();
    },
  };
}
