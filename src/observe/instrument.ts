/**
 * One switch for a server's observability: metrics, access log and traces installed as
 * router observers, plus the gauges only the host knows (open connections per transport,
 * worker restarts).
 *
 * @module
 */

import type { CallObserver, Router } from "../core/router/router.ts";
import type { CallStats, Series } from "./call_stats.ts";
import type { AccessLog } from "./access_log.ts";
import type { Metrics } from "./metrics.ts";
import { timedObserver } from "./call_timer.ts";
import { installTracing, tracingObserver, type TracingOptions } from "./tracing.ts";

/** What to install on a router. */
export interface Instruments {
  /** Count calls into this registry. */
  metrics?: Metrics;
  /** Write a line per call. */
  log?: AccessLog;
  /**
   * Spans per call on both ends and the trace context on every transport: `true` trusts
   * that an OpenTelemetry SDK is set up; the options say whether one is and how it samples.
   */
  tracing?: boolean | TracingOptions;
}

/** Installs the instruments on `router`; `scope` labels its metrics (e.g. `front`). */
export function instrument(router: Router, instruments: Instruments, scope?: string): void {
  const { metrics, log } = instruments;
  if (metrics && log) router.observe(timedTwice(metrics.track(router, scope), log));
  else if (metrics) metrics.watch(router, scope);
  else if (log) router.observe(log.observer());
  // Outermost, so the call's span is the active one while everything else runs.
  if (instruments.tracing) {
    const sampler = installTracing(
      instruments.tracing === true ? { exporting: true } : instruments.tracing,
    );
    if (sampler) router.observe(tracingObserver(router, sampler));
  }
}

/** One observer feeding both the metrics and the access log from one timing of each call. */
function timedTwice(stats: CallStats, log: AccessLog): CallObserver {
  return timedObserver<Series>({
    begin: (call) => stats.begin(call),
    end(call, series, ms, outcome, at) {
      stats.end(series, ms / 1000, outcome);
      log.record(call, ms, outcome, at);
    },
  });
}

/** Something with open connections to count. */
export interface ConnectionSource {
  /** `tcp`, `amqp`, … */
  transport: string;
  /** How many are open now. */
  count(): number;
}

/** Exports `switchboard_open_connections{transport}` from `sources` (read at scrape time). */
export function connectionGauge(metrics: Metrics, sources: () => ConnectionSource[]): void {
  metrics.gauge("switchboard_open_connections", "Open connections per transport", () => {
    const byTransport = new Map<string, number>();
    for (const s of sources()) {
      byTransport.set(s.transport, (byTransport.get(s.transport) ?? 0) + s.count());
    }
    return [...byTransport].map(([transport, value]) => ({ labels: { transport }, value }));
  });
}

/** Exports `switchboard_worker_restarts_total{component}` from workers' restart counts. */
export function workerRestartCounter(
  metrics: Metrics,
  workers: () => { url: string; restarts: number }[],
): void {
  metrics.gauge(
    "switchboard_worker_restarts_total",
    "Restarts of worker components (crash or overrun deadline)",
    () => workers().map((w) => ({ labels: { component: w.url }, value: w.restarts })),
    "counter",
  );
}
