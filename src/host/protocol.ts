/**
 * The messages between a host and a worker-isolated component. Values travel by
 * structured clone, so dates, bytes, bigints and maps arrive as they left.
 *
 * @module
 */

import type { InterfaceDef } from "../core/idl/interface.ts";
import type { Identity, Outcome, TraceCarrier } from "../core/context.ts";

/** What a worker reports for each implementation it loaded. */
export interface ExportedImplementation {
  /** The interface (plain data: names, methods, types). */
  iface: InterfaceDef;
  /** Its permission domain, if any. */
  domain?: string;
  /** Its implementation-wide concurrency limit, if any. */
  concurrency?: number;
  /** Its queue bound, if any. */
  queue?: number;
  /** Declared to run once (`serve --workers N`: in the first worker only). */
  once?: boolean;
}

/**
 * The component's root module as the host read it (the operator named it, so the host
 * reads it); the worker reads every other module of the graph with its own grants.
 */
export interface RootModule {
  /** Where it was finally read from. */
  url: string;
  /** Its bytes. */
  bytes: Uint8Array;
  /** How to compile it. */
  mediaType: "typescript" | "javascript" | "json" | "jsx";
}

/** What a worker loads: a graph to read and bundle itself, or the bundle it made before. */
export type LoadSource =
  | { root: RootModule; library: string; allowInsecureHttp: boolean }
  | { specifier: string };

/** Host → worker. */
export type ToWorker =
  | { type: "load"; source: LoadSource; url: string; debug: boolean }
  | {
    type: "call";
    id: number;
    method: string;
    params: unknown;
    deadline?: number;
    caller?: Identity;
    protocol?: string;
    /** The trace context the call runs in on the host (its span there). */
    trace?: TraceCarrier;
  }
  | { type: "cancel"; id: number }
  | { type: "ping"; id: number }
  | { type: "reply"; id: number; outcome: Outcome };

/**
 * Worker → host. The component's own code can post too, so the host reads these only
 * through `checkFromWorker` (from_component.ts).
 */
export type FromWorker =
  | { type: "ready"; implementations: ExportedImplementation[]; specifier: string }
  | { type: "failed"; message: string }
  | { type: "result"; id: number; outcome: Outcome }
  | { type: "started"; id: number }
  | { type: "crashed"; message: string }
  | { type: "log"; level: "error" | "warn"; message: string }
  | { type: "pong"; id: number }
  | {
    type: "call";
    id: number;
    method: string;
    params: unknown;
    deadline?: number;
    /** The trace context of the worker's call it is made in, for the host to continue. */
    trace?: TraceCarrier;
  }
  | { type: "notify"; method: string; params: unknown; trace?: TraceCarrier }
  /** The component is ending its worker itself (`self.close()`, `Deno.exit()`). */
  | { type: "exited"; how: "close" | "exit"; code?: number }
  /** The worker gave up on its outgoing call `id` (cancelled, or past its deadline). */
  | { type: "cancel"; id: number };
