/**
 * A streamed result as the dispatcher hands it to a transport: the handler's source, the
 * check of its items, and the controller of the handler's `ctx.signal`.
 *
 * @module
 */

import type { ErrorShape } from "../errors.ts";
import type { Check } from "../idl/validate.ts";
import { iteratorOf } from "./source.ts";

/** A stream a handler returned, not yet read. Transports pump it with a `StreamProducer`. */
export class OpenStream {
  /** `Interface.method`, for messages. */
  readonly method: string;
  /** Reads the handler's source. */
  readonly iterator: AsyncIterator<unknown>;
  /** Checks (and normalises) one item against the declared item type. */
  readonly check: Check;
  /** Turns what the source threw into the error model (logging internal errors). */
  readonly errorShape: (error: unknown) => ErrorShape;
  readonly #controller: AbortController;

  /** Wraps a handler's source; `controller` aborts the handler's `ctx.signal`. */
  constructor(
    method: string,
    source: AsyncIterable<unknown> | ReadableStream | unknown[],
    check: Check,
    controller: AbortController,
    errorShape: (error: unknown) => ErrorShape,
  ) {
    this.method = method;
    this.iterator = iteratorOf(source);
    this.check = check;
    this.#controller = controller;
    this.errorShape = errorShape;
  }

  /** The handler's signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Stops the handler: its signal aborts with `reason` and its generator's `finally` runs. */
  stop(reason: unknown): void {
    this.#controller.abort(reason);
    // An async generator queues `return()` behind a running `next()`: its `finally` runs
    // as soon as it reaches its next `yield`.
    this.iterator.return?.().catch(() => {});
  }
}
