// Smaller edges from the hostile-input review, through real sockets: an invalid Date is an
// encoding error (not `d4 ff ff`), TCP calls still running at shutdown are answered, and
// an over-size XML-RPC request gets an XML-RPC fault.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { rawClient } from "./tcp_fixture.ts";

const Dates = defineInterface("Dates", {
  broken: method({ result: t.datetime }),
  any: method({ result: t.any }),
  echo: method({ params: { when: t.datetime }, result: t.datetime }),
  sleep: method({ params: { ms: t.int }, result: t.bool }),
});

function datesServer() {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Dates, {
    broken: () => new Date(NaN),
    any: () => ({ at: new Date("not a date") }),
    echo: ({ when }) => when,
    // Ignores its signal on purpose: a handler that outlives the shutdown grace.
    sleep: ({ ms }) => new Promise((resolve) => setTimeout(() => resolve(true), ms)),
  }));
  return server;
}

Deno.test("an invalid Date in a result is InternalError over msgpack-rpc, never d4 ff ff", async () => {
  const server = datesServer();
  const tcp = await server.listenTcp({ port: 0 });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "$/hello", [{}]], [0, 2, "Dates.broken", []], [0, 3, "Dates.any", []]);
    for (const msgid of [2, 3]) {
      let message = await raw.next();
      while (message.type !== 1 || message.msgid !== msgid) message = await raw.next();
      const error = message.error as { code: number; message: string };
      assert.equal(error.code, -32603);
      // A t.datetime result is refused by the result check; inside t.any, by the encoder.
      if (msgid === 3) {
        assert.match(error.message, /cannot be encoded as msgpack \(an invalid Date/);
      }
    }
    // The connection carries on.
    await raw.send([0, 4, "Dates.echo", [new Date(0)]]);
    const ok = await raw.next();
    assert.equal(ok.type === 1 && (ok.result as Date).getTime(), 0);
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("an invalid Date in params fails that call on the client, the connection lives", async () => {
  const server = datesServer();
  const tcp = await server.listenTcp({ port: 0 });
  const client = connect(tcp.url);
  try {
    const dates = client.proxy(Dates);
    await assert.rejects(
      () => client.call("Dates.echo", { when: new Date(NaN) }),
      (error: unknown) => error instanceof RpcError && /invalid Date/.test(error.message),
    );
    assert.equal((await dates.echo({ when: new Date(5) })).getTime(), 5);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("shutdown answers TCP calls still running after the grace with Unavailable", async () => {
  const server = datesServer();
  const tcp = await server.listenTcp({ port: 0 }, { shutdownGrace: 300 });
  const raw = await rawClient(tcp.port);
  try {
    await raw.send([0, 1, "$/hello", [{}]], [0, 2, "Dates.sleep", [5000]], [0, 3, "Dates.sleep", [
      50,
    ]]);
    while (raw.inbox.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    const closing = server.close();
    const answers = new Map<number, unknown>();
    while (answers.size < 2) {
      const message = await raw.next(3000);
      if (message.type === 1 && message.msgid !== 1) {
        answers.set(message.msgid, message.error ?? message.result);
      }
    }
    await closing;
    const took = performance.now() - started;
    // The short call finished within the grace; the long one was told, not dropped.
    assert.equal(answers.get(3), true);
    const cut = answers.get(2) as { code: number; message: string };
    assert.equal(cut.code, -32005);
    assert.equal(cut.message, "server shutting down");
    assert.ok(took < 3000, `shutdown took ${took} ms`);
    await raw.closedByServer();
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("shutdown answers a plain peer's calls still running too (they are tracked only while running)", async () => {
  const server = datesServer();
  const tcp = await server.listenTcp({ port: 0 }, { shutdownGrace: 300 });
  const raw = await rawClient(tcp.port);
  try {
    // No $/hello: a plain msgpack-rpc peer. The first call is answered at once and is never
    // entered as running; the two sleeps are.
    await raw.send([0, 1, "Dates.echo", [new Date(7)]], [0, 2, "Dates.sleep", [5000]], [
      0,
      3,
      "Dates.sleep",
      [50],
    ]);
    const first = await raw.next(3000);
    assert.ok(first.type === 1 && first.msgid === 1, JSON.stringify(first));
    const closing = server.close();
    const answers = new Map<number, unknown>();
    while (answers.size < 2) {
      const message = await raw.next(3000);
      if (message.type === 1) answers.set(message.msgid, message.error ?? message.result);
    }
    await closing;
    assert.equal(answers.get(3), true);
    assert.match(JSON.stringify(answers.get(2)), /server shutting down/);
    await raw.closedByServer();
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("413 to an XML-RPC request is an XML-RPC fault, to JSON-RPC a JSON-RPC error", async () => {
  const server = datesServer();
  const http = await server.listenHttp({ port: 0 }, { maxBodyBytes: 100 });
  try {
    const big = "x".repeat(200);
    const xml = await fetch(`${http.url}/RPC2`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: `<methodCall><methodName>${big}</methodName></methodCall>`,
    });
    assert.equal(xml.status, 413);
    assert.match(xml.headers.get("content-type")!, /text\/xml/);
    const text = await xml.text();
    assert.match(text, /<methodResponse><fault>/);
    assert.match(text, /<name>faultCode<\/name><value><int>-32600<\/int>/);
    assert.match(text, /exceeds the limit of 100 bytes/);
    const json = await fetch(`${http.url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: big }),
    });
    assert.equal(json.status, 413);
    assert.equal((await json.json()).error.code, -32600);
  } finally {
    await server.close();
  }
});
