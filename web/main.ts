/**
 * drivekit in the browser: the driving env with a committed trained policy (or the scripted
 * expert) drawn live, and the NAVSIM PDM scorer on a generated scene. Everything runs in this
 * page on TensorFlow.js's WASM backend (WebGPU when the build bundles it and the browser offers
 * an adapter). Imports drivekit's leaf modules from src/ (see vite.config.ts for the node:* stubs).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as webgpu from 'virtual:drivekit-webgpu';
import policyJson from '../results/metadrive/ppo/policy.json';
import policyWeightsUrl from '../results/metadrive/ppo/policy.safetensors?url';
import { parseSafetensors } from '../src/core/safetensors.js';
import { DrivingEnv, type StepInfo } from '../src/env/env.js';
import { ExpertEgoPolicy } from '../src/env/policies.js';
import { METRIC_ABBREVIATIONS } from '../src/metrics/pdm-table.js';
import { ActorCriticPolicy, POLICY_CONFIG } from '../src/models/mlp-policy.js';
import { generateScene } from '../src/navsim/scenegen.js';
import { parseScene } from '../src/navsim/scene-json.js';
import { pdmClosedFor, scoreScene } from '../src/navsim/score-scene.js';
import { toGoldenMetrics, type Trajectory } from '../src/navsim/scorer.js';
import type { PDMVersion } from '../src/navsim/types.js';
import { VecNormalize, type VecNormalizeState } from '../src/rl/common/running-norm.js';
import { envToSvg } from '../src/viz/env-svg.js';
import { renderNavsimScene } from '../src/viz/navsim-svg.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
};

/** Writes a readout: its text and, for tests and scripts, the raw value in `data-value`. */
function show(id: string, value: string | number | boolean, text?: string): void {
  const el = $(id);
  el.dataset.value = String(value);
  el.textContent = text ?? (typeof value === 'number' ? value.toFixed(3) : String(value));
}

function fail(e: unknown): void {
  const err = $('error');
  err.hidden = false;
  err.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
  console.error(e);
}

// ---------------------------------------------------------------------------------------------
// Backend

async function initBackend(): Promise<string> {
  if (webgpu.available && (navigator as Navigator & { gpu?: unknown }).gpu) {
    try {
      if (await tf.setBackend('webgpu')) {
        await tf.ready();
        return 'webgpu';
      }
    } catch {
      // no adapter or no WebGPU support in this browser: WASM below
    }
  }
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
  });
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
  return 'wasm';
}

// ---------------------------------------------------------------------------------------------
// Trained policy (results/metadrive/ppo, bundled as an asset of the build)

interface LoadedPolicy {
  policy: ActorCriticPolicy;
  normalizer: VecNormalize | null;
}

async function loadTrainedPolicy(): Promise<LoadedPolicy> {
  const response = await fetch(policyWeightsUrl);
  if (!response.ok) throw new Error(`policy.safetensors: HTTP ${response.status}`);
  const file = parseSafetensors(new Uint8Array(await response.arrayBuffer()), 'policy.safetensors');
  const json = policyJson as { kind: string; policy: unknown; normalizer?: VecNormalizeState | null };
  if (json.kind !== 'drivekit.ActorCriticPolicy') throw new Error(`policy.json: not a drivekit policy (kind ${json.kind})`);
  const policy = new ActorCriticPolicy(POLICY_CONFIG.resolve(json.policy as object, { file: 'policy.json' }));
  policy.loadStateDict(file.tensors, 'policy.safetensors');
  let normalizer: VecNormalize | null = null;
  if (json.normalizer?.options.normObs) {
    normalizer = VecNormalize.fromState(json.normalizer, 1);
    normalizer.training = false;
  }
  return { policy, normalizer };
}

/** The policy's mean action for one observation, clipped to the action box. */
function trainedAction(p: LoadedPolicy, obs: Float32Array): [number, number] {
  const x = p.normalizer ? p.normalizer.normalizeObs(obs, 1, false) : obs;
  const head = tf.tidy(() => p.policy.forward(tf.tensor2d(x, [1, x.length])).head);
  const m = head.dataSync();
  head.dispose();
  const clip = (v: number) => (v < -1 ? -1 : v > 1 ? 1 : v);
  return [clip(m[0]!), clip(m[1]!)];
}

// ---------------------------------------------------------------------------------------------
// Driving env

