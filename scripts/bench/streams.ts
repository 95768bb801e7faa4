/**
 * The stream benchmarks (`deno task bench --streams-only`, the `streams` suite of `--only`):
 * streamed items per second of small items `{i, s}`, one stream and 32 at once, Switchboard
 * over TCP (msgpack-rpc), HTTP (NDJSON) and WebSocket against @grpc/grpc-js server-streaming
 * the same items; the server's heap under a slow reader and with 10⁴ idle streams open;
 * cancellation latency from `break` to the producer's `finally`; and websocket.ts's call
 * round trip against rpc-websockets. Servers on CPU 0, generators on CPU 1 (stream_load.ts:
 * Switchboard's typed client; peers/grpc_stream_load.js: grpc-js's own client), the
 * transports taking turns round by round. stream_doc.ts writes the figures.
 *
 * @module
 */

import { runChildGenerator } from "./child_generator.ts";
import type { Measured, Round } from "./cells.ts";
import type { Timing } from "./load.ts";
import {
  cpuTime,
  GENERATOR_CPU,
  HERE,
  PEERS,
  type Running,
  type Share,
  start,
  startShare,
} from "./processes.ts";
import type {
  CancelResult,
  IdleResult,
  ItemsResult,
  SlowResult,
  StreamLoad,
} from "./stream_load.ts";
import { runWebSocket, type WebSocketRun } from "./websocket.ts";
import { fmtInt } from "./format.ts";

/** The transports of the items/s cells, as the tables name them. */
export const SB_TCP = "Switchboard TCP (msgpack-rpc)";
export const SB_HTTP = "Switchboard HTTP (NDJSON)";
export const SB_WS = "Switchboard WebSocket";
export const GRPC = "@grpc/grpc-js";
export const TRANSPORTS = [SB_TCP, SB_HTTP, SB_WS, GRPC];
/** stream_bare.ts's readers of the same server: how far it goes without the typed client. */
export const BARE_TCP = "bare reader, TCP";
export const BARE_HTTP = "bare reader, HTTP (fetch)";
/** The bare reader of each Switchboard transport that has one. */
export const BARE_OF: Record<string, string> = { [SB_TCP]: BARE_TCP, [SB_HTTP]: BARE_HTTP };
/** Every turn of a round, in order: each bare reader right after its typed client. */
export const TURNS = [SB_TCP, BARE_TCP, SB_HTTP, BARE_HTTP, SB_WS, GRPC];

/** Streams read at once. */
export const STREAM_LOADS = [
  { label: "1 stream", streams: 1 },
  { label: "32 streams", streams: 32 },
];

/** How the suite runs. */
export interface StreamOptions {
  warmupMs: number;
  /** Measured per cell, split over the rounds. */
  durationMs: number;
  rounds: number;
  pin: boolean;
  /** How long the slow reader reads (the issue's figure is 60 s). */
  slowReaderMs: number;
  /** Idle streams opened on one connection. */
  idleStreams: number;
  /** Cancels timed. */
  cancels: number;
}

/** An items/s cell: `cps` of its rounds is items/s, `cpuUs` server CPU µs per item. */
export type StreamCells = Map<string, Measured>;

/** The suite's figures; a string is why one is missing. */
export interface StreamRun {
  /** By `streamKey(transport, load)`. */
  cells: StreamCells;
  slow: SlowResult | string;
  idle: IdleResult | string;
  cancel: CancelResult | string;
  webSocket: WebSocketRun | string;
  options: StreamOptions;
}

/** The Switchboard stream server's command (`--expose-gc`: its `heap` collects first). */
export const STREAM_SERVER = [
  Deno.execPath(),
  "run",
  "-A",
  "--quiet",
  "--v8-flags=--expose-gc",
  `${HERE}stream_server.ts`,
];
/** grpc-js's. */
export const GRPC_SERVER = ["node", `${PEERS}/grpc_server.js`];

/** The key of one items/s cell. */
export const streamKey = (transport: string, load: string) => `${transport}|${load}`;

const onGenerator = (pin: boolean, argv: string[]) =>
  pin ? ["taskset", "-c", GENERATOR_CPU, ...argv] : argv;
const denoLoad = [Deno.execPath(), "run", "-A", "--quiet", `${HERE}stream_load.ts`];

