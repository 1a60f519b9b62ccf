/**
 * Step time of two versions of the env in one process, on the same prebuilt maps, alternating
 * blocks of steps so that machine load hits both alike (the shared dev box is too noisy for
 * separate runs). The other version is any checkout of src/env, e.g.
 *   mkdir -p /tmp/envold && cp -r src /tmp/envold/ && rm -r /tmp/envold/src/env
 *   git archive e94e47c src/env | tar -x -C /tmp/envold
 *   npx tsx scripts/env-step-ab.ts /tmp/envold/src/env/env.ts [density] [maps] [blocks]
 * Protocol: constant action [0, 1], scenarios 1010.., 240 rays, reset excluded, one thread.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { DrivingEnv } from '../src/env/env.js';

type Env = InstanceType<typeof DrivingEnv>;
interface Runner { env: Env; obs: Float32Array; seed: number }

const other = process.argv[2];
if (!other) {
  console.error('usage: npx tsx scripts/env-step-ab.ts <path to the other src/env/env.ts> [density] [maps] [blocks]');
  process.exit(2);
}
const density = Number(process.argv[3] ?? 0.1);
const nMaps = Number(process.argv[4] ?? 100);
const blocks = Number(process.argv[5] ?? 40);
const BLOCK = 2000;

function runner(Ctor: new (cfg: object) => Env): Runner {
  const env = new Ctor({ start_seed: 1010, num_scenarios: 1000, traffic_density: density });
  for (let s = 0; s < nMaps; s++) env.mapFor(1010 + s);
  const obs = new Float32Array(env.obsSize);
  env.resetInto(obs, 0, { seed: 1010 });
  return { env, obs, seed: 1010 };
}

/** Mean step time (us) over `steps` steps; resets are not timed. */
function block(r: Runner, steps: number): number {
  let t = 0;
  for (let i = 0; i < steps; i++) {
    const a = performance.now();
    const res = r.env.stepInto([0, 1], r.obs, 0);
    t += performance.now() - a;
    if (res.terminated || res.truncated) {
      r.seed = 1010 + ((r.seed - 1010 + 1) % nMaps);
      r.env.resetInto(r.obs, 0, { seed: r.seed });
    }
  }
  return (t * 1000) / steps;
}

const mod = (await import(pathToFileURL(other).href)) as { DrivingEnv: new (cfg: object) => Env };
const a = runner(mod.DrivingEnv);
const b = runner(DrivingEnv as unknown as new (cfg: object) => Env);
block(a, 5000);
block(b, 5000);
const ta: number[] = [], tb: number[] = [];
for (let k = 0; k < blocks; k++) {
  ta.push(block(a, BLOCK));
  tb.push(block(b, BLOCK));
}
const median = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
const rows = [
  { version: 'other', path: other, median_us: median(ta), best_us: Math.min(...ta), steps_per_s: 1e6 / median(ta) },
  { version: 'this', path: 'src/env/env.ts', median_us: median(tb), best_us: Math.min(...tb), steps_per_s: 1e6 / median(tb) },
];
console.log('version   median us/step   best us/step   steps/s (median)');
for (const r of rows) console.log(`${r.version.padEnd(8)} ${r.median_us.toFixed(2).padStart(15)} ${r.best_us.toFixed(2).padStart(14)} ${r.steps_per_s.toFixed(0).padStart(18)}`);
const result = { benchmark: 'env-step-ab', density, maps: nMaps, blocks, block_steps: BLOCK, load_average_1m: loadavg()[0], rows };
mkdirSync('bench-results', { recursive: true });
const tmp = `bench-results/env-step-ab.json.tmp-${process.pid}`;
writeFileSync(tmp, JSON.stringify(result, null, 2) + '\n');
renameSync(tmp, 'bench-results/env-step-ab.json');
