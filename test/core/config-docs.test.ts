/** docs/config-reference.md is generated from the config declarations; this fails when it is stale. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineConfig } from '../../src/core/config.js';
import { CONFIG_SECTIONS, configReference, fillConfigTables, generatedDocs } from '../../scripts/gen-config-docs.js';

const REFERENCE = path.join(__dirname, '..', '..', 'docs', 'config-reference.md');

describe('docs/config-reference.md', () => {
  it('is up to date (regenerate: npx tsx scripts/gen-config-docs.ts)', () => {
    expect(fs.readFileSync(REFERENCE, 'utf8')).toBe(configReference());
  });

  it('every table embedded in docs/*.md (<!-- config-table: Name -->) is up to date', () => {
    for (const { file, text } of generatedDocs()) expect(fs.readFileSync(file, 'utf8'), file).toBe(text);
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

  it('refills embedded tables and rejects an unknown config name', () => {
    const D = defineConfig<{ n: number }>('Tiny', { n: { default: 1, type: 'integer', min: 1, doc: 'N.' } });
    const page = 'Intro\n<!-- config-table: Tiny -->\nold table\n<!-- /config-table -->\nOutro\n';
    expect(fillConfigTables(page, [{ where: 'w', about: 'a', def: D }])).toBe(
      'Intro\n<!-- config-table: Tiny -->\n| key | type | default | doc |\n|---|---|---|---|\n| `n` | an integer >= 1 | `1` | N. |\n<!-- /config-table -->\nOutro\n',
    );
    expect(() => fillConfigTables(page.replace('Tiny', 'Nope'), [{ where: 'w', about: 'a', def: D }])).toThrow(/unknown config 'Nope'/);
  });
});
