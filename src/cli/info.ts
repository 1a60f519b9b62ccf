import { availableBackends, init } from '../core/backend.js';
import { VERSION } from '../core/version.js';
import type { CliIO } from './main.js';
import { backendOption, parseArgs } from './args.js';

export async function infoCommand(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(
    args,
    { json: 'boolean', backend: 'string' },
    'drivekit info [options]\n\n  package version, the tfjs backend chosen and which backends load here\n  --backend B     auto | wasm | cpu | webgpu | tensorflow (default auto: the first that loads)\n  --json          one JSON object',
  );
  const backend = await init({ backend: backendOption(opts) });
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
