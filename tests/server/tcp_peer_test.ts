import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import { exponentialBackoff, missedBeats, publisher, subscribe } from "../../tcp.ts";
import { Server } from "../../server.ts";
import { AuthGate } from "../../src/auth/gate.ts";
import { sharedSecretBackend, sharedSecretCredentials } from "../../src/auth/shared_secret.ts";
import { eventually, freezableProxy, rawClient } from "./tcp_fixture.ts";

/** Served by clients, called by the server. */
const Helper = defineInterface("Helper", {
  answer: method({ params: { question: t.string }, result: t.string }),
  hang: method({ result: t.string }),
  budget: method({ result: t.nullable(t.int) }),
});

/** Served by the server. */
const Desk = defineInterface("Desk", {
  ask: method({ params: { question: t.string }, result: t.string }),
  stamp: method({ result: t.string }),
  callback: method({ result: t.any }),
  wait: method({ params: { ms: t.int } }),
  budget: method({ result: t.nullable(t.int) }),
});

const Feed = defineInterface("Feed", { post: method({ params: { text: t.string } }) });

async function deskServer(options: Parameters<Server["listenTcp"]>[1] = {}) {
  const aborted: string[] = [];
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Desk, {
    // Calls back into the calling client while that client waits for this very call.
    ask: async ({ question }, ctx) => {
      const answer = await ctx.peer!.proxy(Helper).answer({ question });
      return `${ctx.peer!.id} says ${answer}`;
    },
    stamp: () => "stamped",
    callback: (_, ctx) => ctx.peer!.call("Raw.hello", ["from the server"]),
    wait: async ({ ms }, ctx) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted.push((ctx.signal.reason as Error).name);
          resolve();
        });
      });
    },
    budget: (_, ctx) => ctx.deadline === undefined ? null : ctx.deadline - Date.now(),
  }));
  const tcp = await server.listenTcp({ port: 0 }, options);
  return { server, tcp, aborted, close: () => server.close() };
}

function helper(name: string, hung: string[] = []) {
  return implement(Helper, {
    answer: async ({ question }, ctx) => {
      // Nested: the client handler calls the server again while both calls are open.
      const stamp = await ctx.peer!.proxy(Desk).stamp();
      return `${question.toUpperCase()} (${name}, ${stamp})`;
    },
    hang: (_, ctx) =>
      new Promise((resolve) =>
        ctx.signal.addEventListener("abort", () => {
          hung.push((ctx.signal.reason as Error).name);
          resolve("aborted");
        })
      ),
    budget: (_, ctx) => ctx.deadline === undefined ? null : ctx.deadline - Date.now(),
  });
}

