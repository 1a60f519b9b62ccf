import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { CARTPOLE, CartPoleEnv, PENDULUM, PendulumEnv, SyncVectorEnv, angleNormalize, makeEnv, type Env } from '../../src/env/index.js';
import { DrivingEnv } from '../../src/env/env.js';
import { ConfigError } from '../../src/core/errors.js';
import type { VecEnvLike } from '../../src/rl/common/vec-env.js';

/**
 * Reference values below were produced with gymnasium 1.3.0 (`gymnasium.make(id)`, setting
 * `env.unwrapped.state` and stepping with float64 actions); they are float64 states after each step.
 */
const GYM_CARTPOLE_FROM = [0.01, -0.02, 0.03, 0.04];
const GYM_CARTPOLE: [number, number[]][] = [
  [1, [0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081]],
  [0, [0.013093583914951107, -0.020868848948191993, 0.025938625640799837, 0.0591679999394166]],
  [0, [0.012676206935987267, -0.21635292104612766, 0.02712198563958817, 0.3599205713784138]],
  [1, [0.008349148515064714, -0.021626799199488206, 0.03432039706715644, 0.0759116989474441]],
  [1, [0.00791661253107495, 0.17298676004769037, 0.035838631046105324, -0.20574851582677406]],
  [1, [0.011376347732028757, 0.3675783725675468, 0.03172366072956984, -0.4869142013445082]],
  [0, [0.01872791518337969, 0.17202349486382784, 0.02198537670267968, -0.18440428392099584]],
  [1, [0.022168385080656248, 0.36682408600495897, 0.01829729102425976, -0.4700713747851109]],
  [0, [0.02950486680075543, 0.1714485132472654, 0.008895863528557544, -0.17167796834313398]],
  [0, [0.03293383706570074, -0.02379962460232901, 0.0054623041616948635, 0.12379799946559022]],
  [1, [0.03245784457365416, 0.17124364660288527, 0.007938264151006668, -0.1671566333199878]],
  [1, [0.03588271750571186, 0.3662510735271441, 0.004595131484606911, -0.4573247321594314]],
];
const GYM_PENDULUM_FROM = [2.5, -0.7];
/** [action, state after, reward]. */
const GYM_PENDULUM: [number, number[], number][] = [
  [0.5, [2.4911927054038983, -0.17614589192203256], -6.299250000000001],
  [3.0, [2.520091838917655, 0.5779826702751413], -6.213143832981697],
  [-5.0, [2.555825571922657, 0.714674660100036], -6.388269273293207],
  [1.5, [2.623540757867531, 1.3543037188974885], -6.585570341072688],
  [-2.0, [2.6948255160798937, 1.4256951642472484], -7.070379964494094],
  [0.0, [2.78231223346187, 1.7497343476395244], -7.465345232251062],
  [2.0, [2.897983976704356, 2.313434864849725], -8.051418393202528],
  [-0.3, [3.0204509567957816, 2.449339601828508], -8.933599216625423],
];

/** One CartPole step written out from the equations (Barto et al. 1983, gymnasium's Euler update). */
function cartPoleFormula(s: number[], action: number): number[] {
  const [x, xDot, th, thDot] = s as [number, number, number, number];
  const g = 9.8, mc = 1.0, mp = 0.1, l = 0.5, tau = 0.02;
  const f = action === 1 ? 10 : -10;
  const temp = (f + mp * l * thDot * thDot * Math.sin(th)) / (mc + mp);
  const thAcc = (g * Math.sin(th) - Math.cos(th) * temp) / (l * (4 / 3 - (mp * Math.cos(th) ** 2) / (mc + mp)));
  const xAcc = temp - (mp * l * thAcc * Math.cos(th)) / (mc + mp);
  return [x + tau * xDot, xDot + tau * xAcc, th + tau * thDot, thDot + tau * thAcc];
}

function closeArray(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol);
}

