/**
 * A span per call, with the OpenTelemetry RPC semantic conventions (`rpc.system`,
 * `rpc.service`, `rpc.method`, `rpc.jsonrpc.error_code`), through `@opentelemetry/api`.
 * Spans are exported only when an SDK is set up — in Deno, `OTEL_DENO=true` (the runtime
 * registers its own providers and exports over OTLP); otherwise the API is a no-op.
 *
 * The parent is the caller's trace context (`call.trace`, read by each transport) unless
 * the active span already belongs to that trace (Deno's own span of the HTTP request).
 * The call's span is active while the handler runs, so its `ctx.client` calls continue
 * the trace.
 *
 * @module
 */

import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { Call, Outcome, TraceCarrier } from "../core/context.ts";
import type { CallObserver, Router } from "../core/router/router.ts";

const tracer = trace.getTracer("switchboard", "0.1.0");

/** `rpc.system` values: the semantic conventions name `jsonrpc`; the others follow suit. */
const SYSTEM: Record<string, string> = {
  jsonrpc: "jsonrpc",
  xmlrpc: "xmlrpc",
  "msgpack-rpc": "msgpack-rpc",
  amqp: "jsonrpc",
};

const getter = {
  keys: (carrier: TraceCarrier) => Object.keys(carrier),
  get: (carrier: TraceCarrier, key: string) =>
    key === "traceparent"
      ? carrier.traceparent
      : key === "tracestate"
      ? carrier.tracestate
      : undefined,
};

/** The context a call's span starts in. */
function parentOf(call: Call): Context {
  const active = context.active();
  if (!call.trace) return active;
  const traceId = call.trace.traceparent.split("-")[1];
  if (traceId && trace.getSpanContext(active)?.traceId === traceId) return active;
  return propagation.extract(active, call.trace, getter);
}

/** The trace context to send with an outgoing call made in the active context. */
export function currentTrace(): TraceCarrier | undefined {
  const span = trace.getSpanContext(context.active());
  if (!span || !trace.isSpanContextValid(span)) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  // Without a registered propagator, write W3C trace context by hand.
  const traceparent = carrier.traceparent ??
    `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 1) ? "01" : "00"}`;
  return carrier.tracestate ? { traceparent, tracestate: carrier.tracestate } : { traceparent };
}

function finish(span: Span, outcome: Outcome): void {
  if (!outcome.ok) {
    span.setAttribute("rpc.jsonrpc.error_code", outcome.error.code);
    span.setAttribute("rpc.jsonrpc.error_message", outcome.error.message);
    span.setAttribute("error.type", outcome.error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
  }
  span.end();
}

/** The router observer opening a server span per call. */
export function tracingObserver(router: Router): CallObserver {
  return (call, run) => {
    const parent = parentOf(call);
    const entry = router.resolve(call.method, call.caller);
    const service = entry?.iface.name ?? "";
    const method = entry?.methodName ?? call.method;
    const protocol = call.protocol ?? "local";
    const span = tracer.startSpan(entry ? `${service}/${method}` : "unknown", {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": SYSTEM[protocol] ?? protocol,
        "rpc.service": service,
        "rpc.method": method,
        ...(call.remote ? { "network.peer.address": call.remote } : {}),
        ...(call.caller ? { "enduser.id": call.caller.id } : {}),
      },
    }, parent);
    const outcome = context.with(trace.setSpan(parent, span), run, undefined, call);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => {
        finish(span, settled);
        return settled;
      });
    }
    finish(span, outcome);
    return outcome;
  };
}

/**
 * Runs `fn` in a client span for an outgoing call (`Interface.method` over `protocol`);
 * `fn` gets the trace context to send. A no-op span when nothing is exported.
 */
export function clientSpan<T>(
  method: string,
  protocol: string,
  fn: (carrier: TraceCarrier | undefined) => Promise<T>,
): Promise<T> {
  const dot = method.lastIndexOf(".");
  const service = dot < 0 ? "" : method.slice(0, dot);
  const name = dot < 0 ? method : method.slice(dot + 1);
  return tracer.startActiveSpan(`${service}/${name}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "rpc.system": SYSTEM[protocol] ?? protocol,
      "rpc.service": service,
      "rpc.method": name,
    },
  }, async (span) => {
    try {
      return await fn(currentTrace());
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      const code = (error as { code?: unknown })?.code;
      if (typeof code === "number") span.setAttribute("rpc.jsonrpc.error_code", code);
      throw error;
    } finally {
      span.end();
    }
  });
}
