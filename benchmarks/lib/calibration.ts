/**
 * Helpers shared by the benchmark scripts (this folder is not a benchmark: `npm run bench` runs
 * `benchmarks/*.ts` only).
 */

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
