/**
 * docs/performance.md, written by `deno task bench` when the JSON-RPC, XML-RPC and
 * msgpack-rpc suites have run: the cells the project is judged by (Switchboard, the bare
 * Deno ceiling doing the same I/O, the best-known peer, the ratios, and the evidence that
 * the load generator was not the bottleneck), the date, the commit and the machine; then
 * every cell of the run.
 *
 * @module
 */

import { key, type Measured, type Results } from "./cells.ts";
import { roundRatios } from "./ratios.ts";
import { median } from "./median.ts";
import { fmtPct, fmtRate } from "./format.ts";
import { SWITCHBOARD } from "./report.ts";
import { BARE_HTTP, BARE_TCP, JAYSON, MSGPACK5RPC, NPM_XMLRPC } from "./peers.ts";
import { ROOT } from "./processes.ts";

/** One row of the headline table. */
interface Headline {
  what: string;
  suite: string;
  load: string;
  ceiling?: string;
  peer: string;
  /** The cell whose ceiling shows the generator's reach, when this one has no ceiling. */
  reach?: { suite: string; load: string; server: string; what: string };
}

/** The cells of the issue "Close to the bare loop", in its order. */
export const HEADLINES: Headline[] = [
  {
    what: "JSON-RPC `add` over HTTP, 32 connections",
    suite: "http",
    load: "32 callers",
    ceiling: BARE_HTTP,
    peer: JAYSON,
  },
  {
    what: "XML-RPC `add` over HTTP, 32 connections",
    suite: "xmlrpc",
    load: "32 callers",
    peer: NPM_XMLRPC,
    reach: {
      suite: "http",
      load: "32 callers",
      server: BARE_HTTP,
      what: "bare Deno.serve (JSON add, same 32 connections)",
    },
  },
  {
    what: "msgpack-rpc `add`, 64 in flight, 1 conn",
    suite: "tcp",
    load: "64 in flight, 1 conn",
    ceiling: BARE_TCP,
    peer: MSGPACK5RPC,
  },
  {
    what: "msgpack-rpc `add`, 512 in flight, 1 conn",
    suite: "tcp",
    load: "512 in flight, 1 conn",
    ceiling: BARE_TCP,
    peer: MSGPACK5RPC,
  },
];

/** What the page says about the run besides the figures. */
export interface RunInfo {
  /** When the run began. */
  date: Date;
  rounds: number;
  roundMs: number;
  warmupMs: number;
  pinned: boolean;
  httpGenerator: string;
  tcpGenerator: string;
  loadAtStart: string;
  loadAtEnd: string;
  /** The whole table of the run (report.ts's `table`). */
  fullTable: string;
  /** Its notes. */
  notes: string;
}

/** The calls/s of every round of a cell, as `min–max/s`. */
function range(m: Measured | undefined): string {
  const cps = (m?.rounds ?? []).map((r) => r?.cps).filter((x) => x && Number.isFinite(x));
  if (!cps.length) return m?.missing ? `n/a (${m.missing.slice(0, 40)})` : "–";
  const lo = Math.min(...cps), hi = Math.max(...cps);
  const flag = m?.result?.wrong ? " ⚠" : "";
  return `${fmtRate(lo)}–${fmtRate(hi)}/s${flag}`;
}

/** Round-by-round ratios of a figure as `min–max`, in % or ×. */
function ratios(
  a: Measured | undefined,
  b: Measured | undefined,
  as: "%" | "×",
  figure: "cps" | "cpuUs" = "cps",
): string {
  const r = roundRatios(a, b, figure);
  if (!r.length) return "–";
  const show = (x: number) => as === "%" ? fmtPct(x) : `${x.toFixed(1)}×`;
  const lo = Math.min(...r), hi = Math.max(...r);
  return show(lo) === show(hi) ? show(lo) : `${show(lo)}–${show(hi)}`;
}

const best = (m: Measured | undefined) => m?.result?.cps;

