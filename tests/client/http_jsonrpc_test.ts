// The HTTP JSON-RPC client against a real server on a socket: calls, notifications,
// batches, timeouts, cancellation, and servers that are down or not JSON-RPC at all.

import assert from "node:assert/strict";
import { connect, HttpJsonRpcTransport, RpcError } from "../../mod.ts";
import { type Logger, Server } from "../../server.ts";
import { demoComponents } from "../../src/demo/mod.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };

async function withDemo(fn: (url: string) => Promise<void>) {
  const server = new Server({ logger: quiet });
  server.register(...demoComponents);
  const http = await server.listenHttp({ port: 0 });
  try {
    await fn(http.url);
  } finally {
    await server.close();
  }
}

Deno.test("http client: call by name and position; remote errors re-raised", async () => {
  await withDemo(async (url) => {
    const client = connect(url);
    assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
    assert.equal(await client.call("Calculator.subtract", [2, 3]), -1);
    await assert.rejects(client.call("Calculator.divide", [1, 0]), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.name, "DivisionByZero");
      assert.equal(e.code, -32000);
      assert.equal(e.message, "cannot divide 1 by zero");
      return true;
    });
    await assert.rejects(client.call("Echo.fail", ["Teapot", "short and stout"]), {
      name: "Teapot",
      message: "short and stout",
    });
    await assert.rejects(client.call("Calculator.add", { a: "x" }), {
      name: "InvalidParams",
      code: -32602,
    });
    await assert.rejects(client.call("Nope.nope"), { name: "MethodNotFound", code: -32601 });
    await assert.rejects(client.call("Echo.crash"), {
      name: "InternalError",
      code: -32603,
      message: "Internal error",
    });
    // Dates and bytes are sent as tags and come back as values.
    const at = new Date("2021-01-01T00:00:00.000Z");
    assert.deepEqual(await client.call("Echo.any", [{ at, raw: new Uint8Array([7]) }]), {
      at,
      raw: new Uint8Array([7]),
    });
    await client.close();
  });
});

Deno.test("http client: a timeout stops the wait and the server abandons the call", async () => {
  await withDemo(async (url) => {
    const client = connect(url);
    const started = Date.now();
    await assert.rejects(client.call("Echo.sleep", [10_000], { timeout: 100 }), {
      name: "Timeout",
      code: -32003,
    });
    assert.ok(Date.now() - started < 5_000);
    // The same call with room to finish works.
    assert.equal(await client.call("Echo.sleep", [10], { timeout: 10_000 }), true);
    await client.close();
  });
});

Deno.test("http client: an AbortSignal cancels the request", async () => {
  await withDemo(async (url) => {
    const client = connect(url);
    const controller = new AbortController();
    // The deadline (1 s) is what stops the server side: HTTP carries no cancellation.
    const pending = client.call("Echo.sleep", [10_000], {
      signal: controller.signal,
      timeout: 1000,
    });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, { name: "Cancelled", code: -32006 });
    await assert.rejects(client.call("Echo.echo", ["x"], { signal: AbortSignal.abort() }), {
      name: "Cancelled",
    });
    assert.equal(await client.call("Echo.echo", ["still fine"]), "still fine");
    await client.close();
  });
});

Deno.test("http client: batch sends one request; results come back in call order", async () => {
  await withDemo(async (url) => {
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const client = connect(url, { fetch: counting });
    const results = await client.batch([
      { method: "Echo.sleep", params: [30] }, // slowest first: order is by id, not arrival
      { method: "Calculator.add", params: [1, 2] },
      { method: "Echo.echo", params: ["n"], notification: true },
      { method: "Calculator.divide", params: [1, 0] },
      { method: "Nope.nope" },
    ]);
    assert.equal(requests, 1);
    assert.deepEqual(results[0], { ok: true, value: true });
    assert.deepEqual(results[1], { ok: true, value: 3 });
    assert.deepEqual(results[2], { ok: true, value: undefined });
    assert.equal(!results[3].ok && results[3].error.name, "DivisionByZero");
    assert.equal(!results[4].ok && results[4].error.code, -32601);
    // Only notifications: the server answers nothing, the client settles them all.
    const quietOnes = await client.batch([
      { method: "Echo.echo", params: ["a"], notification: true },
      { method: "Echo.echo", params: ["b"], notification: true },
    ]);
    assert.deepEqual(quietOnes, [{ ok: true, value: undefined }, { ok: true, value: undefined }]);
    assert.deepEqual(await client.batch([]), []);
    assert.equal(requests, 2);
    await client.close();
  });
});

