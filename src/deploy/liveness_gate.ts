/**
 * A deployed process's view of which other processes its supervisor found unresponsive or
 * is draining (see `liveness.ts`), applied to each of its outgoing connections: a call to a
 * process known down fails at once with `Unavailable` naming it, a call in flight to one
 * fails when the news comes, and no connection is dialled to it meanwhile (a frozen
 * process's kernel still accepts connections, and the handshake would only wait). A replica
 * known down or draining is out of its balancer (`available` false), so its calls go to the
 * other replicas. Calls go to it again once the supervisor says it answers.
 *
 * @module
 */

import type { Outcome } from "../core/context.ts";
import { type RpcError, rpcError } from "../core/errors.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import { unsent } from "../core/client/unsent.ts";
import type { RouteTarget } from "../client/multi.ts";
import type { SupervisorMessage } from "./liveness.ts";

/** A connection as the gate hands it back: refusing calls to a process known down. */
export type GatedTransport = Transport & { available: () => boolean };

/**
 * The processes known down or draining, and the transports that respect it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client } from "../core/client/client.ts";
 * import { LivenessGate } from "./liveness_gate.ts";
 *
 * const gate = new LivenessGate();
 * const inner = {
 *   call: () => Promise.resolve({ ok: true as const, value: "pong" }),
 *   notify: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * const client = new Client(gate.wrap(inner, { url: "tcp://127.0.0.1:1", process: "b" }));
 * assert.equal(await client.call("B.ping"), "pong");
 * gate.apply({ down: "b", since: Date.UTC(2026, 0, 1) });
 * await assert.rejects(client.call("B.ping"), { name: "Unavailable" });
 * gate.apply({ up: "b" });
 * assert.equal(await client.call("B.ping"), "pong");
 * ```
 */
export class LivenessGate {
  /** Process → since when it is down. */
  readonly #down = new Map<string, number>();
  /** Processes being drained before a restart: no new calls where there is an alternative. */
  readonly #draining = new Set<string>();
  /** Process → what its in-flight calls do when it goes down. */
  readonly #inFlight = new Map<string, Set<(since: number) => void>>();

  /** Applies the supervisor's news (pings and acknowledgements are the caller's to answer). */
  apply(message: SupervisorMessage): void {
    if ("down" in message) {
      if (this.#down.has(message.down)) return;
      this.#down.set(message.down, message.since);
      for (const fail of [...this.#inFlight.get(message.down) ?? []]) fail(message.since);
    } else if ("drain" in message) {
      this.#draining.add(message.drain);
    } else if ("up" in message) {
      this.#down.delete(message.up);
      this.#draining.delete(message.up);
    }
  }

  /** Since when `process` is known down, or undefined. */
  downSince(process: string): number | undefined {
    return this.#down.get(process);
  }

  /** `inner` (a connection to `route`), with calls failing at once while its process is down. */
  wrap(inner: Transport, route: RouteTarget): GatedTransport {
    const process = route.process;
    if (process === undefined) return { ...bound(inner), available: () => true };
    return {
      rpcSystem: inner.rpcSystem && ((method) => inner.rpcSystem!(method)),
      available: () => !this.#down.has(process) && !this.#draining.has(process),
      call: (request) => {
        const since = this.#down.get(process);
        // It never left: a balancer may send it to another replica, idempotent or not.
        if (since !== undefined) return Promise.reject(unsent(unavailable(since)));
        return this.#watched(inner, request, process);
      },
      notify: (request) => {
        const since = this.#down.get(process);
        if (since !== undefined) return Promise.reject(unsent(unavailable(since)));
        return inner.notify(request);
      },
      close: () => inner.close(),
    };
  }

  /** Sends a call that fails as soon as its process is reported down. */
  #watched(inner: Transport, request: OutgoingCall, process: string): Promise<Outcome> {
    const controller = new AbortController();
    const signal = request.signal
      ? AbortSignal.any([request.signal, controller.signal])
      : controller.signal;
    let calls = this.#inFlight.get(process);
    if (!calls) this.#inFlight.set(process, calls = new Set());
    const set = calls;
    return new Promise<Outcome>((resolve, reject) => {
      const fail = (since: number) => {
        const error = unavailable(since);
        controller.abort(error);
        reject(error);
      };
      set.add(fail);
      inner.call({ ...request, signal }).then(resolve, reject).finally(() => {
        set.delete(fail);
        if (set.size === 0 && this.#inFlight.get(process) === set) this.#inFlight.delete(process);
      });
    });
  }
}

function bound(inner: Transport): Transport {
  return {
    rpcSystem: inner.rpcSystem && ((method) => inner.rpcSystem!(method)),
    call: (request) => inner.call(request),
    notify: (request) => inner.notify(request),
    close: () => inner.close(),
  };
}

/** Why a call to a process known down fails (the caller names the process and its address). */
function unavailable(since: number): RpcError {
  return rpcError(
    "Unavailable",
    `it is unresponsive (no answer to its supervisor since ${
      new Date(since).toISOString()
    }); calls to it fail at once until it answers again or is restarted`,
  );
}
