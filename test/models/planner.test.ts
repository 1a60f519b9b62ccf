/**
 * Behaviour of the planner beyond golden parity: no tensor leaks, determinism, grouped
 * cross-attention equals repeated scenes, checkpoint round trip and load errors, scheduler
 * options, the CLI parameter count, and a tiny IL run that converges.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { writeSafetensors } from '../../src/core/safetensors.js';
import { expectNoTensorLeak } from '../../src/core/testing.js';
import { main } from '../../src/cli/main.js';
import { DDIMScheduler, RECOGDRIVE_DDIM_CONFIG } from '../../src/models/ddim.js';
import { countParameters, DiffusionPlanner, plannerConfig, type PlannerInputs } from '../../src/models/planner.js';
import { loadPlannerWeights, plannerStateDict, savePlannerWeights } from '../../src/models/weights.js';
import { plannerGRPOLoss } from '../../src/rl/grpo/loss.js';

// A tiny planner (2 blocks, width 16) keeps these tests fast; the architecture is the same code.
const TINY = plannerConfig({ condDim: 12, numHeads: 2, headDim: 8, numLayers: 2, ditOutputDim: 10, mlpHidden: 16 });

function syntheticInputs(rng: Rng, B: number, L: number, condDim = TINY.condDim): PlannerInputs {
  return {
    hiddenStates: tf.tensor(rng.fillNormal(new Float32Array(B * L * condDim)), [B, L, condDim]),
    history: tf.tensor(rng.fillNormal(new Float32Array(B * 12), 0, 0.5), [B, 12]),
    status: tf.tensor(rng.fillNormal(new Float32Array(B * 8)), [B, 8]),
  };
}

const disposeInputs = (i: PlannerInputs) => tf.dispose([i.hiddenStates, i.history, i.status]);

let tmp: string;
beforeAll(async () => {
  await init({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-planner-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('DiffusionPlanner', () => {
  it('parameter counts of the presets match ReCogDrive (34,329,220 / 35,115,652)', () => {
    expect(countParameters(plannerConfig({ preset: 'small', condDim: 1536 }))).toBe(34_329_220);
    expect(countParameters(plannerConfig({ preset: 'small', condDim: 3584 }))).toBe(35_115_652);
    expect(countParameters(plannerConfig({ preset: 'large', condDim: 1536 }))).toBe(522_237_444);
    expect(countParameters(plannerConfig({ preset: 'large', condDim: 3584 }))).toBe(525_383_172);
    const p = new DiffusionPlanner(TINY, { seed: 3 });
    expect(p.numParameters()).toBe(countParameters(TINY));
    p.dispose();
  });

  it('config validation names the field', () => {
    expect(() => plannerConfig({ headDim: 7 })).toThrow(/headDim/);
    expect(() => plannerConfig({ numInferenceSteps: 0 })).toThrow(/numInferenceSteps/);
    expect(() => plannerConfig({ preset: 'huge' as any })).toThrow(/preset/);
    const c = plannerConfig({ preset: 'small', condDim: 3584 });
    expect(plannerConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  it('grouped cross-attention (K/V once per scene) equals running repeated scenes', () => {
    const p = new DiffusionPlanner(TINY, { seed: 1 });
    const rng = new Rng(5);
    const B = 2;
    const G = 3;
    const inputs = syntheticInputs(rng, B, 6);
    const xt = tf.tensor(rng.fillNormal(new Float32Array(B * G * 24)), [B * G, 8, 3]);
    const t = [80, 60, 40, 20, 0, 37];
    const cond = p.encodeCondition(inputs);
    const grouped = p.predictNoise(cond, xt, t);
    const idx = tf.tensor1d([0, 0, 0, 1, 1, 1], 'int32');
    const rep: PlannerInputs = { hiddenStates: tf.gather(inputs.hiddenStates, idx), history: tf.gather(inputs.history, idx), status: tf.gather(inputs.status, idx) };
    const cond2 = p.encodeCondition(rep);
    const flat = p.predictNoise(cond2, xt, t);
    const a = grouped.dataSync();
    const b = flat.dataSync();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([xt, grouped, idx, flat]);
    cond.dispose();
    cond2.dispose();
    disposeInputs(inputs);
    disposeInputs(rep);
    p.dispose();
  });

  it('sampling, chains, log-probs and a train step leave no tensors behind', async () => {
    const p = new DiffusionPlanner(TINY, { seed: 2 });
    const inputs = syntheticInputs(new Rng(1), 2, 5);
    await expectNoTensorLeak(() => {
      const s = p.sample(inputs, { rng: new Rng(4), groupSize: 2 });
      const arr = s.trajectory.arraySync();
      tf.dispose([s.trajectory, s.normalized]);
      return arr;
    }, 'sample');
    await expectNoTensorLeak(() => {
      const cond = p.encodeCondition(inputs);
      const r = p.sampleChain(cond, { rng: new Rng(4), groupSize: 4 });
      const lp = p.logProb(cond, r.chain, { groupSize: 4 });
      const sum = tf.tidy(() => lp.sum().dataSync()[0]);
      tf.dispose([r.chain, r.trajectory, r.noise!, lp]);
      cond.dispose();
      return sum;
    }, 'sampleChain + logProb');
    const opt = tf.train.sgd(1e-3);
    const target = tf.tensor(new Rng(9).fillNormal(new Float32Array(2 * 24)), [2, 8, 3]);
    await expectNoTensorLeak(() => {
      const rng = new Rng(7);
      const { value, grads } = tf.variableGrads(() => p.ilLoss({ inputs, target }, { rng }), p.trainableVariables());
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }, 'IL train step');
    await expectNoTensorLeak(() => {
      const r = p.sampleChain(inputs, { rng: new Rng(3), groupSize: 2 });
      const teacher = p.sampleChain(inputs, { rng: new Rng(4) });
      const { value, grads } = tf.variableGrads(
        () => plannerGRPOLoss(p, { inputs, chain: r.chain, rewards: [0.1, 0.9, 0.5, 0.2], teacherChain: teacher.chain }, { groupSize: 2 }).total,
        p.trainableVariables(),
      );
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads), r.chain, r.trajectory, r.noise!, teacher.chain, teacher.trajectory, teacher.noise!]);
    }, 'GRPO train step');
    opt.dispose();
    target.dispose();
    disposeInputs(inputs);
    p.dispose();
  });

  it('same seed gives the same samples; another seed does not; replaying the noise reproduces the chain', () => {
    const p = new DiffusionPlanner(TINY, { seed: 2 });
    const inputs = syntheticInputs(new Rng(1), 1, 4);
    const run = (seed: number) => {
      const r = p.sampleChain(inputs, { rng: new Rng(seed), groupSize: 3 });
      const out = { chain: Array.from(r.chain.dataSync()), traj: Array.from(r.trajectory.dataSync()), r };
      return out;
    };
    const a = run(11);
    const b = run(11);
    const c = run(12);
    expect(b.chain).toEqual(a.chain);
    expect(c.traj).not.toEqual(a.traj);
    const xT = tf.squeeze(tf.slice(a.r.chain, [0, 0, 0, 0], [3, 1, 8, 3]), [1]);
    const replay = p.sampleChain(inputs, { groupSize: 3, xT, noise: a.r.noise! });
    expect(Array.from(replay.chain.dataSync())).toEqual(a.chain);
    // Eval sampling is also seeded; x is clamped to ±1 so trajectories stay in the normalisation box.
    const s1 = p.sample(inputs, { rng: new Rng(5) });
    const s2 = p.sample(inputs, { rng: new Rng(5) });
    expect(Array.from(s1.trajectory.dataSync())).toEqual(Array.from(s2.trajectory.dataSync()));
    for (const v of s1.normalized.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    for (const r of [a.r, b.r, c.r, replay]) tf.dispose([r.chain, r.trajectory, r.noise!]);
    tf.dispose([xT, s1.trajectory, s1.normalized, s2.trajectory, s2.normalized]);
    disposeInputs(inputs);
    p.dispose();
  });

  it('weights: save → load round trip (bare and Lightning names) gives identical predictions', async () => {
    const a = new DiffusionPlanner(TINY, { seed: 1 });
    const b = new DiffusionPlanner(TINY, { seed: 2 });
    const inputs = syntheticInputs(new Rng(1), 1, 4);
    const predict = (p: DiffusionPlanner) => {
      const s = p.sample(inputs, { rng: new Rng(3), groupSize: 2 });
      const v = Array.from(s.trajectory.dataSync());
      tf.dispose([s.trajectory, s.normalized]);
      return v;
    };
    const file = path.join(tmp, 'a.safetensors');
    await savePlannerWeights(a, file);
    expect(predict(b)).not.toEqual(predict(a));
    const rep = await loadPlannerWeights(b, file);
    expect(rep.prefixed).toBe(false);
    expect(predict(b)).toEqual(predict(a));

    // Lightning-style: agent.action_head.* plus an RL reference copy and another module.
    const sd = plannerStateDict(a);
    const lightning = new Map<string, any>();
    for (const [k, v] of sd) {
      lightning.set(`agent.action_head.${k}`, v);
      lightning.set(`agent.action_head.old_policy.${k}`, v);
    }
    lightning.set('agent.backbone.proj.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    const lfile = path.join(tmp, 'lightning.safetensors');
    await writeSafetensors(lfile, lightning);
    const c = new DiffusionPlanner(TINY, { seed: 5 });
    const rep2 = await loadPlannerWeights(c, lfile);
    expect(rep2.prefixed).toBe(true);
    expect(rep2.dropped.length).toBe(sd.size + 1);
    expect(predict(c)).toEqual(predict(a));
    disposeInputs(inputs);
    for (const p of [a, b, c]) p.dispose();
  });

  it('weights: missing, extra and mis-shaped tensors are errors naming them with shapes', async () => {
    const p = new DiffusionPlanner(TINY, { seed: 1 });
    const sd = plannerStateDict(p);
    const missing = new Map(sd);
    missing.delete('fusion_projector.weight');
    const f1 = path.join(tmp, 'missing.safetensors');
    await writeSafetensors(f1, missing);
    await expect(loadPlannerWeights(p, f1)).rejects.toThrow(/missing\.safetensors.*\n.*missing parameter "fusion_projector\.weight" \(expected shape \[16, 48\]\)/);
    const extra = new Map(sd);
    extra.set('model.transformer_blocks.9.norm1.weight', { dtype: 'F32', shape: [16], data: new Float32Array(16) });
    const f2 = path.join(tmp, 'extra.safetensors');
    await writeSafetensors(f2, extra);
    await expect(loadPlannerWeights(p, f2)).rejects.toThrow(/unexpected tensor "model\.transformer_blocks\.9\.norm1\.weight" with shape \[16\]/);
    const bad = new Map(sd);
    bad.set('feature_encoder.weight', { dtype: 'F32', shape: [16, 13], data: new Float32Array(16 * 13) });
    const f3 = path.join(tmp, 'bad.safetensors');
    await writeSafetensors(f3, bad);
    await expect(loadPlannerWeights(p, f3)).rejects.toThrow(/parameter "feature_encoder\.weight" has shape \[16, 13\], expected \[16, 12\]/);
    p.dispose();
  });

  it('rejects inputs of the wrong width, naming expected and found shapes', () => {
    const p = new DiffusionPlanner(TINY, { seed: 1 });
    const inputs = syntheticInputs(new Rng(1), 1, 4, 13);
    expect(() => p.encodeCondition(inputs)).toThrow(InputError);
    expect(() => p.encodeCondition(inputs)).toThrow(expect.objectContaining({ field: 'inputs.hiddenStates', expected: 'shape [B, L, 12]', found: [1, 4, 13] }));
    disposeInputs(inputs);
    p.dispose();
  });

  it('a tiny IL run on synthetic conditioning converges', () => {
    const p = new DiffusionPlanner(TINY, { seed: 4 });
    const rng = new Rng(21);
    const B = 8;
    const inputs = syntheticInputs(rng, B, 4);
    // Targets depend on the conditioning (history) so the network has something to learn.
    const target = tf.tidy(() => tf.mul(tf.tile(tf.reshape(tf.slice(inputs.history, [0, 0], [B, 3]), [B, 1, 3]), [1, 8, 1]), tf.tensor1d([10, 5, 0.5])));
    const opt = tf.train.adam(1e-2);
    const lossAt = (seed: number) => {
      const r = new Rng(seed);
      let s = 0;
      for (let i = 0; i < 8; i++) s += tf.tidy(() => p.ilLoss({ inputs, target }, { rng: r }).dataSync()[0]!);
      return s / 8;
    };
    const before = lossAt(1000);
    for (let step = 0; step < 60; step++) {
      const { value, grads } = tf.variableGrads(() => p.ilLoss({ inputs, target }, { rng }), p.trainableVariables());
      opt.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const after = lossAt(1000);
    expect(after).toBeLessThan(0.5 * before);
    opt.dispose();
    target.dispose();
    disposeInputs(inputs);
    p.dispose();
  });
});

describe('DDIMScheduler', () => {
  it('leading and trailing spacing, alpha_prev, config freeze', () => {
    const s = new DDIMScheduler().setTimesteps(5);
    expect(s.timesteps).toEqual([80, 60, 40, 20, 0]);
    expect(s.alphaPrevOf(0)).toBe(1);
    expect(s.alphaPrevOf(80)).toBe(s.alphasCumprod[60]);
    expect(Object.isFrozen(s.config)).toBe(true);
    const tr = new DDIMScheduler({ timestepSpacing: 'trailing' }).setTimesteps(5);
    expect(tr.timesteps).toEqual([99, 79, 59, 39, 19]);
    const lin = new DDIMScheduler({ ...RECOGDRIVE_DDIM_CONFIG, betaSchedule: 'linear', numTrainTimesteps: 1000 }).setTimesteps(10);
    expect(lin.timesteps[0]).toBe(900);
    expect(lin.schedule.betas[0]).toBeCloseTo(1e-4, 9);
    expect(lin.schedule.betas[999]).toBeCloseTo(0.02, 9);
    const sl = new DDIMScheduler({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 });
    expect(sl.schedule.betas[999]).toBeCloseTo(0.012, 7);
    expect(() => new DDIMScheduler().setTimesteps(0)).toThrow(/numInferenceSteps/);
    expect(() => new DDIMScheduler({ timestepSpacing: 'odd' as any })).toThrow(/timestepSpacing/);
  });

  it('step: η = 0 is the mean; η > 0 needs noise or rng; injected noise is clipped', () => {
    const s = new DDIMScheduler().setTimesteps(5);
    const x = tf.tensor([[[0.5, -0.2, 0.1]]]);
    const e = tf.tensor([[[0.3, 0.1, -0.4]]]);
    const det = s.step(e, 80, x);
    expect(Array.from(det.prevSample.dataSync())).toEqual(Array.from(det.mean.dataSync()));
    expect(() => s.step(e, 80, x, { eta: 1 })).toThrow(/noise.*rng/);
    const big = tf.tensor([[[10, -10, 0]]]);
    const st = s.step(e, 80, x, { eta: 1, minStd: 0.04, noiseClip: 1, noise: big });
    expect(Array.from(st.noise!.dataSync())).toEqual([1, -1, 0]);
    const std = st.constants.std[0]!;
    const m = st.mean.dataSync();
    const pv = st.prevSample.dataSync();
    expect(pv[0]).toBeCloseTo(m[0]! + std, 6);
    expect(pv[1]).toBeCloseTo(m[1]! - std, 6);
    const noisy = s.addNoise(x, e, 99);
    expect(noisy.dataSync()[0]).toBeCloseTo(Math.sqrt(s.alphasCumprod[99]!) * 0.5 + Math.sqrt(1 - s.alphasCumprod[99]!) * 0.3, 6);
    tf.dispose([x, e, big, noisy, det.prevSample, det.mean, det.predEpsilon, det.predOriginalSample, st.prevSample, st.mean, st.predEpsilon, st.predOriginalSample, st.noise!]);
  });
});

describe('drivekit planner info', () => {
  it('prints the parameter count for small/1536 and small/3584', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await main(['planner', 'info', '--preset', 'small', '--cond-dim', '1536'], io)).toBe(0);
    expect(out.join('\n')).toContain('parameters: 34,329,220');
    out.length = 0;
    expect(await main(['planner', 'info', '--preset', 'small', '--cond-dim', '3584', '--json'], io)).toBe(0);
    expect(JSON.parse(out[0]!).parameters).toBe(35_115_652);
    out.length = 0;
    expect(await main(['planner', 'info', '--preset', 'medium'], io)).toBe(2);
    expect(out.join('\n')).toMatch(/--preset: expected one of small, large, tiny, found "medium"/);
  });
});
