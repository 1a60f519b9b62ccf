/**
 * The Redis transport under BullMQ. BullMQ 6 leaves its Redis driver to the application (`ioredis`,
 * node-redis or Bun's client are optional peers, and none is installed with drivekit); it ships an
 * adapter for Bun's minimal client (`createBunRedisClient`: `send(command, args)`, `connect`,
 * `close`, `duplicate`, `onconnect` / `onclose`), which does everything else (Lua scripts,
 * transactions, reply shapes, reconnecting with backoff). This file is that minimal client for
 * Node: RESP2 over one TCP (or TLS) socket, commands pipelined and answered in order.
 * `useRespClient()` makes BullMQ build every connection with it.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { RedisConnection, createBunRedisClient } from 'bullmq';

export interface RespClientOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
}

/** A Redis error reply. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

type Reply = string | number | null | Error | Reply[];

/** Parses one RESP2 value of `buf` at `at`; undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, at: number): { value: Reply; next: number } | undefined {
  if (at >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = buf[at];
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, next };
    case 0x2d: // -
      return { value: new RedisReplyError(line), next };
    case 0x3a: // :
      return { value: Number(line), next };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), next: next + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const out: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return undefined;
        out.push(r.value);
        p = r.next;
      }
      return { value: out, next: p };
    }
    default:
      throw new Error(`Redis protocol error: unexpected reply type ${JSON.stringify(String.fromCharCode(type ?? 0))}`);
  }
}

function encode(command: string, args: readonly (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length + 1}\r\n$${Buffer.byteLength(command)}\r\n${command}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Pending {
  resolve: (v: any) => void;
  reject: (e: Error) => void;
}

/** A minimal Redis client with the surface of Bun's `RedisClient` that BullMQ's adapter uses. */
export class RespClient {
  connected = false;
  onconnect: ((...args: any[]) => void) | null = null;
  onclose: ((...args: any[]) => void) | null = null;
  onerror: ((...args: any[]) => void) | null = null;
  private socket: net.Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];

  constructor(readonly options: RespClientOptions = {}) {}

  get url(): string {
    return `redis://${this.options.host ?? '127.0.0.1'}:${this.options.port ?? 6379}`;
  }

  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const host = this.options.host ?? '127.0.0.1';
      const port = this.options.port ?? 6379;
      const socket = this.options.tls ? tls.connect({ host, port, servername: host, ...this.options.tls }) : net.connect({ host, port });
      this.socket = socket;
      socket.setNoDelay(true);
      let up = false;
      socket.on('data', (d: Buffer) => this.onData(d));
      socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
        void (async () => {
          try {
            if (this.options.password !== undefined) await this.raw('AUTH', this.options.username ? [this.options.username, this.options.password] : [this.options.password]);
            if (this.options.db) await this.raw('SELECT', [String(this.options.db)]);
          } catch (e) {
            socket.destroy();
            reject(e as Error);
            return;
          }
          up = true;
          this.connected = true;
          this.onconnect?.();
          resolve();
        })();
      });
      socket.on('error', (e) => {
        if (!up) reject(e);
        else this.onerror?.(e);
      });
      socket.once('close', () => {
        const wasUp = this.connected;
        this.connected = false;
        this.socket = null;
        this.buf = Buffer.alloc(0);
        for (const p of this.pending.splice(0)) p.reject(new Error('Connection closed'));
        if (!up) reject(new Error('Connection closed'));
        if (wasUp) this.onclose?.(new Error('Connection closed'));
      });
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let at = 0;
    for (;;) {
      let r;
      try {
        r = parse(this.buf, at);
      } catch (e) {
        this.onerror?.(e as Error);
        this.socket?.destroy();
        return;
      }
      if (!r) break;
      at = r.next;
      const p = this.pending.shift();
      if (!p) continue;
      if (r.value instanceof RedisReplyError) p.reject(r.value);
      else p.resolve(r.value);
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
  }

  private raw(command: string, args: readonly (string | Buffer)[]): Promise<any> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new Error('Connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      socket.write(encode(command, args));
    });
  }

  /** Sends one command; resolves with its reply (bulk strings as UTF-8 strings, as ioredis does). */
  send<T = any>(command: string, args: readonly (string | Buffer)[]): Promise<T> {
    if (!this.connected) return Promise.reject(new Error('Connection closed'));
    return this.raw(command, args) as Promise<T>;
  }

  close(): void {
    this.socket?.destroy();
  }

  /** A new, unconnected client for the same server. */
  async duplicate(): Promise<this> {
    return new RespClient(this.options) as this;
  }

  get(key: string): Promise<string | null> {
    return this.send('GET', [key]);
  }

  smembers(key: string): Promise<unknown[]> {
    return this.send('SMEMBERS', [key]);
  }

  incr(key: string): Promise<number> {
    return this.send('INCR', [key]);
  }
}

let installed = false;

/** Makes BullMQ connect with `RespClient` (process-wide; idempotent). */
export function useRespClient(): void {
  if (installed) return;
  installed = true;
  RedisConnection.clientFactory = (opts) => {
    const o = opts as RespClientOptions;
    return createBunRedisClient(new RespClient({ host: o.host, port: o.port, username: o.username, password: o.password, db: o.db, tls: o.tls }));
  };
}
