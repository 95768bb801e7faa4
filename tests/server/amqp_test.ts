// The AMQP transport against a real RabbitMQ: calls, errors, load balancing, queued calls,
// deadlines, notifications, idempotency, misbehaving peers, shutdown.
import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import {
  callQueue,
  CONTENT_TYPE,
  DEADLINE_HEADER,
  DIRECT_REPLY_TO,
  eventsExchange,
} from "../../src/wire/amqp/conventions.ts";
import type { AmqpTransport } from "../../src/client/amqp.ts";
import { decodeMessage, encodeRequest } from "../../src/wire/msgpackrpc/codec.ts";
import { defineInterface, method } from "../../src/core/idl/interface.ts";
import { t } from "../../src/core/idl/types.ts";
import { defineError, RpcError } from "../../src/core/errors.ts";
import { implement } from "../../src/core/implement.ts";
import { Server } from "../../src/server/server.ts";
import { serveAmqp } from "../../src/server/amqp.ts";
import { MemoryDedupeStore } from "../../src/server/amqp_dedupe.ts";
import { Router } from "../../src/core/router/router.ts";
import {
  BROKER_URL,
  deleteQueues,
  rawConnection,
  SKIP,
  uniquePrefix,
  waitFor,
} from "../fixtures/amqp_broker.ts";

const NotFound = defineError("NotFound");

const Shop = defineInterface("Shop", {
  price: method({ params: { item: t.string, qty: t.int }, result: t.float }),
  stamp: method({
    params: { at: t.datetime, blob: t.bytes },
    result: t.struct("Stamp", { at: t.datetime, size: t.int }),
  }),
  whoami: method({ result: t.string }),
  slow: method({ params: { ms: t.int }, result: t.string }),
  count: method({ params: { key: t.string }, result: t.int }),
  hit: method({ params: { key: t.string } }),
});

/** A Shop whose handlers record what ran, for assertions. */
function shop(name: string, log: ReturnType<typeof newLog>) {
  return implement(Shop, {
    price: ({ item, qty }) => {
      log.ran.push(`${name}:${item}`);
      if (item === "unicorn") throw new NotFound(`no ${item} in stock`, { item });
      return qty * 1.5;
    },
    stamp: ({ at, blob }) => ({ at: new Date(at.getTime() + 1000), size: blob.byteLength }),
    whoami: (_p, ctx) => ctx.caller?.id ?? "nobody",
    slow: async ({ ms }) => {
      log.started.push(`${name}:slow`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.ran.push(`${name}:slow`);
      return `${name} slept ${ms}`;
    },
    count: ({ key }) => {
      const n = (log.counts.get(key) ?? 0) + 1;
      log.counts.set(key, n);
      return n;
    },
    hit: ({ key }) => {
      log.hits.push(`${name}:${key}`);
    },
  });
}

function newLog() {
  return {
    ran: [] as string[],
    started: [] as string[],
    hits: [] as string[],
    counts: new Map<string, number>(),
  };
}

/** A server with a Shop consuming from the broker under `prefix`. */
async function worker(name: string, prefix: string, log = newLog(), prefetch = 8) {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(shop(name, log));
  const listener = await server.listenAmqp(BROKER_URL, { prefix, prefetch });
  return { server, listener, log };
}

function cleanup(prefix: string) {
  return deleteQueues([callQueue(prefix, "Shop")], [eventsExchange(prefix)]);
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `amqp: ${name}`, ignore: SKIP, fn });

