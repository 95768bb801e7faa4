/**
 * Instructions per call: the server of each checkout runs under valgrind's callgrind, which
 * counts the instructions the process executes (every thread), while the load generator
 * drives it natively. The count of a measured window divided by the calls answered in it is
 * repeatable to a fraction of a percent from run to run, where CPU time per call on a
 * shared two-core machine spreads by 20% (see the README), so it can tell a 5% change apart.
 *
 * `deno run -A scripts/bench/instructions.ts [--baseline DIR] [--cells http:add:1,tcp:add:64x1]
 *   [--warmup 50000] [--window 10000] [--windows 4] [--server "--metrics --log"]`
 *
 * `--server` passes flags to scripts/bench/switchboard_server.ts (the observed variants:
 * `--metrics`, `--log`, `--trace`).
 *
 * A cell is `suite:method:callers`, or `tcp:method:NxC` for N calls in flight on each of C
 * connections. The JIT warms up slowly under valgrind (it runs tens of times slower), so
 * each server is loaded for `--warmup` ms, then measured window after window until two in
 * a row agree within 1% (at most `--windows`). The figure is the lowest of the last three
 * windows: a window that holds a major collection of the heap counts several percent more
 * (the payload cells), and so does one disturbed by other work on the machine. Servers run
 * one at a time; keep the machine otherwise quiet. Needs `valgrind` (Debian package) on
 * PATH; about two and a half minutes per cell and checkout.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type CellResult, runHttpCell, runTcpCell, type Timing } from "./load.ts";
import { type BenchMethod, JSON_BODIES, XML_BODIES } from "./workload.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Every Switchboard cell of `deno task bench`. */
export const ALL_CELLS = [
  "http:add:1",
  "http:add:32",
  "http:payload:1",
  "http:payload:32",
  "xmlrpc:add:1",
  "xmlrpc:add:32",
  "xmlrpc:payload:1",
  "xmlrpc:payload:32",
  "tcp:add:1",
  "tcp:add:32",
  "tcp:add:64x1",
  "tcp:add:512x1",
  "tcp:payload:1",
  "tcp:payload:32",
  "tcp:payload:64x1",
  "tcp:payload:512x1",
];

/** One measured cell of one checkout. */
export interface Counted {
  /** Instructions per call: the lowest of the last three windows. */
  perCall: number;
  /** Instructions per call of each window, in order (to see the warm-up settle). */
  windows: number[];
  /** Calls answered in the last window. */
  calls: number;
}

interface Cell {
  suite: "http" | "xmlrpc" | "tcp";
  method: BenchMethod;
  connections: number;
  depth: number;
}

function parseCell(text: string): Cell {
  const [suite, method, load] = text.split(":");
  if (suite !== "http" && suite !== "xmlrpc" && suite !== "tcp") {
    throw new Error(`cell ${text}: suite is http, xmlrpc or tcp`);
  }
  if (method !== "add" && method !== "payload") throw new Error(`cell ${text}: add or payload`);
  const [depth, connections] = load.includes("x") ? load.split("x").map(Number) : [1, Number(load)];
  if (!(connections > 0 && depth > 0)) throw new Error(`cell ${text}: callers N or NxC`);
  if (suite !== "tcp" && depth !== 1) throw new Error(`cell ${text}: NxC is for tcp only`);
  return { suite, method, connections, depth };
}

/** Drives one window (or the warm-up and a window) of a cell against `ports`. */
function drive(cell: Cell, ports: { http: number; tcp: number }, timing: Timing) {
  if (cell.suite === "tcp") {
    return runTcpCell({
      port: ports.tcp,
      method: cell.method,
      connections: cell.connections,
      depth: cell.depth,
      ...timing,
    });
  }
  const json = cell.suite === "http";
  return runHttpCell({
    port: ports.http,
    path: json ? "/rpc" : "/RPC2",
    format: json ? "json" : "xml",
    contentType: json ? "application/json" : "text/xml",
    body: (json ? JSON_BODIES : XML_BODIES)[cell.method],
    method: cell.method,
    callers: cell.connections,
    ...timing,
  });
}

