/**
 * tfjs <-> safetensors tensors, and PyTorch `state_dict` name mapping for tfjs variables
 * (`nn.Linear.weight` is `[out, in]` in torch, a tfjs dense kernel is `[in, out]`). Works on bytes
 * and parsed files and runs anywhere (browser-safe); `checkpoint.ts` (Node) adds files.
 */
import * as tf from '@tensorflow/tfjs';
import { parseSafetensors, type SafeDType, type SafeTensor, type SafetensorsFile } from './safetensors-format.js';

// ---------------------------------------------------------------------------------------------
// tfjs <-> SafeTensor

/** Copies a tfjs tensor into a SafeTensor (float32 -> F32 by default, int32 -> I32, bool -> BOOL). */
export function safeTensorFromTf(t: tf.Tensor, dtype?: SafeDType): SafeTensor {
  const shape = [...t.shape];
  if (t.dtype === 'float32') {
    const d = dtype ?? 'F32';
    if (!['F32', 'F16', 'BF16', 'F64'].includes(d)) throw new Error(`safeTensorFromTf: a float32 tensor cannot be stored as ${d}.`);
    const data = t.dataSync() as Float32Array;
    return { dtype: d, shape, data: d === 'F64' ? Float64Array.from(data) : Float32Array.from(data) };
  }
  if (t.dtype === 'int32') {
    const d = dtype ?? 'I32';
    if (d !== 'I32' && d !== 'I64') throw new Error(`safeTensorFromTf: an int32 tensor cannot be stored as ${d}.`);
    return { dtype: d, shape, data: Int32Array.from(t.dataSync() as Int32Array) };
  }
  if (t.dtype === 'bool') return { dtype: 'BOOL', shape, data: Uint8Array.from(t.dataSync() as Uint8Array) };
  throw new Error(`safeTensorFromTf: unsupported tfjs dtype ${t.dtype}.`);
}

/** A tfjs tensor holding a SafeTensor's values (floats -> float32, integers -> int32, BOOL -> bool). */
export function tfFromSafeTensor(t: SafeTensor): tf.Tensor {
  switch (t.dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
    case 'F64':
      return tf.tensor(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), t.shape, 'float32');
    case 'I32':
    case 'I64':
      return tf.tensor(t.data as Int32Array, t.shape, 'int32');
    case 'U8':
      return tf.tensor(Int32Array.from(t.data), t.shape, 'int32');
    case 'BOOL':
      return tf.tensor(t.data as Uint8Array, t.shape, 'bool');
  }
}

// ---------------------------------------------------------------------------------------------
// PyTorch state_dict mapping

export interface StateDictMapping {
  /** PyTorch name -> tfjs variable name; `null` drops the tensor (e.g. `old_policy.*`). Default: identity. */
  rename?: (torchName: string) => string | null;
  /**
   * Whether a 2-D tensor is stored transposed in torch (`nn.Linear.weight` is `[out, in]`, a tfjs
   * dense kernel `[in, out]`). Called with the PyTorch name and the tfjs variable's shape.
   */
  transpose?: (torchName: string, tfShape: readonly number[]) => boolean;
}

export interface LoadStateDictOptions extends StateDictMapping {
  /** When true (default), missing and unexpected names are errors; mis-shaped ones always are. */
  strict?: boolean;
}

export interface LoadStateDictReport {
  /** tfjs variable names that were assigned. */
  loaded: string[];
  /** tfjs variables with no tensor in the file (only when `strict: false`). */
  missing: string[];
  /** file tensors mapping to no variable (only when `strict: false`). */
  unexpected: string[];
  /** file tensors dropped by `rename` returning null. */
  dropped: string[];
}

