/**
 * The Markdown tables `deno task bench` prints: every cell of Switchboard next to each peer
 * and ceiling, the cost of observability, idle connections, an A/B against a baseline.
 *
 * @module
 */

import {
  key,
  type Load,
  type Measured,
  PROTOCOL,
  type Results,
  type ServerDef,
  type TableSuite,
} from "./cells.ts";
import { compared, pairedRatio } from "./ratios.ts";
import type { BenchMethod } from "./workload.ts";
import { fmtInt, fmtMiB, fmtMs, fmtUs } from "./format.ts";
import {
  DENO_ALONE,
  DENO_ALONE_TRACED,
  OBSERVE_CELLS,
  OBSERVED,
  PLAIN,
  TRACED,
  TRACED_BARE,
} from "./observe.ts";

/** The row label of this checkout's server. */
export const SWITCHBOARD = "Switchboard";
/** The row label of the `--baseline` checkout's server. */
export const BASELINE = "Switchboard (baseline)";

/** One suite's part of the main table. */
export interface TableRun {
  suite: TableSuite;
  loads: Load[];
  servers: ServerDef[];
  methods: readonly BenchMethod[];
}

function cells(m: Measured | undefined): string[] {
  if (!m || m.missing || !m.result) {
    const why = m?.missing ?? "not run";
    return [why.startsWith("n/a") ? why : `n/a (${why.slice(0, 60)})`, "", "", "", ""];
  }
  const r = m.result;
  const flag = r.wrong ? " ⚠" : "";
  return [fmtInt(r.cps) + flag, fmtMs(r.p50), fmtMs(r.p99), fmtMiB(m.peakKiB), fmtUs(m.cpuUs)];
}

/** Every cell: Switchboard's figures, then each other server's, and the ratio. */
export function table(rows: TableRun[], results: Results): string {
  const lines = [
    "| Protocol | Method | Load | Switchboard calls/s | p50 ms | p99 ms | RSS MiB | CPU µs/call | Peer | calls/s | p50 ms | p99 ms | RSS MiB | CPU µs/call | Ratio |",
    "|---|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { suite, loads, servers, methods } of rows) {
    for (const method of methods) {
      for (const load of loads) {
        const sb = results.get(key(suite, method, load.label, SWITCHBOARD));
        for (const peer of servers.filter((s) => s.name !== SWITCHBOARD)) {
          const p = results.get(key(suite, method, load.label, peer.name));
          if (!p) continue;
          const r = compared(sb, p);
          lines.push(
            `| ${PROTOCOL[suite]} | ${method} | ${load.label} | ${
              cells(sb).join(" | ")
            } | ${peer.name} | ${cells(p).join(" | ")} | ${
              r === undefined ? "–" : `${r.toFixed(2)}×`
            } |`,
          );
        }
      }
    }
  }
  return lines.join("\n");
}

/** Server CPU per call of this checkout against the baseline checkout, cell by cell. */
export function baselineTable(results: Results, dir: string): string {
  const rows = [
    `Server CPU per call, this checkout against ${dir} (same run, interleaved):`,
    "",
    "| cell | this µs/call | baseline µs/call | this / baseline | median of rounds |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const [k, ours] of results) {
    const [suite, method, load, server] = k.split("|");
    if (server !== SWITCHBOARD) continue;
    const base = results.get(key(suite, method, load, BASELINE));
    if (!base?.cpuUs || !ours.cpuUs) continue;
    rows.push(
      `| ${suite} ${method} ${load} | ${ours.cpuUs.toFixed(2)} | ${base.cpuUs.toFixed(2)} | ${
        (ours.cpuUs / base.cpuUs).toFixed(3)
      } | ${pairedRatio(ours, base, "cpuUs")?.toFixed(3) ?? "–"} |`,
    );
  }
  return rows.join("\n");
}

/** The cost of metrics, access log and tracing against the plain server. */
export function observeTable(results: Results): string {
  const pct = (r: number | undefined) => r === undefined ? "–" : `${(r * 100).toFixed(1)}%`;
  const lines = [
    `| Cost of observability (add) | ${PLAIN} calls/s | ${OBSERVED} | ratio | ${TRACED} | ratio | ${TRACED_BARE} | ratio |`,
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const [suite, load, label] of OBSERVE_CELLS) {
    const plain = results.get(key(suite, "add", load, PLAIN));
    const observed = results.get(key(suite, "add", load, OBSERVED));
    const traced = results.get(key(suite, "add", load, TRACED));
    const bare = results.get(key(suite, "add", load, TRACED_BARE));
    lines.push(
      `| ${label} | ${fmtInt(plain?.result?.cps)} | ${fmtInt(observed?.result?.cps)} | ${
        pct(compared(observed, plain))
      } | ${fmtInt(traced?.result?.cps)} | ${pct(compared(traced, plain))} | ${
        fmtInt(bare?.result?.cps)
      } | ${pct(compared(bare, plain))} |`,
    );
  }
  const load = OBSERVE_CELLS[0][1];
  const bare = results.get(key("observe-deno", "add", load, DENO_ALONE));
  const bareTraced = results.get(key("observe-deno", "add", load, DENO_ALONE_TRACED));
  lines.push(
    `| ${DENO_ALONE} (no Switchboard), JSON add, ${load}: Deno's own share | ${
      fmtInt(bare?.result?.cps)
    } | – | – | ${fmtInt(bareTraced?.result?.cps)} | ${pct(compared(bareTraced, bare))} | – | – |`,
  );
  return lines.join("\n");
}

/** RSS per idle TCP connection, by server (or why it is missing). */
export function idleTable(idle: Map<string, number | string>, connections: number): string {
  const lines = [`| Idle TCP connections (${connections}) | RSS per connection |`, "|---|--:|"];
  for (const [name, v] of idle) {
    lines.push(`| ${name} | ${typeof v === "number" ? `${v.toFixed(1)} KiB` : v} |`);
  }
  return lines.join("\n");
}

/** What the main table's columns mean. */
export const TABLE_NOTES = [
  "Each cell is the best of the interleaved rounds (servers take turns, so a burst of " +
  "outside load hits all of them): the round with the most calls/s, with its p50/p99. " +
  "Ratio (and every ratio in the targets) = the median over rounds of Switchboard's " +
  "calls/s ÷ the row's in the same round: turns in one round are seconds apart, so " +
  "outside load moves both alike. RSS = the server process's peak resident " +
  "memory during that cell (VmHWM, reset before each cell). CPU µs/call = the server " +
  "process's CPU time (user + system) in the window ÷ calls, lowest of the rounds: the " +
  'figure least disturbed by other load on the machine; "median of rounds" against a ' +
  "baseline is the median of the rounds' CPU ratios. Rows marked (ceiling) are bare Deno " +
  "servers doing the same work by hand: the target, not a peer. ⚠ = some answers were " +
  "wrong or failed (see the log on stderr).",
  "¹ gRPC cells are driven by @grpc/grpc-js's own client under Node (`peers/grpc_load.js`, " +
  "same cells and timing; one channel with its own connection per caller); " +
  "its client costs more CPU per call than the msgpack-rpc generator.",
].join("\n");
