/**
 * The one router: every protocol hands its calls here, so validation, authorization,
 * limits, deadlines and the error model are decided once, for all. It ties together the
 * {@linkcode Registry} (what is served), the {@linkcode Dispatcher} (how a call runs) and
 * the middleware and observers around calls (`middleware.ts`).
 *
 * @module
 */

import type { InterfaceDef } from "../idl/interface.ts";
import type { Call, CallContext, ClientLike, Identity, Outcome } from "../context.ts";
import type { ErrorShape } from "../errors.ts";
import type { Implementation } from "../implement.ts";
import { type MethodEntry, Registry } from "./registry.ts";
import { DEFAULT_MAX_CALLS, Dispatcher, type Logger } from "./dispatch.ts";
import {
  type CallObserver,
  type Dispatch,
  type Middleware,
  MiddlewareChain,
  observed,
} from "./middleware.ts";

export type { MethodEntry } from "./registry.ts";
export type { Logger } from "./dispatch.ts";
export { DEFAULT_MAX_CALLS, overloadedShape } from "./dispatch.ts";
export type { CallObserver, Invocation, Middleware } from "./middleware.ts";

/** Options of a router. */
export interface RouterOptions {
  /** Send internal error details (message, stack) to callers. Off by default. */
  debug?: boolean;
  /** The client handlers get as `ctx.client`; defaults to in-process calls on this router. */
  client?: ClientLike;
  /**
   * The client of one call's handler, when it needs one of its own (e.g. one that sends
   * the call's trace context on); undefined: `client`. Asked when the handler reads it.
   */
  clientFor?: (ctx: CallContext) => ClientLike | undefined;
  /** The interface whose methods may be called unqualified; defaults to the only one. */
  defaultInterface?: string;
  /** Where to report internal errors; defaults to the console. */
  logger?: Logger;
  /**
   * Calls in flight at once across every listener and protocol (notifications and calls
   * between components included); more are refused with `Overloaded` (-32004). Default
   * {@linkcode DEFAULT_MAX_CALLS}.
   */
  maxInFlight?: number;
  /**
   * The most items of a streamed result (`t.stream`) answered as one array, to callers that
   * cannot take a stream (plain peers, XML-RPC); a longer stream fails the call with
   * `InvalidRequest` naming the limit. Default 10,000.
   */
  maxStreamItems?: number;
}

/**
 * The registry and dispatcher of calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Router } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const router = new Router();
 * router.register(implement(Calc, { add: ({ a, b }) => a + b }));
 * const outcome = await router.dispatch({ method: "Calc.add", params: [1, 2] });
 * assert.deepEqual(outcome, { ok: true, value: 3, plain: true });
 * ```
 */
export class Router {
  readonly #registry: Registry;
  readonly #middleware = new MiddlewareChain();
  readonly #dispatcher: Dispatcher;
  /** The outermost observer, or undefined while there is none (the fast path). */
  #observed?: Dispatch;
  #client?: ClientLike;
  #clientFactory?: (router: Router) => ClientLike;
  readonly #clientFor?: (ctx: CallContext) => ClientLike | undefined;
  /** Whether internal error details reach callers. */
  readonly debug: boolean;
  /** Where unseen failures are reported. */
  readonly logger: Logger;

  /** Creates an empty router. */
  constructor(options: RouterOptions = {}) {
    this.debug = options.debug ?? false;
    this.#client = options.client;
    this.#clientFor = options.clientFor;
    this.#registry = new Registry(options.defaultInterface);
    this.logger = options.logger ?? {
      error: (m) => console.error(m),
      warn: (m) => console.warn(m),
    };
    this.#dispatcher = new Dispatcher(
      this.#registry,
      this.#middleware,
      this,
      this.logger,
      this.debug,
      options.maxInFlight ?? DEFAULT_MAX_CALLS,
      options.maxStreamItems,
    );
  }

  /**
   * Changes whenever a registration may change what a method name resolves to: lets a
   * transport keep what it worked out for a name until then.
   */
  get generation(): number {
    return this.#registry.generation;
  }

  /**
   * Every interface registered, in every permission domain (unlike
   * {@linkcode Router.interfaces}, which names each once: same-named ones in other domains
   * may differ in their types).
   */
  registeredInterfaces(): readonly InterfaceDef[] {
    return this.#registry.registered();
  }

  /** Calls in flight now, across every listener. */
  get inFlight(): number {
    return this.#dispatcher.inFlight;
  }

  /** Whether the router refuses new calls now (calls in flight are at the limit). */
  get saturated(): boolean {
    return this.#dispatcher.inFlight >= this.#dispatcher.maxInFlight;
  }

  /** The limit on calls in flight. */
  get maxInFlight(): number {
    return this.#dispatcher.maxInFlight;
  }

  /** The client handlers receive; set by deployments to route across processes. */
  get client(): ClientLike {
    if (!this.#client) {
      if (!this.#clientFactory) {
        throw new Error("router has no client: set router.client or use a Server");
      }
      this.#client = this.#clientFactory(this);
    }
    return this.#client;
  }
  set client(client: ClientLike) {
    this.#client = client;
  }

  /** The client a call's handler gets as `ctx.client`. */
  clientOf(ctx: CallContext): ClientLike {
    return this.#clientFor?.(ctx) ?? this.client;
  }

  /** Installs the factory of the default in-process client (done by the client module). */
  set clientFactory(factory: (router: Router) => ClientLike) {
    this.#clientFactory = factory;
  }

  /** Registers an implementation; an interface may be registered once per domain. */
  register(impl: Implementation): this {
    this.#registry.register(impl);
    return this;
  }

  /** Adds middleware around every call (in registration order, outermost first). */
  use(middleware: Middleware): this {
    this.#middleware.add(middleware);
    return this;
  }

  /**
   * Adds an observer around every dispatched call (the last added is outermost). Observers
   * see calls that fail before running too (unknown method, bad params).
   */
  observe(observer: CallObserver): this {
    const dispatcher = this.#dispatcher;
    this.#observed = observed(observer, this.#observed ?? ((call) => dispatcher.now(call)));
    return this;
  }

  /** Whether observers are installed (transports skip gathering what only they read). */
  get observed(): boolean {
    return this.#observed !== undefined;
  }

  /** The registered interfaces. */
  interfaces(): InterfaceDef[] {
    return this.#registry.interfaces();
  }

  /** All default-domain method entries. */
  entries(): MethodEntry[] {
    return this.#registry.entries();
  }

  /** The interface whose methods may be called unqualified, if any. */
  get defaultInterface(): string | undefined {
    return this.#registry.defaultInterface;
  }

  /** Finds the entry a caller reaches under a method name (domains first, then default). */
  resolve(method: string, caller?: Identity): MethodEntry | undefined {
    return this.#registry.resolve(method, caller);
  }

  /** Dispatches a call; never throws: failures come back as error outcomes. */
  dispatch(call: Call): Promise<Outcome> {
    const outcome = this.dispatchNow(call);
    return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
  }

  /**
   * Like {@linkcode Router.dispatch}, but answers synchronously when it can: a call that
   * fails before running, or whose handler returns a plain value (with no deadline,
   * signal, middleware or limit in the way), gets its outcome at once. Transports that
   * answer many calls per read use this to skip a promise and a microtask per call.
   */
  dispatchNow(call: Call): Outcome | Promise<Outcome> {
    return this.#observed === undefined ? this.#dispatcher.now(call) : this.#observed(call);
  }

  /** Turns anything thrown during a call into the error model. */
  errorShape(error: unknown, call: Call): ErrorShape {
    return this.#dispatcher.errorShape(error, call);
  }
}
