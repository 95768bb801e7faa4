/**
 * A small seeded PRNG (sfc32), so that a fuzz run is reproduced exactly by its seed.
 *
 * @module
 */

/** Seeded random numbers and the choices the mutators make with them. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds from any integer (the same seed gives the same sequence). */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** The next unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  /** One element of a list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A size skewed towards small values (most inputs small, a few large). */
  size(max: number): number {
    const bits = this.int(Math.max(1, Math.log2(max + 1)) + 1);
    return Math.min(max, this.int(2 ** bits + 1));
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A child generator with its own stream (for a worker), derived from this one. */
  fork(): Rng {
    return new Rng(this.u32());
  }
}
