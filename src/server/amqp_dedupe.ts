/**
 * At-most-once for idempotent methods over AMQP, where the broker delivers at least once: a
 * redelivered call (its worker died before acknowledging, say) is answered with the outcome
 * recorded under its call id instead of running again. A call still running is joined, not
 * started twice.
 *
 * @module
 */

import { OpenStream } from "../core/stream/open_stream.ts";
import type { Call, Outcome } from "../core/context.ts";

/** Where idempotent calls' outcomes are remembered by call id. */
export interface DedupeStore {
  /** The outcome recorded for a call id, if any. */
  get(id: string): Outcome | undefined | Promise<Outcome | undefined>;
  /** Records a call's outcome. */
  set(id: string, outcome: Outcome): void | Promise<void>;
}

/**
 * A bounded in-memory {@linkcode DedupeStore}: the last `limit` outcomes of this process.
 * Catches redeliveries to the same worker; share a store across workers to catch all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryDedupeStore } from "@switchboard/rpc/server";
 *
 * const store = new MemoryDedupeStore(2);
 * store.set("a", { ok: true, value: 1 });
 * store.set("b", { ok: true, value: 2 });
 * store.set("c", { ok: true, value: 3 });
 * assert.equal(store.get("a"), undefined); // the oldest is forgotten
 * assert.deepEqual(store.get("c"), { ok: true, value: 3 });
 * ```
 */
export class MemoryDedupeStore implements DedupeStore {
  readonly #limit: number;
  readonly #outcomes = new Map<string, Outcome>();

  /** Remembers at most `limit` outcomes (default 10,000), forgetting the oldest first. */
  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  /** The outcome recorded for a call id, if still remembered. */
  get(id: string): Outcome | undefined {
    return this.#outcomes.get(id);
  }

  /** Records an outcome, evicting the oldest beyond the limit. */
  set(id: string, outcome: Outcome): void {
    this.#outcomes.delete(id);
    this.#outcomes.set(id, outcome);
    if (this.#outcomes.size > this.#limit) {
      this.#outcomes.delete(this.#outcomes.keys().next().value!);
    }
  }

  /** How many outcomes are remembered. */
  get size(): number {
    return this.#outcomes.size;
  }
}

/** Which methods are idempotent: their names, or a predicate. */
export type Idempotent = readonly string[] | ((method: string) => boolean);

/**
 * Runs each call of an idempotent method at most once per call id (within the store's
 * memory); other calls, and calls without an id, run as they come.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Dedupe, MemoryDedupeStore } from "./amqp_dedupe.ts";
 *
 * const dedupe = new Dedupe(["Jobs.start"], new MemoryDedupeStore());
 * let runs = 0;
 * const start = () => Promise.resolve({ ok: true as const, value: ++runs });
 * const call = { method: "Jobs.start", params: {}, id: "client-1.7" };
 * await dedupe.run(call, start);
 * assert.deepEqual(await dedupe.run(call, start), { ok: true, value: 1 });
 * assert.equal(runs, 1);
 * ```
 */
export class Dedupe {
  readonly #idempotent: (method: string) => boolean;
  readonly #store: DedupeStore;
  /** Calls running now, by id: a redelivery that comes meanwhile waits for the same outcome. */
  readonly #running = new Map<string, Promise<Outcome>>();

  /** Remembers the outcomes of `idempotent` methods in `store`. */
  constructor(idempotent: Idempotent, store: DedupeStore) {
    this.#idempotent = typeof idempotent === "function"
      ? idempotent
      : (method) => idempotent.includes(method);
    this.#store = store;
  }

  /** The outcome of `call`: recorded, already on its way, or from running `dispatch`. */
  run(call: Call, dispatch: () => Promise<Outcome>): Promise<Outcome> {
    const id = call.id;
    if (!this.#idempotent(call.method) || typeof id !== "string") return dispatch();
    const running = this.#running.get(id);
    if (running) return running;
    const once = (async () => {
      const known = await this.#store.get(id);
      if (known) return known;
      const outcome = await dispatch();
      // A stream is read once, by the caller it was opened for: nothing to answer again.
      if (!(outcome.ok && outcome.value instanceof OpenStream)) await this.#store.set(id, outcome);
      return outcome;
    })();
    this.#running.set(id, once);
    once.finally(() => this.#running.delete(id)).catch(() => {});
    return once;
  }
}
