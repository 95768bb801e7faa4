/**
 * The stream benchmarks of `deno task bench --streams-only` (scripts/bench/streams.ts,
 * stream_load.ts, peers/grpc_stream_load.js, stream_doc.ts): each generator against a real
 * server counts the items it read and reports a wrong one; the slow-reader, idle-streams and
 * cancel modes produce their figures; the WebSocket cell says why it cannot run; and the
 * section of docs/performance.md renders ratios, notes and targets from made-up figures.
 * Counts and shapes only, never a rate. The gRPC test is skipped where Node or the bench's
 * peers are missing, outside CI; under CI it runs, and fails.
 */

import { MAX_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import assert from "node:assert/strict";
import { CI } from "../fixtures/peers.ts";
import { implement } from "../../mod.ts";
import { Server } from "../../server.ts";
import type { Measured } from "../../scripts/bench/cells.ts";
import { start } from "../../scripts/bench/processes.ts";
import { parseOptions } from "../../scripts/bench/options.ts";
import { Streams, streamsImpl } from "../../scripts/bench/stream_component.ts";
import { missedBeats } from "../../tcp.ts";
import type { CancelResult, IdleResult, SlowResult } from "../../scripts/bench/stream_load.ts";
import {
  BARE_HTTP,
  BARE_TCP,
  GRPC,
  GRPC_SERVER,
  itemsCell,
  runMode,
  SB_HTTP,
  SB_TCP,
  SB_WS,
  STREAM_SERVER,
  streamKey,
  type StreamRun,
} from "../../scripts/bench/streams.ts";
import { STREAMS_HEADING, streamsSection, streamTargets } from "../../scripts/bench/stream_doc.ts";
import { replaceSection, sectionOf } from "../../scripts/bench/workers_doc.ts";
import { verdict } from "../../scripts/bench/targets.ts";

const grpcReady = await Deno.stat(
  new URL("../../scripts/bench/peers/node_modules/@grpc/grpc-js/", import.meta.url),
).then(() => true, () => false) &&
  await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output()
    .then((o) => o.success, () => false);

const timing = (windows: boolean[]) => ({
  warmupMs: 100,
  durationMs: 400,
  onWindow: (open: boolean) => windows.push(open),
});

Deno.test("stream_load.ts: TCP and HTTP streams are read, counted and checked, by the typed client and the bare readers; ws:// says why not, or streams", async () => {
  const server = await start(STREAM_SERVER, false);
  try {
    const turns = [[SB_TCP, 1], [SB_TCP, 4], [SB_HTTP, 2], [BARE_TCP, 1], [BARE_TCP, 4], [
      BARE_HTTP,
      2,
    ]] as const;
    for (const [transport, streams] of turns) {
      const windows: boolean[] = [];
      const result = await itemsCell(transport, server.ports, streams, timing(windows), false);
      assert.equal(result.wrong, undefined, `${transport}: ${result.wrong}`);
      assert.equal(result.errors, 0);
      assert.equal(result.unavailable, undefined);
      assert.ok(result.calls > 0 && result.cps > 0, JSON.stringify(result));
      assert.deepEqual(windows, [true, false]);
      assert.ok(result.generator && result.generator.busy >= 0, JSON.stringify(result));
    }
    // Until the client reads streams over WebSocket it gets the whole array, which a stream
    // longer than maxStreamItems cannot be: "not available", with the server's reason.
    const ws = await itemsCell(SB_WS, server.ports, 1, timing([]), false);
    if (ws.unavailable !== undefined) assert.match(ws.unavailable, /10000|stream/);
    else assert.ok(ws.calls > 0 && ws.wrong === undefined, JSON.stringify(ws));
  } finally {
    await server.stop();
  }
});

Deno.test("stream_load.ts: a server streaming wrong items is reported, not counted as right", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  const noop = () => 0;
  server.register(implement(Streams, {
    async *items({ n }) {
      for (let i = 0; i < n; i++) yield { i: i === 3 ? 7 : i, s: `item ${i}` };
    },
    async *idle() {},
    async *ticks() {},
    finallyAt: () => [],
    heap: noop,
    idleOpen: noop,
    ping: () => 1,
  }));
  const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
  try {
    const result = await itemsCell(SB_TCP, { tcp: tcp.port }, 1, timing([]), false);
    // The probe (a long stream read whole first) meets the wrong item: no rate, and not
    // "not available" either.
    assert.match(result.wrong ?? "", /item 3 was \{"i":7/);
    assert.equal(result.unavailable, undefined);
    assert.ok(!(result.cps > 0));
  } finally {
    await server.close();
  }
});

Deno.test("stream_bare.ts: the bare TCP reader goes on through the server's heartbeats", async () => {
  // The bench's window is longer than the default 5 s heartbeat interval: here, 20 ms.
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(streamsImpl());
  const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 }, {
    heartbeat: missedBeats({ interval: 20, misses: 50 }),
  });
  try {
    const result = await itemsCell(BARE_TCP, { tcp: tcp.port }, 2, timing([]), false);
    assert.equal(result.wrong, undefined, result.wrong);
    assert.ok(result.calls > 0, JSON.stringify(result));
  } finally {
    await server.close();
  }
});

