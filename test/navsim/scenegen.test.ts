import { describe, expect, it } from 'vitest';
import {
  DRIVING_COMMANDS,
  LanePath,
  NavsimInputError,
  generateScene,
  parseScene,
  resolveSceneGenOptions,
  scoreScene,
  type GeneratedScene,
  type PdmScene,
} from '../../src/navsim/index.js';
import { generateMap } from '../../src/world/index.js';
import { ConfigError } from '../../src/core/errors.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i);
const generated = new Map<number, GeneratedScene>();
function gen(seed: number): GeneratedScene {
  let g = generated.get(seed);
  if (!g) {
    g = generateScene(seed);
    generated.set(seed, g);
  }
  return g;
}

/** Ego-frame poses along the scene's PDM-Closed centre line at the given distances ahead of the ego. */
function posesAlongCenterline(scene: PdmScene, dist: (k: number) => number, lateral = (_k: number) => 0): number[][] {
  const cl = scene.pdmClosedCenterline;
  const n = cl.length / 3;
  const cum = [0];
  for (let i = 1; i < n; i++) cum.push(cum[i - 1]! + Math.hypot(cl[3 * i]! - cl[3 * i - 3]!, cl[3 * i + 1]! - cl[3 * i - 2]!));
  const e = scene.ego;
  let s0 = 0, best = Infinity;
  for (let i = 0; i < n; i++) {
    const d = Math.hypot(cl[3 * i]! - e.x, cl[3 * i + 1]! - e.y);
    if (d < best) [best, s0] = [d, cum[i]!];
  }
  const c = Math.cos(e.heading), s = Math.sin(e.heading);
  const out: number[][] = [];
  for (let k = 1; k <= 8; k++) {
    const target = Math.min(cum[n - 1]!, s0 + dist(k));
    let i = 0;
    while (i < n - 2 && cum[i + 1]! < target) i++;
    const t = (target - cum[i]!) / Math.max(1e-9, cum[i + 1]! - cum[i]!);
    const h = cl[3 * i + 2]!;
    const x = cl[3 * i]! + t * (cl[3 * i + 3]! - cl[3 * i]!) - Math.sin(h) * lateral(k);
    const y = cl[3 * i + 1]! + t * (cl[3 * i + 4]! - cl[3 * i + 1]!) + Math.cos(h) * lateral(k);
    const dx = x - e.x, dy = y - e.y;
    out.push([c * dx + s * dy, -s * dx + c * dy, Math.atan2(Math.sin(h - e.heading), Math.cos(h - e.heading))]);
  }
  return out;
}

