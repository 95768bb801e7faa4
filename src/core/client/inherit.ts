/**
 * The client a handler gets as `ctx.client` when its call has a deadline or can be
 * cancelled: every call it makes inherits what is left of that deadline (the shorter of it
 * and the call's own timeout) and is cancelled with it, so a deadline shrinks and a cancel
 * travels across every hop of a chain, on every transport.
 *
 * @module
 */

import type { CallOptions, InterfaceDef, InterfaceProxy } from "../idl/interface.ts";
import type { ClientLike } from "../context.ts";

/** What a handler's calls inherit. */
export interface Inherited {
  /** Absolute deadline (epoch ms) of the handler's call, if any. */
  readonly deadline?: number;
  /** Aborted when the handler's call is cancelled or its deadline passes. */
  readonly signal: AbortSignal;
}

/**
 * `client`, whose calls inherit `from`'s deadline and cancellation.
 *
 * @example A call made with a second left gets at most a second
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CallOptions, ClientLike } from "@switchboard/rpc";
 * import { inheriting } from "./inherit.ts";
 *
 * let seen: CallOptions | undefined;
 * const client = {
 *   call: (_m: string, _p?: unknown, options?: CallOptions) => (seen = options, Promise.resolve(1)),
 * } as ClientLike;
 * const signal = new AbortController().signal;
 * await inheriting(client, { deadline: Date.now() + 1000, signal }).call("A.b", {}, { timeout: 5000 });
 * assert.ok(seen!.timeout! <= 1000 && seen!.signal === signal);
 * ```
 */
export function inheriting(client: ClientLike, from: Inherited): ClientLike {
  const within = (options?: CallOptions): CallOptions => {
    const merged: CallOptions = { ...options };
    if (from.deadline !== undefined) {
      // At least 1 ms: a passed deadline has already aborted `from.signal`, which answers it.
      const left = Math.max(1, from.deadline - Date.now());
      const own = options?.timeout;
      merged.timeout = own !== undefined && own > 0 ? Math.min(own, left) : left;
    }
    merged.signal = options?.signal ? AbortSignal.any([options.signal, from.signal]) : from.signal;
    return merged;
  };
  return {
    call: (method, params, options) => client.call(method, params, within(options)),
    notify: (method, params) => client.notify(method, params),
    proxy<I extends InterfaceDef>(iface: I): InterfaceProxy<I> {
      const inner = client.proxy(iface) as unknown as Record<
        string,
        (params?: unknown, options?: CallOptions) => Promise<unknown>
      >;
      const methods: Record<string, unknown> = {};
      for (const name of Object.keys(iface.methods)) {
        methods[name] = (params?: unknown, options?: CallOptions) =>
          inner[name](params, within(options));
      }
      return Object.freeze(methods) as InterfaceProxy<I>;
    },
  };
}
