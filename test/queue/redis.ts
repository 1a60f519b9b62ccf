/**
 * A throwaway Redis for the queue tests: `redis-server` (Debian package `redis-server`; `.ci/run`
 * installs it when missing) on a free 127.0.0.1 port, no persistence, its own temporary folder.
 * `restart()` brings it back on the same port (the kill-and-restart test); `stop()` removes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestRedis {
  url: string;
  port: number;
  process: ChildProcess;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the server answers PING on `port`. */
async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`redis-server on 127.0.0.1:${port} did not answer PING in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (p: ChildProcess) => new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', ''];
  const launch = async () => {
    const p = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const failed = new Promise<never>((_, reject) =>
      p.once('error', (e) => reject(new Error(`redis-server could not start (${e.message}); install the Debian package redis-server (.ci/run does)`))),
    );
    await Promise.race([waitForPing(port), failed]);
    return p;
  };
  const r: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: await launch(),
    async kill() {
      r.process.kill('SIGKILL');
      await exited(r.process);
    },
    async restart() {
      r.process = await launch();
    },
    async stop() {
      r.process.kill('SIGKILL');
      await exited(r.process);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}
