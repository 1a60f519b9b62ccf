/** `drivekit info` through the real bin script and the CommonJS build (npm test builds first). */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'drivekit.cjs');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

function drivekit(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cjs', 'cli', 'main.js'))) throw new Error('dist/cjs is missing: run `npm run build` first (npm test does).');
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DRIVEKIT_BACKEND: '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('drivekit info', () => {
  it('--json prints name, version, the chosen backend (wasm here) and availability', async () => {
    const r = await drivekit(['info', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(info)).toEqual(['name', 'version', 'backend', 'backends']);
    expect(info.name).toBe('drivekit');
    expect(info.version).toBe(PKG.version);
    expect(info.backend).toBe('wasm');
    expect(Object.keys(info.backends).sort()).toEqual(['cpu', 'tensorflow', 'wasm', 'webgpu']);
    expect(info.backends.wasm).toBe(true);
    expect(info.backends.cpu).toBe(true);
    for (const v of Object.values(info.backends)) expect(typeof v).toBe('boolean');
  });

  it('honours --backend and DRIVEKIT_BACKEND, and prints a readable summary without --json', async () => {
    const cpu = await drivekit(['info', '--json', '--backend', 'cpu']);
    expect(JSON.parse(cpu.stdout.trim().split('\n').at(-1)!).backend).toBe('cpu');
    const env = await drivekit(['info', '--json'], { DRIVEKIT_BACKEND: 'cpu' });
    expect(JSON.parse(env.stdout.trim().split('\n').at(-1)!).backend).toBe('cpu');
    const text = await drivekit(['info']);
    expect(text.stdout).toContain(`drivekit ${PKG.version}`);
    expect(text.stdout).toContain('backend: wasm');
    expect(text.stdout).toMatch(/available: wasm=yes cpu=yes webgpu=(yes|no) tensorflow=(yes|no)/);
  });

  it('fails with the install hint for a missing backend', async () => {
    const resolvable = (m: string) => {
      try {
        require.resolve(m, { paths: [ROOT] });
        return true;
      } catch {
        return false;
      }
    };
    const candidates = [
      { name: 'tensorflow', present: resolvable('@tensorflow/tfjs-node') || resolvable('@tensorflow/tfjs-node-gpu'), hint: 'npm install @tensorflow/tfjs-node' },
      { name: 'webgpu', present: resolvable('webgpu'), hint: 'npm install webgpu @tensorflow/tfjs-backend-webgpu' },
    ];
    const missing = candidates.find((c) => !c.present);
    expect(missing, 'this test needs one optional backend to be absent (neither is installed here)').toBeDefined();
    const r = await drivekit(['info', '--backend', missing!.name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Backend '${missing!.name}' is not available`);
    expect(r.stderr).toContain(missing!.hint);
  });
});