describe('generateScene', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = generateScene(7);
    const b = generateScene(7);
    expect(JSON.stringify(a.scene)).toBe(JSON.stringify(b.scene));
    expect(Array.from(a.target)).toEqual(Array.from(b.target));
    expect(Array.from(a.status)).toEqual(Array.from(b.status));
    expect(JSON.stringify(gen(8).scene)).not.toBe(JSON.stringify(a.scene));
  });

  it('writes a valid pdm_ref_scene/v2 with 51 agent frames, a 1.5 s history and the human future', () => {
    for (const seed of [0, 1, 2]) {
      const g = gen(seed);
      const scene = parseScene(g.scene);
      expect(scene.schema).toBe('pdm_ref_scene/v2');
      expect(scene.name).toBe(`scenegen-${seed}`);
      expect(scene.sceneType).toBe('original');
      expect(scene.timestampUs).toBe(20_000_000);
      expect(scene.history!.map((h) => h.timestampUs)).toEqual([18_500_000, 19_000_000, 19_500_000, 20_000_000]);
      const last = scene.history![3]!;
      expect([last.x, last.y, last.heading, last.vx]).toEqual([scene.ego.x, scene.ego.y, scene.ego.heading, scene.ego.vx]);
      expect(scene.humanTrajectory!.poses.length).toBe(24);
      expect(scene.agents.length).toBeGreaterThan(0);
      for (const a of scene.agents) {
        expect(a.states.length).toBe(51);
        expect(['vehicle', 'pedestrian']).toContain(a.type);
      }
      // Map: roadblocks, lanes with centre lines and speed limits, some on the route.
      const types = new Set(scene.map.areas.map((a) => a.type));
      expect(types.has('ROADBLOCK')).toBe(true);
      expect(scene.map.lanes.some((l) => l.onRoute)).toBe(true);
      for (const l of scene.map.lanes) {
        expect(l.centerline.length).toBeGreaterThanOrEqual(6);
        expect(l.speedLimitMps).toBeGreaterThan(5);
      }
      if (types.has('INTERSECTION')) expect(scene.map.lanes.some((l) => l.type === 'LANE_CONNECTOR')).toBe(true);
      // The PDM-Closed centre line passes under the ego (rear axle on the lane centre line).
      const cl = scene.pdmClosedCenterline;
      let best = Infinity;
      for (let i = 0; i < cl.length; i += 3) best = Math.min(best, Math.hypot(cl[i]! - scene.ego.x, cl[i + 1]! - scene.ego.y));
      expect(best).toBeLessThan(0.6);
    }
  });

  it('gives planner inputs consistent with the scene (ego frame, status layout)', () => {
    for (const seed of [3, 4, 5]) {
      const g = gen(seed);
      const scene = parseScene(g.scene);
      // history: 4 poses ending at the origin, behind the ego when it moves
      expect(g.history.length).toBe(12);
      expect(Array.from(g.history.subarray(9, 12))).toEqual([0, 0, 0]);
      if (scene.ego.vx > 1) expect(g.history[0]!).toBeLessThan(-1);
      // target: the human poses in float32
      const hp = scene.humanTrajectory!.poses;
      for (let i = 0; i < 24; i++) expect(g.target[i]).toBe(Math.fround(hp[i]!));
      // status: one-hot command, then v and a of the ego
      const onehot = Array.from(g.status.subarray(0, 4));
      expect(onehot.reduce((a, b) => a + b, 0)).toBe(1);
      expect(DRIVING_COMMANDS[onehot.indexOf(1)]).toBe(g.info.command);
      expect(g.status[4]).toBe(Math.fround(scene.ego.vx));
      expect(g.status[5]).toBe(0);
      expect(g.status[6]).toBe(Math.fround(scene.ego.ax));
      expect(g.status[7]).toBe(Math.fround(scene.ego.ay));
      // the future moves forward along the route, monotonically in x for the first poses
      expect(g.target[21]!).toBeGreaterThanOrEqual(g.target[0]!);
    }
    const commands = new Set(SEEDS.map((s) => gen(s).info.command));
    expect(commands.has('straight')).toBe(true);
    expect(commands.has('left') || commands.has('right')).toBe(true);
  });

  it('human futures score high: mean PDMS > 0.8 over 20 seeds, NC = DAC = 1 on almost all', () => {
    let sum = 0;
    let ok = 0;
    for (const seed of SEEDS) {
      const scene = parseScene(gen(seed).scene);
      const m = scoreScene(scene, null, { version: 'v1.1' }).metrics[0]!;
      sum += m.score!;
      if (m.no_at_fault_collisions === 1 && m.drivable_area_compliance === 1) ok++;
    }
    // Measured: mean 0.95, NC = DAC = TTC = C = 1 on all of seeds 0..99.
    expect(sum / SEEDS.length).toBeGreaterThan(0.8);
    expect(ok).toBeGreaterThanOrEqual(19);
  }, 60_000);

  it('obviously bad trajectories score low: leaving the road, driving into the lead car', () => {
    let offRoad = 0, rearEnd = 0, tried = 0;
    for (const seed of SEEDS.slice(0, 8)) {
      const g = gen(seed);
      const scene = parseScene(g.scene);
      const v = Math.max(5, scene.ego.vx);
      // Drift 12 m to the right of the route while keeping the speed.
      const off = posesAlongCenterline(scene, (k) => v * 0.5 * k, (k) => -1.5 * k);
      const mOff = scoreScene(scene, [{ poses: off, frame: 'ego' }], { version: 'v1.1' }).metrics[0]!;
      expect(mOff.drivable_area_compliance).toBe(0);
      expect(mOff.score).toBe(0);
      offRoad++;
      // Drive along the lane to 10 m beyond where the lead car is at 4 s.
      if (g.info.leadId) {
        const lead = scene.agents.find((a) => a.id === g.info.leadId)!;
        const end = lead.states[40] ?? lead.states.filter(Boolean).at(-1)!;
        const e = scene.ego;
        const ahead = (end!.x - e.x) * Math.cos(e.heading) + (end!.y - e.y) * Math.sin(e.heading);
        const dEnd = Math.hypot(end!.x - e.x, end!.y - e.y) * Math.sign(ahead) + 10;
        if (dEnd < 15) continue;
        tried++;
        const into = posesAlongCenterline(scene, (k) => (dEnd * k) / 8);
        const mInto = scoreScene(scene, [{ poses: into, frame: 'ego' }], { version: 'v1.1' }).metrics[0]!;
        if (mInto.no_at_fault_collisions === 0) rearEnd++;
        // Either an at-fault collision or (the LQR lagging behind the lead) a TTC violation.
        expect(mInto.no_at_fault_collisions === 0 || mInto.time_to_collision_within_bound === 0).toBe(true);
        expect(mInto.score!).toBeLessThan(0.6);
      }
    }
    expect(offRoad).toBe(8);
    expect(tried).toBeGreaterThan(2);
    // Measured on seeds 0..7: 5 of 6 collide (NC 0, score 0), seed 5 gets TTC 0 and C 0 (score 0.42).
    expect(rearEnd).toBeGreaterThanOrEqual(tried - 1);
  }, 60_000);

  it('keeps agents off the ego and off each other in frame 0', () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const scene = parseScene(gen(seed).scene);
      const e = scene.ego;
      const cx = e.x + 1.461 * Math.cos(e.heading), cy = e.y + 1.461 * Math.sin(e.heading);
      const pts = scene.agents.filter((a) => a.states[0]).map((a) => ({ a, s: a.states[0]! }));
      for (const { a, s } of pts) expect(Math.hypot(s.x - cx, s.y - cy)).toBeGreaterThan((a.width + 2.297) / 2);
      for (let i = 0; i < pts.length; i++) {
        for (let j = 0; j < i; j++) {
          const d = Math.hypot(pts[i]!.s.x - pts[j]!.s.x, pts[i]!.s.y - pts[j]!.s.y);
          expect(d).toBeGreaterThan((pts[i]!.a.width + pts[j]!.a.width) / 2);
        }
      }
    }
  });

  it('honours options and rejects bad ones with the field name', () => {
    const none = generateScene(2, { numVehicles: [0, 0], leadProbability: 0, parkedProbability: 0, pedestrianProbability: 0 });
    expect(none.info.numAgents).toBe(0);
    expect((none.scene.agents as unknown[]).length).toBe(0);
    const two = generateScene(2, { map: { laneNum: 2 }, speedLimits: [8] });
    expect(two.info.speedLimit).toBe(8);
    expect(parseScene(two.scene).map.lanes.every((l) => l.speedLimitMps === 8)).toBe(true);
    const err = (o: unknown) => {
      try {
        resolveSceneGenOptions(o as never);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        const c = e as ConfigError;
        return [c.field, c.expected, c.found];
      }
      throw new Error('expected a ConfigError');
    };
    expect(err({ leadProbability: 1.5 })).toEqual(['leadProbability', 'a number in [0, 1]', 1.5]);
    expect(err({ bogus: 1 })).toEqual(['bogus', 'a key of SceneGenOptions', 1]);
    expect(err({ numVehicles: [3, 1] })).toEqual(['numVehicles', '[lo, hi] with lo <= hi', [3, 1]]);
    expect(err({ timestampUs: 1000 })).toEqual(['timestampUs', 'an integer >= 1500000', 1000]);
    expect(() => generateScene(1.5)).toThrow(NavsimInputError);
    expect(() => generateScene(1.5)).toThrow(/seed must be an integer, found 1.5/);
  });
});

