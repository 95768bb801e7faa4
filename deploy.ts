/**
 * Process-agnostic deployments: components loaded by URL (inline or in a sandboxed
 * worker), and the client a deployment's processes use to reach every interface wherever it
 * runs. The `switchboard deploy` command (`@switchboard/rpc/cli`) runs deployment files.
 *
 * @example Route one interface to a local router and everything else over the network
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Router } from "@switchboard/rpc/server";
 * import { MultiClient } from "@switchboard/rpc/deploy";
 *
 * const Clock = defineInterface("Clock", { year: method({ result: t.int }) });
 * const local = new Router().register(implement(Clock, { year: () => 2026 }));
 * const client = new MultiClient({ local, routes: {} });
 * assert.equal(await client.proxy(Clock).year(), 2026);
 * await client.close();
 * ```
 *
 * @module
 */

import "./src/adapters/deno/all_transports.ts";
import * as main from "./mod.ts";
import * as xmlrpc from "./xmlrpc.ts";
import * as tcp from "./tcp.ts";
import * as amqp from "./amqp.ts";
import * as server from "./server.ts";
import * as deploy from "./deploy.ts";
import { provideLibrary } from "./src/host/load/library.ts";

// What the components this program loads get when they import Switchboard: this copy of
// every entry point (provided from here, the top, so that the loader imports none of them).
provideLibrary({
  ".": main,
  "./xmlrpc": xmlrpc,
  "./tcp": tcp,
  "./amqp": amqp,
  "./server": server,
  "./deploy": deploy,
}, import.meta.url);

export { MultiClient } from "./src/client/multi.ts";
export type { MultiClientOptions, RouteMap, RouteTarget } from "./src/client/multi.ts";
export { loadComponents } from "./src/host/placement.ts";
export type {
  ComponentSpec,
  Isolation,
  PlacedComponent,
  PlacedComponents,
  PlacementOptions,
} from "./src/host/placement.ts";
export { WorkerComponent } from "./src/host/isolate/worker.ts";
export type {
  Grant,
  WorkerComponentOptions,
  WorkerPermissions,
} from "./src/host/isolate/worker.ts";
export type { Sandbox } from "./src/host/isolate/worker_spawn.ts";
export { ComponentError, loadComponent } from "./src/host/load/loader.ts";
export type { LoadedComponent, LoaderMode, LoadOptions } from "./src/host/load/loader.ts";
