/**
 * The mark a transport puts on an error raised before a call left this process (no
 * connection could be opened): such a call surely did not run, so a balancer may send it to
 * another replica even when it is not idempotent.
 *
 * @module
 */

const UNSENT = new WeakSet<object>();

/**
 * Marks `error` as raised before the call was sent; returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsent, wasUnsent } from "./unsent.ts";
 *
 * assert.equal(wasUnsent(unsent(new Error("refused"))), true);
 * assert.equal(wasUnsent(new Error("connection reset")), false);
 * ```
 */
export function unsent<E>(error: E): E {
  if (typeof error === "object" && error !== null) UNSENT.add(error);
  return error;
}

/** Whether `error` was marked by {@linkcode unsent}. */
export function wasUnsent(error: unknown): boolean {
  return typeof error === "object" && error !== null && UNSENT.has(error);
}