test("calls round-trip with typed results and the one error model", async () => {
  const prefix = uniquePrefix("basic");
  const w = await worker("w1", prefix);
  const client = connect(BROKER_URL, { prefix });
  try {
    const proxy = client.proxy(Shop);
    assert.equal(await proxy.price({ item: "tea", qty: 4 }), 6);
    // By position, in declared order.
    assert.equal(await client.call("Shop.price", ["tea", 2]), 3);
    // Datetimes and bytes travel natively (msgpack timestamp and bin).
    const at = new Date("2026-01-02T03:04:05.678Z");
    const stamped = await proxy.stamp({ at, blob: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(stamped, { at: new Date(at.getTime() + 1000), size: 3 });
    // The broker-verified user reaches the handler as the caller.
    assert.equal(await proxy.whoami(), "guest");

    await assert.rejects(proxy.price({ item: "unicorn", qty: 1 }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.name, "NotFound");
      assert.equal(e.code, -32000);
      assert.equal(e.message, "no unicorn in stock");
      assert.deepEqual(e.data, { item: "unicorn" });
      return true;
    });
    await assert.rejects(
      client.call("Shop.price", { item: "tea", qty: 1.5 }),
      (e: RpcError) => e.name === "InvalidParams" && /params\.qty/.test(e.message),
    );
    await assert.rejects(
      client.call("Shop.nope", {}),
      (e: RpcError) => e.code === -32601 && /Shop\.nope/.test(e.message),
    );
    // Unqualified names cannot be routed to a queue.
    await assert.rejects(
      client.call("price", {}),
      (e: RpcError) => e.name === "MethodNotFound" && /Interface\.method/.test(e.message),
    );
  } finally {
    await client.close();
    await w.server.close();
    await cleanup(prefix);
  }
});

test("the caller's identity is the broker-verified user and cannot be forged", async () => {
  const prefix = uniquePrefix("identity");
  const w = await worker("w", prefix);
  const anonymous = connect(BROKER_URL, { prefix, userId: false });
  const forger = connect(BROKER_URL, { prefix, userId: "admin" });
  try {
    assert.equal(await anonymous.proxy(Shop).whoami(), "nobody");
    await assert.rejects(forger.proxy(Shop).whoami(), (e: RpcError) => {
      assert.equal(e.name, "Unavailable");
      assert.match(e.message, /user_id property set to 'admin'/);
      return true;
    });
  } finally {
    await anonymous.close();
    await forger.close();
    await w.server.close();
    await cleanup(prefix);
  }
});

test("a queue declared differently by someone else is a clear error on both sides", async () => {
  const prefix = uniquePrefix("mismatch");
  const raw = await rawConnection();
  await raw.channel.assertQueue(callQueue(prefix, "Shop"), {
    durable: true,
    arguments: { "x-max-length": 10 },
  });
  const client = connect(BROKER_URL, { prefix });
  try {
    await assert.rejects(client.call("Shop.price", { item: "tea", qty: 1 }), (e: RpcError) => {
      assert.equal(e.name, "Unavailable");
      assert.match(e.message, /cannot declare queue sbtest\.mismatch\.\w+\.Shop .*x-max-length/);
      return true;
    });
    const server = new Server();
    server.register(shop("w", newLog()));
    await assert.rejects(
      server.listenAmqp(BROKER_URL, { prefix }),
      /cannot serve from .*x-max-length/,
    );
    await server.close();
  } finally {
    await client.close();
    await raw.channel.deleteQueue(callQueue(prefix, "Shop"));
    await raw.close();
  }
});

test("workers compete for one queue: calls are spread and each runs once", async () => {
  const prefix = uniquePrefix("spread");
  const a = await worker("a", prefix, newLog(), 2);
  const b = await worker("b", prefix, newLog(), 2);
  const client = connect(BROKER_URL, { prefix });
  try {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.call("Shop.slow", { ms: 10 + (i % 3) })),
    );
    assert.equal(results.length, 40);
    const ranA = a.log.ran.length, ranB = b.log.ran.length;
    assert.equal(ranA + ranB, 40);
    assert.ok(ranA > 0 && ranB > 0, `both workers should work: a=${ranA} b=${ranB}`);
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
    await cleanup(prefix);
  }
});

