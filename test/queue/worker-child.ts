// `drivekit ...` from the TypeScript sources, for the queue tests' worker processes
// (run as `node --import tsx test/queue/worker-child.ts queue worker --redis URL ...`).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
