/**
 * JSON-RPC over WebSocket: Switchboard's listener (`listenHttp(…, { websocket: true })`) next
 * to npm `rpc-websockets`' server, the JSON-RPC-over-WebSocket peer users would pick, each in
 * its own process (rpc-websockets runs under Deno's Node compatibility, from deno.json's
 * imports). One load generator drives both over real sockets: `round trip` is one socket with
 * one call in flight (each answer sends the next); `pipelined` is 4 sockets with 16 calls in
 * flight each. Prints a Markdown table of calls per second and the ratio, and the target
 * (round trip ≥ 1.5× rpc-websockets) met or missed.
 *
 * Usage: `deno run -A scripts/bench/websocket.ts [--duration MS] [--rounds N] [--warmup MS]`
 * (`--serve switchboard|rpc-websockets` runs one server alone: what the script starts).
 *
 * @module
 */

import { median } from "./median.ts";
import { stopChild } from "./stop_child.ts";
import { ROOT } from "./processes.ts";

type Kind = "switchboard" | "rpc-websockets";

const TARGET = 1.5;

interface Cell {
  name: string;
  sockets: number;
  inFlight: number;
}

const CELLS: Cell[] = [
  { name: "round trip (1 socket, 1 in flight)", sockets: 1, inFlight: 1 },
  { name: "pipelined (4 sockets × 16 in flight)", sockets: 4, inFlight: 16 },
];

/** What each server is called with: the same JSON-RPC text, by its own method name. */
const METHOD: Record<Kind, string> = { switchboard: "Bench.add", "rpc-websockets": "add" };

async function serve(kind: Kind): Promise<void> {
  if (kind === "switchboard") {
    const { defineInterface, implement, method, t } = await import("../../mod.ts");
    const { Server } = await import("../../server.ts");
    const Bench = defineInterface("Bench", {
      add: method({ params: { a: t.int, b: t.int }, result: t.int }),
    });
    const server = new Server().register(implement(Bench, { add: ({ a, b }) => a + b }));
    const http = await server.listenHttp({ port: 0 }, { websocket: true });
    console.log(JSON.stringify({ port: http.port }));
  } else {
    const { Server } = await import("rpc-websockets");
    const server = new Server({ host: "127.0.0.1", port: 0 });
    server.register("add", (params: unknown) => {
      const { a, b } = params as { a: number; b: number };
      return a + b;
    });
    await new Promise<void>((resolve) => server.on("listening", () => resolve()));
    const address = (server as unknown as { wss: { address(): { port: number } } }).wss.address();
    console.log(JSON.stringify({ port: address.port }));
  }
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}

/** Opens `cell.sockets` sockets and keeps `cell.inFlight` calls going on each for `ms`. */
async function drive(url: string, method: string, cell: Cell, ms: number): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: cell.sockets }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error(`cannot open ${url}`));
      })),
  );
  let calls = 0;
  let stop = false;
  await Promise.all(
    sockets.map((ws) =>
      new Promise<void>((resolve) => {
        let id = 0;
        let open = 0;
        const send = () => {
          open++;
          ws.send(`{"jsonrpc":"2.0","id":${++id},"method":"${method}","params":{"a":1,"b":2}}`);
        };
        ws.onmessage = (event) => {
          open--;
          if (!String(event.data).includes('"result":3')) {
            throw new Error(`bad answer ${event.data}`);
          }
          calls++;
          if (!stop) send();
          else if (open === 0) resolve();
        };
        for (let i = 0; i < cell.inFlight; i++) send();
      })
    ).concat(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          stop = true;
          resolve();
        }, ms)
      ),
    ),
  );
  for (const ws of sockets) ws.close();
  return calls / (ms / 1000);
}

/** CPU time a process has used so far, in ms (Linux: /proc/<pid>/stat; 0 elsewhere). */
function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime (fields 14 and 15), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Starts one server (with `cpus`, on those: undoes an affinity this process has). */
async function start(
  kind: Kind,
  cpus?: string,
): Promise<{ child: Deno.ChildProcess; url: string }> {
  const argv = [
    ...(cpus ? ["taskset", "-c", cpus] : []),
    Deno.execPath(),
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--serve",
    kind,
  ];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT, // deno.json's imports (rpc-websockets)
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${kind} exited before it listened`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const { port } = JSON.parse(text.slice(0, text.indexOf("\n")));
  return { child, url: `ws://127.0.0.1:${port}` };
}

