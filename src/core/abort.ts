/**
 * What a transport does when a caller's `AbortSignal` fires: the error the call fails with, and
 * a pause that ends early on abort (a reconnect wait must not outlive the call).
 *
 * @module
 */

import { RpcError, rpcError } from "./errors.ts";

/**
 * The error a call of `method` fails with once `signal` aborted: the signal's reason when the
 * client set one (`Timeout`, say), else `Cancelled`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { abortReason } from "./abort.ts";
 *
 * const controller = new AbortController();
 * controller.abort();
 * assert.equal(abortReason("Calc.add", controller.signal).name, "Cancelled");
 * ```
 */
export function abortReason(method: string, signal: AbortSignal): RpcError {
  return signal.reason instanceof RpcError
    ? signal.reason
    : rpcError("Cancelled", `${method} was cancelled`);
}

/**
 * Waits `ms`, or less when `signal` aborts (it resolves then too: the caller checks the
 * signal).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./abort.ts";
 *
 * const controller = new AbortController();
 * const paused = sleep(60_000, controller.signal);
 * controller.abort();
 * await paused; // at once, not in a minute
 * assert.ok(controller.signal.aborted);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