test("with no worker up, calls wait in the queue; expired ones never run", async () => {
  const prefix = uniquePrefix("queued");
  const client = connect(BROKER_URL, { prefix });
  try {
    const waiting = client.call("Shop.price", { item: "early", qty: 2 }, { timeout: 30_000 });
    const doomed = client.call("Shop.price", { item: "late", qty: 1 }, { timeout: 300 });
    await assert.rejects(
      doomed,
      (e: RpcError) => e.name === "Timeout" && /Shop\.price timed out after 300 ms/.test(e.message),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const w = await worker("w", prefix);
    try {
      assert.equal(await waiting, 3);
      // Give the broker's TTL a moment to drop the expired call; the worker must not run it.
      await client.call("Shop.price", { item: "after", qty: 1 });
      assert.deepEqual(w.log.ran.filter((r) => r.endsWith("late")), []);
      assert.ok(w.log.ran.includes("w:early"));
    } finally {
      await w.server.close();
    }
  } finally {
    await client.close();
    await cleanup(prefix);
  }
});

test("a call whose deadline passed is refused by the worker even without a TTL", async () => {
  const prefix = uniquePrefix("deadline");
  const w = await worker("w", prefix);
  const raw = await rawConnection();
  try {
    const replies: unknown[] = [];
    await raw.channel.consume(DIRECT_REPLY_TO, (m) => m && replies.push(decodeMessage(m.content)), {
      noAck: true,
    });
    // A peer with a skewed clock: no expiration, deadline already in the past.
    raw.channel.publish(
      "",
      callQueue(prefix, "Shop"),
      raw.toBuffer(encodeRequest(7, "Shop.price", { item: "stale", qty: 1 })),
      {
        replyTo: DIRECT_REPLY_TO,
        contentType: CONTENT_TYPE,
        headers: { [DEADLINE_HEADER]: Date.now() - 1000 },
      },
    );
    await waitFor(() => replies.length === 1, "the Timeout reply");
    const [reply] = replies as { msgid: number; error: { name: string; message: string } }[];
    assert.equal(reply.msgid, 7);
    assert.equal(reply.error.name, "Timeout");
    assert.match(reply.error.message, /passed before it ran/);
    assert.deepEqual(w.log.ran, []);
  } finally {
    await raw.close();
    await w.server.close();
    await cleanup(prefix);
  }
});

test("notifications fan out to every worker serving the interface", async () => {
  const prefix = uniquePrefix("notify");
  const a = await worker("a", prefix);
  const b = await worker("b", prefix);
  const client = connect(BROKER_URL, { prefix });
  try {
    await client.notify("Shop.hit", { key: "k1" });
    await waitFor(() => a.log.hits.length === 1 && b.log.hits.length === 1, "both hits");
    assert.deepEqual([...a.log.hits, ...b.log.hits], ["a:k1", "b:k1"]);
    // Unqualified notifications cannot be routed either.
    await assert.rejects(client.notify("hit", { key: "k2" }), /Interface\.method/);
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
    await cleanup(prefix);
  }
});

test("idempotent methods answer a redelivered call id from memory, not by running again", async () => {
  const prefix = uniquePrefix("dedupe");
  const log = newLog();
  const router = new Router({ logger: { error: () => {}, warn: () => {} } });
  router.register(shop("w", log));
  const store = new MemoryDedupeStore(100);
  const listener = await serveAmqp(router, BROKER_URL, {
    prefix,
    idempotent: (method) => method === "Shop.count",
    dedupeStore: store,
  });
  const raw = await rawConnection();
  try {
    const replies: { msgid: number; result: unknown }[] = [];
    await raw.channel.consume(
      DIRECT_REPLY_TO,
      (m) => m && replies.push(decodeMessage(m.content) as { msgid: number; result: unknown }),
      { noAck: true },
    );
    const send = (
      msgid: number,
      messageId: string,
      method: string,
      params: unknown = { key: "x" },
    ) =>
      raw.channel.publish(
        "",
        callQueue(prefix, "Shop"),
        raw.toBuffer(encodeRequest(msgid, method, params)),
        { replyTo: DIRECT_REPLY_TO, messageId, contentType: CONTENT_TYPE },
      );
    // The same call id twice (as after a redelivery), then a new id.
    send(1, "call-A", "Shop.count");
    send(2, "call-A", "Shop.count");
    send(3, "call-B", "Shop.count");
    await waitFor(() => replies.length === 3, "three replies");
    replies.sort((x, y) => x.msgid - y.msgid);
    assert.deepEqual(replies.map((r) => r.result), [1, 1, 2]);
    assert.equal(log.counts.get("x"), 2);
    assert.equal(store.size, 2);
    // Methods that did not opt in run every time.
    send(4, "call-C", "Shop.price", { item: "tea", qty: 1 });
    send(5, "call-C", "Shop.price", { item: "tea", qty: 1 });
    await waitFor(() => replies.length === 5, "five replies");
    assert.deepEqual(log.ran, ["w:tea", "w:tea"]);
  } finally {
    await raw.close();
    await listener.shutdown();
    await cleanup(prefix);
  }
});

test("a dedupe store shared by workers answers a call that another worker completed", async () => {
  const prefix = uniquePrefix("shared");
  const store = new MemoryDedupeStore();
  const log = newLog();
  const start = (name: string) => {
    const router = new Router({ logger: { error: () => {}, warn: () => {} } });
    router.register(shop(name, log));
    return serveAmqp(router, BROKER_URL, {
      prefix,
      idempotent: ["Shop.count"],
      dedupeStore: store,
    });
  };
  const raw = await rawConnection();
  try {
    const replies: { msgid: number; result: unknown }[] = [];
    await raw.channel.consume(
      DIRECT_REPLY_TO,
      (m) => m && replies.push(decodeMessage(m.content) as { msgid: number; result: unknown }),
      { noAck: true },
    );
    const send = (msgid: number) =>
      raw.channel.publish(
        "",
        callQueue(prefix, "Shop"),
        raw.toBuffer(encodeRequest(msgid, "Shop.count", { key: "k" })),
        { replyTo: DIRECT_REPLY_TO, messageId: "call-1", contentType: CONTENT_TYPE },
      );
    // Worker a completes the call (then, say, dies before its ack reached the broker).
    const a = await start("a");
    send(1);
    await waitFor(() => replies.length === 1, "a's reply");
    await a.shutdown();
    // The broker redelivers it to worker b, which answers from the shared store.
    const b = await start("b");
    try {
      send(2);
      await waitFor(() => replies.length === 2, "b's reply");
    } finally {
      await b.shutdown();
    }
    assert.deepEqual(replies.map((r) => r.result), [1, 1]);
    assert.equal(log.counts.get("k"), 1);
  } finally {
    await raw.close();
    await cleanup(prefix);
  }
});

test("bad messages are dead-lettered, not requeued forever, and the worker carries on", async () => {
  const prefix = uniquePrefix("poison");
  const warnings: string[] = [];
  const server = new Server({ logger: { error: () => {}, warn: (m) => warnings.push(m) } });
  server.register(shop("w", newLog()));
  await server.listenAmqp(BROKER_URL, { prefix });
  const raw = await rawConnection();
  const client = connect(BROKER_URL, { prefix });
  try {
    raw.channel.publish("", callQueue(prefix, "Shop"), raw.toBuffer(new Uint8Array([0xc1])), {});
    raw.channel.publish(
      "",
      callQueue(prefix, "Shop"),
      raw.toBuffer(new TextEncoder().encode('{"json":"not msgpack-rpc"}')),
      {},
    );
    // Both go to the dead-letter queue; a flood of them is reported once a second.
    await waitFor(async () => {
      const dead = await raw.channel.assertQueue(`${prefix}.dead`, { durable: true });
      return dead.messageCount === 2;
    }, "two dead messages");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /is no call .*moved to .*\.dead/);
    assert.equal(await client.call("Shop.price", { item: "tea", qty: 2 }), 3);
    const q = await raw.channel.assertQueue(callQueue(prefix, "Shop"), { durable: true });
    assert.equal(q.messageCount, 0);
  } finally {
    await client.close();
    await raw.close();
    await server.close();
    await cleanup(prefix);
  }
});