let trained: LoadedPolicy | null = null;
let runToken = 0;

function outcomeOf(info: StepInfo): string {
  if (info.arrive_dest) return 'success';
  if (info.crash) return 'crash';
  if (info.out_of_road) return 'out of road';
  if (info.max_step) return 'max step';
  return 'stopped';
}

function readInt(id: string, lo: number, hi: number): number {
  const v = Number(($(id) as HTMLInputElement).value);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`#${id}: expected an integer in [${lo}, ${hi}], found ${JSON.stringify(($(id) as HTMLInputElement).value)}`);
  return v;
}

function readNumber(id: string, lo: number, hi: number): number {
  const v = Number(($(id) as HTMLInputElement).value);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new Error(`#${id}: expected a number in [${lo}, ${hi}], found ${JSON.stringify(($(id) as HTMLInputElement).value)}`);
  return v;
}

async function runEpisode(): Promise<void> {
  const token = ++runToken;
  const seed = readInt('env-seed', 0, 2 ** 32 - 1);
  const density = readNumber('env-density', 0, 1);
  const which = ($('env-policy') as HTMLSelectElement).value;
  const speed = ($('env-speed') as HTMLSelectElement).value;
  const env = new DrivingEnv({ start_seed: seed, num_scenarios: 1, traffic_density: density }, { seed });
  let { obs } = env.reset({ seed });
  const expert = new ExpertEgoPolicy();
  expert.reset(env);
  const act = (): [number, number] => (which === 'expert' ? expert.act(env) : trainedAction(trained!, obs));
  const policyName = which === 'expert' ? 'expert' : 'trained';
  const trail: number[] = [env.ego.x, env.ego.y];
  const bev = $('bev');
  const draw = () => {
    bev.innerHTML = envToSvg(env, { trail, width: 720, title: `seed ${seed}  ${policyName}  t=${env.stepsInEpisode}  ${env.ego.speedKmh.toFixed(0)} km/h` });
  };
  show('env-status', 'running');
  show('env-outcome', '', '–');
  show('env-success', '', '–');
  $('env-stop').removeAttribute('disabled');
  draw();
  const t0 = performance.now();
  let stepsDone = 0;
  let last: StepInfo | null = null;
  let done = false;
  const frame = (now: number): void => {
    if (token !== runToken) return;
    try {
      // Env time is 0.1 s a step: real time is 10 steps a second.
      const due = speed === 'max' ? stepsDone + 25 : Math.floor(((now - t0) / 1000) * 10 * Number(speed)) + 1;
      while (!done && stepsDone < due) {
        const r = env.step(act());
        obs = r.obs;
        last = r.info;
        trail.push(env.ego.x, env.ego.y);
        stepsDone++;
        done = r.terminated || r.truncated;
      }
      draw();
      if (last) {
        show('env-step', last.episode_length, String(last.episode_length));
        show('env-speed-kmh', last.velocity, last.velocity.toFixed(1));
        show('env-route', last.route_completion);
        show('env-reward', last.episode_reward, last.episode_reward.toFixed(2));
        const sps = stepsDone / Math.max(1e-3, (performance.now() - t0) / 1000);
        show('env-sps', sps, sps.toFixed(0));
      }
      if (!done) {
        requestAnimationFrame(frame);
        return;
      }
      const info = last!;
      const outcome = outcomeOf(info);
      show('env-outcome', outcome);
      show('env-success', info.arrive_dest, info.arrive_dest ? 'yes' : 'no');
      show('env-status', 'done');
      $('env-stop').setAttribute('disabled', '');
      const row = document.createElement('tr');
      for (const cell of [String(seed), density.toFixed(2), policyName, outcome, info.route_completion.toFixed(3), String(info.episode_length), info.episode_reward.toFixed(1)]) {
        const td = document.createElement('td');
        td.textContent = cell;
        row.append(td);
      }
      $('episodes').querySelector('tbody')!.prepend(row);
    } catch (e) {
      show('env-status', 'error');
      fail(e);
    }
  };
  requestAnimationFrame(frame);
}

// ---------------------------------------------------------------------------------------------
// NAVSIM scoring

const METRIC_LABELS: Readonly<Record<string, string>> = METRIC_ABBREVIATIONS;

