/**
 * The HTTP load generator when `wrk` is installed: Debian's native `wrk`, one thread, N
 * keep-alive connections, POSTing one pre-built body (a Lua script sets the method, body and
 * content type). A warm-up run, then the measured run; calls/s and latency percentiles are
 * read from wrk's `--latency` report. wrk does not check answers, so one request made before
 * the warm-up must get the right one.
 *
 * @module
 */

import type { CellResult, Timing } from "./load.ts";
import { type Share, startShare } from "./processes.ts";

/** One wrk-driven HTTP cell. */
export interface WrkCell extends Timing {
  /** Server port on 127.0.0.1. */
  port: number;
  /** Request path (`/rpc`, `/RPC2`). */
  path: string;
  /** Request content type. */
  contentType: string;
  /** The request body. */
  body: string;
  /** Keep-alive connections (wrk's `-c`). */
  connections: number;
  /** The command prefix that pins wrk to its core (`taskset -c 1`), or none. */
  pinned: string[];
  /** Checks one answer before the load; returns the problem, if any. */
  check(status: number, body: Uint8Array): string | undefined;
}

/** The Lua script making wrk POST `body` with `contentType`. */
export function wrkScript(body: string, contentType: string): string {
  let level = "=";
  while (body.includes(`]${level}]`)) level += "=";
  return [
    `wrk.method = "POST"`,
    `wrk.body = [${level}[${body}]${level}]`,
    `wrk.headers["Content-Type"] = "${contentType}"`,
    "",
  ].join("\n");
}

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** A wrk duration (`286.00us`, `1.52ms`, `2.01s`) in ms. */
function duration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]] : NaN;
}

/** The figures of wrk's `--latency` report. */
export function parseWrk(report: string): CellResult {
  const number = (re: RegExp) => Number(re.exec(report)?.[1] ?? NaN);
  const requests = number(/(\d+) requests in/);
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    report,
  );
  const non2xx = number(/Non-2xx or 3xx responses: (\d+)/) || 0;
  const percentile = (p: string) =>
    duration(new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m").exec(report)?.[1] ?? "");
  const cps = number(/Requests\/sec:\s*([\d.]+)/);
  if (!Number.isFinite(cps)) throw new Error(`wrk gave no figures:\n${report.slice(0, 400)}`);
  return {
    cps,
    p50: percentile("50"),
    p99: percentile("99"),
    calls: requests,
    // A server that closes each connection makes wrk count read errors that are not
    // failed calls; only refused connections, timeouts and bad statuses are.
    errors: non2xx + (sockets ? Number(sockets[1]) + Number(sockets[4]) : 0),
    wrong: non2xx ? `${non2xx} answers were not 2xx` : requests ? undefined : "no answers",
  };
}

/** wrk's whole seconds (its `-d` takes no fractions). */
const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

/** One wrk run; with `window`, its share of its core over the run (nearly all of it). */
async function wrk(
  cell: WrkCell,
  script: string,
  ms: number,
  window?: (open: boolean) => void,
): Promise<{ report: string; share?: Share }> {
  const argv = [
    ...cell.pinned,
    "wrk",
    "-t1",
    `-c${cell.connections}`,
    `-d${seconds(ms)}s`,
    "--latency",
    "--timeout",
    "10s",
    "-s",
    script,
    `http://127.0.0.1:${cell.port}${cell.path}`,
  ];
  window?.(true); // the measured window opens as wrk starts
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let share: Share | undefined;
  if (window) {
    // wrk's figures come once it has exited; its CPU time is read just before.
    const stop = startShare(child.pid);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const nearEnd = new Promise((resolve) => timer = setTimeout(resolve, seconds(ms) * 1000 - 200));
    await Promise.race([output, nearEnd]);
    clearTimeout(timer);
    share = stop();
  }
  const out = await output;
  window?.(false);
  if (!out.success) {
    throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`);
  }
  return { report: new TextDecoder().decode(out.stdout), share };
}

/** Loads an HTTP server with wrk: warm-up, then the measured run. */
export async function runWrkCell(cell: WrkCell): Promise<CellResult> {
  const answer = await fetch(`http://127.0.0.1:${cell.port}${cell.path}`, {
    method: "POST",
    headers: { "content-type": cell.contentType },
    body: cell.body,
  });
  const problem = cell.check(answer.status, new Uint8Array(await answer.arrayBuffer()));
  if (problem) throw new Error(problem);
  const script = await Deno.makeTempFile({ prefix: "switchboard-wrk-", suffix: ".lua" });
  try {
    await Deno.writeTextFile(script, wrkScript(cell.body, cell.contentType));
    if (cell.warmupMs > 0) await wrk(cell, script, cell.warmupMs);
    const { report, share } = await wrk(
      cell,
      script,
      cell.durationMs,
      (open) => cell.onWindow?.(open),
    );
    return { ...parseWrk(report), generator: share };
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}
