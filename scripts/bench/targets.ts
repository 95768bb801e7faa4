/**
 * The benchmark's targets (ratios to peers and ceilings, p99s, memory, size, cold start)
 * and the verdict printed for each.
 *
 * @module
 */

import { HTTP_LOADS, key, METHODS, PROTOCOL, type Results } from "./cells.ts";
import { compared } from "./ratios.ts";
import { fmtMs } from "./format.ts";
import { SWITCHBOARD } from "./report.ts";
import type { Suite } from "./options.ts";
import type { BenchMethod } from "./workload.ts";
import { OBSERVE_CELLS, OBSERVED, PLAIN, TRACED, TRACED_BARE } from "./observe.ts";
import { SIZE_TARGET_KB, type Sizes, switchboardKb } from "./size.ts";
import type { ColdStart } from "./coldstart.ts";

/** One target: a figure, its goal, and which way is better. */
export interface Target {
  suite: Suite;
  what: string;
  value?: number;
  goal: number;
  unit: "×" | "%" | "ms" | "KiB" | "KB";
  higherIsBetter: boolean;
}

/** `- what: value (target ≥ goal) — met` */
export function verdict(t: Target): string {
  const shown = (v: number) =>
    t.unit === "%"
      ? `${(v * 100).toFixed(1)}%`
      : t.unit === "×"
      ? `${v.toFixed(2)}×`
      : `${v.toFixed(t.unit === "ms" ? 2 : 1)} ${t.unit}`;
  if (t.value === undefined || !Number.isFinite(t.value) || !Number.isFinite(t.goal)) {
    return `- ${t.what}: n/a (not measured)`;
  }
  const met = t.higherIsBetter ? t.value >= t.goal : t.value <= t.goal;
  return `- ${t.what}: ${shown(t.value)} (target ${t.higherIsBetter ? "≥" : "≤"} ${
    shown(t.goal)
  }) — ${met ? "met" : "MISSED"}`;
}

/** A cold `switchboard call` over HTTP within twice a `deno run` of an empty script. */
export function coldTarget(cold: ColdStart): Target {
  return {
    suite: "coldstart",
    what: "cold `switchboard call http://…` vs `deno run` of an empty script",
    value: cold.rows.find((r) => r.key === "http")?.ratio,
    goal: 2,
    unit: "×",
    higherIsBetter: false,
  };
}

/** The size target: the "." bundle, minified and gzipped. */
export function sizeTarget(sizes: Sizes): Target {
  return {
    suite: "size",
    what: `browser bundle of "." (minified + gzip)`,
    value: switchboardKb(sizes),
    goal: SIZE_TARGET_KB,
    unit: "KB",
    higherIsBetter: false,
  };
}