function scoreGeneratedScene(): void {
  show('score-status', 'running');
  const seed = readInt('score-seed', 0, 2 ** 32 - 1);
  const version = ($('score-version') as HTMLSelectElement).value as PDMVersion;
  const t0 = performance.now();
  const g = generateScene(seed);
  const scene = parseScene(g.scene, { source: g.name });
  const v = scene.ego.vx;
  // PDM-Closed's chosen plan (global frame, 0.1 s) at NAVSIM's 8 poses x 0.5 s.
  const planner = pdmClosedFor(scene, version);
  const plan: number[][] = [];
  for (let k = 1; k <= 8; k++) plan.push([planner.poses[15 * k]!, planner.poses[15 * k + 1]!, planner.poses[15 * k + 2]!]);
  const named: { name: string; trajectory: Trajectory }[] = [
    { name: 'PDM-Closed plan', trajectory: { poses: plan, frame: 'global' } },
    { name: 'constant velocity', trajectory: { poses: Array.from({ length: 8 }, (_, k) => [v * 0.5 * (k + 1), 0, 0]), frame: 'ego' } },
    { name: 'brake to stop', trajectory: { poses: Array.from({ length: 8 }, (_, k) => [Math.min(v * 0.5 * (k + 1), (v * v) / 6), 0, 0]), frame: 'ego' } },
    { name: 'swerve left', trajectory: { poses: Array.from({ length: 8 }, (_, k) => [v * 0.5 * (k + 1), 0.45 * (k + 1) ** 1.5, 0.12 * (k + 1)]), frame: 'ego' } },
  ];
  if (scene.humanTrajectory) named.unshift({ name: 'human', trajectory: { poses: scene.humanTrajectory.poses, frame: 'ego' } });
  const result = scoreScene(scene, named.map((n) => n.trajectory), { version });
  const metrics = result.metrics as unknown as Record<string, number | null>[];
  const scores = metrics.map((m) => m.score as number);
  const ms = performance.now() - t0;
  $('scene').innerHTML = renderNavsimScene(scene, {
    proposals: named.map((n) => n.trajectory),
    scores,
    width: 720,
    sceneTrajectory: false,
    title: `${g.name}  ${g.info.blocks.join('')}  command ${g.info.command}  ${v.toFixed(1)} m/s  ${version === 'v1.1' ? 'PDMS' : 'EPDMS'}`,
  });
  const keys = Object.keys(metrics[0]!);
  const head = $('score-table').querySelector('thead')!;
  head.innerHTML = '';
  const hr = document.createElement('tr');
  for (const h of ['proposal', ...keys.map((k) => METRIC_LABELS[k] ?? k)]) {
    const th = document.createElement('th');
    th.textContent = h;
    hr.append(th);
  }
  head.append(hr);
  const body = $('score-table').querySelector('tbody')!;
  body.innerHTML = '';
  named.forEach((n, i) => {
    const tr = document.createElement('tr');
    for (const cell of [n.name, ...keys.map((k) => (metrics[i]![k] === null ? 'n/a' : (metrics[i]![k] as number).toFixed(3)))]) {
      const td = document.createElement('td');
      td.textContent = cell;
      tr.append(td);
    }
    body.append(tr);
  });
  const pdm = toGoldenMetrics(result.pdmClosed.scores, version).score;
  let best = 0;
  scores.forEach((s, i) => {
    if (s > scores[best]!) best = i;
  });
  show('score-scene', g.name, `${g.name} (${scene.agents.length} agents)`);
  show('score-pdm', pdm);
  show('score-best', scores[best]!, `${named[best]!.name} (${scores[best]!.toFixed(3)})`);
  show('score-ms', ms, ms.toFixed(0));
  show('score-status', 'done');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const backend = await initBackend();
  show('backend', backend, webgpu.available ? backend : `${backend} (WebGPU: ${webgpu.reason})`);
  trained = await loadTrainedPolicy();
  $('env-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    runEpisode().catch((e) => {
      show('env-status', 'error');
      fail(e);
    });
  });
  $('env-stop').addEventListener('click', () => {
    runToken++;
    show('env-status', 'stopped');
    $('env-stop').setAttribute('disabled', '');
  });
  $('score-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    try {
      scoreGeneratedScene();
    } catch (e) {
      show('score-status', 'error');
      fail(e);
    }
  });
  $('env-run').removeAttribute('disabled');
  $('score-run').removeAttribute('disabled');
  document.body.dataset.ready = 'true';
}

main().catch(fail);
