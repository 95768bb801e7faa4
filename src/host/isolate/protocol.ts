/**
 * The messages between a host and a worker-isolated component. Values travel by
 * structured clone, so dates, bytes, bigints and maps arrive as they left.
 *
 * @module
 */

import type { InterfaceDef } from "../../core/idl/interface.ts";
import type { Identity, Outcome, TraceCarrier } from "../../core/context.ts";
import type { ErrorShape } from "../../core/errors.ts";

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

/**
 * The stream messages, the same both ways (docs/wire.md, "Streams"): `stream` is the id
 * the producing end chose, so credit and cancel name a stream of the receiver's, and item,
 * end and error one of the sender's. A call that asks (`stream: true`) is answered with a
 * handle `{ $stream: id }`, and a stream param travels as one.
 */
export type StreamFrame =
  | { type: "stream.credit"; stream: number; n: number }
  | { type: "stream.cancel"; stream: number }
  | { type: "stream.item"; stream: number; seq: number; item: unknown }
  | { type: "stream.end"; stream: number; count: number }
  | { type: "stream.error"; stream: number; error: ErrorShape };

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
    /** Answer a streamed result with a handle, item by item. */
    stream?: boolean;
  }
  | { type: "cancel"; id: number }
  | { type: "ping"; id: number }
  | { type: "reply"; id: number; outcome: Outcome }
  | StreamFrame;

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
    /** Answer a streamed result with a handle, item by item. */
    stream?: boolean;
    /** The params sent as stream handles (of streams the worker produces). */
    streams?: string[];
  }
  | { type: "notify"; method: string; params: unknown; trace?: TraceCarrier }
  /** The component is ending its worker itself (`self.close()`, `Deno.exit()`). */
  | { type: "exited"; how: "close" | "exit"; code?: number }
  /** The worker gave up on its outgoing call `id` (cancelled, or past its deadline). */
  | { type: "cancel"; id: number }
  | StreamFrame;
