/**
 * `drivekit queue worker --redis URL [--concurrency N]`: runs the shard jobs that `navsim cache`, `navsim eval`
 * and `env evaluate` add given `--queue URL` to the Redis queue (see docs/scale-out.md), until
 * SIGTERM / SIGINT (then it finishes its jobs in progress and exits 0). One line per job on stderr.
 */
import { defaultWorkers } from '../core/worker-pool.js';
import { UsageError, intOption, parseArgs, usageText } from './args.js';
import type { CliIO } from './main.js';

const WORKER_USAGE = `drivekit queue worker --redis URL [options]

  run shard jobs from the Redis queue (navsim cache / navsim eval / env evaluate --queue URL) until SIGTERM
  --redis URL             redis://[user:password@]host:port[/db] (required)
  --concurrency N         jobs at once, one thread each (default: the number of cores)
  --lock-duration MS      a job whose worker stops renewing its lock for MS ms is taken over (30000)
  --stalled-interval MS   how often this worker looks for such jobs (30000)
  --queue-name NAME       the BullMQ queue (default drivekit)
  --quiet                 no line per job`;

const USAGE = `drivekit queue <subcommand> [options]

  worker   run jobs from a Redis queue (see drivekit queue worker --help, docs/scale-out.md)`;

async function workerCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { redis: 'string', concurrency: 'number', 'lock-duration': 'number', 'stalled-interval': 'number', 'queue-name': 'string', quiet: 'boolean' }, WORKER_USAGE);
  if (opts._.length > 0) throw new UsageError(`drivekit queue worker: unexpected argument '${opts._[0]}'.\n${usageText(WORKER_USAGE)}`, { field: 'argument', expected: 'options only', found: opts._[0] });
  if (typeof opts.redis !== 'string') throw new UsageError(`--redis URL is required.\n${usageText(WORKER_USAGE)}`, { field: '--redis', expected: 'redis://host:port', found: undefined });
  const concurrency = intOption(opts, 'concurrency', defaultWorkers(), { min: 1 });
  const lockDuration = intOption(opts, 'lock-duration', 30_000, { min: 100 });
  const stalledInterval = intOption(opts, 'stalled-interval', 30_000, { min: 100 });
  const { startQueueWorker, redisConnection } = await import('../queue/worker.js');
  redisConnection(opts.redis); // a wrong URL is a usage error before anything starts
  const quiet = Boolean(opts.quiet);
  const handle = startQueueWorker({
    redis: opts.redis,
    concurrency,
    lockDuration,
    stalledInterval,
    queueName: opts['queue-name'] as string | undefined,
    onStart: (e) => {
      if (!quiet) io.err(`job ${e.id} ${e.kind}: started`);
    },
    onJob: (e) => {
      if (!quiet) io.err(e.ok ? `job ${e.id} ${e.kind}: done in ${e.seconds.toFixed(2)} s${e.reused ? ' (output already there)' : ''}` : `job ${e.id} ${e.kind}: failed after ${e.seconds.toFixed(2)} s: ${e.error}`);
    },
    onError: (e) => {
      if (!quiet) io.err(`queue worker: ${e.message}`);
    },
  });
  if (!quiet) io.err(`queue worker: ${opts.redis}, queue ${opts['queue-name'] ?? 'drivekit'}, ${concurrency} job(s) at once`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await handle.close();
  return 0;
}

/** Entry point of `drivekit queue`. */
export async function queueCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'worker') return workerCommand(rest, io);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    (sub ? io.out : io.err)(usageText(USAGE));
    return sub ? 0 : 2;
  }
  throw new UsageError(`unknown subcommand '${sub}'. Valid: worker.\n${usageText(USAGE)}`, { field: 'subcommand', expected: 'worker', found: sub });
}
