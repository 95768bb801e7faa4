/**
 * A concurrency limiter: at most `max` tasks run at once, at most `queue` wait; beyond
 * that callers are refused at once with an `Overloaded` error instead of piling up.
 *
 * @module
 */

import { rpcError } from "../errors.ts";

/**
 * Bounds concurrent executions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Limiter } from "@switchboard/rpc/server";
 *
 * const one = new Limiter(1, 10, "printer");
 * const order: number[] = [];
 * await Promise.all([1, 2].map((n) => one.run(async () => void order.push(n))));
 * assert.deepEqual(order, [1, 2]);
 * ```
 */
export class Limiter {
  #running = 0;
  #waiting: (() => void)[] = [];
  /** How many tasks may run at once. */
  readonly max: number;
  /** How many callers may wait for a slot. */
  readonly queue: number;
  /** Names the limited thing in error messages. */
  readonly label: string;

  /** `label` names the limited thing in the error message. */
  constructor(max: number, queue: number, label: string) {
    this.max = max;
    this.queue = queue;
    this.label = label;
  }

  /** How many tasks run now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `task` when a slot is free; rejects with Overloaded when the queue is full. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#running >= this.max) {
      if (this.#waiting.length >= this.queue) {
        throw rpcError(
          "Overloaded",
          `${this.label} is busy: ${this.#running} running and ${this.#waiting.length} queued (limit)`,
        );
      }
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.#waiting.indexOf(wake);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiting.push(wake);
      });
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
