import { describe, expect, it } from 'vitest';
import { DrivingEnv } from '../../src/env/env.js';
import { ExpertEgoPolicy } from '../../src/env/policies.js';

// MetaDrive's IDM traffic follows its own route: at a junction it enters the connector road it
// had chosen (`policy.nextRoad`), even where several connectors overlap at the entry.
describe('traffic routing', () => {
  it('a vehicle that changes road enters the road its IDM chose (seeds with X/T junctions and roundabouts)', () => {
    let transitions = 0;
    let junctionTransitions = 0;
    for (const seed of [8, 31, 65, 67]) {
      const env = new DrivingEnv({ start_seed: seed, num_scenarios: 1, traffic_density: 0.3 });
      const expert = new ExpertEgoPolicy();
      env.reset({ seed });
      expert.reset(env);
      for (let t = 0; t < 250; t++) {
        const before = new Map(
          env.traffic.alive
            .filter((v) => v.active && v.lane !== null)
            .map((v) => [v, { road: env.map.roadOf(v.lane!), next: v.policy.nextRoad, leads: env.map.successors(v.lane!).some((l) => env.map.roadOf(l) === v.policy.nextRoad) }]),
        );
        const r = env.step(expert.act(env));
        for (const [v, b] of before) {
          if (v.removed || v.lane === null) continue;
          const road = env.map.roadOf(v.lane);
          // A vehicle that could not reach a lane leading to its chosen road (e.g. a ramp) goes on.
          if (road === b.road || b.next === null || !b.leads) continue;
          transitions++;
          if (road.kind === 'junction') junctionTransitions++;
          expect(road.key).toBe(b.next.key);
        }
        if (r.terminated || r.truncated) break;
      }
    }
    expect(transitions).toBeGreaterThan(20);
    expect(junctionTransitions).toBeGreaterThan(5);
  });
});
