/**
 * Per-call statistics kept on the hot path as plain numbers: calls by interface, method,
 * protocol and outcome code, latency buckets, and calls in flight. A call costs a few
 * additions here; turning them into Prometheus text happens only when scraped
 * (`metrics.ts`). A general-purpose metrics library costs far more per call on the same
 * work (labelled children hash their labels on every observation), which a pipelined
 * msgpack-rpc call does not have to spare.
 *
 * @module
 */

import type { Call, Outcome } from "../core/context.ts";
import type { CallObserver, MethodEntry, Router } from "../core/router/router.ts";
import { timedObserver } from "./call_timer.ts";

/** Latency bucket bounds in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
] as const;

/** The calls of one method over one protocol. */
export interface Series {
  /** Interface name (`""` for unknown methods). */
  readonly iface: string;
  /** Method name (`(unknown)` for methods the router does not serve). */
  readonly method: string;
  /** `jsonrpc`, `xmlrpc`, `msgpack-rpc`, `amqp`, `local`, … */
  readonly protocol: string;
  /** Successful calls. */
  ok: number;
  /** Failed calls by error code. */
  readonly errors: Map<number, number>;
  /** Calls running now. */
  inFlight: number;
  /** Count per latency bucket (the last one is +Inf). */
  readonly buckets: Float64Array;
  /** Sum of latencies in seconds. */
  seconds: number;
}

/** Methods the router does not know are counted under one name: callers choose them. */
const UNKNOWN = "(unknown)";

/**
 * Collects {@linkcode Series} for a router's calls; {@linkcode Metrics.track} makes one.
 *
 * @example Count a router's calls
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Metrics, Router } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const router = new Router();
 * router.register(implement(Calc, { add: ({ a, b }) => a + b }));
 * const stats = new Metrics().track(router);
 * router.observe(stats.observer());
 *
 * await router.dispatch({ method: "Calc.add", params: [1, 2], protocol: "jsonrpc" });
 * await router.dispatch({ method: "Calc.add", params: [1, "x"], protocol: "jsonrpc" });
 * const [series] = stats.series();
 * assert.equal(`${series.iface}.${series.method} ${series.protocol}`, "Calc.add jsonrpc");
 * assert.equal(series.ok, 1);
 * assert.deepEqual([...series.errors], [[-32602, 1]]);
 * assert.equal(series.inFlight, 0);
 * ```
 */
export class CallStats {
  readonly #router: Router;
  readonly #byEntry = new Map<MethodEntry, Series[]>();
  readonly #unknown: Series[] = [];

  /** Statistics of the calls `router` dispatches (install with {@linkcode CallStats.observer}). */
  constructor(router: Router) {
    this.#router = router;
  }

  /** Every series seen so far. */
  series(): Series[] {
    return [...[...this.#byEntry.values()].flat(), ...this.#unknown];
  }

  /** The router observer that records each call. */
  observer(): CallObserver {
    return timedObserver<Series>({
      begin: (call) => this.begin(call),
      end: (_call, series, ms, outcome) => end(series, ms / 1000, outcome),
    });
  }

  /** A call starts: its series, with the call counted in flight (pass it to `end`). */
  begin(call: Call): Series {
    const series = this.#seriesOf(call);
    series.inFlight++;
    return series;
  }

  /** A call begun with `begin` took `seconds` and ended with `outcome`. */
  end(series: Series, seconds: number, outcome: Outcome): void {
    end(series, seconds, outcome);
  }

  #seriesOf(call: Call): Series {
    const protocol = call.protocol ?? "local";
    const entry = this.#router.resolve(call.method, call.caller);
    let list = entry ? this.#byEntry.get(entry) : this.#unknown;
    if (!list) this.#byEntry.set(entry!, list = []);
    for (let i = 0; i < list.length; i++) if (list[i].protocol === protocol) return list[i];
    const series: Series = {
      iface: entry ? entry.iface.name : "",
      method: entry ? entry.methodName : UNKNOWN,
      protocol,
      ok: 0,
      errors: new Map(),
      inFlight: 0,
      buckets: new Float64Array(LATENCY_BUCKETS.length + 1),
      seconds: 0,
    };
    list.push(series);
    return series;
  }
}

function end(series: Series, seconds: number, outcome: Outcome): void {
  series.inFlight--;
  if (outcome.ok) series.ok++;
  else series.errors.set(outcome.error.code, (series.errors.get(outcome.error.code) ?? 0) + 1);
  let b = 0;
  while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
  series.buckets[b]++;
  series.seconds += seconds;
}
