/**
 * Spans per call on both ends, with the OpenTelemetry RPC semantic conventions
 * (`rpc.system`, `rpc.service`, `rpc.method`, `rpc.jsonrpc.error_code`), through
 * `@opentelemetry/api`. They are exported when an SDK is set up — in Deno,
 * `OTEL_DENO=true` (the runtime registers its own providers and exports over OTLP).
 *
 * A server span's parent is the caller's trace context (`call.trace`, read by each
 * transport) unless the active span already belongs to that trace (Deno's own span of
 * the HTTP request). The call's span is active while the handler runs, so the client
 * spans of its `ctx.client` calls are its children and carry the trace on.
 *
 * No span is made for a call the sampler would drop (see `sampling.ts`): tracing that
 * samples nothing costs next to nothing.
 *
 * @module
 */

import {
  type Context,
  context,
  createTraceState,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { Outcome, TraceCarrier } from "../core/context.ts";
import type { CallObserver, Router } from "../core/router/router.ts";
import { type CallTracing, setCallTracing } from "../core/client/tracing_hook.ts";
import { type HeadSampler, headSampler, sampledFlag } from "./sampling.ts";

const tracer = trace.getTracer("switchboard", "0.1.0");

/** How the process traces. */
export interface TracingOptions {
  /**
   * Whether an OpenTelemetry SDK exports spans (Deno: `OTEL_DENO=true`). Without one no
   * span is made: nothing would see it.
   */
  exporting: boolean;
  /** The sampler the SDK was started with (`OTEL_TRACES_SAMPLER`); default parent-based. */
  sampler?: string;
  /** Whether the runtime's `fetch` sends `traceparent` itself (Deno with `OTEL_DENO`). */
  fetchPropagates?: boolean;
}

/** `rpc.system` of each protocol a call can arrive by (AMQP carries msgpack-rpc messages). */
const SYSTEM: Record<string, string> = {
  jsonrpc: "jsonrpc",
  xmlrpc: "xmlrpc",
  "msgpack-rpc": "msgpack-rpc",
  amqp: "msgpack-rpc",
};

/** The W3C trace context of a span. */
function carrierOf(span: SpanContext): TraceCarrier {
  const traceparent = `00-${span.traceId}-${span.spanId}-${
    (span.traceFlags & 1) === 1 ? "01" : "00"
  }`;
  const tracestate = span.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** `ctx` with a peer's trace context as its (remote) parent. */
function withRemote(ctx: Context, carrier: TraceCarrier): Context {
  const [, traceId, spanId, flags] = carrier.traceparent.split("-");
  return trace.setSpanContext(ctx, {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) & 1,
    isRemote: true,
    ...(carrier.tracestate ? { traceState: createTraceState(carrier.tracestate) } : {}),
  });
}

/** The active span's context, when there is a valid one. */
function activeSpan(ctx: Context): SpanContext | undefined {
  const span = trace.getSpanContext(ctx);
  return span && trace.isSpanContextValid(span) ? span : undefined;
}

/** Marks a span failed with the call's error. */
function failed(span: Span, system: string, code: number, name: string, message: string): void {
  // The JSON-RPC conventions name the code's attribute; the others use the generic one.
  if (system === "jsonrpc") span.setAttribute("rpc.jsonrpc.error_code", code);
  else span.setAttribute("rpc.response.status_code", String(code));
  span.setAttribute("rpc.jsonrpc.error_message", message);
  span.setAttribute("error.type", name);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function finish(span: Span, system: string, outcome: Outcome): void {
  if (!outcome.ok) {
    const e = outcome.error;
    failed(span, system, e.code, e.name, e.message);
  }
  span.end();
}

/** Splits `Interface.method` into the conventions' service and method. */
function serviceAndMethod(method: string): [string, string] {
  const dot = method.lastIndexOf(".");
  return dot < 0 ? ["", method] : [method.slice(0, dot), method.slice(dot + 1)];
}

/**
 * The router observer opening a server span per sampled call. Its parent is the caller's
 * context, or the active span when that already continues it (Deno's HTTP span).
 */
export function tracingObserver(
  router: Router,
  sampler: HeadSampler = headSampler(undefined),
): CallObserver {
  return (call, run) => {
    const active = context.active();
    let parent = active;
    let parentSampled: boolean | undefined;
    const current = activeSpan(active);
    if (call.trace) {
      parentSampled = sampledFlag(call.trace.traceparent);
      if (current?.traceId !== call.trace.traceparent.slice(3, 35)) {
        parent = withRemote(active, call.trace);
      }
    } else if (current) {
      parentSampled = (current.traceFlags & 1) === 1;
    }
    if (!sampler.sample(parentSampled)) {
      // No span, but the caller's context stays the parent of the handler's calls, so
      // they too are "not sampled" instead of starting sampled traces of their own.
      return parent === active ? run(call) : context.with(parent, run, undefined, call);
    }
    const entry = router.resolve(call.method, call.caller);
    const [service, method] = entry
      ? [entry.iface.name, entry.methodName]
      : serviceAndMethod(call.method);
    const protocol = call.protocol ?? "local";
    const system = SYSTEM[protocol] ?? protocol;
    const attributes: Record<string, string | number> = {
      "rpc.system": system,
      "rpc.service": service,
      "rpc.method": method,
    };
    if (protocol === "amqp") attributes["network.protocol.name"] = "amqp";
    if (call.remote) attributes["network.peer.address"] = call.remote;
    if (call.caller) attributes["enduser.id"] = call.caller.id;
    if (system === "jsonrpc" && call.id !== undefined && call.id !== null) {
      attributes["rpc.jsonrpc.request_id"] = String(call.id);
    }
    const span = tracer.startSpan(entry ? `${service}/${method}` : "unknown", {
      kind: SpanKind.SERVER,
      attributes,
    }, parent);
    const outcome = context.with(trace.setSpan(parent, span), run, undefined, call);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => {
        finish(span, system, settled);
        return settled;
      });
    }
    finish(span, system, outcome);
    return outcome;
  };
}

