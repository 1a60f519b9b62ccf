/** docs/config-reference.md is generated from the config declarations; this fails when it is stale. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineConfig } from '../../src/core/config.js';
import { CONFIG_SECTIONS, configReference } from '../../scripts/gen-config-docs.js';

const REFERENCE = path.join(__dirname, '..', '..', 'docs', 'config-reference.md');

describe('docs/config-reference.md', () => {
  it('is up to date (regenerate: npx tsx scripts/gen-config-docs.ts)', () => {
    expect(fs.readFileSync(REFERENCE, 'utf8')).toBe(configReference());
  });

  it('has one section per declared config, with every top-level key', () => {
    const text = configReference();
    for (const s of CONFIG_SECTIONS) {
      expect(text).toContain(`## ${s.def.name}\n`);
      for (const k of Object.keys(s.def.fields)) expect(text).toContain(`| \`${k}\` |`);
    }
  });

  it('changes when a declaration changes (the comparison can fail)', () => {
    const D = defineConfig<{ n: number }>('Tiny', { n: { default: 1, type: 'integer', min: 1, doc: 'N.' } });
    const E = defineConfig<{ n: number }>('Tiny', { n: { default: 2, type: 'integer', min: 1, doc: 'N.' } });
    const one = configReference([{ where: 'w', about: 'a', def: D }]);
    expect(one).toContain('| `n` | an integer >= 1 | `1` | N. |');
    expect(configReference([{ where: 'w', about: 'a', def: E }])).not.toBe(one);
  });
});
