/**
 * Cancels over AMQP, worker side: a caller that gives up a call publishes
 * `[2, "$/cancel", [{ id, deadline? }]]` (the call's message-id) to the cancel exchange, and
 * every worker serving the interface hears it on its control queue. A worker running the
 * call aborts its handler's `ctx.signal`; the others remember the id, so that the call, if it
 * is still queued and comes to them later, is acknowledged unrun. What is remembered is
 * bounded: at most `max` ids, each until the call's deadline or for `keepMs`.
 *
 * @module
 */

import { rpcError } from "../core/errors.ts";

/** Default of the ids remembered. */
const DEFAULT_MAX_CANCELLED = 10_000;
/** How long a cancel of a call without a deadline is remembered (default 10 minutes). */
const DEFAULT_KEEP_MS = 10 * 60_000;

/** The calls a worker runs that can be cancelled, and the cancels heard before their call. */
export class AmqpCancels {
  readonly #running = new Map<string, AbortController>();
  /** Cancelled ids, oldest first, with when to forget them. */
  readonly #cancelled = new Map<string, number>();
  readonly #max: number;
  readonly #keepMs: number;

  /** Remembers at most `max` cancelled ids, for at most `keepMs` each. */
  constructor(max = DEFAULT_MAX_CANCELLED, keepMs = DEFAULT_KEEP_MS) {
    this.#max = max;
    this.#keepMs = keepMs;
  }

  /**
   * A call with id `id` is about to run: its signal, or undefined when it was cancelled
   * already (it must not run). `done` must be called once it is over.
   */
  begin(id: string): { signal: AbortSignal; done: () => void } | undefined {
    const until = this.#cancelled.get(id);
    if (until !== undefined) {
      this.#cancelled.delete(id);
      if (until >= Date.now()) return undefined;
    }
    const controller = new AbortController();
    this.#running.set(id, controller);
    return {
      signal: controller.signal,
      done: () => {
        if (this.#running.get(id) === controller) this.#running.delete(id);
      },
    };
  }

  /** A cancel message's params (`[{ id, deadline? }]`); malformed ones are dropped. */
  heard(params: unknown): void {
    const p = Array.isArray(params) ? params[0] as Record<string, unknown> : undefined;
    const id = typeof p === "object" && p !== null ? p.id : undefined;
    if (typeof id !== "string" || id.length === 0 || id.length > 256) return;
    const running = this.#running.get(id);
    if (running) {
      running.abort(rpcError("Cancelled", "the call was cancelled by the caller"));
      return;
    }
    const now = Date.now();
    const deadline = typeof p!.deadline === "number" ? p!.deadline : Infinity;
    const until = Math.min(deadline, now + this.#keepMs);
    if (until < now) return; // the call expires unrun anyway
    this.#cancelled.delete(id);
    this.#cancelled.set(id, until);
    // Oldest first: forget the expired, then the oldest beyond the bound.
    for (const [old, when] of this.#cancelled) {
      if (when >= now && this.#cancelled.size <= this.#max) break;
      this.#cancelled.delete(old);
    }
  }
}
