/**
 * Soak test (issue #16): long runs that must leak nothing and lose nothing. Not part of
 * `npm test`; run `npm run soak` (or `npx tsx scripts/soak.ts [--quick] [--json FILE]`).
 *
 * 1. env: 100,000 env steps over thousands of seeds (episodes capped at 40 steps, so ~2,500
 *    scenarios), the IDM expert driving; prints heap/RSS and the map cache size as it goes.
 *    Memory must stay flat once the LRU map cache (64 maps) is full.
 * 2. planner: 1,000 create / sample / dispose cycles of the `tiny` preset; prints
 *    `tf.memory()` tensors and bytes before and after (must be equal) and RSS.
 * 3. kill -9 loop: a `train-il` run (tiny preset, 16 epochs of 8 steps, a checkpoint every step)
 *    is killed with SIGKILL 25 times at random instants (each within 1.5 s after a new
 *    checkpoint, so many land inside a checkpoint write or swap) and resumed with
 *    `--resume out/last` until it finishes (every third kill is turned into the state a kill
 *    between the two renames of the swap leaves: no last/); the final weights must equal an uninterrupted run's
 *    bit for bit, and no temporary folder may be left.
 *
 * `--quick` runs a tenth of each (a smoke test of the script itself); `--only env|planner|kill`
 * runs one part; `--json FILE` writes the results.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { main } from '../src/cli/main.js';
import { makeSyntheticCacheCommand } from '../src/cli/planner-train.js';
import { DIR_COMPLETE_MARKER } from '../src/core/atomic.js';
import { init } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { readSafetensors } from '../src/core/safetensors.js';
import { DrivingEnv } from '../src/env/env.js';
import { makePolicy } from '../src/env/policies.js';
import { DiffusionPlanner } from '../src/models/planner.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const scale = quick ? 0.1 : 1;
const MB = 2 ** 20;
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

const mem = () => {
  const m = process.memoryUsage();
  return { heapMB: +(m.heapUsed / MB).toFixed(1), rssMB: +(m.rss / MB).toFixed(1) };
};
const gc = () => (globalThis as { gc?: () => void }).gc?.();

// ---------------------------------------------------------------------------------------------
// 1. env

function soakEnv(): Record<string, unknown> {
  const totalSteps = Math.round(100_000 * scale);
  const horizon = 40;
  const numScenarios = 5000;
  const env = new DrivingEnv({ start_seed: 0, num_scenarios: numScenarios, horizon, traffic_density: 0.1 });
  const policy = makePolicy('expert');
  const samples: { steps: number; seeds: number; maps: number; heapMB: number; rssMB: number }[] = [];
  let steps = 0;
  let seed = 0;
  let errors = 0;
  const t0 = performance.now();
  let { obs } = env.reset({ seed });
  policy.reset(env);
  while (steps < totalSteps) {
    const r = env.step(policy.act(env, obs));
    steps++;
    if (!Number.isFinite(r.reward) || !r.obs.every(Number.isFinite)) errors++;
    obs = r.obs;
    if (r.terminated || r.truncated) {
      seed = (seed + 1) % numScenarios;
      obs = env.reset({ seed }).obs;
      policy.reset(env);
    }
    if (steps % Math.round(totalSteps / 10) === 0) {
      gc();
      samples.push({ steps, seeds: seed + 1, maps: env.cachedMaps, ...mem() });
      console.log(`  env: ${steps} steps, ${seed + 1} seeds, ${env.cachedMaps} maps cached, heap ${samples.at(-1)!.heapMB} MB, rss ${samples.at(-1)!.rssMB} MB`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const heap = samples.map((s) => s.heapMB);
  return { steps, seeds: seed + 1, seconds: +seconds.toFixed(1), nonFinite: errors, maxMapsCached: Math.max(...samples.map((s) => s.maps)), heapMBFirst: heap[0], heapMBLast: heap.at(-1), heapMBMax: Math.max(...heap), samples };
}

// ---------------------------------------------------------------------------------------------
// 2. planner

async function soakPlanner(): Promise<Record<string, unknown>> {
  await init({ backend: 'wasm' });
  const cycles = Math.round(1000 * scale);
  const before = tf.memory();
  const rssBefore = mem().rssMB;
  const t0 = performance.now();
  let nonFinite = 0;
  for (let i = 0; i < cycles; i++) {
    const p = DiffusionPlanner.create({ preset: 'tiny', condDim: 16 }, { seed: i });
    const rng = new Rng(i);
    const inputs = {
      hiddenStates: tf.tensor(rng.fillNormal(new Float32Array(2 * 4 * 16)), [2, 4, 16]),
      history: tf.zeros([2, 12]),
      status: tf.zeros([2, 8]),
    };
    const r = p.sample(inputs, { rng });
    if (!(r.trajectory.dataSync() as Float32Array).every(Number.isFinite)) nonFinite++;
    tf.dispose([r.trajectory, r.normalized, inputs.hiddenStates, inputs.history, inputs.status]);
    p.dispose();
    if ((i + 1) % Math.round(cycles / 5) === 0) console.log(`  planner: ${i + 1} cycles, ${tf.memory().numTensors - before.numTensors} tensors and ${tf.memory().numBytes - before.numBytes} bytes more than at the start, rss ${mem().rssMB} MB`);
  }
  const after = tf.memory();
  gc();
  return {
    cycles,
    preset: 'tiny',
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
    numTensorsBefore: before.numTensors,
    numTensorsAfter: after.numTensors,
    numBytesBefore: before.numBytes,
    numBytesAfter: after.numBytes,
    rssMBBefore: rssBefore,
    rssMBAfter: mem().rssMB,
    nonFinite,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. kill -9 loop over train-il

/** Whether a killed run left any complete checkpoint to resume from (last/, last.old/, a marked temp). */
function hasCheckpoint(out: string): boolean {
  if (!fs.existsSync(out)) return false;
  if (fs.existsSync(path.join(out, 'last')) || fs.existsSync(path.join(out, 'last.old'))) return true;
  return fs.readdirSync(out).some((n) => n.startsWith('.last.tmp-') && fs.existsSync(path.join(out, n, DIR_COMPLETE_MARKER)));
}

