/**
 * Failed-login throttling with exponential backoff, per key. The gate keys it twice: per
 * (address, claimed identity), so guesses at one account from one address slow down
 * without locking out anyone else behind that address, and per claimed identity, so
 * guesses spread over many addresses slow down too. A throttled attempt is refused
 * before its proof is checked, so it costs the attacker a guess without giving one.
 *
 * @module
 */

/** How the backoff grows. */
export interface ThrottlePolicy {
  /** Failures allowed before backoff begins (Infinity: never throttle). */
  free: number;
  /** The first delay in ms; each further failure doubles it. */
  backoff: number;
  /** The longest delay in ms. */
  maxBackoff: number;
  /** A key's failures are forgotten this long (ms) after its last one. */
  window: number;
}

interface Entry {
  failures: number;
  last: number;
  /** No attempt is checked before this time. */
  until: number;
  /** Attempts being checked right now. */
  pending: number;
}

/** How many keys are remembered at most (the oldest go first). */
const MAX_KEYS = 10_000;

/** The delay after `failures` failures under `policy` (0 while still free). */
export function backoffAfter(failures: number, policy: ThrottlePolicy): number {
  if (failures < policy.free) return 0;
  return Math.min(policy.maxBackoff, policy.backoff * 2 ** (failures - policy.free));
}

/** Failure records per key, with backoff. */
export class Throttle {
  readonly #entries = new Map<string, Entry>();
  readonly #policy: ThrottlePolicy;

  /** Throttles by `policy`. */
  constructor(policy: ThrottlePolicy) {
    this.#policy = policy;
  }

  /** Milliseconds before `key` may try again (0: now). */
  wait(key: string, now = Date.now()): number {
    if (this.#policy.free === Infinity) return 0;
    const entry = this.#live(key, now);
    if (!entry) return 0;
    // Past the free allowance, one attempt at a time: parallel guesses gain nothing.
    if (entry.pending > 0 && entry.failures + entry.pending >= this.#policy.free) {
      return Math.max(entry.until - now, backoffAfter(entry.failures + 1, this.#policy), 1);
    }
    return Math.max(0, entry.until - now);
  }

  /** An attempt for `key` is being checked. */
  begin(key: string): void {
    if (this.#policy.free === Infinity) return;
    const entry = this.#live(key, Date.now()) ?? { failures: 0, last: 0, until: 0, pending: 0 };
    entry.pending++;
    this.#touch(key, entry);
  }

  /** The attempt for `key` ended: failed (`true`) or not. */
  end(key: string, failed: boolean): void {
    if (this.#policy.free === Infinity) return;
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.pending = Math.max(0, entry.pending - 1);
    if (failed) {
      const now = Date.now();
      entry.failures++;
      entry.last = now;
      entry.until = now + backoffAfter(entry.failures, this.#policy);
    }
    if (!failed && entry.failures === 0 && entry.pending === 0) this.#entries.delete(key);
    else this.#touch(key, entry);
  }

  /** Forgets `key` (a success clears its own record, and only that). */
  clear(key: string): void {
    const entry = this.#entries.get(key);
    if (entry && entry.pending === 0) this.#entries.delete(key);
    else if (entry) Object.assign(entry, { failures: 0, until: 0 });
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.pending === 0 && now - entry.last > this.#policy.window && now >= entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores `entry` as the newest; bounds the memory many peers can take. */
  #touch(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size <= MAX_KEYS) return;
    const now = Date.now();
    for (const k of this.#entries.keys()) this.#live(k, now);
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= MAX_KEYS) break;
      this.#entries.delete(k);
    }
  }
}
