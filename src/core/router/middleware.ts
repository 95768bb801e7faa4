/**
 * What wraps a router's calls: middleware (async, around the handler, may refuse or
 * re-route) and observers (synchronous, around the whole dispatch, for metrics, logs and
 * traces), and how each kind is chained.
 *
 * @module
 */

import type { Call, CallContext, Outcome } from "../context.ts";
import type { MethodEntry } from "./registry.ts";

/** One call passing through the middleware chain. */
export interface Invocation {
  /** The call as the transport handed it. */
  readonly call: Call;
  /** The method about to run; middleware may swap it (e.g. for a permission domain). */
  entry: MethodEntry;
  /** The handler's context. */
  readonly ctx: CallContext;
}

/** Router middleware: wraps the rest of the chain, may refuse, observe or re-route. */
export type Middleware = (inv: Invocation, next: () => Promise<unknown>) => Promise<unknown>;

/**
 * Sees every call around its dispatch, synchronously: it calls `run` once and returns what
 * `run` returned (a value or a promise), after noting what it wants. Unlike middleware it
 * keeps the router's synchronous fast path, so metrics, logs and traces cost little.
 */
export type CallObserver = (
  call: Call,
  run: (call: Call) => Outcome | Promise<Outcome>,
) => Outcome | Promise<Outcome>;

/** A dispatch step: a call in, its outcome out (now or later). */
export type Dispatch = (call: Call) => Outcome | Promise<Outcome>;

/** Wraps `inner` in `observer`: the result runs the observer, which runs `inner`. */
export function observed(observer: CallObserver, inner: Dispatch): Dispatch {
  return (call) => observer(call, inner);
}

/** Middleware in registration order (outermost first), composed once around `innermost`. */
export class MiddlewareChain {
  readonly #middleware: Middleware[] = [];
  #composed?: (inv: Invocation) => Promise<unknown>;

  /** Whether any middleware is installed (the dispatcher's fast path needs none). */
  get empty(): boolean {
    return this.#middleware.length === 0;
  }

  /** Adds middleware inside the ones already added. */
  add(middleware: Middleware): void {
    this.#middleware.push(middleware);
    this.#composed = undefined;
  }

  /** Runs `inv` through every middleware, then `innermost`. */
  run(inv: Invocation, innermost: (inv: Invocation) => Promise<unknown>): Promise<unknown> {
    if (this.#middleware.length === 0) return innermost(inv);
    this.#composed ??= compose(this.#middleware, innermost);
    return this.#composed(inv);
  }
}

function compose(
  middleware: readonly Middleware[],
  innermost: (inv: Invocation) => Promise<unknown>,
): (inv: Invocation) => Promise<unknown> {
  return (inv) => {
    const step = (i: number): Promise<unknown> =>
      i === middleware.length ? innermost(inv) : middleware[i](inv, () => step(i + 1));
    return step(0);
  };
}