/** ` (12.6 µs/call)`: the server's lowest CPU per call over the rounds. */
function perCall(m: Measured | undefined): string {
  return m?.cpuUs && Number.isFinite(m.cpuUs) ? ` (${m.cpuUs.toFixed(1)} µs/call)` : "";
}

/**
 * A warning when the load average (1 minute) at the start or end passed the cores by more than
 * this run's own server and generator, which take turns and add about one.
 */
function busyWarning(run: RunInfo): string[] {
  const cores = Number(/^\d+/.exec(machineCores())?.[0]);
  const load = Math.max(Number(run.loadAtStart), Number(run.loadAtEnd));
  if (!(load > cores + 1)) return [];
  return [
    `⚠ The machine was busy (load average up to ${load} on ${cores} cores): other processes ` +
    "took turns on both cores (see the waiting shares), so neither the servers nor the " +
    "generators ran flat out and calls/s says more about the scheduler than about the " +
    "servers. Server CPU per call is disturbed far less: its ratio is the better estimate " +
    "of the ratio on a quiet machine. Run the bench again on a quiet one.",
    "",
  ];
}

/** Where the wall time of Switchboard's best round went, on its core and the generator's. */
function shares(m: Measured | undefined): string {
  const s = m?.server, g = m?.generator;
  const server = s ? `server ${fmtPct(s.busy)} on CPU, ${fmtPct(s.wait)} waiting for it` : "";
  const generator = g ? `generator ${fmtPct(g.busy)} on CPU, ${fmtPct(g.wait)} waiting` : "";
  return [server, generator].filter(Boolean).join("; ") || "shares not measured";
}

/** The evidence that the generator could go faster than Switchboard in this cell. */
function headroom(results: Results, h: Headline, ours: Measured | undefined): string {
  const reach = h.reach ?? (h.ceiling && { ...h, server: h.ceiling, what: "the ceiling" });
  if (!reach) return "–";
  const fastest = results.get(key(reach.suite, "add", reach.load, reach.server));
  const x = best(fastest), y = best(ours);
  const where = `; ${shares(ours)}`;
  if (!x || !y) return `n/a${where}`;
  const verdict = x > y ? "yes" : "NO, the ceiling went no faster";
  return `${verdict}: ${reach.what} reached ${fmtRate(x)}/s, ${(x / y).toFixed(2)}× ours${where}`;
}

