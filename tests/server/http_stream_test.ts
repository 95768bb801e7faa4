// JSON-RPC over HTTP with a streamed result: NDJSON and server-sent events when the request
// asks for them, pulled at the client's pace, cancelled when the client goes away.
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { ENDLESS_CAP, feedImpl, feedProbe } from "../fixtures/feed.ts";
import { eventually } from "./tcp_fixture.ts";

async function feedHttp() {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 });
  return { probe, http, close: () => server.close() };
}

function post(url: string, accept: string, method: string, params: unknown, signal?: AbortSignal) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal,
  });
}

function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("http: Accept: application/x-ndjson streams items as lines, then the end", async () => {
  const { http, close } = await feedHttp();
  try {
    const response = await post(http.url, "application/x-ndjson", "Feed.count", { n: 4 });
    assert.equal(response.headers.get("content-type"), "application/x-ndjson");
    const lines = (await response.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { seq: 0, item: 0 },
      { seq: 1, item: 1 },
      { seq: 2, item: 2 },
      { seq: 3, item: 3 },
      { end: true, count: 4 },
    ]);
  } finally {
    await close();
  }
});

Deno.test("http: an error mid-stream is the last line, with its code and name", async () => {
  const { http, close } = await feedHttp();
  try {
    const response = await post(http.url, "application/x-ndjson", "Feed.fails", { after: 2 });
    const lines = (await response.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[2].error, {
      code: -32000,
      name: "NotFound",
      message: "nothing after 2",
    });
  } finally {
    await close();
  }
});

Deno.test("http: an error before the first item, and a method that does not stream, answer JSON", async () => {
  const { http, close } = await feedHttp();
  try {
    const invalid = await post(http.url, "application/x-ndjson", "Feed.count", { n: "x" });
    assert.equal(invalid.headers.get("content-type"), "application/json");
    assert.equal((await invalid.json()).error.code, -32602);
    const plain = await post(http.url, "text/event-stream", "system.listMethods", []);
    assert.ok(Array.isArray((await plain.json()).result));
  } finally {
    await close();
  }
});

Deno.test("http: curl -N reads server-sent events as they come", async () => {
  const { http, close } = await feedHttp();
  try {
    const out = await new Deno.Command("curl", {
      args: [
        "-sN",
        "-H",
        "accept: text/event-stream",
        "-H",
        "content-type: application/json",
        "-d",
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Feed.count", params: { n: 3 } }),
        http.url,
      ],
    }).output();
    assert.equal(
      new TextDecoder().decode(out.stdout),
      'id: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\nevent: end\ndata: {"count":3}\n\n',
    );
  } finally {
    await close();
  }
});

Deno.test("http: a client that stops reading holds the producer; one that goes away ends it", async () => {
  const { http, probe, close } = await feedHttp();
  try {
    const controller = new AbortController();
    const response = await post(
      http.url,
      "application/x-ndjson",
      "Feed.endless",
      {},
      controller.signal,
    );
    const reader = response.body!.getReader();
    await reader.read();
    // Not read further: the producer stops once the connection's buffers are full.
    let before = -1;
    await eventually(
      () => {
        const now = probe.produced;
        const still = now === before;
        before = now;
        return still && now > 0;
      },
      "the producer to stop",
      30_000,
    );
    assert.ok(probe.produced < ENDLESS_CAP, `produced ${probe.produced}`);
    assert.equal(probe.finallyRan, false);
    controller.abort();
    await within(probe.finished.promise);
    assert.equal(probe.finallyRan, true);
  } finally {
    await close();
  }
});

Deno.test("http: killing curl -N cancels the producer at the server", async () => {
  const { http, probe, close } = await feedHttp();
  try {
    const curl = new Deno.Command("curl", {
      args: [
        "-sN",
        "-H",
        "accept: text/event-stream",
        "-d",
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Feed.endless", params: {} }),
        http.url,
      ],
      stdout: "piped",
    }).spawn();
    const reader = curl.stdout.getReader();
    await reader.read();
    curl.kill("SIGKILL");
    await curl.status;
    await reader.cancel().catch(() => {});
    await within(probe.finished.promise);
    assert.equal((probe.abortReason as Error).name, "Cancelled");
  } finally {
    await close();
  }
});
