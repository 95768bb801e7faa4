/**
 * Worker placement: a component runs in a Web Worker with its own Deno permissions
 * (nothing by default). The host registers stand-in implementations whose handlers carry
 * each call across the worker boundary, so callers cannot tell the difference — except
 * that a component that hangs or crashes cannot take the server down: a call past its
 * deadline fails with `Timeout`, a worker that stops answering is terminated (its other
 * calls fail with `Unavailable`) and a fresh one serves the next call.
 *
 * @module
 */

import { PendingCalls } from "../../core/pending.ts";
import { callTracing } from "../../core/client/tracing_hook.ts";
import type { ClientLike, Identity, Outcome } from "../../core/context.ts";
import { RpcError, rpcError } from "../../core/errors.ts";
import { type Handlers, implement, type Implementation } from "../../core/implement.ts";
import type { Logger } from "../../core/router/router.ts";
import type { CallContext, TraceCarrier } from "../../core/context.ts";
import { readModule } from "../load/source.ts";
import { librarySpecifier } from "../load/library.ts";
import { ComponentError, componentUrl } from "../load/specifier.ts";
import type { WorkerPermissions } from "../grants/permissions.ts";
import { endedBy, type Running, type Sandbox, spawn } from "./worker_spawn.ts";
import type {
  ExportedImplementation,
  FromWorker,
  RootModule,
  StreamFrame,
  ToWorker,
} from "./protocol.ts";
import type { MethodDef } from "../../core/idl/interface.ts";
import { answerOf, outgoingCall } from "./outgoing.ts";
import { streamHandle, type StreamTable } from "../../core/stream/table.ts";
import { componentStreams, fromFrame, isStreamFrame } from "./stream_link.ts";

export type { Grant, WorkerPermissions } from "../grants/permissions.ts";

/** Options of {@linkcode WorkerComponent.start}. */
export interface WorkerComponentOptions {
  /**
   * `worker` (default): a Web Worker in this process. `process`: a child process, whose
   * heap is bounded by `maxMemoryMb`, so a component that exhausts it ends only itself.
   */
  isolate?: Sandbox;
  /** A component process's V8 heap limit in MiB (default 256). */
  maxMemoryMb?: number;
  /** What the component may access (default: nothing). */
  permissions?: WorkerPermissions;
  /** Allow plain http: module URLs. */
  allowInsecureHttp?: boolean;
  /** The longest a call may run in the worker, in ms (default 30 000). */
  deadline?: number;
  /** How long a worker may take to answer a liveness probe, in ms (default 1000). */
  probeTimeout?: number;
  /** How long loading may take, in ms (default 30 000). */
  loadTimeout?: number;
  /** Where the component's calls to other interfaces go (usually the server's client). */
  client?: () => ClientLike;
  /** Send internal error details of the component to callers (like a server's `debug`). */
  debug?: boolean;
  /** Where restarts, crashes and the component's internal errors are reported. */
  logger?: Logger;
  /** Where relative paths are resolved from (default: the working directory). */
  base?: string | URL;
}

