/**
 * The one router: a registry of `Interface.method` → handler, and the dispatch of a
 * transport-neutral {@linkcode Call} to it. Every protocol ends here, so validation,
 * authorization, limits, deadlines and the error model are decided once, for all.
 *
 * @module
 */

import type { InterfaceDef, MethodDef } from "../idl/interface.ts";
import { compile, compileParams, type ParamsCheck, ValidationError } from "../idl/validate.ts";
import type { Check } from "../idl/validate.ts";
import { isJsonNative } from "../idl/signature.ts";
import { guarded, guardedParams } from "../idl/guard.ts";
import type { Call, CallContext, ClientLike, Identity, Outcome, PeerLike } from "../context.ts";
import { type ErrorShape, errorShape, methodNotFound, RpcError, rpcError } from "../errors.ts";
import type { Implementation } from "../implement.ts";
import { Limiter } from "./limiter.ts";

/** A registered method: its definition, handler and compiled checks. */
export interface MethodEntry {
  /** `Interface.method`. */
  readonly name: string;
  /** The interface it belongs to. */
  readonly iface: InterfaceDef;
  /** The method's own name. */
  readonly methodName: string;
  /** The declaration. */
  readonly def: MethodDef;
  /** The implementation serving it. */
  readonly impl: Implementation;
  /** The handler. */
  readonly handler: (params: never, ctx: CallContext) => unknown;
  /** Compiled params check. */
  readonly checkParams: ParamsCheck;
  /** Compiled result check. */
  readonly checkResult: Check;
  /** Whether results are plain JSON (lets codecs skip tagging work). */
  readonly plain: boolean;
  /** Limits concurrent calls, outermost first (method limit, then implementation), if any. */
  readonly limiters: readonly Limiter[];
  /** Whether the implementation refuses this method to every caller (`deny`). */
  readonly denied: boolean;
}

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

/** Where the router reports what callers do not see. */
export interface Logger {
  /** Unexpected failures (handler exceptions). */
  error(message: string): void;
  /** Failures nobody waits for (failed notifications). */
  warn(message: string): void;
}

/** Options of a router. */
export interface RouterOptions {
  /** Send internal error details (message, stack) to callers. Off by default. */
  debug?: boolean;
  /** The client handlers get as `ctx.client`; defaults to in-process calls on this router. */
  client?: ClientLike;
  /** The interface whose methods may be called unqualified; defaults to the only one. */
  defaultInterface?: string;
  /** Where to report internal errors; defaults to the console. */
  logger?: Logger;
}

