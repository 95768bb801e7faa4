// The WebSocket client's calls in flight on a connection the far end drops: an idempotent
// method's call is sent again once the client has reconnected; any other fails Unavailable,
// saying it may have run, and runs once (the same rule and code as the TCP client's).
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import { exponentialBackoff } from "../../src/core/backoff.ts";
import { freezableProxy } from "../server/tcp_fixture.ts";

const Jobs = defineInterface("Jobs", {
  read: method({ params: { key: t.string }, result: t.string, idempotent: true }),
  charge: method({ params: { amount: t.int }, result: t.int }),
});

Deno.test("ws: a call in flight on a dropped connection is retried if idempotent, else Unavailable", async () => {
  let reads = 0;
  let charges = 0;
  let entered = () => {};
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Jobs, {
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
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  // The far end of the client's socket is a relay that the test cuts mid-call.
  const proxy = freezableProxy(http.port);
  const client = connect(proxy.url.replace("tcp:", "ws:"), {
    reconnect: exponentialBackoff({ initial: 5, max: 50 }),
  });
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
      assert.match(
        e.message,
        /connection to ws:\/\/127\.0\.0\.1:\d+\/? dropped while Jobs\.charge was in flight; not retried, as it is not idempotent and may have run/,
      );
      return true;
    });
    // The client carries on over a new connection; the charge ran once.
    assert.equal(await jobs.read({ key: "again" }), "value of again");
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(charges, 1);
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
});

Deno.test("ws: a call whose connection cannot be opened fails Unavailable, not retried as in flight", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = connect(`ws://127.0.0.1:${port}`, { connectTimeout: 2000 });
  try {
    await assert.rejects(
      client.proxy(Jobs).charge({ amount: 1 }),
      (e: RpcError) => e.name === "Unavailable" && !/in flight/.test(e.message),
    );
  } finally {
    await client.close();
  }
});
