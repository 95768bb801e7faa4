import assert from "node:assert/strict";
import { Client, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import {
  exponentialBackoff,
  publisher,
  subscribe,
  TcpTransport,
  type TopicGap,
} from "../../tcp.ts";
import { Server } from "../../server.ts";
import { TopicReplay } from "../../src/server/topic_replay.ts";
import { eventually, freezableProxy, rawClient } from "../server/tcp_fixture.ts";

const Feed = defineInterface("Feed", { post: method({ params: { n: t.int } }) });

const quick = exponentialBackoff({ initial: 5, max: 50 });

/** A server with a replay buffer, a cutting proxy in front, a subscriber behind the proxy. */
async function setup(replay: { messages: number }, onGap?: (gap: TopicGap) => void) {
  const server = new Server({ replay });
  const tcp = await server.listenTcp({ port: 0 });
  const proxy = freezableProxy(tcp.port);
  const transport = new TcpTransport(proxy.url, { reconnect: quick, connectTimeout: 1000 });
  const reader = new Client(transport);
  const received: number[] = [];
  await subscribe(reader, "feed", implement(Feed, { post: ({ n }) => void received.push(n) }), {
    onGap,
  });
  const writer = new Client(new TcpTransport(tcp.url));
  const feed = publisher(writer, "feed", Feed);
  return {
    transport,
    proxy,
    received,
    feed,
    async close() {
      await reader.close();
      await writer.close();
      await proxy.close();
      await server.close();
    },
  };
}

Deno.test("replay: 100 random cuts during 10^4 publishes lose nothing, duplicate nothing", async () => {
  const total = 10_000;
  const gaps: TopicGap[] = [];
  const s = await setup({ messages: total }, (gap) => gaps.push(gap));
  try {
    const cutAt = new Set<number>();
    while (cutAt.size < 100) cutAt.add(1 + Math.floor(Math.random() * (total - 1)));
    let cuts = 0;
    for (let n = 0; n < total; n++) {
      if (cutAt.has(n)) {
        // Each cut hits a live connection: wait for the reconnect of the last one.
        await eventually(() => s.transport.connected, "the subscriber to reconnect", 20_000);
        s.proxy.kill();
        cuts++;
      }
      await s.feed.post({ n });
      if (n % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal(cuts, 100);
    await eventually(() => s.received.length >= total, "every message", 60_000);
    // Nothing more trickles in after the last one.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.received.length, total);
    assert.deepEqual(s.received, Array.from({ length: total }, (_, i) => i));
    assert.deepEqual(gaps, []);
  } finally {
    await s.close();
  }
});

Deno.test("replay: a gap beyond the buffer reaches onGap with the missing range", async () => {
  const gaps: TopicGap[] = [];
  const s = await setup({ messages: 10 }, (gap) => gaps.push(gap));
  try {
    for (let n = 0; n < 5; n++) await s.feed.post({ n });
    await eventually(() => s.received.length === 5, "the first five");
    // The path goes dead and the connection with it: reconnects hang until thawed.
    s.proxy.freeze();
    s.proxy.kill();
    await eventually(() => !s.transport.connected, "the drop");
    for (let n = 5; n < 35; n++) await s.feed.post({ n });
    s.proxy.thaw();
    await eventually(() => s.received.length === 15, "the buffered ten", 20_000);
    // seq = n + 1: the subscriber had 1..5, the buffer holds 26..35.
    assert.deepEqual(gaps, [{ topic: "feed", from: 6, to: 25 }]);
    assert.deepEqual(s.received, [0, 1, 2, 3, 4, ...Array.from({ length: 10 }, (_, i) => 25 + i)]);
    // Live delivery goes on after the gap.
    await s.feed.post({ n: 35 });
    await eventually(() => s.received.length === 16, "the live one");
    assert.equal(s.received.at(-1), 35);
  } finally {
    await s.close();
  }
});

Deno.test("replay: a plain msgpack-rpc subscriber keeps the three-element $/event", async () => {
  const server = new Server({ replay: {} });
  const tcp = await server.listenTcp({ port: 0 });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "$/subscribe", ["feed"]]);
    const reply = await raw.next();
    assert.equal((reply as { result?: unknown }).result, true);
    await server.publish("feed", "Feed.post", { n: 1 });
    const event = await raw.next();
    assert.deepEqual((event as { params?: unknown }).params, ["feed", "Feed.post", { n: 1 }]);
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("replay: a bad since is InvalidParams, and the plain subscribe still works without replay", async () => {
  const server = new Server();
  const tcp = await server.listenTcp({ port: 0 });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "$/subscribe", ["feed", { since: -1 }]]);
    const bad = await raw.next() as { error?: unknown };
    assert.match(JSON.stringify(bad.error), /since must be a sequence number/);
    await raw.send([0, 2, "$/subscribe", ["feed", {}]]);
    assert.deepEqual((await raw.next() as { result?: unknown }).result, { seq: null, epoch: null });
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("replay: the buffer is bounded by bytes and by topics", () => {
  const replay = new TopicReplay({ messages: 100, bytes: 1000, topics: 2 });
  for (let i = 0; i < 50; i++) replay.record("a", "m", { text: "x".repeat(100) });
  const resume = replay.since("a", 0, replay.epoch);
  assert.ok(resume.events.length < 10 && resume.events.length > 0);
  assert.deepEqual(resume.gap, { from: 1, to: resume.events[0].seq - 1 });
  assert.equal(resume.events.at(-1)!.seq, 50);
  replay.record("b", "m", 1);
  replay.record("c", "m", 1); // "a" was published least recently: it goes
  assert.equal(replay.last("a"), 0);
  assert.equal(replay.last("c"), 1);
  // Another history (a restarted server) vouches for nothing.
  assert.deepEqual(replay.since("c", 0, "another").gap, { from: 1, to: null });
  assert.deepEqual(replay.since("c", 1, replay.epoch), { events: [] });
  assert.throws(() => new TopicReplay({ messages: 0 }), RangeError);
});

const Jobs = defineInterface("Jobs", {
  read: method({ params: { key: t.string }, result: t.string, idempotent: true }),
  charge: method({ params: { amount: t.int }, result: t.int }),
});

Deno.test("replay: a call in flight on a dropped connection is retried if idempotent, else Unavailable", async () => {
  let reads = 0;
  let charges = 0;
  let entered = () => {};
  const server = new Server().register(implement(Jobs, {
    read: async ({ key }) => {
      if (++reads === 1) {
        entered();
        await new Promise((r) => setTimeout(r, 500));
      }
      return `value of ${key}`;
    },
    charge: async ({ amount }) => {
      charges++;
      entered();
      await new Promise((r) => setTimeout(r, 500));
      return amount;
    },
  }));
  const tcp = await server.listenTcp({ port: 0 });
  const proxy = freezableProxy(tcp.port);
  const client = new Client(new TcpTransport(proxy.url, { reconnect: quick }));
  const jobs = client.proxy(Jobs);
  try {
    let inside = new Promise<void>((r) => entered = r);
    const read = jobs.read({ key: "k" });
    await inside;
    proxy.kill();
    assert.equal(await read, "value of k");
    assert.equal(reads, 2);

    inside = new Promise<void>((r) => entered = r);
    const charge = jobs.charge({ amount: 5 });
    await inside;
    proxy.kill();
    await assert.rejects(charge, (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.name, "Unavailable");
      assert.match(e.message, /dropped while Jobs\.charge was in flight; not retried/);
      return true;
    });
    assert.equal(charges, 1);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});
