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
import { bindView, type RouterView } from "./_transport.ts";

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
  readonly #view: View;
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
    const clients = { clientOf: (ctx: CallContext) => this.#clientFor?.(ctx) ?? this.client };
    this.#dispatcher = new Dispatcher(
      this.#registry,
      this.#middleware,
      clients,
      this.logger,
      this.debug,
      options.maxInFlight ?? DEFAULT_MAX_CALLS,
      options.maxStreamItems,
    );
    this.#view = new View(this.#registry, this.#dispatcher, clients, (factory) => {
      this.#clientFactory = factory;
    });
    bindView(this, this.#view);
  }

  /** Calls in flight now, across every listener. */
  get inFlight(): number {
    return this.#dispatcher.inFlight;
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
    this.#view.observe(observer);
    return this;
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
    const outcome = this.#view.dispatchNow(call);
    return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
  }
}

/** What transports see of a router (see `_transport.ts`). */
class View implements RouterView<Router> {
  readonly #registry: Registry;
  readonly #dispatcher: Dispatcher;
  readonly #clients: { clientOf(ctx: CallContext): ClientLike };
  readonly #install: (factory: (router: Router) => ClientLike) => void;
  /** The outermost observer, or undefined while there is none (the fast path). */
  #observed?: Dispatch;

  constructor(
    registry: Registry,
    dispatcher: Dispatcher,
    clients: { clientOf(ctx: CallContext): ClientLike },
    install: (factory: (router: Router) => ClientLike) => void,
  ) {
    this.#registry = registry;
    this.#dispatcher = dispatcher;
    this.#clients = clients;
    this.#install = install;
  }

  observe(observer: CallObserver): void {
    const dispatcher = this.#dispatcher;
    this.#observed = observed(observer, this.#observed ?? ((call) => dispatcher.now(call)));
  }

  dispatchNow(call: Call): Outcome | Promise<Outcome> {
    return this.#observed === undefined ? this.#dispatcher.now(call) : this.#observed(call);
  }

  get saturated(): boolean {
    return this.#dispatcher.inFlight >= this.#dispatcher.maxInFlight;
  }

  get observed(): boolean {
    return this.#observed !== undefined;
  }

  get generation(): number {
    return this.#registry.generation;
  }

  registeredInterfaces(): readonly InterfaceDef[] {
    return this.#registry.registered();
  }

  clientOf(ctx: CallContext): ClientLike {
    return this.#clients.clientOf(ctx);
  }

  installClientFactory(factory: (router: Router) => ClientLike): void {
    this.#install(factory);
  }

  errorShape(error: unknown, call: Call): ErrorShape {
    return this.#dispatcher.errorShape(error, call);
  }
}