function git(args: string[]): string {
  try {
    const out = new Deno.Command("git", { args: ["-C", ROOT, ...args] }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

function version(cmd: string, args: string[]): string {
  try {
    const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.split("\n")[0].trim();
  } catch {
    return `no ${cmd}`;
  }
}

/** `2 cores (Intel(R) Xeon(R) Processor)`: all of them, not this pinned process's. */
function machineCores(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const cores = info.match(/^processor\s*:/gm)?.length ?? "?";
    return `${cores} cores (${/^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? "unknown CPU"})`;
  } catch {
    return `${navigator.hardwareConcurrency} cores`; // not Linux
  }
}

/** Cores, CPU model, kernel, runtimes. */
function machine(): string {
  const kernel = (() => {
    try {
      return `Linux ${Deno.readTextFileSync("/proc/sys/kernel/osrelease").trim()}`;
    } catch {
      return Deno.build.os;
    }
  })();
  return `${machineCores()}, ${kernel}; Deno ${Deno.version.deno}, ` +
    `Node ${version("node", ["--version"])}, ${version("wrk", ["--version"]).split(" [")[0]}`;
}

/** The page's Markdown. */
export function performanceDoc(results: Results, run: RunInfo): string {
  const commit = git(["rev-parse", "HEAD"]);
  const subject = git(["log", "-1", "--format=%s"]);
  const dirty = git(["status", "--porcelain", "--", ".", ":!docs/performance.md"]) !== "";
  const rows = HEADLINES.map((h) => {
    const ours = results.get(key(h.suite, "add", h.load, SWITCHBOARD));
    const ceiling = h.ceiling ? results.get(key(h.suite, "add", h.load, h.ceiling)) : undefined;
    const peer = results.get(key(h.suite, "add", h.load, h.peer));
    const peerRatio = roundRatios(ours, peer);
    return `| ${h.what} | ${range(ours)}${perCall(ours)} | ${
      h.ceiling ? range(ceiling) + perCall(ceiling) : "—"
    } | ${h.ceiling ? ratios(ours, ceiling, "%") : "—"} | ${
      h.ceiling ? ratios(ceiling, ours, "%", "cpuUs") : "—"
    } | ${h.peer.replace(" (Node)", "").replace(", Node", "")} ${range(peer)} | ${
      peerRatio.length ? `${median(peerRatio).toFixed(1)}×` : "–"
    } | ${headroom(results, h, ours)} |`;
  });
  return [
    "# Performance",
    "",
    "Written by `deno task bench` (`scripts/bench/performance_doc.ts`); run it again rather " +
    "than editing this page.",
    "",
    `- Date: ${run.date.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    `- Commit: \`${commit || "unknown"}\`${subject ? ` (${subject.slice(0, 80)})` : ""}${
      dirty ? ", with uncommitted changes" : ""
    }`,
    `- Machine: ${machine()}; load average ${run.loadAtStart} at the start, ` +
    `${run.loadAtEnd} at the end`,
    `- Setup: ${
      run.pinned ? "servers pinned to CPU 0, load generators to CPU 1" : "no CPU pinning"
    }; ${run.rounds} rounds × ${(run.roundMs / 1000).toFixed(1)} s per cell (after ` +
    `${(run.warmupMs / 1000).toFixed(1)} s of warm-up each), the servers taking turns`,
    `- Load generators: HTTP ${run.httpGenerator}, 32 connections; msgpack-rpc ` +
    `${run.tcpGenerator}, one connection`,
    "",
    ...busyWarning(run),
    "| Cell | Switchboard | Ceiling (bare Deno) | Switchboard ÷ ceiling, calls/s | ceiling ÷ Switchboard, server CPU per call | Peer | Switchboard ÷ peer | Generator not the bottleneck? |",
    "|---|--:|--:|--:|--:|---|--:|---|",
    ...rows,
    "",
    "Ranges are the lowest and highest round, with the server's lowest CPU time per call. " +
    "Ratios are taken round by round (turns in a round are seconds apart, so outside load " +
    "moves both alike): their range against the ceiling, their median against the peer. " +
    "The CPU ratio is the ceiling's CPU time per call ÷ Switchboard's: the share of the " +
    "ceiling's calls/s Switchboard would reach if both were bound by their core alone. " +
    "The ceilings are the thinnest Deno servers doing the same job: " +
    "`scripts/bench/bare_http.ts` (`Deno.serve`, `await req.json()`, " +
    "`JSON.stringify({ jsonrpc, id, result })`) and `scripts/bench/bare_tcp.ts` (a " +
    "`Deno.listen` loop decoding each read with msgpackr's `unpackMultiple`, answering each " +
    "request with `pack`, one write per read). A cell's generator is not the bottleneck when " +
    "the bare server goes faster under the same generator, on the same core; XML-RPC has no " +
    "bare ceiling, so its evidence is the bare JSON server under the same wrk and connections. " +
    "The shares are those of Switchboard's best round: CPU time ÷ wall time of the server " +
    "and of the generator (100% = its core busy all along), and the time they were runnable " +
    "but waiting for their core (taken by other processes; Linux schedstat, summed over " +
    "threads). A server neither on its core nor waiting for it was waiting for requests: for " +
    "its generator, or, on one connection, for its own answers to travel and come back as " +
    "new calls.",
    "",
    "## Every cell of the run",
    "",
    run.fullTable,
    "",
    run.notes,
    "",
  ].join("\n");
}
