/**
 * The dispatch of one call to its entry: exposure, authorization, limits, deadline and
 * cancellation, params and result checks, and every failure turned into the error model.
 * Calls that need none of the slow machinery (no deadline, signal, middleware or limit)
 * are answered synchronously when their handler is.
 *
 * @module
 */

import { inheriting } from "../client/inherit.ts";
import { ValidationError } from "../idl/validate.ts";
import type {
  Call,
  CallContext,
  ClientLike,
  Identity,
  Outcome,
  PeerLike,
  TraceCarrier,
} from "../context.ts";
import { type ErrorShape, errorShape, methodNotFound, RpcError, rpcError } from "../errors.ts";
import type { MethodEntry, Registry } from "./registry.ts";
import type { Invocation, MiddlewareChain } from "./middleware.ts";
import { compile } from "../idl/validate.ts";
import { itemsOf } from "../idl/kinds.ts";
import { OpenStream } from "../stream/open_stream.ts";
import { releaseStreamParams, typedStreamParams } from "../stream/params.ts";
import { collectStream, DEFAULT_MAX_STREAM_ITEMS } from "../stream/collect.ts";

/** Where the router reports what callers do not see. */
export interface Logger {
  /** Unexpected failures (handler exceptions). */
  error(message: string): void;
  /** Failures nobody waits for (failed notifications). */
  warn(message: string): void;
}

/** What handlers' contexts reach through: the router's client, made on first use. */
export interface ClientSource {
  /** The client the handler of `ctx` receives as `ctx.client`. */
  clientOf(ctx: CallContext): ClientLike;
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Default cap on calls in flight in one router (see `RouterOptions.maxInFlight`). */
export const DEFAULT_MAX_CALLS = 10_000;

/** The error of a call refused because the router is at its limit of calls in flight. */
export function overloadedShape(limit: number): ErrorShape {
  return errorShape(
    "Overloaded",
    `server overloaded: too many calls in flight (limit ${limit}); retry later`,
  );
}

/** Runs calls against a registry, through a middleware chain. */
export class Dispatcher {
  readonly #registry: Registry;
  readonly #chain: MiddlewareChain;
  readonly #clients: ClientSource;
  readonly #logger: Logger;
  readonly #debug: boolean;
  /** Calls running now (those answered synchronously never count). */
  #inFlight = 0;
  /** The limit on calls in flight. */
  readonly maxInFlight: number;
  /** Notifications refused as overloaded since the last warning (warned once a second). */
  #droppedNotes = 0;
  #droppedSince = 0;

  /** A dispatcher over `registry` and `chain`; contexts get their client from `clients`. */
  constructor(
    registry: Registry,
    chain: MiddlewareChain,
    clients: ClientSource,
    logger: Logger,
    debug: boolean,
    maxInFlight = DEFAULT_MAX_CALLS,
    maxStreamItems = DEFAULT_MAX_STREAM_ITEMS,
  ) {
    this.#registry = registry;
    this.#chain = chain;
    this.#clients = clients;
    this.#logger = logger;
    this.#debug = debug;
    this.maxInFlight = maxInFlight;
    this.maxStreamItems = maxStreamItems;
  }

  /** The most items of a stream sent as one array (to callers that cannot take a stream). */
  readonly maxStreamItems: number;

