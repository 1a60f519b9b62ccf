/**
 * The Redis job queue end to end, with a real `redis-server` on 127.0.0.1 (test/queue/redis.ts)
 * and `drivekit queue worker` child processes: a metric cache built through the queue while a
 * worker is SIGKILLed mid-job and another restarted, and while Redis itself is killed and
 * restarted, is byte-identical to the one-process build, with every scene once and in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMetricCache, seedScenes } from '../../src/navsim/metric-cache.js';
import { canonicalJson, fromJson, jobDoneFile, jobKey, runQueueJob, toJson, type NavsimCacheShardJob } from '../../src/queue/jobs.js';
import { main } from '../../src/cli/main.js';
import { init } from '../../src/core/backend.js';
import { ActorCriticPolicy } from '../../src/models/mlp-policy.js';
import { runShardJobs, submitNavsimCache } from '../../src/queue/submit.js';
import { redisConnection, startQueueWorker, type QueueWorkerHandle } from '../../src/queue/worker.js';
import { startRedis, type TestRedis } from './redis.js';

const SEEDS = { start: 40, end: 44 };
const VERSIONS = ['v1.1' as const];
const ROOT = path.resolve(__dirname, '../..');

let tmp: string;
let reference: string;

/** Every file of a folder (name -> bytes), for a byte-for-byte comparison. */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort()) out[f] = fs.readFileSync(path.join(dir, f)).toString('base64');
  return out;
}

interface Child {
  proc: ChildProcess;
  /** stderr lines so far */
  lines: string[];
  started: Promise<string>;
  /** resolves when the worker is listening (its SIGTERM handler installed) */
  ready: Promise<void>;
}

function startWorker(url: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/queue/worker-child.ts'), 'queue', 'worker', '--redis', url, '--concurrency', '1', '--lock-duration', '1500', '--stalled-interval', '500'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let onStart: (l: string) => void = () => {};
  const started = new Promise<string>((r) => (onStart = r));
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  let buf = '';
  proc.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    let k;
    while ((k = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, k);
      buf = buf.slice(k + 1);
      lines.push(l);
      if (/: started$/.test(l)) onStart(l);
      if (l.startsWith('queue worker: redis://')) onReady();
    }
  });
  return { proc, lines, started, ready };
}