const DEFAULT_QUEUE = 1000;
/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How many resolved method names the router remembers (compared one by one). */
const RECENT_NAMES = 4;

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
  /** Default-domain entries by `Interface.method`. */
  #methods = new Map<string, MethodEntry>();
  /** Entries of other permission domains: domain → `Interface.method` → entry. */
  #domains = new Map<string, Map<string, MethodEntry>>();
  #interfaces = new Map<string, InterfaceDef>();
  /** Per-method limits by `Interface.method`: every domain's implementation shares them. */
  #methodLimiters = new Map<string, Limiter>();
  #middleware: Middleware[] = [];
  #observed?: (call: Call) => Outcome | Promise<Outcome>;
  #chain?: (inv: Invocation) => Promise<unknown>;
  #client?: ClientLike;
  #clientFactory?: (router: Router) => ClientLike;
  #defaultInterface?: string;
  /**
   * Names recently resolved in the default domain, and their entries. A method name read
   * off the wire is a fresh string, and hashing it for a Map lookup costs several times
   * more than comparing it with a few recent names. `register` clears them.
   */
  #recentNames: string[] = [];
  #recentEntries: MethodEntry[] = [];
  #recentNext = 0;
  /** Whether internal error details reach callers. */
  readonly debug: boolean;
  /** Where unseen failures are reported. */
  readonly logger: Logger;

  /** Creates an empty router. */
  constructor(options: RouterOptions = {}) {
    this.debug = options.debug ?? false;
    this.#client = options.client;
    this.#defaultInterface = options.defaultInterface;
    this.logger = options.logger ?? {
      error: (m) => console.error(m),
      warn: (m) => console.warn(m),
    };
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

  /** Installs the factory of the default in-process client (done by the client module). */
  set clientFactory(factory: (router: Router) => ClientLike) {
    this.#clientFactory = factory;
  }

  /** Registers an implementation; an interface may be registered once per domain. */
  register(impl: Implementation): this {
    const iface = impl.interface;
    const domain = impl.options.domain;
    const known = this.#interfaces.get(iface.name);
    if (known && known !== iface && !sameShape(known, iface)) {
      throw new Error(`interface ${iface.name} is already registered with different methods`);
    }
    const table = domain === undefined ? this.#methods : this.#domainTable(domain);
    const implLimiter = impl.options.concurrency === undefined ? undefined : new Limiter(
      impl.options.concurrency,
      impl.options.queue ?? DEFAULT_QUEUE,
      `${iface.name}`,
    );
    const entries: MethodEntry[] = [];
    for (const [methodName, def] of Object.entries(iface.methods)) {
      const name = `${iface.name}.${methodName}`;
      if (table.has(name)) {
        throw new Error(
          `interface ${iface.name} is already registered${domain ? ` for domain ${domain}` : ""}`,
        );
      }
      // The method's own slot is taken first, so a call waiting for it does not hold one
      // of the implementation's slots meanwhile.
      const limiters: Limiter[] = [];
      if (def.concurrency !== undefined) {
        let limiter = this.#methodLimiters.get(name);
        if (!limiter) {
          limiter = new Limiter(def.concurrency, def.queue ?? DEFAULT_QUEUE, name);
          this.#methodLimiters.set(name, limiter);
        }
        limiters.push(limiter);
      }
      if (implLimiter) limiters.push(implLimiter);
      entries.push({
        name,
        iface,
        methodName,
        def,
        impl,
        handler: (impl.handlers as Record<string, MethodEntry["handler"]>)[methodName],
        // Guarded: well-typed values skip the full check (and its path strings).
        checkParams: guardedParams(def.params, compileParams(def.params)),
        checkResult: guarded(def.result, compile(def.result)),
        plain: isJsonNative(def.result),
        limiters,
        denied: impl.options.deny?.includes(methodName) ?? false,
      });
    }
    for (const entry of entries) table.set(entry.name, entry);
    this.#interfaces.set(iface.name, iface);
    // A second interface ends unqualified calls to the first: forget what names meant.
    this.#recentNames = [];
    this.#recentEntries = [];
    this.#recentNext = 0;
    return this;
  }

  #domainTable(domain: string): Map<string, MethodEntry> {
    let table = this.#domains.get(domain);
    if (!table) this.#domains.set(domain, table = new Map());
    return table;
  }

  /** Adds middleware around every call (in registration order, outermost first). */
  use(middleware: Middleware): this {
    this.#middleware.push(middleware);
    this.#chain = undefined;
    return this;
  }

  /**
   * Adds an observer around every dispatched call (the last added is outermost). Observers
   * see calls that fail before running too (unknown method, bad params).
   */
  /** Whether observers are installed (transports skip gathering what only they read). */
  get observed(): boolean {
    return this.#observed !== undefined;
  }

  observe(observer: CallObserver): this {
    const inner = this.#observed ?? ((call: Call) => this.#dispatchNow(call));
    this.#observed = (call) => observer(call, inner);
    return this;
  }

  /** The registered interfaces. */
  interfaces(): InterfaceDef[] {
    return [...this.#interfaces.values()];
  }

  /** All default-domain method entries. */
  entries(): MethodEntry[] {
    return [...this.#methods.values()];
  }

  /** The interface whose methods may be called unqualified, if any. */
  get defaultInterface(): string | undefined {
    if (this.#defaultInterface) return this.#defaultInterface;
    let only: string | undefined;
    for (const name of this.#interfaces.keys()) {
      if (name === "system" || name === "rpc") continue;
      if (only) return undefined;
      only = name;
    }
    return only;
  }

  /** Finds the entry a caller reaches under a method name (domains first, then default). */
  resolve(method: string, caller?: Identity): MethodEntry | undefined {
    let entry = this.#recent(method);
    let name = entry ? entry.name : method;
    if (!entry) {
      entry = this.#methods.get(method);
      if (!entry && !method.includes(".")) {
        const fallback = this.defaultInterface;
        if (fallback) entry = this.#methods.get(name = `${fallback}.${method}`);
      }
      if (entry) this.#remember(method, entry);
    }
    if (caller?.roles && this.#domains.size) {
      for (const role of caller.roles) {
        const domainEntry = this.#domains.get(role)?.get(name);
        if (domainEntry) return domainEntry;
      }
    }
    return entry;
  }

  #recent(method: string): MethodEntry | undefined {
    const names = this.#recentNames;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === method) return this.#recentEntries[i];
    }
    return undefined;
  }

  #remember(method: string, entry: MethodEntry): void {
    const slot = this.#recentNext;
    this.#recentNext = (slot + 1) % RECENT_NAMES;
    this.#recentNames[slot] = method;
    this.#recentEntries[slot] = entry;
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
    return this.#observed === undefined ? this.#dispatchNow(call) : this.#observed(call);
  }

  #dispatchNow(call: Call): Outcome | Promise<Outcome> {
    const entry = this.resolve(call.method, call.caller);
    if (!entry || (call.expose !== undefined && !call.expose(entry.name))) {
      return { ok: false, error: methodNotFound(call.method) };
    }
    if (
      call.deadline !== undefined || call.signal || this.#middleware.length !== 0 ||
      entry.limiters.length !== 0
    ) {
      return this.#dispatchSlow(entry, call);
    }
    // The common case (no deadline, signal, middleware or limit): the same steps as
    // runEntry and callHandler, but without their async frames when the handler answers
    // synchronously — they cost more than a small handler itself.
    try {
      authorize(entry, call);
      const result = entry.handler(
        checkParams(entry, call.params) as never,
        this.#context(call, undefined),
      );
      if (isThenable(result)) return this.#settleLater(entry, call, result);
      return { ok: true, value: checkResult(entry, result), plain: entry.plain };
    } catch (error) {
      return this.#failure(error, call);
    }
  }

  async #settleLater(entry: MethodEntry, call: Call, result: unknown): Promise<Outcome> {
    try {
      return { ok: true, value: checkResult(entry, await result), plain: entry.plain };
    } catch (error) {
      return this.#failure(error, call);
    }
  }

  async #dispatchSlow(entry: MethodEntry, call: Call): Promise<Outcome> {
    try {
      const value = await this.#invoke(entry, call);
      return { ok: true, value, plain: entry.plain };
    } catch (error) {
      return this.#failure(error, call);
    }
  }

  #failure(error: unknown, call: Call): Outcome {
    const shape = this.errorShape(error, call);
    if (call.notification) {
      this.logger.warn(`notification ${call.method} failed: ${shape.message}`);
    }
    return { ok: false, error: shape };
  }

  /** Turns anything thrown during a call into the error model. */
  errorShape(error: unknown, call: Call): ErrorShape {
    if (error instanceof RpcError) return error.toShape();
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.error(
      `internal error in ${call.method}: ${
        error instanceof Error ? error.stack ?? detail : detail
      }`,
    );
    if (this.debug) {
      return errorShape("InternalError", `Internal error: ${detail}`, {
        stack: error instanceof Error ? error.stack : undefined,
      });
    }
    return errorShape("InternalError", "Internal error");
  }

  #invoke(entry: MethodEntry, call: Call): Promise<unknown> {
    const remaining = call.deadline === undefined ? Infinity : call.deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(rpcError("Timeout", `deadline of ${call.method} passed before it ran`));
    }
    if (remaining === Infinity && !call.signal) {
      return this.#run({ call, entry, ctx: this.#context(call, undefined) });
    }
    // A deadline or a cancellable caller: give the handler a signal, and stop waiting for
    // it when the signal fires, whatever the handler does.
    const controller = new AbortController();
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
    const running = this.#run({ call, entry, ctx: this.#context(call, controller.signal) });
    return Promise.race([running, aborted]).finally(() => {
      clearTimeout(timer);
      if (onCancel) call.signal?.removeEventListener("abort", onCancel);
      running.catch(() => {});
    });
  }

  #context(call: Call, signal: AbortSignal | undefined): CallContext {
    return new HandlerContext(this, call, signal);
  }

  #run(inv: Invocation): Promise<unknown> {
    if (this.#middleware.length === 0) return runEntry(inv);
    this.#chain ??= compose(this.#middleware);
    return this.#chain(inv);
  }
}

