// Stream params (client → server) over msgpack-rpc on TCP: the handler reads the caller's
// items with the same credit window; what it leaves unread is cancelled at the caller.
import assert from "node:assert/strict";
import { connect, RpcError } from "../../mod.ts";
import { Server } from "../../server.ts";
import type { TcpOptions } from "../../src/server/tcp.ts";
import type { NotificationMessage, ResponseMessage } from "../../src/wire/msgpackrpc/codec.ts";
import { DEFAULT_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import {
  countingSource,
  defineSlowSum,
  ENDLESS_CAP,
  Feed,
  feedImpl,
  feedProbe,
} from "../fixtures/feed.ts";
import { rawClient } from "./tcp_fixture.ts";
import "../../src/adapters/deno/tcp_client.ts";

async function feedServer(tcpOptions: TcpOptions = {}) {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const slow = defineSlowSum();
  server.register(slow.impl);
  const tcp = await server.listenTcp({ port: 0 }, tcpOptions);
  return { probe, slow, tcp, close: () => server.close() };
}

function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("tcp: a stream param reaches the handler in full; arrays travel as they are", async () => {
  const { tcp, close } = await feedServer();
  const client = connect(tcp.url);
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

Deno.test("tcp: a handler that stops reading a stream param cancels the caller's generator", async () => {
  const { tcp, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const caller = feedProbe();
    const total = await client.proxy(Feed).sum({
      values: countingSource(caller, ENDLESS_CAP),
      take: 4,
    });
    assert.equal(total, 6);
    await within(caller.finished.promise);
    assert.ok(caller.produced <= 4 + DEFAULT_STREAM_WINDOW + 1, `produced ${caller.produced}`);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp: a slow handler holds the caller's generator within the window", async () => {
  const { tcp, slow, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const caller = feedProbe();
    const result = client.proxy(slow.iface).sum({ values: countingSource(caller, 1000) });
    await within(slow.readThree.promise);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(caller.produced <= 3 + DEFAULT_STREAM_WINDOW + 1, `produced ${caller.produced}`);
    slow.goOn.resolve();
    assert.equal(await result, 499500);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp: an item of the wrong type in a stream param fails the call, naming the item", async () => {
  const { tcp, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const bad = async function* () {
      yield 1;
      yield "x" as unknown as number;
    };
    await assert.rejects(
      client.proxy(Feed).sum({ values: bad() }),
      // The caller's own check stops the bad item; the handler hears why.
      (e: RpcError) => e.name === "InternalError" && /bad item 1: expected int/.test(e.message),
    );
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("tcp hostile: a stream param's item over maxItemBytes fails the call naming the limit", async () => {
  const { tcp, close } = await feedServer({ streams: { maxItemBytes: 64 }, heartbeat: false });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 0, "$/hello", [{}]]);
    assert.equal((await raw.next() as ResponseMessage).error, null);
    await raw.send([0, 1, "Feed.sum", { values: { $stream: 5 } }]);
    const credit = await raw.next() as NotificationMessage;
    assert.equal(credit.method, "$/stream.credit");
    assert.deepEqual(credit.params, [{ stream: 5, n: DEFAULT_STREAM_WINDOW }]);
    await raw.send(
      [2, "$/stream.item", [{ stream: 5, seq: 0, item: 1 }]],
      [2, "$/stream.item", [{ stream: 5, seq: 1, item: "x".repeat(200) }]],
      [2, "$/stream.item", [{ stream: 99, seq: 0, item: 1 }]],
    );
    const messages = [await raw.next(), await raw.next()];
    const answer = messages.find((m) => m.type === 1) as ResponseMessage;
    const cancel = messages.find((m) => m.type === 2) as NotificationMessage;
    assert.equal(cancel.method, "$/stream.cancel");
    assert.match((answer.error as { message: string }).message, /limit 64\)/);
    // The server goes on.
    await raw.send([0, 2, "Feed.sum", { values: [2, 3] }]);
    assert.equal((await raw.next() as ResponseMessage).result, 5);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("tcp: a caller that disconnects mid-param fails the handler's read Unavailable", async () => {
  const { tcp, slow, close } = await feedServer();
  const client = connect(tcp.url);
  try {
    const caller = feedProbe();
    const result = client.proxy(slow.iface).sum({ values: countingSource(caller, 1000) });
    const settled = result.then(() => undefined, (e) => e);
    await within(slow.readThree.promise);
    await client.close();
    assert.ok((await settled) instanceof RpcError);
    slow.goOn.resolve();
    const failure = await within(slow.failure.promise);
    assert.equal((failure as RpcError).name, "Unavailable");
  } finally {
    await close();
  }
});