/** Transposes a row-major 2-D array `[rows, cols]` into `[cols, rows]`. */
function transpose2d<A extends Float32Array | Int32Array>(data: A, rows: number, cols: number): A {
  const out = new (data.constructor as { new (n: number): A })(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Checks a parsed state dict against `vars` and assigns it (`loadStateDict`, `loadStateDictInto`);
 * `reader` reads the tensors lazily when `parsed` holds only their headers.
 * @internal
 */
export async function assignStateDict(
  vars: Record<string, tf.Variable>,
  parsed: SafetensorsFile,
  reader: TensorReader | null,
  source: string,
  options: LoadStateDictOptions,
): Promise<LoadStateDictReport> {
  const strict = options.strict ?? true;
  const rename = options.rename ?? ((n: string) => n);
  const transpose = options.transpose ?? (() => false);

  const problems: string[] = [];
  const dropped: string[] = [];
  const unexpected: string[] = [];
  const assignments: { varName: string; torchName: string; tensor: SafeTensor; transposed: boolean }[] = [];
  const claimed = new Map<string, string>();

  for (const [torchName, t] of parsed.tensors) {
    const varName = rename(torchName);
    if (varName === null) {
      dropped.push(torchName);
      continue;
    }
    const v = vars[varName];
    if (!v) {
      unexpected.push(torchName);
      continue;
    }
    const prev = claimed.get(varName);
    if (prev !== undefined) {
      problems.push(`  duplicate: ${torchName} and ${prev} both map to variable ${varName}`);
      continue;
    }
    claimed.set(varName, torchName);
    const tfShape = v.shape;
    const transposed = tfShape.length === 2 && transpose(torchName, tfShape);
    const expected = transposed ? [tfShape[1]!, tfShape[0]!] : [...tfShape];
    if (!sameShape(expected, t.shape)) {
      problems.push(
        `  mis-shaped: ${torchName} -> ${varName}: expected ${fmt(expected)}${transposed ? ` (torch layout of tfjs ${fmt(tfShape)})` : ''}, found ${fmt(t.shape)}`,
      );
      continue;
    }
    const isFloat = ['F32', 'F16', 'BF16', 'F64'].includes(t.dtype);
    const wantFloat = v.dtype === 'float32';
    if (isFloat !== wantFloat || (v.dtype !== 'float32' && v.dtype !== 'int32')) {
      problems.push(`  wrong dtype: ${torchName} -> ${varName}: expected ${v.dtype}, found ${t.dtype}`);
      continue;
    }
    assignments.push({ varName, torchName, tensor: t, transposed });
  }
  const missing = Object.keys(vars).filter((k) => !claimed.has(k));
  if (strict) {
    for (const m of missing) problems.push(`  missing: ${m} (expected ${fmt(vars[m]!.shape)}, found nothing in the file)`);
    for (const u of unexpected) problems.push(`  unexpected: ${u} (${fmt(parsed.tensors.get(u)!.shape)} ${parsed.tensors.get(u)!.dtype}; no variable named ${rename(u)})`);
  }
  if (problems.length > 0) {
    throw new Error(`loadStateDictInto(${source}): ${problems.length} problem(s); no variable was changed:\n${problems.join('\n')}`);
  }
  const loaded: { varName: string; tensor: SafeTensor; transposed: boolean }[] = [];
  for (const a of assignments) loaded.push(reader ? { ...a, tensor: await reader.read(a.torchName) } : a);
  for (const { varName, tensor, transposed } of loaded) {
    const v = vars[varName]!;
    let data = tensor.data;
    if (data instanceof Float64Array) data = Float32Array.from(data);
    else if (data instanceof Uint8Array) data = Int32Array.from(data);
    if (transposed) data = transpose2d(data as Float32Array | Int32Array, tensor.shape[0]!, tensor.shape[1]!);
    tf.tidy(() => v.assign(tf.tensor(data as Float32Array | Int32Array, v.shape, v.dtype)));
  }
  return { loaded: assignments.map((a) => a.varName), missing: strict ? [] : missing, unexpected: strict ? [] : unexpected, dropped };
}

/**
 * The inverse of `loadStateDictInto`: tfjs variables -> tensors under PyTorch names (`rename` maps
 * a tfjs name to a torch name, `null` skips it; `transpose` gets the torch name and tfjs shape).
 */
export function toStateDict(
  vars: Record<string, tf.Variable | tf.Tensor>,
  options: { rename?: (tfName: string) => string | null; transpose?: (torchName: string, tfShape: readonly number[]) => boolean; dtype?: SafeDType } = {},
): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  const rename = options.rename ?? ((n: string) => n);
  for (const [tfName, v] of Object.entries(vars)) {
    const torchName = rename(tfName);
    if (torchName === null) continue;
    if (out.has(torchName)) throw new Error(`toStateDict: two variables map to the torch name ${torchName}.`);
    const st = safeTensorFromTf(v, v.dtype === 'float32' ? options.dtype : undefined);
    if (v.shape.length === 2 && options.transpose?.(torchName, v.shape)) {
      const [r, c] = v.shape as [number, number];
      st.data = transpose2d(st.data as Float32Array | Int32Array, r, c);
      st.shape = [c, r];
    }
    out.set(torchName, st);
  }
  return out;
}

/** Lazy per-tensor access to a state dict (what `SafetensorsReader` provides for a file). @internal */
export interface TensorReader {
  read(name: string): Promise<SafeTensor>;
}

/**
 * Loads a PyTorch-style state dict (bytes or a parsed safetensors file) into tfjs variables; all
 * checks run before any variable is assigned (see `loadStateDictInto`, which also takes a path).
 */
export async function loadStateDict(
  vars: Record<string, tf.Variable>,
  file: Uint8Array | SafetensorsFile,
  options: LoadStateDictOptions = {},
): Promise<LoadStateDictReport> {
  return assignStateDict(vars, file instanceof Uint8Array ? parseSafetensors(file) : file, null, '<state dict>', options);
}
