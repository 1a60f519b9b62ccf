/**
 * A consumer of drivekit's public API through the package name and its subpaths, compiled with
 * TypeScript 5.0 (tslab's compiler) in strict mode, moduleResolution node16 (ESM).
 */
import * as tf from '@tensorflow/tfjs';
import {
  Rng,
  init,
  parseSafetensors,
  serializeSafetensors,
  toStateDict,
  type BackendName,
  type SafeTensor,
  VERSION,
  geometry as geometryNs,
} from 'drivekit';
import { ArrowFileReader, ArrowFileWriter, Logger, JsonlSink, col, loadStateDictInto, progress, type TableSchema } from 'drivekit/node';
import * as nodeIo from 'drivekit/node';
import * as core from 'drivekit/core';
import * as geometry from 'drivekit/geometry';
import * as world from 'drivekit/world';
import * as env from 'drivekit/env';
import * as navsim from 'drivekit/navsim';
import * as models from 'drivekit/models';
import * as rl from 'drivekit/rl';
import * as metrics from 'drivekit/metrics';
import * as viz from 'drivekit/viz';

export async function main(): Promise<string> {
  const dir: string = process.env.DRIVEKIT_CONSUMER_DIR ?? '.';
  const backend: BackendName = await init({ backend: 'wasm' });
  const rng = new Rng(7);
  const x: number = rng.uniform() + rng.normal() + rng.int(0, 10);
  const t: SafeTensor = { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) };
  const bytes: Uint8Array = serializeSafetensors({ w: t }, { step: '1' });
  const file = parseSafetensors(bytes, 'mem');
  const w = file.tensors.get('w');
  const vars = { w: tf.variable(tf.zeros([2, 2])) };
  const report = await loadStateDictInto(vars, file, { transpose: (name, shape) => shape.length === 2 && name === 'w' });
  const back: Map<string, SafeTensor> = toStateDict(vars);
  const schema = { obs: col.vector([4, 3]), reward: col.float32(), token: col.utf8() } satisfies TableSchema;
  const writer: ArrowFileWriter<typeof schema> = await ArrowFileWriter.open(`${dir}/x.arrow`, schema);
  await writer.writeBatch({ obs: new Float32Array(12), reward: [1], token: ['a'] });
  await writer.close();
  const reader = await ArrowFileReader.open(`${dir}/x.arrow`, schema);
  const batch = await reader.readBatch(0);
  const obs: Float32Array = batch.obs;
  const tokens: string[] = batch.token;
  await reader.close();
  const log = new Logger([new JsonlSink(`${dir}/log.jsonl`)]);
  log.record('train/loss', 0.5);
  log.dump(1);
  const p = progress({ total: 1, silent: true });
  p.tick();
  p.stop();
  const wrapped: number = geometry.wrapAngle(4) + geometryNs.wrapAngle(-4);
  const namespaces = [core, world, env, navsim, models, rl, metrics, viz, nodeIo].map((m) => Object.keys(m).length);
  return [VERSION, backend, x, w?.shape, report.loaded, back.size, obs.length, tokens, wrapped, namespaces, core.VERSION].join(' ');
}
