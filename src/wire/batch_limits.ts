/**
 * The limits of a request of many calls (a JSON-RPC batch, an XML-RPC `system.multicall`),
 * shared by both protocols: how many calls it may hold, and how large its answer may grow.
 * A small request could otherwise ask for an answer a thousand times its size (a batch of
 * `rpc.discover` calls): each part is counted as it is encoded, and the answer is refused as
 * soon as it would exceed the budget, before more of it is built.
 *
 * @module
 */

import { type ErrorShape, errorShape } from "../core/errors.ts";

/** Default cap on the calls of one batch or multicall. */
export const DEFAULT_MAX_BATCH = 1000;

/** Default cap on the answer to one batch or multicall: 8 MiB (eight times the default body limit). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * Counts the parts of one answer against a limit. Text is counted by its length in UTF-16
 * code units: its size in bytes for ASCII, which most of an answer's markup is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AnswerBudget } from "./batch_limits.ts";
 *
 * const budget = new AnswerBudget(5);
 * assert.ok(budget.take("abc"));
 * assert.ok(!budget.take("def"));
 * ```
 */
export class AnswerBudget {
  #used = 0;
  /** The most the answer may hold. */
  readonly limit: number;

  /** A budget of `limit` bytes. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Counts `text`; false once the answer is over the limit. */
  take(text: string): boolean {
    this.#used += text.length;
    return this.#used <= this.limit;
  }
}

/** The error of a request whose answer would exceed its budget. */
export function answerTooLarge(what: string, limit: number, done: number, of: number): ErrorShape {
  return errorShape(
    "InvalidRequest",
    `Invalid Request: the answer to ${what} exceeds the limit of ${limit} bytes ` +
      `(maxResponseBytes) after ${done} of ${of} calls; send fewer calls per request`,
  );
}
