import { availableBackends, init } from '../core/backend.js';
import { VERSION } from '../core/version.js';
import type { CliIO } from './main.js';
import { parseArgs } from './args.js';

export async function infoCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args, { json: 'boolean', backend: 'string' }, 'drivekit info [--json] [--backend auto|wasm|cpu|webgpu|tensorflow]');
  const backend = await init({ backend: (opts.backend as any) ?? 'auto' });
  const backends = await availableBackends();
  const info = { name: 'drivekit', version: VERSION, backend, backends };
  if (opts.json) io.out(JSON.stringify(info));
  else {
    io.out(`drivekit ${VERSION}`);
    io.out(`backend: ${backend}`);
    io.out(`available: ${Object.entries(backends).map(([k, v]) => `${k}=${v ? 'yes' : 'no'}`).join(' ')}`);
  }
  return 0;
}