async function stop(c: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const done = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.kill(signal);
  await done;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-queue-'));
  reference = path.join(tmp, 'reference');
  buildMetricCache(reference, seedScenes(SEEDS.start, SEEDS.end), { shardSize: 1, versions: VERSIONS, source: { seeds: [SEEDS.start, SEEDS.end] } });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('queue jobs', () => {
  it('derive their output name from their content and are harmless to repeat', async () => {
    const job: NavsimCacheShardJob = { kind: 'navsim-cache-shard', outDir: path.join(tmp, 'jobs'), task: { start: 41, end: 42, versions: [...VERSIONS] } };
    expect(jobKey(job)).toBe(jobKey({ ...job, task: { versions: [...VERSIONS], end: 42, start: 41 } })); // key order does not matter
    expect(jobKey(job)).not.toBe(jobKey({ ...job, task: { ...job.task, end: 43 } }));
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    const first = await runQueueJob(job);
    expect(first).toEqual({ file: jobDoneFile(job), reused: false });
    const arrow = path.join(job.outDir, `navsim-cache-${jobKey(job)}.arrow`);
    const bytes = fs.readFileSync(arrow);
    expect(bytes.equals(fs.readFileSync(path.join(reference, 'shard-00001.arrow')))).toBe(true);
    expect(await runQueueJob(job)).toEqual({ file: jobDoneFile(job), reused: true });
    expect(fs.readdirSync(job.outDir).sort()).toEqual([path.basename(jobDoneFile(job)), path.basename(arrow)].sort());
    // a submission whose outputs all exist returns them without asking Redis (none listens on port 1)
    expect(await runShardJobs([job], { redis: 'redis://127.0.0.1:1' })).toEqual([jobDoneFile(job)]);
    expect(fromJson<{ names: string[] }>(fs.readFileSync(jobDoneFile(job), 'utf8')).names).toEqual([JSON.parse(fs.readFileSync(path.join(reference, 'manifest.json'), 'utf8')).names[1]]);
  });

  it('keep NaN and infinities through their JSON', () => {
    expect(fromJson(toJson({ a: NaN, b: [Infinity, -Infinity, 1.5e-300] }))).toEqual({ a: NaN, b: [Infinity, -Infinity, 1.5e-300] });
  });

  it('drivekit queue worker: --redis is required and must be a redis:// URL (exit 2)', async () => {
    for (const [args, pattern] of [[[], /--redis URL is required/], [['--redis', 'http://x'], /--redis: expected a redis:\/\/ or rediss:\/\/ URL, found "http:\/\/x"/]] as const) {
      const err: string[] = [];
      expect(await main(['queue', 'worker', ...args], { out: () => {}, err: (l) => err.push(l) })).toBe(2);
      expect(err.join('\n')).toMatch(pattern);
    }
  });

  it('take their Redis connection from a redis:// URL', () => {
    expect(redisConnection('redis://u:p%40ss@10.0.0.5:6380/2')).toMatchObject({ host: '10.0.0.5', port: 6380, username: 'u', password: 'p@ss', db: 2, maxRetriesPerRequest: null });
    expect(() => redisConnection('http://x')).toThrow(/redis:\/\//);
  });
});

describe('queue with a real Redis and worker processes', () => {
  let redis: TestRedis;
  const children: Child[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stop(c, 'SIGKILL')));
    await redis?.stop();
  });

  it('a worker SIGKILLed mid-job and one restarted: the cache is byte-identical to the one-process build', async () => {
    const workers = [startWorker(redis.url), startWorker(redis.url), startWorker(redis.url)];
    children.push(...workers);
    const out = path.join(tmp, 'killed-worker');
    const done: number[] = [];
    const submitted = submitNavsimCache(out, SEEDS, { redis: redis.url, queueDir: path.join(tmp, 'q1'), shardSize: 1, versions: VERSIONS, resubmitMs: 500, pollMs: 50, onShard: (i) => done.push(i) });
    // the first worker to start a job is killed in the middle of it
    const first = await Promise.race(workers.map((w, k) => w.started.then(() => k)));
    await stop(workers[first]!, 'SIGKILL');
    const killedJob = workers[first]!.lines.find((l) => l.endsWith(': started'))!;
    // another is restarted (a clean stop, then a new process)
    const other = workers[(first + 1) % 3]!;
    await other.ready;
    await stop(other, 'SIGTERM');
    expect(other.proc.exitCode !== null || other.proc.signalCode !== null).toBe(true);
    children.push(startWorker(redis.url));
    const manifest = await submitted;
    expect(manifest.numScenes).toBe(SEEDS.end - SEEDS.start);
    expect(manifest.seeds).toEqual([40, 41, 42, 43]);
    expect(done.slice().sort()).toEqual([0, 1, 2, 3]);
    expect(filesOf(out)).toEqual(filesOf(reference));
    // the killed worker's job was finished by someone else
    const id = killedJob.split(' ')[1]!;
    const finishers = children.filter((c) => c !== workers[first]).flatMap((c) => c.lines).filter((l) => l.startsWith(`job ${id} `) && l.includes(': done'));
    expect(finishers.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('Redis killed and restarted during a run: the cache is byte-identical to the one-process build', async () => {
    const workers = [startWorker(redis.url), startWorker(redis.url)];
    children.push(...workers);
    const out = path.join(tmp, 'killed-redis');
    let restarted: Promise<void> | null = null;
    const manifest = await submitNavsimCache(out, SEEDS, {
      redis: redis.url,
      queueDir: path.join(tmp, 'q2'),
      shardSize: 1,
      versions: VERSIONS,
      resubmitMs: 300,
      pollMs: 50,
      onShard: (_i, n) => {
        // after the first shard, Redis dies (losing every job: no persistence) and comes back
        if (n === 1) restarted = redis.kill().then(() => new Promise((r) => setTimeout(r, 300))).then(() => redis.restart());
      },
    });
    await restarted;
    expect(restarted).not.toBeNull();
    expect(manifest.seeds).toEqual([40, 41, 42, 43]);
    expect(filesOf(out)).toEqual(filesOf(reference));
  }, 60_000);
});

describe('navsim eval and env evaluate through the queue', () => {
  let redis: TestRedis;
  let worker: QueueWorkerHandle;
  beforeAll(async () => {
    redis = await startRedis();
    worker = startQueueWorker({ redis: redis.url, concurrency: 2 });
  });
  afterAll(async () => {
    await worker?.close();
    await redis?.stop();
  });

  /** `drivekit ...`'s JSON line, less the wall time. */
  async function cli(args: string[]): Promise<Record<string, unknown>> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err.filter((l) => !l.startsWith('tfjs backend'))).toEqual([]);
    expect(code).toBe(0);
    const { seconds: _s, episodes_per_second: _e, steps_per_second: _p, ...rest } = JSON.parse(out.at(-1)!);
    return rest;
  }

  it('navsim eval --queue prints what one process prints (but the time), and writes the same per-scene CSV', async () => {
    const args = ['navsim', 'eval', '--baseline', 'cv', '--seeds', `${SEEDS.start}:${SEEDS.end}`, '--version', 'v1.1', '--cache', reference, '--json', '--quiet'];
    const one = await cli([...args, '--workers', '1', '--out', path.join(tmp, 'one.csv')]);
    const queued = await cli([...args, '--queue', redis.url, '--queue-dir', path.join(tmp, 'q3'), '--shard-size', '2', '--out', path.join(tmp, 'queued.csv')]);
    expect(queued).toEqual(one);
    const csv = fs.readFileSync(path.join(tmp, 'one.csv'), 'utf8');
    expect(csv.split('\n')).toHaveLength(1 + 4 + 1 + 1); // header, 4 scenes, average, final newline
    expect(fs.readFileSync(path.join(tmp, 'queued.csv'), 'utf8')).toBe(csv);
    expect(one).toMatchObject({ agent: 'cv', n: 4 });
    expect(fs.readdirSync(path.join(tmp, 'q3')).filter((f) => f.startsWith('navsim-eval-'))).toHaveLength(2);
  }, 60_000);

  it('env evaluate --queue prints what one thread prints (but the timings)', async () => {
    await init({ backend: 'wasm' });
    const dir = path.join(tmp, 'policy');
    const p = new ActorCriticPolicy({ obsDim: 259, actionType: 'box', actionDim: 2, hidden: [8], seed: 3 });
    await p.save(dir);
    p.dispose();
    const args = ['env', 'evaluate', '--policy', dir, '--seeds', '3:7', '--runs', '2', '--map', '3', '--horizon', '30', '--json', '--quiet'];
    const one = await cli([...args, '--workers', '1']);
    const queued = await cli([...args, '--queue', redis.url, '--queue-dir', path.join(tmp, 'q4'), '--shard-size', '2']);
    expect(queued).toEqual(one);
    expect(one).toMatchObject({ episodes: 8, runs: 2 });
  }, 90_000);
});
