/**
 * Robustness: thousands of random and malformed scenes and trajectories (NaN / Infinity,
 * empty agent lists, degenerate polygons and centerlines, wrong pose counts, wrong types,
 * off-road and far-away egos, zero / missing speed limits). The only acceptable failure is a
 * `NavsimInputError`; every produced metric lies in [0, 1] (EC may be NaN) and every score is
 * a finite number in [0, 1].
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreScene, scoreSceneJson } from '../../src/navsim/score-scene.js';
import { NavsimInputError, type ProposalScores } from '../../src/navsim/types.js';

const METRIC_FIELDS: (keyof ProposalScores)[] = [
  'noAtFaultCollisions', 'drivableAreaCompliance', 'drivingDirectionCompliance', 'trafficLightCompliance',
  'egoProgress', 'timeToCollisionWithinBound', 'comfort', 'laneKeeping', 'historyComfort', 'extendedComfort', 'score',
];
const AGENT_TYPES = ['vehicle', 'pedestrian', 'bicycle', 'static_object', 'generic_object', 'traffic_cone', 'barrier', 'czone_sign'];

function rect(x0: number, y0: number, x1: number, y1: number): number[][] {
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

/** A plausible random scene (straight road along x, optionally rotated / offset). */
function randomScene(rng: Rng, i: number): any {
  const v2 = rng.bernoulli(0.5);
  const len = rng.uniform(20, 150);
  const nLanes = rng.int(1, 4);
  const w = 3.5;
  const lanes = [];
  for (let k = 0; k < nLanes; k++) {
    const y = k * w;
    const cl = [];
    for (let x = -10; x <= len; x += rng.uniform(0.5, 5)) cl.push([x, y, 0]);
    lanes.push({
      id: `lane_${k}`,
      type: rng.bernoulli(0.2) ? 'LANE_CONNECTOR' : 'LANE',
      roadblock_id: 'rb',
      polygon: rect(-10, y - w / 2, len, y + w / 2),
      centerline: cl,
      speed_limit_mps: rng.bernoulli(0.2) ? null : rng.uniform(0, 25),
      on_route: rng.bernoulli(0.8),
    });
  }
  const areas = [{ id: 'rb', type: rng.bernoulli(0.8) ? 'ROADBLOCK' : 'CARPARK_AREA', polygon: rect(-10, -w / 2, len, nLanes * w - w / 2) }];
  if (rng.bernoulli(0.3)) areas.push({ id: 'x', type: 'INTERSECTION', polygon: rect(len / 2, -w, len / 2 + 15, nLanes * w) });
  const pdmCl = lanes[0]!.centerline;
  const agents = [];
  const nAgents = rng.bernoulli(0.2) ? 0 : rng.int(0, 6);
  for (let a = 0; a < nAgents; a++) {
    let x = rng.uniform(-20, len);
    let y = rng.uniform(-3, nLanes * w);
    const h = rng.uniform(-Math.PI, Math.PI);
    const v = rng.bernoulli(0.3) ? 0 : rng.uniform(-5, 15);
    const states = [];
    for (let f = 0; f < 51; f++) {
      states.push(rng.bernoulli(0.05) ? null : { x, y, heading: h, vx: v * Math.cos(h), vy: v * Math.sin(h) });
      x += 0.1 * v * Math.cos(h);
      y += 0.1 * v * Math.sin(h);
    }
    agents.push({ id: `a${a}`, type: AGENT_TYPES[rng.int(0, AGENT_TYPES.length)], length: rng.uniform(0, 6), width: rng.uniform(0, 3), height: 1.5, start_frame: rng.int(0, 3), states });
  }
  const ego = { x: rng.uniform(-5, 20), y: rng.uniform(-2, nLanes * w), heading: rng.normal(0, 0.3), vx: rng.uniform(-1, 15), vy: 0, ax: rng.normal(0, 1), ay: rng.normal(0, 0.5) };
  const poses = [];
  let px = 0, py = 0, ph = 0;
  const speed = rng.uniform(-2, 15);
  const yawRate = rng.normal(0, 0.2);
  for (let k = 0; k < 8; k++) {
    px += 0.5 * speed * Math.cos(ph);
    py += 0.5 * speed * Math.sin(ph);
    ph += 0.5 * yawRate;
    poses.push([px, py, ph]);
  }
  const scene: any = {
    schema: v2 ? 'pdm_ref_scene/v2' : 'pdm_ref_scene/v1',
    name: `fuzz_${i}`,
    timestamp_us: v2 ? 20_000_000 : 0,
    ego,
    trajectory: { frame: 'ego', poses },
    agents,
    map: { areas, lanes },
    pdm_closed: { centerline: pdmCl },
    observation_mode: rng.bernoulli(0.2) ? 'navsim_2hz' : 'direct_10hz',
    red_light_lane_ids: rng.bernoulli(0.3) ? ['lane_0'] : [],
  };
  if (v2) {
    if (rng.bernoulli(0.7)) {
      scene.history = [-1.5, -1.0, -0.5, 0].map((dt) => ({ timestamp_us: 20_000_000 + dt * 1e6, x: ego.x + dt * ego.vx, y: ego.y, heading: ego.heading, vx: ego.vx, vy: 0, ax: 0, ay: 0 }));
    }
    if (rng.bernoulli(0.6)) scene.human_trajectory = { frame: 'ego', poses: poses.map((p) => [p[0]! * 0.9, p[1]!, p[2]!]) };
    if (rng.bernoulli(0.3)) scene.previous_frame = { timestamp_us: 19_500_000, ego: { ...ego, x: ego.x - 5 }, trajectory: { frame: 'ego', poses } };
  }
  return scene;
}

