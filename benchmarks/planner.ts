/**
 * Planner throughput on the active backend (default wasm), in one run:
 *  1. the backend's matmul GFLOP/s (square float32 matMul, best of several runs);
 *  2. 5-step DDIM sampling of a group of G = 8 for one scene, `small` preset, L = 2800,
 *     H = 1536 (conditioning encoded once, then 5 DiT passes over 8 samples), with achieved
 *     GFLOP/s from an analytic FLOP count and its fraction of the matmul figure;
 *  3. IL train samples/s: `ilTrainStep` (AdamW, grad clip) of src/rl on the same planner.
 *
 *   npx tsx benchmarks/planner.ts [--backend wasm|cpu|...] [--L 2800] [--G 8] [--batch 2]
 * The IL step defaults to --batch 1: at B = 2 with L = 2800 the wasm heap (32-bit) overflows
 * during the backward pass ("memory access out of bounds" in Transpose).
 * Prints a table and writes bench-results/planner.json.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { init } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { countParameters, DiffusionPlanner, plannerConfig, type PlannerConfig } from '../src/models/planner.js';
import { plannerForIl } from '../src/rl/il-planner.js';
import { ilTrainStep } from '../src/rl/il-trainer.js';
import { AdamW } from '../src/rl/optim.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** FLOPs (2 per multiply-add) of the matmuls of encodeCondition for B scenes. */
export function encodeFlops(c: PlannerConfig, B: number, L: number): number {
  const W = c.numHeads * c.headDim;
  const cross = c.numLayers - Math.floor((c.numLayers + 1) / 2) * (c.interleaveAttention ? 1 : 0);
  return 2 * B * L * c.condDim * W + cross * 2 * (2 * B * L * W * W);
}

/** FLOPs of one predictNoise pass over N rows (H tokens each) with L conditioning tokens. */
export function denoiseFlops(c: PlannerConfig, N: number, L: number): number {
  const W = c.numHeads * c.headDim;
  const T = N * c.horizon;
  const lin = (rows: number, i: number, o: number) => 2 * rows * i * o;
  let f = lin(N, c.timestepChannels, W) + lin(N, W, W); // time embedding
  f += lin(T, c.actionDim, W) + lin(T, 2 * W, W) + lin(T, W, W) + lin(T, 3 * W, W); // action enc + fusion
  for (let i = 0; i < c.numLayers; i++) {
    const cross = !(i % 2 === 0 && c.interleaveAttention);
    f += lin(N, W, 6 * W); // adaLN
    f += lin(T, W, W) * (cross ? 2 : 4); // q, out (+ k, v)
    const keys = cross ? L : c.horizon;
    f += 2 * (2 * T * keys * W); // q·kᵀ and p·v over all heads
    f += lin(T, W, 2 * W) + lin(T, W, W); // SwiGLU
  }
  f += lin(N, W, 2 * W) + lin(T, W, c.ditOutputDim); // final layer
  f += lin(T, c.ditOutputDim, c.mlpHidden) + lin(T, c.mlpHidden, c.actionDim); // decoder
  return f;
}

