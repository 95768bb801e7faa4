/**
 * Starting an isolated component: a Web Worker with the component's Deno permissions, or a
 * child process with the same grants as `deno run` flags and a heap limit; then loading
 * the component in it and waiting until it is ready (or failed, or too slow).
 *
 * @module
 */

import { ComponentError } from "../load/specifier.ts";
import { missingServerGrant } from "../grants/server_grants.ts";
import { denoPermissions, type WorkerPermissions } from "../grants/permissions.ts";
import { startProcess, type WorkerLike } from "./process_worker.ts";
import type { ExportedImplementation, FromWorker, LoadSource, ToWorker } from "./protocol.ts";
import { checkFromWorker } from "./from_component.ts";

/** How a component is isolated from the server. */
export type Sandbox = "worker" | "process";

/** What starting an isolated component needs. */
export interface SpawnOptions {
  /** A Web Worker (default) or a child process. */
  isolate?: Sandbox;
  /** What the component may access (default: nothing). */
  permissions?: WorkerPermissions;
  /** The heap limit of a component process, in MiB. */
  maxMemoryMb?: number;
  /** How long loading may take, in ms (default 30 000). */
  loadTimeout?: number;
  /** Send internal error details of the component to callers. */
  debug?: boolean;
}

/** A started worker or process and where its messages go. */
export interface Running {
  /** The worker (or the process behind the same interface). */
  worker: WorkerLike;
  /** Where the worker's messages go once it is ready. */
  onMessage(message: FromWorker): void;
  /** Where a message that failed the check goes (see from_component.ts). */
  onInvalid(kind: string, problem: string): void;
  /** Where an uncaught error of the worker goes (the host survives it). */
  onError(event: ErrorEvent): void;
  /** Liveness probes waiting for their pong. */
  probes: Map<number, () => void>;
}

const ENTRY = new URL("./worker_entry.ts", import.meta.url);

/**
 * Starts a worker (or a component process, with `isolate: "process"`) and loads the
 * component in it; resolves once it is ready.
 */
export function spawn(
  url: string,
  source: LoadSource,
  options: SpawnOptions,
): Promise<{ running: Running; exported: ExportedImplementation[]; specifier: string }> {
  let worker: WorkerLike;
  try {
    worker = options.isolate === "process"
      ? startProcess({
        name: `component process of ${url}`,
        permissions: options.permissions,
        maxMemoryMb: options.maxMemoryMb,
      })
      : new Worker(ENTRY, {
        type: "module",
        name: `component ${url}`,
        deno: { permissions: denoPermissions(options.permissions) },
      } as WorkerOptions);
  } catch (error) {
    if (options.isolate === "process") {
      throw new ComponentError(
        `cannot start a process for ${url}: ${error instanceof Error ? error.message : error}`,
      );
    }
    // A worker gets no permission its server lacks: say which one the server lacks
    // before blaming the unstable flag.
    const missing = missingServerGrant(options.permissions);
    throw new ComponentError(
      `cannot start a worker for ${url}: ${error instanceof Error ? error.message : error}` +
        (missing
          ? ` (this server process itself runs without ${missing}, and a worker can only be ` +
            `granted what its server has: start the server with ${missing} too, e.g. add it ` +
            `to the deno run command or task that starts it)`
          : ` (worker permissions need Deno's --unstable-worker-options)`),
    );
  }
  const running: Running = {
    worker,
    probes: new Map(),
    onMessage() {},
    onInvalid() {},
    onError() {},
  };
  return new Promise((resolve, reject) => {
    const fail = (message: string) => {
      clearTimeout(timer);
      worker.terminate();
      reject(new ComponentError(`cannot load component ${url} in a worker: ${message}`));
    };
    const timeout = options.loadTimeout ?? 30_000;
    const timer = setTimeout(
      () => fail(`it did not finish loading within ${timeout} ms`),
      timeout,
    );
    worker.onmessage = (event: MessageEvent) => {
      const checked = checkFromWorker(event.data);
      if (!checked.ok) return fail(`it sent ${checked.problem}`);
      const message = checked.message;
      if (message.type === "ready") {
        clearTimeout(timer);
        // Every message is checked before the host reads it: a component's own code can
        // post anything, and a throw here would end the host.
        worker.onmessage = (e: MessageEvent) => {
          const checked = checkFromWorker(e.data);
          if (checked.ok) running.onMessage(checked.message);
          else running.onInvalid(checked.kind, checked.problem);
        };
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault(); // an uncaught error in a component must not end the host
          running.onError(e);
        };
        resolve({ running, exported: message.implementations, specifier: message.specifier });
      } else if (message.type === "failed" || message.type === "crashed") {
        fail(message.message);
      } else if (message.type === "exited") {
        fail(`it ended its worker while loading (${endedBy(message)})`);
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      fail(event.message);
    };
    worker.postMessage(
      { type: "load", source, url, debug: options.debug ?? false } satisfies ToWorker,
    );
  });
}

/** How a component ended its worker, as its author wrote it. */
export function endedBy(message: Extract<FromWorker, { type: "exited" }>): string {
  return message.how === "close" ? "self.close()" : `Deno.exit(${message.code ?? ""})`;
}
