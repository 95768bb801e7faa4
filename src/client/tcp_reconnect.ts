/**
 * Calls that were in flight when the connection dropped (the TCP and WebSocket clients share
 * this): an idempotent one is sent again once the client has reconnected (a few times at
 * most); any other fails with `Unavailable` saying that it may have run, since the server
 * may have executed it before the connection went.
 *
 * @module
 */

import type { Outcome } from "../core/context.ts";
import { RpcError, rpcError } from "../core/errors.ts";
import type { OutgoingCall } from "../core/client/transport.ts";
import { wasUnsent } from "../core/client/unsent.ts";

/** How many times an idempotent call is sent over connections that keep dropping. */
export const IDEMPOTENT_ATTEMPTS = 3;

/**
 * Runs `send` (the call over the current connection, reconnecting first if need be) and
 * handles a drop while the call was in flight. `closed` tells a drop from the client's own
 * `close()`, which is never retried.
 */
export async function surviveDrops(
  request: OutgoingCall,
  send: () => Promise<Outcome>,
  closed: () => boolean,
  label: string,
): Promise<Outcome> {
  for (let attempt = 1;; attempt++) {
    try {
      return await send();
    } catch (error) {
      // Never sent, closed by us, cancelled, unencodable: not a drop in flight.
      if (!(error instanceof RpcError) || error.name !== "Unavailable") throw error;
      if (wasUnsent(error) || closed() || request.signal?.aborted) throw error;
      if (!request.idempotent) {
        throw rpcError(
          "Unavailable",
          `the connection to ${label} dropped while ${request.method} was in flight; ` +
            `not retried, as it is not idempotent and may have run (${error.message})`,
        );
      }
      if (attempt >= IDEMPOTENT_ATTEMPTS) {
        throw rpcError(
          "Unavailable",
          `the connection to ${label} dropped ${attempt} times while ${request.method} ` +
            `was in flight (${error.message})`,
        );
      }
    }
  }
}
