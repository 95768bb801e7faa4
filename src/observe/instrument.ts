/**
 * One switch for a server's observability: metrics, access log and traces installed as
 * router observers, plus the gauges only the host knows (open connections per transport,
 * worker restarts).
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import type { AccessLog } from "./access_log.ts";
import type { Metrics } from "./metrics.ts";
import { tracingObserver } from "./tracing.ts";

/** What to install on a router. */
export interface Instruments {
  /** Count calls into this registry. */
  metrics?: Metrics;
  /** Write a line per call. */
  log?: AccessLog;
  /** Open a span per call (exported only when an OpenTelemetry SDK is set up). */
  tracing?: boolean;
}

/** Installs the instruments on `router`; `scope` labels its metrics (e.g. `front`). */
export function instrument(router: Router, instruments: Instruments, scope?: string): void {
  instruments.metrics?.watch(router, scope);
  if (instruments.log) router.observe(instruments.log.observer());
  // Outermost, so the call's span is the active one while everything else runs.
  if (instruments.tracing) router.observe(tracingObserver(router));
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