  /** Calls in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The outcome of `call`, synchronously when nothing in the way needs to wait. */
  now(call: Call): Outcome | Promise<Outcome> {
    if (this.#inFlight >= this.maxInFlight) return this.#overloaded(call);
    const entry = this.#registry.resolve(call.method, call.caller);
    if (!entry || (call.expose !== undefined && !call.expose(entry.name))) {
      return { ok: false, error: methodNotFound(call.method) };
    }
    if (entry.def.result.kind === "stream") return this.#stream(entry, call);
    if (
      call.deadline !== undefined || call.signal || !this.#chain.empty ||
      entry.limiters.length !== 0 || entry.streamParams
    ) {
      return this.#slow(entry, call);
    }
    // The common case (no deadline, signal, middleware or limit): the same steps as
    // runEntry and callHandler, but without their async frames when the handler answers
    // synchronously — they cost more than a small handler itself.
    try {
      authorize(entry, call);
      const result = entry.handler(
        checkParams(entry, call.params) as never,
        new HandlerContext(this.#clients, call, undefined),
      );
      if (isThenable(result)) return this.#settleLater(entry, call, result);
      return success(entry, checkResult(entry, result));
    } catch (error) {
      return this.#failure(error, call);
    }
  }

  // Both async paths count the call in flight from their first (synchronous) step until
  // they settle; synchronous answers never hold a slot.
  async #settleLater(entry: MethodEntry, call: Call, result: unknown): Promise<Outcome> {
    this.#inFlight++;
    try {
      return success(entry, checkResult(entry, await result));
    } catch (error) {
      return this.#failure(error, call);
    } finally {
      this.#inFlight--;
    }
  }

  async #slow(entry: MethodEntry, call: Call): Promise<Outcome> {
    this.#inFlight++;
    try {
      return success(entry, await this.#invoke(entry, call));
    } catch (error) {
      return this.#failure(error, call);
    } finally {
      this.#inFlight--;
    }
  }

  /**
   * A streamed result: the handler runs (its `ctx.signal` is the stream's), and its source
   * goes to the transport as an {@linkcode OpenStream}, or as one array when the caller
   * cannot take a stream.
   */
  async #stream(entry: MethodEntry, call: Call): Promise<Outcome> {
    const controller = new AbortController();
    let open: OpenStream;
    this.#inFlight++;
    try {
      const source = await this.#invoke(entry, call, controller);
      const items = compile(itemsOf(entry.def.result));
      open = new OpenStream(
        entry.name,
        source as AsyncIterable<unknown>,
        items,
        controller,
        (error) => this.errorShape(error, call),
      );
    } catch (error) {
      return this.#failure(error, call);
    } finally {
      this.#inFlight--;
    }
    if (call.stream) return { ok: true, value: open };
    try {
      return { ok: true, value: await collectStream(open, this.maxStreamItems, call.signal) };
    } catch (error) {
      return this.#failure(error, call);
    }
  }

  /** Refuses a call over the limit; dropped notifications are reported once a second. */
  #overloaded(call: Call): Outcome {
    if (call.notification) {
      this.#droppedNotes++;
      const now = Date.now();
      if (now - this.#droppedSince >= 1000) {
        this.#logger.warn(
          `server overloaded: dropped ${this.#droppedNotes} notification(s) ` +
            `(${this.#inFlight} calls in flight, limit ${this.maxInFlight})`,
        );
        this.#droppedNotes = 0;
        this.#droppedSince = now;
      }
    }
    return { ok: false, error: overloadedShape(this.maxInFlight) };
  }

  #failure(error: unknown, call: Call): Outcome {
    const shape = this.errorShape(error, call);
    if (call.notification) {
      this.#logger.warn(`notification ${call.method} failed: ${shape.message}`);
    }
    return { ok: false, error: shape };
  }

  /** Turns anything thrown during a call into the error model. */
  errorShape(error: unknown, call: Call): ErrorShape {
    if (error instanceof RpcError) return error.toShape();
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#logger.error(
      `internal error in ${call.method}: ${
        error instanceof Error ? error.stack ?? detail : detail
      }`,
    );
    if (this.#debug) {
      return errorShape("InternalError", `Internal error: ${detail}`, {
        stack: error instanceof Error ? error.stack : undefined,
      });
    }
    return errorShape("InternalError", "Internal error");
  }

  /** Runs the call; `own` (a stream's) is the controller of the handler's signal. */
  #invoke(entry: MethodEntry, call: Call, own?: AbortController): Promise<unknown> {
    const remaining = call.deadline === undefined ? Infinity : call.deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(rpcError("Timeout", `deadline of ${call.method} passed before it ran`));
    }
    if (remaining === Infinity && !call.signal) {
      return this.#chain.run(
        { call, entry, ctx: new HandlerContext(this.#clients, call, own?.signal) },
        runEntry,
      );
    }
    // A deadline or a cancellable caller: give the handler a signal, and stop waiting for
    // it when the signal fires, whatever the handler does.
    const controller = own ?? new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onCancel: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      const stop = (error: RpcError) => {
        controller.abort(error);
        reject(error);
      };
      // Timers overflow past 2^31-1 ms (and would fire at once): such deadlines never bite.
      if (remaining <= MAX_TIMER_MS) {
        timer = setTimeout(
          () => stop(rpcError("Timeout", `${call.method} exceeded its deadline`)),
          remaining,
        );
      }
      if (call.signal) {
        onCancel = () => stop(rpcError("Cancelled", `${call.method} was cancelled by the caller`));
        if (call.signal.aborted) onCancel();
        else call.signal.addEventListener("abort", onCancel, { once: true });
      }
    });
    const running = this.#chain.run(
      { call, entry, ctx: new HandlerContext(this.#clients, call, controller.signal) },
      runEntry,
    );
    return Promise.race([running, aborted]).finally(() => {
      clearTimeout(timer);
      if (onCancel) call.signal?.removeEventListener("abort", onCancel);
      running.catch(() => {});
    });
  }
}

