import { describe, expect, it } from 'vitest';
import { outcomeOf, steeringJerk, summarizeDriving, type EpisodeOutcome } from '../../src/metrics/driving.js';

const ep = (o: Partial<EpisodeOutcome>): EpisodeOutcome => ({
  seed: 0, arrive_dest: false, crash: false, out_of_road: false, max_step: false, route_completion: 0,
  episode_reward: 0, episode_length: 1, mean_velocity: 0, steering_jerk: 0, cost: 0, ...o,
});

describe('driving metrics', () => {
  it('steering jerk is the mean |second difference| / dt^2', () => {
    expect(steeringJerk([0, 0.1, 0.2, 0.3], 0.1)).toBeCloseTo(0, 12);
    // Second differences: 0.2, -0.4 -> mean |.| = 0.3, / 0.01.
    expect(steeringJerk([0, 0.1, 0.4, 0.3], 0.1)).toBeCloseTo(30, 9);
    expect(steeringJerk([1, 2], 0.1)).toBe(0);
    expect(() => steeringJerk([1, 2, 3], 0)).toThrow('steeringJerk: dt must be > 0, found 0.');
  });

  it('outcome buckets are exclusive with MetaDrive priority', () => {
    expect(outcomeOf({ arrive_dest: true, crash: true, out_of_road: true })).toBe('success');
    expect(outcomeOf({ arrive_dest: false, crash: true, out_of_road: true })).toBe('crash');
    expect(outcomeOf({ arrive_dest: false, crash: false, out_of_road: true })).toBe('out_of_road');
    expect(outcomeOf({ arrive_dest: false, crash: false, out_of_road: false })).toBe('max_step');
  });

  it('summarises rates and means', () => {
    const s = summarizeDriving([
      ep({ arrive_dest: true, route_completion: 1, episode_reward: 300, episode_length: 300 }),
      ep({ crash: true, route_completion: 0.5, episode_reward: 100, episode_length: 100, cost: 1 }),
      ep({ out_of_road: true, route_completion: 0.2, episode_reward: 20, episode_length: 20, cost: 1 }),
      ep({ route_completion: 0.7, episode_reward: 200, episode_length: 1000 }),
    ]);
    expect([s.success_rate, s.crash_rate, s.out_of_road_rate, s.max_step_rate]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(s.route_completion).toBeCloseTo(0.6, 12);
    expect(s.episode_reward).toBeCloseTo(155, 12);
    expect(s.episode_length).toBeCloseTo(355, 12);
    expect(s.cost).toBeCloseTo(0.5, 12);
    expect(() => summarizeDriving([])).toThrow('summarizeDriving: no episodes.');
  });
});
