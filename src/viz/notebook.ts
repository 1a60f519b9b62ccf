/**
 * Notebook display that never throws outside a notebook. Inside a tslab kernel, `display()`
 * renders SVG, PNG, HTML or Markdown in the cell output and returns true; anywhere else it does
 * nothing and returns false (tslab's own display functions throw outside a kernel).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Displayable =
  | { svg: string }
  | { png: Uint8Array }
  | { html: string }
  | { markdown: string };

interface TslabDisplay {
  svg(s: string): void;
  png(b: Uint8Array): void;
  html(s: string): void;
  markdown(s: string): void;
}

let cached: TslabDisplay | null | undefined;

/**
 * tslab hands `require('tslab')` to notebook cells only; library code finds the same module
 * through the running kernel: the process is `tslab kernel ...`, started from tslab's bin, so
 * the package root above that bin resolves to the module instance the kernel uses.
 */
function tslabDisplay(): TslabDisplay | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const bin = process.argv[1];
    if (!bin || !process.argv.slice(2).includes('kernel')) return null;
    let dir = dirname(realpathSync(bin));
    for (let depth = 0; depth < 4; depth++, dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (!existsSync(pkg)) continue;
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name !== 'tslab') return null;
      const mod = createRequire(pkg)(dir) as { display?: TslabDisplay };
      if (mod.display && typeof mod.display.svg === 'function') cached = mod.display;
      return cached;
    }
  } catch {
    cached = null;
  }
  return cached;
}

/** True when running inside a tslab kernel. */
export function inNotebook(): boolean {
  return tslabDisplay() !== null;
}

/** Shows the item in the notebook; returns false (and does nothing) outside one. */
export function display(item: Displayable | string): boolean {
  const d = tslabDisplay();
  if (!d) return false;
  const it: Displayable = typeof item === 'string' ? (item.trimStart().startsWith('<svg') ? { svg: item } : { html: item }) : item;
  if ('svg' in it) d.svg(it.svg);
  else if ('png' in it) d.png(it.png);
  else if ('html' in it) d.html(it.html);
  else d.markdown(it.markdown);
  return true;
}
