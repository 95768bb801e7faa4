// Typed proxies: results are checked against and normalised to the declared types, over
// a Switchboard server and over a foreign JSON-RPC server that sends plain JSON.

import assert from "node:assert/strict";
import { Client, connect, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import { LocalTransport, type Logger, Router, Server } from "../../server.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };

const Event = t.struct("Event", { title: t.string, at: t.datetime, blob: t.optional(t.bytes) });
const Calendar = defineInterface("Calendar", {
  next: method({ params: { after: t.datetime }, result: Event }),
  when: method({ result: t.datetime }),
  raw: method({ result: t.bytes }),
  count: method({ result: t.int }),
  clear: method({}),
  slow: method({ params: { ms: t.int }, result: t.bool }),
});

const calendar = implement(Calendar, {
  next: ({ after }) => ({
    title: "standup",
    at: new Date(after.getTime() + 3_600_000),
    blob: new Uint8Array([1, 2, 3]),
  }),
  when: () => new Date("2030-01-01T00:00:00.000Z"),
  raw: () => new Uint8Array([255, 0]),
  count: () => 3,
  clear: () => {},
  slow: ({ ms }, ctx) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(true), ms);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(false);
      });
    }),
});

Deno.test("proxy over HTTP: typed calls, Date and bytes results, void methods", async () => {
  const server = new Server({ logger: quiet });
  server.register(calendar);
  const http = await server.listenHttp({ port: 0 });
  const client = connect(http.url);
  try {
    const cal = client.proxy(Calendar);
    assert.equal(client.proxy(Calendar), cal); // one proxy per interface
    const event = await cal.next({ after: new Date("2024-01-01T09:00:00.000Z") });
    assert.ok(event.at instanceof Date);
    assert.equal(event.at.toISOString(), "2024-01-01T10:00:00.000Z");
    assert.deepEqual(event.blob, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await cal.when(), new Date("2030-01-01T00:00:00.000Z"));
    assert.deepEqual(await cal.raw(), new Uint8Array([255, 0]));
    assert.equal(await cal.count(), 3);
    assert.equal(await cal.clear(), null);
    await assert.rejects(cal.slow({ ms: 10_000 }, { timeout: 50 }), { name: "Timeout" });
    await assert.rejects(
      cal.next({ after: "not a date" as unknown as Date }),
      { name: "InvalidParams", message: 'params.after: expected datetime, got "not a date"' },
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("proxy over a foreign server: plain JSON results are coerced to the declared types", async () => {
  // A hand-written JSON-RPC server that knows nothing of tags except where it uses one.
  const answers: Record<string, unknown> = {
    "Calendar.when": { $date: "2031-02-03T04:05:06.000Z" },
    "Calendar.next": { title: "t", at: "2031-02-03T04:05:06Z", blob: "AQID" },
    "Calendar.raw": "/wA=",
    "Calendar.count": "three",
    "Calendar.clear": null,
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const { id, method } = await request.json();
      return Response.json({ jsonrpc: "2.0", result: answers[method], id });
    },
  );
  const client = connect(`http://127.0.0.1:${server.addr.port}`);
  try {
    const cal = client.proxy(Calendar);
    assert.deepEqual(await cal.when(), new Date("2031-02-03T04:05:06.000Z"));
    const event = await cal.next({ after: new Date() });
    assert.deepEqual(event, {
      title: "t",
      at: new Date("2031-02-03T04:05:06Z"),
      blob: new Uint8Array([1, 2, 3]),
    });
    assert.deepEqual(await cal.raw(), new Uint8Array([255, 0]));
    await assert.rejects(cal.count(), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, -32603);
      assert.equal(
        e.message,
        'Calendar.count answered a bad result: result: expected int, got "three"',
      );
      return true;
    });
    assert.equal(await cal.clear(), null);
    // The untyped call returns what came over the wire, tags revived.
    assert.deepEqual(await client.call("Calendar.raw"), "/wA=");
    assert.deepEqual(await client.call("Calendar.when"), new Date("2031-02-03T04:05:06.000Z"));
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("proxy in process: the same typed surface over the local transport", async () => {
  const router = new Router({ logger: quiet }).register(calendar);
  const client = new Client(new LocalTransport(router));
  const cal = client.proxy(Calendar);
  assert.equal((await cal.next({ after: new Date(0) })).at.getTime(), 3_600_000);
  assert.equal(await cal.count(), 3);
  const controller = new AbortController();
  const pending = cal.slow({ ms: 10_000 }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, { name: "Cancelled" });
  await client.close();
});
