// Streamed results (t.stream) over msgpack-rpc on TCP: credit, cancellation, errors
// mid-stream, plain peers' whole arrays, and what a hostile peer cannot do to the server.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { connect, RpcError } from "../../mod.ts";
import { Server, type ServerOptions } from "../../server.ts";
import type { TcpOptions } from "../../src/server/tcp.ts";
import {
  MessageDecoder,
  type NotificationMessage,
  type ResponseMessage,
} from "../../src/wire/msgpackrpc/codec.ts";
import { DEFAULT_STREAM_WINDOW, MAX_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import { ENDLESS_CAP, Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";
import { eventually, rawClient } from "./tcp_fixture.ts";
import "../../src/adapters/deno/tcp_client.ts";

async function feedServer(tcpOptions: TcpOptions = {}, options: ServerOptions = {}) {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} }, ...options });
  server.register(feedImpl(probe));
  const tcp = await server.listenTcp({ port: 0 }, tcpOptions);
  return { probe, server, tcp, close: () => server.close() };
}

/** `promise`, or a failure after `ms` (a test never hangs on a producer that did not end). */
function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Lets the producer run as far as credit allows. */
const pause = (ms = 100) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("tcp: a streamed result arrives in order and ends normally", async () => {
  const { tcp, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const got: number[] = [];
    for await (const n of client.proxy(Feed).count({ n: 100 })) got.push(n);
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp: a slow consumer holds the producer within its credit window", async () => {
  const { tcp, probe, close } = await feedServer();
  const client = connect(tcp.url);
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

Deno.test("tcp: break cancels the producer at the server (signal aborted, finally ran)", async () => {
  const { tcp, probe, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    for await (const item of client.proxy(Feed).endless()) if (item === "item 3") break;
    await within(probe.finished.promise);
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
    assert.ok(probe.produced < ENDLESS_CAP);
    // The connection goes on.
    const got: number[] = [];
    for await (const n of client.proxy(Feed).count({ n: 3 })) got.push(n);
    assert.deepEqual(got, [0, 1, 2]);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp: aborting the caller's signal cancels the producer", async () => {
  const { tcp, probe, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const controller = new AbortController();
    const iterator = client.proxy(Feed).endless(undefined, { signal: controller.signal })
      [Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await within(probe.finished.promise);
    await assert.rejects(iterator.next(), { name: "Cancelled" });
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp: a consumer that disconnects ends the producer; its reader fails Unavailable", async () => {
  const { tcp, probe, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const iterator = client.proxy(Feed).endless()[Symbol.asyncIterator]();
    await iterator.next();
    await client.close();
    await within(probe.finished.promise);
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

Deno.test("tcp: an error mid-stream arrives after the items, with its code and name", async () => {
  const { tcp, close } = await feedServer();
  const client = connect(tcp.url);
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

Deno.test("tcp: an item over maxItemBytes ends the stream with an error naming the limit", async () => {
  const { tcp, close } = await feedServer({ streams: { maxItemBytes: 40 } });
  const client = connect(tcp.url);
  try {
    await assert.rejects(async () => {
      for await (const _ of client.proxy(Feed).endless());
    }, (e: RpcError) => e.name === "InternalError" && /limit 40\)/.test(e.message));
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp: a plain peer gets the whole array, or an error naming the limit", async () => {
  const { tcp, close } = await feedServer({}, { maxStreamItems: 50 });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "Feed.count", [50]]);
    const whole = await raw.next() as ResponseMessage;
    assert.equal(whole.error, null);
    assert.deepEqual(whole.result, Array.from({ length: 50 }, (_, i) => i));
    await raw.send([0, 2, "Feed.count", [51]]);
    const tooLong = await raw.next() as ResponseMessage;
    assert.equal(tooLong.result, null);
    assert.match(String((tooLong.error as unknown[])[1]), /more than 50 items \(limit 50\)/);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("tcp: a call that does not ask for a stream gets the whole array", async () => {
  const { tcp, close } = await feedServer();
  const client = connect(tcp.url);
  const raw = await helloPeer(tcp.port);
  try {
    assert.deepEqual(await client.call("Feed.count", { n: 3 }), [0, 1, 2]);
    const streamed = await client.call("Feed.count", { n: 3 }, { stream: true });
    const got: unknown[] = [];
    for await (const n of streamed as AsyncIterable<unknown>) got.push(n);
    assert.deepEqual(got, [0, 1, 2]);
    // A Switchboard peer without `stream: true` in the request's options: the array.
    await raw.send([0, 1, "Feed.count", { n: 2 }]);
    assert.deepEqual((await raw.next() as ResponseMessage).result, [0, 1]);
  } finally {
    await raw.close();
    await client.close();
    await close();
  }
});

/** A raw Switchboard peer: said hello, speaks the stream messages by hand. */
async function helloPeer(port: number) {
  const raw = await rawClient(port);
  await raw.send([0, 0, "$/hello", [{}]]);
  const hello = await raw.next() as ResponseMessage;
  assert.equal(hello.error, null);
  return raw;
}

Deno.test("tcp hostile: a peer that never grants credit gets Timeout after idleMs; the producer ends", async () => {
  const { tcp, probe, close } = await feedServer({ streams: { idleMs: 300 }, heartbeat: false });
  const raw = await helloPeer(tcp.port);
  try {
    await raw.send([0, 1, "Feed.endless", {}, { stream: true }]);
    const handle = await raw.next() as ResponseMessage;
    assert.deepEqual(handle.result, { $stream: 1 });
    // One item, then no more credit.
    await raw.send([2, "$/stream.credit", [{ stream: 1, n: 1 }]]);
    const item = await raw.next() as NotificationMessage;
    assert.deepEqual(item.params, [{ stream: 1, seq: 0, item: "item 0" }]);
    const error = await raw.next(5000) as NotificationMessage;
    assert.equal(error.method, "$/stream.error");
    const { stream, error: shape } = (error.params as [{ stream: number; error: RpcError }])[0];
    assert.equal(stream, 1);
    assert.equal(shape.name, "Timeout");
    assert.match(shape.message, /no credit for 300 ms/);
    await within(probe.finished.promise);
    assert.equal(probe.produced, 1);
    assert.equal((probe.abortReason as RpcError).name, "Timeout");
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("tcp hostile: opening 10^4 streams is refused past maxStreams; the server serves on", async () => {
  const { tcp, close } = await feedServer({ streams: { maxStreams: 256 }, heartbeat: false });
  const raw = await helloPeer(tcp.port);
  try {
    const total = 10_000;
    for (let sent = 0; sent < total;) {
      const batch = [];
      for (let i = 0; i < 500; i++, sent++) {
        batch.push([0, sent + 1, "Feed.count", { n: 5 }, { stream: true }]);
      }
      await raw.send(...batch);
    }
    await eventually(
      () => raw.inbox.filter((m) => m.type === 1).length >= total,
      "every answer",
      60_000,
    );
    const answers = raw.inbox.filter((m) => m.type === 1) as ResponseMessage[];
    const handles = answers.filter((m) => m.error === null);
    const refused = answers.filter((m) => m.error !== null);
    assert.equal(handles.length, 256);
    assert.equal(refused.length, total - 256);
    // Each refusal names its limit: open streams, or requests in flight while they open.
    const reasons = refused.map((m) => (m.error as { message: string }).message);
    assert.ok(
      reasons.every((r) =>
        /too many open streams on this connection \(limit 256\)|too many requests in flight/
          .test(r)
      ),
    );
    assert.ok(reasons.some((r) => /too many open streams/.test(r)));
    // Another connection is served as usual.
    const client = connect(tcp.url);
    const got: number[] = [];
    for await (const n of client.proxy(Feed).count({ n: 2 })) got.push(n);
    assert.deepEqual(got, [0, 1]);
    await client.close();
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("tcp hostile: stream messages for streams not open, or malformed, change nothing", async () => {
  const { tcp, close } = await feedServer({ heartbeat: false });
  const raw = await helloPeer(tcp.port);
  try {
    await raw.send(
      [2, "$/stream.item", [{ stream: 7, seq: 0, item: 1 }]],
      [2, "$/stream.credit", [{ stream: 99, n: 1e9 }]],
      [2, "$/stream.cancel", [{ stream: 3 }]],
      [2, "$/stream.end", ["nonsense"]],
      [2, "$/stream.error", []],
      [2, "$/stream.credit", [{ stream: 1, n: -5 }]],
      [0, 1, "Feed.count", { n: 2 }, { stream: true }],
    );
    const handle = await raw.next() as ResponseMessage;
    assert.deepEqual(handle.result, { $stream: 1 });
    // A negative grant was ignored: nothing flows until a real one.
    await raw.send([2, "$/stream.credit", [{ stream: 1, n: 10 }]]);
    const messages = [
      await raw.next(),
      await raw.next(),
      await raw.next(),
    ] as NotificationMessage[];
    assert.deepEqual(messages.map((m) => m.method), [
      "$/stream.item",
      "$/stream.item",
      "$/stream.end",
    ]);
    assert.deepEqual(messages[2].params, [{ stream: 1, count: 2 }]);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("tcp hostile: a peer that grants credit but never reads holds the producer", async () => {
  const { tcp, probe, close } = await feedServer({
    maxUnwrittenBytes: 64 * 1024,
    heartbeat: false,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
  try {
    const write = async (value: unknown) => {
      const bytes = encode(value);
      for (let o = 0; o < bytes.length;) o += await conn.write(bytes.subarray(o));
    };
    await write([0, 0, "$/hello", [{}]]);
    await write([0, 1, "Feed.endless", {}, { stream: true }]);
    // Read the two answers (the second is the handle), then never read again.
    const decoder = new MessageDecoder(1 << 20);
    const answers: ResponseMessage[] = [];
    const buffer = new Uint8Array(4096);
    while (answers.length < 2) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("closed by the server");
      decoder.push(buffer.subarray(0, n));
      for (let next = decoder.next(); next; next = decoder.next()) {
        if (next.ok && next.message.type === 1) answers.push(next.message);
      }
    }
    assert.deepEqual(answers[1].result, { $stream: 1 });
    // Grant everything.
    await write([2, "$/stream.credit", [{ stream: 1, n: 2 ** 31 }]]);
    await within(probe.started.promise);
    // The producer stops once the socket and the session's budget are full.
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
    // Paused, not dropped: the connection stays up and the producer waits at its yield.
    assert.equal(probe.finallyRan, false);
  } finally {
    conn.close();
    await within(probe.finished.promise);
    await close();
  }
});
