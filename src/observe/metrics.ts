/**
 * Prometheus metrics of a Switchboard process, written in the text exposition format
 * (`exposition.ts`) at scrape time: calls by interface, method, protocol and outcome code,
 * latency histograms, calls in flight ({@linkcode CallStats}), open connections per
 * transport, worker restarts, anything else registered with {@linkcode Metrics.gauge}, and
 * the process's own CPU and memory (read through a {@linkcode ProcessProbe}).
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import { CallStats, LATENCY_BUCKETS, type Series } from "./call_stats.ts";
import {
  CONTENT_TYPE,
  type Family,
  type HistogramSample,
  isMetricName,
  type Labels,
  type Sample,
  writeExposition,
} from "./exposition.ts";

export type { Labels, Sample } from "./exposition.ts";

/** Figures of the running process; the runtime adapter supplies them. */
export interface ProcessProbe {
  /** User plus system CPU time so far, in seconds. */
  cpuSeconds(): number;
  /** Resident set size and heap size, in bytes. */
  memory(): { rss: number; heap: number };
  /** When the process started, in seconds since the Unix epoch. */
  readonly startTimeSeconds: number;
}

/** Options of {@linkcode Metrics}. */
export interface MetricsOptions {
  /** Also export the process's CPU time and memory, read from this probe. */
  process?: ProcessProbe;
  /** Labels added to every sample (e.g. `{ process: "api" }`). */
  labels?: Labels;
}

/**
 * The metrics registry of a process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Router } from "../core/router/router.ts";
 * import { Metrics } from "./metrics.ts";
 *
 * const router = new Router();
 * const metrics = new Metrics().watch(router);
 * await router.dispatch({ method: "Nope.nothing", protocol: "jsonrpc" });
 * assert.match(await metrics.text(), /switchboard_calls_total\{.*code="-32601"\} 1/);
 * ```
 */
export class Metrics {
  readonly #stats: { stats: CallStats; scope?: string }[] = [];
  readonly #families = new Map<string, () => Family>();
  readonly #labels: Labels;

  /** An empty registry (plus process figures when given a probe). */
  constructor(options: MetricsOptions = {}) {
    this.#labels = { ...options.labels };
    const all = () =>
      this.#stats.flatMap(({ stats, scope }) =>
        stats.series().map((s) => ({ s, base: baseLabels(s, scope) }))
      );
    this.#add("switchboard_calls_total", () => ({
      name: "switchboard_calls_total",
      help: "Calls answered, by outcome code",
      type: "counter",
      samples: all().flatMap(({ s, base }) => [
        ...(s.ok ? [{ labels: { ...base, code: "ok" }, value: s.ok }] : []),
        ...[...s.errors].map(([code, n]) => ({
          labels: { ...base, code: String(code) },
          value: n,
        })),
      ]),
    }));
    this.#add("switchboard_call_duration_seconds", () => ({
      name: "switchboard_call_duration_seconds",
      help: "Time from dispatch to outcome",
      type: "histogram",
      samples: all().map(({ s, base }): HistogramSample => ({
        labels: base,
        bounds: LATENCY_BUCKETS,
        counts: s.buckets,
        sum: s.seconds,
      })),
    }));
    this.gauge("switchboard_calls_in_flight", "Calls running now", () => {
      const byProtocol = new Map<string, number>();
      for (const { s } of all()) {
        byProtocol.set(s.protocol, (byProtocol.get(s.protocol) ?? 0) + s.inFlight);
      }
      return [...byProtocol].map(([protocol, value]) => ({ labels: { protocol }, value }));
    });
    if (options.process) processMetrics(this, options.process);
  }

  /** Records the calls `router` dispatches; `scope` labels them (e.g. `front`). */
  watch(router: Router, scope?: string): this {
    router.observe(this.track(router, scope).observer());
    return this;
  }

  /**
   * The statistics of `router`'s calls, exported under `scope`, for an observer of the
   * caller's own to feed (one that also times calls for the access log, reading the clock
   * once for both).
   */
  track(router: Router, scope?: string): CallStats {
    const stats = new CallStats(router);
    this.#stats.push({ stats, scope });
    return stats;
  }

  /** Adds a metric whose samples `collect` returns at every scrape. */
  gauge(
    name: string,
    help: string,
    collect: () => Sample[],
    type: "gauge" | "counter" = "gauge",
  ): this {
    this.#add(name, () => ({ name, help, type, samples: collect() }));
    return this;
  }

  #add(name: string, family: () => Family): void {
    if (!isMetricName(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
    if (this.#families.has(name)) throw new TypeError(`metric ${name} is already registered`);
    this.#families.set(name, family);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return Promise.resolve(
      writeExposition([...this.#families.values()].map((f) => f()), this.#labels),
    );
  }

  /** `GET /metrics`: the text exposition as a response. */
  async response(): Promise<Response> {
    return new Response(await this.text(), { headers: { "content-type": CONTENT_TYPE } });
  }
}

/** The process figures Prometheus client libraries conventionally export. */
function processMetrics(metrics: Metrics, probe: ProcessProbe): void {
  const one = (value: number): Sample[] => [{ labels: {}, value }];
  metrics
    .gauge(
      "process_cpu_seconds_total",
      "Total user and system CPU time spent in seconds.",
      () => one(probe.cpuSeconds()),
      "counter",
    )
    .gauge(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      () => one(probe.memory().rss),
    )
    .gauge(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds.",
      () => one(probe.startTimeSeconds),
    )
    .gauge("process_heap_bytes", "Process heap size in bytes.", () => one(probe.memory().heap));
}

function baseLabels(s: Series, scope: string | undefined): Labels {
  const labels: Labels = { interface: s.iface, method: s.method, protocol: s.protocol };
  if (scope) labels.scope = scope;
  return labels;
}
