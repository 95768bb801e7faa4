/**
 * The cells of the benchmark and how a suite runs them: every server of a suite started,
 * then each method × load taken in turn by every server, round after round, with the
 * server's CPU time and peak RSS read from /proc around each measured window.
 *
 * @module
 */

import type { CellResult, Timing } from "./load.ts";
import type { BenchMethod } from "./workload.ts";
import type { Cell, Load } from "./generators.ts";
import {
  cpuTime,
  memory,
  type ReadyLine,
  resetPeak,
  type Running,
  type Share,
  start,
  startShare,
} from "./processes.ts";
import { fmtInt, fmtMs, fmtUs } from "./format.ts";

export type { Load };

/** HTTP loads: one caller, and 32 keep-alive connections. */
export const HTTP_LOADS: Load[] = [
  { label: "1 caller", connections: 1, depth: 1 },
  { label: "32 callers", connections: 32, depth: 1 },
];
/** msgpack-rpc loads: the HTTP ones, then calls pipelined on one connection. */
export const TCP_LOADS: Load[] = [
  ...HTTP_LOADS,
  { label: "64 in flight, 1 conn", connections: 1, depth: 64 },
  { label: "512 in flight, 1 conn", connections: 1, depth: 512 },
];
/** Every method of the workload. */
export const METHODS: BenchMethod[] = ["add", "payload"];

/** One round of one cell. */
export interface Round {
  cps: number;
  /** Server CPU µs per call. */
  cpuUs: number;
  /** The server's share of wall time in the window (on its core, waiting for it). */
  server?: Share;
  /** The load generator's, when it is a process of its own. */
  generator?: Share;
}

/** One measured cell, or why it is missing. */
export interface Measured {
  result?: CellResult;
  peakKiB?: number;
  /** Server CPU time per call in the window (robust to a busy machine), µs. */
  cpuUs?: number;
  /** The server's share of wall time in the round kept (`result`'s). */
  server?: Share;
  /** The load generator's in that round. */
  generator?: Share;
  /** Each round's figures, by round number (for paired ratios and ranges). */
  rounds?: Round[];
  missing?: string;
}

/** `suite|method|load|server`. */
export type Key = string;
/** The key of one cell of one server. */
export const key = (suite: string, method: string, load: string, server: string): Key =>
  `${suite}|${method}|${load}|${server}`;

/** Everything measured, by key. */
export type Results = Map<Key, Measured>;

/** A server of a suite. */
export interface ServerDef {
  /** Row label. */
  name: string;
  /** Ceiling rows are the target, not a peer. */
  ceiling?: boolean;
  /** The command, or why it cannot run. */
  cmd: string[] | string;
  /** Runs one cell against the started server. */
  cell: Cell;
  /** How it announces its ports on stdout (default: a first line of JSON). */
  ready?: ReadyLine;
  /** Whether the started server actually serves this suite (e.g. XML-RPC installed). */
  probe?(ports: Running["ports"]): Promise<string | undefined>;
}

/** How a suite runs: rounds, their timing, pinning. */
export interface SuiteTiming {
  warmupMs: number;
  durationMs: number;
  rounds: number;
  pin: boolean;
}

