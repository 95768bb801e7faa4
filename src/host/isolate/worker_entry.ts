/**
 * The entry point of a component worker: reads the component's module graph with the
 * worker's own permissions (only the root module comes from the host), imports it as
 * data: URLs, serves its calls with a router of its own, and sends calls to other
 * interfaces back to the host.
 *
 * @module
 */

import { Router } from "../../core/router/router.ts";
import { Client } from "../../core/client/client.ts";
import type { OutgoingCall, Transport } from "../../core/client/transport.ts";
import type { Outcome, TraceCarrier } from "../../core/context.ts";
import { RpcError, unencodable } from "../../core/errors.ts";
import { dynamicImport } from "../load/dynamic_import.ts";
import { publishWorkerLibrary } from "./worker_library.ts";
import { usableImplementations } from "../load/implementations.ts";
import type { ExportedImplementation, FromWorker, LoadSource, ToWorker } from "./protocol.ts";
import { OpenStream } from "../../core/stream/open_stream.ts";
import { streamHandle } from "../../core/stream/table.ts";
import { componentStreams, fromFrame, isStreamFrame } from "./stream_link.ts";
import { bundleComponent } from "../load/bundle.ts";
import { readModule } from "../load/source.ts";
import { withoutSourceText } from "../load/module_bytes.ts";
import { ComponentError } from "../load/specifier.ts";
import {
  CALLER_DENIAL,
  grantAdvice,
  isPermissionError,
  operatorHint,
  parseDenial,
} from "../grants/permission_hint.ts";

interface WorkerScope {
  postMessage(message: FromWorker): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

/**
 * Calls from the component to other interfaces: answered by the host's router. Each call
 * carries the trace context of the call it is made in (`trace`), so the host continues it.
 */
class HostTransport implements Transport {
  /** Calls waiting for the host's reply, by id: one table for every copy. */
  readonly pending: Map<number, (outcome: Outcome) => void>;
  readonly #ids: { next: number };
  readonly #trace?: TraceCarrier;

  constructor(trace?: TraceCarrier, shared?: HostTransport) {
    this.#trace = trace;
    this.pending = shared?.pending ?? new Map();
    this.#ids = shared ? shared.#ids : { next: 0 };
  }

  /** The same transport, for the calls a handler makes while serving a call in `trace`. */
  within(trace: TraceCarrier): HostTransport {
    return new HostTransport(trace, this);
  }

  call(request: OutgoingCall): Promise<Outcome> {
    const id = ++this.#ids.next;
    const stream = request.stream === true;
    // Stream params (a typed proxy says which they are) go as handles of this worker's streams.
    const opened: number[] = [];
    const params = request.declared
      ? streams.paramsOut(request.method, request.params, request.declared, opened)
      : request.params;
    const names = opened.length === 0
      ? undefined
      : Object.keys(request.declared!).filter((name) =>
        streamHandle((params as Record<string, unknown>)[name]) !== undefined
      );
    return new Promise<Outcome>((resolve) => {
      // A streamed result the call asked for comes as a handle: read it item by item.
      this.pending.set(id, (outcome) => {
        const handle = stream && outcome.ok ? streamHandle(outcome.value) : undefined;
        resolve(
          handle === undefined
            ? outcome
            : { ok: true, value: streams.consume(handle, request.method) },
        );
      });
      try {
        scope.postMessage({
          type: "call",
          id,
          method: request.method,
          params,
          deadline: request.deadline,
          trace: request.trace ?? this.#trace,
          ...(stream ? { stream } : {}),
          ...(names ? { streams: names } : {}),
        });
      } catch (error) {
        this.pending.delete(id);
        streams.cancelProduced(
          opened,
          new RpcError(unencodable("the params", "a structured clone", error)),
        );
        throw error;
      }
      // The host stops the call too, and so does every hop after it.
      request.signal?.addEventListener("abort", () => {
        if (this.pending.delete(id)) scope.postMessage({ type: "cancel", id });
      }, { once: true });
    });
  }

