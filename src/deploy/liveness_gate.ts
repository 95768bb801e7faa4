/**
 * A deployed process's view of which other processes its supervisor found unresponsive
 * (see `liveness.ts`), applied to its outgoing calls: a call to a process known down
 * fails at once with `Unavailable` naming it, a call in flight to one fails when the news
 * comes, and no connection is dialled to it meanwhile (a frozen process's kernel still
 * accepts connections, and the handshake would only wait). Calls go to it again once
 * the supervisor says it answers.
 *
 * @module
 */

import type { Outcome } from "../core/context.ts";
import { type ErrorShape, RpcError, rpcError } from "../core/errors.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import type { RouteTarget } from "../client/multi.ts";
import type { SupervisorMessage } from "./liveness.ts";

/** Where a method's calls go (as `MultiClient.routeOf` answers). */
export type RouteOf = (method: string) => "local" | RouteTarget | undefined;

/**
 * The processes known down, and the transports that respect it.
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
 * const client = new Client(gate.transport(inner, () => ({ url: "tcp://127.0.0.1:1", process: "b" })));
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
  /** Process → what its in-flight calls do when it goes down. */
  readonly #inFlight = new Map<string, Set<(since: number) => void>>();

  /** Applies the supervisor's news (pings are the caller's to answer). */
  apply(message: SupervisorMessage): void {
    if ("down" in message) {
      if (this.#down.has(message.down)) return;
      this.#down.set(message.down, message.since);
      for (const fail of [...this.#inFlight.get(message.down) ?? []]) fail(message.since);
    } else if ("up" in message) {
      this.#down.delete(message.up);
    }
  }

  /** Since when `process` is known down, or undefined. */
  downSince(process: string): number | undefined {
    return this.#down.get(process);
  }

  /** `inner`, with calls to processes known down failing at once. */
  transport(inner: Transport, routeOf: RouteOf): Transport {
    const remote = (method: string): RouteTarget | undefined => {
      const route = routeOf(method);
      return route && route !== "local" && route.process ? route : undefined;
    };
    return {
      rpcSystem: inner.rpcSystem && ((method) => inner.rpcSystem!(method)),
      call: (request) => {
        const route = remote(request.method);
        if (!route) return inner.call(request);
        const since = this.#down.get(route.process!);
        if (since !== undefined) {
          return Promise.resolve({ ok: false, error: unavailable(request.method, route, since) });
        }
        return this.#watched(inner, request, route);
      },
      notify: (request) => {
        const route = remote(request.method);
        const since = route && this.#down.get(route.process!);
        if (since !== undefined) {
          return Promise.reject(RpcError.fromShape(unavailable(request.method, route!, since)));
        }
        return inner.notify(request);
      },
      close: () => inner.close(),
    };
  }

  /** Sends a call that fails as soon as its process is reported down. */
  #watched(inner: Transport, request: OutgoingCall, route: RouteTarget): Promise<Outcome> {
    const process = route.process!;
    const controller = new AbortController();
    const signal = request.signal
      ? AbortSignal.any([request.signal, controller.signal])
      : controller.signal;
    let calls = this.#inFlight.get(process);
    if (!calls) this.#inFlight.set(process, calls = new Set());
    const set = calls;
    return new Promise<Outcome>((resolve, reject) => {
      const fail = (since: number) => {
        const error = unavailable(request.method, route, since);
        controller.abort(RpcError.fromShape(error));
        resolve({ ok: false, error });
      };
      set.add(fail);
      inner.call({ ...request, signal }).then(resolve, reject).finally(() => {
        set.delete(fail);
        if (set.size === 0 && this.#inFlight.get(process) === set) this.#inFlight.delete(process);
      });
    });
  }
}

function unavailable(method: string, route: RouteTarget, since: number): ErrorShape {
  return rpcError(
    "Unavailable",
    `${method}: process ${route.process} at ${route.url} is unavailable: it is unresponsive ` +
      `(no answer to its supervisor since ${new Date(since).toISOString()}); calls to it fail ` +
      `at once until it answers again or is restarted`,
  ).toShape();
}
