/**
 * Matmul throughput of each tfjs backend present (wasm and cpu here): square float32 matMul of
 * n = 256, 512, 1024 and batched matMuls shaped like the planner's attention and MLPs; then, on
 * wasm, a dense layer's forward + backward with reshape + `tf.matMul` (tfjs's gradient uses
 * transposed matmuls: the slow non-XNNPACK path) versus `core.linear` (explicit transposes).
 *
 *   npx tsx benchmarks/matmul.ts [--backends wasm,cpu] [--seconds 1]
 * Prints a table and writes bench-results/matmul.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { availableBackends, type BackendName } from '../src/core/backend.js';
import { useBackend } from '../src/core/backend.js';
import { linear } from '../src/core/ops.js';
import { measureMatmulGflops, type MatmulMeasurement } from '../src/core/perf.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const CASES: { label: string; n: number; batch: number }[] = [
  { label: 'square 256', n: 256, batch: 1 },
  { label: 'square 512', n: 512, batch: 1 },
  { label: 'square 1024', n: 1024, batch: 1 },
  { label: 'batched 16x128x128', n: 128, batch: 16 },
  { label: 'batched 64x64x64', n: 64, batch: 64 },
];

async function main(): Promise<void> {
  const available = await availableBackends();
  const requested = arg('backends', 'wasm,cpu').split(',') as BackendName[];
  const backends = requested.filter((b) => available[b]);
  const seconds = Number(arg('seconds', '1'));
  const results: (MatmulMeasurement & { label: string })[] = [];
  for (const backend of backends) {
    for (const c of CASES) {
      // The pure-JS cpu backend needs seconds per 1024^3 matmul: time it once after one warm-up.
      const slow = backend === 'cpu' && c.n * c.n * c.n * c.batch > 2e8;
      const m = await measureMatmulGflops(backend, c.n, { batch: c.batch, minSeconds: slow ? 0 : seconds, minIterations: slow ? 1 : 3 });
      results.push({ label: c.label, ...m });
      process.stderr.write(`${backend} ${c.label}: ${m.gflops.toFixed(2)} GFLOP/s\n`);
    }
  }
  // Dense layer forward + backward (3 matmuls of 2*B*T*in*out flops each).
  const dense: { backend: string; label: string; msPerStep: number; gflops: number }[] = [];
  if (available.wasm && backends.includes('wasm')) {
    await useBackend('wasm');
    const [B, T, IN, OUT] = [8, 128, 256, 256];
    const x = tf.randomNormal([B, T, IN], 0, 1, 'float32', 1);
    const w = tf.randomNormal([IN, OUT], 0, 0.05, 'float32', 2) as tf.Tensor2D;
    const flops = 3 * 2 * B * T * IN * OUT;
    const variants: [string, (xx: tf.Tensor, ww: tf.Tensor) => tf.Tensor][] = [
      // tf.matMul(x [B,T,in], w [in,out]) is no option for training: its tfjs 4.22 gradient fails
      // ("gradient of input 'b' has shape 8,256,256 ... does not match 256,256"). A layer that
      // reshapes to 2-D gets a fast forward but tfjs's gradient uses transposed (slow) matmuls.
      ['reshape + tf.matMul (tfjs gradient)', (xx, ww) => tf.matMul(xx.reshape([-1, IN]) as tf.Tensor2D, ww as tf.Tensor2D)],
      ['core.linear (2-D, explicit T)', (xx, ww) => linear(xx, ww as tf.Tensor2D)],
    ];
    for (const [label, f] of variants) {
      const step = () => tf.tidy(() => tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(f(xx, ww)))([x, w]).forEach((g) => g.dataSync()));
      step();
      const times: number[] = [];
      const start = performance.now();
      while (times.length < 3 || performance.now() - start < seconds * 1000) {
        const t0 = performance.now();
        step();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(times.length / 2)]!;
      dense.push({ backend: 'wasm', label, msPerStep: ms, gflops: flops / (ms * 1e6) });
    }
    tf.dispose([x, w]);
  }

  const header = ['backend', 'case', 'ms/op (median)', 'GFLOP/s (median)', 'GFLOP/s (best)', 'runs'];
  const rows = results.map((r) => [r.backend, r.label, r.msPerOp.toFixed(2), r.gflops.toFixed(2), r.bestGflops.toFixed(2), String(r.iterations)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  if (dense.length > 0) {
    console.log('\nDense layer forward + backward, x [8,128,256], w [256,256], wasm:');
    for (const d of dense) console.log(`  ${d.label.padEnd(32)} ${d.msPerStep.toFixed(1).padStart(8)} ms/step ${d.gflops.toFixed(2).padStart(7)} GFLOP/s`);
  }
  const out = {
    benchmark: 'matmul',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, tfjs: tf.version.tfjs },
    note: 'float32; each op includes reading the result back (dataSync); WASM in Node is single-threaded SIMD',
    results,
    denseForwardBackward: dense,
  };
  fs.mkdirSync('bench-results', { recursive: true });
  const file = path.join('bench-results', 'matmul.json');
  fs.writeFileSync(file + '.tmp', JSON.stringify(out, null, 2) + '\n');
  fs.renameSync(file + '.tmp', file);
  console.log(`wrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