  notify(request: OutgoingCall): Promise<void> {
    scope.postMessage({
      type: "notify",
      method: request.method,
      params: request.params,
      trace: request.trace ?? this.#trace,
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The streams between this worker and its host, both ways. */
const streams = componentStreams({
  post: (frame) => scope.postMessage(frame),
  label: () => "the host",
});
const transport = new HostTransport();
let router = makeRouter(false);

function makeRouter(debug: boolean): Router {
  const log = (level: "error" | "warn") => (message: string) =>
    scope.postMessage({ type: "log", level, message });
  const made = new Router({
    client: new Client(transport),
    // A handler's calls carry the trace context of the call it serves.
    clientFor: (ctx) => ctx.trace ? new Client(transport.within(ctx.trace)) : undefined,
    debug,
    logger: { error: log("error"), warn: log("warn") },
  });
  // Refused access is the deployment's decision, not a bug of the component nor the
  // caller's fault: the operator's log says which access and where to grant it; the
  // caller learns only that access was denied (what and where is not theirs to know).
  made.use(async (inv, next) => {
    try {
      return await next();
    } catch (error) {
      if (isPermissionError(error)) {
        log("warn")(`${inv.call.method}: ${operatorHint(error.message, componentUrl)}`);
        throw new RpcError({ code: -32007, name: "PermissionDenied", message: CALLER_DENIAL });
      }
      throw error;
    }
  });
  return made;
}

const running = new Map<number, AbortController>();

// An uncaught error leaves the component in an unknown state: report it (instead of
// letting the runtime print it and end the worker) so the host replaces the worker.
const crashed = (event: Event, error: unknown) => {
  event.preventDefault();
  scope.postMessage({
    type: "crashed",
    message: `Uncaught ${error instanceof Error ? `${error.name}: ${error.message}` : error}`,
  });
};
globalThis.addEventListener("error", (event) => crashed(event, event.error));
// A worker that ends itself ends without a word to the host, which would learn of it only
// when its calls time out: tell the host first (the component cannot reach the originals).
const selfClose = (globalThis as { close?: () => void }).close;
if (typeof selfClose === "function") {
  (globalThis as { close?: () => void }).close = () => {
    scope.postMessage({ type: "exited", how: "close" });
    selfClose.call(globalThis);
  };
}
const denoExit = Deno.exit;
Deno.exit = (code?: number): never => {
  scope.postMessage({
    type: "exited",
    how: "exit",
    ...(Number.isSafeInteger(code) ? { code } : {}),
  });
  return denoExit(code);
};
globalThis.addEventListener("unhandledrejection", (event) => crashed(event, event.reason));
let componentUrl = "component";

scope.addEventListener("message", (event) => {
  const message = event.data;
  if (isStreamFrame(message)) return streams.receive(fromFrame(message));
  switch (message.type) {
    case "load":
      componentUrl = message.url;
      router = makeRouter(message.debug);
      load(message.source, message.url);
      break;
    case "call":
      call(message);
      break;
    case "cancel":
      running.get(message.id)?.abort();
      break;
    case "ping":
      scope.postMessage({ type: "pong", id: message.id });
      break;
    case "reply": {
      const pending = transport.pending.get(message.id);
      transport.pending.delete(message.id);
      if (pending) pending(message.outcome);
      else {
        // An answer nobody awaits: a stream it opened is not read.
        const handle = message.outcome.ok ? streamHandle(message.outcome.value) : undefined;
        if (handle !== undefined) streams.refuse(handle);
      }
      break;
    }
  }
});

/**
 * The component's graph as data: URLs, read here so that every import is subject to this
 * worker's grants exactly as its own reads are (symlinks, `..` and redirects included:
 * Deno checks the path it opens and every redirect hop of a fetch).
 */
async function bundle(source: LoadSource, url: string): Promise<string> {
  if ("specifier" in source) return source.specifier;
  const root = source.root;
  const bundled = await bundleComponent(new URL(url), {
    allowInsecureHttp: source.allowInsecureHttp,
    library: () => source.library,
    read: (pinned, options) =>
      pinned.href === url
        ? Promise.resolve({ url: new URL(root.url), bytes: root.bytes, mediaType: root.mediaType })
        : readModule(pinned, options),
  });
  return bundled.specifier;
}

/** Why loading failed, with the grant to add when a permission was missing. */
function loadFailure(error: unknown, url: string): string {
  const message = withoutSourceText(error instanceof Error ? error.message : String(error));
  const denied = isPermissionError(error)
    ? error
    : error instanceof ComponentError && isPermissionError(error.cause)
    ? error.cause
    : undefined;
  const denial = denied && parseDenial(denied.message);
  if (!denial) return message;
  const what = error instanceof ComponentError
    ? `${
      message.replace(/, run again with.*$/s, "")
    } (a worker component imports only what it may read or fetch itself)`
    : denial.detail;
  return `${what}${grantAdvice(denial, url)}`;
}

async function load(source: LoadSource, url: string) {
  try {
    publishWorkerLibrary(); // what the component's imports of Switchboard resolve to
    const specifier = await bundle(source, url);
    const module = await dynamicImport(specifier);
    const impls = usableImplementations(url, module);
    const exported: ExportedImplementation[] = [];
    for (const impl of impls) {
      router.register(impl);
      exported.push({
        iface: impl.interface,
        domain: impl.options.domain,
        concurrency: impl.options.concurrency,
        queue: impl.options.queue,
        ...(impl.options.once ? { once: true } : {}),
      });
    }
    scope.postMessage({ type: "ready", implementations: exported, specifier });
  } catch (error) {
    scope.postMessage({ type: "failed", message: loadFailure(error, url) });
  }
}

async function call(message: Extract<ToWorker, { type: "call" }>) {
  // Tells the host the call has begun: calls never begun may be re-sent to a new worker.
  scope.postMessage({ type: "started", id: message.id });
  const controller = new AbortController();
  running.set(message.id, controller);
  // Stream params come as handles: the handler reads them from the host item by item.
  const names = router.resolve(message.method, message.caller)?.streamParams;
  let outcome = await router.dispatch({
    method: message.method,
    params: names ? streams.paramsIn(message.method, message.params, names) : message.params,
    ...(message.stream ? { stream: true } : {}),
    deadline: message.deadline,
    caller: message.caller,
    protocol: message.protocol,
    signal: controller.signal,
    ...(message.trace ? { trace: message.trace } : {}),
  });
  running.delete(message.id);
  if (outcome.ok && outcome.value instanceof OpenStream) outcome = streams.produce(outcome.value);
  try {
    scope.postMessage({ type: "result", id: message.id, outcome });
  } catch (error) {
    scope.postMessage({
      type: "result",
      id: message.id,
      outcome: {
        ok: false,
        error: unencodable(`the result of ${message.method}`, "a structured clone", error),
      },
    });
  }
}
