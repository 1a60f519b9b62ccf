/**
 * Helpers shared by the benchmark scripts (this folder is not a benchmark: `npm run bench` runs
 * `benchmarks/*.ts` only).
 */

import * as os from 'node:os';

let sink = 0;

/**
 * A fixed arithmetic loop, 2e6 multiply-adds (~1.5-2.5 ms on a free core of a current x86
 * server): timed between rounds, its best and median show how disturbed a shared machine was.
 */
export function calibrationMs(): number {
  const t = performance.now();
  let s = 0;
  for (let i = 0; i < 2e6; i++) s += i * 0.5;
  sink += s;
  return performance.now() - t;
}

/** Keeps the loop's result observable (so it is not optimised away). */
export function calibrationSink(): number {
  return sink;
}

/** Median of a non-empty list (upper median for even lengths). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export interface MachineRecord {
  node: string;
  cpus: number;
  cpuModel: string;
  loadAverage1m: { before: number; after: number };
  calibrationMs2e6MulAdd: { best: number; median: number };
}

/** What a benchmark's JSON records about the machine and how busy it was. */
export function machineRecord(loadBefore: number, loadAfter: number, calib: readonly number[]): MachineRecord {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverage1m: { before: loadBefore, after: loadAfter },
    calibrationMs2e6MulAdd: { best: Math.min(...calib), median: median(calib) },
  };
}

/** The machine line printed under a benchmark's table; `passRule` says how pass is judged. */
export function machineLine(m: MachineRecord, passRule: string): string {
  const c = m.calibrationMs2e6MulAdd;
  return (
    `node ${m.node}, ${m.cpus} cpus (${m.cpuModel}), load ${m.loadAverage1m.before.toFixed(1)} -> ${m.loadAverage1m.after.toFixed(1)}; ` +
    `calibration loop best ${c.best.toFixed(2)} ms, median ${c.median.toFixed(2)} ms (median/best ${(c.median / c.best).toFixed(1)}x = how disturbed the runs were). ${passRule}`
  );
}
