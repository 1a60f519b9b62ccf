import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DrivekitError, InputError } from '../../src/core/errors.js';
import { WorkerPool, defaultWorkers, deserializeError, parallelMap, serializeError } from '../../src/core/worker-pool.js';
import { checked, square } from './worker-pool-fixture.js';

const FIXTURE = path.join(__dirname, 'worker-pool-fixture.ts');

describe('parallelMap', () => {
  it('returns results in task order whatever finishes first, equal to one thread', async () => {
    // early tasks wait longest, so workers finish them last
    const tasks = Array.from({ length: 7 }, (_, i) => ({ x: i - 3, ms: (7 - i) * 40 }));
    const order: number[] = [];
    const par = await parallelMap(tasks, { workers: 3, module: FIXTURE, handler: 'square', local: square, onResult: (_r, i) => order.push(i) });
    const one = await parallelMap(tasks, { workers: 1, module: FIXTURE, handler: 'square', local: square });
    expect(par).toEqual(one);
    expect(par.map((r) => r.y)).toEqual([9, 4, 1, 0, 1, 4, 9]);
    expect(order.slice().sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(order).not.toEqual([0, 1, 2, 3, 4, 5, 6]); // they did finish out of order
  }, 30_000);

  it('in a process with nothing else to do: more tasks than threads all run, then the process exits', async () => {
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker-pool-child.ts')], { cwd: path.join(__dirname, '../..'), timeout: 60_000 }, (_err, stdout) => resolve({ code: child.exitCode, stdout }));
    });
    expect(out).toEqual({ code: 0, stdout: '[0,1,4,9,16]\n[25,36,49] closed\n' });
  }, 60_000);

  it('a handler error comes back as itself, with its fields', async () => {
    const err = await parallelMap([{ x: 1 }, { x: -2 }], { workers: 2, module: FIXTURE, handler: 'checked', local: checked }).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ message: 'negative', file: 'f.json', field: 'x', expected: '>= 0', found: -2 });
  }, 30_000);

  it('a worker that dies rejects with a DrivekitError naming the worker', async () => {
    const err = await parallelMap([{ x: 1, ms: 0 }, { x: 2, ms: 0 }], { workers: 2, module: FIXTURE, handler: 'square', local: square, crashCode: 70 }).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(DrivekitError);
    expect(err.field).toBe('worker');
    expect(err.message).toMatch(/exited with code 70/);
  }, 30_000);
});

describe('WorkerPool', () => {
  it('replaces a dead thread and keeps running tasks', async () => {
    const pool = new WorkerPool(1);
    try {
      pool.crashNextTask(9);
      await expect(pool.run(FIXTURE, 'square', { x: 2, ms: 0 })).rejects.toMatchObject({ field: 'worker' });
      expect(await pool.run(FIXTURE, 'square', { x: 5, ms: 0 })).toEqual({ x: 5, y: 25 });
      await expect(pool.run(FIXTURE, 'nothing', {})).rejects.toThrow(/no function nothing/);
    } finally {
      await pool.close();
    }
    await expect(pool.run(FIXTURE, 'square', { x: 1, ms: 0 })).rejects.toThrow(/closed/);
  }, 30_000);

  it('depth, thread affinity, extra arguments and transferred results; without respawn a dead thread is dropped', async () => {
    expect(() => new WorkerPool(1, { depth: 0 })).toThrow(ConfigError);
    const pool = new WorkerPool(2, { depth: 2, respawn: false, keepAlive: false });
    try {
      expect(pool.depth).toBe(2);
      // a thread named by the call runs it, whatever the load; extra arguments follow the task
      const on0 = await Promise.all([0, 1, 2].map(() => pool.run<{ thread: number; data: Float64Array }>(FIXTURE, 'threadAndBuffer', { n: 3 }, { thread: 0, args: [2] })));
      expect(new Set(on0.map((r) => r.thread)).size).toBe(1);
      expect(Array.from(on0[0]!.data)).toEqual([0, 2, 4]);
      const on1 = await pool.run<{ thread: number }>(FIXTURE, 'threadAndBuffer', { n: 1 }, { thread: 1 });
      expect(on1.thread).not.toBe(on0[0]!.thread);
      // six waiting tasks on two threads of depth 2: each thread holds two at once, never more
      const peaks = await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool.run<number>(FIXTURE, 'held', { ms: 100 })));
      expect(Math.max(...peaks)).toBe(2);
      // thread 1 dies: its call rejects, it is not replaced, calls naming it reject at once
      pool.crashThread(1, 5);
      await expect(pool.run(FIXTURE, 'square', { x: 1, ms: 0 }, { thread: 1 })).rejects.toMatchObject({ field: 'worker' });
      expect(pool.liveThreads).toBe(1);
      expect(pool.isAlive(1)).toBe(false);
      await expect(pool.run(FIXTURE, 'square', { x: 1, ms: 0 }, { thread: 1 })).rejects.toThrow(/worker 1 is not running/);
      expect(await pool.run(FIXTURE, 'square', { x: 3, ms: 0 })).toEqual({ x: 3, y: 9 });
      // the last one dies: its tasks and the waiting ones reject, later calls reject at once
      pool.crashNextTask(6);
      const lost = [1, 2, 3].map((x) => pool.run(FIXTURE, 'square', { x, ms: 50 }).then(() => 'ok', (e: DrivekitError) => String(e.found)));
      expect(await Promise.all(lost)).toEqual(['exited with code 6', 'exited with code 6', 'none']);
      await expect(pool.run(FIXTURE, 'square', { x: 1, ms: 0 })).rejects.toThrow(/no worker left/);
    } finally {
      await pool.close();
    }
  }, 30_000);

  it('errors survive the thread boundary as plain data', () => {
    const e = deserializeError(serializeError(new InputError('bad', { field: 'f', expected: 1, found: 2 })));
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ message: 'bad', field: 'f', expected: 1, found: 2 });
    expect(defaultWorkers()).toBeGreaterThanOrEqual(1);
  });
});
