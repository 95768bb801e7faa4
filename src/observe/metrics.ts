/**
 * Prometheus metrics of a Switchboard process, on npm `prom-client`'s registry and text
 * format: calls by interface, method, protocol and outcome code, latency histograms, calls
 * in flight ({@linkcode CallStats}, read at scrape time), open connections per transport,
 * worker restarts, anything else registered with {@linkcode Metrics.gauge}, and the
 * process's own CPU and memory.
 *
 * @module
 */

import client from "prom-client";
import type { Router } from "../core/router/router.ts";
import { CallStats, LATENCY_BUCKETS, type Series } from "./call_stats.ts";

/** Labels of one sample. */
export type Labels = Record<string, string>;

/** One sample of a collected metric. */
export interface Sample {
  /** Its labels. */
  labels: Labels;
  /** Its value. */
  value: number;
}

type Value = { labels: Labels; value: number; metricName?: string };

/**
 * A metric whose samples are computed when scraped. prom-client formats anything with
 * `get()`; its own metric classes would do their bookkeeping on every call instead.
 */
class Collected {
  readonly aggregator = "sum";
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    readonly values: () => Value[],
  ) {}
  get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: this.aggregator,
    };
  }
}

/** Options of {@linkcode Metrics}. */
export interface MetricsOptions {
  /** Also export the process's CPU, memory and event-loop figures (default true). */
  processMetrics?: boolean;
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
 * const metrics = new Metrics({ processMetrics: false }).watch(router);
 * await router.dispatch({ method: "Nope.nothing", protocol: "jsonrpc" });
 * assert.match(await metrics.text(), /switchboard_calls_total\{.*code="-32601"\} 1/);
 * ```
 */
export class Metrics {
  /** prom-client's registry: register more metrics here. */
  readonly registry: client.Registry = new client.Registry();
  readonly #stats: { stats: CallStats; scope?: string }[] = [];

  /** An empty registry (plus process figures unless turned off). */
  constructor(options: MetricsOptions = {}) {
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    if (options.processMetrics ?? true) {
      client.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    }
    const all = () =>
      this.#stats.flatMap(({ stats, scope }) =>
        stats.series().map((s) => ({ s, base: baseLabels(s, scope) }))
      );
    this.#add(
      "switchboard_calls_total",
      "Calls answered, by outcome code",
      "counter",
      () =>
        all().flatMap(({ s, base }) => [
          ...(s.ok ? [{ labels: { ...base, code: "ok" }, value: s.ok }] : []),
          ...[...s.errors].map(([code, n]) => ({
            labels: { ...base, code: String(code) },
            value: n,
          })),
        ]),
    );
    this.#add(
      "switchboard_call_duration_seconds",
      "Time from dispatch to outcome",
      "histogram",
      () => all().flatMap(({ s, base }) => histogram(s, base)),
    );
    this.#add("switchboard_calls_in_flight", "Calls running now", "gauge", () => {
      const byProtocol = new Map<string, number>();
      for (const { s } of all()) {
        byProtocol.set(s.protocol, (byProtocol.get(s.protocol) ?? 0) + s.inFlight);
      }
      return [...byProtocol].map(([protocol, value]) => ({ labels: { protocol }, value }));
    });
  }

  /** Records the calls `router` dispatches; `scope` labels them (e.g. `front`). */
  watch(router: Router, scope?: string): this {
    const stats = new CallStats(router);
    router.observe(stats.observer());
    this.#stats.push({ stats, scope });
    return this;
  }

  /** Adds a metric whose samples `collect` returns at every scrape. */
  gauge(
    name: string,
    help: string,
    collect: () => Sample[],
    type: "gauge" | "counter" = "gauge",
  ): this {
    this.#add(name, help, type, collect);
    return this;
  }

  #add(name: string, help: string, type: Collected["type"], values: () => Value[]): void {
    this.registry.registerMetric(new Collected(name, help, type, values) as never);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** `GET /metrics`: the text exposition as a response. */
  async response(): Promise<Response> {
    return new Response(await this.text(), {
      headers: { "content-type": this.registry.contentType },
    });
  }
}

function baseLabels(s: Series, scope: string | undefined): Labels {
  const labels: Labels = { interface: s.iface, method: s.method, protocol: s.protocol };
  if (scope) labels.scope = scope;
  return labels;
}

function histogram(s: Series, base: Labels): Value[] {
  const values: Value[] = [];
  let cumulative = 0;
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    cumulative += s.buckets[i];
    values.push({
      metricName: "switchboard_call_duration_seconds_bucket",
      labels: { ...base, le: String(LATENCY_BUCKETS[i]) },
      value: cumulative,
    });
  }
  cumulative += s.buckets[LATENCY_BUCKETS.length];
  values.push(
    {
      metricName: "switchboard_call_duration_seconds_bucket",
      labels: { ...base, le: "+Inf" },
      value: cumulative,
    },
    { metricName: "switchboard_call_duration_seconds_sum", labels: base, value: s.seconds },
    { metricName: "switchboard_call_duration_seconds_count", labels: base, value: cumulative },
  );
  return values;
}
