/**
 * Cold start, as a person at a shell meets it: the wall time of one `switchboard call`
 * (a fresh `deno run -A main.ts call …` process: start, load, one call, exit) over HTTP,
 * XML-RPC and TCP, beside the floor (`deno run -A` of an empty script from the same
 * directory), and the time from spawning `switchboard serve` to its first answered call
 * over HTTP and over TCP (polled with raw requests).
 *
 * Commands are timed in turn (round-robin, medians), so that a burst of outside load hits
 * all of them alike. Only public tools: `Deno.Command`, sockets, `performance.now()`.
 *
 * Run alone: `deno run -A scripts/bench/coldstart.ts [--runs N]`, or in the benchmark with
 * `deno task bench --only coldstart`.
 *
 * @module
 */

import { stopChild } from "./stop_child.ts";
import { median } from "./median.ts";
import { freePorts } from "../smoke/processes.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = `${ROOT}main.ts`;

/** Wall time of one run of `deno <args>` from the repository root, ms; throws on failure. */
async function timeOnce(args: string[], expect?: RegExp): Promise<number> {
  const began = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(30_000),
  }).output();
  const elapsed = performance.now() - began;
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success || (expect && !expect.test(stdout))) {
    throw new Error(
      `deno ${args.join(" ")} failed (exit ${out.code}): ${stdout}${
        new TextDecoder().decode(out.stderr)
      }`.slice(0, 600),
    );
  }
  return elapsed;
}