describe('CartPole-v1', () => {
  it('one step from a given state equals the equations, and the observation is float32 of the state', () => {
    const env = new CartPoleEnv();
    const s0 = [0.1, -0.3, -0.05, 0.2];
    env.setStateVector(s0);
    const r = env.step(1);
    const want = cartPoleFormula(s0, 1);
    closeArray(env.state, want, 1e-15);
    expect(Array.from(r.obs)).toEqual(want.map((v) => Math.fround(v)));
    expect(r.reward).toBe(1);
    expect(r.terminated).toBe(false);
    expect(r.truncated).toBe(false);
    // Push left from the same state differs only through the force sign.
    env.setStateVector(s0);
    env.step(0);
    closeArray(env.state, cartPoleFormula(s0, 0), 1e-15);
  });

  it('matches gymnasium 1.3.0 over 12 steps', () => {
    const env = new CartPoleEnv();
    env.setStateVector(GYM_CARTPOLE_FROM);
    for (const [a, s] of GYM_CARTPOLE) {
      env.step(a);
      closeArray(env.state, s, 1e-14);
    }
  });

  it('terminates when the pole passes 12 degrees (gymnasium: 9 pushes right from rest), reward 1 then 0 after', () => {
    const env = new CartPoleEnv();
    env.setStateVector([0, 0, 0, 0]);
    let t = 0;
    let r;
    do {
      r = env.step(1);
      t++;
      expect(r.reward).toBe(1);
    } while (!r.terminated);
    expect(t).toBe(9);
    closeArray(env.state, [0.14065097203306187, 1.7603811257683097, -0.21518604988500967, -2.777886494012814], 1e-14);
    expect(env.state[2]!).toBeLessThan(-CARTPOLE.thetaThresholdRadians);
    // Stepping past termination (gymnasium warns): reward 0.
    expect(env.step(1).reward).toBe(0);
  });

  it('terminates when the cart leaves |x| <= 2.4', () => {
    const env = new CartPoleEnv();
    env.setStateVector([2.39, 1.0, 0, 0]);
    const r = env.step(1);
    expect(env.state[0]).toBeCloseTo(2.41, 12);
    expect(r.terminated).toBe(true);
    expect(r.reward).toBe(1);
  });

  it('truncates at 500 steps (balanced by hand), not terminated', () => {
    const env = new CartPoleEnv();
    // A balancing controller keeps the pole up and the cart near 0 for the whole episode.
    env.reset({ seed: 3 });
    let last;
    for (let k = 1; k <= 500; k++) {
      const [x, xDot, th, thDot] = env.state as unknown as [number, number, number, number];
      last = env.step(th + 0.5 * thDot + 0.05 * x + 0.1 * xDot > 0 ? 1 : 0);
      if (k < 500) expect(last.truncated || last.terminated).toBe(false);
    }
    expect(last!.truncated).toBe(true);
    expect(last!.terminated).toBe(false);
    expect(env.stepsInEpisode).toBe(500);
  });

  it('spaces are gymnasium\'s', () => {
    const env = makeEnv('CartPole-v1');
    expect(env.actionSpace).toEqual({ type: 'Discrete', n: 2 });
    const o = env.observationSpace;
    if (o.type !== 'Box') throw new Error('expected a Box');
    expect(o.shape).toEqual([4]);
    expect(Array.from(o.high as Float32Array)).toEqual([4.8, Infinity, (12 * 2 * Math.PI) / 360 * 2, Infinity].map(Math.fround));
    expect(Array.from(o.low as Float32Array)).toEqual([-4.8, -Infinity, -((12 * 2 * Math.PI) / 360) * 2, -Infinity].map(Math.fround));
  });

  it('reset draws all four values uniformly in [-0.05, 0.05); same seed, same episode', () => {
    const a = makeEnv('CartPole-v1');
    const b = makeEnv('CartPole-v1');
    const lo = new Float64Array(4).fill(1), hi = new Float64Array(4).fill(-1);
    const probe = new CartPoleEnv();
    for (let seed = 0; seed < 200; seed++) {
      probe.reset({ seed });
      for (let i = 0; i < 4; i++) {
        lo[i] = Math.min(lo[i]!, probe.state[i]!);
        hi[i] = Math.max(hi[i]!, probe.state[i]!);
      }
    }
    for (let i = 0; i < 4; i++) {
      expect(lo[i]!).toBeGreaterThanOrEqual(-0.05);
      expect(hi[i]!).toBeLessThan(0.05);
      expect(hi[i]! - lo[i]!).toBeGreaterThan(0.09);
    }
    const ra = a.reset({ seed: 11 }), rb = b.reset({ seed: 11 });
    expect(Array.from(ra.obs)).toEqual(Array.from(rb.obs));
    for (let k = 0; k < 30; k++) expect(Array.from(a.step(k % 3 === 0 ? 1 : 0).obs)).toEqual(Array.from(b.step(k % 3 === 0 ? 1 : 0).obs));
    // The constructor seed is the seed of reset() without one.
    expect(Array.from(makeEnv('CartPole-v1', { seed: 11 }).reset().obs)).toEqual(Array.from(ra.obs));
    expect(Array.from(a.reset({ seed: 12 }).obs)).not.toEqual(Array.from(ra.obs));
  });

  it('bad actions are InputErrors naming the action; step before reset is an error', () => {
    const env = new CartPoleEnv();
    expect(() => env.step(1)).toThrow(/reset\(\)/);
    env.reset();
    for (const bad of [2, -1, 0.5, NaN]) {
      try {
        env.step(bad);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as InputError).field).toBe('action');
        expect((e as InputError).found).toBe(bad);
      }
    }
    expect(env.step([1]).reward).toBe(1); // a one-element array is accepted
  });
});

