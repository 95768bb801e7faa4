/**
 * Implementations marked `once` under `serve --workers N`: the first worker serves them;
 * in every other worker a stand-in hands each call to it (through the main isolate) and
 * returns its outcome, so that their state is one. While such a call runs, its `ctx.peer`
 * in the first worker calls the caller back over the connection it came on, in its worker.
 *
 * @module
 */

import { implement, type Implementation } from "../core/implement.ts";
import { RpcError } from "../core/errors.ts";
import type { Identity, Outcome, PeerLike } from "../core/context.ts";

/** A call handed to the worker that serves a `once` implementation. */
export interface ForwardedCall {
  method: string;
  params: unknown;
  caller?: Identity;
  deadline?: number;
  /** The calling peer's id, when it can be called back (`ctx.peer`, over TCP). */
  peer?: string;
}

/** The protocol a forwarded call is dispatched with in the serving worker (metrics, log). */
export const FORWARDED_PROTOCOL = "worker";

/**
 * A stand-in for `impl` that hands every call to `forward`; it keeps the domain, so that
 * routing by permission domain is the same, and leaves authorization to the serving worker.
 */
export function forwardingImplementation(
  impl: Implementation,
  forward: (call: ForwardedCall, peer?: PeerLike) => Promise<Outcome>,
): Implementation {
  const name = impl.interface.name;
  const handlers = Object.fromEntries(
    Object.keys(impl.interface.methods).map((method) => [
      method,
      async (params: unknown, ctx: { caller?: Identity; deadline?: number; peer?: PeerLike }) => {
        const outcome = await forward({
          method: `${name}.${method}`,
          params,
          ...(ctx.caller ? { caller: ctx.caller } : {}),
          ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}),
          ...(ctx.peer ? { peer: ctx.peer.id } : {}),
        }, ctx.peer);
        if (outcome.ok) return outcome.value;
        throw RpcError.fromShape(outcome.error);
      },
    ]),
  );
  return implement(
    impl.interface,
    handlers as Parameters<typeof implement>[1],
    impl.options.domain ? { domain: impl.options.domain } : {},
  );
}
