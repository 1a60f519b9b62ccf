/**
 * Trial of issue #18: `ndarray` views at the public boundary vs the flat typed array + shape
 * convention, on the rollout buffer and the proposal score pool. Measures, per operation, the
 * flat code the library runs today against the same operation written over ndarray views:
 * - view creation (the cost of a view-returning accessor), per call;
 * - the rollout buffer's minibatch gather and GAE pass, through view get/set vs flat indices;
 * - one environment's trajectory out of a [T, N, D] buffer (the slicing a numpy user wants):
 *   `pick(null, i)` (no copy) then a copy into a contiguous array (what tfjs needs) vs a flat copy;
 * - tfjs tensors from a contiguous view (`view.data`) and from a strided one (copy first);
 * - per-metric results of `ProposalScorePool.score` wrapped as views, vs the scoring call itself;
 *   and what a view becomes after a worker's postMessage (structured clone).
 * Run: npx tsx benchmarks/host-arrays.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ndarray from 'ndarray';
import * as tf from '@tensorflow/tfjs';
import { init } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { buildMetricCache, seedScenes } from '../src/navsim/metric-cache.js';
import { ProposalScorePool } from '../src/navsim/score-pool.js';
import { RolloutBuffer } from '../src/rl/buffers/rollout-buffer.js';

await init({ backend: 'wasm' });

/** Median of `reps` timings of `fn` (each `inner` calls), in microseconds per call. */
function time(fn: () => unknown, inner: number, reps = 9): number {
  return pair(fn, null, inner, reps)[0];
}

/** `a` and `b` timed in alternating rounds (the load on a shared machine hits both alike): medians, microseconds per call. */
function pair(a: () => unknown, b: (() => unknown) | null, inner: number, reps = 9): [number, number] {
  const fns = b ? [a, b] : [a];
  for (const f of fns) for (let i = 0; i < inner; i++) f(); // warm-up
  const ts: number[][] = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    fns.forEach((f, k) => {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) f();
      ts[k]!.push(((performance.now() - t0) * 1000) / inner);
    });
  }
  const med = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]!;
  return [med(ts[0]!), b ? med(ts[1]!) : NaN];
}

const rows: { case: string; flat_us: number; ndarray_us: number; ratio: number }[] = [];
const row = (name: string, flat: number, nd: number) => rows.push({ case: name, flat_us: +flat.toFixed(3), ndarray_us: +nd.toFixed(3), ratio: +(nd / flat).toPrecision(3) });

// ---------------------------------------------------------------------------------------------
// rollout buffer: T = 64 steps x N = 32 envs x D = 259 (PPO on the driving env)
const T = 64, N = 32, D = 259, W = 2;
const rng = new Rng(0);
const buf = new RolloutBuffer({ nSteps: T, numEnvs: N, obsDim: D, actionWidth: W, gamma: 0.99, gaeLambda: 0.95 });
for (let t = 0; t < T; t++) {
  const obs = Float32Array.from({ length: N * D }, () => rng.normal());
  const act = Float32Array.from({ length: N * W }, () => rng.normal());
  const r = Float32Array.from({ length: N }, () => rng.normal());
  const starts = Float32Array.from({ length: N }, () => (rng.uniform() < 0.02 ? 1 : 0));
  buf.add(obs, act, r, starts, Float32Array.from({ length: N }, () => rng.normal()), Float32Array.from({ length: N }, () => rng.normal()));
}

// view creation: what an accessor `buffer.view('obs')` costs per call (the flat accessor is a field read)
let sink = 0;
row('accessor: obs as [T, N, D] (per call)', ...pair(() => (sink += buf.obs.length), () => (sink += ndarray(buf.obs, [T, N, D]).size), 100_000));

