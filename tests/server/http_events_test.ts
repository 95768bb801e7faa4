// GET /events?topic=…: publish–subscribe over server-sent events, on the server's shared
// topics (one publish reaches TCP and SSE subscribers alike), resumable with Last-Event-ID
// from the replay buffer, a gap event for what it lost, a bounded buffer per reader,
// heartbeat comments, and the listener's authentication.
import assert from "node:assert/strict";
import { connect, implement } from "../../mod.ts";
import { httpAuthenticator, type HttpOptions, Server, type ServerOptions } from "../../server.ts";
import { Prices, type SseBlock, SseReader, within } from "./sse_fixture.ts";
import { eventually } from "./tcp_fixture.ts";

async function eventsServer(options: HttpOptions = {}, serverOptions: ServerOptions = {}) {
  const warnings: string[] = [];
  const server = new Server({
    logger: { error: () => {}, warn: (m: string) => void warnings.push(m) },
    ...serverOptions,
  });
  const http = await server.listenHttp({ port: 0 }, { events: true, ...options });
  const open = async (topics: string[], headers: Record<string, string> = {}) => {
    const query = topics.map((t) => `topic=${encodeURIComponent(t)}`).join("&");
    const response = await fetch(`${http.url}/events?${query}`, { headers });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    return new SseReader(response.body!);
  };
  return { server, http, open, warnings, close: () => server.close() };
}

const tick = (price: number) => ["Prices.tick", { price }] as const;

function data(block: SseBlock | undefined) {
  assert.ok(block?.data !== undefined, `expected an event, got ${JSON.stringify(block)}`);
  return JSON.parse(block.data);
}

Deno.test("events: curl -N follows a topic", async () => {
  const { server, http, close } = await eventsServer();
  const curl = new Deno.Command("curl", {
    args: ["-sN", "--max-time", "30", `${http.url}/events?topic=prices`],
    stdout: "piped",
  }).spawn();
  try {
    const reader = curl.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("id: live")) text += (await within(reader.read(), "curl")).value;
    await server.publish("prices", ...tick(1.5));
    while (!text.includes('"price":1.5')) text += (await within(reader.read(), "curl")).value;
    assert.match(
      text,
      /data: \{"topic":"prices","method":"Prices\.tick","params":\{"price":1\.5\}\}\n\n/,
    );
    await reader.cancel();
  } finally {
    curl.kill("SIGKILL");
    await curl.status;
    await close();
  }
});

