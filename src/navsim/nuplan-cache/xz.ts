/**
 * xz / lzma decompression of NAVSIM's `metric_cache.pkl` files (`lzma.compress(...)`, the .xz
 * container) with the `xz-decompress` package (xz-embedded compiled to WebAssembly: no native
 * addon, no Python). A truncated, corrupted or foreign stream is a `NavsimCacheError` naming the
 * file and the token.
 */
import * as xzModule from 'xz-decompress';
import { NavsimCacheError, type UnpickleContext } from './pickle.js';

/** The package is CommonJS: Node's ESM loader gives its exports on `default`. */
const XzReadableStream: typeof xzModule.XzReadableStream =
  (xzModule as any).XzReadableStream ?? (xzModule as any).default.XzReadableStream;

/** xz-embedded's `enum xz_ret` codes. */
const XZ_ERRORS: Record<number, string> = {
  2: 'an unsupported integrity check',
  3: 'a memory allocation failure',
  4: 'a dictionary larger than the memory limit',
  5: 'not an xz stream (bad magic bytes or header)',
  6: 'unsupported xz options',
  7: 'corrupted data (the integrity check or the compressed data is wrong)',
  8: 'a truncated stream (ends before the xz footer)',
};

/** The 6 magic bytes of an .xz stream. */
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** Decompresses a whole .xz stream. */
export async function decompressXz(bytes: Uint8Array, ctx: UnpickleContext): Promise<Uint8Array> {
  if (bytes.length < XZ_MAGIC.length || XZ_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NavsimCacheError(ctx, 'xz', 'an xz stream (lzma.compress output, magic FD 37 7A 58 5A 00)', bytes.length === 0 ? 'an empty file' : `${bytes.length} bytes starting ${Buffer.from(bytes.subarray(0, 6)).toString('hex')}`);
  }
  try {
    const input = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const stream = new XzReadableStream(input);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    const m = /error code (\d+)/.exec((e as Error)?.message ?? '');
    const what = m ? (XZ_ERRORS[Number(m[1])] ?? `xz error ${m[1]}`) : ((e as Error)?.message ?? String(e));
    throw new NavsimCacheError(ctx, 'xz', 'a complete, uncorrupted xz stream', what, e);
  }
}
