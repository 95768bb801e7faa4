/**
 * The observability flags of `switchboard serve`: `--no-explorer`, `--metrics`,
 * `--metrics-listen`, `--log-format`, `--log-level`, `--log-params`, `--trace`.
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { parseHostPort } from "./args.ts";
import { AccessLog, isLogLevel, type LogFormat } from "../observe/access_log.ts";
import { Metrics } from "../observe/metrics.ts";
import {
  connectionGauge,
  type ConnectionSource,
  type Instruments,
  workerRestartCounter,
} from "../observe/instrument.ts";
import {
  denoTracing,
  type MetricsListener,
  otlpExportEnv,
  processProbe,
  serveMetrics,
  stdoutWriter,
} from "../adapters/deno/observe_io.ts";
import type { OtlpExport } from "../observe/otlp_tracing.ts";

/** Help lines for the flags. */
export const OBSERVE_OPTIONS_HELP =
  `  --no-explorer       do not serve the API explorer page at GET /
  --metrics           serve Prometheus metrics at GET /metrics on the HTTP listener
  --metrics-listen HOST:PORT  serve them on an address of their own (e.g. 127.0.0.1:9464)
  --log-format F      access log (one line per call) as "json" (default) or "text"
  --log-level L       debug|info|warn|error|off (default info: every call; warn: failed calls)
  --log-params        also log params and results (secret-looking fields redacted)
  --trace             a span per call, exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT
                      (default http://localhost:4318; Deno's own export with OTEL_DENO=true,
                      where it is on by default)`;

/** The `parseArgs` options of the flags. */
export const OBSERVE_OPTIONS = {
  "no-explorer": { type: "boolean", default: false },
  "metrics": { type: "boolean", default: false },
  "metrics-listen": { type: "string" },
  "log-format": { type: "string", default: "json" },
  "log-level": { type: "string", default: "info" },
  "log-params": { type: "boolean", default: false },
  "trace": { type: "boolean" },
} as const;

/** What the flags asked for. */
export interface Observability {
  /** Install these on the server's router. */
  instruments: Instruments;
  /** Serve the explorer on HTTP listeners. */
  explorer: boolean;
  /** Extra GET routes of HTTP listeners (`/metrics` with `--metrics`). */
  routes: Record<string, () => Promise<Response>>;
  /** Resolves once tracing can export (its SDK loads only with `--trace`). */
  ready(): Promise<void>;
  /** Starts the separate metrics listener, if asked for, and the host's gauges. */
  start(
    sources: () => ConnectionSource[],
    workers: () => { url: string; restarts: number }[],
  ): MetricsListener | undefined;
  /** Flushes the log and the spans, and stops the metrics listener. */
  close(): Promise<void>;
}

/**
 * A worker isolate's share of one server's observability: its access-log lines go to the
 * main isolate, which writes every worker's; `/metrics` and `/healthz` answer for all workers.
 */
export interface SharedObserve {
  /** Takes a batch of whole log lines (to copy before returning). */
  sink(bytes: Uint8Array): void;
  /** `GET /metrics`: the figures of every worker. */
  metrics(): Promise<Response>;
  /** `GET /healthz`: healthy when every worker is. */
  health(): Promise<Response>;
}

/** Reads the flags' values; with `shared`, for one worker of several (see SharedObserve). */
export function observability(values: {
  "no-explorer"?: boolean;
  "metrics"?: boolean;
  "metrics-listen"?: string;
  "log-format"?: string;
  "log-level"?: string;
  "log-params"?: boolean;
  "trace"?: boolean;
}, shared?: SharedObserve): Observability {
  const format = values["log-format"] ?? "json";
  if (format !== "json" && format !== "text") {
    throw new UsageError(`--log-format: expected json or text, got ${JSON.stringify(format)}`);
  }
  const level = values["log-level"] ?? "info";
  if (level !== "off" && !isLogLevel(level)) {
    throw new UsageError(`--log-level: expected debug, info, warn, error or off, got ${level}`);
  }
  const metricsAddress = values["metrics-listen"] === undefined
    ? undefined
    : parseHostPort("metrics-listen", values["metrics-listen"]);
  const metrics = values.metrics || metricsAddress
    ? new Metrics({ process: processProbe() })
    : undefined;
  const stdout = stdoutWriter((lines) =>
    log?.warn(`access log: ${lines} line(s) dropped while stdout was not being read`)
  );
  const log: AccessLog | undefined = level === "off" ? undefined : new AccessLog({
    sink: shared ? (bytes) => shared.sink(bytes) : stdout.sink,
    format: format as LogFormat,
    level,
    params: values["log-params"],
  });
  const otel = denoTracing();
  const tracing = values.trace ?? otel.exporting;
  // Without Deno's own export, Switchboard's: the SDK loads only when asked for.
  let otlp: OtlpExport | undefined;
  const exporting = tracing && !otel.exporting
    ? import("../observe/otlp_tracing.ts").then(
      (m) => otlp = m.startOtlpExport(otlpExportEnv()),
      (error) => console.error(`--trace: the OTLP export did not start: ${error}`),
    )
    : undefined;
  let listener: MetricsListener | undefined;
  return {
    instruments: {
      metrics,
      log,
      tracing: tracing
        ? (otel.exporting ? otel : { exporting: true, sampler: otel.sampler })
        : false,
    },
    explorer: !values["no-explorer"],
    routes: {
      ...(metrics && values.metrics
        ? { "/metrics": shared ? () => shared.metrics() : () => metrics.response() }
        : {}),
      ...(shared ? { "/healthz": () => shared.health() } : {}),
    },
    async ready() {
      await exporting;
    },
    start(sources, workers) {
      if (!metrics) return undefined;
      if (exporting) traceCounters(metrics, () => otlp?.counts());
      connectionGauge(metrics, sources);
      workerRestartCounter(metrics, workers);
      metrics.gauge(
        "switchboard_log_dropped_lines_total",
        "Access log lines dropped because stdout was not being read",
        () => [{ labels: {}, value: stdout.droppedLines }],
        "counter",
      );
      // A worker's figures are served by the main isolate, with every other worker's.
      if (metricsAddress && !shared) {
        listener = serveMetrics(metricsAddress, () => metrics.response());
      }
      return listener;
    },
    async close() {
      await listener?.shutdown();
      // A collector that does not answer gets three seconds, then what is left is dropped.
      await exporting;
      await otlp?.close(3000);
      log?.flush();
      // A reader that never reads gets two seconds, then what is left is dropped.
      await stdout.flush(2000);
    },
  };
}

/** `switchboard_trace_spans_{exported,dropped}_total` of Switchboard's own OTLP export. */
function traceCounters(
  metrics: Metrics,
  counts: () => { exported: number; dropped: number } | undefined,
): void {
  metrics.gauge(
    "switchboard_trace_spans_exported_total",
    "Spans the OTLP collector accepted",
    () => [{ labels: {}, value: counts()?.exported ?? 0 }],
    "counter",
  ).gauge(
    "switchboard_trace_spans_dropped_total",
    "Spans lost: the export queue was full (collector slow or down) or the export failed",
    () => [{ labels: {}, value: counts()?.dropped ?? 0 }],
    "counter",
  );
}
