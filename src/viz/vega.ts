/**
 * vega-lite specs to SVG on Node, without a DOM or the `canvas` package: vega-lite compiles the
 * spec to vega, a headless vega View (renderer 'none') renders its scenegraph to an SVG string
 * (text widths are estimated). vega and vega-lite are ES modules with top-level await, so they are
 * loaded on first use with `import()` (also from the CommonJS build) and rendering is asynchronous.
 * Browser-safe; writing chart files and notebook display are in `vega-node.ts` (`drivekit/node`).
 */
import type { ChartSpec } from './plot.js';

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');

let modules: Promise<[Vega, VegaLite]> | null = null;

function loadVega(): Promise<[Vega, VegaLite]> {
  modules ??= Promise.all([import('vega'), import('vega-lite')]).catch((e: unknown) => {
    modules = null;
    throw new Error(`rendering charts needs the vega and vega-lite packages (dependencies of drivekit): ${(e as Error).message}`);
  });
  return modules;
}

/** Renders a vega-lite spec to an SVG document (a string starting with `<svg`). */
export async function renderSpec(spec: ChartSpec): Promise<string> {
  const [vega, vl] = await loadVega();
  const compiled = vl.compile(spec as unknown as Parameters<VegaLite['compile']>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * vega numbers clip paths with a process-wide counter (`clip17`), so one spec would render
 * differently each time. The ids become `clip-<hash of the chart>-<n>`: the same spec gives the
 * same SVG, and two different charts inlined in one HTML page still have distinct ids.
 */
function stableIds(svg: string): string {
  const order = new Map<string, number>();
  const numbered = svg.replace(/(id="|url\(#)clip(\d+)/g, (_, pre: string, id: string) => {
    if (!order.has(id)) order.set(id, order.size + 1);
    return `${pre}clip-#-${order.get(id)}`;
  });
  let h = 0x811c9dc5;
  for (let i = 0; i < numbered.length; i++) h = Math.imul(h ^ numbered.charCodeAt(i), 0x01000193);
  const tag = (h >>> 0).toString(16).padStart(8, '0');
  return numbered.replace(/clip-#-/g, `clip-${tag}-`);
}
