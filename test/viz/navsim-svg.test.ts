import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { generateScene } from '../../src/navsim/scenegen.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreScene } from '../../src/navsim/score-scene.js';
import type { EpdmsMetrics, PdmsMetrics } from '../../src/navsim/scorer.js';
import type { PdmScene } from '../../src/navsim/types.js';
import { renderNavsimScene, scoreColor } from '../../src/viz/navsim-svg.js';
import { scaleBarLength } from '../../src/viz/svg-overlays.js';
import { PDM_V1_DIR } from '../golden-dirs.js';

/** The inside of the first `<g class="NAME" ...>` group (groups are not nested in these layers). */
function group(svg: string, name: string): string {
  const start = svg.indexOf(`<g class="${name}"`);
  if (start < 0) return '';
  return svg.slice(start, svg.indexOf('</g>', start));
}

function count(s: string, re: RegExp): number {
  return (s.match(re) ?? []).length;
}

/** [r, g, b] of a `#rrggbb` colour. */
function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

const straight = (v: number) => ({ poses: Array.from({ length: 8 }, (_, k) => [v * 0.5 * (k + 1), 0, 0]), frame: 'ego' as const });
const leftChange = { poses: [[5, 0.2, 0.04], [10, 0.8, 0.1], [15, 1.8, 0.12], [20, 2.8, 0.1], [25, 3.4, 0.05], [30, 3.5, 0], [35, 3.5, 0], [40, 3.5, 0]], frame: 'ego' as const };
const offRoad = { poses: Array.from({ length: 8 }, (_, k) => [4 * (k + 1), -1.5 * (k + 1), -0.35]), frame: 'ego' as const };

function agentsAtT0(scene: PdmScene): number {
  return scene.agents.filter((a) => a.startFrame === 0 && a.states[0] !== null && a.states[0] !== undefined).length;
}

