/**
 * `deno task bench`: Switchboard side by side with peer RPC servers. Starts each server as
 * its own process, drives it with the same load generator (`load.ts`; gRPC through
 * `peers/grpc_load.js`), reads the server's peak RSS from /proc, and prints one Markdown
 * table with the ratios, the idle-connection memory, and the targets met or missed.
 *
 * Flags: `--only http,xmlrpc,tcp,idle,observe,size` (a subset; `observe` is the cost of metrics,
 * access log and tracing, and `--only observe` alone takes a few minutes; `size` is the
 * minified + gzipped browser bundle of "." next to npm json-rpc-2.0's, in seconds; `coldstart`
 * is the wall time of a cold `switchboard call` and of `serve` to its first answer, about
 * 15 s, see `coldstart.ts`), `--cold-runs N` (runs per cold-start figure, default 11),
 * `--warmup MS` (per round, default 300),
 * `--duration MS` (measured per cell, split over the rounds, default 2100), `--rounds N`
 * (default 3), `--idle N` (idle connections, default 1000), `--baseline DIR` (another checkout
 * run side by side, with a table of CPU per call against it), `--switchboard-only` (no peers),
 * `--no-pin` (do not pin servers
 * to CPU 1 and the load generator to CPU 0).
 *
 * @module
 */

import { median } from "./median.ts";
import { stopChild } from "./stop_child.ts";
import { fileURLToPath } from "node:url";
import { type CellResult, openIdle, runHttpCell, runTcpCell, type Timing } from "./load.ts";
import { type BenchMethod, JSON_BODIES, ORDER, XML_BODIES } from "./workload.ts";
import {
  DENO_ALONE,
  DENO_ALONE_TRACED,
  denoAloneCommands,
  OBSERVE_CELLS,
  observeCommands,
  OBSERVED,
  PLAIN,
  TRACED,
  TRACED_BARE,
} from "./observe.ts";
import { measureSizes, SIZE_TARGET_KB, type Sizes, sizeTable, switchboardKb } from "./size.ts";
import { type ColdStart, coldStartTable, runColdStart } from "./coldstart.ts";

const HERE = fileURLToPath(new URL("./", import.meta.url));
const PEERS = `${HERE}peers`;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Suite = "http" | "xmlrpc" | "tcp" | "idle" | "observe" | "size" | "coldstart";
const SUITES: Suite[] = ["http", "xmlrpc", "tcp", "idle", "observe", "size", "coldstart"];

interface Options {
  only: Set<Suite>;
  warmupMs: number;
  durationMs: number;
  rounds: number;
  pin: boolean;
  idleConnections: number;
  /** Another checkout of Switchboard to run side by side (an A/B of two versions). */
  baseline?: string;
  /** Leave out the peers and ceilings (with --baseline: just the two versions). */
  switchboardOnly: boolean;
  /** Runs per cold-start figure. */
  coldRuns: number;
}

function parseOptions(args: string[]): Options {
  const options: Options = {
    only: new Set(SUITES),
    warmupMs: 300,
    durationMs: 2100,
    rounds: 3,
    pin: true,
    idleConnections: 1000,
    switchboardOnly: false,
    coldRuns: 11,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--only": {
        const wanted = value().split(",").map((s) => s.trim()) as Suite[];
        for (const s of wanted) {
          if (!SUITES.includes(s)) throw new Error(`--only: unknown suite ${s} (${SUITES})`);
        }
        options.only = new Set(wanted);
        break;
      }
      case "--warmup":
        options.warmupMs = Number(value());
        break;
      case "--duration":
        options.durationMs = Number(value());
        break;
      case "--rounds":
        options.rounds = Math.max(1, Number(value()));
        break;
      case "--no-pin":
        options.pin = false;
        break;
      case "--idle":
        options.idleConnections = Number(value());
        break;
      case "--cold-runs":
        options.coldRuns = Math.max(1, Number(value()));
        break;
      case "--baseline":
        options.baseline = value().replace(/\/$/, "");
        break;
      case "--switchboard-only":
        options.switchboardOnly = true;
        break;
      default:
        throw new Error(`unknown flag ${args[i]}`);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------
// Processes

/** A server process under benchmark. */
interface Running {
  pid: number;
  ports: { http?: number; tcp?: number | null; grpc?: number };
  stop(): Promise<void>;
}

async function has(command: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${command}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function start(cmd: string[], pin: boolean): Promise<Running> {
  const argv = pin ? ["taskset", "-c", "1", ...cmd] : cmd;
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const draining = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (s) => void (stderr = (stderr + s).slice(-4000)) }),
  ).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    while (!line.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`${cmd.join(" ")} exited before listening:\n${stderr}`);
      line += value;
    }
  } finally {
    clearTimeout(timeout);
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  const ports = JSON.parse(line.split("\n")[0]);
  return {
    pid: child.pid,
    ports,
    async stop() {
      await stopChild(child);
      await draining;
    },
  };
}

