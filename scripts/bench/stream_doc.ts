/**
 * The "Streams" section of docs/performance.md and its targets, from a run of streams.ts:
 * items per second by transport with the ratios to @grpc/grpc-js round by round, the
 * evidence that the generator was not the bottleneck, the server's heap under a slow reader
 * and with idle streams open, cancellation latency against the round trip, and the
 * WebSocket call round trip against rpc-websockets.
 *
 * @module
 */

import type { Measured } from "./cells.ts";
import { roundRatios } from "./ratios.ts";
import { median } from "./median.ts";
import { fmtMs, fmtPct, fmtRate } from "./format.ts";
import { type Target, verdict } from "./targets.ts";
import {
  BARE_OF,
  GRPC,
  SB_HTTP,
  SB_TCP,
  SB_WS,
  STREAM_LOADS,
  streamKey,
  type StreamRun,
  TRANSPORTS,
} from "./streams.ts";
import { webSocketTable, webSocketTarget } from "./websocket.ts";

/** The section's heading. */
export const STREAMS_HEADING = "## Streams";

/** Bytes of one item on the wire, `$/stream.item` envelope and all, at most (the window's unit). */
export const ITEM_BYTES = 64;
/** The heap growth allowed beyond the credit window under a slow reader. */
export const SLOW_SLACK_BYTES = 4 * 1024 * 1024;
/** The heap one idle stream may hold. */
export const IDLE_STREAM_BYTES = 2048;
/** Cancellation's allowance beyond one round trip, ms. */
export const CANCEL_SLACK_MS = 5;

/** The `q` quantile of sorted `xs`. */
export function quantile(xs: number[], q: number): number {
  return xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] : NaN;
}

/** A generator on its core or waiting for it this share of the time may have set the pace. */
const SATURATED = 0.9;

/** When the run was, and how. */
export interface StreamsInfo {
  when: string;
  load: string;
  pinned: boolean;
  /** The load average passed the cores (plus this run's own processes). */
  busy?: boolean;
}

/** Every target of the suite. */
export function streamTargets(run: StreamRun): Target[] {
  const ratio = (transport: string, load: string) => {
    const r = roundRatios(
      run.cells.get(streamKey(transport, load)),
      run.cells.get(streamKey(GRPC, load)),
    );
    return r.length ? median(r) : undefined;
  };
  const targets: Target[] = [];
  for (const { label } of STREAM_LOADS) {
    targets.push({
      suite: "streams",
      what: `streamed items/s, ${label}: Switchboard TCP ÷ grpc-js`,
      value: ratio(SB_TCP, label),
      goal: 3,
      unit: "×",
      higherIsBetter: true,
    }, {
      suite: "streams",
      what: `streamed items/s, ${label}: Switchboard WebSocket ÷ grpc-js`,
      value: ratio(SB_WS, label),
      goal: 1,
      unit: "×",
      higherIsBetter: true,
    });
  }
  const slow = typeof run.slow === "string" ? undefined : run.slow;
  targets.push({
    suite: "streams",
    what: `server heap growth under a reader taking 10 items/s for ${
      slow ? slow.seconds.toFixed(0) : "–"
    } s (after a full GC; goal: the credit window of ${slow?.windowItems ?? "–"} items + 4 MiB)`,
    value: slow && (slow.heapAfter - slow.heapBefore) / 1024,
    goal: slow ? (slow.windowItems * ITEM_BYTES + SLOW_SLACK_BYTES) / 1024 : NaN,
    unit: "KiB",
    higherIsBetter: false,
  });
  const idle = typeof run.idle === "string" ? undefined : run.idle;
  targets.push({
    suite: "streams",
    what: `server heap per idle stream, ${idle?.streams ?? "–"} open on one connection`,
    value: idle && (idle.heapAfter - idle.heapBefore) / idle.streams / 1024,
    goal: IDLE_STREAM_BYTES / 1024,
    unit: "KiB",
    higherIsBetter: false,
  });
  const cancel = typeof run.cancel === "string" ? undefined : run.cancel;
  targets.push({
    suite: "streams",
    what: `cancellation, \`break\` to the producer's \`finally\`, p99 of ${
      cancel?.cancels ?? "–"
    } (goal: the median round trip + ${CANCEL_SLACK_MS} ms)`,
    value: cancel && quantile(cancel.latencies, 0.99),
    goal: cancel ? quantile(cancel.roundTrips, 0.5) + CANCEL_SLACK_MS : NaN,
    unit: "ms",
    higherIsBetter: false,
  });
  return targets;
}

/** `lo–hi/s` over the rounds, or why the cell is missing. */
function range(m: Measured | undefined): string {
  const ips = (m?.rounds ?? []).map((r) => r?.cps).filter((x) => x && Number.isFinite(x));
  // Why it is missing goes in a note below the table (it may be long).
  if (!ips.length) return m?.missing ? m.missing.split(":")[0] : "–";
  const flag = m?.result?.wrong || m?.result?.errors ? " ⚠" : "";
  return `${fmtRate(Math.min(...ips))}–${fmtRate(Math.max(...ips))}/s${flag}`;
}

