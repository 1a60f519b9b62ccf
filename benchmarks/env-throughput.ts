/**
 * Env throughput on one thread, MetaDrive's profile protocol (examples/profile_metadrive.py):
 * default env with traffic (density 0.1 here, the MetaDriveEnv default; MetaDrive's script uses
 * 0.05, measured too), 240 lidar rays, constant action [0, 1], scenarios 1010.., reset excluded.
 * Reports wall-clock and process-CPU steps/s. Process CPU includes V8's concurrent GC and
 * compiler threads: in the default case most of it is collecting the garbage of the map
 * generation done by reset() (excluded from the timings, as in MetaDrive's script, but its GC
 * is not). The "maps prebuilt" case builds the maps before timing and isolates the step.
 * Run: npx tsx benchmarks/env-throughput.ts [steps]
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { DrivingEnv } from '../src/env/env.js';

interface Row {
  case: string;
  traffic_density: number;
  steps: number;
  episodes: number;
  wall_steps_per_s: number;
  cpu_steps_per_s: number;
}

function measure(name: string, density: number, steps: number, prebuild = 0, policyAction: [number, number] = [0, 1]): Row {
  const start = 1010;
  const n = 1000;
  const env = new DrivingEnv({ start_seed: start, num_scenarios: n, traffic_density: density });
  // Optionally build (and cache, as store_map does) the maps before timing, so that the garbage
  // of map generation, collected concurrently, does not land in the step timings.
  for (let s = 0; s < prebuild; s++) env.mapFor(start + s);
  const obs = new Float32Array(env.obsSize);
  let seed = start;
  env.resetInto(obs, 0, { seed });
  // Warm-up (JIT), not counted.
  for (let i = 0; i < 2000; i++) {
    const r = env.stepInto(policyAction, obs, 0);
    if (r.terminated || r.truncated) env.resetInto(obs, 0, { seed: (seed = start + ((seed - start + 1) % n)) });
  }
  let wall = 0;
  let cpu = 0;
  let episodes = 0;
  let done = 0;
  while (done < steps) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let k = 0;
    let ended = false;
    for (; k < 200 && done + k < steps; ) {
      const r = env.stepInto(policyAction, obs, 0);
      k++;
      if (r.terminated || r.truncated) {
        ended = true;
        break;
      }
    }
    wall += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1000;
    done += k;
    if (ended) {
      episodes++;
      seed = start + ((seed - start + 1) % n);
      env.resetInto(obs, 0, { seed }); // reset excluded, as MetaDrive's profile script does
    }
  }
  return { case: name, traffic_density: density, steps: done, episodes, wall_steps_per_s: done / (wall / 1000), cpu_steps_per_s: done / (cpu / 1000) };
}

const steps = Number(process.argv[2] ?? 30000);
const rows = [
  measure('default (density 0.1)', 0.1, steps),
  measure('default, maps prebuilt', 0.1, steps, Math.ceil(steps / 60)),
  measure('profile_metadrive (density 0.05)', 0.05, steps),
  measure('no traffic', 0, steps),
];
console.log('case                                  density   steps  episodes   wall steps/s   cpu steps/s');
for (const r of rows) {
  console.log(
    `${r.case.padEnd(36)} ${String(r.traffic_density).padStart(8)} ${String(r.steps).padStart(7)} ${String(r.episodes).padStart(9)} ${r.wall_steps_per_s.toFixed(0).padStart(14)} ${r.cpu_steps_per_s.toFixed(0).padStart(13)}`,
  );
}
const result = {
  benchmark: 'env-throughput',
  protocol: 'constant action [0, 1], start_seed 1010, num_scenarios 1000, 240 lidar rays, reset excluded, one thread',
  target_steps_per_s: 20000,
  node: process.version,
  cpus: availableParallelism(),
  load_average_1m: loadavg()[0],
  rows,
};
mkdirSync('bench-results', { recursive: true });
const tmp = `bench-results/env-throughput.json.tmp-${process.pid}`;
writeFileSync(tmp, JSON.stringify(result, null, 2) + '\n');
renameSync(tmp, 'bench-results/env-throughput.json');