Deno.test("stream_load.ts: slow reader, idle streams and cancels give their figures", async () => {
  const server = await start(STREAM_SERVER, false);
  const url = `tcp://127.0.0.1:${server.ports.tcp}`;
  try {
    const slow = await runMode<SlowResult>(
      { mode: "slow", url, perSecond: 20, durationMs: 300 },
      false,
    );
    assert.ok(typeof slow !== "string", String(slow));
    assert.ok(slow.itemsRead >= 1 && slow.windowItems === MAX_STREAM_WINDOW, JSON.stringify(slow));
    assert.ok(slow.heapBefore > 0 && slow.heapAfter > 0 && slow.heapPeak >= slow.heapBefore);

    const idle = await runMode<IdleResult>({ mode: "idle", url, streams: 600 }, false);
    assert.ok(typeof idle !== "string", String(idle));
    assert.equal(idle.streams, 600);
    // 600 suspended producers hold something on the server's heap.
    assert.ok(idle.heapAfter > idle.heapBefore, JSON.stringify(idle));

    const cancel = await runMode<CancelResult>(
      { mode: "cancel", url, cancels: 20, pings: 20 },
      false,
    );
    assert.ok(typeof cancel !== "string", String(cancel));
    assert.equal(cancel.latencies.length, 20);
    assert.equal(cancel.roundTrips.length, 20);
    assert.ok(cancel.latencies.every(Number.isFinite), JSON.stringify(cancel.latencies));
    assert.deepEqual(cancel.roundTrips, [...cancel.roundTrips].sort((a, b) => a - b));
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "grpc_stream_load.js: grpc-js server-streaming items are counted, the window announced",
  ignore: !grpcReady && !CI,
  async fn() {
    const server = await start(GRPC_SERVER, false);
    try {
      for (const streams of [1, 4]) {
        const windows: boolean[] = [];
        const result = await itemsCell(GRPC, server.ports, streams, timing(windows), false);
        assert.equal(result.wrong, undefined, result.wrong);
        assert.equal(result.errors, 0);
        assert.ok(result.calls > 0 && result.cps > 0, JSON.stringify(result));
        assert.deepEqual(windows, [true, false]);
      }
    } finally {
      await server.stop();
    }
  },
});

/** A cell of items/s rounds, with server CPU µs per item. */
function cell(ips: number[], cpuUs = 2, busy = 0.5): Measured {
  const best = Math.max(...ips);
  return {
    result: { cps: best, p50: NaN, p99: NaN, calls: best, errors: 0 },
    cpuUs,
    server: { busy: 0.9, wait: 0.05 },
    generator: { busy, wait: 0.01 },
    rounds: ips.map((cps) => ({ cps, cpuUs })),
  };
}

function run(): StreamRun {
  const cells = new Map<string, Measured>([
    [streamKey(SB_TCP, "1 stream"), cell([300_000, 400_000], 1.5)],
    [streamKey(BARE_TCP, "1 stream"), cell([310_000, 420_000])],
    [streamKey(BARE_HTTP, "1 stream"), { missing: "failed: boom" }],
    [streamKey(SB_HTTP, "1 stream"), cell([50_000, 60_000])],
    [streamKey(SB_WS, "1 stream"), { missing: "not available: read it as a stream" }],
    [streamKey(GRPC, "1 stream"), cell([100_000, 100_000], 4)],
    [streamKey(SB_TCP, "32 streams"), cell([200_000, 250_000], 1.2)],
    [streamKey(BARE_TCP, "32 streams"), cell([500_000, 600_000])],
    [streamKey(SB_HTTP, "32 streams"), cell([40_000, 40_000])],
    [streamKey(SB_WS, "32 streams"), { missing: "not available: read it as a stream" }],
    [streamKey(GRPC, "32 streams"), cell([100_000, 125_000], 3, 0.95)],
  ]);
  return {
    cells,
    slow: {
      itemsRead: 150,
      seconds: 15,
      windowItems: 16,
      heapBefore: 10 * 2 ** 20,
      heapAfter: 11 * 2 ** 20,
      heapPeak: 12 * 2 ** 20,
    },
    idle: { streams: 10_000, heapBefore: 10 * 2 ** 20, heapAfter: 10 * 2 ** 20 + 30_000_000 },
    cancel: {
      cancels: 100,
      latencies: Array.from({ length: 100 }, (_, i) => i < 99 ? 0.2 : 9),
      roundTrips: Array.from({ length: 100 }, () => 0.1),
    },
    webSocket: {
      cells: [
        { name: "round trip (1 socket, 1 in flight)", ours: 20_000, theirs: 10_000, ratio: 2 },
      ],
      roundTrip: 2,
    },
    options: {
      warmupMs: 1000,
      durationMs: 16_000,
      rounds: 2,
      pin: true,
      slowReaderMs: 15_000,
      idleStreams: 10_000,
      cancels: 100,
    },
  };
}

Deno.test("streamTargets: ratios to grpc-js by the median of rounds, memory and cancel goals", () => {
  const lines = streamTargets(run()).map(verdict);
  assert.deepEqual(lines, [
    "- streamed items/s, 1 stream: Switchboard TCP ÷ grpc-js: 3.50× (target ≥ 3.00×) — met",
    "- streamed items/s, 1 stream: Switchboard WebSocket ÷ grpc-js: n/a (not measured)",
    "- streamed items/s, 32 streams: Switchboard TCP ÷ grpc-js: 2.00× (target ≥ 3.00×) — MISSED",
    "- streamed items/s, 32 streams: Switchboard WebSocket ÷ grpc-js: n/a (not measured)",
    "- server heap growth under a reader taking 10 items/s for 15 s (after a full GC; goal: " +
    "the credit window of 16 items + 4 MiB): 1024.0 KiB (target ≤ 4097.0 KiB) — met",
    "- server heap per idle stream, 10000 open on one connection: 2.9 KiB (target ≤ 2.0 KiB) — MISSED",
    "- cancellation, `break` to the producer's `finally`, p99 of 100 (goal: the median round " +
    "trip + 5 ms): 9.00 ms (target ≤ 5.10 ms) — MISSED",
  ]);
});

Deno.test("streamsSection: ranges, ratios, the generator's evidence, why a cell is missing", () => {
  const text = streamsSection(run(), { when: "2026-12-08 02:00 UTC", load: "0.5", pinned: true });
  assert.ok(text.startsWith(`${STREAMS_HEADING}\n`));
  assert.ok(!text.includes("⚠ The machine was busy"));
  const busy = streamsSection(run(), { when: "now", load: "9", pinned: true, busy: true });
  assert.match(busy, /⚠ The machine was busy/);
  const one = text.split("\n").find((l) => l.startsWith("| 1 stream |"))!;
  assert.match(
    one,
    /\| 300\.0k–400\.0k\/s \| 50\.0k–60\.0k\/s \| not available \| 100\.0k–100\.0k\/s \|/,
  );
  assert.match(
    one,
    /\| 3\.50× \(3\.00×–4\.00×\) \| – \| 0\.55× \(0\.50×–0\.60×\) \| 1\.50 \/ 4\.00 \|/,
  );
  assert.match(
    one,
    /Switchboard TCP \(msgpack-rpc\): yes: a bare reader read 1\.04× as many \(420\.0k\/s at best\); generator 50% on CPU \(1% waiting\), server 90% \(5%\)/,
  );
  assert.match(one, /Switchboard HTTP \(NDJSON\): n\/a \(bare reader: failed: boom\)/);
  assert.match(one, /@grpc\/grpc-js: yes: generator 50% on CPU/);
  assert.ok(!one.includes("Switchboard WebSocket:"), one);
  const many = text.split("\n").find((l) => l.startsWith("| 32 streams |"))!;
  assert.match(
    many,
    /Switchboard TCP \(msgpack-rpc\): NO, the typed client set the pace: a bare reader read 2\.45× as many/,
  );
  assert.match(many, /@grpc\/grpc-js: not shown: the generator was runnable: generator 95%/);
  assert.match(text, /- Switchboard WebSocket: not available: read it as a stream/);
  assert.match(text, /read at 10 items\/s for 15\.0 s; the issue's figure is 60 s/);
  assert.match(text, /3000 bytes each/);
  assert.match(text, /p50 0\.20 ms, p99 9\.00 ms, max 9\.00 ms; a round trip .* p50 0\.10 ms/);
  assert.match(text, /\| round trip \(1 socket, 1 in flight\) \| 20000 \| 10000 \| 2\.00× \|/);
  assert.match(text, /- WebSocket round trip vs rpc-websockets: 2\.00× \(target ≥ 1\.5×\) — met/);

  // Written into the page before the full table, and replaced there on the next run.
  const page = "# Performance\n\nintro\n\n## Every cell of the run\n\n| t |\n";
  const once = replaceSection(page, STREAMS_HEADING, text);
  assert.ok(once.indexOf(STREAMS_HEADING) < once.indexOf("## Every cell of the run"));
  assert.equal(sectionOf(once, STREAMS_HEADING), text);
  const again = replaceSection(once, STREAMS_HEADING, `${STREAMS_HEADING}\n\nnew\n`);
  assert.equal(sectionOf(again, STREAMS_HEADING), `${STREAMS_HEADING}\n\nnew\n`);
  assert.ok(again.includes("## Every cell of the run\n\n| t |\n"));
});

Deno.test("streamsSection: figures that could not be had say why", () => {
  const text = streamsSection(
    {
      ...run(),
      slow: "failed: boom",
      idle: "failed: idle",
      cancel: "failed: c",
      webSocket: "failed: ws",
    },
    { when: "now", load: "1", pinned: false },
  );
  for (
    const line of [
      "- Slow reader: failed: boom",
      "- Idle streams: failed: idle",
      "- Cancellation: failed: c",
    ]
  ) {
    assert.ok(text.includes(line), line);
  }
  assert.match(text, /WebSocket calls against rpc-websockets: failed: ws/);
  assert.match(text, /server heap per idle stream.*n\/a \(not measured\)/);
});

Deno.test("--streams-only runs the streams suite alone; its flags are read", () => {
  const o = parseOptions([
    "--streams-only",
    "--slow-reader",
    "60000",
    "--idle-streams=500",
    "--cancels",
    "10",
  ]);
  assert.deepEqual([...o.only], ["streams"]);
  assert.equal(o.slowReaderMs, 60_000);
  assert.equal(o.idleStreams, 500);
  assert.equal(o.cancels, 10);
  assert.ok(parseOptions([]).only.has("streams"));
});
