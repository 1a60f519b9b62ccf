import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { propagateState, SIMULATION_DT } from '../../src/navsim/bicycle.js';
import { initialStateArray, referenceStatesFromPoses } from '../../src/navsim/interpolate.js';
import { choleskySolve, fitProfiles, solvePentadiagonal } from '../../src/navsim/lqr.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { simulateProposals } from '../../src/navsim/simulate.js';
import { PDM_V1_DIR } from '../golden-dirs.js';

const v1dir = PDM_V1_DIR;

/** NAVSIM's dense normal equations, built literally (including nuPlan's banded-matrix quirk). */
function denseVelocityFit(ref: Float64Array, M: number, dt = 0.1): Float64Array {
  const rows = 2 * M;
  const A = new Float64Array(rows * M);
  const y = new Float64Array(rows);
  for (let i = 0; i < M; i++) {
    const h = ref[i * 11 + 2]!;
    y[2 * i] = ref[(i + 1) * 11]! - ref[i * 11]!;
    y[2 * i + 1] = ref[(i + 1) * 11 + 1]! - ref[i * 11 + 1]!;
    for (let j = 0; j <= i; j++) {
      const w = j === 0 ? dt : dt ** 2;
      A[2 * i * M + j] = Math.cos(h) * w;
      A[(2 * i + 1) * M + j] = Math.sin(h) * w;
    }
  }
  // banded = zeros(M-2, M-1); banded[:, 1:] = eye; banded[:, :-1] = -eye; R = [0 | banded]
  const nb = M - 2;
  const banded = new Float64Array(nb * (M - 1));
  for (let r = 0; r < nb; r++) banded[r * (M - 1) + r + 1] = 1;
  for (let r = 0; r < nb; r++) for (let c = 0; c < M - 2; c++) banded[r * (M - 1) + c] = r === c ? -1 : 0;
  const H = new Float64Array(M * M);
  const b = new Float64Array(M);
  for (let j = 0; j < M; j++) {
    for (let k = 0; k < M; k++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += A[r * M + j]! * A[r * M + k]!;
      let reg = 0;
      if (j > 0 && k > 0) for (let r = 0; r < nb; r++) reg += banded[r * (M - 1) + j - 1]! * banded[r * (M - 1) + k - 1]!;
      H[j * M + k] = s + 1e-4 * reg;
    }
    let s = 0;
    for (let r = 0; r < rows; r++) s += A[r * M + j]! * y[r]!;
    b[j] = s;
  }
  choleskySolve(H, b, M);
  const v = new Float64Array(M);
  let cum = 0;
  v[0] = b[0]!;
  for (let k = 1; k < M; k++) {
    cum += b[k]! * dt;
    v[k] = b[0]! + cum;
  }
  return v;
}

describe('LQR tracker', () => {
  it('banded profile fit equals the dense NAVSIM least squares', () => {
    const g = JSON.parse(readFileSync(join(v1dir, 'straight_gentle_accel.json'), 'utf8'));
    const ref = new Float64Array(g.expected.evaluated.reference_states_10hz.flat());
    const v = new Float64Array(40);
    const k = new Float64Array(40);
    fitProfiles(ref, 0, 41, v, k);
    const dense = denseVelocityFit(ref, 40);
    dense.forEach((d, i) => expect(Math.abs(d - v[i]!)).toBeLessThan(1e-9));
    // the quirk matters: NAVSIM's reference velocity 10 steps ahead is ~9.1136 m/s here
    expect(v[10]).toBeCloseTo(9.1136, 3);
  });

  it('pentadiagonal solver matches a dense Cholesky solve', () => {
    const n = 9;
    const d = new Float64Array(n).map((_, i) => 4 + i);
    const e = new Float64Array(n).map((_, i) => 0.5 - 0.1 * i);
    const f = new Float64Array(n).map((_, i) => 0.2 + 0.01 * i);
    const H = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      H[i * n + i] = d[i]!;
      if (i + 1 < n) H[i * n + i + 1] = H[(i + 1) * n + i] = e[i]!;
      if (i + 2 < n) H[i * n + i + 2] = H[(i + 2) * n + i] = f[i]!;
    }
    const b1 = new Float64Array(n).map((_, i) => Math.sin(i));
    const b2 = b1.slice();
    choleskySolve(H, b1, n);
    solvePentadiagonal(d, e, f, b2, n);
    b1.forEach((v, i) => expect(b2[i]).toBeCloseTo(v, 12));
  });

  it('simulates every golden trajectory within 1e-6 of NAVSIM', () => {
    for (const name of ['curve_follow_left', 'harsh_brake_comfort', 'zigzag_jerky', 'reversing', 'carpark_tight_circle', 'standstill_free_road']) {
      const g = JSON.parse(readFileSync(join(v1dir, `${name}.json`), 'utf8'));
      const scene = parseScene(g);
      const t = scene.trajectory!;
      const ref = referenceStatesFromPoses(scene.ego, scene.timestampUs, t.poses, t.poses.length / 3, t.frame, t.intervalS);
      const sim = simulateProposals(ref, 1, initialStateArray(scene.ego));
      (g.expected.evaluated.simulated_states_10hz as number[][]).flat().forEach((v, i) => expect(Math.abs(v - sim[i]!)).toBeLessThan(1e-6));
    }
  });
});

describe('kinematic bicycle', () => {
  it('applies the first-order lags and Euler step with the old state', () => {
    const s = new Float64Array(11);
    s[3] = 10; // vx
    const out = new Float64Array(11);
    propagateState(s, 0, 3, 0.5, out, 0);
    const dt = SIMULATION_DT;
    expect(dt).toBe(100000 * 1e-6);
    expect(out[0]).toBeCloseTo(10 * dt, 14); // x uses the old velocity
    expect(out[5]).toBeCloseTo((dt / (dt + 0.2)) * 3, 14); // filtered acceleration
    expect(out[3]).toBeCloseTo(10 + out[5]! * dt, 14);
    const steer = (dt / (dt + 0.05)) * (dt * 0.5);
    expect(out[7]).toBeCloseTo(steer, 14);
    expect(out[2]).toBe(0); // heading uses the old steering angle (0)
    expect(out[9]).toBeCloseTo((out[3]! * Math.tan(out[7]!)) / 3.089, 14);
  });
  it('clips the steering angle to ±π/3', () => {
    const s = new Float64Array(11);
    s[7] = Math.PI / 3;
    const out = new Float64Array(11);
    propagateState(s, 0, 0, 100, out, 0);
    expect(out[7]).toBe(Math.PI / 3);
  });
});