/** A raw JSON-RPC request over HTTP/1.1: resolves true when it was answered with 42. */
async function httpAnswered(port: number): Promise<boolean> {
  const body = '{"jsonrpc":"2.0","id":1,"method":"Calculator.add","params":[20,22]}';
  const request = `POST /rpc HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ` +
    `application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
  return /"result":42/.test(await exchange(port, new TextEncoder().encode(request)));
}

/** A raw msgpack-rpc request [0, 1, "Calculator.add", [20, 22]]: true when answered 42. */
async function tcpAnswered(port: number): Promise<boolean> {
  // fixarray(4) 0 1 fixstr(14)"Calculator.add" fixarray(2) 20 22
  const request = new Uint8Array([
    0x94,
    0x00,
    0x01,
    0xae,
    ...new TextEncoder().encode("Calculator.add"),
    0x92,
    20,
    22,
  ]);
  // The answer [1, 1, nil, 42]: fixarray(4) 1 1 nil 42.
  const reply = await exchange(port, request, 4);
  return reply === String.fromCharCode(0x94, 0x01, 0x01, 0xc0, 42);
}

/** Sends `bytes` to 127.0.0.1:port and reads until close (or `length` bytes); "" if refused. */
async function exchange(port: number, bytes: Uint8Array, length = Infinity): Promise<string> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return "";
  }
  const timer = setTimeout(() => conn.close(), 5000);
  let text = "";
  try {
    await conn.write(bytes);
    const buffer = new Uint8Array(4096);
    while (text.length < length) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += String.fromCharCode(...buffer.subarray(0, n));
    }
    return text;
  } catch {
    return text;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** Polls `answered` every 2 ms until true; the time since `began`, ms (or NaN after 20 s). */
async function firstAnswer(began: number, answered: () => Promise<boolean>): Promise<number> {
  while (performance.now() - began < 20_000) {
    if (await answered()) return performance.now() - began;
    await new Promise((r) => setTimeout(r, 2));
  }
  return NaN;
}

/** A `switchboard serve` of the demo on fresh ports, and when each listener first answered. */
async function startServe(): Promise<{
  http: number;
  tcp: number;
  httpMs: number;
  tcpMs: number;
  stop(): Promise<void>;
}> {
  const [http, tcp] = freePorts(2);
  const began = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--http",
      `127.0.0.1:${http}`,
      "--tcp",
      `127.0.0.1:${tcp}`,
      "--log-level",
      "off",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const [httpMs, tcpMs] = await Promise.all([
    firstAnswer(began, () => httpAnswered(http)),
    firstAnswer(began, () => tcpAnswered(tcp)),
  ]);
  const stop = () => stopChild(child);
  if (!Number.isFinite(httpMs) || !Number.isFinite(tcpMs)) {
    await stop();
    throw new Error("switchboard serve did not answer within 20 s");
  }
  return { http, tcp, httpMs, tcpMs, stop };
}

/** One row of the cold-start table. */
export interface ColdRow {
  /** Which figure: floor, version, http, xmlrpc, tcp, serve-http, serve-tcp. */
  key: string;
  /** What was timed. */
  what: string;
  /** Median wall time, ms. */
  ms: number;
  /** Ratio to the floor (an empty script), where that is the comparison. */
  ratio?: number;
}

/** What the cold-start suite measured. */
export interface ColdStart {
  /** `deno run -A` of an empty script, median ms. */
  floorMs: number;
  /** The rows, floor first. */
  rows: ColdRow[];
  /** Runs per figure. */
  runs: number;
}

/** Runs the cold-start suite: `runs` timings of each command, round-robin. */
export async function runColdStart(runs: number, log = console.error): Promise<ColdStart> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-coldstart-" });
  const empty = `${dir}/empty.ts`;
  await Deno.writeTextFile(empty, "export {};\n");
  const serveHttp: number[] = [], serveTcp: number[] = [];
  let target: Awaited<ReturnType<typeof startServe>> | undefined;
  try {
    // Serve start to first answer; the last server stays up as the target of the calls.
    for (let i = 0; i < runs; i++) {
      const serve = await startServe();
      serveHttp.push(serve.httpMs);
      serveTcp.push(serve.tcpMs);
      if (i < runs - 1) await serve.stop();
      else target = serve;
    }
    const { http, tcp } = target!;
    const call = (url: string, ...extra: string[]) => [
      "run",
      "-A",
      MAIN,
      "call",
      url,
      "Calculator.add",
      "[20,22]",
      ...extra,
    ];
    const commands: {
      key: string;
      what: string;
      args: string[];
      expect?: RegExp;
      vsFloor: boolean;
    }[] = [
      {
        key: "floor",
        what: "deno run -A empty.ts (the floor)",
        args: ["run", "-A", empty],
        vsFloor: false,
      },
      {
        key: "version",
        what: "switchboard --version",
        args: ["run", "-A", MAIN, "--version"],
        expect: /^switchboard /,
        vsFloor: true,
      },
      {
        key: "http",
        what: "switchboard call http://… (JSON-RPC)",
        args: call(`http://127.0.0.1:${http}`),
        expect: /^42$/m,
        vsFloor: true,
      },
      {
        key: "xmlrpc",
        what: "switchboard call http://… --protocol xmlrpc",
        args: call(`http://127.0.0.1:${http}`, "--protocol", "xmlrpc"),
        expect: /^42$/m,
        vsFloor: true,
      },
      {
        key: "tcp",
        what: "switchboard call tcp://… (msgpack-rpc)",
        args: call(`tcp://127.0.0.1:${tcp}`),
        expect: /^42$/m,
        vsFloor: true,
      },
    ];
    // One untimed run each: the module cache is warm, as for anyone's second command.
    for (const c of commands) await timeOnce(c.args, c.expect);
    const times = commands.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) {
      for (const [j, c] of commands.entries()) times[j].push(await timeOnce(c.args, c.expect));
    }
    const floorMs = median(times[0]);
    const rows: ColdRow[] = commands.map((c, j) => {
      const ms = median(times[j]);
      return { key: c.key, what: c.what, ms, ratio: c.vsFloor ? ms / floorMs : undefined };
    });
    rows.push(
      {
        key: "serve-http",
        what: "switchboard serve: start → first HTTP answer",
        ms: median(serveHttp),
      },
      {
        key: "serve-tcp",
        what: "switchboard serve: start → first TCP answer",
        ms: median(serveTcp),
      },
    );
    for (const r of rows) {
      log(
        `  ${r.what.padEnd(48)} ${r.ms.toFixed(1).padStart(7)} ms` +
          (r.ratio === undefined ? "" : `  ${r.ratio.toFixed(2)}× the floor`),
      );
    }
    return { floorMs, rows, runs };
  } finally {
    await target?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The Markdown table of a cold-start run. */
export function coldStartTable(cold: ColdStart): string {
  const lines = [
    `| Cold start (median of ${cold.runs}) | wall time ms | × the floor |`,
    "|---|--:|--:|",
  ];
  for (const r of cold.rows) {
    lines.push(
      `| ${r.what} | ${r.ms.toFixed(1)} | ${
        r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`
      } |`,
    );
  }
  lines.push(
    "",
    "Cold start: wall time of a fresh `deno run -A main.ts …` process from spawn to exit " +
      "(module cache warm, as for anyone's second command; no CPU pinning), median of the " +
      "runs taken in turn with the floor, an empty script run the same way. serve: from spawn " +
      "to the first raw request answered on fresh ports (polled every 2 ms).",
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--runs");
  const runs = at >= 0 ? Math.max(1, Number(Deno.args[at + 1])) : 11;
  console.log(coldStartTable(await runColdStart(runs)));
}