/** The median of the rounds' ratios, with their range. */
function ratioCell(a: Measured | undefined, b: Measured | undefined): string {
  const r = roundRatios(a, b);
  if (!r.length) return "–";
  const show = (x: number) => `${x.toFixed(2)}×`;
  return `${show(median(r))} (${show(Math.min(...r))}–${show(Math.max(...r))})`;
}

/** Server CPU µs per item, the lowest round. */
function perItem(m: Measured | undefined): string {
  return m?.cpuUs && Number.isFinite(m.cpuUs) ? m.cpuUs.toFixed(2) : "–";
}

/** Both processes' shares in a cell's best round. */
function shares(m: Measured | undefined): string {
  const s = m?.server, g = m?.generator;
  if (!s || !g) return "shares not measured";
  return `generator ${fmtPct(g.busy)} on CPU (${fmtPct(g.wait)} waiting), ` +
    `server ${fmtPct(s.busy)} (${fmtPct(s.wait)})`;
}

/**
 * Whether the generator set the pace. A Switchboard transport's evidence is its bare reader
 * (stream_bare.ts) on the same server in the same rounds: if it read no more than the typed
 * client, the server (or the transport) set the pace. gRPC's is the shares alone: its
 * generator had room when it was neither on its core nor waiting for it part of the time.
 */
function headroom(run: StreamRun, transport: string, label: string): string {
  const m = run.cells.get(streamKey(transport, label));
  if (!m?.rounds?.some(Boolean)) return "–";
  const bare = BARE_OF[transport];
  if (bare) {
    const reach = run.cells.get(streamKey(bare, label));
    const r = roundRatios(reach, m);
    if (!r.length) return `n/a (bare reader: ${reach?.missing ?? "not run"}); ${shares(m)}`;
    const x = median(r);
    const verdict = x > 1.1
      ? `NO, the typed client set the pace: a bare reader read ${x.toFixed(2)}× as many`
      : `yes: a bare reader read ${x.toFixed(2)}× as many`;
    return `${verdict} (${fmtRate(reach?.result?.cps)}/s at best); ${shares(m)}`;
  }
  const g = m.generator;
  if (!g) return shares(m);
  const verdict = g.busy + g.wait < SATURATED ? "yes" : "not shown: the generator was runnable";
  return `${verdict}: ${shares(m)}`;
}

/** Why each transport's cells are missing, one line each (and a blank line), or nothing. */
function missingNotes(run: StreamRun): string[] {
  const why = new Map<string, string>();
  for (const t of TRANSPORTS) {
    for (const { label } of STREAM_LOADS) {
      const m = run.cells.get(streamKey(t, label));
      if (m?.missing && !m.rounds?.some(Boolean)) why.set(t, m.missing);
    }
  }
  if (!why.size) return [];
  return [...[...why].map(([t, w]) => `- ${t}: ${w}`), ""];
}

