/**
 * PPO throughput on the driving env: rollout collection with the policy in the loop (env steps/s
 * over all environments, split into env stepping, batched policy inference and the rest: reward
 * bookkeeping, buffer writes, the timeout bootstrap), and the update (samples/s through the
 * 256-256 actor-critic, nEpochs passes, batch 256). The target of issue #12: collection at
 * >= 20,000 env steps/s on 2 cores.
 * Run: npx tsx benchmarks/ppo-rollout.ts [numEnvs,...]
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { init } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { VectorEnv } from '../src/env/vector-env.js';
import { ActorCriticPolicy } from '../src/models/mlp-policy.js';
import { PPO } from '../src/rl/ppo/ppo.js';

const backend = await init({ backend: 'wasm' });
const counts = (process.argv[2] ?? '8,32,64,128').split(',').map(Number);
interface Row {
  num_envs: number;
  steps: number;
  collect_steps_per_s: number;
  env_share: number;
  policy_share: number;
  other_share: number;
  update_samples_per_s: number;
}
const rows: Row[] = [];
for (const n of counts) {
  const env = new VectorEnv(n, { start_seed: 0, num_scenarios: 50, traffic_density: 0.1 }, { seed: 0 });
  const policy = new ActorCriticPolicy({ obsDim: env.obsSize, actionType: 'box', actionDim: 2, hidden: [256, 256], seed: 0 });
  const nSteps = Math.max(16, Math.round(2048 / n));
  const ppo = new PPO(policy, env, { nSteps, batchSize: 256, nEpochs: 1, normReward: true });
  ppo.collectRollouts(new Rng(1)); // warm-up (maps, JIT)
  let best: { steps: number; s: number; env: number; pol: number } | null = null;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    const t = ppo.collectRollouts(new Rng(2 + rep));
    const s = (performance.now() - t0) / 1000;
    const steps = nSteps * n;
    if (!best || steps / s > best.steps / best.s) best = { steps, s, env: t.envSeconds, pol: t.policySeconds };
  }
  ppo.buffer.computeReturnsAndAdvantage(new Float32Array(n), new Float32Array(n));
  const t1 = performance.now();
  ppo.train(new Rng(9), 1);
  const updateS = (performance.now() - t1) / 1000;
  const b = best!;
  rows.push({
    num_envs: n,
    steps: b.steps,
    collect_steps_per_s: Math.round(b.steps / b.s),
    env_share: +(b.env / b.s).toFixed(3),
    policy_share: +(b.pol / b.s).toFixed(3),
    other_share: +(1 - (b.env + b.pol) / b.s).toFixed(3),
    update_samples_per_s: Math.round(ppo.buffer.size / updateS),
  });
  ppo.dispose();
  policy.dispose();
}
console.log(`PPO on the driving env, backend ${backend}, policy 256-256 tanh, load ${loadavg()[0]!.toFixed(1)} (target: collection >= 20,000 env steps/s)`);
console.log('num_envs | steps | collect steps/s | env | policy | other | update samples/s');
for (const r of rows) console.log(`${r.num_envs} | ${r.steps} | ${r.collect_steps_per_s} | ${(100 * r.env_share).toFixed(0)} % | ${(100 * r.policy_share).toFixed(0)} % | ${(100 * r.other_share).toFixed(0)} % | ${r.update_samples_per_s}`);
mkdirSync('bench-results', { recursive: true });
const tmp = `bench-results/ppo-rollout.json.tmp-${process.pid}`;
writeFileSync(tmp, JSON.stringify({ backend, load: loadavg()[0], rows }, null, 2) + '\n');
renameSync(tmp, 'bench-results/ppo-rollout.json');
