import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import { AuthGate } from "../../src/auth/gate.ts";
import { sharedSecretBackend, sharedSecretCredentials } from "../../src/auth/shared_secret.ts";
import { encodeRequest } from "../../src/wire/msgpackrpc/codec.ts";
import { Demo, demoServer, rawClient } from "./tcp_fixture.ts";
import { makeCerts, SKIP_TLS } from "../fixtures/tls_certs.ts";
import "../../tcp.ts"; // connect() speaks tcp

Deno.test("plain msgpack-rpc requests, notifications and errors on a raw socket", async () => {
  const { tcp, notes, close } = await demoServer();
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "Demo.echo", [{ a: [1, "two"] }]]);
    assert.deepEqual(await raw.next(), {
      type: 1,
      msgid: 1,
      error: null,
      result: { a: [1, "two"] },
    });
    await raw.send([2, "Demo.note", ["hello"]], [0, 2, "Demo.notes", []]);
    assert.deepEqual(await raw.next(), { type: 1, msgid: 2, error: null, result: ["hello"] });
    assert.deepEqual(notes, ["hello"]);
    await raw.send([0, 3, "Demo.nope", []]);
    const unknown = await raw.next();
    assert.deepEqual(unknown, {
      type: 1,
      msgid: 3,
      // A peer that did not say $/hello gets Neovim's [type, message] (1: validation).
      error: [1, "Method not found: Demo.nope"],
      result: null,
    });
    await raw.send([0, 4, "Demo.fail", ["gone"]]);
    assert.deepEqual(await raw.next(), {
      type: 1,
      msgid: 4,
      error: [0, "NotFound: gone"],
      result: null,
    });
    await raw.send([0, 5, "Demo.sleep", ["soon", 1]]);
    const invalid = await raw.next();
    assert.equal(invalid.type, 1);
    assert.match((invalid as { error: [number, string] }).error[1], /params\.ms: expected int/);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("a burst of pipelined calls split across reads: every reply whole, undefined members absent", async () => {
  const Shapes = defineInterface("Shapes", {
    shape: method({
      params: { n: t.int, text: t.string },
      result: t.struct("Shape", { n: t.int, text: t.string, note: t.optional(t.string) }),
    }),
  });
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  // The note is an undefined member on even calls; the text's UTF-8 holds 0xd4 bytes.
  server.register(implement(Shapes, {
    shape: ({ n, text }) => ({ n, text, note: n % 2 ? "odd" : undefined }),
  }));
  const tcp = await server.listenTcp({ port: 0 });
  const raw = await rawClient(tcp.port);
  try {
    const text = "\u0500".repeat(600); // ~1.2 KB per request: 300 of them span several reads
    const requests = Array.from({ length: 300 }, (_, n) => [0, n, "Shapes.shape", [n, text]]);
    await raw.send(...requests);
    for (let n = 0; n < 300; n++) {
      const reply = await raw.next() as { msgid: number; error: unknown; result: object };
      assert.equal(reply.msgid, n);
      assert.equal(reply.error, null);
      assert.deepEqual(reply.result, n % 2 ? { n, text, note: "odd" } : { n, text });
      assert.equal(Object.hasOwn(reply.result, "note"), n % 2 === 1, `reply ${n}`);
    }
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("pipelined requests on one connection are answered in completion order", async () => {
  const { tcp, close } = await demoServer();
  const raw = await rawClient(tcp.port);
  try {
    await raw.send(
      [0, 10, "Demo.sleep", [300, "slow"]],
      [0, 11, "Demo.sleep", [100, "medium"]],
      [0, 12, "Demo.echo", ["fast"]],
    );
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await raw.next()) as { msgid: number });
    assert.deepEqual(order.map((m) => m.msgid), [12, 11, 10]);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("a Switchboard client multiplexes many calls over one connection", async () => {
  const { tcp, close } = await demoServer();
  const client = connect(tcp.url);
  const demo = client.proxy(Demo);
  try {
    const slow = demo.sleep({ ms: 200, tag: "slow" });
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => demo.echo({ value: i })),
    );
    assert.deepEqual(results, Array.from({ length: 500 }, (_, i) => i));
    assert.equal(await slow, "slow");
    assert.equal(tcp.peers().length, 0, "a client without an id is no listed peer");
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("bytes, datetimes and maps survive the round trip through the client", async () => {
  const { tcp, close } = await demoServer();
  const client = connect(tcp.url);
  try {
    const sent = {
      data: new Uint8Array([0, 255, 1, 254]),
      when: new Date("2030-01-02T03:04:05.678Z"),
      counts: { a: 1, b: 2 },
    };
    const back = await client.proxy(Demo).types(sent);
    assert.deepEqual(back, sent);
    assert.ok(back.data instanceof Uint8Array);
    assert.ok(back.when instanceof Date);
    // A JS Map is a msgpack map too.
    assert.deepEqual(await client.call("Demo.echo", { value: new Map([["k", 1]]) }), { k: 1 });
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("remote errors are re-raised with code, name, message and data", async () => {
  const { tcp, close } = await demoServer();
  const client = connect(tcp.url);
  try {
    await assert.rejects(client.proxy(Demo).fail({ message: "no such thing" }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.name, "NotFound");
      assert.equal(e.code, -32000);
      assert.equal(e.message, "no such thing");
      assert.deepEqual(e.data, { hint: "try another" });
      return true;
    });
    await assert.rejects(client.call("Nope.nope"), { name: "MethodNotFound", code: -32601 });
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("garbage closes only that connection; the server and others carry on", async () => {
  const { tcp, close } = await demoServer();
  const bystander = connect(tcp.url);
  const garbage = await rawClient(tcp.port);
  const truncated = await rawClient(tcp.port);
  try {
    assert.equal(await bystander.call("Demo.echo", { value: 1 }), 1);
    await garbage.send(new Uint8Array([0xc1, 0xc1, 0xc1, 0xff, 0x00]));
    await garbage.closedByServer();
    // A truncated frame just waits for the rest; the socket closing ends it quietly.
    const frame = encodeRequest(1, "Demo.echo", ["x".repeat(100)]);
    await truncated.send(frame.subarray(0, 20));
    await truncated.close();
    assert.equal(await bystander.call("Demo.echo", { value: 2 }), 2);
    const fresh = await rawClient(tcp.port);
    await fresh.send([0, 1, "Demo.echo", ["still here"]]);
    assert.equal((await fresh.next() as { result: unknown }).result, "still here");
    await fresh.close();
  } finally {
    await garbage.close();
    await bystander.close();
    await close();
  }
});

Deno.test("wrong types get an error response where the msgid is known", async () => {
  const { tcp, close } = await demoServer();
  const raw = await rawClient(tcp.port);
  const other = await rawClient(tcp.port);
  try {
    await raw.send([0, 7, 42, []]);
    assert.deepEqual(await raw.next(), {
      type: 1,
      msgid: 7,
      error: [1, "Invalid Request: request method must be a string, got number 42"],
      result: null,
    });
    await raw.send([0, 8, "Demo.echo", "not params"]);
    const bad = await raw.next() as { msgid: number; error: [number, string] };
    assert.equal(bad.msgid, 8);
    assert.match(bad.error[1], /^Invalid Request: request params must be/);
    // The connection survives a well-framed bad message.
    await raw.send([0, 9, "Demo.echo", ["ok"]]);
    assert.equal((await raw.next() as { result: unknown }).result, "ok");
    // No msgid to answer: that message (only) is dropped; the connection carries on.
    await other.send({ not: "a message" });
    await other.send([2, "Demo.echo"]);
    await other.send([0, 11, "Demo.echo", ["after two bad ones"]]);
    assert.equal((await other.next() as { result: unknown }).result, "after two bad ones");
    await raw.send([0, 10, "Demo.echo", ["still ok"]]);
    assert.equal((await raw.next() as { result: unknown }).result, "still ok");
  } finally {
    await raw.close();
    await other.close();
    await close();
  }
});

Deno.test("a 100 MB length claim gets an error, closes that connection, costs no memory", async () => {
  const { tcp, close } = await demoServer({ maxMessageBytes: 1024 * 1024 });
  const raw = await rawClient(tcp.port);
  const other = connect(tcp.url);
  try {
    assert.equal(await other.call("Demo.echo", { value: "before" }), "before");
    const before = Deno.memoryUsage().rss;
    // [0, 3, "Demo.echo", [<str32 claiming 100 MB> …
    const head = new Uint8Array([
      0x94,
      0x00,
      0x03,
      0xa9,
      ...new TextEncoder().encode("Demo.echo"),
      0x91,
      0xdb,
      0x06,
      0x40,
      0x00,
      0x00,
      0x61,
      0x61,
      0x61,
    ]);
    await raw.send(head);
    const answer = await raw.next() as { msgid: number; error: [number, string] };
    assert.equal(answer.msgid, 3);
    assert.equal(answer.error[0], 1);
    assert.match(answer.error[1], /exceeds the limit of 1048576 bytes/);
    await raw.closedByServer();
    assert.ok(Deno.memoryUsage().rss - before < 50 * 1024 * 1024, "no 100 MB buffer");
    assert.equal(await other.call("Demo.echo", { value: "after" }), "after");
  } finally {
    await raw.close();
    await other.close();
    await close();
  }
});

Deno.test("a real oversized message is refused by the size limit", async () => {
  const { tcp, close } = await demoServer({ maxMessageBytes: 4096 });
  const raw = await rawClient(tcp.port);
  const client = connect(tcp.url);
  try {
    await raw.send([0, 1, "Demo.echo", ["x".repeat(5000)]]);
    const answer = await raw.next() as { msgid: number; error: [number, string] };
    assert.equal(answer.msgid, 1);
    assert.match(answer.error[1], /exceeds the limit of 4096 bytes/);
    await raw.closedByServer();
    assert.equal(await client.call("Demo.echo", { value: "y".repeat(1000) }), "y".repeat(1000));
  } finally {
    await raw.close();
    await client.close();
    await close();
  }
});

Deno.test("requests beyond the in-flight cap are refused with Overloaded", async () => {
  const { tcp, close } = await demoServer({ maxInFlight: 2 });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send(
      [0, 1, "Demo.sleep", [200, "a"]],
      [0, 2, "Demo.sleep", [200, "b"]],
      [0, 3, "Demo.sleep", [200, "c"]],
    );
    const first = await raw.next() as { msgid: number; error: [number, string] };
    assert.equal(first.msgid, 3);
    assert.match(first.error[1], /^Overloaded: too many requests in flight/);
    const rest = [await raw.next(), await raw.next()] as { msgid: number; result: string }[];
    assert.deepEqual(rest.map((m) => m.result).sort(), ["a", "b"]);
    // Slots free up again.
    await raw.send([0, 4, "Demo.echo", [4]]);
    assert.equal((await raw.next() as { result: unknown }).result, 4);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("reserved $/ names never reach application handlers", async () => {
  const { server, tcp, close } = await demoServer();
  const seen: string[] = [];
  server.router.use((inv, next) => {
    seen.push(inv.call.method);
    return next();
  });
  const raw = await rawClient(tcp.port);
  const client = connect(tcp.url, { id: "watcher" });
  try {
    await raw.send([0, 1, "$/nope", []], [2, "$/nope", []], [0, 2, "$/ping", []]);
    const nope = await raw.next() as { error: [number, string] };
    assert.deepEqual(nope.error, [1, "Method not found: $/nope"]);
    assert.equal((await raw.next() as { result: unknown }).result, "pong");
    assert.equal(await client.call("Demo.echo", { value: 1 }), 1);
    assert.deepEqual(seen, ["Demo.echo"]);
  } finally {
    await raw.close();
    await client.close();
    await close();
  }
});

Deno.test("with an AuthGate, calls before login are Unauthorized and after it carry the identity", async () => {
  const gate = new AuthGate([sharedSecretBackend("s3cret")]);
  const { tcp, close } = await demoServer({ auth: gate });
  const raw = await rawClient(tcp.port);
  const good = connect(tcp.url, { auth: sharedSecretCredentials("s3cret", "worker-1") });
  const bad = connect(tcp.url, { auth: sharedSecretCredentials("wrong", "mallory") });
  try {
    await raw.send([0, 1, "Demo.whoami", []]);
    const refused = await raw.next() as { error: [number, string] };
    assert.match(refused.error[1], /^Unauthorized: log in first/);
    // Notifications before login are dropped; $/ reserved calls still work.
    await raw.send([0, 2, "$/auth.hello", []]);
    const hello = await raw.next() as { result: { nonce: string; schemes: string[] } };
    assert.deepEqual(hello.result.schemes, ["secret"]);
    assert.equal(typeof hello.result.nonce, "string");

    assert.equal(await good.call("Demo.whoami"), "worker-1");
    assert.deepEqual(tcp.peers().map((p) => p.id), ["worker-1"]);
    await assert.rejects(bad.call("Demo.whoami"), { name: "Unauthorized", code: -32001 });
  } finally {
    await raw.close();
    await good.close();
    await bad.close();
    await close();
  }
});

Deno.test({
  name: "TLS: msgpack-rpc over Deno.listenTls, trusted through a test CA",
  ignore: SKIP_TLS,
}, async () => {
  const certs = await makeCerts();
  try {
    const { ca, cert, key } = certs;
    const { tcp, close } = await demoServer({}, { tls: { cert, key } });
    assert.match(tcp.url, /^tls:\/\/127\.0\.0\.1:\d+$/);
    const client = connect(tcp.url, { caCerts: [ca] });
    const untrusting = connect(tcp.url, { connectTimeout: 5000 });
    try {
      assert.equal(await client.proxy(Demo).echo({ value: "secure" }), "secure");
      await assert.rejects(untrusting.call("Demo.echo", { value: 1 }), { name: "Unavailable" });
    } finally {
      await client.close();
      await untrusting.close();
      await close();
    }
  } finally {
    await certs.remove();
  }
});

Deno.test("shutdown lets in-flight calls finish, then closes every connection", async () => {
  const { tcp, close } = await demoServer();
  const client = connect(tcp.url);
  try {
    assert.equal(await client.call("Demo.echo", { value: 0 }), 0);
    const running = client.proxy(Demo).sleep({ ms: 200, tag: "finished" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = tcp.shutdown();
    assert.equal(await running, "finished");
    await stopped;
    await assert.rejects(client.call("Demo.echo", { value: 1 }), { name: "Unavailable" });
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("a client that never reads its replies is slowed down, not buffered without bound", async () => {
  const { tcp, close } = await demoServer();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
  const frame = encodeRequest(1, "Demo.echo", ["x".repeat(65536)]);
  const total = 2000; // 128 MiB of requests, and as much in replies
  let sent = 0;
  const writing = (async () => {
    try {
      while (sent < total) {
        for (let o = 0; o < frame.length;) o += await conn.write(frame.subarray(o));
        sent++;
      }
    } catch {
      // closed below
    }
  })();
  try {
    let last = -1;
    for (let i = 0; i < 100 && sent !== last && sent < total; i++) {
      last = sent;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(sent < total, `the server kept reading: all ${sent} requests were taken in`);
  } finally {
    conn.close();
    await writing;
  }
  const client = connect(tcp.url);
  try {
    assert.equal(await client.call("Demo.echo", { value: "fine" }), "fine");
  } finally {
    await client.close();
    await close();
  }
});
