// JSON-RPC over WebSocket against a real server on a real socket: calls, batches,
// notifications, server → client calls, publish–subscribe shared with TCP subscribers,
// heartbeats, limits, bad JSON, origins and auth.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../mod.ts";
import "../../tcp.ts";
import { Server } from "../../server.ts";
import { AuthGate } from "../../src/auth/gate.ts";
import { httpAuthenticator } from "../../src/auth/http.ts";
import { sharedSecretBackend, sharedSecretCredentials } from "../../src/auth/shared_secret.ts";
import { bearerCredentials } from "../../src/auth/bearer.ts";
import { missedBeats } from "../../src/core/backoff.ts";
import type { HttpOptions } from "../../src/adapters/deno/http.ts";

const Desk = defineInterface("Desk", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  ask: method({ params: { question: t.string }, result: t.string }),
  note: method({ params: { text: t.string } }),
  wait: method({ params: { ms: t.int } }),
  hold: method({ params: { ms: t.int } }),
});
const Helper = defineInterface("Helper", {
  answer: method({ params: { question: t.string }, result: t.string }),
});
const Feed = defineInterface("Feed", { post: method({ params: { text: t.string } }) });

const quiet = { error: () => {}, warn: () => {} };

async function deskServer(http: HttpOptions = {}) {
  const notes: string[] = [];
  const held: string[] = [];
  const aborted: string[] = [];
  const server = new Server({ logger: quiet });
  server.register(implement(Desk, {
    add: ({ a, b }) => a + b,
    ask: async ({ question }, ctx) =>
      `${ctx.peer!.id}: ${await ctx.peer!.proxy(Helper).answer({ question })}`,
    note: ({ text }) => void notes.push(text),
    wait: ({ ms }, ctx) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted.push((ctx.signal.reason as Error).name);
          resolve();
        });
      }),
    hold: ({ ms }) => {
      held.push("started");
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    },
  }));
  const listener = await server.listenHttp({ port: 0 }, { websocket: true, ...http });
  const ws = listener.url.replace("http", "ws");
  return {
    server,
    listener,
    ws,
    notes,
    held,
    aborted,
    [Symbol.asyncDispose]: () => server.close(),
  };
}

