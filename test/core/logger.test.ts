import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsoleSink, CsvSink, JsonlSink, Logger, createLogger, formatLogValue, readJsonl } from '../../src/core/logger.js';
import { Progress, progress, type ProgressEvent } from '../../src/core/progress.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-log-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Logger', () => {
  it('writes JSONL lines with the step, sorted keys, means and non-finite values as strings', () => {
    const file = path.join(tmp, 'a', 'progress.jsonl');
    const log = new Logger([new JsonlSink(file)]);
    log.record('train/loss', 0.5);
    log.recordMean('train/approx_kl', 0.1);
    log.recordMean('train/approx_kl', 0.3);
    log.record('rollout/ep_rew_mean', 12);
    log.record('time/fps', Infinity);
    log.record('info/phase', 'warmup');
    expect(log.dump(100)).toEqual({ 'info/phase': 'warmup', 'rollout/ep_rew_mean': 12, 'time/fps': Infinity, 'train/approx_kl': 0.2, 'train/loss': 0.5 });
    log.record('train/loss', 0.25);
    log.record('train/loss', NaN); // last call wins
    log.dump(200);
    log.dump(300); // nothing recorded: no line
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toEqual([
      '{"step":100,"info/phase":"warmup","rollout/ep_rew_mean":12,"time/fps":"Infinity","train/approx_kl":0.2,"train/loss":0.5}',
      '{"step":200,"train/loss":"NaN"}',
    ]);
    expect(readJsonl(file)[1]).toEqual({ step: 200, 'train/loss': 'NaN' });
  });

  it('writes CSV, extending the header when a key first appears later', () => {
    const file = path.join(tmp, 'progress.csv');
    const log = new Logger([new CsvSink(file)]);
    log.record('train/loss', 1.5);
    log.record('time/fps', 100);
    log.dump(1);
    log.record('train/loss', 1.25);
    log.record('eval/note', 'a,"b"');
    log.dump(2);
    log.record('time/fps', 90);
    log.dump(3);
    expect(fs.readFileSync(file, 'utf8')).toBe(
      ['step,time/fps,train/loss,eval/note', '1,100,1.5,', '2,,1.25,"a,""b"""', '3,90,,', ''].join('\n'),
    );
    // Resuming appends under the existing header.
    const again = new Logger([new CsvSink(file, { append: true })]);
    again.record('train/loss', 1);
    again.dump(4);
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)).toBe('4,,1,');
  });

  it('prints a console table grouped by namespace', () => {
    const out: string[] = [];
    const log = new Logger([new ConsoleSink((t) => out.push(t))]);
    log.record('rollout/ep_rew_mean', 12.34567);
    log.record('rollout/ep_len_mean', 200);
    log.record('time/fps', 512);
    log.dump(2048);
    expect(out[0]).toBe(
      [
        '---------------------------',
        '| step            | 2048  |',
        '| rollout/        |       |',
        '|     ep_len_mean | 200   |',
        '|     ep_rew_mean | 12.35 |',
        '| time/           |       |',
        '|     fps         | 512   |',
        '---------------------------',
      ].join('\n'),
    );
    expect([formatLogValue(1.5e-5), formatLogValue(-0.000123456), formatLogValue(2.5e7 + 0.5), formatLogValue('x')]).toEqual(['1.500e-5', '-1.235e-4', '2.500e+7', 'x']);
  });

  it('rejects malformed keys and values with messages saying what to change', () => {
    const log = new Logger();
    expect(() => log.record('train loss', 1)).toThrow(`Invalid log key "train loss". Should look like 'train/loss'`);
    expect(() => log.record('train/', 1)).toThrow('Invalid log key "train/"');
    expect(() => log.record('step', 1)).toThrow('reserved');
    expect(() => log.record('a/b', {} as any)).toThrow('expected a number or string, found object');
  });

  it('createLogger writes progress.jsonl and progress.csv in a directory', () => {
    const dir = path.join(tmp, 'run');
    const printed: string[] = [];
    const log = createLogger({ dir, out: (t) => printed.push(t) });
    log.record('train/loss', 2);
    log.dump(10);
    expect(readJsonl(path.join(dir, 'progress.jsonl'))).toEqual([{ step: 10, 'train/loss': 2 }]);
    expect(fs.readFileSync(path.join(dir, 'progress.csv'), 'utf8')).toBe('step,train/loss\n10,2\n');
    expect(printed.length).toBe(1);
    expect(() => createLogger({ formats: ['csv'] })).toThrow("format 'csv' needs a 'dir' option");
  });
});

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('Progress', () => {
  it('prints a plain line at most every intervalMs when not a TTY, and a final line', () => {
    let t = 0;
    const stream = new Capture(false);
    const events: ProgressEvent[] = [];
    const p = progress({ total: 100, label: 'train', stream, intervalMs: 5000, now: () => t, onEvent: (e) => events.push(e) });
    expect(p.mode).toBe('plain');
    for (let i = 1; i <= 100; i++) {
      t += 100; // 10 items per second
      p.tick(1, { loss: 1 / i });
    }
    p.stop();
    p.stop();
    const lines = stream.text.trimEnd().split('\n');
    // first update, then every 5 s (50 items), then the final line
    expect(lines).toEqual([
      'train: 1/100 (1.0%) | 10/s | elapsed 0s | eta 10s | loss=1',
      'train: 51/100 (51.0%) | 10/s | elapsed 5s | eta 5s | loss=0.01961',
      'train: 100/100 (100.0%) | 10/s | elapsed 10s | loss=0.01',
    ]);
    expect(events.length).toBe(101);
    expect(events.at(-1)).toMatchObject({ done: 100, total: 100, finished: true, elapsed: 10, rate: 10 });
  });

  it('draws a cli-progress bar on a TTY and prints nothing when silent', () => {
    const tty = new Capture(true);
    (tty as any).cursorTo = () => true;
    (tty as any).clearLine = () => true;
    (tty as any).moveCursor = () => true;
    (tty as any).columns = 120;
    const bar = new Progress({ total: 10, label: 'rollout', stream: tty });
    expect(bar.mode).toBe('bar');
    bar.update(10);
    bar.stop();
    expect(tty.text).toContain('rollout [');
    expect(tty.text).toContain('10/10');
    const quiet = new Capture(false);
    const s = progress({ total: 5, silent: true, stream: quiet });
    s.tick(5);
    s.stop();
    expect(s.mode).toBe('silent');
    expect(quiet.text).toBe('');
  });

  it('never lets a broken listener or stream stop the loop', () => {
    const broken = new Capture(false);
    broken.write = () => {
      throw new Error('EPIPE');
    };
    const p = progress({
      total: 3,
      stream: broken,
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect(() => {
      p.tick();
      p.stop();
    }).not.toThrow();
    expect(() => progress({ total: -1 })).toThrow('Invalid progress total -1');
  });
});
