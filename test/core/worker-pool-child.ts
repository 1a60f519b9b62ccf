// A process whose only pending work is parallelMap's threads (no test runner keeping the event
// loop alive): more tasks than threads must still all run and the process must then exit by itself.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parallelMap } from '../../src/core/worker-pool.js';
import { square } from './worker-pool-fixture.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker-pool-fixture.ts');
const tasks = [0, 1, 2, 3, 4].map((x) => ({ x, ms: 30 }));
const r = await parallelMap(tasks, { workers: 2, module: fixture, handler: 'square', local: square });
process.stdout.write(JSON.stringify(r.map((o) => o.y)) + '\n');
