// Streams (t.stream results and params) over JSON-RPC on WebSocket between the "." client
// and a real server: the same credit, cancellation, errors mid-stream and limits as TCP,
// and what a hostile raw WebSocket client cannot do to the server.
import assert from "node:assert/strict";
import {
  connect,
  defineInterface,
  implement,
  type InterfaceProxy,
  method,
  RpcError,
  t,
} from "../../mod.ts";
import { Server } from "../../server.ts";
import { DEFAULT_STREAM_WINDOW, MAX_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import { countingSource, ENDLESS_CAP, Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";
import { eventually } from "./tcp_fixture.ts";
import { feedWsServer, type Message, rawWs, stuckWs, within } from "./ws_fixture.ts";

/** Lets the producer run as far as credit allows. */
const pause = (ms = 100) => new Promise((resolve) => setTimeout(resolve, ms));
const call = (id: number, method: string, params: unknown, extra = {}) => ({
  jsonrpc: "2.0",
  id,
  method,
  params,
  ...extra,
});
const note = (method: string, params: unknown) => ({ jsonrpc: "2.0", method, params });

Deno.test("ws: a streamed result arrives in order and ends normally", async () => {
  const { url, close } = await feedWsServer();
  const client = connect(url);
  try {
    const got: number[] = [];
    for await (const n of client.proxy(Feed).count({ n: 100 })) got.push(n);
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
    // A ReadableStream source, read as a ReadableStream.
    const reader = client.proxy(Feed).readable({ n: 3 }).readable().getReader();
    const read: number[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) read.push(r.value);
    assert.deepEqual(read, [0, 1, 2]);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: a slow consumer holds the producer within its credit window", async () => {
  const { url, probe, close } = await feedWsServer();
  const client = connect(url);
  try {
    const iterator = client.proxy(Feed).endless()[Symbol.asyncIterator]();
    let read = 0;
    for (; read < 5; read++) await iterator.next();
    await pause(200);
    assert.ok(probe.produced <= read + DEFAULT_STREAM_WINDOW, `produced ${probe.produced}`);
    // The window grows while items are small, up to MAX_STREAM_WINDOW, and no further.
    for (; read < 600; read++) await iterator.next();
    await pause(200);
    assert.ok(probe.produced >= read && probe.produced <= read + MAX_STREAM_WINDOW);
    await iterator.return!();
    await within(probe.finished.promise);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: break cancels the producer at the server (signal aborted, finally ran)", async () => {
  const { url, probe, close } = await feedWsServer();
  const client = connect(url);
  try {
    for await (const item of client.proxy(Feed).endless()) if (item === "item 3") break;
    await within(probe.finished.promise);
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
    assert.ok(probe.produced < ENDLESS_CAP);
    const got: number[] = [];
    for await (const n of client.proxy(Feed).count({ n: 3 })) got.push(n);
    assert.deepEqual(got, [0, 1, 2]);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: aborting the caller's signal cancels the producer", async () => {
  const { url, probe, close } = await feedWsServer();
  const client = connect(url);
  try {
    const controller = new AbortController();
    const iterator = client.proxy(Feed).endless(undefined, { signal: controller.signal })
      [Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await within(probe.finished.promise);
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
    await assert.rejects(iterator.next(), { name: "Cancelled" });
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: a consumer whose socket closes ends the producer; its reader fails Unavailable", async () => {
  const { url, probe, close } = await feedWsServer();
  const client = connect(url);
  try {
    const iterator = client.proxy(Feed).endless()[Symbol.asyncIterator]();
    await iterator.next();
    await client.close();
    await within(probe.finished.promise);
    assert.equal(probe.finallyRan, true);
    assert.equal((probe.abortReason as RpcError).name, "Unavailable");
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 100; i++) await iterator.next();
      })(),
      { name: "Unavailable" },
    );
  } finally {
    await close();
  }
});

Deno.test("ws: an error mid-stream arrives after the items, with its code and name", async () => {
  const { url, close } = await feedWsServer();
  const client = connect(url);
  try {
    const got: number[] = [];
    const error = await (async () => {
      try {
        for await (const n of client.proxy(Feed).fails({ after: 20 })) got.push(n);
      } catch (e) {
        return e;
      }
    })();
    assert.equal(got.length, 20);
    assert.ok(error instanceof RpcError);
    assert.equal(error.name, "NotFound");
    assert.equal(error.code, -32000);
    assert.equal(error.message, "nothing after 20");
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: an item over maxItemBytes ends the stream with an error naming the limit", async () => {
  const { url, close } = await feedWsServer({ streams: { maxItemBytes: 80 } });
  const client = connect(url);
  try {
    await assert.rejects(async () => {
      for await (const _ of client.proxy(Feed).endless());
    }, (e: RpcError) => e.name === "InternalError" && /bytes \(limit 80\)/.test(e.message));
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: a stream param reaches the handler in full; arrays travel as they are", async () => {
  const { url, close } = await feedWsServer();
  const client = connect(url);
  try {
    const caller = feedProbe();
    assert.equal(await client.proxy(Feed).sum({ values: countingSource(caller, 100) }), 4950);
    assert.equal(caller.finallyRan, true);
    assert.equal(await client.proxy(Feed).sum({ values: [1, 2, 3] }), 6);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: a handler that stops reading a stream param cancels the caller's generator", async () => {
  const { url, close } = await feedWsServer();
  const client = connect(url);
  try {
    const caller = feedProbe();
    const source = countingSource(caller, ENDLESS_CAP);
    assert.equal(await client.proxy(Feed).sum({ values: source, take: 4 }), 6);
    await within(caller.finished.promise);
    assert.ok(caller.produced <= 4 + DEFAULT_STREAM_WINDOW, `produced ${caller.produced}`);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("ws: a slow handler holds the caller's generator within the window", async () => {
  const { url, slow, close } = await feedWsServer();
  const client = connect(url);
  try {
    const caller = feedProbe();
    const result = client.proxy(slow.iface).sum({ values: countingSource(caller, 200) });
    await within(slow.readThree.promise);
    await pause(200);
    assert.ok(caller.produced <= 3 + DEFAULT_STREAM_WINDOW, `produced ${caller.produced}`);
    slow.goOn.resolve();
    assert.equal(await within(result), 19900);
  } finally {
    await client.close();
    await close();
  }
});

const Pipe = defineInterface("Pipe", {
  double: method({ params: { values: t.stream(t.int) }, result: t.stream(t.int) }),
});

Deno.test("ws: a stream param and a stream result flow at once (lockstep echo)", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Pipe, {
    async *double({ values }) {
      for await (const v of values) yield v * 2;
    },
  }));
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  const client = connect(http.url.replace("http", "ws"));
  try {
    const proxy: InterfaceProxy<typeof Pipe> = client.proxy(Pipe);
    let release: (() => void) | undefined;
    let sent = 0;
    const values = async function* () {
      for (; sent < 20; sent++) {
        yield sent;
        await new Promise<void>((resolve) => release = resolve);
      }
    };
    const got: number[] = [];
    for await (const v of proxy.double({ values: values() })) {
      got.push(v);
      // The answer to item k arrived before item k + 1 was made: both directions are live.
      assert.equal(sent, got.length - 1);
      release?.();
    }
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i * 2));
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("ws: a plain peer gets the whole array, or an error naming the limit", async () => {
  const { url, close } = await feedWsServer({}, { maxStreamItems: 50 });
  const raw = await rawWs(url);
  try {
    // Asking without `$/hello` is not asking: a plain peer gets the array.
    raw.send(call(1, "Feed.count", { n: 50 }, { stream: true }));
    assert.deepEqual((await raw.next()).result, Array.from({ length: 50 }, (_, i) => i));
    raw.send(call(2, "Feed.count", [51]));
    const tooLong = await raw.next();
    assert.equal(tooLong.error.code, -32600);
    assert.match(tooLong.error.message, /more than 50 items \(limit 50\)/);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("ws: a Switchboard peer gets a handle only when its request asks; untyped calls too", async () => {
  const { url, close } = await feedWsServer({ heartbeat: false });
  const raw = await rawWs(url);
  const client = connect(url);
  try {
    await raw.hello();
    raw.send(call(1, "Feed.count", { n: 2 }));
    assert.deepEqual((await raw.next()).result, [0, 1]);
    // In a batch, `stream` is not read: arrays.
    raw.send([call(2, "Feed.count", { n: 2 }, { stream: true })]);
    assert.deepEqual((await raw.next())[0].result, [0, 1]);
    raw.send(call(3, "Feed.count", { n: 2 }, { stream: true }));
    assert.deepEqual(await raw.next(), { jsonrpc: "2.0", result: { $stream: 1 }, id: 3 });
    raw.send(note("$/stream.credit", { stream: 1, n: 16 }));
    const messages = [await raw.next(), await raw.next(), await raw.next()];
    assert.deepEqual(messages, [
      note("$/stream.item", { stream: 1, seq: 0, item: 0 }),
      note("$/stream.item", { stream: 1, seq: 1, item: 1 }),
      note("$/stream.end", { stream: 1, count: 2 }),
    ]);
    assert.deepEqual(await client.call("Feed.count", { n: 3 }), [0, 1, 2]);
    const streamed = await client.call("Feed.count", { n: 3 }, { stream: true });
    const got: unknown[] = [];
    for await (const n of streamed as AsyncIterable<unknown>) got.push(n);
    assert.deepEqual(got, [0, 1, 2]);
  } finally {
    await client.close();
    await raw.close();
    await close();
  }
});

Deno.test("ws hostile: a peer that never grants credit gets Timeout after idleMs; the producer ends", async () => {
  const { url, probe, close } = await feedWsServer({ streams: { idleMs: 300 }, heartbeat: false });
  const raw = await rawWs(url);
  try {
    await raw.hello();
    raw.send(call(1, "Feed.endless", {}, { stream: true }));
    assert.deepEqual((await raw.next()).result, { $stream: 1 });
    raw.send(note("$/stream.credit", { stream: 1, n: 1 }));
    assert.deepEqual((await raw.next()).params, { stream: 1, seq: 0, item: "item 0" });
    const error = await raw.next(5000);
    assert.equal(error.method, "$/stream.error");
    assert.equal(error.params.stream, 1);
    assert.equal(error.params.error.name, "Timeout");
    assert.match(error.params.error.message, /no credit for 300 ms/);
    await within(probe.finished.promise);
    assert.equal(probe.produced, 1);
    assert.equal((probe.abortReason as RpcError).name, "Timeout");
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("ws hostile: opening 10^4 streams is refused past maxStreams; the server serves on", async () => {
  const { url, close } = await feedWsServer({ streams: { maxStreams: 256 }, heartbeat: false });
  const raw = await rawWs(url);
  try {
    await raw.hello();
    const total = 10_000;
    for (let id = 1; id <= total; id++) {
      raw.send(call(id, "Feed.count", { n: 5 }, { stream: true }));
    }
    const answers = () => raw.inbox.filter((m: Message) => typeof m.id === "number" && m.id > 0);
    await eventually(() => answers().length >= total, "every answer", 60_000);
    const handles = answers().filter((m: Message) => m.result);
    const refused = answers().filter((m: Message) => m.error);
    assert.equal(handles.length, 256);
    assert.equal(refused.length, total - 256);
    assert.ok(
      refused.every((m: Message) =>
        m.error.name === "Overloaded" &&
        /too many open streams on this connection \(limit 256\)|too many requests in flight/
          .test(m.error.message)
      ),
    );
    // The same connection still answers other calls, and another streams as usual.
    raw.send(call(total + 1, "Feed.sum", { values: [2, 3] }));
    await eventually(() => raw.inbox.some((m: Message) => m.id === total + 1), "the sum");
    assert.equal(raw.inbox.find((m: Message) => m.id === total + 1).result, 5);
    const client = connect(url);
    const got: number[] = [];
    for await (const n of client.proxy(Feed).count({ n: 2 })) got.push(n);
    assert.deepEqual(got, [0, 1]);
    await client.close();
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("ws hostile: stream messages for streams not open, or malformed, change nothing", async () => {
  const { url, close } = await feedWsServer({ heartbeat: false });
  const raw = await rawWs(url);
  try {
    await raw.hello();
    raw.send(
      note("$/stream.item", { stream: 7, seq: 0, item: 1 }),
      note("$/stream.credit", { stream: 99, n: 1e9 }),
      note("$/stream.cancel", { stream: 3 }),
      note("$/stream.end", ["nonsense"]),
      note("$/stream.error", {}),
      note("$/stream.credit", { stream: 1, n: -5 }),
      call(1, "Feed.count", { n: 2 }, { stream: true }),
    );
    assert.deepEqual((await raw.next()).result, { $stream: 1 });
    // A negative grant was ignored: nothing flows until a real one.
    raw.send(note("$/stream.credit", { stream: 1, n: 10 }));
    const messages = [await raw.next(), await raw.next(), await raw.next()];
    assert.deepEqual(messages.map((m) => m.method), [
      "$/stream.item",
      "$/stream.item",
      "$/stream.end",
    ]);
    assert.deepEqual(messages[2].params, { stream: 1, count: 2 });
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("ws hostile: a stream param's item over maxItemBytes fails the call naming the limit", async () => {
  const { url, close } = await feedWsServer({ streams: { maxItemBytes: 100 }, heartbeat: false });
  const raw = await rawWs(url);
  try {
    await raw.hello();
    raw.send(call(1, "Feed.sum", { values: { $stream: 5 } }));
    assert.deepEqual(
      await raw.next(),
      note("$/stream.credit", { stream: 5, n: DEFAULT_STREAM_WINDOW }),
    );
    raw.send(
      note("$/stream.item", { stream: 5, seq: 0, item: 1 }),
      note("$/stream.item", { stream: 5, seq: 1, item: "x".repeat(200) }),
      note("$/stream.item", { stream: 99, seq: 0, item: 1 }),
    );
    const messages = [await raw.next(), await raw.next()];
    const answer = messages.find((m) => m.id === 1);
    assert.deepEqual(messages.find((m) => m.method), note("$/stream.cancel", { stream: 5 }));
    assert.equal(answer.error.code, -32600);
    assert.match(answer.error.message, /bytes \(limit 100\)/);
    raw.send(call(2, "Feed.sum", { values: [2, 3] }));
    assert.equal((await raw.next()).result, 5);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("ws hostile: a peer that grants credit but never reads holds the producer", async () => {
  const { http, probe, close } = await feedWsServer({ heartbeat: false });
  const stuck = await stuckWs(http.port);
  try {
    await stuck.send(call(0, "$/hello", [{}]));
    await stuck.send(call(1, "Feed.endless", {}, { stream: true }));
    // The handle is stream 1 (the first this connection opened), unread: grant everything
    // until the stream is open (credit for a stream not open yet is ignored).
    const started = probe.started.promise.then(() => true);
    for (let i = 0; i < 200 && !await Promise.race([started, pause(50)]); i++) {
      await stuck.send(note("$/stream.credit", { stream: 1, n: 2 ** 31 }));
    }
    await within(probe.started.promise);
    let before = -1;
    await eventually(
      () => {
        const now = probe.produced;
        const still = now === before;
        before = now;
        return still && now > 0;
      },
      "the producer to stop",
      30_000,
    );
    assert.ok(probe.produced < ENDLESS_CAP, `produced ${probe.produced}`);
    // Paused, not dropped: the producer waits at its yield.
    assert.equal(probe.finallyRan, false);
  } finally {
    stuck.close();
    await within(probe.finished.promise);
    await close();
  }
});

const Relay = defineInterface("Relay", {
  total: method({ params: { n: t.int }, result: t.int }),
  firstThree: method({ result: t.array(t.string) }),
});

Deno.test("ws: the server reads a stream the client produces (server → client call, ctx.peer)", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Relay, {
    async total({ n }, ctx) {
      let sum = 0;
      for await (const v of ctx.peer!.proxy(Feed).count({ n })) sum += v;
      return sum;
    },
    async firstThree(_, ctx) {
      const got: string[] = [];
      for await (const item of ctx.peer!.proxy(Feed).endless()) {
        if (got.push(item) === 3) break;
      }
      return got;
    },
  }));
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  const client = connect(http.url.replace("http", "ws"));
  const probe = feedProbe();
  client.register(feedImpl(probe));
  try {
    assert.equal(await client.proxy(Relay).total({ n: 200 }), 19900);
    // Item by item: the server's break cancels the client's generator.
    assert.deepEqual(await client.proxy(Relay).firstThree(), ["item 0", "item 1", "item 2"]);
    await eventually(() => probe.finallyRan, "the client's producer to end");
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
    assert.ok(probe.produced <= 3 + DEFAULT_STREAM_WINDOW, `produced ${probe.produced}`);
  } finally {
    await client.close();
    await server.close();
  }
});

const Clock = defineInterface("Clock", {
  ticks: method({ params: { n: t.int }, result: t.stream(t.datetime) }),
});

Deno.test("ws: stream items are values as JSON-RPC carries them (a t.datetime item is a Date)", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Clock, {
    async *ticks({ n }) {
      for (let i = 0; i < n; i++) yield new Date(Date.UTC(2026, 0, 1 + i));
    },
  }));
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  const client = connect(http.url.replace("http", "ws"));
  try {
    const got: Date[] = [];
    for await (const d of client.proxy(Clock).ticks({ n: 3 })) got.push(d);
    assert.ok(got.every((d) => d instanceof Date));
    assert.deepEqual(got.map((d) => d.toISOString().slice(0, 10)), [
      "2026-01-01",
      "2026-01-02",
      "2026-01-03",
    ]);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("ws: a caller that disconnects mid-param fails the handler's read Unavailable", async () => {
  const { url, slow, close } = await feedWsServer();
  const client = connect(url);
  try {
    const caller = feedProbe();
    const result = client.proxy(slow.iface).sum({ values: countingSource(caller, 1000) });
    const settled = result.then(() => undefined, (e) => e);
    await within(slow.readThree.promise);
    await client.close();
    assert.ok((await settled) instanceof RpcError);
    // The caller's generator was stopped too.
    await within(caller.finished.promise);
    slow.goOn.resolve();
    const failure = await within(slow.failure.promise);
    assert.equal((failure as RpcError).name, "Unavailable");
  } finally {
    await close();
  }
});