/** A raw socket: send text, await messages (parsed), see the close. */
async function rawSocket(url: string, init?: { headers?: Record<string, string> }) {
  // Deno's WebSocket takes headers (a browser's does not): the Origin of a page, a token.
  const socket = new (WebSocket as unknown as new (
    url: string,
    init?: { headers?: Record<string, string> },
  ) => WebSocket)(url, init);
  const messages: unknown[] = [];
  const waiting: ((value: unknown) => void)[] = [];
  socket.onmessage = (e) => {
    const value = JSON.parse(e.data);
    const next = waiting.shift();
    if (next) next(value);
    else messages.push(value);
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.onclose = (e) => resolve({ code: e.code, reason: e.reason })
  );
  const opened = await new Promise<boolean>((resolve) => {
    socket.onopen = () => resolve(true);
    socket.onerror = () => resolve(false);
  });
  return {
    opened,
    socket,
    closed,
    send: (value: unknown) =>
      socket.send(typeof value === "string" ? value : JSON.stringify(value)),
    next: () =>
      messages.length
        ? Promise.resolve(messages.shift())
        : new Promise<unknown>((resolve) => waiting.push(resolve)),
    close: async () => {
      if (socket.readyState <= 1) socket.close();
      await closed;
    },
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

Deno.test("ws: typed calls, a batch and a notification through connect(ws://)", async () => {
  await using desk = await deskServer();
  const client = connect(desk.ws);
  try {
    assert.equal(await client.proxy(Desk).add({ a: 2, b: 3 }), 5);
    assert.equal(await client.call("Desk.add", [4, 5]), 9);
    const batch = await client.batch([
      { method: "Desk.add", params: { a: 1, b: 1 } },
      { method: "Desk.nope" },
    ]);
    assert.deepEqual(batch[0], { ok: true, value: 2 });
    assert.equal(batch[1].ok, false);
    await client.notify("Desk.note", { text: "noted" });
    await eventually(() => desk.notes.length === 1, "the notification ran");
    await assert.rejects(client.call("Desk.add", { a: "x", b: 1 }), { name: "InvalidParams" });
  } finally {
    await client.close();
  }
});

Deno.test("ws: raw JSON-RPC: batch, bad JSON, invalid request, reserved names refused", async () => {
  await using desk = await deskServer();
  const ws = await rawSocket(desk.ws);
  try {
    ws.send([
      { jsonrpc: "2.0", id: 1, method: "Desk.add", params: { a: 1, b: 2 } },
      { jsonrpc: "2.0", method: "Desk.note", params: { text: "in a batch" } },
      { jsonrpc: "2.0", id: "two", method: "Desk.add", params: [3, 4] },
    ]);
    const replies = (await ws.next()) as { id: unknown; result: unknown }[];
    assert.deepEqual(
      replies.sort((a, b) => String(a.id).localeCompare(String(b.id))),
      [{ jsonrpc: "2.0", result: 3, id: 1 }, { jsonrpc: "2.0", result: 7, id: "two" }],
    );
    ws.send("{not json");
    const parse = (await ws.next()) as { error: { code: number }; id: null };
    assert.equal(parse.error.code, -32700);
    assert.equal(parse.id, null);
    ws.send({ jsonrpc: "1.0", id: 5, method: "Desk.add" });
    assert.equal(((await ws.next()) as { error: { code: number } }).error.code, -32600);
    ws.send({ jsonrpc: "2.0", id: 6, method: "$/nothing" });
    assert.equal(((await ws.next()) as { error: { code: number } }).error.code, -32601);
    // The connection survived all of it.
    ws.send({ jsonrpc: "2.0", id: 7, method: "Desk.add", params: { a: 20, b: 22 } });
    assert.deepEqual(await ws.next(), { jsonrpc: "2.0", result: 42, id: 7 });
    assert.deepEqual(desk.notes, ["in a batch"]);
  } finally {
    await ws.close();
  }
});

Deno.test("ws: the server calls the client back through ctx.peer, by its peer id", async () => {
  await using desk = await deskServer();
  const client = connect(desk.ws, { id: "browser-1" });
  client.register(implement(Helper, { answer: ({ question }) => question.toUpperCase() }));
  try {
    assert.equal(await client.proxy(Desk).ask({ question: "hi" }), "browser-1: HI");
  } finally {
    await client.close();
  }
});

Deno.test("ws: one publish reaches a TCP subscriber, a WebSocket subscriber and a local one", async () => {
  await using desk = await deskServer();
  const tcp = await desk.server.listenTcp({ port: 0 });
  const got: string[] = [];
  const viaTcp = connect(tcp.url);
  const viaWs = connect(desk.ws);
  const publisherWs = connect(desk.ws);
  desk.server.subscribe(
    "news",
    implement(Feed, { post: ({ text }) => void got.push(`local ${text}`) }),
  );
  try {
    await viaTcp.subscribe(
      "news",
      implement(Feed, { post: ({ text }) => void got.push(`tcp ${text}`) }),
    );
    await viaWs.subscribe(
      "news",
      implement(Feed, { post: ({ text }) => void got.push(`ws ${text}`) }),
    );
    // Published over WebSocket…
    await publisherWs.publish("news", Feed).post({ text: "one" });
    await eventually(() => got.length === 3, `three deliveries: ${got}`);
    // …and by the server itself.
    assert.equal(await desk.server.publish("news", "Feed.post", { text: "two" }), 3);
    await eventually(() => got.length === 6, `six deliveries: ${got}`);
    assert.deepEqual(got.sort(), [
      "local one",
      "local two",
      "tcp one",
      "tcp two",
      "ws one",
      "ws two",
    ]);
  } finally {
    await Promise.all([viaTcp.close(), viaWs.close(), publisherWs.close()]);
  }
});

Deno.test("ws: a peer that said hello and then goes silent is dropped", async () => {
  await using desk = await deskServer({
    websocket: { heartbeat: missedBeats({ interval: 50, misses: 3 }) },
  });
  const ws = await rawSocket(desk.ws);
  ws.send({ jsonrpc: "2.0", id: 1, method: "$/hello", params: [{ id: "quiet" }] });
  const hello = (await ws.next()) as { result: { heartbeat: number } };
  assert.equal(hello.result.heartbeat, 50);
  // It reads the pings but never answers or speaks.
  const closed = await ws.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /missed its heartbeats/);
});

Deno.test("ws: limits: a message over the size limit, too many in flight, too many topics", async () => {
  await using desk = await deskServer({
    websocket: { maxMessageBytes: 1024, maxInFlight: 2, maxTopics: 1 },
  });
  const ws = await rawSocket(desk.ws);
  try {
    // A peer that said hello may cancel its calls.
    ws.send({ jsonrpc: "2.0", id: 0, method: "$/hello", params: [{}] });
    assert.equal(((await ws.next()) as { id: number }).id, 0);
    ws.send({ jsonrpc: "2.0", id: 1, method: "Desk.wait", params: { ms: 5000 } });
    ws.send({ jsonrpc: "2.0", id: 2, method: "Desk.wait", params: { ms: 5000 } });
    ws.send({ jsonrpc: "2.0", id: 3, method: "Desk.add", params: { a: 1, b: 1 } });
    const over = (await ws.next()) as { id: number; error: { code: number; message: string } };
    assert.equal(over.id, 3);
    assert.match(over.error.message, /too many requests in flight.*limit 2/);
    ws.send({ jsonrpc: "2.0", method: "$/cancel", params: [1] });
    ws.send({ jsonrpc: "2.0", method: "$/cancel", params: [2] });
    const cancelled = [await ws.next(), await ws.next()] as { id: number }[];
    assert.deepEqual(cancelled.map((m) => m.id).sort(), [1, 2]);
    ws.send({ jsonrpc: "2.0", id: 4, method: "$/subscribe", params: ["a"] });
    assert.deepEqual(await ws.next(), { jsonrpc: "2.0", result: true, id: 4 });
    ws.send({ jsonrpc: "2.0", id: 5, method: "$/subscribe", params: ["b"] });
    const topics = (await ws.next()) as { error: { message: string } };
    assert.match(topics.error.message, /too many subscriptions.*limit 1/);
    ws.send({ jsonrpc: "2.0", id: 6, method: "Desk.note", params: { text: "x".repeat(2000) } });
    const big = (await ws.next()) as { error: { code: number; message: string } };
    assert.equal(big.error.code, -32600);
    assert.match(big.error.message, /exceeds the limit of 1024 bytes/);
    assert.equal((await ws.closed).code, 1009);
  } finally {
    await ws.close();
  }
});

Deno.test("ws: a page of another origin is refused unless CORS allows it; same origin is let in", async () => {
  await using closed = await deskServer();
  const evil = await rawSocket(closed.ws, { headers: { origin: "http://evil.example" } });
  assert.equal(evil.opened, false, "cross-site WebSocket refused");
  const own = await rawSocket(closed.ws, { headers: { origin: closed.listener.url } });
  assert.equal(own.opened, true, "a page of the listener itself");
  await own.close();
  await using open = await deskServer({ cors: { origins: ["http://app.example"] } });
  const app = await rawSocket(open.ws, { headers: { origin: "http://app.example" } });
  assert.equal(app.opened, true, "an allowed origin");
  app.send({ jsonrpc: "2.0", id: 1, method: "Desk.add", params: { a: 1, b: 2 } });
  assert.deepEqual(await app.next(), { jsonrpc: "2.0", result: 3, id: 1 });
  await app.close();
  const other = await rawSocket(open.ws, { headers: { origin: "http://other.example" } });
  assert.equal(other.opened, false);
});

Deno.test("ws: auth: calls refused until an in-band login (shared secret, bearer); bad tokens refused at the upgrade", async () => {
  const gate = new AuthGate([sharedSecretBackend("sesame")]);
  const authenticate = httpAuthenticator({
    gate,
    bearer: (token) => token === "good-token" ? { id: "token-holder" } : undefined,
  });
  await using desk = await deskServer({ authenticate });
  const stranger = connect(desk.ws);
  const friend = connect(desk.ws, { auth: sharedSecretCredentials("sesame", "worker-1") });
  const holder = connect(desk.ws, { auth: bearerCredentials("good-token") });
  const liar = connect(desk.ws, { auth: sharedSecretCredentials("wrong", "worker-2") });
  try {
    await assert.rejects(stranger.call("Desk.add", { a: 1, b: 1 }), { name: "Unauthorized" });
    assert.equal(await friend.call("Desk.add", { a: 1, b: 1 }), 2);
    assert.equal(await holder.call("Desk.add", { a: 2, b: 2 }), 4);
    await assert.rejects(liar.call("Desk.add", { a: 1, b: 1 }), { name: "Unauthorized" });
  } finally {
    await Promise.all([stranger.close(), friend.close(), holder.close(), liar.close()]);
  }
  const bad = await rawSocket(desk.ws, { headers: { authorization: "Bearer bad" } });
  assert.equal(bad.opened, false, "a bad token is refused at the upgrade");
  const good = await rawSocket(desk.ws, { headers: { authorization: "Bearer good-token" } });
  good.send({ jsonrpc: "2.0", id: 1, method: "Desk.add", params: { a: 3, b: 3 } });
  assert.deepEqual(await good.next(), { jsonrpc: "2.0", result: 6, id: 1 });
  await good.close();
});

Deno.test("ws: shutdown closes open sockets; websocket: false serves none", async () => {
  const desk = await deskServer();
  const client = connect(desk.ws);
  assert.equal(await client.call("Desk.add", { a: 1, b: 1 }), 2);
  await desk.server.close();
  await assert.rejects(client.call("Desk.add", { a: 1, b: 1 }), { name: "Unavailable" });
  await client.close();
  await using off = await deskServer({ websocket: false });
  const refused = await rawSocket(off.ws);
  assert.equal(refused.opened, false);
});

Deno.test("ws: notifications past maxInFlight are dropped, not queued without bound", async () => {
  await using desk = await deskServer({ websocket: { maxInFlight: 2 } });
  const ws = await rawSocket(desk.ws);
  try {
    for (let i = 0; i < 5; i++) {
      ws.send({ jsonrpc: "2.0", method: "Desk.hold", params: { ms: 300 } });
    }
    ws.send({ jsonrpc: "2.0", id: 1, method: "Desk.add", params: { a: 1, b: 1 } });
    assert.deepEqual(await ws.next(), { jsonrpc: "2.0", result: 2, id: 1 });
    assert.equal(desk.held.length, 2, "two ran, three were dropped");
    await new Promise((r) => setTimeout(r, 600));
    ws.send({ jsonrpc: "2.0", method: "Desk.hold", params: { ms: 1 } });
    await eventually(() => desk.held.length === 3, "room again once they ended");
  } finally {
    await ws.close();
  }
});

Deno.test("ws: a client that gives up (timeout) cancels the server's handler", async () => {
  await using desk = await deskServer();
  const client = connect(desk.ws);
  try {
    await assert.rejects(
      client.proxy(Desk).wait({ ms: 10_000 }, { timeout: 100 }),
      { name: "Timeout" },
    );
    await eventually(() => desk.aborted.length === 1, "the handler saw the cancel");
    assert.deepEqual(desk.aborted, ["Cancelled"]);
  } finally {
    await client.close();
  }
});

Deno.test("ws: a subscribed client reconnects by itself and subscribes again", async () => {
  const first = await deskServer();
  const port = first.listener.port;
  const got: string[] = [];
  const client = connect(first.ws, {
    reconnect: { delay: () => 50 },
  });
  try {
    await client.subscribe("news", implement(Feed, { post: ({ text }) => void got.push(text) }));
    assert.equal(await first.server.publish("news", "Feed.post", { text: "before" }), 1);
    await eventually(() => got.length === 1, "delivered before the restart");
    await first.server.close();
    // The same port again: the client finds it by itself.
    const again = new Server({ logger: quiet });
    await again.listenHttp({ port }, { websocket: true });
    try {
      for (let i = 0; i < 400; i++) {
        if (await again.publish("news", "Feed.post", { text: "after" }) === 1) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await eventually(() => got.includes("after"), `delivered after the restart: ${got}`);
    } finally {
      await again.close();
    }
  } finally {
    await client.close();
  }
});

Deno.test("ws: shutdown lets a running call finish before it closes the socket", async () => {
  const desk = await deskServer();
  const client = connect(desk.ws);
  try {
    const running = client.proxy(Desk).wait({ ms: 300 });
    await eventually(() => desk.listener !== undefined, "started");
    await new Promise((r) => setTimeout(r, 50));
    const closing = desk.server.close();
    assert.equal(await running, null);
    await closing;
  } finally {
    await client.close();
  }
});

Deno.test("ws: upgrades past maxConnections are refused; a closed socket makes room", async () => {
  await using desk = await deskServer({ websocket: { maxConnections: 1 } });
  const first = await rawSocket(desk.ws);
  assert.equal(first.opened, true);
  const second = await rawSocket(desk.ws);
  assert.equal(second.opened, false, "over the limit");
  await first.close();
  let third: Awaited<ReturnType<typeof rawSocket>> | undefined;
  for (let i = 0; i < 100 && !third?.opened; i++) {
    await new Promise((r) => setTimeout(r, 20));
    third = await rawSocket(desk.ws);
  }
  assert.equal(third?.opened, true, "room again");
  await third!.close();
});
