import { describe, expect, expectTypeOf, it } from 'vitest';
import { DrivingEnv } from '../../src/env/env.js';
import { ConstantPolicy, ExpertEgoPolicy, makePolicy, type EgoPolicy } from '../../src/env/policies.js';
import { ENV_VIEW_HALF_SIZE, envToSvg } from '../../src/viz/env-svg.js';
import { MAP_COLORS } from '../../src/viz/map-svg.js';

/** Pixels per metre of a rendered picture, from its scale bar (length in m and bar halves in px). */
function scaleBar(svg: string): { metres: number; px: number } {
  const start = svg.indexOf('<g class="scale-bar"');
  const g = svg.slice(start, svg.indexOf('</g>', start));
  const widths = [...g.matchAll(/<rect [^>]*? width="([\d.]+)"/g)].map((m) => Number(m[1]));
  const metres = Number(/>(\d+) m</.exec(g)![1]);
  // rects: the panel, then the two halves of the bar
  return { metres, px: widths[1]! + widths[2]! };
}

describe('envToSvg', () => {
  const env = new DrivingEnv({ start_seed: 0, num_scenarios: 1, traffic_density: 0.3 });
  const policy = makePolicy('expert');
  let { obs } = env.reset({ seed: 0 });
  policy.reset(env);
  for (let t = 0; t < 30; t++) obs = env.step(policy.act(env, obs)).obs;

  it('defaults to a 120 m view around the ego with a legend, a scale bar and a title panel', () => {
    const svg = envToSvg(env, { width: 600, title: 'seed 0' });
    const { metres, px } = scaleBar(svg);
    // 600 px less 2 x 10 px padding for 2 * 60 m
    expect(ENV_VIEW_HALF_SIZE).toBe(60);
    expect(px / metres).toBeCloseTo((600 - 20) / (2 * ENV_VIEW_HALF_SIZE), 1);
    expect(svg).toContain('<g class="legend">');
    expect(svg).toContain('>traffic</text>');
    expect(svg).toContain('<g class="title">');
    // active traffic is drawn in the traffic colour, which differs from the route shading
    expect(env.traffic.alive.some((t) => t.active)).toBe(true);
    expect(svg).toContain(`fill="${MAP_COLORS.traffic}"`);
    expect(MAP_COLORS.traffic).not.toBe(MAP_COLORS.route);
  });

  it("window 'map' shows the whole map (a smaller scale); legend: false leaves out the overlays", () => {
    const near = scaleBar(envToSvg(env, { width: 600 }));
    const whole = scaleBar(envToSvg(env, { width: 600, window: 'map' }));
    expect(whole.px / whole.metres).toBeLessThan(near.px / near.metres);
    const bare = envToSvg(env, { width: 600, legend: false });
    expect(bare).not.toContain('class="legend"');
    expect(bare).not.toContain('class="scale-bar"');
  });

  it('labels carry a white halo so they stay readable over the road', () => {
    const svg = envToSvg(env, { labels: true });
    expect(svg).toMatch(/<text [^>]*stroke="#fff"[^>]*paint-order="stroke"/);
  });
});

describe('makePolicy', () => {
  it('returns the policy class of its name; a run-time name gives an EgoPolicy', () => {
    expectTypeOf(makePolicy('expert')).toEqualTypeOf<ExpertEgoPolicy>();
    expectTypeOf(makePolicy('constant')).toEqualTypeOf<ConstantPolicy>();
    const name: string = 'random';
    expectTypeOf(makePolicy(name)).toEqualTypeOf<EgoPolicy>();
    expect(makePolicy('constant')).toBeInstanceOf(ConstantPolicy);
    expect(makePolicy('constant').action).toEqual([0, 1]);
    expect(() => makePolicy('nope')).toThrow(/Valid policies: expert, idm, constant, random/);
  });
});