/**
 * A handler's context. A class rather than an object literal: a literal with a getter
 * (the lazily created `client`) is far slower to build, and one is built on every call.
 */
class HandlerContext implements CallContext {
  readonly method: string;
  readonly caller?: Identity;
  readonly deadline?: number;
  readonly peer?: PeerLike;
  readonly protocol: string;
  readonly callId?: string | number | null;
  readonly trace?: TraceCarrier;
  readonly #clients: ClientSource;
  #signal?: AbortSignal;
  #inherited?: ClientLike;

  constructor(clients: ClientSource, call: Call, signal: AbortSignal | undefined) {
    this.#clients = clients;
    this.method = call.method;
    this.caller = call.caller;
    this.deadline = call.deadline;
    this.#signal = signal;
    this.peer = call.peer;
    this.protocol = call.protocol ?? "local";
    this.callId = call.id;
    this.trace = call.trace;
  }

  /**
   * The call's own signal. A call that nothing can abort gets a fresh one on first use, never
   * a shared one: listeners a handler adds then die with its call instead of piling up.
   */
  get signal(): AbortSignal {
    return this.#signal ??= new AbortController().signal;
  }

  /** Calls made through it inherit the call's deadline and cancellation, when it has them. */
  get client(): ClientLike {
    const client = this.#clients.clientOf(this);
    if (this.deadline === undefined && this.#signal === undefined) return client;
    return this.#inherited ??= inheriting(client, this);
  }
}

/** The innermost step: authorization, limits, params check, handler, result check. */
function runEntry(inv: Invocation): Promise<unknown> {
  const { entry, call } = inv;
  try {
    authorize(entry, call);
  } catch (error) {
    return Promise.reject(error);
  }
  if (entry.limiters.length === 0) return callHandler(inv);
  let run = () => callHandler(inv);
  for (let i = entry.limiters.length - 1; i >= 0; i--) {
    const limiter = entry.limiters[i], inner = run;
    run = () => limiter.run(inner, inv.ctx.signal);
  }
  return run();
}

/** Throws `Forbidden`/`Unauthorized` unless the caller may call the entry. */
function authorize(entry: MethodEntry, call: Call): void {
  const allow = entry.impl.options.allow;
  if (entry.denied || (allow && !allow(call.caller, entry.name))) {
    throw rpcError(
      call.caller ? "Forbidden" : "Unauthorized",
      call.caller
        ? `${call.caller.id} may not call ${entry.name}`
        : `${entry.name} needs an authenticated caller`,
    );
  }
}

async function callHandler({ entry, call, ctx }: Invocation): Promise<unknown> {
  const streams = entry.streamParams;
  if (!streams) {
    const result = await entry.handler(checkParams(entry, call.params) as never, ctx);
    return checkResult(entry, result);
  }
  const params = typedStreamParams(
    entry.name,
    entry.def.params,
    streams,
    checkParams(entry, call.params),
  );
  // A streamed result may read its params as it goes: they are released with it (or with
  // the connection), not when the handler returns its generator.
  if (entry.def.result.kind === "stream") {
    return checkResult(entry, await entry.handler(params as never, ctx));
  }
  try {
    return checkResult(entry, await entry.handler(params as never, ctx));
  } finally {
    releaseStreamParams(streams, params);
  }
}

function checkParams(entry: MethodEntry, params: unknown): Record<string, unknown> {
  try {
    return entry.checkParams(params);
  } catch (error) {
    if (error instanceof ValidationError) throw rpcError("InvalidParams", error.message);
    throw error;
  }
}

/** The outcome of a call that returned `value`; `floats` only where the result holds one. */
function success(entry: MethodEntry, value: unknown): Outcome {
  return entry.floats
    ? { ok: true, value, plain: entry.plain, floats: entry.floats }
    : { ok: true, value, plain: entry.plain };
}

function checkResult(entry: MethodEntry, result: unknown): unknown {
  try {
    const checked = entry.checkResult(result, "result");
    return checked === undefined ? null : checked;
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new Error(`${entry.name} returned a bad result: ${error.message}`);
    }
    throw error;
  }
}

/** Whether `await` would wait for the value (a promise or any other thenable). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}
