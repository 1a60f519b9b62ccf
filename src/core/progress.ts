/**
 * Progress of long loops (training iterations, rollouts, scoring). On a TTY it draws a
 * `cli-progress` bar; otherwise (CI logs, pipes, notebooks) it prints a plain line every few
 * seconds and a final one. It never throws because of where it runs, and `silent` prints nothing.
 * Every update is also offered to an `onEvent` callback, so callers can forward progress elsewhere.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressEvent {
  label: string;
  done: number;
  total: number;
  /** Seconds since start. */
  elapsed: number;
  /** Items per second since start. */
  rate: number;
  /** Estimated seconds left (NaN before the first item). */
  eta: number;
  /** Extra values shown beside the counts (e.g. `{loss: 0.12}`). */
  extra: Record<string, number | string>;
  finished: boolean;
}

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'silent';

export interface ProgressOptions {
  total: number;
  label?: string;
  /** `auto` (default): bar on a TTY, plain lines elsewhere. */
  mode?: ProgressMode;
  /** Shorthand for `mode: 'silent'`. */
  silent?: boolean;
  /** Where the bar / lines go (default `process.stderr`). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain mode: at most one line per this many milliseconds (default 5000). */
  intervalMs?: number;
  /** Called on every update and at the end. */
  onEvent?: (e: ProgressEvent) => void;
  /** Clock in milliseconds (tests inject one). */
  now?: () => number;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function fmtExtra(extra: Record<string, number | string>): string {
  return Object.entries(extra)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`)
    .join(' ');
}

/** A progress reporter; create with `progress({total, label})`, call `update`/`tick`, then `stop()`. */
export class Progress {
  private currentMode: Exclude<ProgressMode, 'auto'>;
  private done = 0;
  private extra: Record<string, number | string> = {};
  private readonly start: number;
  private lastLine = -Infinity;
  private bar: SingleBar | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(private readonly options: ProgressOptions) {
    if (!Number.isFinite(options.total) || options.total < 0) throw new Error(`Invalid progress total ${options.total}. Should be a finite number >= 0.`);
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.stream = options.stream ?? process.stderr;
    const requested = options.silent ? 'silent' : (options.mode ?? 'auto');
    this.currentMode = requested === 'auto' ? (this.stream.isTTY ? 'bar' : 'plain') : requested;
    if (this.currentMode === 'bar') {
      try {
        this.bar = new SingleBar({
          format: `${this.label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | eta {eta_formatted} {extra}`,
          stream: this.stream as NodeJS.WritableStream,
          hideCursor: false,
          clearOnComplete: false,
          etaBuffer: 50,
          noTTYOutput: !this.stream.isTTY,
        });
        this.bar.start(options.total, 0, { rate: '0', extra: '' });
      } catch {
        // A stream the bar cannot drive (no cursor control): fall back to plain lines.
        this.bar = null;
        this.currentMode = 'plain';
      }
    }
  }

  /** What is drawn: `bar`, `plain` lines, or nothing (`silent`). */
  get mode(): Exclude<ProgressMode, 'auto'> {
    return this.currentMode;
  }

  get label(): string {
    return this.options.label ?? 'progress';
  }

  /** The current state as an event. */
  event(): ProgressEvent {
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const total = this.options.total;
    const eta = this.done > 0 && rate > 0 ? (total - this.done) / rate : NaN;
    return { label: this.label, done: this.done, total, elapsed, rate, eta, extra: { ...this.extra }, finished: this.stopped };
  }

  /** Sets the number of finished items (and optional extra values shown beside them). */
  update(done: number, extra?: Record<string, number | string>): void {
    if (this.stopped) return;
    this.done = Math.min(Math.max(done, 0), this.options.total);
    if (extra) this.extra = { ...this.extra, ...extra };
    this.emit(false);
  }

  /** Adds `n` finished items. */
  tick(n = 1, extra?: Record<string, number | string>): void {
    this.update(this.done + n, extra);
  }

  /** Final update and line; further calls are ignored. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.emit(true);
    if (this.bar) {
      try {
        this.bar.stop();
      } catch {
        /* never fail the caller's loop because of the display */
      }
    }
  }

  /** The plain-mode line for the current state. */
  line(): string {
    const e = this.event();
    const pct = e.total > 0 ? ((100 * e.done) / e.total).toFixed(1) : '100.0';
    const parts = [`${e.label}: ${e.done}/${e.total} (${pct}%)`, `${Number(e.rate.toPrecision(3))}/s`, `elapsed ${fmtDuration(e.elapsed)}`];
    if (!e.finished) parts.push(`eta ${fmtDuration(e.eta)}`);
    const extra = fmtExtra(e.extra);
    if (extra) parts.push(extra);
    return parts.join(' | ');
  }

  private emit(final: boolean): void {
    const ev = this.event();
    try {
      this.options.onEvent?.(ev);
    } catch {
      /* a failing listener must not stop training */
    }
    if (this.mode === 'bar' && this.bar) {
      try {
        this.bar.update(this.done, { rate: Number(ev.rate.toPrecision(3)).toString(), extra: fmtExtra(this.extra) });
      } catch {
        /* display only */
      }
    } else if (this.mode === 'plain') {
      const t = this.now();
      const interval = this.options.intervalMs ?? 5000;
      if (final || t - this.lastLine >= interval) {
        this.lastLine = t;
        try {
          this.stream.write(this.line() + '\n');
        } catch {
          /* closed stream: nothing to report to */
        }
      }
    }
  }
}

/** Shorthand for `new Progress(options)`. */
export function progress(options: ProgressOptions): Progress {
  return new Progress(options);
}