describe('Pendulum-v1', () => {
  it('one step from a given state equals the equations, reward from the state before the step', () => {
    const env = new PendulumEnv();
    const th = -2.9, thDot = 1.3, u = 0.7;
    env.setStateVector([th, thDot]);
    const r = env.step([u]);
    const newThDot = thDot + (((3 * 10) / 2) * Math.sin(th) + 3 * u) * 0.05;
    const newTh = th + newThDot * 0.05;
    expect(env.state[1]).toBeCloseTo(newThDot, 14);
    expect(env.state[0]).toBeCloseTo(newTh, 14);
    expect(r.reward).toBeCloseTo(-(th * th + 0.1 * thDot * thDot + 0.001 * u * u), 14);
    expect(Array.from(r.obs)).toEqual([Math.cos(newTh), Math.sin(newTh), newThDot].map(Math.fround));
    expect(r.terminated).toBe(false);
    expect(r.truncated).toBe(false);
  });

  it('matches gymnasium 1.3.0 over 8 steps, actions clipped to [-2, 2]', () => {
    const env = new PendulumEnv();
    env.setStateVector(GYM_PENDULUM_FROM);
    for (const [a, s, rew] of GYM_PENDULUM) {
      const r = env.step([a]);
      closeArray(env.state, s, 1e-13);
      expect(r.reward).toBeCloseTo(rew, 12);
      expect(env.lastU).toBe(Math.max(-2, Math.min(2, a)));
    }
    // u = 3 acts as u = 2 exactly.
    const a = new PendulumEnv(), b = new PendulumEnv();
    a.setStateVector([0.3, 0.1]);
    b.setStateVector([0.3, 0.1]);
    const ra = a.step(3), rb = b.step(2);
    expect(ra.reward).toBe(rb.reward);
    expect(Array.from(a.state)).toEqual(Array.from(b.state));
  });

  it('angular speed is clipped to 8, and the angle in the cost wraps as Python modulo (gymnasium values)', () => {
    const env = new PendulumEnv();
    env.setStateVector([1.5, 7.9]);
    const r = env.step(2);
    expect(env.state[1]).toBe(8);
    expect(env.state[0]).toBeCloseTo(1.9, 14);
    expect(r.reward).toBeCloseTo(-8.495, 12);
    env.setStateVector([-7.0, 7.9]);
    const r2 = env.step(2);
    closeArray(env.state, [-6.614636997451955, 7.707260050960908], 1e-13);
    expect(r2.reward).toBeCloseTo(-6.758823303843224, 12);
    expect(angleNormalize(-7)).toBeCloseTo(-7 + 2 * Math.PI, 14);
    expect(angleNormalize(Math.PI)).toBeCloseTo(-Math.PI, 14);
    expect(angleNormalize(4)).toBeCloseTo(4 - 2 * Math.PI, 14);
    expect(angleNormalize(0.25)).toBe(0.25);
  });

  it('never terminates, truncates at 200 steps', () => {
    const env = makeEnv('Pendulum-v1', { seed: 5 });
    env.reset();
    for (let t = 1; t <= 200; t++) {
      const r = env.step([0]);
      expect(r.terminated).toBe(false);
      expect(r.truncated).toBe(t === 200);
      expect(r.reward).toBeLessThanOrEqual(0);
      expect(r.reward).toBeGreaterThanOrEqual(-(Math.PI ** 2 + 0.1 * 64 + 0.001 * 4));
    }
  });

  it('spaces and reset distribution are gymnasium\'s; same seed, same episode', () => {
    const env = new PendulumEnv();
    expect(env.actionSpace).toEqual({ type: 'Box', shape: [1], low: -2, high: 2, dtype: 'float32' });
    expect(Array.from(env.observationSpace.high as Float32Array)).toEqual([1, 1, 8]);
    expect(PENDULUM.g).toBe(10);
    let thMin = 9, thMax = -9, dMin = 9, dMax = -9;
    for (let seed = 0; seed < 300; seed++) {
      env.reset({ seed });
      thMin = Math.min(thMin, env.state[0]!);
      thMax = Math.max(thMax, env.state[0]!);
      dMin = Math.min(dMin, env.state[1]!);
      dMax = Math.max(dMax, env.state[1]!);
    }
    expect(thMin).toBeGreaterThanOrEqual(-Math.PI);
    expect(thMax).toBeLessThan(Math.PI);
    expect(thMax - thMin).toBeGreaterThan(6);
    expect(dMin).toBeGreaterThanOrEqual(-1);
    expect(dMax).toBeLessThan(1);
    expect(dMax - dMin).toBeGreaterThan(1.9);
    const a = makeEnv('Pendulum-v1'), b = makeEnv('Pendulum-v1');
    expect(Array.from(a.reset({ seed: 9 }).obs)).toEqual(Array.from(b.reset({ seed: 9 }).obs));
    for (let t = 0; t < 50; t++) {
      const ra = a.step([Math.sin(t)]), rb = b.step([Math.sin(t)]);
      expect(ra.reward).toBe(rb.reward);
      expect(Array.from(ra.obs)).toEqual(Array.from(rb.obs));
    }
  });

  it('wrong action width and non-finite torques are InputErrors', () => {
    const env = new PendulumEnv();
    env.reset();
    try {
      env.step([1, 2]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).expected).toBe(1);
      expect((e as InputError).found).toBe(2);
    }
    expect(() => env.step([NaN])).toThrow(InputError);
  });
});

