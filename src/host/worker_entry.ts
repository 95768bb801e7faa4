/**
 * The entry point of a component worker: imports the component (a data: URL prepared by
 * the host, so the worker needs no read or network access to load it), serves its calls
 * with a router of its own, and sends calls to other interfaces back to the host.
 *
 * @module
 */

import { Router } from "../core/router/router.ts";
import { Client } from "../core/client/client.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import type { Outcome } from "../core/context.ts";
import { RpcError } from "../core/errors.ts";
import { dynamicImport } from "./dynamic_import.ts";
import { publishWorkerLibrary } from "./worker_library.ts";
import { usableImplementations } from "./implementations.ts";
import type { ExportedImplementation, FromWorker, ToWorker } from "./protocol.ts";

interface WorkerScope {
  postMessage(message: FromWorker): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

/** Calls from the component to other interfaces: answered by the host's router. */
class HostTransport implements Transport {
  #next = 0;
  readonly pending = new Map<number, (outcome: Outcome) => void>();

  call(request: OutgoingCall): Promise<Outcome> {
    const id = ++this.#next;
    return new Promise<Outcome>((resolve) => {
      this.pending.set(id, resolve);
      scope.postMessage({
        type: "call",
        id,
        method: request.method,
        params: request.params,
        deadline: request.deadline,
      });
      request.signal?.addEventListener("abort", () => this.pending.delete(id), { once: true });
    });
  }

  notify(request: OutgoingCall): Promise<void> {
    scope.postMessage({ type: "notify", method: request.method, params: request.params });
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const transport = new HostTransport();
let router = makeRouter(false);

function makeRouter(debug: boolean): Router {
  const log = (level: "error" | "warn") => (message: string) =>
    scope.postMessage({ type: "log", level, message });
  const made = new Router({
    client: new Client(transport),
    debug,
    logger: { error: log("error"), warn: log("warn") },
  });
  // Refused access is the deployment's decision, not a bug of the component: say which
  // access and how to grant it, whatever the debug setting.
  made.use(async (_inv, next) => {
    try {
      return await next();
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        throw new RpcError({
          code: -32002,
          name: "PermissionDenied",
          message: `${componentUrl} was denied: ${
            error.message.replace(/, run again with.*$/, "")
          } (grant it to the worker with --allow-read/--allow-net/… after its --component)`,
        });
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
globalThis.addEventListener("unhandledrejection", (event) => crashed(event, event.reason));
let componentUrl = "component";

scope.addEventListener("message", (event) => {
  const message = event.data;
  switch (message.type) {
    case "load":
      componentUrl = message.url;
      router = makeRouter(message.debug);
      load(message.specifier, message.url);
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
    case "reply":
      transport.pending.get(message.id)?.(message.outcome);
      transport.pending.delete(message.id);
      break;
  }
});

async function load(specifier: string, url: string) {
  try {
    publishWorkerLibrary(); // what the component's imports of Switchboard resolve to
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
      });
    }
    scope.postMessage({ type: "ready", implementations: exported });
  } catch (error) {
    scope.postMessage({
      type: "failed",
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

async function call(message: Extract<ToWorker, { type: "call" }>) {
  // Tells the host the call has begun: calls never begun may be re-sent to a new worker.
  scope.postMessage({ type: "started", id: message.id });
  const controller = new AbortController();
  running.set(message.id, controller);
  const outcome = await router.dispatch({
    method: message.method,
    params: message.params,
    deadline: message.deadline,
    caller: message.caller,
    protocol: message.protocol,
    signal: controller.signal,
  });
  running.delete(message.id);
  try {
    scope.postMessage({ type: "result", id: message.id, outcome });
  } catch (error) {
    scope.postMessage({
      type: "result",
      id: message.id,
      outcome: {
        ok: false,
        error: {
          code: -32603,
          name: "InternalError",
          message: `${message.method} returned a value that cannot leave the worker: ${
            error instanceof Error ? error.message : error
          }`,
        },
      },
    });
  }
}
