/**
 * Reading scene JSON files for scoring. A golden file (`{name, description, input, expected}`)
 * is mostly its `expected` block (reference states and details: about half of the bytes and well
 * over a third of `JSON.parse`'s time), which scoring never reads. `readSceneFile` parses every
 * other top-level member with `JSON.parse` (so `input` is fully validated) and only checks the
 * structure of `expected` (strings end, brackets nest and balance; a truncated or unbalanced file
 * is still an error, a malformed number inside `expected` is not seen); the result has no
 * `expected` member.
 * Anything else (a plain scene, an array of scenes, other layouts) is `JSON.parse` of the whole
 * text, as is any case the shortcut cannot decide, so errors keep `JSON.parse`'s message.
 */
import * as fs from 'node:fs';

const KEY = Buffer.from('"expected"');

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Byte classes of the structural scan: 0 for everything but quotes and brackets. */
const CLASS = new Uint8Array(256);
CLASS[0x22] = 1; // "
CLASS[0x7b] = 2; // {
CLASS[0x5b] = 2; // [
CLASS[0x7d] = 3; // }
CLASS[0x5d] = 3; // ]

/**
 * End (exclusive) of the object or array starting at `i`, checked by structure: strings end,
 * brackets nest and balance; scalars are not checked. -1 on a structural error.
 */
function skipContainer(b: Uint8Array, i: number): number {
  const stack = new Uint8Array(512);
  let depth = 0;
  const n = b.length;
  for (; i < n; i++) {
    const c = b[i]!;
    const k = CLASS[c]!;
    if (k === 0) continue;
    if (k === 1) {
      // a string: to the closing quote (escapes skipped; control characters are errors)
      for (i++; i < n; i++) {
        const d = b[i]!;
        if (d === 0x22) break;
        if (d === 0x5c) i++;
        else if (d < 0x20) return -1;
      }
      if (i >= n) return -1;
    } else if (k === 2) {
      if (depth === stack.length) return -1;
      stack[depth++] = c + 2; // { -> }, [ -> ]
    } else {
      if (depth === 0 || stack[--depth] !== c) return -1;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * The golden file's members other than `expected`, or null when the text is not an object with a
 * top-level `expected` object, `input`, and no `schema`.
 */
function withoutExpected(buf: Buffer): Record<string, unknown> | null {
  // the last `"expected"` followed by a colon; a match that is not a top-level key leaves the
  // members before it unbalanced (a string cannot hold an unescaped quote), so their parse below
  // fails and the caller falls back to the whole text
  let at = buf.lastIndexOf(KEY);
  let colon = -1;
  while (at > 0) {
    let j = at + KEY.length;
    while (isWs(buf[j])) j++;
    if (buf[j] === 0x3a) {
      colon = j;
      break;
    }
    at = buf.lastIndexOf(KEY, at - 1);
  }
  if (colon < 0) return null;
  let v = colon + 1;
  while (isWs(buf[v])) v++;
  if (buf[v] !== 0x7b) return null;
  const ve = skipContainer(buf, v);
  if (ve < 0) return null;
  // the members before it, closed as an object
  let p = at - 1;
  while (p > 0 && isWs(buf[p])) p--;
  if (buf[p] !== 0x2c) return null;
  // the members after it (or just the closing brace)
  let q = ve;
  while (isWs(buf[q])) q++;
  if (buf[q] !== 0x2c && buf[q] !== 0x7d) return null;
  let before: unknown;
  let after: unknown;
  try {
    before = JSON.parse(`${buf.toString('utf8', 0, p)}}`);
    after = buf[q] === 0x7d ? (q + 1 === buf.length || buf.subarray(q + 1).every((c) => isWs(c)) ? {} : null) : JSON.parse(`{${buf.toString('utf8', q + 1)}`);
  } catch {
    return null;
  }
  if (after === null || before === null || typeof before !== 'object' || Array.isArray(before)) return null;
  const o = before as Record<string, unknown>;
  if (!('input' in o) || 'schema' in o || 'expected' in o) return null;
  const tail = after as Record<string, unknown>;
  // (an own `__proto__` member would become the prototype through assignment: whole-text path)
  if ('expected' in tail || 'schema' in tail || Object.prototype.hasOwnProperty.call(tail, '__proto__')) return null;
  return Object.assign(o, tail);
}

/**
 * Parses scene JSON bytes for scoring: a golden file without its `expected` member (see the file
 * comment), anything else as `JSON.parse`. Throws `JSON.parse`'s SyntaxError on invalid text.
 */
export function parseSceneJsonBytes(bytes: Uint8Array): unknown {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return withoutExpected(buf) ?? JSON.parse(buf.toString('utf8'));
}

/** Reads and parses a scene JSON file for scoring (`parseSceneJsonBytes`). */
export function readSceneFile(file: string): unknown {
  return parseSceneJsonBytes(fs.readFileSync(file));
}