describe('makeEnv and the Env interface', () => {
  it('unknown ids are ConfigErrors with a suggestion', () => {
    try {
      makeEnv('Cartpole-v1' as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).found).toBe('Cartpole-v1');
      expect((e as Error).message).toContain("'CartPole-v1'");
    }
  });

  it('DrivingEnv satisfies Env structurally', () => {
    const env: Env = new DrivingEnv({ start_seed: 0, num_scenarios: 1, traffic_density: 0 });
    const { obs } = env.reset({ seed: 0 });
    expect(obs.length).toBe(259);
    const r = env.step([0, 1]);
    expect(typeof r.reward).toBe('number');
    expect(r.info.env_seed).toBe(0);
  });
});

describe('SyncVectorEnv', () => {
  it('batches observations, seeds env i with seed + i, and matches single envs step for step', () => {
    const venv = new SyncVectorEnv(() => makeEnv('CartPole-v1'), 3);
    const { obs } = venv.reset(100);
    expect(obs.length).toBe(12);
    const singles = [0, 1, 2].map((i) => {
      const e = makeEnv('CartPole-v1');
      expect(Array.from(e.reset({ seed: 100 + i }).obs)).toEqual(Array.from(obs.subarray(4 * i, 4 * i + 4)));
      return e;
    });
    for (let t = 0; t < 5; t++) {
      const acts = [t % 2, 1, 0];
      const r = venv.step(acts);
      singles.forEach((e, i) => expect(Array.from(r.obs.subarray(4 * i, 4 * i + 4))).toEqual(Array.from(e.step(acts[i]!).obs)));
    }
  });

  it('auto-resets finished envs (SB3): obs is the new episode, finalObs the last one, episodes the return/length', () => {
    // Env 0 ends after 3 steps (time limit), env 1 after 5.
    const venv = new SyncVectorEnv((i) => new PendulumEnv({ maxEpisodeSteps: i === 0 ? 3 : 5 }), 2, { seed: 7 });
    venv.reset();
    const shadow = new PendulumEnv({ maxEpisodeSteps: 3 });
    shadow.reset({ seed: 7 });
    let sum = 0;
    for (let t = 1; t <= 3; t++) {
      const r = venv.step([0.5, -0.5]);
      const s = shadow.step([0.5]);
      sum += s.reward;
      expect(r.rewards[0]).toBe(Math.fround(s.reward));
      expect(r.truncated[0]).toBe(t === 3 ? 1 : 0);
      expect(r.terminated[0]).toBe(0);
      expect(r.truncated[1]).toBe(0);
      if (t < 3) {
        expect(r.finalObs[0]).toBeNull();
        expect(r.episodes[0]).toBeNull();
      } else {
        expect(Array.from(r.finalObs[0]!)).toEqual(Array.from(s.obs));
        expect(r.episodes[0]!.length).toBe(3);
        expect(r.episodes[0]!.return).toBeCloseTo(sum, 12);
        // The returned row is the first observation of the next episode: env 0's stream after seed 7.
        const next = shadow.reset();
        expect(Array.from(r.obs.subarray(0, 3))).toEqual(Array.from(next.obs));
        expect(Array.from(r.obs.subarray(0, 3))).not.toEqual(Array.from(s.obs));
      }
    }
    const r4 = venv.step([0, 0]);
    r4.finalObs.forEach((f) => expect(f).toBeNull());
    const r5 = venv.step([0, 0]);
    expect(r5.truncated[1]).toBe(1);
    expect(r5.episodes[1]!.length).toBe(5);
  });

  it('terminated vs truncated for CartPole, and Discrete actions are one per env', () => {
    const venv = new SyncVectorEnv(() => makeEnv('CartPole-v1'), 2, { seed: 0 });
    venv.reset();
    let terminatedSeen = 0;
    for (let t = 0; t < 200; t++) {
      const r = venv.step([1, 1]); // always right: the pole falls within a few dozen steps
      for (let i = 0; i < 2; i++) {
        if (r.terminated[i]) {
          terminatedSeen++;
          expect(r.truncated[i]).toBe(0);
          expect(r.finalObs[i]).not.toBeNull();
          const f = r.finalObs[i]!;
          expect(Math.abs(f[0]!) > 2.4 || Math.abs(f[2]!) > CARTPOLE.thetaThresholdRadians).toBe(true);
        }
      }
    }
    expect(terminatedSeen).toBeGreaterThan(4);
    expect(() => venv.step([1, 1, 1, 1])).toThrow(InputError);
    expect(() => venv.step([1, 2])).toThrow(InputError);
  });

  it('same seed, same run; getState/setState continues bit-identically', () => {
    const run = (n: number, venv = new SyncVectorEnv(() => makeEnv('Pendulum-v1'), 2, { seed: 3 })) => {
      const out: number[] = [];
      for (let t = 0; t < n; t++) {
        const r = venv.step([Math.sin(t), Math.cos(t)]);
        out.push(...r.rewards, ...r.obs);
      }
      return out;
    };
    const a = new SyncVectorEnv(() => makeEnv('Pendulum-v1'), 2, { seed: 3 });
    a.reset();
    const first = run(250, a);
    const b = new SyncVectorEnv(() => makeEnv('Pendulum-v1'), 2, { seed: 3 });
    b.reset();
    expect(run(250, b)).toEqual(first);
    // Snapshot, run on, restore into a fresh vector env, and compare the continuation.
    const snap = JSON.parse(JSON.stringify(a.getState()));
    const cont = run(220, a);
    const c = new SyncVectorEnv(() => makeEnv('Pendulum-v1'), 2);
    c.setState(snap);
    expect(run(220, c)).toEqual(cont);
    // DrivingEnv has no snapshot: getState says so with null.
    expect(new SyncVectorEnv(() => new DrivingEnv({ traffic_density: 0 }), 1).getState()).toBeNull();
  });

  it("satisfies the learners' VecEnvLike structurally", () => {
    const v: VecEnvLike = new SyncVectorEnv(() => makeEnv('Pendulum-v1'), 2, { seed: 4 });
    const { obs } = v.reset();
    expect(Array.from(obs.subarray(3, 6))).toEqual(Array.from(makeEnv('Pendulum-v1').reset({ seed: 5 }).obs));
    expect(v.step(new Float32Array([0.1, 0.2])).finalObs).toEqual([null, null]);
  });

  it('works over DrivingEnv (Box actions [n * 2])', () => {
    const venv = new SyncVectorEnv(() => new DrivingEnv({ start_seed: 0, num_scenarios: 4, traffic_density: 0 }), 2, { seed: 0 });
    const { obs } = venv.reset();
    expect(obs.length).toBe(2 * 259);
    expect(venv.actDim).toBe(2);
    const r = venv.step([0, 1, 0.1, 0.5]);
    expect(r.rewards.length).toBe(2);
    expect(() => venv.step([0, 1])).toThrow(InputError);
  });
});
