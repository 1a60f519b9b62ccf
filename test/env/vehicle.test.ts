import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { GRAVITY, VEHICLE_TYPES, Vehicle, boxesOverlap, randomTrafficModel } from '../../src/env/vehicle.js';

const DT = 0.02;
function envStep(v: Vehicle, steer: number, tb: number): void {
  v.applyAction(steer, tb, DT);
  for (let k = 0; k < 5; k++) v.physicsStep(DT);
}

describe('vehicle dynamics (spec §2.3-2.4)', () => {
  it('samples engine/brake per instance inside the MetaDrive ranges', () => {
    const v = new Vehicle('default', new Rng(3));
    expect(v.maxEngineForce).toBeGreaterThanOrEqual(750);
    expect(v.maxEngineForce).toBeLessThan(850);
    expect(v.maxBrakeForce).toBeGreaterThanOrEqual(80);
    expect(v.maxBrakeForce).toBeLessThan(180);
    expect(v.maxSteering).toBeCloseTo((40 * Math.PI) / 180, 12);
    expect(new Vehicle('default', new Rng(3)).maxEngineForce).toBe(v.maxEngineForce);
  });

  it('full throttle accelerates at 4F/m and tops out at 80 km/h', () => {
    const v = new Vehicle('default', new Rng(1));
    envStep(v, 0, 1);
    expect(v.speed).toBeCloseTo((0.1 * 4 * v.maxEngineForce) / 1100, 10);
    let t = 0;
    while (v.speedKmh < 80) {
      envStep(v, 0, 1);
      t += 0.1;
    }
    // 0 -> 80 km/h in about 7.5 s (spec: ≈ 75 env steps).
    expect(t).toBeGreaterThan(6.5);
    expect(t).toBeLessThan(8.5);
    for (let i = 0; i < 300; i++) envStep(v, 0, 1);
    expect(v.speedKmh).toBeGreaterThan(78);
    expect(v.speedKmh).toBeLessThan(82);
  });

  it('coasts at 4*2/(m dt), brakes at min(4B|a|/(m dt), 2 mu g), never reverses', () => {
    const v = new Vehicle('default', new Rng(2));
    v.place(0, 0, 0, 20);
    envStep(v, 0, 0);
    expect(v.speed).toBeCloseTo(20 - 0.1 * (4 * 2) / (1100 * DT), 10);
    v.place(0, 0, 0, 20);
    envStep(v, 0, -0.1);
    const decel = Math.min((4 * v.maxBrakeForce * 0.1) / (1100 * DT), 2 * 0.9 * GRAVITY);
    expect(v.speed).toBeCloseTo(20 - 0.1 * decel, 10);
    v.place(0, 0, 0, 20);
    envStep(v, 0, -1);
    expect(v.speed).toBeCloseTo(20 - 0.1 * 2 * 0.9 * GRAVITY, 10);
    v.place(0, 0, 0, 1);
    envStep(v, 0, -1);
    expect(v.speed).toBe(0);
    expect(v.x).toBeGreaterThanOrEqual(0);
  });

  it('positive steering turns left; the kinematic turn radius matches L / tan(delta)', () => {
    const v = new Vehicle('default', new Rng(4));
    v.place(0, 0, 0, 3);
    for (let i = 0; i < 20; i++) envStep(v, 0.2, 0.01);
    expect(v.heading).toBeGreaterThan(0);
    expect(v.y).toBeGreaterThan(0);
    // Steady state yaw rate = v cos(beta) tan(delta) / L.
    const p = VEHICLE_TYPES.default;
    const L = p.frontAxle + p.rearAxle;
    const delta = 0.2 * v.maxSteering;
    const beta = Math.atan((p.rearAxle / L) * Math.tan(delta));
    const h0 = v.heading;
    envStep(v, 0.2, 0.01);
    expect((v.heading - h0) / 0.1).toBeCloseTo((v.speed * Math.cos(beta) * Math.tan(delta)) / L, 2);
  });

  it('lateral acceleration is capped at mu g (understeer at speed)', () => {
    const v = new Vehicle('default', new Rng(5));
    v.place(0, 0, 0, 20);
    // Coasting (speed only decreases), full left steering.
    for (let i = 0; i < 10; i++) envStep(v, 1, 0);
    expect(Math.abs(v.yawRate * v.speed)).toBeLessThanOrEqual(0.9 * GRAVITY + 1e-9);
    expect(Math.abs(v.yawRate * v.speed)).toBeGreaterThan(0.9 * GRAVITY * 0.99);
  });

  it('clips actions and treats NaN as 0', () => {
    const v = new Vehicle('s', new Rng(6));
    v.applyAction(5, -7, DT);
    expect([v.steerAction, v.throttleAction]).toEqual([1, -1]);
    v.applyAction(Number.NaN, Number.NaN, DT);
    expect([v.steerAction, v.throttleAction]).toEqual([0, 0]);
  });

  it('box overlap: separating axis, touching counts', () => {
    expect(boxesOverlap(0, 0, 0, 4, 2, 4, 0, 0, 4, 2)).toBe(true); // touching faces
    expect(boxesOverlap(0, 0, 0, 4, 2, 4.01, 0, 0, 4, 2)).toBe(false);
    expect(boxesOverlap(0, 0, 0, 4, 2, 0, 1.6, Math.PI / 2, 1, 1)).toBe(false);
    expect(boxesOverlap(0, 0, 0, 4, 2, 0, 1.4, Math.PI / 2, 1, 1)).toBe(true);
    // Rotated square whose corner pokes into the other box.
    expect(boxesOverlap(0, 0, 0, 2, 2, 2.3, 0, Math.PI / 4, 2, 2)).toBe(true);
    expect(boxesOverlap(0, 0, 0, 2, 2, 2.5, 0, Math.PI / 4, 2, 2)).toBe(false);
  });

  it('traffic types follow the (0.2, 0.3, 0.3, 0.2, 0) mix', () => {
    const rng = new Rng(11);
    const counts: Record<string, number> = { s: 0, m: 0, l: 0, xl: 0, default: 0 };
    for (let i = 0; i < 20000; i++) counts[randomTrafficModel(rng)]!++;
    expect(counts.default).toBe(0);
    expect(counts.s! / 20000).toBeCloseTo(0.2, 1);
    expect(counts.m! / 20000).toBeCloseTo(0.3, 1);
    expect(counts.l! / 20000).toBeCloseTo(0.3, 1);
    expect(counts.xl! / 20000).toBeCloseTo(0.2, 1);
  });
});