/** A `previous_frame` chain of `depth` scene-form frames (0.5 s apart) before `s`. */
function previousChain(s: any, depth: number): any {
  let frame: any = null;
  for (let d = depth; d >= 1; d--) {
    const scene: any = { timestamp_us: s.timestamp_us - d * 500_000, ego: { ...s.ego, x: s.ego.x - 5 * d }, trajectory: s.trajectory ?? { frame: 'ego', poses: [[1, 0, 0]] } };
    if (frame) scene.previous_frame = frame;
    frame = { scene };
  }
  return frame;
}

/**
 * One random malformation of a scene (or none). Returns true when the scene must be rejected
 * (a coordinate far outside any map, a too-deep previous_frame chain).
 */
function corrupt(rng: Rng, s: any): boolean {
  const bad = [NaN, Infinity, -Infinity, null, 'x', undefined, 1e308, -1e308, 0];
  const pick = <T,>(a: T[]): T => a[rng.int(0, a.length)]!;
  const far = () => pick([1e155, -1e155, 1e8, -3e7, 1e300]);
  switch (rng.int(0, 22)) {
    case 16: s.pdm_closed.centerline[rng.int(0, s.pdm_closed.centerline.length)][rng.int(0, 2)] = far(); return true;
    case 17: s.ego[pick(['x', 'y', 'vx'])] = far(); return true;
    case 18: s.map.lanes[0].polygon[rng.int(0, 4)][rng.int(0, 2)] = far(); return true;
    case 19: if (s.agents[0]) { s.agents[0].states[rng.int(0, 51)] = { x: far(), y: 0, heading: 0, vx: 0, vy: 0 }; return true; } return false;
    case 20: {
      // a previous_frame chain: at most MAX_PREVIOUS_FRAME_DEPTH = 64 frames
      if (!s.schema.endsWith('v2')) return false;
      const depth = pick([1, 2, 5, 64, 65, 200]);
      s.previous_frame = previousChain(s, depth);
      return depth > 64;
    }
    case 21: s.schema = s.schema.endsWith('v2') ? 'pdm_ref_scene/v1' : 'pdm_ref_scene/v2'; return false; // the other version's fields
  }
  switch (rng.int(0, 16)) {
    case 0: s.ego[pick(['x', 'y', 'heading', 'vx', 'ax'])] = pick(bad); break;
    case 1: s.trajectory.poses = s.trajectory.poses.slice(0, rng.int(0, 8)); break;
    case 2: s.trajectory.poses[rng.int(0, s.trajectory.poses.length)] = [pick(bad), 0, 0]; break;
    case 3: s.trajectory.poses.push([1, 2]); break;
    case 4: s.agents = []; break;
    case 5: if (s.agents[0]) s.agents[0].states[0] = { x: pick(bad), y: 0, heading: 0 }; break;
    case 6: s.map.lanes[0].polygon = [[0, 0], [1, 1], [2, 2]]; break; // collinear
    case 7: s.map.areas[0].polygon = [[0, 0], [0, 0], [0, 0]]; break; // zero area
    case 8: s.pdm_closed.centerline = [[1, 1, 0], [1, 1, 0]]; break; // zero-length path
    case 9: s.pdm_closed.centerline = [[0, 0, 0]]; break;
    case 10: s.map.lanes = []; break;
    case 11: s.ego.x = 1e6; s.ego.y = -1e6; break; // far off the map
    case 12: if (s.agents[0]) s.agents[0].length = pick(bad); break;
    case 13: s.trajectory = pick([null, { frame: 'weird', poses: [] }, { frame: 'global', poses: 'abc' }]); break;
    case 14: s.map.lanes[0].speed_limit_mps = pick([0, -5, NaN, 1e9]); break;
    default: break; // keep valid
  }
  return false;
}