/** Runs every method × load of a suite against every server; fills `results`. */
export async function runSuite(
  suite: string,
  servers: ServerDef[],
  loads: Load[],
  options: SuiteTiming,
  results: Results,
  methods: readonly BenchMethod[] = METHODS,
): Promise<void> {
  // Every server of the suite is started first and the cells are interleaved (each
  // method and load runs against every server in turn), so that a burst of noise on a
  // shared machine spreads over all servers instead of sinking one.
  const started: { server: ServerDef; running: Running }[] = [];
  const missing = (server: ServerDef, why: string) => {
    for (const m of methods) {
      for (const l of loads) results.set(key(suite, m, l.label, server.name), { missing: why });
    }
    console.error(`  ${server.name}: ${why}`);
  };
  try {
    for (const server of servers) {
      if (typeof server.cmd === "string") {
        missing(server, server.cmd);
        continue;
      }
      let running: Running;
      try {
        running = await start(server.cmd, options.pin, server.ready);
      } catch (error) {
        missing(server, `failed to start: ${error instanceof Error ? error.message : error}`);
        continue;
      }
      started.push({ server, running });
      const why = await server.probe?.(running.ports).catch((e) => `n/a (${e})`);
      if (why) {
        missing(server, why);
        started.pop();
        await running.stop();
      }
    }
    for (const method of methods) {
      for (const load of loads) {
        const best = new Map<string, Measured>();
        for (const { running } of started) resetPeak(running.pid);
        for (let round = 0; round < options.rounds; round++) {
          for (const { server, running } of started) {
            const k = key(suite, method, load.label, server.name);
            const outcome = await runRound(server, running, method, load, options);
            if ("failed" in outcome) {
              if (!best.get(k)?.result) best.set(k, { missing: `failed: ${outcome.failed}` });
              continue;
            }
            best.set(k, keep(best.get(k), outcome.result, outcome.round, round));
          }
        }
        for (const { server, running } of started) {
          const k = key(suite, method, load.label, server.name);
          const measured = best.get(k) ?? { missing: "not run" };
          measured.peakKiB = memory(running.pid).peak;
          if (!Number.isFinite(measured.cpuUs)) measured.cpuUs = NaN;
          results.set(k, measured);
          console.error(progressLine(server.name, method, load, measured));
        }
      }
    }
  } finally {
    await Promise.all(started.map(({ running }) => running.stop()));
  }
}

/** One server's turn in one round. */
async function runRound(
  server: ServerDef,
  running: Running,
  method: BenchMethod,
  load: Load,
  options: SuiteTiming,
): Promise<{ result: CellResult; round: Round } | { failed: string }> {
  let cpuAtOpen = 0, cpuMs = NaN;
  let stop: (() => Share | undefined) | undefined, share: Share | undefined;
  const timing: Timing = {
    warmupMs: options.warmupMs,
    durationMs: options.durationMs / options.rounds,
    onWindow: (open) => {
      if (open) {
        cpuAtOpen = cpuTime(running.pid);
        stop = startShare(running.pid);
      } else {
        cpuMs = cpuTime(running.pid) - cpuAtOpen;
        share = stop?.();
      }
    },
  };
  try {
    const result = await server.cell(running.ports, method, load, timing, running.pid);
    const cpuUs = result.calls ? cpuMs * 1000 / result.calls : NaN;
    return {
      result,
      round: { cps: result.cps, cpuUs, server: share, generator: result.generator },
    };
  } catch (error) {
    return { failed: `${error instanceof Error ? error.message : error}` };
  }
}

/** Best of the rounds: the most calls/s (and its latencies), the least CPU per call. */
function keep(
  previous: Measured | undefined,
  result: CellResult,
  round: Round,
  index: number,
): Measured {
  const rounds = previous?.rounds ?? [];
  rounds[index] = round;
  const kept: Measured = previous?.result && previous.result.cps >= result.cps
    ? previous
    : { ...previous, result, server: round.server, generator: round.generator, missing: undefined };
  kept.rounds = rounds;
  kept.cpuUs = Math.min(
    kept.cpuUs ?? Infinity,
    Number.isFinite(round.cpuUs) ? round.cpuUs : Infinity,
  );
  return kept;
}

/** `  server 97% cpu 2% wait`: a process's share of the window. */
function share(who: string, s: Share | undefined): string {
  if (!s) return "";
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `  ${who} ${pct(s.busy)} cpu ${pct(s.wait)} wait`;
}

function progressLine(name: string, method: string, load: Load, measured: Measured): string {
  const r = measured.result;
  return `  ${name.padEnd(34)} ${method.padEnd(8)} ${load.label.padEnd(21)} ` +
    (r
      ? `${fmtInt(r.cps).padStart(8)} calls/s  p50 ${fmtMs(r.p50)}  p99 ` +
        `${fmtMs(r.p99)} ms  cpu ${fmtUs(measured.cpuUs)} µs/call` +
        share("server", measured.server) + share("generator", measured.generator) +
        (r.errors ? `  errors ${r.errors}` : "") + (r.wrong ? `  (${r.wrong})` : "")
      : measured.missing);
}

/** The suites whose cells make the main table. */
export type TableSuite = "http" | "xmlrpc" | "tcp";

/** How each suite is named in the tables. */
export const PROTOCOL: Record<TableSuite, string> = {
  http: "JSON-RPC / HTTP",
  xmlrpc: "XML-RPC / HTTP",
  tcp: "msgpack-rpc / TCP",
};
