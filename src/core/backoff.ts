/**
 * Pluggable liveness and reconnection policies of the TCP transport: when a quiet peer is
 * declared dead (heartbeats, `$/ping`), and how long a client waits before reconnecting.
 *
 * @module
 */

/** Decides when to ping and when a silent peer is dead. */
export interface HeartbeatPolicy {
  /** Milliseconds between `$/ping` notifications (and liveness checks). */
  readonly interval: number;
  /** Whether a peer last heard `silentMs` ago is dead (its connection is then dropped). */
  isDead(silentMs: number): boolean;
}

/**
 * The usual policy: ping every `interval` ms; a peer silent for `misses` intervals is dead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missedBeats } from "@switchboard/rpc/tcp";
 *
 * const policy = missedBeats({ interval: 1000, misses: 3 });
 * assert.equal(policy.isDead(2500), false);
 * assert.equal(policy.isDead(3000), true);
 * ```
 */
export function missedBeats(
  options: { interval?: number; misses?: number } = {},
): HeartbeatPolicy {
  const interval = options.interval ?? 5000;
  const misses = options.misses ?? 3;
  if (!(interval > 0) || !(misses >= 1)) {
    throw new RangeError("heartbeat interval must be > 0 and misses >= 1");
  }
  return { interval, isDead: (silentMs) => silentMs >= interval * misses };
}

/** Decides how long to wait before reconnect attempt number `attempt` (1, 2, …). */
export interface ReconnectPolicy {
  /** Milliseconds to wait before the attempt. */
  delay(attempt: number): number;
}

/**
 * Exponential backoff with "equal jitter": a random delay in [d/2, d], where d doubles from
 * `initial` up to `max`. Keeping half of d fixed guarantees a minimum wait (full jitter, [0, d],
 * could retry at once), while the random half stops a crowd of clients reconnecting in lockstep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponentialBackoff } from "@switchboard/rpc/tcp";
 *
 * const backoff = exponentialBackoff({ initial: 100, max: 1000 });
 * const d = backoff.delay(3);
 * assert.ok(d >= 200 && d <= 400);
 * ```
 */
export function exponentialBackoff(
  options: { initial?: number; max?: number; random?: () => number } = {},
): ReconnectPolicy {
  const initial = options.initial ?? 100;
  const max = options.max ?? 10_000;
  const random = options.random ?? Math.random;
  return {
    delay(attempt: number): number {
      const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
      return Math.round(ceiling * (0.5 + 0.5 * random()));
    },
  };
}