async function soakKill(): Promise<Record<string, unknown>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-soak-'));
  const quiet = { out: () => undefined, err: () => undefined };
  const cache = path.join(tmp, 'cache.arrow');
  await makeSyntheticCacheCommand(['--out', cache, '--rows', '64', '--cond-length', '4', '--cond-dim', '16', '--quiet'], quiet);
  const epochs = quick ? 4 : 16;
  const base = ['--cache', cache, '--backend', 'wasm', '--quiet', '--json'];
  const common = [...base, '--preset', 'tiny', '--epochs', String(epochs), '--batch-size', '8', '--lr', '1e-3', '--warmup', '1', '--checkpoint-every', '1'];
  const ref = path.join(tmp, 'ref');
  const t0 = performance.now();
  if ((await main(['planner', 'train-il', '--out', ref, ...common], quiet)) !== 0) throw new Error('reference run failed');
  const refSeconds = (performance.now() - t0) / 1000;

  // The child: the CLI through tsx, so that kill -9 hits a real process. Each life is killed at
  // a random instant within 1.5 s after its first new checkpoint (one per step), so every life
  // makes progress and many kills land inside a checkpoint write or swap.
  const child = path.join(tmp, 'train.mts');
  fs.writeFileSync(child, `import { main } from ${JSON.stringify(path.join(repo, 'src/cli/main.ts'))};\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  const out = path.join(tmp, 'run');
  const marker = path.join(out, 'last', DIR_COMPLETE_MARKER);
  const markerTime = () => (fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0);
  const rng = new Rng(16);
  let kills = 0;
  let resumes = 0;
  let lastMissing = 0; // kills that left no last/ (inside the swap): recovered from last.old/ or a temp folder
  let staleTemps = 0; // temporary files and folders of killed runs found before a resume
  let swapCrashes = 0; // kills turned into the between-the-renames state
  const maxKills = quick ? 3 : 25;
  for (let attempt = 0; attempt < maxKills + 20; attempt++) {
    const resuming = hasCheckpoint(out);
    if (resuming) {
      resumes++;
      if (!fs.existsSync(path.join(out, 'last'))) lastMissing++;
      staleTemps += fs.readdirSync(out).filter((n) => n.includes('.tmp-')).length;
    }
    const argv = ['--import', 'tsx', child, 'planner', 'train-il', '--out', out, ...(resuming ? [...base, '--resume', path.join(out, 'last')] : common)];
    const p = spawn(process.execPath, argv, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
    let timer: NodeJS.Timeout | null = null;
    if (kills < maxKills) {
      const t0 = markerTime();
      const poll = setInterval(() => {
        if (markerTime() !== t0) {
          clearInterval(poll);
          timer = setTimeout(() => p.kill('SIGKILL'), rng.uniform(0, 1500));
        }
      }, 10);
      void exited.then(() => clearInterval(poll));
    }
    const code = await exited;
    if (timer) clearTimeout(timer);
    if (code === null) {
      kills++;
      // A kill lands between the two renames of the swap only by chance (a rename is quick):
      // every third kill, leave exactly what such a kill leaves (last.old/ and the complete new
      // checkpoint in a temporary folder of the dead process, no last/).
      const last = path.join(out, 'last');
      if (kills % 3 === 0 && fs.existsSync(path.join(last, DIR_COMPLETE_MARKER))) {
        fs.cpSync(last, `${last}.old`, { recursive: true });
        fs.renameSync(last, path.join(out, `.last.tmp-${p.pid}-${Date.now().toString(36)}-soak00`));
        swapCrashes++;
      }
      continue;
    }
    if (code !== 0) throw new Error(`train-il exited ${code} after ${kills} kills:\n${stderr}`);
    break;
  }
  const weights = async (dir: string) => [...(await readSafetensors(path.join(dir, 'last', 'model.safetensors'))).tensors].map(([k, t]) => [k, Buffer.from(t.data.buffer).toString('base64')]);
  const identical = JSON.stringify(await weights(out)) === JSON.stringify(await weights(ref));
  const leftovers = fs.readdirSync(out).filter((n) => n.includes('.tmp-') || n.endsWith('.old'));
  fs.rmSync(tmp, { recursive: true, force: true });
  return { epochs, kills, resumes, swapCrashesStaged: swapCrashes, lastMissingAtResume: lastMissing, staleTempsCleaned: staleTemps, finalWeightsIdentical: identical, leftoverTempFolders: leftovers.length, referenceSeconds: +refSeconds.toFixed(1) };
}

// ---------------------------------------------------------------------------------------------

async function run(): Promise<void> {
  const results: Record<string, unknown> = { quick, node: process.version, cpus: os.availableParallelism(), date: new Date().toISOString() };
  const want = (part: string) => only === undefined || only === part;
  if (want('env')) {
    console.log(`soak${quick ? ' (quick)' : ''}: env`);
    results.env = soakEnv();
    console.log(JSON.stringify({ ...(results.env as object), samples: undefined }));
  }
  if (want('planner')) {
    console.log('soak: planner create/sample/dispose');
    results.planner = await soakPlanner();
    console.log(JSON.stringify(results.planner));
  }
  if (want('kill')) {
    console.log('soak: kill -9 loop over train-il');
    results.kill = await soakKill();
    console.log(JSON.stringify(results.kill));
  }
  const e = results.env as { nonFinite: number; maxMapsCached: number } | undefined;
  const pl = results.planner as { numTensorsBefore: number; numTensorsAfter: number; numBytesBefore: number; numBytesAfter: number; nonFinite: number } | undefined;
  const k = results.kill as { finalWeightsIdentical: boolean; leftoverTempFolders: number } | undefined;
  const ok =
    (!e || (e.nonFinite === 0 && e.maxMapsCached <= 64)) &&
    (!pl || (pl.numTensorsAfter === pl.numTensorsBefore && pl.numBytesAfter === pl.numBytesBefore && pl.nonFinite === 0)) &&
    (!k || (k.finalWeightsIdentical && k.leftoverTempFolders === 0));
  results.ok = ok;
  if (jsonPath) fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  console.log(ok ? 'soak: OK' : 'soak: FAILED');
  process.exitCode = ok ? 0 : 1;
}

await run();
