import assert from "node:assert/strict";
import { AuthGate, Server, sharedSecretBackend } from "../../server.ts";
import { defineInterface, implement, method, sharedSecretCredentials, t } from "../../mod.ts";
import { MultiClient } from "../../deploy.ts";
import { httpAuthenticator } from "../../src/auth/http.ts";
import "../../src/adapters/deno/tcp_client.ts";

const Where = defineInterface("Where", {
  protocol: method({ result: t.string }),
  caller: method({ result: t.nullable(t.string) }),
  stamp: method({ params: { when: t.datetime }, result: t.datetime }),
});
const Local = defineInterface("Local", { ask: method({ result: t.string }) });

const quiet = { logger: { error: () => {}, warn: () => {} } };
const SECRET = "multi-test-secret";

function whereServer(): Server {
  const server = new Server(quiet);
  server.register(implement(Where, {
    protocol: (_, ctx) => ctx.protocol,
    caller: (_, ctx) => ctx.caller?.id ?? null,
    stamp: ({ when }) => when,
  }));
  return server;
}

function guarded() {
  return new AuthGate([sharedSecretBackend(SECRET)]);
}

Deno.test("MultiClient: a local interface is called in-process, without a wire", async () => {
  const server = whereServer();
  const client = new MultiClient({ local: server.router, caller: { id: "me" }, routes: {} });
  const where = client.proxy(Where);
  assert.equal(await where.protocol(), "local");
  assert.equal(await where.caller(), "me");
  const when = new Date("2026-01-02T03:04:05.678Z");
  assert.deepEqual(await where.stamp({ when }), when);
  assert.equal(client.routeOf("Where.protocol"), "local");
  await client.close();
  await server.close();
});

Deno.test("MultiClient: remote interfaces go by the routing table, over tcp and http, with the secret", async () => {
  const tcpServer = whereServer();
  const tcp = await tcpServer.listenTcp({ port: 0 }, { auth: guarded() });
  const httpServer = new Server(quiet);
  httpServer.register(implement(Local, { ask: (_, ctx) => `${ctx.protocol} ${ctx.caller?.id}` }));
  const http = await httpServer.listenHttp({ port: 0 }, {
    authenticate: httpAuthenticator({ gate: guarded() }),
  });
  const client = new MultiClient({
    routes: {
      Where: [{ url: tcp.url, process: "a" }],
      Local: [{ url: http.url, process: "b" }],
    },
    connect: { auth: sharedSecretCredentials(SECRET, "caller-1") },
  });
  assert.equal(await client.proxy(Where).protocol(), "msgpack-rpc");
  assert.equal(await client.proxy(Where).caller(), "caller-1");
  const when = new Date("2026-01-02T03:04:05.678Z");
  assert.deepEqual(await client.proxy(Where).stamp({ when }), when);
  assert.equal(await client.proxy(Local).ask(), "jsonrpc caller-1");
  assert.deepEqual(client.routeOf("Local.ask"), { url: http.url, process: "b" });
  await client.close();
  await tcpServer.close();
  await httpServer.close();
});

Deno.test("MultiClient: a caller with the wrong secret is refused on tcp and http", async () => {
  const server = whereServer();
  const tcp = await server.listenTcp({ port: 0 }, { auth: guarded() });
  const http = await server.listenHttp({ port: 0 }, {
    authenticate: httpAuthenticator({ gate: guarded() }),
  });
  for (const url of [tcp.url, http.url]) {
    for (const connect of [{}, { auth: sharedSecretCredentials("not the secret", "intruder") }]) {
      const client = new MultiClient({ routes: { Where: [{ url }] }, connect });
      await assert.rejects(client.call("Where.protocol"), { name: "Unauthorized" });
      await client.close();
    }
  }
  await server.close();
});

Deno.test("MultiClient: an unknown interface is MethodNotFound naming what is known", async () => {
  const client = new MultiClient({ routes: { Where: [{ url: "tcp://127.0.0.1:1" }] } });
  await assert.rejects(client.call("Nowhere.ping"), (error: Error) => {
    assert.equal(error.name, "MethodNotFound");
    assert.match(error.message, /no process of this deployment serves Nowhere; known: Where/);
    return true;
  });
  assert.equal(client.routeOf("Nowhere.ping"), undefined);
  await client.close();
});

Deno.test("MultiClient: an outage is a clear Unavailable error, and the next call after a restart works", async () => {
  let server = whereServer();
  const tcp = await server.listenTcp({ port: 0 }, { auth: guarded() });
  const port = tcp.port;
  const client = new MultiClient({
    routes: { Where: [{ url: tcp.url, process: "where" }] },
    connect: { auth: sharedSecretCredentials(SECRET, "c") },
    timeout: 20_000,
  });
  assert.equal(await client.call("Where.protocol"), "msgpack-rpc");
  await server.close();
  await assert.rejects(client.call("Where.protocol"), (error: Error) => {
    assert.equal(error.name, "Unavailable");
    assert.match(error.message, new RegExp(`process where at tcp://127\\.0\\.0\\.1:${port}`));
    return true;
  });
  server = whereServer();
  await server.listenTcp({ port }, { auth: guarded() });
  assert.equal(await client.call("Where.protocol"), "msgpack-rpc");
  await client.close();
  await server.close();
});

Deno.test("MultiClient: a route no transport of this program speaks is passed over", async () => {
  const server = whereServer();
  const tcp = await server.listenTcp({ port: 0 }, { auth: guarded() });
  const routes = { Where: [{ url: "carrier-pigeon://loft/1", process: "a" }, { url: tcp.url }] };
  const client = new MultiClient({
    routes,
    connect: { auth: sharedSecretCredentials(SECRET, "c") },
  });
  assert.deepEqual(client.routeOf("Where.protocol"), { url: tcp.url });
  assert.equal(await client.call("Where.protocol"), "msgpack-rpc");
  await client.close();
  // With only unspeakable routes, the error says so.
  const stuck = new MultiClient({ routes: { Where: [routes.Where[0]] } });
  await assert.rejects(stuck.call("Where.protocol"), (error: Error) => {
    assert.equal(error.name, "Unavailable");
    assert.match(
      error.message,
      /process a at carrier-pigeon:\/\/loft\/1 is unavailable: this program has no client transport/,
    );
    return true;
  });
  await stuck.close();
  await server.close();
});

Deno.test("MultiClient: connections are made on first use, not before", async () => {
  // Nothing listens on port 1; constructing and closing must not fail or leak.
  const client = new MultiClient({ routes: { Where: [{ url: "tcp://127.0.0.1:1" }] } });
  await client.close();
});
