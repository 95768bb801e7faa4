/**
 * The transport-agnostic client: `call`, `notify`, `batch`, typed `proxy`, timeouts and
 * cancellation, remote errors re-raised as {@linkcode RpcError}s.
 *
 * @module
 */

import {
  type CallOptions,
  type InterfaceDef,
  type InterfaceProxy,
  isVoidResult,
  type ParamsOf,
} from "../idl/interface.ts";
import { compile, ValidationError } from "../idl/validate.ts";
import type { ClientLike, Outcome } from "../context.ts";
import { asRpcError, RpcError, rpcError } from "../errors.ts";
import type { Implementation } from "../implement.ts";
import type { OutgoingCall, SubscribeOptions, Transport } from "./transport.ts";
import type { Fields } from "../idl/types.ts";
import { typedStream } from "../stream/typed_stream.ts";
import { callTracing } from "./tracing_hook.ts";

/** An interface's methods as publications: each resolves once handed to the wire. */
export type Publisher<I extends InterfaceDef> = {
  readonly [K in keyof I["methods"]]: (params: ParamsOf<I["methods"][K]>) => Promise<void>;
};

/** Options of a client. */
export interface ClientOptions {
  /** Default timeout of every call, in milliseconds (default 30 s; 0 = none). */
  timeout?: number;
}

/** One call of a batch. */
export interface BatchCall {
  /** `Interface.method`. */
  method: string;
  /** Params by name or by position. */
  params?: unknown;
  /** True to send it as a notification (no result comes back). */
  notification?: boolean;
}

/** The settled result of one batch member. */
export type BatchResult = { ok: true; value: unknown } | { ok: false; error: RpcError };

/**
 * A client over any transport: calls, notifications, batches and typed proxies. Make one
 * with `connect(url)`, or wrap a {@linkcode Transport} of your own.
 *
 * @example A client over a transport of your own (here, one that answers every call)
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, defineInterface, method, type Transport, t } from "@switchboard/rpc";
 *
 * const Clock = defineInterface("Clock", { year: method({ result: t.int }) });
 * const transport: Transport = {
 *   call: (request) => Promise.resolve(
 *     request.method === "Clock.year"
 *       ? { ok: true, value: 2026 }
 *       : { ok: false, error: { code: -32601, name: "MethodNotFound", message: request.method } },
 *   ),
 *   notify: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * const client = new Client(transport);
 * assert.equal(await client.proxy(Clock).year(), 2026);
 * await assert.rejects(client.call("Clock.month"), { name: "MethodNotFound" });
 * const [year] = await client.batch([{ method: "Clock.year" }]);
 * assert.deepEqual(year, { ok: true, value: 2026 });
 * await client.close();
 * ```
 */
export class Client implements ClientLike {
  readonly #transport: Transport;
  readonly #timeout: number;
  readonly #proxies = new WeakMap<InterfaceDef, unknown>();

  /** Wraps a transport. */
  constructor(transport: Transport, options: ClientOptions = {}) {
    this.#transport = transport;
    this.#timeout = options.timeout ?? 30_000;
  }

  /** The underlying transport. */
  get transport(): Transport {
    return this.#transport;
  }

  /** Calls a method; resolves with its result or rejects with an {@linkcode RpcError}. */
  call(method: string, params?: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#call(method, params, options);
  }