/** Resets the process's peak RSS (Linux `clear_refs` 5), so each cell has its own peak. */
function resetPeak(pid: number): void {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch { /* not Linux, or not allowed: the peak is then the process's lifetime peak */ }
}

const CLOCK_TICKS = (() => {
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync();
    return Number(new TextDecoder().decode(out.stdout)) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) the process has used, in ms. */
function cpuTime(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS;
}

/** VmHWM (peak) and VmRSS (current) in KiB. */
function memory(pid: number): { peak: number; rss: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) => Number(new RegExp(`${name}:\\s*(\\d+)`).exec(status)?.[1]);
  return { peak: field("VmHWM"), rss: field("VmRSS") };
}

// ---------------------------------------------------------------------------------------
// Cells

interface Load {
  label: string;
  connections: number;
  depth: number;
}

const HTTP_LOADS: Load[] = [
  { label: "1 caller", connections: 1, depth: 1 },
  { label: "32 callers", connections: 32, depth: 1 },
];
const TCP_LOADS: Load[] = [
  ...HTTP_LOADS,
  { label: "64 in flight, 1 conn", connections: 1, depth: 64 },
];
const METHODS: BenchMethod[] = ["add", "payload"];

/** One measured cell, or why it is missing. */
interface Measured {
  result?: CellResult;
  peakKiB?: number;
  /** Server CPU time per call in the window (robust to a busy machine), µs. */
  cpuUs?: number;
  /** Each round's calls/s and CPU µs/call, by round number (for paired ratios). */
  rounds?: { cps: number; cpuUs: number }[];
  missing?: string;
}

type Key = string;
const key = (suite: string, method: string, load: string, server: string): Key =>
  `${suite}|${method}|${load}|${server}`;

interface ServerDef {
  /** Row label. */
  name: string;
  /** Ceiling rows are the target, not a peer. */
  ceiling?: boolean;
  /** The command, or why it cannot run. */
  cmd: string[] | string;
  /** Runs one cell against the started server. */
  cell(
    ports: Running["ports"],
    method: BenchMethod,
    load: Load,
    timing: Timing,
  ): Promise<CellResult>;
  /** Whether the started server actually serves this suite (e.g. XML-RPC installed). */
  probe?(ports: Running["ports"]): Promise<string | undefined>;
}

const SWITCHBOARD = "Switchboard";
const BASELINE = "Switchboard (baseline)";

