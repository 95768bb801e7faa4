/**
 * Interfaces and methods: the contracts components implement and clients call.
 *
 * @module
 */

import type { Fields, Infer, InferFields, RpcStream, StreamType, Type, TypeBase } from "./types.ts";
import { t } from "./types.ts";

/** What a method declares: its parameters (in order), its result and its documentation. */
export interface MethodOptions<P extends Fields, R extends Type> {
  /** Named parameters in declared order (positional calls follow this order). */
  params?: P;
  /** The result type; omitted means the method returns nothing (null on the wire). */
  result?: R;
  /** One-line description shown by `describe`, `system.methodHelp` and OpenRPC. */
  doc?: string;
  /** Exposed on a deployment's public front; private by default. */
  public?: boolean;
  /** Names of the application errors the method may raise (documentation). */
  errors?: readonly string[];
  /** Run one call at a time; further callers queue (bounded by `queue`). */
  exclusive?: boolean;
  /** At most this many calls of the method run at once; further callers queue. */
  concurrency?: number;
  /** How many callers may wait for a concurrency slot before calls are refused. */
  queue?: number;
  /**
   * Running a call twice does no harm (a read, a put of the same value): a client over
   * several replicas may then retry it on another replica, or hedge it. Default false:
   * a call that may have reached a server is never sent again.
   */
  idempotent?: boolean;
}

/**
 * The type used for methods that declare no result: handlers return nothing (or null), and
 * callers get `null`, as on the wire.
 */
export interface VoidResult extends TypeBase<void | null> {
  /** Discriminant (the run-time form is `t.optional(t.any)`). */
  readonly kind: "optional";
  /** Any value, ignored. */
  readonly inner: Type;
}

/** A declared method. Build with {@linkcode method}. */
export interface MethodDef<P extends Fields = Fields, R extends Type = Type> {
  /** Named parameters in declared order. */
  readonly params: P;
  /** The result type. */
  readonly result: R;
  /** Description. */
  readonly doc?: string;
  /** Whether the method is exposed on public fronts. */
  readonly public: boolean;
  /** Application errors the method documents. */
  readonly errors: readonly string[];
  /** Concurrency limit (1 when exclusive); undefined means unlimited. */
  readonly concurrency?: number;
  /** Bound on queued callers when the concurrency limit is reached. */
  readonly queue?: number;
  /** Whether a call may safely run twice (retried, hedged). */
  readonly idempotent?: boolean;
}

// The run-time form of `t.optional(t.any)`, typed as what callers see: `null`.
const VOID: VoidResult = { kind: "optional", inner: t.any };

/** Whether a result type is the one of methods that declare none (always `null` on the wire). */
export function isVoidResult(type: Type): boolean {
  return type === VOID;
}

/**
 * Declares a method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { method, t } from "@switchboard/rpc";
 *
 * const add = method({ params: { a: t.int, b: t.int }, result: t.int, doc: "a + b" });
 * assert.deepEqual(Object.keys(add.params), ["a", "b"]);
 * assert.equal(add.doc, "a + b");
 * assert.throws(() => method({ concurrency: 0 }), /concurrency must be a positive integer/);
 * ```
 */
export function method<P extends Fields = Record<never, never>, R extends Type = VoidResult>(
  options: MethodOptions<P, R>,
): MethodDef<NoInfer<P>, NoInfer<R>> {
  const concurrency = options.exclusive ? 1 : options.concurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new TypeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  return {
    params: (options.params ?? {}) as P,
    result: (options.result ?? VOID) as R,
    doc: options.doc,
    public: options.public ?? false,
    errors: options.errors ?? [],
    concurrency,
    queue: options.queue,
    idempotent: options.idempotent ?? false,
  };
}

/** A record of method definitions. */
export type Methods = { readonly [name: string]: MethodDef };

/** A declared interface: a name and its methods. Build with {@linkcode defineInterface}. */
export interface InterfaceDef<N extends string = string, M extends Methods = Methods> {
  /** The interface name; methods are called as `Name.method` on the wire. */
  readonly name: N;
  /** The methods. */
  readonly methods: M;
  /** Description. */
  readonly doc?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Declares an interface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, method, t } from "@switchboard/rpc";
 *
 * export const Calculator = defineInterface("Calculator", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * assert.equal(Calculator.name, "Calculator");
 * assert.throws(() => defineInterface("my-api", {}), /must be an identifier/);
 * ```
 */
export function defineInterface<const N extends string, const M extends Methods>(
  name: N,
  methods: M,
  options: { doc?: string } = {},
): InterfaceDef<N, M> {
  if (!NAME.test(name)) {
    throw new TypeError(`interface name must be an identifier, got ${JSON.stringify(name)}`);
  }
  for (const m of Object.keys(methods)) {
    if (!NAME.test(m)) {
      throw new TypeError(`method name must be an identifier, got ${JSON.stringify(m)}`);
    }
  }
  return { name, methods, doc: options.doc };
}

/** The parameters object a method's handler receives. */
export type ParamsOf<M> = M extends MethodDef<infer P, Type> ? InferFields<P> : never;
/** The value a method resolves to. */
export type ResultOf<M> = M extends MethodDef<Fields, infer R> ? Infer<R> : never;

/** Per-call options of a client call. */
export interface CallOptions {
  /** Give up after this many milliseconds (the deadline travels to the server). */
  timeout?: number;
  /** Cancels the call when aborted. */
  signal?: AbortSignal;
  /**
   * The W3C trace context to send (`traceparent`, `tracestate`), e.g. one read off an
   * incoming request. With tracing installed the call's own client span is sent instead.
   */
  trace?: { traceparent: string; tracestate?: string };
  /**
   * The call may safely run twice (typed proxies take it from the method's declaration):
   * a client over several replicas may retry or hedge it.
   */
  idempotent?: boolean;
  /**
   * Take a streamed result item by item where the transport can ask for it (JSON-RPC over
   * HTTP asks for NDJSON; tcp:// always streams): `call()` then resolves to an `RpcStream`
   * for such a method. Typed proxies of `t.stream` methods always do.
   */
  stream?: boolean;
}

/** A proxy method's arguments: params are optional when the method declares none required. */
export type ProxyArgs<M> = Record<never, never> extends ParamsOf<M>
  ? [params?: ParamsOf<M>, options?: CallOptions]
  : [params: ParamsOf<M>, options?: CallOptions];

/**
 * What a proxy method returns: a Promise of its result, or for a streamed result
 * (`t.stream(T)`) an {@linkcode RpcStream} of `T` at once (the call is made on first read).
 */
export type ProxyResult<M> = M extends MethodDef<Fields, infer R>
  ? R extends StreamType<infer I> ? RpcStream<Infer<I>> : Promise<Infer<R>>
  : never;

/** A typed client-side view of an interface: each method returns a Promise of its result. */
export type InterfaceProxy<I extends InterfaceDef> = {
  readonly [K in keyof I["methods"]]: (
    ...args: ProxyArgs<I["methods"][K]>
  ) => ProxyResult<I["methods"][K]>;
};
