/**
 * The Deno side of observability: a listener of its own for `GET /metrics`, the
 * process's stdout as the access log's sink, and the process's CPU and memory figures.
 *
 * @module
 */

import { QueuedWriter } from "../../observe/log_writer.ts";
import nodeProcess from "node:process";
import type { ProcessProbe } from "../../observe/metrics.ts";
import type { TracingOptions } from "../../observe/tracing.ts";
import type { OtlpExportOptions } from "../../observe/otlp_tracing.ts";

/**
 * How this process traces, from its environment: Deno exports spans over OTLP with
 * `OTEL_DENO=true` (and then its fetch sends `traceparent` itself), sampled as
 * `OTEL_TRACES_SAMPLER` says.
 */
export function denoTracing(): TracingOptions {
  const on = ["true", "1"].includes(Deno.env.get("OTEL_DENO")?.toLowerCase() ?? "");
  return {
    exporting: on,
    sampler: Deno.env.get("OTEL_TRACES_SAMPLER")?.trim().toLowerCase(),
    fetchPropagates: on,
  };
}

/**
 * Switchboard's own OTLP export, from the standard variables this process was started
 * with (the exporter itself reads the endpoint, headers, timeout and compression ones).
 */
export function otlpExportEnv(): OtlpExportOptions {
  const env = (name: string) => Deno.env.get(name)?.trim() || undefined;
  return {
    protocol: (env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? env("OTEL_EXPORTER_OTLP_PROTOCOL"))
      ?.toLowerCase(),
    sampler: env("OTEL_TRACES_SAMPLER")?.toLowerCase(),
    samplerArg: env("OTEL_TRACES_SAMPLER_ARG"),
    queue: {
      maxQueueSize: count(env("OTEL_BSP_MAX_QUEUE_SIZE")),
      maxBatchSize: count(env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")),
      delayMs: count(env("OTEL_BSP_SCHEDULE_DELAY")),
    },
  };
}

/** A positive whole number from a variable, or undefined (the default) for anything else. */
function count(text: string | undefined): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A running metrics listener. */
export interface MetricsListener {
  /** `http://host:port` (the metrics are at `/metrics`). */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** Stops listening. */
  shutdown(): Promise<void>;
}

/** Serves `GET /metrics` (and nothing else) on an address of its own. */
export function serveMetrics(
  listen: { hostname?: string; port?: number },
  metrics: () => Response | Promise<Response>,
): MetricsListener {
  const server = Deno.serve({
    hostname: listen.hostname ?? "127.0.0.1",
    port: listen.port ?? 9464,
    onListen: () => {},
  }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics" && (request.method === "GET" || request.method === "HEAD")) {
      return metrics();
    }
    return new Response("metrics are at GET /metrics\n", { status: 404 });
  });
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { url: `http://${host}:${addr.port}`, port: addr.port, shutdown: () => server.shutdown() };
}

/**
 * The access log's way to stdout: asynchronous and bounded, so that a reader that stops
 * reading (or closes the pipe) costs log lines, counted and reported through `onDropped`,
 * never a stalled or crashed server.
 */
export function stdoutWriter(onDropped?: (lines: number) => void): QueuedWriter {
  return new QueuedWriter((bytes) => Deno.stdout.write(bytes), { onDropped });
}

/** CPU time in microseconds; `Deno.cpuUsage` is newer than some Deno releases and untyped. */
type CpuUsage = () => { user: number; system: number };

/** The running process's figures for `Metrics` (`new Metrics({ process: processProbe() })`). */
export function processProbe(): ProcessProbe {
  const cpuUsage: CpuUsage = (Deno as unknown as { cpuUsage?: CpuUsage }).cpuUsage ??
    (() => nodeProcess.cpuUsage());
  return {
    cpuSeconds() {
      const { user, system } = cpuUsage();
      return (user + system) / 1e6;
    },
    memory() {
      const { rss, heapTotal } = Deno.memoryUsage();
      return { rss, heap: heapTotal };
    },
    // The time origin of the main isolate is the process start, to the millisecond (an
    // isolate started later, such as a worker's, has a later one).
    startTimeSeconds: Math.round(performance.timeOrigin) / 1000,
  };
}
