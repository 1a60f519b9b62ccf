/**
 * What the experiment scripts (`experiment-metadrive.ts`, `experiment-gail.ts`) share: flags,
 * the commit, stages run as `drivekit` commands in this process with their wall times, policy
 * copies, charts and the evaluation table.
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { main } from '../src/cli/main.js';
import type { ChartSpec } from '../src/viz/plot.js';
import { writeChart as writeChartFiles } from '../src/viz/vega-node.js';

/** `--name value` from argv, else `fallback`. */
export function flagReader(argv: readonly string[]): (name: string, fallback: string) => string {
  return (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1]! : fallback;
  };
}

export function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export interface Stage {
  name: string;
  command: string;
  seconds: number;
  /** Taken from an earlier run's record (`--reuse`) instead of run again. */
  reused?: boolean;
}

/**
 * Runs `drivekit ARGS` in this process as a named stage; returns its last output line. With a
 * `recordDir`, each stage's command, output and wall time are written to `recordDir/NAME.stage.json`;
 * with `reuse` as well, a stage whose record holds the same command is not run again (its recorded
 * output and time are used and marked as reused).
 */
export class Stages {
  readonly list: Stage[] = [];

  constructor(private readonly recordDir?: string, private readonly reuse = false) {}

  async run(name: string, args: string[], opts: { fresh?: string } = {}): Promise<string> {
    const command = `drivekit ${args.join(' ')}`;
    const record = this.recordDir ? path.join(this.recordDir, `${name}.stage.json`) : null;
    if (record && this.reuse && fs.existsSync(record)) {
      const saved = JSON.parse(fs.readFileSync(record, 'utf8')) as { command: string; seconds: number; output: string };
      if (saved.command === command) {
        this.list.push({ name, command, seconds: saved.seconds, reused: true });
        console.log(`[${name}] reused (${saved.seconds.toFixed(0)} s when it ran)`);
        return saved.output;
      }
    }
    if (opts.fresh) fs.rmSync(opts.fresh, { recursive: true, force: true });
    const lines: string[] = [];
    const t0 = performance.now();
    const code = await main(args, { out: (l) => lines.push(l), err: (l) => process.stderr.write(l + '\n') });
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`stage ${name} failed (exit ${code}): drivekit ${args.join(' ')}`);
    this.list.push({ name, command, seconds });
    console.log(`[${name}] ${seconds.toFixed(0)} s`);
    const output = lines.at(-1) ?? '';
    if (record) writeFileAtomicSync(record, JSON.stringify({ command, seconds, output }) + '\n');
    return output;
  }

  /** Same, parsing the last line as JSON (`--json` commands). */
  async json<T = Record<string, any>>(name: string, args: string[], opts: { fresh?: string } = {}): Promise<T> {
    return JSON.parse(await this.run(name, args, opts)) as T;
  }

  seconds(until?: string): number {
    const end = until === undefined ? this.list.length : this.list.findIndex((s) => s.name === until);
    return this.list.slice(0, end < 0 ? this.list.length : end).reduce((s, x) => s + x.seconds, 0);
  }

  /** A line saying what "(reused)" means, when a stage was reused; else empty. */
  reusedNote(): string {
    if (!this.list.some((s) => s.reused)) return '';
    return '\nStages marked (reused) ran in an earlier invocation of the same command with the same work folder, whose stage records it\nkeeps; their wall times are those runs\', and the sum above includes them.\n';
  }

  table(): string {
    return ['| stage | seconds | command |', '|---|---|---|', ...this.list.map((s) => `| ${s.name} | ${s.seconds.toFixed(0)}${s.reused ? ' (reused)' : ''} | \`${s.command}\` |`)].join('\n');
  }
}

/** Copies a policy checkpoint (and `extra` files beside it) into `dst`, emptied first unless `fresh` is false. */
export function copyPolicy(src: string, dst: string, extra: string[] = [], { fresh = true } = {}): void {
  if (fresh) fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['policy.safetensors', 'policy.json', ...extra]) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}

/** Renders a vega-lite spec to `name.svg` and `name.png` under `dir`. */
export async function writeChart(dir: string, name: string, spec: ChartSpec): Promise<void> {
  await writeChartFiles(path.join(dir, name), spec);
}

export const EVAL_METRICS = ['success_rate', 'crash_rate', 'out_of_road_rate', 'route_completion', 'steering_jerk'] as const;
export type EvalJson = Record<string, unknown> & { spread?: Record<string, { std: number; min: number; max: number }> };

/** A markdown table of `env evaluate --json` results: mean ± standard deviation over runs. */
export function evalTable(rows: readonly [label: string, result: EvalJson][], first = 'policy'): string {
  const cell = (e: EvalJson, k: string) => {
    const s = e.spread?.[k]?.std;
    return `${Number(e[k]).toFixed(3)}${s !== undefined ? ` ± ${s.toFixed(3)}` : ''}`;
  };
  return [
    `| ${first} | ${EVAL_METRICS.join(' | ')} |`,
    `|---|${EVAL_METRICS.map(() => '---').join('|')}|`,
    ...rows.map(([label, e]) => `| ${label} | ${EVAL_METRICS.map((k) => cell(e, k)).join(' | ')} |`),
  ].join('\n');
}
