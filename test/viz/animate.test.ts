import { describe, expect, it } from 'vitest';
import { DrivingEnv } from '../../src/env/env.js';
import { makePolicy } from '../../src/env/policies.js';
import { generateScene } from '../../src/navsim/scenegen.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreScene } from '../../src/navsim/score-scene.js';
import { animatedSvg, animateEpisode, animateGrpoGroup } from '../../src/viz/animate.js';

/**
 * Checks that `xml` is well-formed for what SVG uses: one root element, every tag closed in order,
 * attributes quoted, no stray `<` or bare `&`. Returns the number of elements.
 */
function checkXml(xml: string): number {
  const stack: string[] = [];
  let elements = 0;
  let roots = 0;
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?xml[^>]*\?>/g;
  let last = 0;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const text = xml.slice(last, m.index);
    if (text.includes('<')) throw new Error(`stray '<' before offset ${m.index}: ${JSON.stringify(text.slice(0, 60))}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`bare '&' before offset ${m.index}`);
    last = re.lastIndex;
    if (m[2] === undefined) continue;
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) throw new Error(`</${m[2]}> closes <${open}> at offset ${m.index}`);
      continue;
    }
    elements++;
    if (stack.length === 0) roots++;
    if (!m[4]) stack.push(m[2]);
  }
  if (xml.slice(last).trim() !== '') throw new Error(`text or a broken tag after the last element: ${JSON.stringify(xml.slice(last, last + 60))}`);
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return elements;
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('checkXml (the test helper)', () => {
  it('accepts well-formed SVG and rejects broken markup', () => {
    expect(checkXml('<svg a="1"><g><rect/></g><text>a &amp; b</text></svg>')).toBe(4);
    expect(() => checkXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => checkXml('<svg><text>a & b</text></svg>')).toThrow(/bare/);
    expect(() => checkXml('<svg/><svg/>')).toThrow(/2 root/);
    expect(() => checkXml('<svg a=1></svg>')).toThrow();
  });
});

describe('animatedSvg', () => {
  it('switches frames with per-frame durations', () => {
    const f = (c: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20" viewBox="0 0 10 20"><rect fill="${c}"/></svg>`;
    const s = animatedSvg([f('red'), f('green'), f('blue')], [1, 1, 2]);
    checkXml(s);
    expect(count(s, /<animate /g)).toBe(3);
    expect(s).toContain('values="visible;hidden" keyTimes="0;0.250000" dur="4.000s"');
    expect(s).toContain('values="hidden;visible;hidden" keyTimes="0;0.250000;0.500000"');
    expect(s).toContain('values="hidden;visible;hidden" keyTimes="0;0.500000;1.000000"');
    expect(() => animatedSvg([], 1)).toThrow(/no frames/);
    expect(() => animatedSvg([f('red')], [1, 2])).toThrow(/one per frame/);
  });
});