test("a call for another interface on this queue is not found", async () => {
  const prefix = uniquePrefix("cross");
  const w = await worker("w", prefix);
  const raw = await rawConnection();
  try {
    const replies: { error: { name: string } }[] = [];
    await raw.channel.consume(
      DIRECT_REPLY_TO,
      (m) => m && replies.push(decodeMessage(m.content) as { error: { name: string } }),
      { noAck: true },
    );
    raw.channel.publish(
      "",
      callQueue(prefix, "Shop"),
      raw.toBuffer(encodeRequest(1, "system.listMethods", [])),
      { replyTo: DIRECT_REPLY_TO },
    );
    await waitFor(() => replies.length === 1, "reply");
    assert.equal(replies[0].error.name, "MethodNotFound");
  } finally {
    await raw.close();
    await w.server.close();
    await cleanup(prefix);
  }
});

test("shutdown lets in-flight calls finish and reply before disconnecting", async () => {
  const prefix = uniquePrefix("drain");
  const w = await worker("w", prefix);
  const client = connect(BROKER_URL, { prefix });
  try {
    const slow = client.call("Shop.slow", { ms: 300 });
    await waitFor(() => w.log.started.length === 1, "the call running");
    await w.server.close();
    assert.equal(await slow, "w slept 300");
    assert.equal(w.listener.connected, false);
  } finally {
    await client.close();
    await cleanup(prefix);
  }
});