describe('LanePath', () => {
  it('chains lanes with exact positions, headings, curvature and locate()', () => {
    const map = generateMap(4); // 0I 1C 2T 3C: a curve after the first block
    const roads = map.routeRoads;
    const lanes = [roads[0]!.lanes[1]!, roads[1]!.lanes[1]!, roads[2]!.lanes[1]!];
    const path = new LanePath(lanes);
    expect(path.length).toBeCloseTo(lanes[0]!.length + lanes[1]!.length + lanes[2]!.length, 9);
    const s = lanes[0]!.length + lanes[1]!.length + 10;
    const p = path.position(s);
    const q = lanes[2]!.position(10, 0);
    expect(p[0]).toBeCloseTo(q[0]!, 9);
    expect(p[1]).toBeCloseTo(q[1]!, 9);
    const curve = lanes[2]!;
    expect(curve.kind).toBe('circular');
    if (curve.kind === 'circular') expect(Math.abs(path.curvature(s))).toBeCloseTo(1 / curve.radius, 9);
    expect(path.curvature(5)).toBe(0);
    const left = path.position(s, 1.0);
    const loc = path.locate(left[0]!, left[1]!, s - 20, s + 20)!;
    expect(loc.s).toBeCloseTo(s, 6);
    expect(loc.left).toBeCloseTo(1.0, 6);
    // beyond the end: straight extrapolation along the end heading
    const end = path.position(path.length);
    const past = path.position(path.length + 5);
    expect(Math.hypot(past[0]! - end[0]!, past[1]! - end[1]!)).toBeCloseTo(5, 9);
  });
});
