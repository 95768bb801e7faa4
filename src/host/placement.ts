/**
 * Placement of components: each is loaded inline (in this isolate) or in a worker with
 * its own permissions. Used by `switchboard serve` and by deployments.
 *
 * @module
 */

import type { ClientLike } from "../core/context.ts";
import type { Implementation } from "../core/implement.ts";
import type { Logger } from "../core/router/router.ts";
import {
  ComponentError,
  componentUrl,
  describeKey,
  implementationKey,
  loadComponent,
  loadedLine,
  type LoaderMode,
} from "./load/loader.ts";
import { WorkerComponent, type WorkerPermissions } from "./isolate/worker.ts";

/** How long a component may take to load by default, in ms. */
export const DEFAULT_LOAD_TIMEOUT = 30_000;

/** Where a component runs: this isolate, a Web Worker, or a child process. */
export type Isolation = "inline" | "worker" | "process";

/** One component to load and where to run it. */
export interface ComponentSpec {
  /** Module URL or path; may carry an integrity pin (`#sha256-…`). */
  url: string;
  /** `inline` (default), `worker` or `process`. */
  isolate?: Isolation;
  /** Heap limit of a `process` component, in MiB (default 256). */
  maxMemoryMb?: number;
  /** Loader of inline components (default `auto`); worker components always bundle. */
  loader?: LoaderMode;
  /** Allow plain http: module URLs. */
  allowInsecureHttp?: boolean;
  /** Permissions of a worker component (default: none). */
  permissions?: WorkerPermissions;
  /** The longest a call may run in a worker component, in ms (default 30 000). */
  deadline?: number;
  /**
   * How long loading may take, in ms (default 30 000): a component whose top-level code
   * never settles fails the load with its URL, rather than leave the server without
   * listeners and without a word.
   */
  loadTimeout?: number;
}

/** Options of {@linkcode loadComponents}. */
export interface PlacementOptions {
  /** The client worker components use for calls to other interfaces. */
  client?: () => ClientLike;
  /** Where worker restarts and worker components' internal errors are reported. */
  logger?: Logger;
  /** Worker components send internal error details to callers (a server's `debug`). */
  debug?: boolean;
  /** Where relative paths are resolved from (default: the working directory). */
  base?: string | URL;
}

/** One placed component. */
export interface PlacedComponent {
  /** Its URL. */
  url: string;
  /** Where it runs. */
  isolate: Isolation;
  /** The implementations to register (stand-ins for worker components). */
  implementations: Implementation[];
  /** The worker, for worker components. */
  worker?: WorkerComponent;
}

/** Components loaded and placed. */
export interface PlacedComponents {
  /** Each component, in the order given. */
  components: PlacedComponent[];
  /** Every implementation, ready for `router.register`. */
  implementations: Implementation[];
  /** One line per implementation: `loaded Search (3 methods) from URL [in a worker]`. */
  report: string[];
  /** Stops the workers. */
  close(): Promise<void>;
}

/**
 * Loads components and places them inline or in workers. Fails (after stopping any
 * worker it started) if a component cannot be loaded or two components implement the
 * same interface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadComponents } from "@switchboard/rpc/deploy";
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
 * const placed = await loadComponents([{ url: file, isolate: "worker" }], {
 *   client: () => server.router.client,
 * });
 * server.register(...placed.implementations);
 * assert.match(placed.report[0], /^loaded Echo \(1 method\) from file:.* in a worker$/);
 * const outcome = await server.router.dispatch({ method: "Echo.echo", params: ["hi"] });
 * assert.ok(outcome.ok && outcome.value === "hi");
 *
 * // One interface, one owner: a second copy of the component is refused.
 * await assert.rejects(loadComponents([{ url: file }, { url: file }]), /Echo/);
 * await placed.close();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadComponents(
  specs: readonly ComponentSpec[],
  options: PlacementOptions = {},
): Promise<PlacedComponents> {
  const components: PlacedComponent[] = [];
  const close = async () => {
    await Promise.all(components.map((c) => c.worker?.close()));
  };
  try {
    for (const spec of specs) components.push(await place(spec, options));
    const owners = new Map<string, string>();
    for (const component of components) {
      for (const impl of component.implementations) {
        const key = implementationKey(impl);
        const other = owners.get(key);
        if (other !== undefined) {
          throw new ComponentError(
            `${describeKey(impl)} is implemented by both ${other} and ${component.url}`,
          );
        }
        owners.set(key, component.url);
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    components,
    implementations: components.flatMap((c) => c.implementations),
    report: components.flatMap((c) =>
      c.implementations.map((impl) =>
        loadedLine(
          impl,
          c.url,
          c.isolate === "worker" ? "in a worker" : c.isolate === "process" ? "in a process" : "",
        )
      )
    ),
    close,
  };
}

async function place(spec: ComponentSpec, options: PlacementOptions): Promise<PlacedComponent> {
  const isolate = spec.isolate ?? "inline";
  if (isolate !== "inline") {
    const worker = await WorkerComponent.start(spec.url, {
      isolate,
      maxMemoryMb: spec.maxMemoryMb,
      permissions: spec.permissions,
      allowInsecureHttp: spec.allowInsecureHttp,
      deadline: spec.deadline,
      loadTimeout: spec.loadTimeout,
      client: options.client,
      logger: options.logger,
      debug: options.debug,
      base: options.base,
    });
    return {
      url: worker.url,
      isolate,
      implementations: worker.implementations,
      worker,
    };
  }
  const loaded = await withinLoadTimeout(
    componentUrl(spec.url, options.base).href,
    spec.loadTimeout ?? DEFAULT_LOAD_TIMEOUT,
    loadComponent(spec.url, {
      loader: spec.loader,
      allowInsecureHttp: spec.allowInsecureHttp,
      base: options.base,
    }),
  );
  return { url: loaded.url, isolate: "inline", implementations: loaded.implementations };
}

/**
 * Gives up on an inline load after `ms`. The import itself cannot be stopped (it runs in
 * this isolate), so the server is not to start: the caller reports and exits.
 */
async function withinLoadTimeout<T>(url: string, ms: number, load: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new ComponentError(
          `cannot load component ${url}: it did not finish loading within ${ms} ms (its ` +
            `top-level code has not settled; --load-timeout sets the limit)`,
        ),
      ), ms);
  });
  try {
    return await Promise.race([load, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
