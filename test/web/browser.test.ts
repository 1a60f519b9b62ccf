/**
 * The browser demo (web/) in a real browser: builds the page with Vite, serves web/dist on a free
 * 127.0.0.1 port, loads it in headless Chromium (playwright-core), runs a driving episode with
 * the scripted expert and one with the trained policy, scores a generated scene, and checks the
 * readouts: the expert episode and the scores are pure JavaScript arithmetic, so they must equal
 * what the same code computes here in Node; the trained policy's episode (tfjs on WASM) must end
 * with readouts in range. The console must stay free of errors. Screenshots go to
 * .tmp/browser/. Needs Chromium (`apt-get install -y chromium`, or CHROMIUM_PATH); `.ci/run`
 * installs it, so in CI this always runs. `npm run test:browser` runs this file alone.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../golden-dirs.js';
import { DrivingEnv, type StepInfo } from '../../src/env/env.js';
import { ExpertEgoPolicy } from '../../src/env/policies.js';
import { generateScene } from '../../src/navsim/scenegen.js';
import { parseScene } from '../../src/navsim/scene-json.js';
import { scoreScene } from '../../src/navsim/score-scene.js';
import { toGoldenMetrics } from '../../src/navsim/scorer.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`test/web/browser.test.ts: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH).`);

const WEB = path.join(REPO_ROOT, 'web');
const DIST = path.join(WEB, 'dist');
const SHOTS = path.join(REPO_ROOT, '.tmp', 'browser');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** A static file server for web/dist on 127.0.0.1 and a free port. */
async function serve(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, urlPath === '/' ? 'index.html' : urlPath);
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The expert's episode computed here, as the page computes it. */
function expertEpisode(seed: number, density: number): StepInfo {
  const env = new DrivingEnv({ start_seed: seed, num_scenarios: 1, traffic_density: density }, { seed });
  env.reset({ seed });
  const expert = new ExpertEgoPolicy();
  expert.reset(env);
  for (;;) {
    const r = env.step(expert.act(env));
    if (r.terminated || r.truncated) return r.info;
  }
}

describe.skipIf(!HAVE_CHROMIUM)('web demo in headless Chromium', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const { build } = await import('vite');
    await build({ configFile: path.join(WEB, 'vite.config.ts'), logLevel: 'error' });
    server = await serve(DIST);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const value = (id: string) => page.getAttribute(`#${id}`, 'data-value');
  const num = async (id: string) => Number(await value(id));

  async function runEpisode(seed: number, density: number, policy: 'trained' | 'expert'): Promise<void> {
    await page.fill('#env-seed', String(seed));
    await page.fill('#env-density', String(density));
    await page.selectOption('#env-policy', policy);
    await page.selectOption('#env-speed', 'max');
    await page.click('#env-run');
    await page.waitForSelector('#env-status[data-value="done"], #env-status[data-value="error"]', { timeout: 45_000 });
    expect(await page.textContent('#error')).toBe('');
    expect(await value('env-status')).toBe('done');
  }

  it('loads on the WASM backend with the wasm binaries served by the build', async () => {
    expect(await value('backend')).toBe('wasm');
    const wasm = fs.readdirSync(path.join(DIST, 'assets')).filter((f) => f.endsWith('.wasm'));
    expect(wasm).toHaveLength(3);
  });

  it('runs the expert episode exactly as Node does', async () => {
    const seed = 5003;
    const density = 0.1;
    await runEpisode(seed, density, 'expert');
    const want = expertEpisode(seed, density);
    expect(await num('env-step')).toBe(want.episode_length);
    expect(await num('env-route')).toBe(want.route_completion);
    expect(await num('env-reward')).toBe(want.episode_reward);
    expect(await value('env-success')).toBe(String(want.arrive_dest));
    expect(await page.locator('#bev svg').count()).toBe(1);
  });

  it('runs the trained policy to the end of an episode with readouts in range', async () => {
    await runEpisode(5001, 0.1, 'trained');
    const steps = await num('env-step');
    expect(Number.isInteger(steps) && steps > 0 && steps <= 1000).toBe(true);
    const route = await num('env-route');
    expect(route).toBeGreaterThanOrEqual(0);
    expect(route).toBeLessThanOrEqual(1.05);
    expect(['success', 'crash', 'out of road', 'max step']).toContain(await value('env-outcome'));
    expect((await value('env-success')) === 'true').toBe((await value('env-outcome')) === 'success');
    expect(Number.isFinite(await num('env-reward'))).toBe(true);
    expect(await page.locator('#episodes tbody tr').count()).toBe(2);
    await page.locator('#driving').screenshot({ path: path.join(SHOTS, 'driving.png') });
  });

  it('scores a generated scene exactly as Node does', async () => {
    const seed = 6;
    await page.fill('#score-seed', String(seed));
    await page.selectOption('#score-version', 'v1.1');
    await page.click('#score-run');
    await page.waitForSelector('#score-status[data-value="done"], #score-status[data-value="error"]', { timeout: 30_000 });
    expect(await value('score-status')).toBe('done');
    const g = generateScene(seed);
    const scene = parseScene(g.scene, { source: g.name });
    const want = scoreScene(scene, [{ poses: scene.humanTrajectory!.poses, frame: 'ego' }], { version: 'v1.1' });
    expect(await value('score-scene')).toBe(g.name);
    expect(await num('score-pdm')).toBe(toGoldenMetrics(want.pdmClosed.scores, 'v1.1').score);
    const rows = await page.locator('#score-table tbody tr').allTextContents();
    expect(rows).toHaveLength(5);
    const human = await page.locator('#score-table tbody tr').first().locator('td').allTextContents();
    expect(human[0]).toBe('human');
    expect(human.at(-1)).toBe(want.metrics[0]!.score.toFixed(3));
    const best = await num('score-best');
    expect(best).toBeGreaterThanOrEqual(0);
    expect(best).toBeLessThanOrEqual(1);
    expect(await page.locator('#scene svg').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'page.png'), fullPage: true });
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
