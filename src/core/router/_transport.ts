/**
 * What transports need of a router beyond what a user composes with: the synchronous
 * dispatch, whether it is saturated or observed, when its registrations changed, and the
 * factory of its default client. Internal: no entry re-exports it, so the public `Router`
 * stays what a user registers, wraps and calls.
 *
 * @module
 */

import type { InterfaceDef } from "../idl/interface.ts";
import type { Call, CallContext, ClientLike, Outcome } from "../context.ts";
import type { ErrorShape } from "../errors.ts";

/**
 * A router as a transport sees it (take it once per listener, not per call). `R` is the
 * router's class, a parameter so that this module need not import it (router.ts imports
 * this one).
 */
export interface RouterView<R = unknown> {
  /**
   * Like `Router.dispatch`, but answers synchronously when it can: a call that fails before
   * running, or whose handler returns a plain value (with no deadline, signal, middleware or
   * limit in the way), gets its outcome at once. Transports that answer many calls per read
   * use this to skip a promise and a microtask per call.
   */
  dispatchNow(call: Call): Outcome | Promise<Outcome>;
  /** Whether the router refuses new calls now (calls in flight are at the limit). */
  readonly saturated: boolean;
  /** Whether observers are installed (transports skip gathering what only they read). */
  readonly observed: boolean;
  /**
   * Changes whenever a registration may change what a method name resolves to: lets a
   * transport keep what it worked out for a name until then.
   */
  readonly generation: number;
  /**
   * Every interface registered, in every permission domain (unlike `Router.interfaces`,
   * which names each once: same-named ones in other domains may differ in their types).
   */
  registeredInterfaces(): readonly InterfaceDef[];
  /** The client a call's handler gets as `ctx.client`. */
  clientOf(ctx: CallContext): ClientLike;
  /** Installs the factory of the default in-process client (done by `Server`). */
  installClientFactory(factory: (router: R) => ClientLike): void;
  /** Turns anything thrown during a call into the error model. */
  errorShape(error: unknown, call: Call): ErrorShape;
}

const views = new WeakMap<object, unknown>();

/** Records `router`'s view (its constructor does, once). */
export function bindView<R extends object>(router: R, view: RouterView<R>): void {
  views.set(router, view);
}

/** The transport's view of `router`. */
export function routerView<R extends object>(router: R): RouterView<R> {
  return views.get(router) as RouterView<R>;
}
