/**
 * Backend selection. Library code imports `@tensorflow/tfjs` only; this module alone loads
 * backend packages. `init()` is explicit (no side-effect imports) and reports what it chose.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';
export type BackendRequest = BackendName | 'auto';

export interface InitOptions {
  /** Which backend to use; `auto` tries tensorflow, webgpu, wasm, cpu in that order. */
  backend?: BackendRequest;
}

export interface BackendAvailability {
  wasm: boolean;
  cpu: boolean;
  webgpu: boolean;
  tensorflow: boolean;
}

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];
const VALID: readonly BackendRequest[] = ['auto', ...BACKEND_ORDER];

/**
 * A `require` anchored at this package's own files, so optional packages resolve from here and not
 * from the working directory (`init()` works from any folder and from a global install). The
 * CommonJS build has `__filename`; the ESM build passes `import.meta.url` (never evaluated in
 * CommonJS, where esbuild leaves `import.meta` empty). `node:module` comes from
 * `process.getBuiltinModule` (Node >= 20.16), so this module imports nothing from `node:*` and
 * bundles for a browser, where there is no `require`: there the application imports the backend
 * package itself (e.g. `import '@tensorflow/tfjs-backend-wasm'`) before `init()`.
 */
let cachedRequire: NodeJS.Require | null | undefined;
function packageRequire(): NodeJS.Require | null {
  if (cachedRequire !== undefined) return cachedRequire;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const mod = typeof getBuiltin === 'function' ? (getBuiltin('module') as { createRequire?: (from: string) => NodeJS.Require }) : undefined;
  if (mod?.createRequire) cachedRequire = mod.createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  else cachedRequire = typeof require === 'function' ? require : null;
  return cachedRequire;
}

function req(name: string): any {
  const r = packageRequire();
  if (!r) throw new Error(`cannot load ${name} here (no require: in a browser, import it before init())`);
  return r(name);
}

function tryRequire(name: string): { ok: true; mod: any } | { ok: false; error: string } {
  try {
    return { ok: true, mod: req(name) };
  } catch (e) {
    return { ok: false, error: (e as Error).message.split('\n')[0] ?? String(e) };
  }
}

let wasmLoaded = false;
function loadWasm(): void {
  if (wasmLoaded) return;
  // Registers the 'wasm' backend; the .wasm binaries ship inside the npm package. An application
  // that imported the package itself (a browser bundle) has registered it already.
  if (tf.findBackendFactory('wasm') == null) req('@tensorflow/tfjs-backend-wasm');
  wasmLoaded = true;
}

/** Loads tfjs-node-gpu or tfjs-node; returns the package name used or an explanation. */
function loadTensorflow(): { ok: true; pkg: string } | { ok: false; error: string } {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const r = tryRequire(pkg);
    if (r.ok) return { ok: true, pkg };
    errors.push(`${pkg}: ${r.error}`);
  }
  return { ok: false, error: errors.join('; ') };
}

async function loadWebgpu(): Promise<{ ok: true } | { ok: false; error: string }> {
  const g = globalThis as any;
  if (!g.navigator?.gpu) {
    const webgpu = tryRequire('webgpu');
    if (!webgpu.ok) return { ok: false, error: `webgpu: ${webgpu.error}` };
    const { create, globals } = webgpu.mod;
    Object.assign(globalThis, globals);
    if (!g.navigator) g.navigator = {};
    g.navigator.gpu = create([]);
  }
  const adapter = await g.navigator.gpu.requestAdapter();
  if (!adapter) return { ok: false, error: 'webgpu: navigator.gpu.requestAdapter() returned null (no GPU adapter)' };
  const backend = tf.findBackendFactory('webgpu') != null ? ({ ok: true } as const) : tryRequire('@tensorflow/tfjs-backend-webgpu');
  if (!backend.ok) return { ok: false, error: `@tensorflow/tfjs-backend-webgpu: ${backend.error}` };
  return { ok: true };
}

const INSTALL_HINT: Record<BackendName, string> = {
  tensorflow: 'npm install @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1) or @tensorflow/tfjs-node',
  webgpu: 'npm install webgpu @tensorflow/tfjs-backend-webgpu (and a machine with a GPU adapter)',
  wasm: 'npm install @tensorflow/tfjs-backend-wasm',
  cpu: 'npm install @tensorflow/tfjs',
};

async function tryBackend(name: BackendName): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    if (name === 'tensorflow') {
      const r = loadTensorflow();
      if (!r.ok) return r;
    } else if (name === 'webgpu') {
      const r = await loadWebgpu();
      if (!r.ok) return r;
    } else if (name === 'wasm') {
      loadWasm();
    }
    const before = processListeners();
    try {
      const ok = await tf.setBackend(name);
      if (!ok) return { ok: false, error: `tf.setBackend('${name}') returned false` };
      await tf.ready();
    } finally {
      removeListenersAddedSince(before);
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const PROCESS_EVENTS: readonly ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];
type Listener = (...args: unknown[]) => void;