test("closing the client fails its waiting calls as Cancelled", async () => {
  const prefix = uniquePrefix("close");
  const client = connect(BROKER_URL, { prefix });
  try {
    const waiting = client.call("Shop.price", { item: "tea", qty: 1 }, { timeout: 0 });
    await waitFor(() => (client.transport as AmqpTransport).pending === 1, "published");
    const refused = assert.rejects(waiting, (e: RpcError) => e.name === "Cancelled");
    await client.close();
    await refused;
    await assert.rejects(
      client.call("Shop.price", {}),
      (e: RpcError) => e.name === "Unavailable" && /closed/.test(e.message),
    );
  } finally {
    await client.close();
    await cleanup(prefix);
  }
});

Deno.test("amqp: an unreachable broker is a clear Unavailable error", async () => {
  const client = connect("amqp://user:secret@127.0.0.1:1");
  // It waits for the broker within the call's deadline, then says why it gave up.
  await assert.rejects(client.call("Shop.price", {}, { timeout: 1000 }), (e: RpcError) => {
    assert.equal(e.name, "Unavailable");
    assert.match(e.message, /cannot reach the broker at amqp:\/\/user:\*\*\*@127\.0\.0\.1:1/);
    assert.doesNotMatch(e.message, /secret/);
    return true;
  });
  await client.close();
  const server = new Server();
  server.register(shop("w", newLog()));
  await assert.rejects(server.listenAmqp("amqp://127.0.0.1:1"), /cannot serve from amqp:/);
  await server.close();
});

Deno.test("amqp: serving nothing, or an unregistered interface, is refused up front", async () => {
  const router = new Router();
  await assert.rejects(serveAmqp(router, BROKER_URL), /no interface to serve/);
  router.register(shop("w", newLog()));
  await assert.rejects(serveAmqp(router, BROKER_URL, { interfaces: ["Nope"] }), /not registered/);
  await assert.rejects(serveAmqp(router, BROKER_URL, { prefetch: 0 }), /prefetch/);
});