/** A generator mode but `items`: runs it to its one JSON line (a string: why it failed). */
export async function runMode<T>(load: StreamLoad, pin: boolean): Promise<T | string> {
  const argv = onGenerator(pin, denoLoad);
  const out = await new Deno.Command(argv[0], {
    args: [...argv.slice(1), JSON.stringify(load)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" ");
    return `failed: ${why.slice(0, 200)}`;
  }
  return JSON.parse(text) as T;
}

/**
 * One items/s cell: `transport`'s generator reading `streams` streams at once from the
 * server at `ports` (the Switchboard stream server's, or grpc_server.js's).
 */
export function itemsCell(
  transport: string,
  ports: Running["ports"],
  streams: number,
  timing: Timing,
  pin: boolean,
): Promise<ItemsResult> {
  const { tcp, http, grpc } = ports;
  const argv = transport === GRPC
    ? onGenerator(pin, ["node", `${PEERS}/grpc_stream_load.js`])
    : onGenerator(pin, denoLoad);
  const url = transport === SB_TCP || transport === BARE_TCP
    ? `tcp://127.0.0.1:${tcp}`
    : transport === SB_HTTP || transport === BARE_HTTP
    ? `http://127.0.0.1:${http}`
    : `ws://127.0.0.1:${http}`;
  const mode = transport === BARE_TCP || transport === BARE_HTTP ? "bare" : "items";
  const { warmupMs, durationMs } = timing;
  const cell = transport === GRPC
    ? { port: grpc, streams, warmupMs, durationMs }
    : { mode, url, streams, warmupMs, durationMs };
  return runChildGenerator(argv, cell, timing);
}

/** One transport's turn in one round of one load, with the server's CPU and share. */
async function itemsRound(
  transport: string,
  servers: { sb?: Running; grpc?: Running },
  streams: number,
  options: StreamOptions,
): Promise<{ result: ItemsResult; round: Round }> {
  const running = transport === GRPC ? servers.grpc! : servers.sb!;
  let cpuAtOpen = 0, cpuMs = NaN;
  let stop: (() => Share | undefined) | undefined;
  let server: Share | undefined;
  const timing: Timing = {
    warmupMs: options.warmupMs,
    durationMs: options.durationMs / options.rounds,
    onWindow: (open) => {
      if (open) {
        cpuAtOpen = cpuTime(running.pid);
        stop = startShare(running.pid);
      } else {
        cpuMs = cpuTime(running.pid) - cpuAtOpen;
        server = stop?.();
      }
    },
  };
  const result = await itemsCell(transport, running.ports, streams, timing, options.pin);
  const cpuUs = result.calls ? cpuMs * 1000 / result.calls : NaN;
  return { result, round: { cps: result.cps, cpuUs, server, generator: result.generator } };
}

/** The items/s cells: every transport in turn, round after round. */
async function runItems(
  servers: { sb?: Running; grpc?: Running },
  options: StreamOptions,
  missing: Map<string, string>,
): Promise<StreamCells> {
  const cells: StreamCells = new Map();
  for (const { label, streams } of STREAM_LOADS) {
    for (let r = 0; r < options.rounds; r++) {
      for (const transport of TURNS) {
        const k = streamKey(transport, label);
        const why = missing.get(transport);
        if (why) {
          cells.set(k, { missing: why });
          continue;
        }
        const cell = cells.get(k) ?? { rounds: [] };
        cells.set(k, cell);
        try {
          const { result, round } = await itemsRound(transport, servers, streams, options);
          if (result.unavailable) {
            missing.set(transport, `not available: ${result.unavailable}`);
            cells.set(k, { missing: missing.get(transport) });
            console.error(`  ${transport}: ${missing.get(transport)}`);
            continue;
          }
          if (!(result.cps > 0)) {
            cell.missing ??= `failed: ${result.wrong ?? "no items read"}`;
            continue;
          }
          cell.rounds![r] = round;
          if (!cell.result || result.cps > cell.result.cps) {
            cell.result = result;
            cell.server = round.server;
            cell.generator = round.generator;
          }
          cell.cpuUs = Math.min(cell.cpuUs ?? Infinity, round.cpuUs || Infinity);
        } catch (error) {
          cell.missing ??= `failed: ${error instanceof Error ? error.message : error}`;
        }
      }
    }
    for (const transport of TURNS) {
      const cell = cells.get(streamKey(transport, label));
      const r = cell?.result;
      console.error(
        `  ${transport.padEnd(30)} ${label.padEnd(11)} ` +
          (r
            ? `${fmtInt(r.cps).padStart(9)} items/s (best round)${
              r.errors ? `  errors ${r.errors}` : ""
            }${r.wrong ? `  (${r.wrong})` : ""}`
            : cell?.missing),
      );
    }
  }
  return cells;
}

/** Runs the suite. */
export async function runStreams(options: StreamOptions, node: boolean): Promise<StreamRun> {
  const missing = new Map<string, string>();
  let sb: Running | undefined, grpc: Running | undefined;
  try {
    sb = await start(
      [
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        "--v8-flags=--expose-gc",
        `${HERE}stream_server.ts`,
      ],
      options.pin,
    );
  } catch (error) {
    for (const t of TURNS.filter((t) => t !== GRPC)) missing.set(t, `failed to start: ${error}`);
  }
  try {
    if (!node) missing.set(GRPC, "n/a (Node peers not installed)");
    else grpc = await start(GRPC_SERVER, options.pin);
  } catch (error) {
    missing.set(GRPC, `failed to start: ${error}`);
  }
  const url = sb && `tcp://127.0.0.1:${sb.ports.tcp}`;
  const noServer = "n/a (the Switchboard stream server did not start)";
  try {
    console.error("streamed items per second:");
    const cells = await runItems({ sb, grpc }, options, missing);
    console.error(`slow reader (10 items/s for ${options.slowReaderMs / 1000} s):`);
    const slow = url
      ? await runMode<SlowResult>(
        { mode: "slow", url, perSecond: 10, durationMs: options.slowReaderMs },
        options.pin,
      )
      : noServer;
    console.error(`idle streams (${options.idleStreams}):`);
    const idle = url
      ? await runMode<IdleResult>({ mode: "idle", url, streams: options.idleStreams }, options.pin)
      : noServer;
    console.error(`cancellation (${options.cancels}):`);
    const cancel = url
      ? await runMode<CancelResult>(
        { mode: "cancel", url, cancels: options.cancels, pings: options.cancels },
        options.pin,
      )
      : noServer;
    console.error("WebSocket calls against rpc-websockets:");
    // Unpinned, as websocket.ts alone runs it (this process may be pinned: undone).
    const cpus = navigator.hardwareConcurrency;
    const webSocket = await runWebSocket({
      durationMs: options.durationMs / 2,
      rounds: options.rounds,
      warmupMs: options.warmupMs / 2,
      cpus: options.pin && cpus >= 2 ? `0-${cpus - 1}` : undefined,
    }).catch((error) => `failed: ${error instanceof Error ? error.message : error}`);
    return { cells, slow, idle, cancel, webSocket, options };
  } finally {
    await Promise.all([sb?.stop(), grpc?.stop()]);
  }
}