Deno.test("http client: a batch that times out or is cancelled settles every member with that error", async () => {
  await withDemo(async (url) => {
    const client = connect(url);
    const calls = [
      { method: "Echo.sleep", params: [10_000] },
      { method: "Calculator.add", params: [1, 2] },
    ];
    const timedOut = await client.batch(calls, { timeout: 100 });
    assert.equal(timedOut.length, 2);
    for (const r of timedOut) {
      assert.equal(!r.ok && r.error.name, "Timeout");
      assert.equal(!r.ok && r.error.message, "batch of 2 calls timed out after 100 ms");
    }
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const cancelled = await client.batch(calls, { signal: controller.signal, timeout: 1000 });
    for (const r of cancelled) assert.equal(!r.ok && r.error.name, "Cancelled");
    const early = await client.batch(calls, { signal: AbortSignal.abort() });
    for (const r of early) assert.equal(!r.ok && r.error.name, "Cancelled");
    await client.close();
  });
});

Deno.test("http client: notify posts a request without id and gets no reply", async () => {
  await withDemo(async (url) => {
    const bodies: string[] = [];
    const statuses: number[] = [];
    const spy: typeof fetch = async (input, init) => {
      bodies.push(String(init?.body));
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    };
    const client = connect(url, { fetch: spy });
    assert.equal(await client.notify("Echo.echo", ["hi"]), undefined);
    assert.deepEqual(JSON.parse(bodies[0]), {
      jsonrpc: "2.0",
      method: "Echo.echo",
      params: ["hi"],
    });
    // An empty 200 (Python's jsonrpclib raises on 204).
    assert.deepEqual(statuses, [200]);
    await client.notify("Nope.nope"); // no error either way
    await client.close();
  });
});

Deno.test("http client: extra headers and the deadline header are sent", async () => {
  await withDemo(async (url) => {
    const seen: Headers[] = [];
    const spy: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    const client = connect(url, { fetch: spy, headers: { authorization: "Bearer t" } });
    await client.call("Echo.echo", ["x"], { timeout: 5_000 });
    assert.equal(seen[0].get("authorization"), "Bearer t");
    assert.equal(seen[0].get("content-type"), "application/json");
    const budget = Number(seen[0].get("x-rpc-timeout"));
    assert.ok(budget > 0 && budget <= 5_000, `x-rpc-timeout ${budget}`);
    await client.close();
  });
});

Deno.test("http client: a server that is down is Unavailable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = connect(`http://127.0.0.1:${port}`);
  await assert.rejects(client.call("Echo.echo", ["x"]), (e: unknown) => {
    assert.ok(e instanceof RpcError);
    assert.equal(e.name, "Unavailable");
    assert.equal(e.code, -32005);
    assert.match(e.message, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/:`));
    return true;
  });
  await client.close();
});

Deno.test("http client: an answer that is not JSON-RPC is Unavailable, with what came back", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/json"
        ? Response.json({ hello: "world" })
        : new Response("<html>gateway down</html>", { status: 502 }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const html = new HttpJsonRpcTransport(`${base}/rpc`);
    const client = connect(base);
    await assert.rejects(client.call("A.b"), {
      name: "Unavailable",
      message: `${base}/ answered HTTP 502 that is not JSON-RPC: <html>gateway down</html>`,
    });
    await assert.rejects(html.call({ method: "A.b" }), { name: "Unavailable" });
    const odd = connect(`${base}/json`);
    await assert.rejects(odd.call("A.b"), {
      name: "Unavailable",
      message: `${base}/json answered no JSON-RPC response`,
    });
    await client.close();
    await odd.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("connect: unknown schemes are refused with the known ones listed", () => {
  assert.throws(() => connect("gopher://x"), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /no transport for gopher: \(known here: .*http:.*https:/);
    return true;
  });
  assert.throws(() => connect("not a url"), TypeError);
});
