/**
 * Seeded random streams. All randomness in drivekit comes from here (never `Math.random`).
 * The generator is xoroshiro128+ from pure-rand; `jump()` moves 2^64 steps ahead, so streams
 * made by `split()` never overlap in practice.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

/**
 * The part of pure-rand's jumpable generator used here. Declared locally (not
 * `ReturnType<typeof xoroshiro128plus>`) so the emitted .d.ts does not import a pure-rand subpath,
 * which TypeScript's node10 resolution (tslab) cannot find.
 */
export interface JumpableGenerator {
  next(): number;
  jump(): void;
  clone(): JumpableGenerator;
  getState(): readonly number[];
}
type Gen = JumpableGenerator;

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

export class Rng {
  private gen: Gen;
  private spareNormal: number | null = null;

  /** A stream seeded with a 32-bit integer seed (other numbers are truncated to 32 bits). */
  constructor(seed: number | Gen = 0) {
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new Error(`Invalid seed: ${seed}. Should be a finite integer.`);
      this.gen = xoroshiro128plus(seed | 0);
    } else {
      this.gen = seed;
    }
  }

  /** Rebuilds a stream from `state()`. */
  static fromState(state: readonly number[]): Rng {
    return new Rng(xoroshiro128plusFromState(state));
  }

  /** The generator state (JSON-serialisable), for checkpoints. */
  state(): number[] {
    return [...this.gen.getState()];
  }

  /** An independent copy at the same position. */
  clone(): Rng {
    const r = new Rng(this.gen.clone());
    r.spareNormal = this.spareNormal;
    return r;
  }

  /** Advances this stream by 2^64 draws. */
  jump(): this {
    this.gen.jump();
    this.spareNormal = null;
    return this;
  }

  /**
   * Returns `n` (default 1) new streams independent of each other and of this one, and
   * advances this one past all of them. Deterministic: the same stream splits the same way.
   */
  split(n: number): Rng[];
  split(): Rng;
  split(n?: number): Rng | Rng[] {
    const count = n ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`Invalid split count: ${n}. Should be an integer >= 1.`);
    const out: Rng[] = [];
    for (let i = 0; i < count; i++) {
      this.gen.jump();
      out.push(new Rng(this.gen.clone()));
    }
    this.gen.jump();
    this.spareNormal = null;
    return n === undefined ? out[0]! : out;
  }

  /** A uniform unsigned 32-bit integer. */
  uint32(): number {
    return this.gen.next() >>> 0;
  }

  /** A non-negative 31-bit integer seed for tfjs random ops (`tf.randomNormal(..., seed)`). */
  seedInt(): number {
    return this.gen.next() >>> 1;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  uniform(low = 0, high = 1): number {
    const hi = this.gen.next() >>> 5; // 27 bits
    const lo = this.gen.next() >>> 6; // 26 bits
    const u = (hi * 67108864 + lo) / TWO_POW_53;
    return low + (high - low) * u;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u1 = this.uniform();
    while (u1 <= 0) u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  /** Integer uniform in [low, high) (high exclusive), without modulo bias. */
  int(low: number, high: number): number {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new Error(`Invalid integer range [${low}, ${high}). Should be integers with high > low.`);
    }
    const span = high - low;
    if (span <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % span);
      let x = this.uint32();
      while (x >= limit) x = this.uint32();
      return low + (x % span);
    }
    return low + Math.floor(this.uniform() * span);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Picks one element of a non-empty array. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('choice() of an empty array.');
    return items[this.int(0, items.length)]!;
  }

  /** Index drawn with probability proportional to `weights` (non-negative, positive sum). */
  weightedIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (!(w >= 0)) throw new Error(`Invalid weight ${w} at index ${i}. Should be >= 0.`);
      total += w;
    }
    if (!(total > 0)) throw new Error('weightedIndex() needs a positive total weight.');
    let r = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(arr: A): A {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle<number, Int32Array>(p);
  }

  /** Fills a Float32Array (or Float64Array) with standard normals. */
  fillNormal<A extends Float32Array | Float64Array>(out: A, mean = 0, std = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fills an array with uniforms in [low, high). */
  fillUniform<A extends Float32Array | Float64Array>(out: A, low = 0, high = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
    return out;
  }
}

/** Shorthand for `new Rng(seed)`. */
export function rng(seed: number): Rng {
  return new Rng(seed);
}

/** 32-bit avalanche (murmur3 fmix32) so neighbouring scenario indices give unrelated streams. */
export function mixSeed(seed: number, stream: number): number {
  let h = (Math.trunc(seed) ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}
