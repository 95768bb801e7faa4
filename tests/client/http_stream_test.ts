// A typed proxy over JSON-RPC/HTTP reads a streamed result as NDJSON: items as they come,
// errors after them, `break` cancelling the server's producer, a cut body never a whole one.
import assert from "node:assert/strict";
import { connect, RpcError } from "../../mod.ts";
import { Server } from "../../server.ts";
import { ENDLESS_CAP, Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";
import { ndjsonItems } from "../../src/client/http_ndjson.ts";

async function feedHttp() {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} }, maxStreamItems: 10 });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 });
  return { probe, http, close: () => server.close() };
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

Deno.test("http client: a stream longer than maxStreamItems arrives whole, item by item", async () => {
  const { http, close } = await feedHttp();
  const client = connect(http.url);
  try {
    const got: number[] = [];
    // 50 items: as one array it would fail (limit 10); as NDJSON it streams.
    for await (const n of client.proxy(Feed).count({ n: 50 })) got.push(n);
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
    await assert.rejects(client.call("Feed.count", { n: 50 }), { name: "InvalidRequest" });
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("http client: an error mid-stream comes after the items, with its name", async () => {
  const { http, close } = await feedHttp();
  const client = connect(http.url);
  try {
    const got: number[] = [];
    const error = await (async () => {
      try {
        for await (const n of client.proxy(Feed).fails({ after: 3 })) got.push(n);
      } catch (e) {
        return e;
      }
    })();
    assert.deepEqual(got, [0, 1, 2]);
    assert.ok(error instanceof RpcError);
    assert.equal(error.name, "NotFound");
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("http client: break cancels the producer at the server", async () => {
  const { http, probe, close } = await feedHttp();
  const client = connect(http.url);
  try {
    for await (const item of client.proxy(Feed).endless()) if (item === "item 2") break;
    await within(probe.finished.promise);
    assert.ok(probe.produced < ENDLESS_CAP);
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("http client: a body cut before its end line fails; a wrong count fails", async () => {
  const body = (text: string) => new Response(text).body!;
  const read = async (text: string) => {
    const got: unknown[] = [];
    try {
      for await (const item of ndjsonItems(body(text), "M")) got.push(item);
    } catch (e) {
      return { got, error: e as RpcError };
    }
    return { got };
  };
  const cut = await read('{"seq":0,"item":1}\n{"seq":1,"item":2}\n');
  assert.deepEqual(cut.got, [1, 2]);
  assert.match(cut.error!.message, /cut after 2 items/);
  const short = await read('{"seq":0,"item":1}\n{"end":true,"count":2}\n');
  assert.match(short.error!.message, /ended after 1 of 2 items/);
  const whole = await read(
    '{"seq":0,"item":{"$date":"2024-01-01T00:00:00.000Z"}}\n{"end":true,"count":1}\n',
  );
  assert.ok(whole.got[0] instanceof Date);
  assert.equal(whole.error, undefined);
});

Deno.test("http client: lines split across reads, mid-character, and several lines per read", async () => {
  const bytes = new TextEncoder().encode(
    '{"seq":0,"item":"héllo"}\n{"seq":1,"item":"wörld"}\n{"seq":2,"item":"€"}\n' +
      '{"end":true,"count":3}\n',
  );
  // Cut inside "é" (two bytes), inside "€" (three), and between lines.
  const cuts = [0, 20, 21, 55, 70, 71, bytes.length];
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 1; i < cuts.length; i++) controller.enqueue(bytes.slice(cuts[i - 1], cuts[i]));
      controller.close();
    },
  });
  const got: unknown[] = [];
  for await (const item of ndjsonItems(body, "Feed.words")) got.push(item);
  assert.deepEqual(got, ["héllo", "wörld", "€"]);
});
