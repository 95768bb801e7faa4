/**
 * Bytes waiting to be written to a socket, gathered as they are produced into one
 * buffer, so a batch of small messages leaves in one write with no per-message view and
 * no join. Two buffers take turns: one fills while the other is being written.
 *
 * @module
 */

/** Messages up to this size are copied byte by byte: cheaper than a view and a `set`. */
const SMALL = 64;
/** The first buffer of a queue; later ones double as needed. */
const FIRST_SIZE = 512;
/** A buffer larger than this is not kept once written (a burst must not pin memory). */
const KEEP_AT_MOST = 64 * 1024;

const NOTHING = new Uint8Array(0);

/** A queue of bytes for one writer that awaits each {@linkcode WriteQueue.take}n batch. */
export class WriteQueue {
  #fill: Uint8Array = NOTHING;
  #length = 0;
  /** The buffer handed out by the last take: refilled once the next take proves it written. */
  #lent?: Uint8Array;

  /** Bytes queued and not yet taken. */
  get size(): number {
    return this.#length;
  }

  /** Queues `bytes[start, end)`. */
  push(bytes: Uint8Array, start = 0, end: number = bytes.byteLength): void {
    const n = end - start;
    if (this.#fill.byteLength - this.#length < n) this.#grow(this.#length + n);
    const fill = this.#fill;
    let at = this.#length;
    if (n <= SMALL) {
      for (let i = start; i < end; i++) fill[at++] = bytes[i];
    } else {
      fill.set(
        start === 0 && end === bytes.byteLength ? bytes : bytes.subarray(start, end),
        at,
      );
    }
    this.#length += n;
  }

  /**
   * Takes everything queued, as one view. The view stays valid until the next `take`:
   * the writer must have written it by then (its buffer is filled again afterwards).
   */
  take(): Uint8Array {
    const taken = this.#fill;
    const out = taken.subarray(0, this.#length);
    const previous = this.#lent;
    this.#lent = taken.byteLength <= KEEP_AT_MOST ? taken : undefined;
    this.#fill = previous ?? NOTHING;
    this.#length = 0;
    return out;
  }

  /** Drops what is queued (the connection is gone). */
  clear(): void {
    this.#length = 0;
  }

  #grow(needed: number): void {
    let size = Math.max(FIRST_SIZE, this.#fill.byteLength * 2);
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#fill.subarray(0, this.#length));
    this.#fill = grown;
  }
}
