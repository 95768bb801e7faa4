/**
 * `serve --workers 2` against `serve --workers 1` (`deno task bench --workers-only`, or the
 * `workers` suite of a whole run): real `deno run -A main.ts serve` processes with the bench
 * component, `--metrics` and no access log, taking turns round by round in two cells
 * (JSON-RPC `add` over HTTP from wrk, 32 connections; pipelined msgpack-rpc `add` from the
 * Node generator, 32 connections × 16 in flight), and a third server, `--workers 2` with the
 * access log on, for what the main isolate does per call. Neither the servers nor the
 * generators are pinned: they share every core, as the issue asks.
 *
 * Besides calls/s and CPU per call (runSuite's), each round reads `/metrics` as its window
 * opens and closes, for the calls each worker answered in it
 * (`switchboard_serve_worker_calls_total{worker}`), and the CPU time of the process's threads:
 * the main isolate's, the workers', the rest (GC, I/O).
 *
 * @module
 */

import type { CellResult } from "./load.ts";
import type { Cell, Generators, Load } from "./generators.ts";
import { httpCell, tcpCell } from "./generators.ts";
import type { ServerDef } from "./cells.ts";
import { HERE, type ReadyLine, ROOT, threadCpu } from "./processes.ts";

/** The suites of the two cells, as runSuite keys them. */
export const WORKERS_HTTP = "workers-http";
export const WORKERS_TCP = "workers-tcp";

/** The loads: 32 connections each (many pipelined calls on one would stay on one worker). */
export const WORKERS_HTTP_LOAD: Load = { label: "32 connections", connections: 32, depth: 1 };
export const WORKERS_TCP_LOAD: Load = {
  label: "32 connections × 16 in flight",
  connections: 32,
  depth: 16,
};

/** Row labels. */
export const ONE = "serve --workers 1";
export const TWO = "serve --workers 2";
export const TWO_LOGGED = "serve --workers 2 + access log";

/** What one round of one server showed besides runSuite's figures. */
export interface WorkerRound {
  /** Calls each worker answered in the window (one figure for `--workers 1`). */
  perWorker?: number[];
  /**
   * Connections of the cell's transport each worker held in the middle of the window
   * (`--workers 2` only; the HTTP cell's include the scrapes' own).
   */
  connections?: number[];
  /** CPU µs per call of the main thread, the worker threads and the others, in the window. */
  mainUs: number;
  workersUs: number;
  otherUs: number;
}

/** Per server label and suite (`suite|server`), each round's figures (undefined: it failed). */
export type WorkerRounds = Map<string, (WorkerRound | undefined)[]>;

/** `serve` with the bench component on free ports, `--metrics`, and the log off or on. */
export function serveCommand(workers: number, log: boolean, cpus?: string): string[] {
  return [
    ...(cpus ? ["taskset", "-c", cpus] : []),
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    `${ROOT}main.ts`,
    "serve",
    "--workers",
    String(workers),
    "--component",
    `${HERE}bench_component.ts`,
    "--http",
    "127.0.0.1:0",
    "--tcp",
    "127.0.0.1:0",
    "--metrics",
    "--no-explorer",
    "--log-level",
    log ? "info" : "off",
  ];
}

/** `serve`'s ports, from its "listening on …" lines, once it says "serving …" (all listen). */
export const servePorts: ReadyLine = (stdout) => {
  if (!/^serving /m.test(stdout)) return undefined;
  const port = (scheme: string) => {
    const m = new RegExp(`^listening on ${scheme}://[^\\s:]+:(\\d+)`, "m").exec(stdout);
    return m ? Number(m[1]) : undefined;
  };
  return { http: port("http"), tcp: port("tcp") ?? null };
};

/** The value of every sample of `family` in a Prometheus exposition, with its labels. */
function samples(exposition: string, family: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(family)) continue;
    const m = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === family) out.push({ labels: m[2] ?? "", value: Number(m[3]) });
  }
  return out;
}

/**
 * Calls answered so far, per worker: `switchboard_serve_worker_calls_total{worker="i"}` in
 * worker order; without it (one worker, no pool), every `switchboard_calls_total` added up.
 */
export function workerCalls(exposition: string): number[] {
  const per = samples(exposition, "switchboard_serve_worker_calls_total");
  if (per.length) {
    const calls: number[] = [];
    for (const { labels, value } of per) {
      const i = Number(/worker="(\d+)"/.exec(labels)?.[1]);
      if (Number.isInteger(i)) calls[i] = value;
    }
    return Array.from(calls, (v) => v ?? 0);
  }
  return [samples(exposition, "switchboard_calls_total").reduce((sum, s) => sum + s.value, 0)];
}

/**
 * Each worker's open connections of `transport`
 * (`switchboard_serve_worker_connections{worker,transport}`), in worker order; undefined
 * without the family (one worker, no pool).
 */