/** Server CPU per call of this checkout against the baseline checkout, cell by cell. */
function baselineTable(results: Map<Key, Measured>, dir: string): string {
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

async function runSuite(
  suite: string,
  servers: ServerDef[],
  loads: Load[],
  options: Options,
  results: Map<Key, Measured>,
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
        running = await start(server.cmd, options.pin);
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
        // Best of `rounds` short rounds, taken in turn by every server: the round with the
        // most calls/s (and its latencies), the least CPU per call, the peak RSS of all.
        const best = new Map<string, Measured>();
        for (const { running } of started) resetPeak(running.pid);
        for (let round = 0; round < options.rounds; round++) {
          for (const { server, running } of started) {
            const k = key(suite, method, load.label, server.name);
            let cpuAtOpen = 0, cpuMs = NaN;
            const timing: Timing = {
              warmupMs: options.warmupMs,
              durationMs: options.durationMs / options.rounds,
              onWindow: (open) => {
                if (open) cpuAtOpen = cpuTime(running.pid);
                else cpuMs = cpuTime(running.pid) - cpuAtOpen;
              },
            };
            let result: CellResult;
            try {
              result = await server.cell(running.ports, method, load, timing);
            } catch (error) {
              if (!best.get(k)?.result) {
                best.set(k, {
                  missing: `failed: ${error instanceof Error ? error.message : error}`,
                });
              }
              continue;
            }
            const cpuUs = result.calls ? cpuMs * 1000 / result.calls : NaN;
            const previous = best.get(k);
            const rounds = previous?.rounds ?? [];
            rounds[round] = { cps: result.cps, cpuUs };
            const kept = previous?.result && previous.result.cps >= result.cps
              ? previous
              : { ...previous, result, missing: undefined };
            kept.rounds = rounds;
            kept.cpuUs = Math.min(
              kept.cpuUs ?? Infinity,
              Number.isFinite(cpuUs) ? cpuUs : Infinity,
            );
            best.set(k, kept);
          }
        }
        for (const { server, running } of started) {
          const k = key(suite, method, load.label, server.name);
          const measured = best.get(k) ?? { missing: "not run" };
          measured.peakKiB = memory(running.pid).peak;
          if (!Number.isFinite(measured.cpuUs)) measured.cpuUs = NaN;
          results.set(k, measured);
          const r = measured.result;
          console.error(
            `  ${server.name.padEnd(34)} ${method.padEnd(8)} ${load.label.padEnd(21)} ` +
              (r
                ? `${fmtInt(r.cps).padStart(8)} calls/s  p50 ${fmtMs(r.p50)}  p99 ` +
                  `${fmtMs(r.p99)} ms  cpu ${fmtUs(measured.cpuUs)} µs/call` +
                  (r.errors ? `  errors ${r.errors}` : "") + (r.wrong ? `  (${r.wrong})` : "")
                : measured.missing),
          );
        }
      }
    }
  } finally {
    await Promise.all(started.map(({ running }) => running.stop()));
  }
}

function deno(script: string): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", `${HERE}${script}`];
}

function httpCell(path: string, format: "json" | "xml") {
  return (ports: Running["ports"], method: BenchMethod, load: Load, timing: Timing) =>
    runHttpCell({
      ...timing,
      port: ports.http!,
      path,
      format,
      contentType: format === "json" ? "application/json" : "text/xml",
      body: format === "json" ? JSON_BODIES[method] : XML_BODIES[method],
      method,
      callers: load.connections,
    });
}

function tcpCell() {
  return (ports: Running["ports"], method: BenchMethod, load: Load, timing: Timing) =>
    runTcpCell({
      ...timing,
      port: ports.tcp!,
      method,
      connections: load.connections,
      depth: load.depth,
    });
}

function grpcCell(options: Options) {
  return async (ports: Running["ports"], method: BenchMethod, load: Load, timing: Timing) => {
    const cell = {
      port: ports.grpc,
      method,
      connections: load.connections,
      depth: load.depth,
      warmupMs: timing.warmupMs,
      durationMs: timing.durationMs,
      order: ORDER,
    };
    const argv = [
      ...(options.pin ? ["taskset", "-c", "0"] : []),
      "node",
      `${PEERS}/grpc_load.js`,
      JSON.stringify(cell),
    ];
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // The generator announces its window ("window open", "window closed"), then the result.
    let text = "", last = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      let nl: number;
      while ((nl = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (line === "window open") timing.onWindow?.(true);
        else if (line === "window closed") timing.onWindow?.(false);
        else if (line.trim()) last = line;
      }
    }
    if (!(await child.status).success) throw new Error("gRPC load generator failed");
    return JSON.parse(last) as CellResult;
  };
}

// ---------------------------------------------------------------------------------------
// Output

function fmtInt(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US");
}

function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

function fmtUs(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(1);
}