// minibatch gather, batch 256 over all T*N samples (one epoch)
const perm = Int32Array.from({ length: T * N }, (_, i) => i);
for (let i = perm.length - 1; i > 0; i--) {
  const j = rng.int(0, i + 1);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
}
// RolloutBuffer.gather written over views: storage [T*N, ...] views, a minibatch of views out
const V = {
  obs: ndarray(buf.obs, [T * N, D]),
  actions: ndarray(buf.actions, [T * N, W]),
  values: ndarray(buf.values, [T * N]),
  logProbs: ndarray(buf.logProbs, [T * N]),
  advantages: ndarray(buf.advantages, [T * N]),
  returns: ndarray(buf.returns, [T * N]),
};
function gatherViews(idx: Int32Array) {
  const m = idx.length;
  const mb = {
    obs: ndarray(new Float32Array(m * D), [m, D]),
    actions: ndarray(new Float32Array(m * W), [m, W]),
    oldValues: ndarray(new Float32Array(m), [m]),
    oldLogProbs: ndarray(new Float32Array(m), [m]),
    advantages: ndarray(new Float32Array(m), [m]),
    returns: ndarray(new Float32Array(m), [m]),
  };
  for (let r = 0; r < m; r++) {
    const k = idx[r]!;
    for (let j = 0; j < D; j++) mb.obs.set(r, j, V.obs.get(k, j));
    for (let j = 0; j < W; j++) mb.actions.set(r, j, V.actions.get(k, j));
    mb.oldValues.set(r, V.values.get(k));
    mb.oldLogProbs.set(r, V.logProbs.get(k));
    mb.advantages.set(r, V.advantages.get(k));
    mb.returns.set(r, V.returns.get(k));
  }
  return mb;
}
const epoch = (g: (i: Int32Array) => unknown) => () => {
  for (let s = 0; s < perm.length; s += 256) g(perm.subarray(s, s + 256));
};
row('RolloutBuffer.gather, one epoch of batch-256 minibatches (2048 samples)', ...pair(epoch((i) => buf.gather(i)), epoch(gatherViews), 20));

// GAE over [T, N] through views vs the buffer's flat loop
const rew = ndarray(buf.rewards, [T, N]), val = ndarray(buf.values, [T, N]), st = ndarray(buf.episodeStarts, [T, N]);
const adv = ndarray(new Float32Array(T * N), [T, N]), ret = ndarray(new Float32Array(T * N), [T, N]);
const lastV = new Float32Array(N), dones = new Float32Array(N);
function gaeViews() {
  for (let i = 0; i < N; i++) {
    let last = 0;
    for (let t = T - 1; t >= 0; t--) {
      const nnt = t === T - 1 ? 1 - dones[i]! : 1 - st.get(t + 1, i);
      const nv = t === T - 1 ? lastV[i]! : val.get(t + 1, i);
      const delta = rew.get(t, i) + 0.99 * nv * nnt - val.get(t, i);
      last = delta + 0.99 * 0.95 * nnt * last;
      adv.set(t, i, last);
      ret.set(t, i, last + val.get(t, i));
    }
  }
}
row('GAE pass over [T, N]', ...pair(() => buf.computeReturnsAndAdvantage(lastV, dones), gaeViews, 200));

// one env's trajectory [T, D] out of obs [T, N, D], contiguous (for a tensor or an Arrow column)
const envI = 7;
function trajFlat() {
  const out = new Float32Array(T * D);
  for (let t = 0; t < T; t++) out.set(buf.obs.subarray((t * N + envI) * D, (t * N + envI + 1) * D), t * D);
  return out;
}
function trajViews() {
  const v = ndarray(buf.obs, [T, N, D]).pick(null, envI); // zero-copy, strided
  const out = new Float32Array(T * D);
  let k = 0;
  for (let t = 0; t < T; t++) for (let j = 0; j < D; j++) out[k++] = v.get(t, j);
  return out;
}
row('one env trajectory [T, D], copied contiguous', ...pair(trajFlat, trajViews, 2000));
row('one env trajectory [T, D], view only (no copy)', NaN, time(() => ndarray(buf.obs, [T, N, D]).pick(null, envI), 100_000));