function listenersOf(ev: ProcessEvent): Listener[] {
  return (process as unknown as { listeners(ev: string): Listener[] }).listeners(ev);
}

function processListeners(): Map<ProcessEvent, Set<Listener>> | null {
  const p = (globalThis as { process?: { listeners?: unknown } }).process;
  if (typeof p?.listeners !== 'function') return null;
  return new Map(PROCESS_EVENTS.map((ev) => [ev, new Set(listenersOf(ev))]));
}

/**
 * The emscripten runtime of tfjs-backend-wasm installs process-wide `uncaughtException` and
 * `unhandledRejection` handlers that rethrow (`throw ex`) when its module is instantiated, and
 * removes them only when the backend is disposed. Rethrowing from such a handler makes any error
 * of the application look like a crash inside tfjs: Node prints the minified runtime source and
 * exits with code 7 instead of printing the error and exiting with 1. The handlers serve
 * emscripten's `exit()`, which tfjs never calls, so the listeners added while a backend
 * initialises are removed and errors surface as themselves.
 */
function removeListenersAddedSince(before: ReturnType<typeof processListeners>): void {
  if (!before) return;
  for (const ev of PROCESS_EVENTS) {
    for (const fn of listenersOf(ev)) if (!before.get(ev)!.has(fn)) process.removeListener(ev, fn);
  }
}

let current: BackendName | null = null;

/**
 * Initialises TensorFlow.js with the requested backend and returns its name.
 * `DRIVEKIT_BACKEND` overrides the request. An explicitly requested backend that cannot be
 * loaded is an error naming the package to install; `auto` falls through the order above.
 */
export async function init(options: InitOptions = {}): Promise<BackendName> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.DRIVEKIT_BACKEND;
  const request = (env && env.length > 0 ? env : options.backend ?? 'auto') as BackendRequest;
  if (!VALID.includes(request)) {
    throw new Error(
      `Invalid backend ${JSON.stringify(request)}${env ? ' (from DRIVEKIT_BACKEND)' : ''}. Should be one of ${VALID.join(', ')}.`,
    );
  }
  if (request !== 'auto') return useBackend(request);
  const failures: string[] = [];
  for (const name of BACKEND_ORDER) {
    const r = await tryBackend(name);
    if (r.ok) {
      current = name;
      return name;
    }
    failures.push(`${name}: ${r.error}`);
  }
  throw new Error(`No tfjs backend could be initialised: ${failures.join('; ')}`);
}

/**
 * Switches to exactly `name`, loading its package if needed; `DRIVEKIT_BACKEND` is not consulted.
 * For benchmarks and parity tests that compare backends; applications call `init()`.
 * A missing backend is an error naming the package to install.
 */
export async function useBackend(name: BackendName): Promise<BackendName> {
  if (!BACKEND_ORDER.includes(name)) {
    throw new Error(`Invalid backend ${JSON.stringify(name)}. Should be one of ${BACKEND_ORDER.join(', ')}.`);
  }
  const r = await tryBackend(name);
  if (!r.ok) {
    throw new Error(`Backend '${name}' is not available: ${r.error}. To use it: ${INSTALL_HINT[name]}.`);
  }
  current = name;
  return name;
}

let warnedBeforeInit = false;

/**
 * Called by drivekit entry points that create tensors (e.g. the `DiffusionPlanner` constructor).
 * Without `init()` TensorFlow.js silently picks its pure-JS `cpu` backend, 50-90x slower than
 * wasm; tensors are created synchronously, so the async wasm backend cannot be started here.
 * Warns once, naming `init()`. Quiet after `init()`/`useBackend()` or when the application chose
 * a backend other than cpu with `tf.setBackend`.
 */
export function warnIfNotInitialised(caller: string): void {
  if (current !== null || warnedBeforeInit) return;
  const active = (tf.engine() as { backendName?: string }).backendName;
  if (active !== undefined && active !== null && active !== 'cpu') return;
  warnedBeforeInit = true;
  console.warn(
    `drivekit: ${caller} was called before init(), so TensorFlow.js runs on its pure-JS 'cpu' backend (50-90x slower than wasm). ` +
      "Call `await init()` (import { init } from 'drivekit') once before using the library; `await init({ backend: 'cpu' })` keeps cpu without this warning.",
  );
}

/** The backend chosen by the last `init()` or `useBackend()`, or null before it. */
export function currentBackend(): BackendName | null {
  return current;
}

/** Which backends can be loaded here, without switching the active one. */
export async function availableBackends(): Promise<BackendAvailability> {
  const tensorflow = loadTensorflow().ok;
  let webgpu = false;
  try {
    webgpu = (await loadWebgpu()).ok;
  } catch {
    webgpu = false;
  }
  let wasm = false;
  try {
    loadWasm();
    wasm = tf.findBackendFactory('wasm') != null;
  } catch {
    wasm = false;
  }
  return { wasm, cpu: tf.findBackendFactory('cpu') != null, webgpu, tensorflow };
}
