import { describe, expect, it } from 'vitest';
import {
  MAX_ROUTE_TOKENS,
  NavsimInputError,
  SCENE_TOKEN_WIDTH,
  generateScene,
  parseScene,
  sceneCommand,
  sceneTokens,
  tokenProjection,
} from '../../src/navsim/index.js';

const W = SCENE_TOKEN_WIDTH;
const g = generateScene(1); // a lead car and several agents
const scene = parseScene(g.scene);

function row(t: Float32Array, k: number, H = W): Float32Array {
  return t.subarray(k * H, (k + 1) * H);
}
const kindOf = (r: Float32Array) => (r[0] === 1 ? 'ego' : r[1] === 1 ? 'route' : r[2] === 1 ? 'agent' : r.every((v) => v === 0) ? 'pad' : 'bad');

describe('sceneTokens', () => {
  it('has the documented layout: ego, route chunks, agents (nearest first), padding', () => {
    const L = 40;
    const t = sceneTokens(g, { numTokens: L, width: W });
    expect(t.length).toBe(L * W);
    const kinds = Array.from({ length: L }, (_, k) => kindOf(row(t, k)));
    expect(kinds[0]).toBe('ego');
    const nAgents = scene.agents.filter((a) => a.states[0]).length;
    const nRoute = kinds.filter((k) => k === 'route').length;
    expect(kinds.filter((k) => k === 'agent').length).toBe(nAgents);
    expect(nRoute).toBeGreaterThan(0);
    expect(nRoute).toBeLessThanOrEqual(MAX_ROUTE_TOKENS);
    // order: ego, routes, agents, pads
    expect(kinds.join(',')).toBe(['ego', ...Array(nRoute).fill('route'), ...Array(nAgents).fill('agent'), ...Array(L - 1 - nRoute - nAgents).fill('pad')].join(','));
    // ego token values
    const ego = row(t, 0);
    expect(ego[3]).toBeCloseTo(scene.ego.vx / 10, 6);
    expect(ego[5]).toBeCloseTo(scene.ego.ax / 3, 6);
    expect(Array.from(ego.subarray(7, 11))).toEqual(Array.from(g.status.subarray(0, 4)));
    for (let i = 0; i < 12; i++) expect(ego[11 + i]).toBeCloseTo(g.history[i]! / (i % 3 === 2 ? 1 : 20), 5);
    // first route chunk starts at the ego (rear axle on the centre line) pointing ahead
    const r0 = row(t, 1);
    expect(Math.hypot(r0[3]! * 50, r0[4]! * 50)).toBeLessThan(0.6);
    expect(r0[5]! * 50).toBeGreaterThan(6); // chunk end about 8 m ahead
    expect(r0[9]).toBeGreaterThan(0.9); // cos of the heading
    expect(r0[14]).toBe(0);
    expect(row(t, 2)[14]).toBeCloseTo(0.08, 6);
    // agents sorted by distance (col 15 = distance / 50), one type bit each
    const d = [];
    for (let k = 1 + nRoute; k < 1 + nRoute + nAgents; k++) {
      const r = row(t, k);
      d.push(r[15]!);
      expect(r[11]! + r[12]! + r[13]! + r[14]!).toBe(1);
      expect(Math.hypot(r[3]!, r[4]!)).toBeCloseTo(r[15]!, 5);
      expect(r[5]! ** 2 + r[6]! ** 2).toBeCloseTo(1, 5);
    }
    expect(d).toEqual([...d].sort((a, b) => a - b));
    // O(1) values
    for (const v of t) expect(Math.abs(v)).toBeLessThan(5);
  });

  it('is deterministic and the same for a GeneratedScene, a PdmScene and the JSON when the command agrees', () => {
    const a = sceneTokens(g, { numTokens: 24, width: 32 });
    const b = sceneTokens(generateScene(1), { numTokens: 24, width: 32 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(sceneCommand(scene)).toBe(g.info.command);
    expect(Array.from(sceneTokens(scene, { numTokens: 24, width: 32 }))).toEqual(Array.from(a));
    expect(Array.from(sceneTokens(g.scene, { numTokens: 24, width: 32 }))).toEqual(Array.from(a));
  });

  it('splits slots between route and agents when L is small, and zero-pads H', () => {
    const t = sceneTokens(g, { numTokens: 5, width: 30 });
    const kinds = Array.from({ length: 5 }, (_, k) => kindOf(row(t, k, 30)));
    expect(kinds).toEqual(['ego', 'route', 'route', 'agent', 'agent']);
    for (let k = 0; k < 5; k++) expect(Array.from(row(t, k, 30).subarray(W))).toEqual(new Array(30 - W).fill(0));
    const one = sceneTokens(g, { numTokens: 1, width: W });
    expect(Array.from(one)).toEqual(Array.from(row(sceneTokens(g, { numTokens: 3, width: W }), 0)));
  });

  it('projects to H < 24 with the fixed seeded matrix', () => {
    const H = 8;
    const full = sceneTokens(g, { numTokens: 10, width: W });
    const proj = sceneTokens(g, { numTokens: 10, width: H });
    const P = tokenProjection(H);
    expect(P.length).toBe(W * H);
    expect(Array.from(tokenProjection(H))).toEqual(Array.from(P));
    for (let k = 0; k < 10; k++) {
      for (let o = 0; o < H; o++) {
        let v = 0;
        for (let q = 0; q < W; q++) v += full[k * W + q]! * P[q * H + o]!;
        expect(proj[k * H + o]).toBeCloseTo(v, 5);
      }
    }
  });

  it('rejects bad sizes naming the argument', () => {
    expect(() => sceneTokens(g, { numTokens: 0, width: 8 })).toThrow(/invalid numTokens 0. Should be an integer >= 1/);
    expect(() => sceneTokens(g, { numTokens: 4, width: 2.5 })).toThrow(/invalid width 2.5/);
    expect(() => sceneTokens(g, { numTokens: 2 ** 20, width: 2 ** 10 })).toThrow(NavsimInputError);
    expect(() => sceneTokens({ schema: 'nope' }, { numTokens: 4, width: 8 })).toThrow(/field 'schema'/);
  });
});