// tfjs: a tensor from the whole obs block (contiguous) and from the strided env slice
const before = tf.memory().numTensors;
row('tf.tensor2d from obs [T*N, D] (contiguous; wasm copies into its heap)', ...pair(() => tf.tensor2d(buf.obs, [T * N, D]).dispose(), () => {
  const v = ndarray(buf.obs, [T * N, D]);
  tf.tensor2d(v.data.subarray(v.offset, v.offset + v.size), [T * N, D]).dispose();
}, 200));
row('tf.tensor2d from one env [T, D] (strided: copy first)', ...pair(() => tf.tensor2d(trajFlat(), [T, D]).dispose(), () => tf.tensor2d(trajViews(), [T, D]).dispose(), 2000));
if (tf.memory().numTensors !== before) throw new Error('tensor leak in the benchmark');

// ---------------------------------------------------------------------------------------------
// scorer: ProposalScorePool (this thread) on a 4-scene metric cache, G proposals per call
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-host-arrays-'));
try {
  const dir = path.join(tmp, 'cache');
  buildMetricCache(dir, seedScenes(40, 44), { shardSize: 4, versions: ['v2.2'] });
  const pool = ProposalScorePool.open(dir);
  for (const G of [8, 64]) {
    const poses = new Float64Array(G * 8 * 3);
    for (let p = 0; p < G; p++) for (let k = 0; k < 8; k++) {
      poses[(p * 8 + k) * 3] = 2 * (k + 1) + rng.normal() * 0.3;
      poses[(p * 8 + k) * 3 + 1] = rng.normal() * 0.3;
      poses[(p * 8 + k) * 3 + 2] = rng.normal() * 0.03;
    }
    const res = await pool.score(1, poses, G, { version: 'v2.2' });
    const t0 = performance.now();
    const calls = Math.max(4, Math.round(400 / G));
    for (let c = 0; c < calls; c++) await pool.score(1, poses, G, { version: 'v2.2' });
    const scoreUs = ((performance.now() - t0) * 1000) / calls;
    const wrap = () => ({ score: ndarray(res.score, [G]), metrics: Object.fromEntries(Object.entries(res.metrics).map(([k, v]) => [k, ndarray(v, [G])])) });
    const wrapUs = time(wrap, 20_000);
    row(`pool.score, G = ${G}: scoring call vs wrapping its ${Object.keys(res.metrics).length + 1} columns as views`, scoreUs, wrapUs);
    // proposals in as a [G, 8, 3] view: the scorer needs the flat, contiguous Float64Array
    const pv = ndarray(poses, [G, 8, 3]);
    row(`proposal batch [G = ${G}, 8, 3] view -> flat Float64Array for the scorer (contiguous: subarray)`, NaN, time(() => pv.data.subarray(pv.offset, pv.offset + pv.size), 100_000));
  }
  await pool.close();
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

// what a view becomes across a worker boundary (postMessage = structured clone)
const cloned = structuredClone({ data: new Float64Array(4), shape: [4], stride: [1], offset: 0 });
const viaClone = (() => {
  try {
    return typeof (structuredClone(ndarray(new Float64Array(4), [4])) as { get?: unknown }).get;
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
})();

console.log(`Host-side arrays: flat typed arrays vs ndarray views (issue #18), load ${os.loadavg()[0]!.toFixed(1)}; median microseconds per call`);
console.log('case | flat | ndarray | ndarray / flat');
for (const r of rows) console.log(`${r.case} | ${r.flat_us} | ${r.ndarray_us} | ${r.ratio}`);
console.log(`structured clone of a view (worker reply): .get is ${viaClone}; plain {data, shape, stride, offset} clones as ${Object.keys(cloned).join(',')}`);
fs.mkdirSync('bench-results', { recursive: true });
fs.writeFileSync(`bench-results/host-arrays.json.tmp-${process.pid}`, JSON.stringify({ load: os.loadavg()[0], rows, structuredCloneGet: viaClone, sink }, null, 2) + '\n');
fs.renameSync(`bench-results/host-arrays.json.tmp-${process.pid}`, 'bench-results/host-arrays.json');
