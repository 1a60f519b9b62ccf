// A process whose only pending work is parallelMap's threads (no test runner keeping the event
// loop alive): more tasks than threads must still all run and the process must then exit by itself;
// a pool whose idle threads do not keep the process alive (keepAlive: false) must still run its
// tasks and finish closing (its threads' exit awaited) before the process ends.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool, parallelMap } from '../../src/core/worker-pool.js';
import { square } from './worker-pool-fixture.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker-pool-fixture.ts');
const tasks = [0, 1, 2, 3, 4].map((x) => ({ x, ms: 30 }));
const r = await parallelMap(tasks, { workers: 2, module: fixture, handler: 'square', local: square });
process.stdout.write(JSON.stringify(r.map((o) => o.y)) + '\n');
const idle = new WorkerPool(2, { depth: 2, keepAlive: false, respawn: false });
const ys = await Promise.all([5, 6, 7].map((x) => idle.run<{ y: number }>(fixture, 'square', { x, ms: 30 })));
await idle.close();
process.stdout.write(JSON.stringify(ys.map((o) => o.y)) + ' closed\n');
