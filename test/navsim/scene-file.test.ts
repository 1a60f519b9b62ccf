/**
 * `readSceneFile` / `parseSceneJsonBytes`: a golden file parses to `JSON.parse` of it without its
 * `expected` member (v1 layout: expected last; v2: other members after it), other JSON exactly as
 * `JSON.parse`; truncated, unbalanced and randomly corrupted files are errors unless the damage
 * lies inside `expected` and keeps its structure (the only thing the shortcut does not check).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { parseSceneJsonBytes, readSceneFile } from '../../src/navsim/scene-file.js';
import { PDM_V1_DIR, PDM_V2_DIR } from '../golden-dirs.js';

const V1 = PDM_V1_DIR;
const V2 = PDM_V2_DIR;
const files = [V1, V2].flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(d, f)));

function withoutExpected(text: string): unknown {
  const o = JSON.parse(text);
  delete o.expected;
  return o;
}
const bytes = (s: string) => Buffer.from(s, 'utf8');

/** The [start, end) byte span of the top-level `expected` value (by parsing the prefix). */
function expectedSpan(text: string): [number, number] {
  const at = text.lastIndexOf('"expected"');
  const v = text.indexOf('{', at);
  const whole = JSON.parse(text);
  const len = JSON.stringify(whole.expected).length; // not the byte length: find the end by balance instead
  void len;
  let depth = 0;
  let inStr = false;
  for (let i = v; i < text.length; i++) {
    const c = text[i]!;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return [v, i + 1];
    }
  }
  throw new Error('unbalanced');
}

describe('readSceneFile', () => {
  it(`parses every golden file (${files.length}) as JSON.parse without "expected"`, () => {
    let withTail = 0;
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const got = readSceneFile(f) as Record<string, unknown>;
      expect(got, f).toEqual(withoutExpected(text));
      expect('expected' in got).toBe(false);
      expect(got.input).toBeTypeOf('object');
      if (Object.keys(JSON.parse(text)).at(-1) !== 'expected') withTail++;
    }
    expect(withTail).toBeGreaterThan(0); // the v2 layout (members after "expected") is covered
  });

  it('parses other JSON exactly as JSON.parse (plain scenes, arrays, a nested or quoted "expected")', () => {
    const cases = [
      '{"schema": "pdm_ref_scene/v1", "name": "a", "expected": {"x": 1}}', // a scene (schema): whole
      '[{"input": {"name": "a"}, "expected": {}}]',
      '{"input": {"name": "a", "expected": {"b": 2}}, "expected": {"c": [1, {"d": "}]"}]}}',
      '{"name": "say \\"expected\\": {", "input": {"n": 1}, "expected": {"s": "\\"x\\\\"}, "t": [1, 2]}',
      '{"input": {"n": 1}, "expected": {"k": 1}, "expected": {"k": 2}}',
      '{"input": {"n": 1}}',
      '  {"input": {"n": "é"}, "expected": {"x": "ü"}}  \n',
      '{"input": {"n": 1}, "expected": {}, "__proto__": {"polluted": true}}',
      '{"__proto__": {"p": 1}, "input": {"n": 1}, "expected": {}, "t": 2}',
    ];
    for (const c of cases) {
      const exp = JSON.parse(c);
      const got = parseSceneJsonBytes(bytes(c)) as any;
      if (Array.isArray(exp) || exp.schema !== undefined || !('expected' in exp) || !('input' in exp)) expect(got).toEqual(exp);
      else {
        // (duplicate top-level "expected" keys take the whole-text path and keep the last one)
        if ('expected' in got) expect(got).toEqual(exp);
        else expect(got).toEqual(withoutExpected(c));
      }
    }
  });

  it('rejects truncated and unbalanced golden files with JSON.parse errors', () => {
    const text = fs.readFileSync(files[0]!, 'utf8');
    const rng = new Rng(7);
    for (let k = 0; k < 200; k++) {
      const cut = rng.int(1, text.length - 1);
      expect(() => parseSceneJsonBytes(bytes(text.slice(0, cut))), `cut at ${cut}`).toThrow(SyntaxError);
    }
    const [s, e] = expectedSpan(text);
    const inner = text.indexOf('[', s);
    expect(() => parseSceneJsonBytes(bytes(text.slice(0, inner) + text.slice(inner + 1)))).toThrow(SyntaxError); // a lost bracket
    expect(() => parseSceneJsonBytes(bytes(text.slice(0, e - 1) + ']' + text.slice(e)))).toThrow(SyntaxError); // a wrong one
  });

  it('random byte corruptions: either JSON.parse agrees, or the damage is inside "expected"', () => {
    const rng = new Rng(11);
    const alphabet = '{}[]",:0123456789.-eE \\x';
    let inside = 0;
    for (let k = 0; k < 600; k++) {
      const text = fs.readFileSync(files[k % files.length]!, 'utf8');
      const [s, e] = expectedSpan(text);
      const pos = rng.int(0, text.length - 1);
      const bad = text.slice(0, pos) + alphabet[rng.int(0, alphabet.length - 1)]! + text.slice(pos + 1);
      let ref: unknown;
      let refErr = false;
      try {
        ref = JSON.parse(bad);
      } catch {
        refErr = true;
      }
      let got: unknown;
      let gotErr = false;
      try {
        got = parseSceneJsonBytes(bytes(bad));
      } catch (err) {
        expect(err).toBeInstanceOf(SyntaxError);
        gotErr = true;
      }
      if (!refErr) {
        expect(gotErr).toBe(false);
        const r = ref as any;
        if (r && typeof r === 'object' && 'input' in r && 'expected' in r && !('schema' in r)) {
          delete r.expected;
        }
        expect(got).toEqual(r);
      } else if (!gotErr) {
        // accepted although invalid: only a change inside "expected" that keeps its structure
        expect(pos >= s && pos < e, `accepted a corruption at ${pos} outside expected [${s}, ${e})`).toBe(true);
        inside++;
      }
    }
    expect(inside).toBeLessThan(600);
  });

  it('reads from disk and reports a missing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drivekit-scene-file-'));
    try {
      const f = path.join(dir, 'a.json');
      fs.writeFileSync(f, '{"input": {"name": "x"}, "expected": {"y": [1, 2]}}');
      expect(readSceneFile(f)).toEqual({ input: { name: 'x' } });
      expect(() => readSceneFile(path.join(dir, 'missing.json'))).toThrow(/ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
