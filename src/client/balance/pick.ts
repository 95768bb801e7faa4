/**
 * How a balancer chooses the replica of a call among those that may take it: the least
 * busy of two picked at random (the default), round-robin, or sticky by a param's value.
 *
 * @module
 */

/** How calls are spread over replicas. */
export type BalanceStrategy =
  /** The one with fewer calls in flight of two chosen at random (default). */
  | "least-in-flight"
  /** Each in turn. */
  | "round-robin"
  /**
   * Calls with the same value of this param go to the same replica while it is healthy
   * (rendezvous hashing: when a replica leaves, only its keys move). Calls without it:
   * least-in-flight.
   */
  | { sticky: string };

/** What a strategy reads of a replica. */
export interface Candidate {
  /** Stable name (its URL). */
  readonly name: string;
  /** Calls sent and not yet settled. */
  readonly inFlight: number;
}

/** Chooses one of `candidates` (never empty) for a call with `params`. */
export type Picker = <C extends Candidate>(candidates: readonly C[], params: unknown) => C;

/**
 * The picker of a strategy.
 *
 * @example Sticky: the same key lands on the same replica
 * ```ts
 * import assert from "node:assert/strict";
 * import { picker } from "./pick.ts";
 *
 * const pick = picker({ sticky: "user" });
 * const replicas = [{ name: "a", inFlight: 0 }, { name: "b", inFlight: 0 }];
 * const first = pick(replicas, { user: "ann" });
 * for (let i = 0; i < 10; i++) assert.equal(pick(replicas, { user: "ann" }), first);
 * ```
 */
export function picker(
  strategy: BalanceStrategy = "least-in-flight",
  random = Math.random,
): Picker {
  const leastOfTwo = <C extends Candidate>(candidates: readonly C[]): C => {
    const n = candidates.length;
    if (n === 1) return candidates[0];
    const i = Math.floor(random() * n);
    const j = (i + 1 + Math.floor(random() * (n - 1))) % n;
    return candidates[j].inFlight < candidates[i].inFlight ? candidates[j] : candidates[i];
  };
  if (strategy === "least-in-flight") return leastOfTwo;
  if (strategy === "round-robin") {
    let turn = 0;
    return (candidates) => candidates[turn++ % candidates.length];
  }
  const key = strategy.sticky;
  return (candidates, params) => {
    const value = params !== null && typeof params === "object" && !Array.isArray(params)
      ? (params as Record<string, unknown>)[key]
      : undefined;
    if (value === undefined || value === null) return leastOfTwo(candidates);
    const text = typeof value === "string" ? value : JSON.stringify(value);
    let best = candidates[0], top = -1;
    for (const c of candidates) {
      const score = fnv1a(`${text}\u0000${c.name}`);
      if (score > top) [best, top] = [c, score];
    }
    return best;
  };
}

/** FNV-1a, 32 bits: a fast, well-spread hash of a string (not for secrets). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