  async #call(
    method: string,
    params: unknown,
    options: CallOptions,
    declared?: Fields,
    stream?: boolean,
  ): Promise<unknown> {
    const outcome = await this.#send(method, params, options, declared, stream);
    if (outcome.ok) return outcome.value;
    throw RpcError.fromShape(outcome.error);
  }

  #send(
    method: string,
    params: unknown,
    options: CallOptions,
    declared?: Fields,
    stream?: boolean,
  ): Promise<Outcome> {
    const tracing = callTracing();
    const system = tracing && this.#transport.rpcSystem?.(method);
    if (!system) {
      return this.#guardedSend(method, params, options, declared, options.trace, stream);
    }
    return tracing.client(
      method,
      system,
      (trace) =>
        this.#guardedSend(method, params, options, declared, trace ?? options.trace, stream),
    );
  }

  #guardedSend(
    method: string,
    params: unknown,
    options: CallOptions,
    declared: Fields | undefined,
    trace: OutgoingCall["trace"],
    stream?: boolean,
  ): Promise<Outcome> {
    return this.#guarded(method, options, (signal, deadline) => {
      const request: OutgoingCall = signal
        ? { method, params, signal, deadline }
        : { method, params };
      // Typed proxies say what the params are (positional protocols need the order).
      if (declared) request.declared = declared;
      if (trace) request.trace = trace;
      if (options.idempotent) request.idempotent = true;
      if (stream || options.stream) request.stream = true;
      return this.#transport.call(request);
    });
  }

  /**
   * Runs `send` under the call's timeout and signal: the transport gets a signal that fires
   * (with an RpcError as reason) on either, and the caller stops waiting at once.
   */
  #guarded<T>(
    what: string,
    options: CallOptions,
    send: (signal?: AbortSignal, deadline?: number) => Promise<T>,
  ): Promise<T> {
    // Timers overflow past 2^31-1 ms and would fire at once: longer means no timeout.
    const requested = options.timeout ?? this.#timeout;
    const timeout = requested <= 2 ** 31 - 1 ? requested : 0;
    const outer = options.signal;
    if (outer?.aborted) return Promise.reject(cancelled(what, outer));
    if (!(timeout > 0) && !outer) return send();
    const controller = new AbortController();
    let deadline: number | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      if (timeout > 0) {
        deadline = Date.now() + timeout;
        timer = setTimeout(() => {
          const error = rpcError("Timeout", `${what} timed out after ${timeout} ms`);
          controller.abort(error);
          reject(error);
        }, timeout);
      }
      if (outer) {
        onAbort = () => {
          const error = cancelled(what, outer);
          controller.abort(error);
          reject(error);
        };
        outer.addEventListener("abort", onAbort, { once: true });
      }
    });
    const sent = send(controller.signal, deadline);
    return Promise.race([sent, stopped]).finally(() => {
      if (timer !== undefined) clearTimeout(timer); // touching clearTimeout loads Deno's node:timers
      if (onAbort) outer?.removeEventListener("abort", onAbort);
      sent.catch(() => {});
    });
  }

  /** Sends a notification: no reply, no error from the server. */
  notify(method: string, params?: unknown): Promise<void> {
    const tracing = callTracing();
    const system = tracing && this.#transport.rpcSystem?.(method);
    if (!system) return this.#transport.notify({ method, params });
    return tracing.client(
      method,
      system,
      (trace) => this.#transport.notify(trace ? { method, params, trace } : { method, params }),
    );
  }

  /**
   * Sends several calls together (one request where the transport can); results come back
   * in the order given. Never rejects: when the whole batch fails (timeout, cancellation,
   * transport down), every member settles with that error.
   */
  async batch(calls: BatchCall[], options: CallOptions = {}): Promise<BatchResult[]> {
    const settle = (o: Outcome): BatchResult =>
      o.ok ? { ok: true, value: o.value } : { ok: false, error: RpcError.fromShape(o.error) };
    const transport = this.#transport;
    if (transport.batch) {
      if (calls.length === 0) return [];
      const what = `batch of ${calls.length} call${calls.length === 1 ? "" : "s"}`;
      try {
        const outcomes = await this.#guarded(
          what,
          options,
          (signal, deadline) =>
            transport.batch!(calls.map((c) => ({
              method: c.method,
              params: c.params,
              deadline,
              signal,
              notification: c.notification,
            }))),
        );
        return outcomes.map(settle);
      } catch (error) {
        const failure = toRpcError(error);
        return calls.map(() => ({ ok: false, error: failure }));
      }
    }
    return await Promise.all(calls.map(async (c) => {
      if (c.notification) {
        await this.notify(c.method, c.params);
        return { ok: true, value: undefined } as BatchResult;
      }
      return await this.#send(c.method, c.params, options).then(
        settle,
        (e) => ({ ok: false, error: e instanceof RpcError ? e : toRpcError(e) }) as BatchResult,
      );
    }));
  }

  /**
   * A typed proxy: `client.proxy(Calculator).add({ a: 1, b: 2 })` resolves to a number.
   * Results are checked against (and normalised to) the declared result type.
   */
  proxy<I extends InterfaceDef>(iface: I): InterfaceProxy<I> {
    let proxy = this.#proxies.get(iface) as InterfaceProxy<I> | undefined;
    if (proxy) return proxy;
    const methods: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(iface.methods)) {
      const full = `${iface.name}.${name}`;
      if (def.result.kind === "stream") {
        const items = compile(def.result.items);
        methods[name] = (params?: unknown, options: CallOptions = {}) =>
          typedStream(() => this.#call(full, params ?? {}, options, def.params, true), {
            method: full,
            check: items,
            signal: options.signal,
          });
        continue;
      }
      const check = compile(def.result);
      methods[name] = async (params?: unknown, options?: CallOptions) => {
        const value = await this.#call(
          full,
          params ?? {},
          def.idempotent ? { idempotent: true, ...options } : options ?? {},
          def.params,
        );
        try {
          // No protocol carries undefined: an absent optional result arrives as null and
          // is returned as the declared type says (undefined; null for "no result").
          const absent = value === null && def.result.kind === "optional";
          const checked = absent ? undefined : check(value, "result");
          if (checked !== undefined) return checked;
          return isVoidResult(def.result) ? null : undefined;
        } catch (e) {
          if (e instanceof ValidationError) {
            throw rpcError("InternalError", `${full} answered a bad result: ${e.message}`);
          }
          throw e;
        }
      };
    }
    proxy = Object.freeze(methods) as InterfaceProxy<I>;
    this.#proxies.set(iface, proxy);
    return proxy;
  }

  /** Serves an implementation to the server (bidirectional transports only). */
  register(impl: Implementation): this {
    if (!this.#transport.register) {
      throw new Error("this transport cannot serve calls from the server; use tcp://");
    }
    this.#transport.register(impl);
    return this;
  }

  /**
   * Publishes to a topic: `client.publish("news").Feed.post({ text })` sends the call to
   * every subscriber of the topic (no reply). `client.publish("news", Feed)` is the typed
   * form. Needs a pub-sub transport (tcp://).
   */
  publish(topic: string): Record<string, Record<string, (params?: unknown) => Promise<void>>>;
  /** The typed form of {@linkcode Client.publish}. */
  publish<I extends InterfaceDef>(topic: string, iface: I): Publisher<I>;
  publish(topic: string, iface?: InterfaceDef): unknown {
    const transport = this.#transport;
    if (!transport.publish) {
      throw new TypeError("this transport has no publish-subscribe; use tcp://");
    }
    const send = (method: string) => (params?: unknown) =>
      transport.publish!(topic, method, params ?? {});
    if (iface) {
      return Object.freeze(
        Object.fromEntries(Object.keys(iface.methods).map((m) => [m, send(`${iface.name}.${m}`)])),
      );
    }
    return new globalThis.Proxy({}, {
      get: (_, name) =>
        typeof name !== "string" ? undefined : new globalThis.Proxy({}, {
          get: (_, method) => typeof method === "string" ? send(`${name}.${method}`) : undefined,
        }),
    });
  }

  /** Runs `impl` for every call published to `topic` (needs a pub-sub transport, tcp://). */
  subscribe(topic: string, impl: Implementation, options?: SubscribeOptions): Promise<void> {
    if (!this.#transport.subscribe) {
      return Promise.reject(new TypeError("this transport has no publish-subscribe; use tcp://"));
    }
    return this.#transport.subscribe(topic, impl, options);
  }

  /** Closes the transport. */
  close(): Promise<void> {
    return this.#transport.close();
  }
}

function cancelled(method: string, signal: AbortSignal): RpcError {
  return signal.reason instanceof RpcError
    ? signal.reason
    : rpcError("Cancelled", `${method} was cancelled`);
}

/** Anything thrown by a transport, as an RpcError (`Unavailable` unless it is one). */
export function toRpcError(error: unknown): RpcError {
  return asRpcError(error, "Unavailable");
}
