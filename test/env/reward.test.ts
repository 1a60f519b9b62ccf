import { describe, expect, it } from 'vitest';
import { DEFAULT_ENV_CONFIG } from '../../src/env/config.js';
import { NO_EVENTS, denseReward, episodeDone, lineContacts, stepCost, stepReward, type StepEvents } from '../../src/env/reward.js';
import { boxCorners } from '../../src/env/vehicle.js';
import { makeStraightLane } from '../../src/world/lane.js';

const cfg = DEFAULT_ENV_CONFIG;
const ev = (e: Partial<StepEvents>): StepEvents => ({ ...NO_EVENTS, ...e });

describe('reward (spec §4.1)', () => {
  it('dense reward = 1.0 * Δlong + 0.1 * v / 80', () => {
    expect(denseReward(cfg, 2.0, 0.3, 3.5, 40, 80)).toBeCloseTo(2.0 + 0.1 * 0.5, 12);
    // use_lateral_reward scales the driving term by clip(1 - 2|lat|/w, 0, 1).
    expect(denseReward({ ...cfg, use_lateral_reward: true }, 2.0, 0.875, 3.5, 0, 80)).toBeCloseTo(2.0 * 0.5, 12);
    expect(denseReward({ ...cfg, use_lateral_reward: true }, 2.0, 3, 3.5, 0, 80)).toBe(0);
    // Negative road sign flips both terms.
    expect(denseReward(cfg, 1, 0, 3.5, 80, 80, -1)).toBeCloseTo(-1.1, 12);
  });

  it('terminal events replace (not add to) the dense reward, first match wins', () => {
    const dense = 3.7;
    expect(stepReward(cfg, dense, ev({}))).toBe(dense);
    expect(stepReward(cfg, dense, ev({ arriveDest: true }))).toBe(10);
    expect(stepReward(cfg, dense, ev({ outOfRoad: true }))).toBe(-5);
    expect(stepReward(cfg, dense, ev({ crashVehicle: true }))).toBe(-5);
    expect(stepReward(cfg, dense, ev({ crashObject: true }))).toBe(-5);
    expect(stepReward(cfg, dense, ev({ crashSidewalk: true }))).toBe(-0);
    // Priority: arrive_dest > out_of_road > crash_vehicle > crash_object.
    const custom = { ...cfg, success_reward: 7, out_of_road_penalty: 3, crash_vehicle_penalty: 2, crash_object_penalty: 1 };
    expect(stepReward(custom, dense, ev({ arriveDest: true, outOfRoad: true, crashVehicle: true }))).toBe(7);
    expect(stepReward(custom, dense, ev({ outOfRoad: true, crashVehicle: true, crashObject: true }))).toBe(-3);
    expect(stepReward(custom, dense, ev({ crashVehicle: true, crashObject: true }))).toBe(-2);
    // The max-step flag does not change the reward.
    expect(stepReward(cfg, dense, ev({ maxStep: true }))).toBe(dense);
  });

  it('cost: out_of_road, else crash_vehicle, else crash_object', () => {
    expect(stepCost(cfg, ev({}))).toBe(0);
    expect(stepCost(cfg, ev({ outOfRoad: true, crashVehicle: true }))).toBe(1);
    expect(stepCost({ ...cfg, out_of_road_cost: 2, crash_vehicle_cost: 3 }, ev({ crashVehicle: true }))).toBe(3);
    expect(stepCost({ ...cfg, out_of_road_cost: 2, crash_vehicle_cost: 3 }, ev({ outOfRoad: true, crashVehicle: true }))).toBe(2);
    expect(stepCost(cfg, ev({ arriveDest: true }))).toBe(0);
  });

  it('termination and truncation (gymnasium semantics)', () => {
    expect(episodeDone(cfg, ev({}))).toEqual({ terminated: false, truncated: false });
    expect(episodeDone(cfg, ev({ arriveDest: true }))).toEqual({ terminated: true, truncated: false });
    expect(episodeDone(cfg, ev({ outOfRoad: true }))).toEqual({ terminated: true, truncated: false });
    expect(episodeDone({ ...cfg, out_of_road_done: false }, ev({ outOfRoad: true }))).toEqual({ terminated: false, truncated: false });
    expect(episodeDone(cfg, ev({ crashVehicle: true }))).toEqual({ terminated: true, truncated: false });
    expect(episodeDone({ ...cfg, crash_vehicle_done: false }, ev({ crashVehicle: true }))).toEqual({ terminated: false, truncated: false });
    // Horizon: truncated, not terminated; unless truncate_as_terminate.
    expect(episodeDone(cfg, ev({ maxStep: true }))).toEqual({ terminated: false, truncated: true });
    expect(episodeDone({ ...cfg, truncate_as_terminate: true }, ev({ maxStep: true }))).toEqual({ terminated: true, truncated: false });
    // A real termination at the horizon step is a termination.
    expect(episodeDone(cfg, ev({ maxStep: true, crashVehicle: true }))).toEqual({ terminated: true, truncated: false });
  });
});

describe('lineContacts (out_of_road on solid lines)', () => {
  // Lane along +x, centre y = -1.75, width 3.5: left border y = 0 (yellow, continuous),
  // right border y = -3.5 (side).
  const lane = makeStraightLane({ from: 'a', to: 'b', index: 0 }, [0, -1.75], [50, -1.75], { width: 3.5, lineTypes: ['continuous', 'side'] });
  const broken = makeStraightLane({ from: 'a', to: 'b', index: 1 }, [0, -1.75], [50, -1.75], { width: 3.5, lineTypes: ['broken', 'broken'] });
  const box = (y: number, h = 0) => boxCorners(25, y, h, 4.5, 1.85, new Float64Array(8));

  it('a car centred in its lane touches nothing', () => {
    expect(lineContacts([lane], box(-1.75))).toEqual({ continuous: false, broken: false });
  });
  it('touching the yellow centre line counts (line is 0.075 m wide)', () => {
    // Box left edge at y = -1.75 + 0.925 + d; the line strip reaches y = -0.0375.
    expect(lineContacts([lane], box(-0.925 - 0.0375 - 0.01)).continuous).toBe(false);
    expect(lineContacts([lane], box(-0.925 - 0.0375 + 0.01)).continuous).toBe(true);
  });
  it('touching the road edge counts, broken lines are reported separately', () => {
    expect(lineContacts([lane], box(-3.5 + 0.9)).continuous).toBe(true);
    const c = lineContacts([broken], box(-0.5));
    expect(c).toEqual({ continuous: false, broken: true });
  });
  it('a rotated box whose corner crosses the line counts', () => {
    expect(lineContacts([lane], box(-1.3, 0.3)).continuous).toBe(true);
    expect(lineContacts([lane], box(-1.75, 0.05)).continuous).toBe(false);
  });
  it('lines end with the lane', () => {
    const far = boxCorners(60, -0.2, 0, 4.5, 1.85, new Float64Array(8));
    expect(lineContacts([lane], far).continuous).toBe(false);
  });
});
