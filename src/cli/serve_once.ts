/**
 * Implementations marked `once` under `serve --workers N`: the first worker serves them;
 * in every other worker a stand-in hands each call to it (through the main isolate) and
 * returns its outcome, so that their state is one. While such a call runs, its `ctx.peer`
 * in the first worker calls the caller back over the connection it came on, in its worker;
 * kept for later, it reaches the peer wherever a connection of its id is then.
 *
 * @module
 */

import { implement, type Implementation } from "../core/implement.ts";
import { asRpcError, RpcError } from "../core/errors.ts";
import type { CallContext, Identity, Outcome, PeerLike } from "../core/context.ts";
import { Peer, type PeerLink } from "../core/client/peer.ts";
import { wasUnsent } from "../core/client/unsent.ts";

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

/**
 * `impl` as the first worker serves it: a `ctx.peer` of a peer connected to this worker is
 * called over its connection here while it has one, else through `elsewhere` (whichever
 * worker the peer's id is connected to then), so that a handle kept after the call ended
 * still reaches the peer once it reconnected to another worker.
 */
export function owningImplementation(
  impl: Implementation,
  elsewhere: (id: string) => PeerLink,
): Implementation {
  const handlers = Object.fromEntries(
    Object.entries(impl.handlers as unknown as Record<string, Handler>).map(([method, handler]) => [
      method,
      (params: unknown, ctx: CallContext) =>
        handler(params, ctx.peer ? withPeer(ctx, roaming(ctx.peer, elsewhere)) : ctx),
    ]),
  );
  return implement(impl.interface, handlers as Parameters<typeof implement>[1], impl.options);
}

type Handler = (params: unknown, ctx: CallContext) => unknown;

/** `ctx` with another `peer` (its getters still read the original). */
function withPeer(ctx: CallContext, peer: PeerLike): CallContext {
  return new Proxy(ctx, {
    get: (target, key) => key === "peer" ? peer : Reflect.get(target, key, target),
  });
}

/** A peer handle that tries `here` first and goes `elsewhere` when it is not connected here. */
function roaming(here: PeerLike, elsewhere: (id: string) => PeerLink): Peer {
  const link: PeerLink = {
    async call(method, params, options) {
      try {
        const timeout = options.deadline === undefined
          ? {}
          : { timeout: Math.max(1, options.deadline - Date.now()) };
        const value = await here.call(method, params, { signal: options.signal, ...timeout });
        return { ok: true, value };
      } catch (error) {
        // Not connected here, so nothing was sent: the peer may be on another worker.
        if (wasUnsent(error)) return elsewhere(here.id).call(method, params, options);
        return { ok: false, error: asRpcError(error).toShape() };
      }
    },
    notify(method, params) {
      here.notify(method, params).catch((error) => {
        if (wasUnsent(error)) elsewhere(here.id).notify(method, params);
      });
    },
  };
  return new Peer(here.id, () => link);
}

/** How the implementations marked `once` are placed in one worker (see {@linkcode placeOnce}). */
export interface OnceIo {
  /** This is the first worker, which serves them. */
  owner: boolean;
  /** (Not owner) hands a call to the first worker; resolves with its outcome. */
  forward: (call: ForwardedCall, peer?: PeerLike) => Promise<Outcome>;
  /** (Owner) reaches a peer by id on whichever worker it is connected to. */
  elsewhere: (id: string) => PeerLink;
}

/** `impls` as one worker registers them: those marked `once` served or stood in for. */
export function placeOnce(impls: readonly Implementation[], once: OnceIo): Implementation[] {
  return impls.map((impl) =>
    !impl.options.once
      ? impl
      : once.owner
      ? owningImplementation(impl, once.elsewhere)
      : forwardingImplementation(impl, once.forward)
  );
}
