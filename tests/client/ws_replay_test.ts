import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../mod.ts";
import { subscribe, type TopicGap } from "../../tcp.ts";
import { Server } from "../../server.ts";
import { eventually, freezableProxy } from "../server/tcp_fixture.ts";

const Feed = defineInterface("Feed", { post: method({ params: { n: t.int } }) });
const quiet = { error: () => {}, warn: () => {} };

Deno.test("ws replay: cuts of a WebSocket subscriber's connection lose nothing", async () => {
  const server = new Server({ replay: {}, logger: quiet });
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  const proxy = freezableProxy(http.port);
  const url = new URL(http.url);
  const client = connect(`ws://127.0.0.1:${proxy.url.split(":").at(-1)}${url.pathname}`, {
    reconnect: { delay: () => 10 },
  });
  const received: number[] = [];
  const gaps: TopicGap[] = [];
  try {
    await subscribe(client, "feed", implement(Feed, { post: ({ n }) => void received.push(n) }), {
      onGap: (gap) => gaps.push(gap),
    });
    const total = 500;
    for (let n = 0; n < total; n++) {
      if (n % 50 === 25) {
        // Cut only once the subscriber is back (it has received something since).
        const seen = received.length;
        await eventually(() => received.length > seen || received.length === n, "a delivery");
        proxy.kill();
      }
      await server.publish("feed", "Feed.post", { n });
      if (n % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await eventually(() => received.length >= total, "every message", 30_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => i));
    assert.deepEqual(gaps, []);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

Deno.test("ws replay: a restarted server (a new history) is an explicit gap, not a silent hole", async () => {
  const first = new Server({ replay: {}, logger: quiet });
  const http = await first.listenHttp({ port: 0 }, { websocket: true });
  const port = http.port;
  const received: number[] = [];
  const gaps: TopicGap[] = [];
  const client = connect(http.url.replace("http", "ws"), { reconnect: { delay: () => 50 } });
  try {
    await subscribe(client, "feed", implement(Feed, { post: ({ n }) => void received.push(n) }), {
      onGap: (gap) => gaps.push(gap),
    });
    for (let n = 0; n < 3; n++) await first.publish("feed", "Feed.post", { n });
    await eventually(() => received.length === 3, "before the restart");
    await first.close();
    const again = new Server({ replay: {}, logger: quiet });
    await again.listenHttp({ port }, { websocket: true });
    try {
      // Published before the subscriber is back: kept in the new server's buffer.
      await again.publish("feed", "Feed.post", { n: 100 });
      await eventually(() => gaps.length === 1, "the gap", 20_000);
      assert.deepEqual(gaps, [{ topic: "feed", from: 4, to: null }]);
      await eventually(() => received.length === 4, "the replay of the new history");
      assert.deepEqual(received, [0, 1, 2, 100]);
      await again.publish("feed", "Feed.post", { n: 101 });
      await eventually(() => received.length === 5, "live after the gap");
      assert.equal(received.at(-1), 101);
    } finally {
      await again.close();
    }
  } finally {
    await client.close();
  }
});