interface Pending {
  method: string;
  /** The call asked for its result item by item: a handle is read as a stream. */
  stream: boolean;
  /** Whether the worker began running it (calls never begun are safe to re-send). */
  started: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/** The most kinds of invalid message logged per component (the kinds are a fixed set). */
const MAX_REPORTED = 64;

/**
 * Rejection of calls the worker never began, so that they go to its replacement; `error`
 * is why the worker went, for when the call is not sent again.
 */
class Resend {
  constructor(readonly error: RpcError) {}
}

/**
 * How many workers a call is sent to at most. A call that ends its worker before the host
 * hears it began (a component process writes its "started" frame after the call's own
 * synchronous work) would otherwise go to replacement after replacement forever.
 */
const MAX_SENDS = 3;

/**
 * A component running in a Web Worker. Register {@linkcode WorkerComponent.implementations}
 * with a router; {@linkcode WorkerComponent.close} terminates the worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerComponent } from "@switchboard/rpc/deploy";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/echo.ts`;
 * await Deno.writeTextFile(
 *   file,
 *   `import { defineInterface, implement, method, t } from "@switchboard/rpc";
 *   const Echo = defineInterface("Echo", {
 *     echo: method({ params: { text: t.string }, result: t.string }),
 *   });
 *   export default implement(Echo, { echo: ({ text }) => text });`,
 * );
 * const server = new Server();
 * const echo = await WorkerComponent.start(file, {
 *   permissions: { net: ["db.internal:5432"] },
 *   client: () => server.router.client,
 * });
 * server.register(...echo.implementations);
 * const outcome = await server.router.dispatch({ method: "Echo.echo", params: ["hi"] });
 * assert.ok(outcome.ok && outcome.value === "hi");
 * await echo.close();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class WorkerComponent {
  /** The component's URL. */
  readonly url: string;
  /** Stand-ins to register with a router; each call runs in the worker. */
  readonly implementations: Implementation[];
  readonly #specifier: string;
  readonly #options: WorkerComponentOptions;
  readonly #logger: Logger;
  readonly #exported: ExportedImplementation[];
  readonly #pending = new PendingCalls<Pending>();
  /** The calls each running worker made through the host, by the worker's id: its cancels. */
  readonly #calls = new WeakMap<Running, Map<number, AbortController>>();
  /** The streams between the host and each running worker, both ways. */
  readonly #streams = new WeakMap<Running, StreamTable<StreamFrame>>();
  #running?: Running;
  #starting?: Promise<Running>;
  #nextProbe = 0;
  #restarts = 0;
  #closed = false;
  /** The kinds of invalid message already logged. */
  readonly #reported = new Set<string>();
  /** Set while a liveness probe runs: new calls wait for its verdict. */
  #suspect?: Promise<void>;

  private constructor(
    url: string,
    specifier: string,
    running: Running,
    exported: ExportedImplementation[],
    options: WorkerComponentOptions,
  ) {
    this.url = url;
    this.#specifier = specifier;
    this.#running = running;
    this.#exported = exported;
    this.#options = options;
    this.#logger = options.logger ?? {
      error: (m) => console.error(m),
      warn: (m) => console.warn(m),
    };
    this.implementations = exported.map((e) => this.#standIn(e));
  }

  /**
   * Reads the component's root module, starts a worker with the given permissions, has
   * it read the rest of the module graph with those permissions (what the worker may not
   * read, it cannot import), load the component, and resolves once it is ready.
   */
  static async start(
    spec: string | URL,
    options: WorkerComponentOptions = {},
  ): Promise<WorkerComponent> {
    const url = componentUrl(spec, options.base);
    const allowInsecureHttp = options.allowInsecureHttp ?? false;
    let root: RootModule;
    try {
      const source = await readModule(url, { allowInsecureHttp });
      root = { url: source.url.href, bytes: source.bytes, mediaType: source.mediaType };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ComponentError(
        message.includes(url.href) ? message : `cannot load component ${url.href}: ${message}`,
      );
    }
    const { running, exported, specifier } = await spawn(url.href, {
      root,
      library: librarySpecifier(),
      allowInsecureHttp,
    }, options);
    const component = new WorkerComponent(url.href, specifier, running, exported, options);
    component.#attach(running);
    return component;
  }

  /** How many times the worker was replaced after hanging or crashing. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Terminates the worker; calls still running fail with `Unavailable`. */
  close(): Promise<void> {
    this.#closed = true;
    this.#stop(rpcError("Unavailable", `worker component ${this.url} was closed`));
    return Promise.resolve();
  }