/** Counts one cell's instructions per call for the server of `checkout`. */
export async function countCell(
  checkout: string,
  cellText: string,
  options: { warmupMs: number; windowMs: number; windows: number; server?: string[] },
): Promise<Counted> {
  const cell = parseCell(cellText);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-callgrind-" });
  const child = new Deno.Command("valgrind", {
    args: [
      "--tool=callgrind",
      // V8 writes and rewrites machine code at run time.
      "--smc-check=all-non-file",
      `--callgrind-out-file=${dir}/out`,
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      `${checkout}/scripts/bench/switchboard_server.ts`,
      ...(options.server ?? []),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const ports = await firstLine(child.stdout);
    // callgrind_control zeroes the counters when a window opens and dumps them when it closes
    // (synchronously: the load generator waits the few milliseconds it takes).
    const control = (what: "-z" | "-d") =>
      new Deno.Command("callgrind_control", {
        args: [what, String(child.pid)],
        stdout: "null",
        stderr: "null",
      }).outputSync();
    const windows: number[] = [];
    let result: CellResult | undefined;
    for (let w = 1; w <= options.windows; w++) {
      result = await drive(cell, ports, {
        warmupMs: w === 1 ? options.warmupMs : 200,
        durationMs: options.windowMs,
        onWindow: (open) => control(open ? "-z" : "-d"),
      });
      if (result.errors || result.wrong) {
        throw new Error(`${cellText}: ${result.errors} errors ${result.wrong ?? ""}`);
      }
      windows.push(Math.round(await dumpedTotal(`${dir}/out.${w}`) / result.calls));
      const [before, last] = windows.slice(-2);
      if (windows.length >= 2 && Math.abs(last / before - 1) < 0.01) break;
    }
    return { perCall: Math.min(...windows.slice(-3)), windows, calls: result!.calls };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone already
    }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

async function firstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<{ http: number; tcp: number }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`server exited before printing its ports: ${text}`);
    text += value;
  }
  reader.releaseLock();
  return JSON.parse(text.slice(0, text.indexOf("\n")));
}

/** The instruction total of a callgrind dump (its `summary:` or `totals:` line). */
async function dumpedTotal(path: string): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const text = await Deno.readTextFile(path).catch(() => "");
    const total = text.match(/^(?:summary|totals): (\d+)/m);
    if (total) return Number(total[1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no callgrind dump at ${path}`);
}

if (import.meta.main) {
  const flags: Record<string, string> = {
    cells: ALL_CELLS.join(","),
    warmup: "50000",
    window: "10000",
    windows: "4",
    server: "",
  };
  for (let i = 0; i < Deno.args.length; i += 2) {
    flags[Deno.args[i].replace(/^--/, "")] = Deno.args[i + 1];
  }
  const options = {
    warmupMs: Number(flags.warmup),
    windowMs: Number(flags.window),
    windows: Number(flags.windows),
    server: flags.server.split(" ").filter((f) => f !== ""),
  };
  const checkouts = [ROOT.replace(/\/$/, ""), ...(flags.baseline ? [flags.baseline] : [])];
  const started = new Date().toISOString().slice(0, 16).replace("T", " ");
  const rows: string[] = [];
  for (const cell of flags.cells.split(",")) {
    const counted: Counted[] = [];
    for (const checkout of checkouts) {
      const c = await countCell(checkout, cell, options);
      console.error(`${cell} ${checkout}: ${c.windows.join(" → ")} instructions/call`);
      counted.push(c);
    }
    const [ours, base] = counted;
    rows.push(
      `| ${cell.padEnd(16)} | ${String(ours.perCall).padStart(9)} | ` +
        (base
          ? `${String(base.perCall).padStart(9)} | ${(ours.perCall / base.perCall).toFixed(3)} |`
          : ""),
    );
  }
  console.log(
    `Server instructions per call (callgrind), ${started} UTC` +
      (flags.baseline ? `, this checkout ÷ ${flags.baseline}:` : ":"),
  );
  console.log("");
  console.log(
    flags.baseline
      ? "| cell | this | baseline | ratio |\n| --- | ---: | ---: | ---: |"
      : "| cell | this |\n| --- | ---: |",
  );
  for (const row of rows) console.log(row);
}