function fmtMiB(kib: number | undefined): string {
  return kib === undefined || !Number.isFinite(kib) ? "–" : (kib / 1024).toFixed(1);
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

function ratio(a: Measured | undefined, b: Measured | undefined): number | undefined {
  const x = a?.result?.cps, y = b?.result?.cps;
  return x && y ? x / y : undefined;
}

/** `a` ÷ `b` in calls/s: the median of the rounds' ratios, or of the bests without rounds. */
function compared(a: Measured | undefined, b: Measured | undefined): number | undefined {
  return pairedRatio(a, b) ?? ratio(a, b);
}

/**
 * The median over rounds of `a`'s figure ÷ `b`'s in the same round. Two servers' turns in
 * one round are seconds apart, so outside load moves both alike; on a shared machine this
 * is far steadier than a ratio of two bests (which may come from different rounds).
 */
function pairedRatio(
  a: Measured | undefined,
  b: Measured | undefined,
  figure: "cps" | "cpuUs" = "cps",
): number | undefined {
  const ratios: number[] = [];
  const n = Math.min(a?.rounds?.length ?? 0, b?.rounds?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const x = a!.rounds![i]?.[figure], y = b!.rounds![i]?.[figure];
    if (x && y && Number.isFinite(x) && Number.isFinite(y)) ratios.push(x / y);
  }
  return ratios.length === 0 ? undefined : median(ratios);
}

const PROTOCOL: Record<Exclude<Suite, "idle" | "observe">, string> = {
  http: "JSON-RPC / HTTP",
  xmlrpc: "XML-RPC / HTTP",
  tcp: "msgpack-rpc / TCP",
  size: "browser bundle",
  coldstart: "cold start",
};

function table(
  rows: { suite: Exclude<Suite, "idle" | "observe">; loads: Load[]; servers: ServerDef[] }[],
  results: Map<Key, Measured>,
): string {
  const lines = [
    "| Protocol | Method | Load | Switchboard calls/s | p50 ms | p99 ms | RSS MiB | CPU µs/call | Peer | calls/s | p50 ms | p99 ms | RSS MiB | CPU µs/call | Ratio |",
    "|---|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { suite, loads, servers } of rows) {
    for (const method of METHODS) {
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

interface Target {
  suite: Suite;
  what: string;
  value?: number;
  goal: number;
  unit: "×" | "%" | "ms" | "KiB" | "KB";
  higherIsBetter: boolean;
}

function verdict(t: Target): string {
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

// ---------------------------------------------------------------------------------------
// Main

async function ensurePeers(): Promise<string | undefined> {
  if (!(await has("node")) || !(await has("npm"))) return "n/a (node/npm not installed)";
  try {
    Deno.statSync(`${PEERS}/node_modules`);
    return undefined;
  } catch { /* install below */ }
  console.error("installing peers: npm ci --prefix scripts/bench/peers");
  const out = await new Deno.Command("npm", {
    args: ["ci", "--prefix", PEERS, "--no-audit", "--no-fund", "--loglevel=error"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return out.success ? undefined : "n/a (npm ci failed)";
}

/** A cold `switchboard call` over HTTP within twice a `deno run` of an empty script. */
function coldTarget(cold: ColdStart): Target {
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
function sizeTarget(sizes: Sizes): Target {
  return {
    suite: "size",
    what: `browser bundle of "." (minified + gzip)`,
    value: switchboardKb(sizes),
    goal: SIZE_TARGET_KB,
    unit: "KB",
    higherIsBetter: false,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  // Measured first: bundling takes CPU that would disturb the load cells.
  const sizes = options.only.has("size") ? await measureSizes() : undefined;
  // Before pinning: a cold start is timed with every CPU, as a person's shell has them.
  let cold: ColdStart | undefined;
  if (options.only.has("coldstart")) {
    console.error(`cold start (median of ${options.coldRuns}):`);
    cold = await runColdStart(options.coldRuns);
  }
  if ([...options.only].every((s) => s === "size" || s === "coldstart")) {
    console.log(
      [
        ...(sizes ? [sizeTable(sizes), ""] : []),
        ...(cold ? [coldStartTable(cold), ""] : []),
        "Targets:",
        ...(sizes ? [verdict(sizeTarget(sizes))] : []),
        ...(cold ? [verdict(coldTarget(cold))] : []),
      ].join("\n"),
    );
    return;
  }
  const began = performance.now();
  const loadAtStart = loadAverage();
  const pinnable = options.pin && (await has("taskset")) && navigator.hardwareConcurrency >= 2;
  options.pin = pinnable;
  if (pinnable) {
    // The load generator (this process, every thread) on CPU 0; servers on CPU 1.
    await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", "0", String(Deno.pid)],
      stdout: "null",
    }).output();
  }
  const peersMissing = await ensurePeers();
  const node = (file: string): string[] | string => peersMissing ?? ["node", `${PEERS}/${file}`];
  const python = (await has("python3"))
    ? ["python3", `${PEERS}/xmlrpc_server.py`]
    : "n/a (python3 not installed)";

  const results = new Map<Key, Measured>();
  const httpServers: ServerDef[] = [
    {
      name: SWITCHBOARD,
      cmd: deno("switchboard_server.ts"),
      cell: httpCell("/rpc", "json"),
    },
    {
      name: "bare Deno.serve (ceiling)",
      ceiling: true,
      cmd: deno("bare_http.ts"),
      cell: httpCell("/rpc", "json"),
    },
    {
      name: "jayson (Node)",
      cmd: node("jayson_server.js"),
      cell: httpCell("/rpc", "json"),
    },
    {
      name: "json-rpc-2.0 (Node http)",
      cmd: node("jsonrpc2_server.js"),
      cell: httpCell("/rpc", "json"),
    },
  ];
  const xmlServers: ServerDef[] = [
    {
      name: SWITCHBOARD,
      cmd: deno("switchboard_server.ts"),
      cell: httpCell("/RPC2", "xml"),
      probe: async (ports) => {
        const res = await fetch(`http://127.0.0.1:${ports.http}/RPC2`, {
          method: "POST",
          headers: { "content-type": "text/xml" },
          body: XML_BODIES.add,
        });
        await res.body?.cancel();
        return res.status === 200 ? undefined : "n/a (not built)";
      },
    },
    {
      name: "xmlrpc (npm, Node)",
      cmd: node("xmlrpc_server.js"),
      cell: httpCell("/RPC2", "xml"),
    },
    { name: "SimpleXMLRPCServer (Python)", cmd: python, cell: httpCell("/RPC2", "xml") },
  ];
  const tcpServers: ServerDef[] = [
    {
      name: SWITCHBOARD,
      cmd: deno("switchboard_server.ts"),
      cell: tcpCell(),
      probe: (ports) => Promise.resolve(ports.tcp ? undefined : "n/a (not built)"),
    },
    {
      name: "bare Deno TCP + msgpackr (ceiling)",
      ceiling: true,
      cmd: deno("bare_tcp.ts"),
      cell: tcpCell(),
    },
    { name: "msgpack5rpc (Node)", cmd: node("msgpack5rpc_server.js"), cell: tcpCell() },
    { name: "grpc-js unary (Node) ¹", cmd: node("grpc_server.js"), cell: grpcCell(options) },
  ];

  for (const servers of [httpServers, xmlServers, tcpServers]) {
    const ours = servers[0];
    if (options.switchboardOnly) servers.splice(1);
    if (options.baseline) {
      servers.splice(1, 0, {
        ...ours,
        name: BASELINE,
        cmd: [
          Deno.execPath(),
          "run",
          "-A",
          "--quiet",
          "--config",
          `${options.baseline}/deno.json`,
          `${options.baseline}/scripts/bench/switchboard_server.ts`,
        ],
      });
    }
  }

  const runs: { suite: Exclude<Suite, "idle" | "observe">; loads: Load[]; servers: ServerDef[] }[] =
    [];
  if (options.only.has("http")) {
    runs.push({ suite: "http", loads: HTTP_LOADS, servers: httpServers });
  }
  if (options.only.has("xmlrpc")) {
    runs.push({ suite: "xmlrpc", loads: HTTP_LOADS, servers: xmlServers });
  }
  if (options.only.has("tcp")) runs.push({ suite: "tcp", loads: TCP_LOADS, servers: tcpServers });
  for (const run of runs) {
    console.error(`${PROTOCOL[run.suite]}:`);
    await runSuite(run.suite, run.servers, run.loads, options, results);
  }

  if (options.only.has("observe")) {
    console.error("cost of observability:");
    const servers = (cell: ServerDef["cell"]) =>
      observeCommands(deno("switchboard_server.ts")).map(({ name, cmd }) => ({ name, cmd, cell }));
    await runSuite(
      "observe-http",
      servers(httpCell("/rpc", "json")),
      [HTTP_LOADS[1]],
      options,
      results,
      ["add"],
    );
    await runSuite("observe-tcp", servers(tcpCell()), [TCP_LOADS[2]], options, results, ["add"]);
    const cell = httpCell("/rpc", "json");
    await runSuite(
      "observe-deno",
      denoAloneCommands(deno("bare_http.ts")).map(({ name, cmd }) => ({ name, cmd, cell })),
      [HTTP_LOADS[1]],
      options,
      results,
      ["add"],
    );
  }

  const idle = new Map<string, number | string>();
  if (options.only.has("idle")) {
    console.error(`idle connections (${options.idleConnections}):`);
    for (const server of tcpServers.filter((s) => !s.name.startsWith("grpc"))) {
      if (typeof server.cmd === "string") {
        idle.set(server.name, server.cmd);
        continue;
      }
      const running = await start(server.cmd, options.pin);
      try {
        if (!running.ports.tcp) {
          idle.set(server.name, "n/a (not built)");
          continue;
        }
        await new Promise((r) => setTimeout(r, 500));
        const before = memory(running.pid).rss;
        const close = await openIdle(running.ports.tcp, options.idleConnections);
        await new Promise((r) => setTimeout(r, 1500));
        const after = memory(running.pid).rss;
        close();
        const perConn = (after - before) / options.idleConnections;
        idle.set(server.name, perConn);
        console.error(`  ${server.name}: ${perConn.toFixed(1)} KiB per idle connection`);
      } finally {
        await running.stop();
      }
    }
  }

  const seconds = (performance.now() - began) / 1000;
  const cpus = navigator.hardwareConcurrency;
  const out: string[] = [];
  out.push(
    `Switchboard benchmark — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ` +
      `${cpus} cores, Deno ${Deno.version.deno}, ${await nodeVersion()}; ` +
      `per cell: best of ${options.rounds} interleaved rounds of ${options.warmupMs} ms ` +
      `warm-up + ${Math.round(options.durationMs / options.rounds)} ms; ` +
      `${options.pin ? "servers pinned to CPU 1, load generator to CPU 0" : "no CPU pinning"}; ` +
      `run took ${seconds.toFixed(0)} s; load average ${loadAtStart} at the start, ` +
      `${loadAverage()} at the end.`,
    "",
  );
  if (runs.length) out.push(table(runs, results), "");
  if (idle.size) {
    out.push(
      `| Idle TCP connections (${options.idleConnections}) | RSS per connection |`,
      "|---|--:|",
    );
    for (const [name, v] of idle) {
      out.push(`| ${name} | ${typeof v === "number" ? `${v.toFixed(1)} KiB` : v} |`);
    }
    out.push("");
  }
  if (options.only.has("observe")) out.push(observeTable(results), "");
  if (sizes) out.push(sizeTable(sizes), "");
  if (cold) out.push(coldStartTable(cold), "");
  if (options.baseline) out.push(baselineTable(results, options.baseline), "");
  out.push(
    "Each cell is the best of the interleaved rounds (servers take turns, so a burst of " +
      "outside load hits all of them): the round with the most calls/s, with its p50/p99. " +
      "Ratio (and every ratio in the targets) = the median over rounds of Switchboard's " +
      "calls/s ÷ the row's in the same round: turns in one round are seconds apart, so " +
      "outside load moves both alike. RSS = the server process's peak resident " +
      "memory during that cell (VmHWM, reset before each cell). CPU µs/call = the server " +
      "process's CPU time (user + system) in the window ÷ calls, lowest of the rounds: the " +
      'figure least disturbed by other load on the machine; "median of rounds" against a ' +
      "baseline is the median of the rounds' CPU ratios. Rows marked (ceiling) are bare Deno servers doing the " +
      "same work by hand: the target, not a peer. ⚠ = some answers were wrong or failed " +
      "(see the log on stderr).",
    "¹ gRPC cells are driven by @grpc/grpc-js's own client under Node (`peers/grpc_load.js`, " +
      "same cells and timing; one channel with its own connection per caller), not by `load.ts`; " +
      "its client costs more CPU per call than the raw msgpack-rpc generator.",
    "",
    "Targets:",
    ...targets(results, idle, options.only).map(verdict),
    ...(sizes ? [verdict(sizeTarget(sizes))] : []),
    ...(cold ? [verdict(coldTarget(cold))] : []),
  );
  console.log(out.join("\n"));
}

function targets(
  results: Map<Key, Measured>,
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

function observeTable(results: Map<Key, Measured>): string {
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

/** The 1-minute load average (how busy the machine was besides this run). */
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "unknown";
  }
}

async function nodeVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"] }).output();
    return `Node ${new TextDecoder().decode(out.stdout).trim()}`;
  } catch {
    return "no Node";
  }
}

if (import.meta.main) await main();
