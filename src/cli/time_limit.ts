/**
 * The time limit of one `call` or `describe`. Over HTTP it is an `AbortSignal.timeout` and
 * the `x-rpc-timeout` header instead of the Client's timer: the first `setTimeout` makes
 * Deno load its Node layer, a fifth of a cold `switchboard call`. Other transports keep the
 * Client's timeout, which they carry their own way (AMQP as the message's expiration).
 *
 * @module
 */

import type { ConnectOptions } from "../client/connect.ts";
import { rpcError } from "../core/errors.ts";
import { TIMEOUT_HEADER } from "../wire/http.ts";

/** What to give `connect()` and the call for a limit of `ms` milliseconds. */
export interface TimeLimit {
  /** Options for `connect()`. */
  connect: Pick<ConnectOptions, "timeout" | "headers">;
  /** The call's signal, if the limit is one. */
  signal?: AbortSignal;
}

/** The limit of calling `method` at `url` within `ms` milliseconds. */
export function timeLimit(url: string, method: string, ms: number): TimeLimit {
  // Like the Client: a limit timers cannot hold (past 2^31-1 ms) means none.
  if (!/^https?:$/.test(new URL(url).protocol) || ms > 2 ** 31 - 1) {
    return { connect: { timeout: ms } };
  }
  const controller = new AbortController();
  AbortSignal.timeout(ms).addEventListener("abort", () => {
    controller.abort(rpcError("Timeout", `${method} timed out after ${ms} ms`));
  }, { once: true });
  return {
    connect: { timeout: 0, headers: { [TIMEOUT_HEADER]: String(ms) } },
    signal: controller.signal,
  };
}