describe('renderNavsimScene', () => {
  const golden = parseScene(JSON.parse(fs.readFileSync(path.join(PDM_V1_DIR, 'lane_change_sideswipe.json'), 'utf8')));

  it('draws one box per agent at t0, one path per proposal, colours ordered by score (golden v1 scene)', () => {
    const proposals = [leftChange, straight(10), offRoad, straight(4)];
    const { metrics } = scoreScene(golden, proposals, { version: 'v1.1' });
    const scores = metrics.map((m) => m.score);
    // the side-swipe scores 0, straight driving scores high: the scores are not all equal
    expect(scores[0]).toBe(0);
    expect(scores[1]).toBeGreaterThan(0.8);
    const svg = renderNavsimScene(golden, { proposals, scores });

    const agents = group(svg, 'agents');
    expect(count(agents, /<polygon /g)).toBe(agentsAtT0(golden));
    expect(count(agents, /data-type="vehicle"/g)).toBe(1);
    expect(count(group(svg, 'ego'), /<polygon /g)).toBe(1);

    const props = group(svg, 'proposals');
    expect(count(props, /<polyline /g)).toBe(4);
    // drawn worst first; the colour's green-minus-red rises with the score
    const drawn = [...props.matchAll(/stroke="(#[0-9a-f]{6})" data-index="(\d)" data-score="([\d.]+)"/g)].map((m) => ({ color: m[1]!, index: Number(m[2]), score: Number(m[3]) }));
    expect(drawn.map((d) => d.index).sort()).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < drawn.length; i++) {
      expect(drawn[i]!.score).toBeGreaterThanOrEqual(drawn[i - 1]!.score);
      const [r0, g0] = rgb(drawn[i - 1]!.color), [r1, g1] = rgb(drawn[i]!.color);
      if (drawn[i]!.score > drawn[i - 1]!.score) expect(g1 - r1).toBeGreaterThan(g0 - r0);
    }
    for (const d of drawn) expect(d.color).toBe(scoreColor(scores[d.index]!));

    // legend with a colour bar, a scale bar, the PDM-Closed centre line, the title
    expect(count(group(svg, 'colorbar'), /<rect /g)).toBe(40);
    expect(svg).toContain('class="scale-bar"');
    expect(count(group(svg, 'centerline'), /<polyline /g)).toBe(1);
    expect(svg).toContain('lane_change_sideswipe');
  });

  it('draws a generated scene: every agent present at t0, human trajectory, proposals in one colour without scores', () => {
    const scene = parseScene(generateScene(6).scene);
    expect(agentsAtT0(scene)).toBeGreaterThan(1);
    const svg = renderNavsimScene(scene, { proposals: [straight(8), straight(3)] });
    expect(count(group(svg, 'agents'), /<polygon /g)).toBe(agentsAtT0(scene));
    expect(svg).toContain('class="human"');
    const props = group(svg, 'proposals');
    expect(count(props, /<polyline /g)).toBe(2);
    expect(props).not.toContain('data-score');
    expect(group(svg, 'legend')).not.toContain('proposal score');
  });

  it('puts the legend below a title that would run under it', () => {
    const legendTop = (svg: string) => Number(/<g class="legend"><rect x="[\d.]+" y="([\d.]+)"/.exec(svg)![1]);
    expect(legendTop(renderNavsimScene(golden, { title: 'short' }))).toBe(8);
    expect(legendTop(renderNavsimScene(golden, { title: 'a long title '.repeat(8) }))).toBeGreaterThan(30);
  });

  it('leaves out agents absent at t0 and rejects a score list of the wrong length', () => {
    const late = { ...golden, agents: golden.agents.map((a) => ({ ...a, startFrame: 3 })) };
    expect(count(group(renderNavsimScene(late), 'agents'), /<polygon /g)).toBe(0);
    expect(() => renderNavsimScene(golden, { proposals: [straight(5)], scores: [0.5, 0.2] })).toThrow(RangeError);
  });

  it('scoreColor: red at 0, green at 1, grey for NaN; scale bar lengths are 1-2-5 steps', () => {
    const [r0, g0] = rgb(scoreColor(0));
    const [r1, g1] = rgb(scoreColor(1));
    expect(r0).toBeGreaterThan(g0);
    expect(g1).toBeGreaterThan(r1);
    expect(scoreColor(Number.NaN)).toBe(scoreColor(null));
    expect(scaleBarLength(10, 200)).toBe(20);
    expect(scaleBarLength(3, 200)).toBe(50);
    expect(scaleBarLength(0.5, 100)).toBe(200);
  });

  it('scoreScene metrics are typed by version', () => {
    expectTypeOf(scoreScene(golden, null, { version: 'v1.1' }).metrics[0]!).toEqualTypeOf<PdmsMetrics>();
    expectTypeOf(scoreScene(golden, null, { version: 'v2.2' }).metrics[0]!).toEqualTypeOf<EpdmsMetrics>();
    expectTypeOf(scoreScene(golden).metrics[0]!.score).toEqualTypeOf<number>();
    expectTypeOf<EpdmsMetrics['two_frame_extended_comfort']>().toEqualTypeOf<number | null>();
  });
});

describe('drivekit navsim render', () => {
  it('writes an SVG and a PNG of a golden scene with scored proposals', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-render-'));
    try {
      const plans = path.join(dir, 'plans.json');
      fs.writeFileSync(plans, JSON.stringify([straight(10).poses, { poses: leftChange.poses, frame: 'ego' }]));
      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      const svgOut = path.join(dir, 'sub', 'scene.svg');
      const code = await main(['navsim', 'render', path.join(PDM_V1_DIR, 'lane_change_sideswipe.json'), '--proposals', plans, '--out', svgOut], io);
      expect(code).toBe(0);
      const info = JSON.parse(lines[0]!) as { scene: string; proposals: number; best_score: number };
      expect(info.scene).toBe('lane_change_sideswipe');
      expect(info.proposals).toBe(2);
      expect(info.best_score).toBeGreaterThan(0.8);
      const svg = fs.readFileSync(svgOut, 'utf8');
      expect(count(group(svg, 'proposals'), /<polyline /g)).toBe(2);
      expect(svg).toContain('scene trajectory PDMS 0.000');

      const pngOut = path.join(dir, 'scene.png');
      expect(await main(['navsim', 'render', path.join(PDM_V1_DIR, 'straight_cruise.json'), '--out', pngOut, '--no-score', '--width', '400'], io)).toBe(0);
      expect([...fs.readFileSync(pngOut).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

      // a usage error names the flag and exits 2
      expect(await main(['navsim', 'render', path.join(PDM_V1_DIR, 'straight_cruise.json'), '--out', path.join(dir, 'x.jpg')], io)).toBe(2);
      expect(lines[lines.length - 1]).toContain('--out');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