Deno.test("events: one publish reaches a TCP subscriber and an SSE reader alike", async () => {
  const { server, open, close } = await eventsServer();
  const tcp = await server.listenTcp({ port: 0 });
  const client = connect(`tcp://127.0.0.1:${tcp.port}`);
  try {
    const seen: number[] = [];
    await client.subscribe(
      "prices",
      implement(Prices, { tick: ({ price }) => void seen.push(price) }),
    );
    const reader = await open(["prices"]);
    assert.deepEqual(await reader.event(), { id: "live" });
    assert.equal(await server.publish("prices", ...tick(2)), 2);
    assert.deepEqual(data(await reader.event()).params, { price: 2 });
    await eventually(() => seen.length === 1, "the TCP subscriber's call");
    // A TCP peer's publish reaches the SSE reader too.
    await client.publish("prices").Prices.tick({ price: 3 });
    assert.deepEqual(data(await reader.event()).params, { price: 3 });
    // A reader that goes away is unsubscribed.
    await reader.cancel();
    let receivers = 2;
    for (let i = 0; i < 500 && receivers !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      receivers = await server.publish("prices", ...tick(4));
    }
    assert.equal(receivers, 1);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("events: ids carry each topic's seq; Last-Event-ID replays what was missed", async () => {
  const { server, open, close } = await eventsServer({}, { replay: {} });
  try {
    const first = await open(["a", "b"]);
    const opening = await first.event();
    assert.match(opening!.id!, /^[0-9a-f-]{36}:0,0$/);
    assert.equal(opening!.data, undefined);
    const epoch = opening!.id!.split(":")[0];
    await server.publish("a", ...tick(1));
    await server.publish("b", ...tick(2));
    await server.publish("a", ...tick(3));
    const events = [await first.event(), await first.event(), await first.event()];
    assert.deepEqual(events.map((e) => e!.id), [`${epoch}:1,0`, `${epoch}:1,1`, `${epoch}:2,1`]);
    assert.deepEqual(data(events[2]), {
      topic: "a",
      method: "Prices.tick",
      params: { price: 3 },
      seq: 2,
    });
    await first.cancel();
    // Published while nobody reads: the reconnect gets exactly these, in order.
    await server.publish("b", ...tick(4));
    await server.publish("a", ...tick(5));
    const again = await open(["a", "b"], { "last-event-id": events[2]!.id! });
    const missed = [data(await again.event()), data(await again.event())];
    assert.deepEqual(missed.map((m) => [m.topic, m.seq, m.params.price]), [
      ["a", 3, 5],
      ["b", 2, 4],
    ]);
    assert.deepEqual(await again.event(), { id: `${epoch}:3,2` });
    await server.publish("a", ...tick(6));
    assert.equal(data(await again.event()).seq, 4);
    await again.cancel();
  } finally {
    await close();
  }
});

Deno.test("events: what the buffer no longer holds is an explicit gap event", async () => {
  const { server, open, close } = await eventsServer({}, { replay: { messages: 2 } });
  try {
    const first = await open(["a"]);
    const opening = await first.event();
    await first.cancel();
    for (let i = 1; i <= 5; i++) await server.publish("a", ...tick(i));
    const again = await open(["a"], { "last-event-id": opening!.id! });
    const gap = await again.event();
    assert.equal(gap!.event, "gap");
    assert.deepEqual(JSON.parse(gap!.data!), { topic: "a", from: 1, to: 3 });
    assert.deepEqual([data(await again.event()).seq, data(await again.event()).seq], [4, 5]);
    await again.cancel();
    // Another server's numbering (a restart): unknown what is missing, all kept follows.
    const foreign = await open(["a"], { "last-event-id": "another-epoch:9" });
    assert.deepEqual(JSON.parse((await foreign.event())!.data!), {
      topic: "a",
      from: 10,
      to: null,
    });
    assert.equal(data(await foreign.event()).seq, 4);
    await foreign.cancel();
  } finally {
    await close();
  }
});

Deno.test("events: without a replay buffer a reconnect is told it may have missed calls", async () => {
  const { open, close } = await eventsServer();
  try {
    const again = await open(["a", "b"], { "last-event-id": "live" });
    const gaps = [await again.event(), await again.event()];
    assert.deepEqual(gaps.map((g) => [g!.event, JSON.parse(g!.data!)]), [
      ["gap", { topic: "a", from: null, to: null }],
      ["gap", { topic: "b", from: null, to: null }],
    ]);
    assert.deepEqual(await again.event(), { id: "live" });
    await again.cancel();
  } finally {
    await close();
  }
});

Deno.test("events: a reader that does not read is unsubscribed past its buffer, and logged", async () => {
  const maxUnsentBytes = 64 * 1024;
  const { server, http, warnings, close } = await eventsServer({ events: { maxUnsentBytes } });
  const response = await fetch(`${http.url}/events?topic=flood`);
  const body = response.body!.getReader();
  try {
    await body.read();
    // Never read again: the socket's buffers fill, then the stream's own.
    const price = "x".repeat(1024);
    let dropped = false;
    let i = 0;
    for (; i < 50_000 && !dropped; i++) {
      dropped = (await server.publish("flood", "Prices.tick", { price })) === 0;
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.ok(dropped, `the reader was not dropped after ${i} publishes`);
    assert.ok(
      warnings.some((w) =>
        /does not read its event stream: \d+ bytes unsent \(limit 65536\)/.test(w)
      ),
      warnings.join("\n"),
    );
  } finally {
    await body.cancel().catch(() => {});
    await close();
  }
});

Deno.test("events: heartbeat comments, bad requests, and authentication", async () => {
  const authenticate = httpAuthenticator({
    bearer: (token) => token === "good" ? { id: "reader" } : undefined,
  });
  const { http, open, close } = await eventsServer({ events: { heartbeatMs: 50 }, authenticate });
  try {
    const stranger = await fetch(`${http.url}/events?topic=a`);
    assert.equal(stranger.status, 401);
    assert.equal((await stranger.json()).error.name, "Unauthorized");
    const none = await fetch(`${http.url}/events`, { headers: { authorization: "Bearer good" } });
    assert.equal(none.status, 400);
    assert.match((await none.json()).error.message, /name the topics/);
    const reader = await open(["a"], { authorization: "Bearer good" });
    assert.deepEqual(await reader.next(), { id: "live" });
    assert.deepEqual(await reader.next(), { comment: "ping" });
    await reader.cancel();
  } finally {
    await close();
  }
});

Deno.test("events: shutdown closes open event streams and finishes", async () => {
  const { server, open } = await eventsServer();
  const reader = await open(["a"]);
  await reader.event();
  const closed = server.close();
  assert.equal(await reader.event(), undefined);
  await within(closed, "server.close()");
});

Deno.test("events: off unless asked for", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  const http = await server.listenHttp({ port: 0 });
  try {
    const response = await fetch(`${http.url}/events?topic=a`);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  } finally {
    await server.close();
  }
});
