/**
 * The in-process transport: calls go straight to a router, with no serialisation.
 *
 * @module
 */

import type { Identity, Outcome } from "../context.ts";
import type { Router } from "../router/router.ts";
import type { OutgoingCall, Transport } from "./transport.ts";
import { OpenStream } from "../stream/open_stream.ts";
import { localStream } from "../stream/local.ts";

/**
 * Dispatches calls to a router in the same isolate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { LocalTransport, Router } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const router = new Router();
 * router.register(implement(Calc, { add: ({ a, b }) => a + b }));
 *
 * const client = new Client(new LocalTransport(router, { id: "billing" }));
 * assert.equal(await client.proxy(Calc).add({ a: 2, b: 3 }), 5);
 * await client.close();
 * ```
 */
export class LocalTransport implements Transport {
  readonly #router: Router;
  readonly #caller?: Identity;

  /** `caller` is the identity calls carry (e.g. the calling component's process). */
  constructor(router: Router, caller?: Identity) {
    this.#router = router;
    this.#caller = caller;
  }

  async call(request: OutgoingCall): Promise<Outcome> {
    const outcome = await this.#router.dispatch({
      method: request.method,
      params: request.params,
      deadline: request.deadline,
      signal: request.signal,
      caller: this.#caller,
      protocol: "local",
      stream: request.stream === true,
      ...(request.trace ? { trace: request.trace } : {}),
    });
    // A streamed result the caller asked for is read with the same credit window as over a
    // wire; otherwise the router answered the whole array.
    if (outcome.ok && outcome.value instanceof OpenStream) {
      return { ok: true, value: localStream(outcome.value) };
    }
    return outcome;
  }

  notify(request: OutgoingCall): Promise<void> {
    // Fire and forget: the router logs a failed notification; nobody waits for it.
    void this.#router.dispatch({
      method: request.method,
      params: request.params,
      notification: true,
      caller: this.#caller,
      protocol: "local",
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
