/**
 * The API reference (`npm run docs:api`, typedoc) covers exactly the package's public entry
 * points: typedoc.json's entryPoints are the sources of package.json's `exports`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(ROOT, f), 'utf8')) as Record<string, any>;

describe('typedoc.json', () => {
  it('documents every public entry point and nothing else, with warnings as errors', () => {
    const pkg = read('package.json');
    const typedoc = read('typedoc.json');
    const fromExports = Object.entries(pkg.exports as Record<string, { import?: string }>)
      .filter(([, v]) => typeof v === 'object' && v.import)
      .map(([, v]) => v.import!.replace('./dist/esm/', 'src/').replace(/\.js$/, '.ts'))
      .sort();
    expect(fromExports).toHaveLength(11);
    expect([...typedoc.entryPoints].sort()).toEqual(fromExports);
    for (const f of fromExports) expect(fs.existsSync(path.join(ROOT, f))).toBe(true);
    expect(typedoc.treatWarningsAsErrors).toBe(true);
    expect(pkg.scripts['docs:api']).toBe('typedoc --treatWarningsAsErrors');
    expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain(`${typedoc.out}/`);
  });
});
