/**
 * PDM scorer hot path: proposals / s of `scoreProposals` on one thread, golden scenes, with the
 * scene prepared and its EP normaliser cached (GRPO: G samples of one scene scored together).
 * Reports wall-clock rates (best round and mean) and the process CPU-time rate: on a shared,
 * overloaded machine the CPU-time rate is the better estimate of single-thread speed. Run with
 * `node --single-threaded --import tsx benchmarks/navsim-scorer.ts` so that GC and JIT work is
 * counted on the measured thread.
 * Writes bench-results/navsim-scorer.json. (End-to-end scene scoring: benchmarks/navsim-score.ts.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../src/core/atomic.js';
import { Rng } from '../src/core/rng.js';
import { parseScene } from '../src/navsim/scene-json.js';
import { scoreProposals } from '../src/navsim/scorer.js';
import type { PDMVersion } from '../src/navsim/types.js';

const V1 = process.env.DRIVEKIT_PDM_GOLDEN ?? path.resolve('test/golden/pdm_v1');
const V2 = process.env.DRIVEKIT_PDM_V2_GOLDEN ?? path.resolve('test/golden/pdm_v2');

function load(dir: string, G: number, rng: Rng) {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const g = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      const scene = parseScene(g, { source: f });
      const pdm = new Float64Array(g.expected.pdm_closed.trajectory_states_10hz_5s.flat());
      const base = scene.trajectory!.poses;
      const ego = scene.trajectory!.frame === 'ego';
      const props = new Float64Array(G * base.length);
      // G noisy copies of the scene's plan (0.3 m position, 0.03 rad heading noise)
      for (let p = 0; p < G; p++) for (let i = 0; i < base.length; i++) props[p * base.length + i] = base[i]! + (ego && p > 0 ? rng.normal() * (i % 3 === 2 ? 0.03 : 0.3) : 0);
      return { scene, pdm, props: ego ? props : null };
    })
    .filter((s) => s.props !== null);
}

const rows: Record<string, number | string>[] = [];
for (const [dir, version] of [[V1, 'v1.1'], [V2, 'v2.2']] as [string, PDMVersion][]) {
  for (const G of [2, 64]) {
    const scenes = load(dir, G, new Rng(0));
    for (const s of scenes) scoreProposals(s.scene, s.props!, { version, pdmClosedStates: s.pdm }); // prepare + warm up
    const rounds = Math.max(6, Math.round(1200 / G));
    let best = Infinity;
    let total = 0;
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (const s of scenes) scoreProposals(s.scene, s.props!, { version, pdmClosedStates: s.pdm });
      const dt = performance.now() - t0;
      best = Math.min(best, dt);
      total += dt;
    }
    const cpu = process.cpuUsage(cpu0);
    const per = scenes.length * G;
    rows.push({
      version,
      proposalsPerScene: G,
      scenes: scenes.length,
      cpuProposalsPerS: Math.round((per * rounds) / ((cpu.user + cpu.system) / 1e6)),
      bestRoundProposalsPerS: Math.round((per / best) * 1000),
      meanProposalsPerS: Math.round(((per * rounds) / total) * 1000),
    });
  }
}
console.table(rows);
const out = { benchmark: 'navsim-scorer', node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), date: new Date().toISOString(), rows };
fs.mkdirSync('bench-results', { recursive: true });
writeFileAtomicSync('bench-results/navsim-scorer.json', JSON.stringify(out, null, 2) + '\n');
