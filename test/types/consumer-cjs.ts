/**
 * The way tslab sees drivekit: TypeScript 5.0, `module: commonjs` with classic node (node10)
 * resolution, imports compiled to `require`. Node10 resolution ignores `exports`; the subpath
 * types come from package.json `typesVersions`, the subpath code from `exports`.
 */
import * as tf from '@tensorflow/tfjs';
import { scoreScene, type PdmScene } from 'drivekit/navsim';
import { Rng, init, geometry, world, env, navsim, models, metrics, viz, type SafetensorsFile } from 'drivekit';
import { readSafetensors, createLogger, col } from 'drivekit/node';
import * as rl from 'drivekit/rl';

export async function main(): Promise<number> {
  const backend = await init({ backend: 'wasm' });
  const file: SafetensorsFile = await readSafetensors('/nonexistent.safetensors').catch(() => ({ tensors: new Map(), metadata: {} }));
  const log = createLogger({ formats: ['stdout'] });
  log.record('time/fps', 1);
  const schema = { a: col.float32() };
  const y = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).arraySync() as number) + new Rng(1).int(0, 1);
  const mods = [geometry, world, env, navsim, models, rl, metrics, viz].length;
  const scorer: (s: PdmScene) => unknown = (s) => scoreScene(s);
  return y + (typeof scorer === 'function' ? 0 : 1) + file.tensors.size + mods + Object.keys(schema).length + backend.length;
}