async function timeIt(fn: () => void | Promise<void>, reps: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function matmulGflops(n: number, reps: number): Promise<number> {
  const rng = new Rng(1);
  const a = tf.tensor2d(rng.fillNormal(new Float32Array(n * n)), [n, n]);
  const b = tf.tensor2d(rng.fillNormal(new Float32Array(n * n)), [n, n]);
  const run = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  run();
  const ts = await timeIt(run, reps);
  tf.dispose([a, b]);
  return (2 * n * n * n) / Math.min(...ts) / 1e9;
}

async function main(): Promise<void> {
  const backend = await init({ backend: (arg('backend', 'wasm') as any) ?? 'wasm' });
  const L = Number(arg('L', '2800'));
  const G = Number(arg('G', '8'));
  const H = Number(arg('H', '1536'));
  const batch = Number(arg('batch', '1'));
  const progress = (m: string) => process.stderr.write(`[planner bench] ${m}\n`);
  const config = plannerConfig({ preset: 'small', condDim: H });

  const mm = await matmulGflops(1024, 5);
  const mmLinear = await (async () => {
    // The shape class of the feature projection: [L, H] × [H, W] (weights stored [in, out]).
    const rng = new Rng(2);
    const x = tf.tensor2d(rng.fillNormal(new Float32Array(L * H)), [L, H]);
    const w = tf.tensor2d(rng.fillNormal(new Float32Array(384 * H)), [H, 384]);
    const run = (): void => {
      tf.tidy(() => {
        tf.matMul(x, w).dataSync();
      });
    };
    run();
    const ts = await timeIt(run, 3);
    tf.dispose([x, w]);
    return (2 * L * H * 384) / Math.min(...ts) / 1e9;
  })();

  progress(`matmul 1024: ${mm.toFixed(2)} GFLOP/s, projection: ${mmLinear.toFixed(2)} GFLOP/s`);
  const t0 = performance.now();
  const planner = DiffusionPlanner.create({ preset: 'small', condDim: H }, { seed: 0 });
  const initS = (performance.now() - t0) / 1000;
  const rng = new Rng(3);
  const inputs = {
    hiddenStates: tf.tensor3d(rng.fillNormal(new Float32Array(L * H)), [1, L, H]),
    history: tf.tensor2d(rng.fillNormal(new Float32Array(12), 0, 0.5), [1, 12]),
    status: tf.tensor2d(Float32Array.from([0, 1, 0, 0, 5, 0, 0.1, 0]), [1, 8]),
  };

  let encodeS = 0;
  let denoiseS = 0;
  const sampleOnce = () => {
    const a = performance.now();
    const cond = planner.encodeCondition(inputs);
    cond.crossKV[cond.crossKV.length - 1]!.v[0]!.dataSync();
    const b = performance.now();
    const r = planner.sample(cond, { rng: new Rng(4), groupSize: G });
    r.trajectory.dataSync();
    const c = performance.now();
    tf.dispose([r.trajectory, r.normalized]);
    cond.dispose();
    encodeS = (b - a) / 1000;
    denoiseS = (c - b) / 1000;
  };
  sampleOnce(); // warm-up (kernel setup, weight packing)
  const encs: number[] = [];
  const dens: number[] = [];
  for (let i = 0; i < 3; i++) {
    sampleOnce();
    encs.push(encodeS);
    dens.push(denoiseS);
  }
  progress(`encode ${median(encs).toFixed(3)} s, 5-step denoise ${median(dens).toFixed(3)} s`);
  const steps = config.numInferenceSteps;
  // Best-of, like the matmul figure (the machine is shared; medians are in the JSON too).
  const best = (xs: number[]) => Math.min(...xs);
  const fEnc = encodeFlops(config, 1, L);
  const fDen = steps * denoiseFlops(config, G, L);
  const sampleS = best(encs) + best(dens);
  const sampleGflops = (fEnc + fDen) / sampleS / 1e9;

  // IL training step (B scenes, L tokens each).
  const model = plannerForIl(planner);
  const opt = new AdamW(planner.variables);
  const trng = new Rng(5);
  const tb = {
    cond: tf.tensor3d(trng.fillNormal(new Float32Array(batch * L * H)), [batch, L, H]),
    history: tf.tensor2d(trng.fillNormal(new Float32Array(batch * 12), 0, 0.5), [batch, 12]),
    status: tf.tensor2d(new Float32Array(batch * 8), [batch, 8]),
    target: tf.tensor3d(trng.fillNormal(new Float32Array(batch * 24)), [batch, 8, 3]),
  };
  ilTrainStep(model, opt, tb, trng); // warm-up
  progress('train warm-up done');
  const trainTs = await timeIt(() => void ilTrainStep(model, opt, tb, trng), 2);
  const trainS = best(trainTs);
  const memMB = tf.memory().numBytes / 2 ** 20;

  const result = {
    backend,
    date: new Date().toISOString(),
    config: { preset: 'small', L, H, G, steps, trainBatch: batch, parameters: countParameters(config) },
    matmulGflops1024: mm,
    matmulGflopsProjection: mmLinear,
    initSeconds: initS,
    encodeSeconds: best(encs),
    denoiseSeconds: best(dens),
    encodeSecondsMedian: median(encs),
    denoiseSecondsMedian: median(dens),
    sampleSeconds: sampleS,
    sampleGflop: (fEnc + fDen) / 1e9,
    encodeGflop: fEnc / 1e9,
    denoiseGflop: fDen / 1e9,
    sampleGflops,
    fractionOfMatmul: sampleGflops / mm,
    encodeGflops: fEnc / best(encs) / 1e9,
    denoiseGflops: fDen / best(dens) / 1e9,
    trainStepSeconds: trainS,
    trainSamplesPerSecond: batch / trainS,
    tensorMemoryMB: memMB,
  };
  const rows: [string, string][] = [
    ['backend', backend],
    ['matmul 1024³ GFLOP/s', mm.toFixed(2)],
    [`matmul [${L}×${H}]·[${H}×384] GFLOP/s`, mmLinear.toFixed(2)],
    ['encodeCondition (1 scene) s', result.encodeSeconds.toFixed(3)],
    [`5-step DDIM, G=${G} s (excl. encode)`, result.denoiseSeconds.toFixed(3)],
    ['sampling total s', sampleS.toFixed(3)],
    ['encode GFLOP/s', result.encodeGflops.toFixed(2)],
    ['denoise GFLOP/s', result.denoiseGflops.toFixed(2)],
    ['sampling GFLOP (analytic)', result.sampleGflop.toFixed(2)],
    ['sampling GFLOP/s', sampleGflops.toFixed(2)],
    ['fraction of matmul GFLOP/s', (100 * result.fractionOfMatmul).toFixed(1) + ' %'],
    [`IL train step (B=${batch}) s`, trainS.toFixed(3)],
    ['IL train samples/s', result.trainSamplesPerSecond.toFixed(3)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  fs.mkdirSync('bench-results', { recursive: true });
  const tmp = 'bench-results/planner.json.tmp';
  fs.writeFileSync(tmp, JSON.stringify(result, null, 2) + '\n');
  fs.renameSync(tmp, 'bench-results/planner.json');
  tf.dispose([inputs.hiddenStates, inputs.history, inputs.status, tb.cond, tb.history, tb.status, tb.target]);
  opt.dispose?.();
  planner.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
