/**
 * Switchboard's own span export, for `--trace` without `OTEL_DENO`: the OpenTelemetry SDK
 * from npm (`@opentelemetry/sdk-trace`, its OTLP/HTTP exporters) behind a bounded queue of
 * our own ({@linkcode SpanQueue}), sending to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (default `http://localhost:4318`), as
 * protobuf or, with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, JSON.
 *
 * Why not `OTEL_DENO`: Deno's runtime tracing makes a span for every HTTP request, sampled
 * or not, which costs `Deno.serve` a large share of its throughput; here a call the
 * sampler drops costs no span at all (see `sampling.ts`). Why the SDK rather than an
 * exporter written here: it loads under `deno run` with the permissions `serve` has
 * (net, read, env, sys), it is in `deno compile`'s graph like any npm package, and its
 * encodings are the reference ones (OTLP/JSON and OTLP protobuf, resource and scope, the
 * standard `OTEL_EXPORTER_OTLP_*` variables: headers, timeout, compression, retries). Its
 * cost is paid only when spans are made, and its load (dozens of modules) only with
 * `--trace`: this module is imported lazily. What it does cost is size: `deno compile`
 * embeds its npm packages whole (semantic conventions included), about 25 MB more binary.
 * Only the batching is ours: the SDK's processor does not report what it drops.
 *
 * The context manager is `AsyncLocalStorage`'s (`@opentelemetry/context-async-hooks`), so a
 * call's span stays active across its handler's awaits and `ctx.client` spans are its
 * children.
 *
 * @module
 */

import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector } from "@opentelemetry/resources";
import { SpanQueue } from "./span_queue.ts";
import type { OtlpExport, OtlpExportOptions } from "./otlp_options.ts";

export type { OtlpExport, OtlpExportOptions } from "./otlp_options.ts";

/** The SDK's sampler for `OTEL_TRACES_SAMPLER` (the head sampler asks it first). */
function sdkSampler(name: string | undefined, arg: string | undefined): Sampler {
  const ratio = Number(arg ?? 1);
  const ratioSampler = () =>
    new TraceIdRatioBasedSampler(Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1);
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratioSampler();
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratioSampler() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function exporterFor(options: OtlpExportOptions): SpanExporter {
  const config = options.url ? { url: options.url } : {};
  return options.protocol === "http/json" ? new JsonExporter(config) : new ProtobufExporter(config);
}

/** Whether `work` settled within `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(resolve, ms, false));
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The isolate's export: OpenTelemetry's API takes one provider per isolate. */
let shared: { queue: SpanQueue; users: number } | undefined;

/**
 * Registers the SDK as this isolate's OpenTelemetry tracer provider and context manager,
 * exporting over OTLP/HTTP through a bounded queue. There is one per isolate: a second
 * start (another server in the same process) shares the first one's, options and all, and
 * the last {@linkcode OtlpExport.close} stops it.
 */
export function startOtlpExport(options: OtlpExportOptions = {}): OtlpExport {
  if (!shared) {
    const queue = new SpanQueue(exporterFor(options), options.queue);
    const provider = new TracerProvider({
      // `service.name` and more from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
      resource: defaultResource().merge(detectResources({ detectors: [envDetector] })),
      sampler: sdkSampler(options.sampler, options.samplerArg),
      spanProcessors: [queue],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    shared = { queue, users: 0 };
  }
  const mine = shared;
  mine.users++;
  let closed = false;
  return {
    counts: () => mine.queue.counts(),
    async close(ms) {
      if (closed) return true;
      closed = true;
      if (--mine.users > 0) return await within(mine.queue.forceFlush(), ms ?? 5000);
      if (shared === mine) shared = undefined;
      // Unregistered, so that a later start can register afresh.
      trace.disable();
      context.disable();
      return await mine.queue.close(ms);
    },
  };
}