/** One cell's figures: medians of the rounds. */
export interface WebSocketCell {
  name: string;
  /** Switchboard's calls/s. */
  ours: number;
  /** rpc-websockets'. */
  theirs: number;
  /** Median over rounds of ours ÷ theirs in the same round. */
  ratio: number;
  /** Server CPU µs per call, over every round. */
  oursCpuUs?: number;
  theirsCpuUs?: number;
}

/** Both servers' cells, and the round trip's ratio (the target's). */
export interface WebSocketRun {
  cells: WebSocketCell[];
  roundTrip: number;
}

/** Starts both servers, runs every cell in interleaved rounds, stops them. */
export async function runWebSocket(
  options: { durationMs: number; rounds: number; warmupMs: number; cpus?: string },
): Promise<WebSocketRun> {
  const { durationMs: duration, rounds, warmupMs: warmup } = options;
  const kinds: Kind[] = ["switchboard", "rpc-websockets"];
  // Both servers run at once and take turns, round by round: a busy machine slows both
  // alike, and each round's ratio compares neighbours in time.
  const servers = await Promise.all(kinds.map((kind) => start(kind, options.cpus)));
  const ratios = new Map<string, number[]>();
  const rates = new Map<string, number[]>();
  /** Server CPU per call (µs): steadier than calls per second on a busy machine. */
  const cpu = new Map<string, { ms: number; calls: number }>();
  try {
    for (const cell of CELLS) {
      for (const [i, kind] of kinds.entries()) {
        await drive(servers[i].url, METHOD[kind], cell, warmup);
      }
      for (let r = 0; r < rounds; r++) {
        const measured: number[] = [];
        for (const [i, kind] of kinds.entries()) {
          const before = cpuMs(servers[i].child.pid);
          const ms = duration / rounds;
          const rate = await drive(servers[i].url, METHOD[kind], cell, ms);
          const used = cpu.get(`${kind} ${cell.name}`) ?? { ms: 0, calls: 0 };
          used.ms += cpuMs(servers[i].child.pid) - before;
          used.calls += rate * ms / 1000;
          cpu.set(`${kind} ${cell.name}`, used);
          measured.push(rate);
          push(rates, `${kind} ${cell.name}`, rate);
        }
        push(ratios, cell.name, measured[0] / measured[1]);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.child)));
  }
  const perCall = (key: string) => {
    const used = cpu.get(key)!;
    return used.calls ? used.ms * 1000 / used.calls : undefined;
  };
  const cells = CELLS.map((cell) => ({
    name: cell.name,
    ours: median(rates.get(`switchboard ${cell.name}`)!),
    theirs: median(rates.get(`rpc-websockets ${cell.name}`)!),
    ratio: median(ratios.get(cell.name)!),
    oursCpuUs: perCall(`switchboard ${cell.name}`),
    theirsCpuUs: perCall(`rpc-websockets ${cell.name}`),
  }));
  const roundTrip = cells[CELLS.findIndex((c) => c.inFlight === 1)].ratio;
  return { cells, roundTrip };
}

/** The cells as a Markdown table. */
export function webSocketTable(run: WebSocketRun): string {
  const us = (x: number | undefined) => x === undefined ? "n/a" : x.toFixed(1);
  return [
    "| cell | Switchboard calls/s | rpc-websockets calls/s | ratio (median of rounds) | server CPU µs/call (Switchboard / rpc-websockets) |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...run.cells.map((c) =>
      `| ${c.name} | ${Math.round(c.ours)} | ${Math.round(c.theirs)} | ${c.ratio.toFixed(2)}× | ${
        us(c.oursCpuUs)
      } / ${us(c.theirsCpuUs)} |`
    ),
  ].join("\n");
}

/** The target: the round trip's ratio ≥ 1.5×. */
export function webSocketTarget(run: WebSocketRun): string {
  return `WebSocket round trip vs rpc-websockets: ${
    run.roundTrip.toFixed(2)
  }× (target ≥ ${TARGET}×) — ${run.roundTrip >= TARGET ? "met" : "MISSED"}`;
}

async function main(args: string[]): Promise<void> {
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i < 0 ? fallback : Number(args[i + 1]);
  };
  const serveKind = args.indexOf("--serve");
  if (serveKind >= 0) return await serve(args[serveKind + 1] as Kind);
  const run = await runWebSocket({
    durationMs: flag("--duration", 4000),
    rounds: flag("--rounds", 7),
    warmupMs: flag("--warmup", 500),
  });
  console.log(webSocketTable(run));
  console.log(`\n- ${webSocketTarget(run)}`);
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

if (import.meta.main) await main(Deno.args);
