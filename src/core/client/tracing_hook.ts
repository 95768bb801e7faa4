/**
 * Where tracing plugs into clients without the core knowing any tracing library: an
 * observability module installs a {@linkcode CallTracing} (Switchboard's is
 * `src/observe/tracing.ts`, over `@opentelemetry/api`), and every {@linkcode Client} then
 * runs its calls in client spans and hands transports the W3C trace context to send.
 * Nothing installed: clients do nothing more than before.
 *
 * @module
 */

import type { TraceCarrier } from "../context.ts";

/** What clients and hosts ask of the installed tracing. */
export interface CallTracing {
  /**
   * Runs `send` in a client span of `method` over `system` (`jsonrpc`, `xmlrpc`,
   * `msgpack-rpc`), handing it the trace context to put on the wire; `send`'s outcome
   * ends the span (an error outcome or a rejection marks it failed).
   */
  client<T>(
    method: string,
    system: string,
    send: (trace: TraceCarrier | undefined) => Promise<T>,
  ): Promise<T>;
  /** The trace context of the active span, to send with a call made outside a client span. */
  current(): TraceCarrier | undefined;
  /** Runs `fn` with `trace` (a caller's context, e.g. a worker's) as the active parent. */
  within<T>(trace: TraceCarrier | undefined, fn: () => T): T;
  /**
   * Whether the runtime's own `fetch` already sends `traceparent` for the active span (Deno
   * with `OTEL_DENO=true`): HTTP transports then leave the header to it, since a second
   * value would make the header invalid.
   */
  readonly fetchPropagates: boolean;
}

let installed: CallTracing | undefined;

/** Installs (or, with undefined, removes) the tracing every client of this isolate uses. */
export function setCallTracing(tracing: CallTracing | undefined): void {
  installed = tracing;
}

/** The installed tracing, if any. */
export function callTracing(): CallTracing | undefined {
  return installed;
}

/** A W3C `traceparent`: version 00, 32 hex trace id, 16 hex parent id, 2 hex flags. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Longest `tracestate` accepted from a peer (the W3C limit is 32 members of 256 bytes). */
const MAX_TRACESTATE = 512;

/**
 * The trace context a peer sent, if well-formed: a `traceparent` that is not one value
 * per the W3C format (or an all-zero id) is dropped, an over-long `tracestate` too.
 */
export function traceCarrier(traceparent: unknown, tracestate?: unknown): TraceCarrier | undefined {
  if (typeof traceparent !== "string" || !TRACEPARENT.test(traceparent)) return undefined;
  if (traceparent.startsWith("ff") || /^..-0{32}-|-0{16}-..$/.test(traceparent)) return undefined;
  return typeof tracestate === "string" && tracestate !== "" &&
      tracestate.length <= MAX_TRACESTATE
    ? { traceparent, tracestate }
    : { traceparent };
}