describe('animateEpisode', () => {
  it('one frame every N steps, the camera and the titles switched with them, the trail growing', () => {
    const env = new DrivingEnv({ start_seed: 0, num_scenarios: 4, traffic_density: 0.1 });
    const a = animateEpisode(env, makePolicy('expert'), { seed: 2, every: 5, maxSteps: 20, width: 320 });
    expect(a).toMatchObject({ frames: 5, steps: 20, outcome: 'running' });
    const svg = a.svg;
    checkXml(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320"')).toBe(true);
    // the camera: one translation per frame
    const camera = /<animateTransform attributeName="transform" type="translate" values="([^"]+)" keyTimes="([^"]+)"/.exec(svg)!;
    expect(camera[1]!.split(';')).toHaveLength(5);
    expect(camera[2]!.split(';')).toHaveLength(5);
    // 0.5 s a frame (5 steps of 0.1 s), the last one held 1.5 s: a 3.5 s loop
    expect(camera[2]!.split(';').map(Number)).toEqual([0, 1, 2, 3, 4].map((i) => expect.closeTo((i * 0.5) / 3.5, 6)));
    // the ego drives forward: the world shifts further left frame after frame
    const xs = camera[1]!.split(';').map((p) => Number(p.split(',')[0]));
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeLessThan(xs[i - 1]!);
    // frames (vehicles) and titles: 5 each, only the first visible at the start; trail: 4 segments kept once shown
    const frames = svg.slice(svg.indexOf('<g class="frames">'));
    expect(count(frames.slice(0, frames.indexOf('</svg>')), /<g visibility="(visible|hidden)"><animate /g)).toBe(5);
    const titles = [...svg.matchAll(/<g class="title">.*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(titles).toEqual([0, 5, 10, 15, 20].map((t) => expect.stringMatching(new RegExp(`^seed 2  t=${t}  \\d+ km/h$`))));
    expect(count(svg, /values="hidden;visible" keyTimes="0;[0-9.]+" dur/g)).toBe(4 /* trail */ + 2 /* last frame, last title */);
    expect(count(svg, /<g visibility="visible">/g)).toBe(2);
  });
});

describe('animateGrpoGroup', () => {
  const g = generateScene(5);
  const scene = parseScene(g.scene, { source: g.name });
  const group = Array.from({ length: 4 }, (_, i) => ({ poses: Array.from({ length: 8 }, (_, k) => [(3 + i) * 0.5 * (k + 1), (i - 2) * 0.2 * (k + 1), 0]), frame: 'ego' as const }));
  const scores = scoreScene(scene, group).metrics.map((m) => m.score);

  it('one frame per pose, then the whole group; each frame draws every sample, grown to that pose', () => {
    const svg = animateGrpoGroup(scene, group, scores, { width: 400 });
    checkXml(svg);
    // the scene is drawn once; the proposals and the title are switched per frame
    expect(count(svg, /<animate /g)).toBe(2 * 9);
    expect(count(svg, /<g class="agents"/g)).toBe(1);
    const proposals = [...svg.matchAll(/<g class="proposals"[^>]*>(.*?)<\/g>/g)].map((m) => [...m[1]!.matchAll(/points="([^"]*)"/g)].map((p) => p[1]!.split(' ').length));
    expect(proposals).toHaveLength(9);
    for (let k = 0; k < 9; k++) expect(proposals[k]).toEqual([1, 1, 1, 1].map(() => Math.min(k + 1, 8) + 1)); // the ego, then k + 1 poses
    const scoresDrawn = [...svg.matchAll(/data-score="([^"]+)"/g)].slice(-4).map((m) => Number(m[1])).sort();
    expect(scoresDrawn).toEqual(scores.map((s) => Number(s.toFixed(4))).sort());
    const titles = [...svg.matchAll(/<g class="title">.*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(titles[0]).toBe('GRPO group: 4 samples  t = 0.5 s');
    expect(titles[8]).toMatch(/^GRPO group: 4 samples: best \d\.\d{3}, mean \d\.\d{3}, worst \d\.\d{3}$/);
    // the last frame holds 3 s of an 8 x 0.5 + 3 s loop
    expect(count(svg, /values="hidden;visible" keyTimes="0;0.571429" dur="7.000s"/g)).toBe(2);
  });

  it('takes flat poses (a GroupBatch trajectories array, B x G x 8 x 3) as nested ones', () => {
    const flat = new Float64Array(group.flatMap((t) => t.poses.flat()));
    const fromBatch = group.map((_, g) => ({ poses: flat.subarray(g * 24, (g + 1) * 24), frame: 'ego' as const }));
    expect(animateGrpoGroup(scene, fromBatch, scores, { width: 300 })).toBe(animateGrpoGroup(scene, group, scores, { width: 300 }));
  });

  it('rejects a score count that does not match', () => {
    expect(() => animateGrpoGroup(scene, group, scores.slice(1))).toThrow(/3 scores for 4 trajectories/);
    expect(() => animateGrpoGroup(scene, [], [])).toThrow(/no trajectories/);
  });
});