/**
 * What `JSON.parse(JSON.stringify(v, replacer))` gives for plain data, with non-finite numbers
 * written as strings ("NaN", "Infinity"): undefined object fields dropped, undefined array items
 * null. A direct clone, several times faster than stringify with a replacer + parse.
 */
function jsonRoundTrip(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : String(v); // JSON writes -0 as 0
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => (x === undefined || typeof x === 'function' ? null : jsonRoundTrip(x)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') out[k] = jsonRoundTrip(x);
  return out;
}

function checkScores(r: ProposalScores, where: string): void {
  for (const f of METRIC_FIELDS) {
    const v = r[f] as number;
    if (f === 'extendedComfort' || ((f === 'trafficLightCompliance' || f === 'laneKeeping' || f === 'historyComfort' || f === 'comfort') && Number.isNaN(v))) {
      if (Number.isNaN(v)) continue;
    }
    if (!(v >= 0 && v <= 1)) throw new Error(`${where}: ${f} = ${v} outside [0, 1]`);
  }
  if (!Number.isFinite(r.score)) throw new Error(`${where}: score ${r.score}`);
}

describe('navsim fuzz', () => {
  it('1,000 mutated scenes (v1 and v2) give scores in [0, 1] or NavsimInputError only', () => {
    const rng = new Rng(20240601);
    const N = 1000;
    let scored = 0;
    let parsedOnly = 0;
    let rejected = 0;
    const versions = { v1: 0, v2: 0 };
    const start = performance.now();
    for (let i = 0; i < N; i++) {
      const s = randomScene(rng, i);
      versions[s.schema.endsWith('v2') ? 'v2' : 'v1']++;
      const mustReject = corrupt(rng, s);
      let scene;
      try {
        scene = parseScene(jsonRoundTrip(s));
        // JSON cannot carry NaN / Infinity: also feed the raw object with the real values
        parseScene(s);
      } catch (e) {
        if (!(e instanceof NavsimInputError)) throw new Error(`scene ${i}: parse threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        rejected++;
        continue;
      }
      if (mustReject) throw new Error(`scene ${i}: a far coordinate or a too-deep previous_frame chain was accepted`);
      // Scoring runs PDM-Closed's 15 proposals per scene; every other accepted scene keeps the suite fast.
      if (i % 2 === 1) {
        parsedOnly++;
        continue;
      }
      try {
        const version = rng.bernoulli(0.5) ? 'v1.1' : 'v2.2';
        const r = scoreScene(scene, null, { version });
        r.proposals.forEach((p, k) => checkScores(p, `scene ${i} proposal ${k}`));
        checkScores(r.pdmClosed.scores, `scene ${i} pdm-closed`);
        scored++;
      } catch (e) {
        if (!(e instanceof NavsimInputError)) throw new Error(`scene ${i}: score threw ${(e as Error)?.name}: ${(e as Error)?.stack}`);
        rejected++;
      }
    }
    expect(scored + parsedOnly + rejected).toBe(N);
    expect(scored).toBeGreaterThan(N / 5);
    expect(rejected).toBeGreaterThan(N / 10);
    expect(Math.min(versions.v1, versions.v2)).toBeGreaterThan(N / 3);
    console.log(`fuzz: ${scored} scored, ${parsedOnly} parsed only, ${rejected} rejected in ${(performance.now() - start).toFixed(0)} ms`);
  });

  it('random proposal batches (wrong sizes, NaN poses, huge values) on a valid scene', () => {
    const rng = new Rng(7);
    const scene = parseScene(randomScene(new Rng(3), 0));
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(0, 5);
      const k = rng.int(1, 10);
      let flat = new Float64Array(n * k * 3).map(() => rng.normal(0, 20));
      const mode = rng.int(0, 5);
      if (mode === 0 && flat.length > 0) flat[rng.int(0, flat.length)] = NaN;
      if (mode === 1) flat = flat.subarray(0, Math.max(0, flat.length - 1));
      if (mode === 2 && flat.length > 0) flat[rng.int(0, flat.length)] = 1e300;
      try {
        const r = scoreScene(scene, flat, { version: rng.bernoulli(0.5) ? 'v1.1' : 'v2.2' });
        r.proposals.forEach((p, j) => checkScores(p, `batch ${i} proposal ${j}`));
      } catch (e) {
        if (!(e instanceof NavsimInputError)) throw new Error(`batch ${i}: threw ${(e as Error)?.name}: ${(e as Error)?.stack}`);
      }
    }
  });

  it('a finite centre-line coordinate of 1e155 is an input error naming the field, not a NaN score', () => {
    const s = randomScene(new Rng(11), 0);
    s.pdm_closed.centerline = s.pdm_closed.centerline.map((p: number[]) => [...p]); // not shared with lane 0
    s.pdm_closed.centerline[1][0] = 1e155;
    let err: unknown;
    try {
      parseScene(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NavsimInputError);
    expect((err as NavsimInputError).field).toBe('pdm_closed.centerline[1][0]');
    expect((err as Error).message).toContain('1e+155');
    const r = scoreSceneJson(s);
    expect(r.error).toMatch(/pdm_closed\.centerline\[1\]\[0\]/);
    // 1e7 m is accepted
    const ok = randomScene(new Rng(11), 0);
    ok.ego.x = 9.9e6;
    expect(() => parseScene(ok)).not.toThrow();
  });

  it('a previous_frame chain 10,000 deep is a clear error, not a stack overflow', () => {
    const s = randomScene(new Rng(12), 0);
    s.schema = 'pdm_ref_scene/v2';
    s.timestamp_us = 10_000_000_000;
    // JSON.stringify itself overflows on such nesting: write the text directly.
    const depth = 10_000;
    const open: string[] = [];
    for (let d = 1; d <= depth; d++) {
      open.push(`{"scene":{"timestamp_us":${s.timestamp_us - d * 500_000},"ego":${JSON.stringify(s.ego)},"trajectory":${JSON.stringify(s.trajectory)}${d < depth ? ',"previous_frame":' : ''}`);
    }
    const text = `${JSON.stringify(s).slice(0, -1)},"previous_frame":${open.join('')}${'}}'.repeat(depth)}}`;
    let err: unknown;
    try {
      parseScene(JSON.parse(text));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NavsimInputError);
    expect((err as Error).message).toMatch(/previous_frame.*at most 64 previous frames/);
    // 64 frames are fine
    s.previous_frame = previousChain(s, 64);
    let frames = 0;
    for (let f = parseScene(s).previousFrame; f && f.form === 'scene'; f = f.scene.previousFrame) frames++;
    expect(frames).toBe(64);
  });

  it('scoreSceneJson turns every failure into an error result', () => {
    for (const junk of [null, 42, 'scene', [], {}, { input: null }, { schema: 'pdm_ref_scene/v9' }]) {
      const r = scoreSceneJson(junk);
      expect(r.error).toBeTypeOf('string');
      expect(r.error).not.toMatch(/internal error/);
    }
  });
});