/**
 * A handler's context. A class rather than an object literal: a literal with a getter
 * (the lazily created `client`) costs about a microsecond to build, on every call.
 */
class HandlerContext implements CallContext {
  readonly method: string;
  readonly caller?: Identity;
  readonly deadline?: number;
  readonly peer?: PeerLike;
  readonly protocol: string;
  readonly callId?: string | number | null;
  readonly #router: Router;
  #signal?: AbortSignal;

  constructor(router: Router, call: Call, signal: AbortSignal | undefined) {
    this.#router = router;
    this.method = call.method;
    this.caller = call.caller;
    this.deadline = call.deadline;
    this.#signal = signal;
    this.peer = call.peer;
    this.protocol = call.protocol ?? "local";
    this.callId = call.id;
  }

  /**
   * The call's own signal. A call that nothing can abort gets a fresh one on first use, never
   * a shared one: listeners a handler adds then die with its call instead of piling up.
   */
  get signal(): AbortSignal {
    return this.#signal ??= new AbortController().signal;
  }

  get client(): ClientLike {
    return this.#router.client;
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
  const result = await entry.handler(checkParams(entry, call.params) as never, ctx);
  return checkResult(entry, result);
}

function checkParams(entry: MethodEntry, params: unknown): Record<string, unknown> {
  try {
    return entry.checkParams(params);
  } catch (error) {
    if (error instanceof ValidationError) throw rpcError("InvalidParams", error.message);
    throw error;
  }
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

function compose(middleware: readonly Middleware[]): (inv: Invocation) => Promise<unknown> {
  return (inv) => {
    const step = (i: number): Promise<unknown> =>
      i === middleware.length ? runEntry(inv) : middleware[i](inv, () => step(i + 1));
    return step(0);
  };
}

function sameShape(a: InterfaceDef, b: InterfaceDef): boolean {
  const am = Object.keys(a.methods), bm = Object.keys(b.methods);
  return am.length === bm.length && am.every((m) => m in b.methods);
}