export function workerConnections(exposition: string, transport: string): number[] | undefined {
  const per = samples(exposition, "switchboard_serve_worker_connections")
    .filter(({ labels }) => labels.includes(`transport="${transport}"`));
  if (!per.length) return undefined;
  const out: number[] = [];
  for (const { labels, value } of per) {
    const i = Number(/worker="(\d+)"/.exec(labels)?.[1]);
    if (Number.isInteger(i)) out[i] = (out[i] ?? 0) + value;
  }
  return Array.from(out, (v) => v ?? 0);
}

/** Each worker's calls between two readings of `workerCalls` (a restarted one starts at 0). */
export function callsBetween(before: number[], after: number[]): number[] {
  return after.map((v, i) => v >= (before[i] ?? 0) ? v - (before[i] ?? 0) : v);
}

/** The busiest worker's calls ÷ the idlest's − 1 (0: even; Infinity: one had none). */
export function spread(perWorker: number[]): number | undefined {
  if (perWorker.length < 2) return undefined;
  const lo = Math.min(...perWorker), hi = Math.max(...perWorker);
  return lo > 0 ? hi / lo - 1 : hi > 0 ? Infinity : undefined;
}

interface Scraped {
  calls: number[];
  connections?: number[];
}

async function scrape(port: number | undefined, transport: string): Promise<Scraped | undefined> {
  if (!port) return undefined;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await response.text();
    return { calls: workerCalls(text), connections: workerConnections(text, transport) };
  } catch {
    return undefined;
  }
}

/**
 * `inner`, with each round's per-worker calls and connections (of `transport`) and thread
 * CPU recorded under `recordAs`.
 */
function observed(
  inner: Cell,
  rounds: WorkerRounds,
  recordAs: string,
  transport: string,
): Cell {
  return async (ports, method, load, timing, pid) => {
    const list = rounds.get(recordAs) ?? [];
    rounds.set(recordAs, list);
    let opening: Promise<Scraped | undefined> | undefined;
    let closing: Promise<Scraped | undefined> | undefined;
    let middle: Promise<Scraped | undefined> | undefined;
    let midTimer: ReturnType<typeof setTimeout> | undefined;
    let cpuAtOpen: ReturnType<typeof threadCpu> | undefined;
    let cpuAtClose: ReturnType<typeof threadCpu> | undefined;
    let result: CellResult;
    try {
      result = await inner(ports, method, load, {
        ...timing,
        onWindow: (open) => {
          timing.onWindow?.(open);
          if (pid !== undefined) {
            if (open) cpuAtOpen = threadCpu(pid);
            else cpuAtClose = threadCpu(pid);
          }
          if (open) {
            opening = scrape(ports.http, transport);
            // Connections mid-window: wrk opens its own after the window opens.
            midTimer = setTimeout(() => {
              middle = scrape(ports.http, transport);
            }, timing.durationMs / 2);
          } else closing = scrape(ports.http, transport);
        },
      }, pid);
    } catch (error) {
      clearTimeout(midTimer);
      list.push(undefined);
      throw error;
    }
    clearTimeout(midTimer);
    const [before, after, during] = await Promise.all([opening, closing, middle]);
    const perCall = (k: "main" | "workers" | "other") =>
      cpuAtOpen && cpuAtClose && result.calls
        ? (cpuAtClose[k] - cpuAtOpen[k]) * 1000 / result.calls
        : NaN;
    list.push({
      perWorker: before && after ? callsBetween(before.calls, after.calls) : undefined,
      ...(during?.connections ? { connections: during.connections } : {}),
      mainUs: perCall("main"),
      workersUs: perCall("workers"),
      otherUs: perCall("other"),
    });
    return result;
  };
}

/** The three servers of one cell; `cpus` lets them use every core whatever this process has. */
function servers(
  suite: string,
  cell: Cell,
  rounds: WorkerRounds,
  cpus: string | undefined,
  transport: string,
): ServerDef[] {
  return ([[ONE, 1, false], [TWO, 2, false], [TWO_LOGGED, 2, true]] as const).map((
    [name, workers, log],
  ) => ({
    name,
    cmd: serveCommand(workers, log, cpus),
    ready: servePorts,
    cell: observed(cell, rounds, `${suite}|${name}`, transport),
  }));
}

/** The two cells' servers, for runSuite. */
export function workersSuites(
  g: Generators,
  rounds: WorkerRounds,
): { suite: string; load: Load; servers: ServerDef[] }[] {
  return [
    {
      suite: WORKERS_HTTP,
      load: WORKERS_HTTP_LOAD,
      servers: servers(WORKERS_HTTP, httpCell("/rpc", "json", g), rounds, g.cpus, "http"),
    },
    {
      suite: WORKERS_TCP,
      load: WORKERS_TCP_LOAD,
      servers: servers(WORKERS_TCP, tcpCell(g), rounds, g.cpus, "tcp"),
    },
  ];
}
