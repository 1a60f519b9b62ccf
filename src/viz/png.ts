/** SVG -> PNG with @resvg/resvg-js (a native addon, loaded on first use). */
import { createRequire } from 'node:module';
import { renameSync, writeFileSync } from 'node:fs';
import { packageRequire } from '../core/module-path.js';

export interface PngOptions {
  /** Output width in pixels (default: the SVG's own width). */
  width?: number;
  /** Background colour (default: transparent). */
  background?: string;
}

type ResvgCtor = new (svg: string, opts?: Record<string, unknown>) => { render(): { asPng(): Uint8Array } };
let resvg: ResvgCtor | null = null;

function loadResvg(): ResvgCtor {
  if (resvg) return resvg;
  // Resolved lazily so importing drivekit/viz never loads the native addon; from this package's
  // own location first (core/module-path: no tfjs), then the working directory.
  const requires = [packageRequire, createRequire(process.cwd() + '/')];
  let lastError = '';
  for (const req of requires) {
    try {
      resvg = (req('@resvg/resvg-js') as { Resvg: ResvgCtor }).Resvg;
      return resvg;
    } catch (e) {
      lastError = (e as Error).message;
    }
  }
  throw new Error(`svgToPng needs the @resvg/resvg-js package (a dependency of drivekit): ${lastError}`);
}

/** Renders an SVG string to PNG bytes. */
export function svgToPng(svg: string, opts: PngOptions = {}): Uint8Array {
  const Resvg = loadResvg();
  const o: Record<string, unknown> = { font: { loadSystemFonts: true } };
  if (opts.width) o.fitTo = { mode: 'width', value: opts.width };
  if (opts.background) o.background = opts.background;
  return new Resvg(svg, o).render().asPng();
}

/** Writes an SVG as a PNG file atomically (temp file + rename). */
export function writePng(path: string, svg: string, opts: PngOptions = {}): void {
  const png = svgToPng(svg, opts);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, png);
  renameSync(tmp, path);
}

/** Writes an SVG file atomically. */
export function writeSvg(path: string, svg: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, svg);
  renameSync(tmp, path);
}
