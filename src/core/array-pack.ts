/**
 * Several typed arrays over ONE ArrayBuffer. V8 gives every typed array of more than 64 bytes its
 * own off-heap backing store, and creating (then collecting) one costs microseconds, far more than
 * filling it; an object that needs k arrays of known sizes (a path's coordinates, lengths and
 * boxes) pays that once instead of k times. Views start 8-byte aligned and are zero-filled, as
 * `new Float64Array(n)` is.
 *
 * ```ts
 * const pack = new ArrayPack(ArrayPack.f64Bytes(2 * n) + ArrayPack.i32Bytes(n));
 * const xy = pack.f64(2 * n);
 * const idx = pack.i32(n);
 * ```
 *
 * The views share one buffer: do not transfer them to a worker (that detaches all of them) or
 * hand them out where a caller may (scores and metrics stay separate arrays).
 */
export class ArrayPack {
  private readonly buffer: ArrayBuffer;
  private used = 0;

  /** Bytes for n float64 values. */
  static f64Bytes(n: number): number {
    return 8 * n;
  }

  /** Bytes for n int32 values (rounded up to keep the next view 8-byte aligned). */
  static i32Bytes(n: number): number {
    return (4 * n + 7) & ~7;
  }

  /** Bytes for n uint8 values (rounded up to keep the next view 8-byte aligned). */
  static u8Bytes(n: number): number {
    return (n + 7) & ~7;
  }

  /** `bytes`: the sum of the `*Bytes` sizes of the views to be taken. */
  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
  }

  /** Bytes not yet handed out. */
  get remaining(): number {
    return this.buffer.byteLength - this.used;
  }

  private take(bytes: number): number {
    const at = this.used;
    if (at + bytes > this.buffer.byteLength) {
      throw new RangeError(`ArrayPack: a view of ${bytes} bytes does not fit (${this.remaining} of ${this.buffer.byteLength} left)`);
    }
    this.used = at + bytes;
    return at;
  }

  f64(n: number): Float64Array {
    return new Float64Array(this.buffer, this.take(ArrayPack.f64Bytes(n)), n);
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.buffer, this.take(ArrayPack.i32Bytes(n)), n);
  }

  u8(n: number): Uint8Array {
    return new Uint8Array(this.buffer, this.take(ArrayPack.u8Bytes(n)), n);
  }
}
