// How long a streamed HTTP response lives: past the listener's idle timeout while it streams
// (the connection is busy until the body is over), and no longer than the listener's
// shutdown, which ends it with an error instead of waiting on a stream that never ends.
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { feedImpl, feedProbe } from "../fixtures/feed.ts";

const decoder = new TextDecoder();

function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function endless(url: string, signal?: AbortSignal) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Feed.endless", params: {} }),
    signal,
  });
  return response.body!.getReader();
}

Deno.test("http stream: a streaming response outlives the listener's idle timeout", async () => {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 }, { idleTimeout: 200 });
  const controller = new AbortController();
  try {
    const reader = await endless(http.url, controller.signal);
    await reader.read();
    // Many idle timeouts pass while the client holds the stream without reading.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(probe.finallyRan, false, "the producer was cancelled by the idle timeout");
    // Look for the item in what came plus the tail of what came before (items come in chunks).
    let tail = "";
    for (;;) {
      const { value, done } = await within(reader.read(), "reading on");
      assert.equal(done, false, "the stream ended");
      const text = tail + decoder.decode(value);
      if (text.includes('"seq":5000,')) break;
      tail = text.slice(-200);
    }
    assert.equal(probe.finallyRan, false);
    controller.abort();
    await within(probe.finished.promise, "the producer's finally");
  } finally {
    controller.abort();
    await server.close();
  }
});

Deno.test("http stream: shutdown ends an endless stream with Unavailable, and finishes", async () => {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 });
  const reader = await endless(http.url);
  await reader.read();
  const closed = server.close();
  let tail = "";
  for (;;) {
    const { value, done } = await within(reader.read(), "the body's end");
    if (done) break;
    tail = (tail + decoder.decode(value)).slice(-400);
  }
  await within(closed, "server.close()");
  assert.equal(probe.finallyRan, true);
  const last = JSON.parse(tail.trim().split("\n").at(-1)!);
  assert.equal(last.error.name, "Unavailable");
  assert.match(last.error.message, /Feed\.endless: the server is shutting down/);
});