/** Every target of the suites that ran. */
export function targets(
  results: Results,
  idle: Map<string, number | string>,
  only: Set<Suite>,
): Target[] {
  const get = (s: Suite, m: BenchMethod, l: string, n: string) => results.get(key(s, m, l, n));
  const list: Target[] = [];
  for (const m of METHODS) {
    const sb = get("http", m, "32 callers", SWITCHBOARD);
    list.push({
      suite: "http",
      what: `JSON-RPC/HTTP ${m}, 32 callers vs jayson`,
      value: compared(sb, get("http", m, "32 callers", "jayson (Node)")),
      goal: 1.8,
      unit: "×",
      higherIsBetter: true,
    });
    list.push({
      suite: "http",
      what: `JSON-RPC/HTTP ${m}, 32 callers vs bare Deno.serve`,
      value: compared(sb, get("http", m, "32 callers", "bare Deno.serve (ceiling)")),
      goal: 0.95,
      unit: "%",
      higherIsBetter: true,
    });
  }
  for (const m of METHODS) {
    for (const l of HTTP_LOADS) {
      list.push({
        suite: "xmlrpc",
        what: `XML-RPC ${m}, ${l.label} vs npm xmlrpc`,
        value: compared(
          get("xmlrpc", m, l.label, SWITCHBOARD),
          get("xmlrpc", m, l.label, "xmlrpc (npm, Node)"),
        ),
        goal: 4,
        unit: "×",
        higherIsBetter: true,
      });
    }
  }
  for (const m of METHODS) {
    const pipe = "64 in flight, 1 conn";
    const sb = get("tcp", m, pipe, SWITCHBOARD);
    list.push({
      suite: "tcp",
      what: `msgpack-rpc/TCP ${m}, ${pipe} vs msgpack5rpc`,
      value: compared(sb, get("tcp", m, pipe, "msgpack5rpc (Node)")),
      goal: 1.8,
      unit: "×",
      higherIsBetter: true,
    });
    list.push({
      suite: "tcp",
      what: `msgpack-rpc/TCP ${m}, ${pipe} vs bare Deno TCP`,
      value: compared(sb, get("tcp", m, pipe, "bare Deno TCP + msgpackr (ceiling)")),
      goal: 0.85,
      unit: "%",
      higherIsBetter: true,
    });
    list.push({
      suite: "tcp",
      what: `msgpack-rpc/TCP ${m}, 32 callers vs grpc-js unary`,
      value: compared(
        get("tcp", m, "32 callers", SWITCHBOARD),
        get("tcp", m, "32 callers", "grpc-js unary (Node) ¹"),
      ),
      goal: 2,
      unit: "×",
      higherIsBetter: true,
    });
  }
  // p99 under load: Switchboard's p99 against the best (lowest) peer p99, ceilings excluded.
  for (
    const [suite, loaded] of [["http", "32 callers"], ["xmlrpc", "32 callers"], [
      "tcp",
      "32 callers",
    ], ["tcp", "64 in flight, 1 conn"]] as const
  ) {
    for (const m of METHODS) {
      const sb = get(suite, m, loaded, SWITCHBOARD)?.result?.p99;
      let best: number | undefined;
      for (const [k, v] of results) {
        const [s, mm, l, name] = k.split("|");
        if (s !== suite || mm !== m || l !== loaded || name === SWITCHBOARD) continue;
        if (name.includes("ceiling") || !v.result || !Number.isFinite(v.result.p99)) continue;
        best = best === undefined ? v.result.p99 : Math.min(best, v.result.p99);
      }
      list.push({
        suite,
        what: `p99 ${PROTOCOL[suite]} ${m}, ${loaded}: Switchboard vs best peer (${
          best === undefined ? "–" : fmtMs(best)
        } ms)`,
        value: sb,
        goal: best ?? NaN,
        unit: "ms",
        higherIsBetter: false,
      });
    }
  }
  for (const [suite, load, label] of OBSERVE_CELLS) {
    const plain = get(suite as Suite, "add", load, PLAIN);
    list.push({
      suite: "observe",
      what: `${label}: metrics + access log on vs off`,
      value: compared(get(suite as Suite, "add", load, OBSERVED), plain),
      goal: 0.9,
      unit: "%",
      higherIsBetter: true,
    });
    list.push({
      suite: "observe",
      what: `${label}: tracing on (none sampled) vs off`,
      value: compared(get(suite as Suite, "add", load, TRACED), plain),
      goal: 0.95,
      unit: "%",
      higherIsBetter: true,
    });
    list.push({
      suite: "observe",
      what: `${label}: --trace without OpenTelemetry export vs off`,
      value: compared(get(suite as Suite, "add", load, TRACED_BARE), plain),
      goal: 0.95,
      unit: "%",
      higherIsBetter: true,
    });
  }
  const perConn = idle.get(SWITCHBOARD);
  list.push({
    suite: "idle",
    what: "memory per idle TCP connection",
    value: typeof perConn === "number" ? perConn : undefined,
    goal: 20,
    unit: "KiB",
    higherIsBetter: false,
  });
  return list.filter((t) => only.has(t.suite));
}
