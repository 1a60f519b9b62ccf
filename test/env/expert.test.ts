import { describe, expect, it } from 'vitest';
import { DrivingEnv } from '../../src/env/env.js';
import { ExpertEgoPolicy } from '../../src/env/policies.js';
import { rollout } from '../../src/env/rollout.js';

// The full seeds 0..99 rollout (95 % success) is in docs/env.md; a 12-seed sample keeps the
// suite fast. Seeds 0..11 at density 0.1: the expert fails seed 8 only (a crash at a T junction).
describe('scripted expert', () => {
  it('succeeds on >= 11 of seeds 0..11 at traffic density 0.1 and drives faster than traffic', () => {
    const env = new DrivingEnv({ num_scenarios: 12, traffic_density: 0.1 });
    const res = rollout(env, new ExpertEgoPolicy(), Array.from({ length: 12 }, (_, i) => i));
    expect(res.summary.success_rate).toBeGreaterThanOrEqual(11 / 12);
    expect(res.summary.out_of_road_rate).toBe(0);
    // IDM traffic targets 30 km/h; the expert's episode mean includes starting from rest,
    // curve speed limits (3 m/s^2 lateral) and waiting at junctions.
    expect(res.summary.mean_velocity).toBeGreaterThan(30);
    for (const e of res.episodes.filter((x) => x.arrive_dest)) expect(e.route_completion).toBeGreaterThan(0.9);
  });
});