/** The section's Markdown. */
export function streamsSection(run: StreamRun, info: StreamsInfo): string {
  const o = run.options;
  const rows = STREAM_LOADS.flatMap(({ label }) => {
    const cell = (t: string) => run.cells.get(streamKey(t, label));
    const grpc = cell(GRPC);
    return [
      `| ${label} | ${TRANSPORTS.map((t) => range(cell(t))).join(" | ")} | ${
        ratioCell(cell(SB_TCP), grpc)
      } | ${ratioCell(cell(SB_WS), grpc)} | ${ratioCell(cell(SB_HTTP), grpc)} | ${
        perItem(cell(SB_TCP))
      } / ${perItem(grpc)} | ${
        TRANSPORTS.filter((t) => cell(t)?.rounds?.some(Boolean))
          .map((t) => `${t}: ${headroom(run, t, label)}`).join("; ")
      } |`,
    ];
  });
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  const slow = typeof run.slow === "string"
    ? `- Slow reader: ${run.slow}`
    : `- Slow reader (TCP, an endless \`Streams.items\` whose producer yields as fast as ` +
      `credit allows, read at 10 items/s for ${run.slow.seconds.toFixed(1)} s${
        o.slowReaderMs < 60_000 ? `; the issue's figure is 60 s: \`--slow-reader 60000\`` : ""
      }): ${run.slow.itemsRead} items read; server heap ${mib(run.slow.heapBefore)} before, ` +
      `${mib(run.slow.heapAfter)} at the end with the stream open (both after a full GC), ` +
      `highest sampled without GC ${mib(run.slow.heapPeak)}.`;
  const idle = typeof run.idle === "string"
    ? `- Idle streams: ${run.idle}`
    : `- Idle streams (TCP, ${run.idle.streams} \`Streams.idle\` open on one connection, ` +
      `the producers waiting for nothing): server heap ${mib(run.idle.heapBefore)} before, ` +
      `${mib(run.idle.heapAfter)} with them open (after a full GC): ${
        ((run.idle.heapAfter - run.idle.heapBefore) / run.idle.streams).toFixed(0)
      } bytes each.`;
  const cancel = typeof run.cancel === "string"
    ? `- Cancellation: ${run.cancel}`
    : `- Cancellation (TCP, ${run.cancel.cancels} times a \`Streams.ticks\` read to its first ` +
      `item, then \`break\`; from the \`break\` to the producer's \`finally\`, both processes' ` +
      `\`performance.timeOrigin + performance.now()\`): p50 ${
        fmtMs(quantile(run.cancel.latencies, 0.5))
      } ms, p99 ${fmtMs(quantile(run.cancel.latencies, 0.99))} ms, max ${
        fmtMs(run.cancel.latencies.at(-1))
      } ms; a round trip (\`Streams.ping\`, ${run.cancel.roundTrips.length} calls) p50 ${
        fmtMs(quantile(run.cancel.roundTrips, 0.5))
      } ms, p99 ${fmtMs(quantile(run.cancel.roundTrips, 0.99))} ms.`;
  const ws = typeof run.webSocket === "string"
    ? [`WebSocket calls against rpc-websockets: ${run.webSocket}`]
    : [
      "WebSocket calls (`scripts/bench/websocket.ts`: JSON-RPC `add`, Switchboard's listener " +
      "against npm `rpc-websockets`' server, both unpinned, taking turns):",
      "",
      webSocketTable(run.webSocket),
    ];
  return [
    STREAMS_HEADING,
    "",
    `\`deno task bench --streams-only\` (\`scripts/bench/streams.ts\`), ${info.when}; ` +
    `${o.rounds} rounds × ${(o.durationMs / o.rounds / 1000).toFixed(1)} s per cell (after ` +
    `${(o.warmupMs / 1000).toFixed(1)} s of warm-up each), the transports taking turns; ` +
    `${
      info.pinned ? "servers pinned to CPU 0, generators to CPU 1" : "no CPU pinning"
    }; load average ${info.load}. Items \`{i, s: "item <i>"}\` (\`scripts/bench/stream_component.ts\`, ` +
    "`peers/bench.proto`'s `StreamItem`), each stream read to its end and opened again; " +
    "Switchboard by its typed client (`connect(url).proxy(Streams)`, " +
    "`scripts/bench/stream_load.ts`; TCP and gRPC: one connection; HTTP: fetch's), gRPC by " +
    "grpc-js's own client (`peers/grpc_stream_load.js`, one channel).",
    "",
    ...(info.busy
      ? [
        "⚠ The machine was busy (see the load average): other processes took turns on both " +
        "cores (see the waiting shares), so items/s says more about the scheduler than about " +
        "the transports, and the latencies' tails are the scheduler's. Server CPU per item is " +
        "disturbed far less. Run it again on a quiet machine.",
        "",
      ]
      : []),
    "| Streams | " + TRANSPORTS.join(" | ") +
    " | TCP ÷ grpc-js | WebSocket ÷ grpc-js | HTTP ÷ grpc-js | server CPU µs/item (TCP / grpc-js) | Generator not the bottleneck? |",
    "|---|" + TRANSPORTS.map(() => "--:|").join("") + "--:|--:|--:|--:|---|",
    ...rows,
    "",
    ...missingNotes(run),
    "Items/s: the lowest and highest round; ratios: the median of the rounds' (turns in a " +
    "round are seconds apart, so outside load moves both alike), with their range. A " +
    "Switchboard transport's generator (its typed client) did not set the pace when a bare " +
    "reader (`scripts/bench/stream_bare.ts`: msgpack-rpc by hand with msgpackr, the same " +
    "credit; `fetch` counting NDJSON lines), reading the same server in the same rounds, " +
    "read no more (the median of the rounds' ratios; more than 1.1× says the typed client " +
    "was the limit). gRPC's generator had room when it was on its core or waiting for it " +
    `less than ${fmtPct(SATURATED)} of the time. The shares are those of each transport's ` +
    "best round (CPU time ÷ wall time, and time runnable but waiting for a core taken by " +
    "other processes; summed over threads). The " +
    "WebSocket cell runs when the client reads streams over `ws://` (a stream longer than " +
    "the server's `maxStreamItems` read whole first), and says why not otherwise.",
    "",
    slow,
    idle,
    cancel,
    "",
    ...ws,
    "",
    "Targets (issue 25):",
    "",
    ...streamTargets(run).map(verdict),
    ...(typeof run.webSocket === "string" ? [] : [`- ${webSocketTarget(run.webSocket)}`]),
    "",
  ].join("\n");
}