Deno.test("the server calls a client's handler while that client is calling it (no deadlock)", async () => {
  const { tcp, close } = await deskServer();
  const client = connect(tcp.url, { id: "alice" });
  client.register(helper("alice"));
  try {
    assert.equal(
      await client.proxy(Desk).ask({ question: "ready?" }),
      "alice says READY? (alice, stamped)",
    );
    assert.deepEqual(tcp.peers().map((p) => p.id), ["alice"]);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("the server calls a connected peer by identity from outside any handler", async () => {
  const { server, tcp, close } = await deskServer();
  const alice = connect(tcp.url, { id: "alice" });
  const bob = connect(tcp.url, { id: "bob" });
  alice.register(helper("alice"));
  bob.register(helper("bob"));
  try {
    await eventually(() => tcp.peers().length === 2, "two peers");
    assert.deepEqual(tcp.peers().map((p) => p.id).sort(), ["alice", "bob"]);
    const info = tcp.peers()[0];
    assert.match(info.remote, /^127\.0\.0\.1:\d+$/);
    assert.ok(info.connectedAt instanceof Date);
    assert.equal(
      await tcp.peer("bob").proxy(Helper).answer({ question: "hi" }),
      "HI (bob, stamped)",
    );
    assert.equal(tcp.peer("bob"), tcp.peer("bob"), "one handle per identity");
    // The same through the Server, across its TCP listeners.
    assert.deepEqual(server.peers().map((p) => p.id).sort(), ["alice", "bob"]);
    assert.equal(
      await server.peer("alice").proxy(Helper).answer({ question: "and you?" }),
      "AND YOU? (alice, stamped)",
    );
    await assert.rejects(tcp.peer("carol").proxy(Helper).answer({ question: "?" }), {
      name: "Unavailable",
      message: "peer carol is not connected",
    });
    // A client that registered nothing says so.
    const plain = connect(tcp.url, { id: "dave" });
    await plain.call("Desk.stamp");
    await assert.rejects(tcp.peer("dave").call("Helper.answer", { question: "?" }), {
      name: "MethodNotFound",
    });
    await plain.close();
  } finally {
    await alice.close();
    await bob.close();
    await close();
  }
});

Deno.test("a plain msgpack-rpc client is called back on its own connection", async () => {
  const { tcp, close } = await deskServer();
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "Desk.callback", []]);
    const request = await raw.next();
    assert.equal(request.type, 0);
    assert.deepEqual(
      { method: (request as { method: string }).method, params: request.params },
      { method: "Raw.hello", params: ["from the server"] },
    );
    await raw.send([1, (request as { msgid: number }).msgid, null, "hello back"]);
    assert.deepEqual(await raw.next(), { type: 1, msgid: 1, error: null, result: "hello back" });
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("a silent peer is dropped after its missed heartbeats, then reconnects as itself", async () => {
  // Short enough for a quick test, long enough to survive a busy CI machine.
  const beats = missedBeats({ interval: 100, misses: 4 });
  const { tcp, close } = await deskServer({ heartbeat: beats });
  const proxy = freezableProxy(tcp.port);
  const client = connect(proxy.url, {
    id: "carol",
    heartbeat: beats,
    reconnect: exponentialBackoff({ initial: 50, max: 200 }),
    connectTimeout: 500,
  });
  client.register(helper("carol"));
  const carol = tcp.peer("carol");
  try {
    await eventually(() => tcp.peers().some((p) => p.id === "carol"), "carol to connect");
    assert.equal(await carol.proxy(Helper).answer({ question: "one" }), "ONE (carol, stamped)");

    const started = Date.now();
    const serverSide = carol.proxy(Helper).hang({}, { timeout: 30_000 });
    const clientSide = client.proxy(Desk).wait({ ms: 30_000 }, { timeout: 30_000 });
    proxy.freeze();
    // Pending calls on both ends fail fast with a clear reason, long before their timeouts.
    await assert.rejects(serverSide, (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.name, "Unavailable");
      assert.match(e.message, /peer carol missed its heartbeats/);
      return true;
    });
    await assert.rejects(clientSide, { name: "Unavailable", message: /missed its heartbeats/ });
    assert.ok(Date.now() - started < 10_000);
    assert.ok(!tcp.peers().some((p) => p.id === "carol"), "carol left the peer list");
    await assert.rejects(carol.proxy(Helper).answer({ question: "?" }), { name: "Unavailable" });

    proxy.thaw();
    await eventually(() => tcp.peers().some((p) => p.id === "carol"), "carol to reconnect");
    assert.equal(await carol.proxy(Helper).answer({ question: "two" }), "TWO (carol, stamped)");
  } finally {
    await client.close();
    await proxy.close();
    await close();
  }
});

Deno.test("an authenticated peer's identity is the logged-in one, across reconnects", async () => {
  const gate = new AuthGate([sharedSecretBackend("k")]);
  const { tcp, close } = await deskServer({ auth: gate });
  const proxy = freezableProxy(tcp.port);
  // The claimed hello id is ignored when the server requires a login.
  const client = connect(proxy.url, {
    id: "spoofed",
    auth: sharedSecretCredentials("k", "erin"),
    reconnect: exponentialBackoff({ initial: 20, max: 100 }),
  });
  client.register(helper("erin"));
  try {
    await eventually(() => tcp.peers().length === 1, "erin to log in");
    assert.equal(tcp.peers()[0].id, "erin");
    assert.equal(tcp.peers()[0].caller?.id, "erin");
    const first = tcp.peers()[0].connectedAt;
    proxy.kill();
    await eventually(
      () => tcp.peers().length === 1 && tcp.peers()[0].connectedAt !== first,
      "erin to reconnect and log in again",
    );
    assert.equal(tcp.peers()[0].id, "erin");
    assert.equal(
      await tcp.peer("erin").proxy(Helper).answer({ question: "back?" }),
      "BACK? (erin, stamped)",
    );
  } finally {
    await client.close();
    await proxy.close();
    await close();
  }
});

Deno.test("cancellation aborts the server handler's signal; deadlines travel with the call", async () => {
  const { tcp, aborted, close } = await deskServer();
  const client = connect(tcp.url);
  const desk = client.proxy(Desk);
  try {
    const controller = new AbortController();
    const call = desk.wait({ ms: 30_000 }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await assert.rejects(call, { name: "Cancelled" });
    await eventually(() => aborted.length === 1, "the handler to see the cancel");
    assert.deepEqual(aborted, ["Cancelled"]);

    const budget = await desk.budget({}, { timeout: 5000 });
    assert.ok(budget !== null && budget > 0 && budget <= 5000, `budget ${budget}`);
    assert.equal(await client.call("Desk.budget", {}, { timeout: 0 }), null);

    await assert.rejects(desk.wait({ ms: 30_000 }, { timeout: 100 }), { name: "Timeout" });
    await eventually(() => aborted.length === 2, "the handler to stop at its deadline");
    assert.ok(["Timeout", "Cancelled"].includes(aborted[1]));
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("pub-sub: three subscribers on two topics receive exactly what they subscribed to", async () => {
  const { tcp, close } = await deskServer();
  const got: Record<string, string[]> = { s1: [], s2: [], s3: [], local: [] };
  const feed = (who: string, topic: string) =>
    implement(Feed, { post: ({ text }) => void got[who].push(`${topic}:${text}`) });
  const s1 = connect(tcp.url, { id: "s1" });
  const s2 = connect(tcp.url, { id: "s2" });
  const s3 = connect(tcp.url, { id: "s3" });
  const pub = connect(tcp.url);
  const unsubscribe = tcp.subscribe("news", feed("local", "news"));
  try {
    await subscribe(s1, "news", feed("s1", "news"));
    await s2.subscribe("sports", feed("s2", "sports"));
    await subscribe(s3, "news", feed("s3", "news"));
    await subscribe(s3, "sports", feed("s3", "sports"));
    const news = publisher(pub, "news", Feed);
    // The untyped form, `client.publish(topic).Iface.method(params)`, reaches the same place.
    const sports = pub.publish("sports").Feed;
    await news.post({ text: "1" });
    await sports.post({ text: "1" });
    await news.post({ text: "2" });
    await sports.post({ text: "2" });
    await publisher(pub, "weather", Feed).post({ text: "nobody listens" });
    const total = () => got.s1.length + got.s2.length + got.s3.length + got.local.length;
    await eventually(() => total() >= 10, "the published calls");
    // The server publishes too (to the two sports subscribers).
    assert.equal(await tcp.publish("sports", "Feed.post", { text: "3" }), 2);
    await eventually(() => total() >= 12, "the server's publication");
    // Anything misrouted would have arrived before the last expected delivery.
    await s1.call("Desk.stamp");
    await s2.call("Desk.stamp");
    await s3.call("Desk.stamp");
    assert.deepEqual(got.s1, ["news:1", "news:2"]);
    assert.deepEqual(got.s2, ["sports:1", "sports:2", "sports:3"]);
    assert.deepEqual(got.s3, ["news:1", "sports:1", "news:2", "sports:2", "sports:3"]);
    assert.deepEqual(got.local, ["news:1", "news:2"]);
    assert.throws(() => publisher(connect("http://127.0.0.1:1"), "x", Feed), TypeError);
    assert.throws(() => connect("http://127.0.0.1:1").publish("x").Feed.post, TypeError);
  } finally {
    unsubscribe();
    for (const c of [s1, s2, s3, pub]) await c.close();
    await close();
  }
});

Deno.test("server → client calls carry their deadline and can be cancelled", async () => {
  const { tcp, close } = await deskServer();
  const hung: string[] = [];
  const client = connect(tcp.url, { id: "frank" });
  client.register(helper("frank", hung));
  try {
    await eventually(() => tcp.peers().length === 1, "frank to connect");
    const frank = tcp.peer("frank").proxy(Helper);
    const budget = await frank.budget({}, { timeout: 4000 });
    assert.ok(budget !== null && budget > 0 && budget <= 4000, `budget ${budget}`);
    const controller = new AbortController();
    const call = frank.hang({}, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await assert.rejects(call, { name: "Cancelled" });
    await eventually(() => hung.length === 1, "the client handler to see the cancel");
    assert.deepEqual(hung, ["Cancelled"]);
  } finally {
    await client.close();
    await close();
  }
});
