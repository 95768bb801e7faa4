/**
 * The calls one side is waiting on, by id: what every transport that multiplexes calls over
 * one channel keeps (a msgpack-rpc session, the AMQP client, a worker component's host).
 * Ids count up to 2^32 - 1 and wrap (msgpack-rpc's msgid is a uint32), skipping ids still
 * waiting, so a reply can never be taken for another call's.
 *
 * @module
 */

/** The largest id (msgpack-rpc's msgid is an unsigned 32-bit integer). */
const MAX_ID = 0xffff_ffff;

/**
 * A table of waiting calls; `T` is what a transport keeps per call (at least how to settle
 * it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingCalls } from "./pending.ts";
 *
 * const table = new PendingCalls<{ method: string }>();
 * const id = table.add({ method: "Calc.add" });
 * assert.equal(table.size, 1);
 * assert.deepEqual(table.take(id), { method: "Calc.add" });
 * assert.equal(table.take(id), undefined); // a second reply to the same call is ignored
 * ```
 */
export class PendingCalls<T> {
  readonly #calls = new Map<number, T>();
  #last = 0;

  /** How many calls are waiting. */
  get size(): number {
    return this.#calls.size;
  }

  /** Records a call; returns its fresh id. */
  add(call: T): number {
    let id = this.#last;
    do id = id >= MAX_ID ? 1 : id + 1; while (this.#calls.has(id));
    this.#last = id;
    this.#calls.set(id, call);
    return id;
  }

  /** The call waiting under `id`, still waiting. */
  get(id: number): T | undefined {
    return this.#calls.get(id);
  }

  /** Takes the call waiting under `id` (it is no longer waiting), if any. */
  take(id: number): T | undefined {
    const call = this.#calls.get(id);
    if (call !== undefined) this.#calls.delete(id);
    return call;
  }

  /** Takes every waiting call (to fail them all, e.g. when the channel is lost). */
  takeAll(): [number, T][] {
    const all = [...this.#calls];
    this.#calls.clear();
    return all;
  }
}
