/**
 * The Deno side of observability: a listener of its own for `GET /metrics`, the
 * process's stdout as the access log's sink, and the process's CPU and memory figures.
 *
 * @module
 */

import nodeProcess from "node:process";
import type { ProcessProbe } from "../../observe/metrics.ts";
import type { TracingOptions } from "../../observe/tracing.ts";

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
 * A writer of whole texts (a log line is never split by a short write) to a file written
 * synchronously, encoding into one reused buffer: a fresh array per batch of log lines
 * costs as much as the write.
 */
export function textWriter(out: { writeSync(bytes: Uint8Array): number }): (text: string) => void {
  const encoder = new TextEncoder();
  let scratch = new Uint8Array(0);
  return (text) => {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
    const { written } = encoder.encodeInto(text, scratch);
    let done = 0;
    while (done < written) done += out.writeSync(scratch.subarray(done, written));
  };
}

/** Writes text to stdout, whole. */
export const writeStdout: (text: string) => void = textWriter(Deno.stdout);

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
