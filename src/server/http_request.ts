/**
 * Reading HTTP requests defensively: the media type, and the body with a size bound
 * enforced while it streams in (a client can lie about, or omit, `content-length`).
 *
 * @module
 */

/** The request's media type, lower-cased, without parameters (`""` when absent). */
export function mediaType(request: Request): string {
  const raw = request.headers.get("content-type");
  if (raw === null) return "";
  // The common exact forms need no splitting, trimming or lower-casing.
  if (raw === "application/json" || raw === "text/xml") return raw;
  return raw.split(";")[0].trim().toLowerCase();
}

/** Reads a body up to `limit` bytes as UTF-8; `undefined` when it is larger. */
export async function readLimited(request: Request, limit: number): Promise<string | undefined> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > limit) return undefined;
    return await request.text();
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** What {@linkcode BodyDeadline.race} resolves with when the body came too slowly. */
export const TOO_SLOW: unique symbol = Symbol("too slow");

const identity = <T>(value: T): T => value;
const rethrow = (error: unknown): never => {
  throw error;
};
const tooSlow = (): typeof TOO_SLOW => TOO_SLOW;

/**
 * A deadline on reading request bodies, for every request of a listener with one sweeping
 * timer (a timer per request costs more than a small call): a body still arriving `ms`
 * after its headers loses the race, and the request is answered 408. Requests are stamped
 * with the sweep count, not the time — a clock read per request is not free either — so a
 * slow body is cut between `ms` and `ms` plus one sweep interval (a quarter of `ms`, at
 * most a second) after it started.
 */
export class BodyDeadline {
  readonly #ms: number;
  readonly #every: number;
  // Waiting reads in slots of parallel arrays, reused through a free list: a Set of entry
  // objects costs more than the rest of the race (each new key gets a hash made for it).
  readonly #since: number[] = [];
  readonly #expire: (((answer: never) => void) | undefined)[] = [];
  readonly #slow: ((() => unknown) | undefined)[] = [];
  readonly #reject: (((error: unknown) => void) | undefined)[] = [];
  readonly #free: number[] = [];
  #waiting = 0;
  #timer?: ReturnType<typeof setInterval>;
  /** Sweeps so far. */
  #tick = 0;

  /** `ms`: how long a body may take to arrive. */
  constructor(ms: number) {
    this.#ms = ms;
    this.#every = Math.min(1000, Math.max(10, ms / 4));
  }

  /** `reading`, or {@linkcode TOO_SLOW} once the deadline passed first. */
  race<T>(reading: Promise<T>): Promise<T | typeof TOO_SLOW> {
    return this.read<T, T | typeof TOO_SLOW>(reading, identity, rethrow, tooSlow);
  }

  /**
   * What `done` makes of `reading`'s value (or `failed` of its error), or what `slow`
   * answers once the deadline passed first: {@linkcode BodyDeadline.race} and a `then` in
   * one step, a promise and a turn fewer on every request.
   */
  read<T, R>(
    reading: Promise<T>,
    done: (value: T) => R | PromiseLike<R>,
    failed: (error: unknown) => R | PromiseLike<R>,
    slow: () => R,
  ): Promise<R> {
    return new Promise((resolve, reject) => {
      const slot = this.#free.length !== 0 ? this.#free.pop()! : this.#expire.length;
      this.#since[slot] = this.#tick;
      this.#expire[slot] = resolve;
      this.#slow[slot] = slow;
      this.#reject[slot] = reject;
      this.#waiting++;
      this.#timer ??= setInterval(this.#sweep, this.#every);
      reading.then((value) => {
        if (!this.#release(slot, resolve)) return;
        try {
          resolve(done(value));
        } catch (error) {
          reject(error);
        }
      }, (error) => {
        if (!this.#release(slot, resolve)) return;
        try {
          resolve(failed(error));
        } catch (thrown) {
          reject(thrown);
        }
      });
    });
  }

  /**
   * Frees `slot` if it still holds the read `owner` resolves; false when that read expired
   * meanwhile (it was answered {@linkcode TOO_SLOW}).
   */
  #release(slot: number, owner: (value: never) => void): boolean {
    if (this.#expire[slot] !== owner) return false;
    this.#expire[slot] = this.#slow[slot] = this.#reject[slot] = undefined;
    this.#free.push(slot);
    this.#waiting--;
    return true;
  }

  #sweep = (): void => {
    this.#tick++;
    if (this.#waiting === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const expire = this.#expire;
    for (let slot = 0; slot < expire.length; slot++) {
      const resolve = expire[slot];
      // A read stamped at sweep n began at most one interval before sweep n + 1.
      if (!resolve || (this.#tick - this.#since[slot] - 1) * this.#every < this.#ms) continue;
      const slow = this.#slow[slot]!, reject = this.#reject[slot]!;
      expire[slot] = this.#slow[slot] = this.#reject[slot] = undefined;
      this.#free.push(slot);
      this.#waiting--;
      try {
        resolve(slow() as never);
      } catch (error) {
        reject(error);
      }
    }
  };
}