  #standIn(exported: ExportedImplementation): Implementation {
    const handlers: Record<string, (params: unknown, ctx: CallContext) => Promise<unknown>> = {};
    for (const [name, def] of Object.entries(exported.iface.methods)) {
      const method = `${exported.iface.name}.${name}`;
      handlers[name] = (params, ctx) => this.#call(method, def, params, ctx);
    }
    return implement(exported.iface, handlers as Handlers<typeof exported.iface>, {
      domain: exported.domain,
      concurrency: exported.concurrency,
      queue: exported.queue,
      ...(exported.once ? { once: true } : {}),
    });
  }

  async #call(
    method: string,
    def: MethodDef,
    params: unknown,
    ctx: CallContext,
  ): Promise<unknown> {
    for (let sends = 1;; sends++) {
      const running = await this.#ensureRunning();
      // The worker's own bound counts from when the call reaches it.
      const limit = Date.now() + (this.#options.deadline ?? 30_000);
      const deadline = Math.min(ctx.deadline ?? limit, limit);
      const opened: number[] = [];
      try {
        return await this.#send(running, method, def, params, ctx, deadline, opened);
      } catch (error) {
        // The worker was replaced before it began this call: send it to the new one,
        // unless its stream params went with the old one.
        if (!(error instanceof Resend)) throw error;
        if (sends >= MAX_SENDS || opened.length !== 0) throw error.error;
      }
    }
  }

  #send(
    running: Running,
    method: string,
    def: MethodDef,
    params: unknown,
    ctx: CallContext,
    deadline: number,
    opened: number[],
  ): Promise<unknown> {
    if (ctx.signal.aborted) {
      // The caller gave up while the worker was being replaced.
      return Promise.reject(
        ctx.signal.reason instanceof RpcError
          ? ctx.signal.reason
          : rpcError("Cancelled", `${method} was cancelled`),
      );
    }
    return new Promise((resolve, reject) => {
      let id = 0;
      const stop = (error: RpcError) => {
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#settle(id);
        pending.reject(error);
        this.#post(running, { type: "cancel", id });
        // A worker that cannot even answer a ping is stuck (e.g. in a busy loop).
        this.#probe(running, method);
      };
      const timer = setTimeout(
        () =>
          stop(
            rpcError("Timeout", `${method} exceeded its deadline in worker component ${this.url}`),
          ),
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () =>
        stop(
          ctx.signal.reason instanceof RpcError
            ? ctx.signal.reason
            : rpcError("Cancelled", `${method} was cancelled`),
        );
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const stream = def.result.kind === "stream";
      const streams = this.#streams.get(running);
      // Stream params travel as handles of streams the host produces into the worker.
      let sent = params;
      try {
        if (streams) sent = streams.paramsOut(method, params, def.params, opened);
      } catch (error) {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
        return reject(error);
      }
      id = this.#pending.add({
        method,
        stream,
        started: false,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          ctx.signal.removeEventListener("abort", onAbort);
        },
      });
      this.#post(running, {
        type: "call",
        id,
        method,
        params: sent,
        deadline,
        ...(stream ? { stream } : {}),
        caller: cloneableIdentity(ctx.caller),
        protocol: ctx.protocol,
        // The host's span of this call when tracing, else the caller's context as is.
        trace: callTracing()?.current() ?? ctx.trace,
      });
    });
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.take(id);
    pending?.cleanup();
    return pending;
  }

  #post(running: Running, message: ToWorker): void {
    if (this.#running !== running) return;
    try {
      running.worker.postMessage(message);
    } catch (error) {
      if (message.type !== "call") return;
      const opened = streamHandles(message.params);
      if (opened.length !== 0) {
        this.#streams.get(running)?.cancelProduced(
          opened,
          rpcError("InvalidParams", `params of ${message.method} cannot cross into the worker`),
        );
      }
      this.#settle(message.id)?.reject(
        rpcError(
          "InvalidParams",
          `params of ${message.method} cannot cross into the worker: ${
            error instanceof Error ? error.message : error
          }`,
        ),
      );
    }
  }

  #probe(running: Running, method: string): void {
    if (this.#suspect || this.#running !== running) return;
    const id = ++this.#nextProbe;
    const timeout = this.#options.probeTimeout ?? 1000;
    this.#suspect = new Promise<void>((verdict) => {
      const timer = setTimeout(() => {
        running.probes.delete(id);
        this.#suspect = undefined;
        verdict();
        if (this.#running !== running) return;
        const reason = `worker component ${this.url} stopped responding after ${method} ` +
          `overran its deadline; the worker was restarted`;
        this.#logger.warn(reason);
        this.#stop(rpcError("Unavailable", reason));
      }, timeout);
      running.probes.set(id, () => {
        clearTimeout(timer);
        this.#suspect = undefined;
        verdict();
      });
    });
    this.#post(running, { type: "ping", id });
  }

  /** Terminates the current worker and fails its calls; the next call starts a new one. */
  #stop(error: RpcError): void {
    const running = this.#running;
    this.#running = undefined;
    if (running) {
      running.worker.terminate();
      // Its streams end with it: readers fail after the items they got, never a normal end.
      this.#streams.get(running)?.close(error);
      for (const resolve of running.probes.values()) resolve();
      running.probes.clear();
    }
    for (const [, pending] of this.#pending.takeAll()) {
      pending.cleanup();
      pending.reject(pending.started || this.#closed ? error : new Resend(error));
    }
  }

  async #ensureRunning(): Promise<Running> {
    // A worker under suspicion of hanging gets no new calls until the probe decides.
    if (this.#suspect) await this.#suspect;
    if (this.#closed) {
      return Promise.reject(rpcError("Unavailable", `worker component ${this.url} was closed`));
    }
    if (this.#running) return this.#running;
    this.#starting ??= (async () => {
      try {
        const started = await spawn(this.url, { specifier: this.#specifier }, this.#options);
        const running = started.running;
        if (!sameInterfaces(started.exported, this.#exported)) {
          running.worker.terminate();
          throw new Error("its interfaces changed");
        }
        if (this.#closed) {
          running.worker.terminate();
          throw new Error("it was closed");
        }
        this.#restarts++;
        this.#attach(running);
        this.#running = running;
        return running;
      } catch (error) {
        throw rpcError(
          "Unavailable",
          `worker component ${this.url} could not be restarted: ${
            error instanceof Error ? error.message : error
          }`,
        );
      } finally {
        this.#starting = undefined;
      }
    })();
    return await this.#starting;
  }

  #attach(running: Running): void {
    this.#streams.set(
      running,
      componentStreams({
        post: (frame) => {
          if (this.#running === running) running.worker.postMessage(frame);
        },
        label: () => `worker component ${this.url}`,
        violation: (problem) =>
          this.#invalid("stream", `a stream that broke the protocol (${problem})`, running),
      }),
    );
    running.onMessage = (message) => this.#onMessage(message, running);
    running.onInvalid = (kind, problem) => this.#invalid(kind, problem, running);
    running.onError = (event) => this.#onError(event);
  }

  #onMessage(message: FromWorker, running: Running): void {
    if (this.#running !== running) return;
    if (isStreamFrame(message)) {
      this.#streams.get(running)?.receive(fromFrame(message));
      return;
    }
    switch (message.type) {
      case "result": {
        const pending = this.#settle(message.id);
        const outcome = message.outcome;
        const handle = outcome.ok ? streamHandle(outcome.value) : undefined;
        if (!pending) {
          // Nobody waits for it any more (cancelled, past its deadline): nor for its stream.
          if (handle !== undefined) this.#streams.get(running)?.refuse(handle);
          return;
        }
        if (!outcome.ok) pending.reject(RpcError.fromShape(outcome.error));
        else if (pending.stream && handle !== undefined) {
          pending.resolve(this.#streams.get(running)!.consume(handle, pending.method));
        } else pending.resolve(outcome.value);
        break;
      }
      case "started": {
        const pending = this.#pending.get(message.id);
        if (pending) pending.started = true;
        break;
      }
      case "crashed":
        this.#crashed(message.message);
        break;
      case "log":
        this.#logger[message.level](message.message);
        break;
      case "pong":
        running.probes.get(message.id)?.();
        running.probes.delete(message.id);
        break;
      case "call":
        this.#outgoing(running, message);
        break;
      case "cancel":
        this.#calls.get(running)?.get(message.id)?.abort(
          rpcError("Cancelled", `the worker component ${this.url} cancelled the call`),
        );
        break;
      case "notify": {
        const client = this.#client();
        if (!client) break;
        within(message.trace, () => client.notify(message.method, message.params)).catch(() => {});
        break;
      }
      case "exited": {
        // Nothing else tells the host that a worker ended itself: say so and replace it now
        // rather than when its calls time out.
        const reason = `worker component ${this.url} ended its worker (${endedBy(message)}); ` +
          `a fresh worker serves the next call`;
        this.#logger.warn(reason);
        this.#stop(rpcError("Unavailable", reason));
        break;
      }
      case "ready":
      case "failed":
        // A second one (which only a component's own code sends) changes nothing.
        break;
    }
  }

  /**
   * A message that failed the check: only the component's own code sends one (the entry
   * never does), so the worker is not to be trusted further and is replaced. Each kind of
   * problem is logged once per component, so a component cannot flood the log.
   */
  #invalid(kind: string, problem: string, running: Running): void {
    if (this.#running !== running) return;
    const reason = `worker component ${this.url} sent ${problem}; the worker was restarted`;
    if (!this.#reported.has(kind) && this.#reported.size < MAX_REPORTED) {
      this.#reported.add(kind);
      this.#logger.error(`${reason} (further messages of this kind are not logged)`);
    }
    this.#stop(rpcError("Unavailable", reason));
  }

  async #outgoing(running: Running, message: Extract<FromWorker, { type: "call" }>) {
    const client = this.#client();
    let calls = this.#calls.get(running);
    if (!calls) this.#calls.set(running, calls = new Map());
    const controller = new AbortController();
    calls.set(message.id, controller);
    let outcome: Outcome;
    if (!client) {
      outcome = {
        ok: false,
        error: rpcError("Unavailable", `worker component ${this.url} has no client`).toShape(),
      };
    } else {
      try {
        const timeout = message.deadline === undefined
          ? undefined
          : Math.max(1, message.deadline - Date.now());
        // The worker's call continues the trace of the call it was made in.
        const streams = this.#streams.get(running);
        const value = await within(
          message.trace,
          () =>
            outgoingCall(client, message, streams, {
              timeout,
              signal: controller.signal,
              ...(message.trace ? { trace: message.trace } : {}),
              ...(message.stream ? { stream: true } : {}),
            }),
        );
        outcome = answerOf(message, value, streams);
      } catch (error) {
        outcome = {
          ok: false,
          error: (error instanceof RpcError ? error : rpcError(
            "InternalError",
            error instanceof Error ? error.message : String(error),
          )).toShape(),
        };
      }
    }
    calls.delete(message.id);
    this.#post(running, { type: "reply", id: message.id, outcome });
  }

  #client(): ClientLike | undefined {
    return this.#options.client?.();
  }

  #onError(event: ErrorEvent): void {
    this.#crashed(event.message);
  }

  #crashed(message: string): void {
    if (!this.#running) return;
    const reason = `worker component ${this.url} crashed: ${message}; the worker was restarted`;
    this.#logger.error(reason);
    this.#stop(rpcError("Unavailable", reason));
  }
}

function sameInterfaces(a: ExportedImplementation[], b: ExportedImplementation[]): boolean {
  const key = (e: ExportedImplementation) =>
    `${e.iface.name}/${e.domain ?? ""}/${Object.keys(e.iface.methods).join(",")}`;
  return a.length === b.length && a.every((e, i) => key(e) === key(b[i]));
}

function cloneableIdentity(caller: Identity | undefined): Identity | undefined {
  if (!caller) return undefined;
  try {
    return structuredClone(caller);
  } catch {
    return { id: caller.id, roles: caller.roles };
  }
}

/** Runs `fn` with `trace` as the active parent, when tracing is installed. */
function within<T>(trace: TraceCarrier | undefined, fn: () => T): T {
  const tracing = callTracing();
  return tracing && trace ? tracing.within(trace, fn) : fn();
}

/** The stream handles among a call's params (by name). */
function streamHandles(params: unknown): number[] {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return [];
  const ids: number[] = [];
  for (const value of Object.values(params)) {
    const id = streamHandle(value);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}
