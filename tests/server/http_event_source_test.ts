// GET /rpc/<method>?params=<JSON>: a streamed result for EventSource, as server-sent events.
// Only idempotent streamed methods run by GET; pages of other sites are refused; the
// listener's authentication applies; a client that goes away cancels the producer.
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { httpAuthenticator } from "../../server.ts";
import { feedProbe } from "../fixtures/feed.ts";
import { SseReader, ticksImpl, within } from "./sse_fixture.ts";
import type { HttpOptions } from "../../server.ts";

async function ticksHttp(options: HttpOptions = {}) {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(ticksImpl(probe));
  const http = await server.listenHttp({ port: 0 }, options);
  const url = (method: string, params?: unknown) =>
    `${http.url}/rpc/${method}` +
    (params === undefined ? "" : `?params=${encodeURIComponent(JSON.stringify(params))}`);
  return { probe, http, url, close: () => server.close() };
}

Deno.test("event source: curl -N reads a streamed result by GET", async () => {
  const { url, close } = await ticksHttp();
  try {
    const out = await new Deno.Command("curl", {
      args: ["-sN", "--max-time", "20", url("Ticks.count", { n: 3 })],
    }).output();
    assert.equal(
      new TextDecoder().decode(out.stdout),
      "id: open\n\nid: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\n" +
        'event: end\ndata: {"count":3}\n\n',
    );
  } finally {
    await close();
  }
});

Deno.test("event source: the response is text/event-stream, params by position too", async () => {
  const { url, close } = await ticksHttp();
  try {
    const response = await fetch(url("Ticks.count", [2]));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    const reader = new SseReader(response.body!);
    assert.deepEqual(await reader.next(), { id: "open" });
    assert.deepEqual(await reader.next(), { id: "0", data: "0" });
    assert.deepEqual(await reader.next(), { id: "1", data: "1" });
    assert.deepEqual(await reader.next(), { event: "end", data: '{"count":2}' });
    assert.equal(await reader.next(), undefined);
  } finally {
    await close();
  }
});

Deno.test("event source: bad params, unknown, unexposed, plain and non-idempotent methods are refused", async () => {
  const { http, url, close } = await ticksHttp();
  const hidden = await ticksHttp({ expose: (m) => m !== "Ticks.count", maxBodyBytes: 64 });
  try {
    const refused = async (target: string, status: number, code: number, message: RegExp) => {
      const response = await fetch(target);
      assert.equal(response.status, status, target);
      assert.equal(response.headers.get("content-type"), "application/json");
      const body = await response.json();
      assert.equal(body.jsonrpc, "2.0");
      assert.equal(body.id, null);
      assert.equal(body.error.code, code, target);
      assert.match(body.error.message, message);
      return response;
    };
    await refused(`${http.url}/rpc/Ticks.count?params=%7Bnope`, 400, -32700, /Parse error/);
    await refused(url("Ticks.count", { n: "x" }), 400, -32602, /n/);
    await refused(url("Ticks.count", 5), 400, -32602, /object or array/);
    await refused(url("Nope.nothing", {}), 404, -32601, /Nope\.nothing/);
    await refused(hidden.url("Ticks.count", { n: 1 }), 404, -32601, /Ticks\.count/);
    await refused(url("Ticks.plain"), 400, -32600, /does not stream its result/);
    const once = await refused(url("Ticks.once", { n: 1 }), 405, -32600, /not declared idempotent/);
    assert.equal(once.headers.get("allow"), "POST");
    // Params count toward the listener's body limit.
    const huge = await fetch(hidden.url("Ticks.endless", { pad: "x".repeat(100) }));
    assert.equal(huge.status, 413);
    await huge.body?.cancel();
  } finally {
    await close();
    await hidden.close();
  }
});

Deno.test("event source: pages of other sites are refused unless CORS allows them", async () => {
  const { url, close } = await ticksHttp({ cors: { origins: ["http://app.example"] } });
  try {
    const evil = await fetch(url("Ticks.count", { n: 1 }), {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(evil.status, 403);
    assert.match((await evil.json()).error.message, /evil\.example may not GET here/);
    const img = await fetch(url("Ticks.count", { n: 1 }), {
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(img.status, 403);
    await img.body?.cancel();
    const allowed = await fetch(url("Ticks.count", { n: 1 }), {
      headers: { origin: "http://app.example" },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get("access-control-allow-origin"), "http://app.example");
    await allowed.body?.cancel();
  } finally {
    await close();
  }
});

Deno.test("event source: a reconnect (Last-Event-ID) gets 204 and runs nothing", async () => {
  const { url, probe, close } = await ticksHttp();
  try {
    const again = await fetch(url("Ticks.endless"), { headers: { "last-event-id": "3" } });
    assert.equal(again.status, 204);
    assert.equal(await again.text(), "");
    assert.equal(probe.produced, 0, "the producer ran");
  } finally {
    await close();
  }
});

Deno.test("event source: the listener's authentication applies", async () => {
  const authenticate = httpAuthenticator({
    bearer: (token) => token === "good" ? { id: "reader" } : undefined,
  });
  const { url, close } = await ticksHttp({ authenticate });
  try {
    const stranger = await fetch(url("Ticks.count", { n: 1 }));
    assert.equal(stranger.status, 401);
    assert.equal((await stranger.json()).error.name, "Unauthorized");
    const friend = await fetch(url("Ticks.count", { n: 1 }), {
      headers: { authorization: "Bearer good" },
    });
    assert.equal(friend.status, 200);
    assert.match(await friend.text(), /event: end/);
  } finally {
    await close();
  }
});

Deno.test("event source: a client that goes away cancels the producer (its finally runs)", async () => {
  const { url, probe, close } = await ticksHttp();
  try {
    const controller = new AbortController();
    const response = await fetch(url("Ticks.endless"), { signal: controller.signal });
    const reader = new SseReader(response.body!);
    await reader.next();
    assert.deepEqual(await reader.next(), { id: "0", data: '"item 0"' });
    controller.abort();
    await within(probe.finished.promise, "the producer's finally");
    assert.equal((probe.abortReason as Error).name, "Cancelled");
  } finally {
    await close();
  }
});