/** The client side: a client span per sampled outgoing call, and the context to send. */
export function otelCallTracing(sampler: HeadSampler, fetchPropagates: boolean): CallTracing {
  return {
    fetchPropagates,
    client(method, system, send) {
      const active = context.active();
      const parent = activeSpan(active);
      if (!sampler.sample(parent ? (parent.traceFlags & 1) === 1 : undefined)) {
        // Not sampled: no span, but the trace (and its "not sampled" flag) goes on.
        return send(parent ? carrierOf(parent) : undefined);
      }
      const [service, name] = serviceAndMethod(method);
      const span = tracer.startSpan(`${service}/${name}`, {
        kind: SpanKind.CLIENT,
        attributes: { "rpc.system": system, "rpc.service": service, "rpc.method": name },
      }, active);
      const carrier = carrierOf(span.spanContext());
      // Active while sending: a runtime fetch that traces itself makes its span a child.
      const sent = context.with(trace.setSpan(active, span), () => send(carrier));
      return sent.then((result) => {
        const outcome = result as Partial<Outcome> | undefined;
        if (outcome?.ok === false) finish(span, system, outcome as Outcome);
        else span.end();
        return result;
      }, (error) => {
        const e = error as { code?: unknown; name?: unknown; message?: unknown };
        failed(
          span,
          system,
          typeof e?.code === "number" ? e.code : -32603,
          typeof e?.name === "string" ? e.name : "Error",
          typeof e?.message === "string" ? e.message : String(error),
        );
        span.end();
        throw error;
      });
    },
    current() {
      const span = activeSpan(context.active());
      return span ? carrierOf(span) : undefined;
    },
    within(carrier, fn) {
      return carrier ? context.with(withRemote(context.active(), carrier), fn) : fn();
    },
  };
}

/**
 * Turns tracing on for this isolate's clients (client spans, trace context on every
 * transport); returns the sampler for server observers, or undefined when no span can
 * ever be exported (no SDK, or a sampler that drops everything): then nothing is
 * installed and calls cost what they cost without tracing.
 */
export function installTracing(options: TracingOptions): HeadSampler | undefined {
  const sampler = headSampler(options.sampler);
  if (!options.exporting || sampler.never) {
    setCallTracing(undefined);
    return undefined;
  }
  setCallTracing(otelCallTracing(sampler, options.fetchPropagates ?? false));
  return sampler;
}
