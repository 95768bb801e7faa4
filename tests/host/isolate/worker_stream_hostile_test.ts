// Stream frames a component forges (its own code can post anything): wrong field types, an
// item over the size limit, frames for a stream it was never given, items beyond the credit
// it was granted. Each is refused as any other bad message (its calls fail Unavailable
// saying what was wrong, the worker is replaced, a fresh one serves the next call); late
// frames of a stream that just ended change nothing.
import assert from "node:assert/strict";
import { Server } from "../../../src/adapters/deno/server.ts";
import { connect } from "../../../src/client/connect.ts";
import { RpcError } from "../../../src/core/errors.ts";
import { loadComponents } from "../../../deploy.ts";
import {
  checkFromWorker,
  MAX_STREAM_ITEM_BYTES,
} from "../../../src/host/isolate/from_component.ts";
import { Streamer } from "../../fixtures/components/streamer.ts";
import "../../../src/adapters/deno/tcp_client.ts";

const STREAMER = new URL("../../fixtures/components/streamer.ts", import.meta.url).href;

async function setup() {
  const logged: string[] = [];
  const logger = { error: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
  const server = new Server({ logger });
  const placed = await loadComponents([{ url: STREAMER, isolate: "worker" }], {
    client: () => server.router.client,
    logger,
  });
  server.register(...placed.implementations);
  const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const client = connect(tcp.url);
  return {
    client,
    logged,
    worker: placed.components[0].worker!,
    post: (messages: unknown[]): Promise<{ value?: unknown; error?: RpcError }> =>
      client.call("Streamer.post", { messages }, { timeout: 20_000 }).then(
        (value) => ({ value }),
        (error: unknown) => {
          assert.ok(error instanceof RpcError, String(error));
          return { error };
        },
      ),
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
      await placed.close();
    },
  };
}

const INVALID: [string, unknown, RegExp][] = [
  ["a credit for no stream id", { type: "stream.credit", stream: "1", n: 1 }, /stream id/],
  ["a credit of no items", { type: "stream.credit", stream: 1, n: 0 }, /whose n/],
  ["an item without seq", { type: "stream.item", stream: 1, item: 1 }, /seq or count/],
  ["an end with a fractional count", { type: "stream.end", stream: 1, count: 1.5 }, /count/],
  ["an error that is no error", { type: "stream.error", stream: 1, error: "x" }, /error/],
  [
    "an item over the size limit",
    { type: "stream.item", stream: 1, seq: 0, item: "x".repeat(MAX_STREAM_ITEM_BYTES + 1) },
    /stream item larger than 1048576 bytes/,
  ],
  [
    "an item for a stream it was never given",
    { type: "stream.item", stream: 999, seq: 0, item: 1 },
    /stream item for stream 999, which it was never given/,
  ],
  [
    "a credit for a stream it was never given",
    { type: "stream.credit", stream: 999, n: 5 },
    /stream credit for stream 999/,
  ],
  ["a call with an odd stream flag", { type: "call", id: 1, method: "A.b", stream: 1 }, /flag/],
  [
    "a call whose stream params are no list",
    { type: "call", id: 1, method: "A.b", streams: "values" },
    /stream params are not a short list/,
  ],
];

Deno.test("worker streams hostile: forged stream frames are refused and the worker replaced", async () => {
  await using s = await setup();
  let restarts = 0;
  for (const [what, message, problem] of INVALID) {
    const { error } = await s.post([message]);
    assert.ok(error, `${what}: the call should fail`);
    assert.equal(error.name, "Unavailable", `${what}: ${error.message}`);
    assert.match(error.message, /worker component .*streamer\.ts sent /, what);
    assert.match(error.message, problem, what);
    assert.deepEqual(await s.client.call("Streamer.state"), {
      produced: 0,
      finished: 0,
    }, what);
    assert.equal(s.worker.restarts, ++restarts, what);
  }
});

Deno.test("worker streams hostile: items beyond the credit granted fail the stream and replace the worker", async () => {
  await using s = await setup();
  // The first stream of a fresh worker is its stream 1: the component floods it.
  const items: number[] = [];
  let failure: RpcError | undefined;
  try {
    for await (const v of s.client.proxy(Streamer).flood({ stream: 1, items: 200 })) items.push(v);
  } catch (error) {
    assert.ok(error instanceof RpcError, String(error));
    failure = error;
  }
  assert.ok(failure, "the stream should fail");
  assert.match(failure.message, /beyond the credit granted/);
  // What the windows let through before the flood broke them (the host reads on as it goes).
  assert.ok(items.length < 64, `read ${items.length}`);
  assert.ok(s.logged.some((line) => /broke the protocol/.test(line)), s.logged.join("\n"));
  // A fresh worker serves the next call.
  assert.deepEqual(await s.client.call("Streamer.state"), { produced: 0, finished: 0 });
  assert.equal(s.worker.restarts, 1);
});

Deno.test("worker streams hostile: late frames of a stream that ended change nothing", async () => {
  await using s = await setup();
  const got: number[] = [];
  for await (const v of s.client.proxy(Streamer).count({ n: 3 })) got.push(v);
  assert.deepEqual(got, [0, 1, 2]);
  // Stream 1 was given and is over: its frames may be late ones, not a broken promise.
  const { value, error } = await s.post([
    { type: "stream.item", stream: 1, seq: 3, item: 3 },
    { type: "stream.end", stream: 1, count: 4 },
  ]);
  assert.equal(value, "posted", error?.message);
  assert.equal(s.worker.restarts, 0);
});

Deno.test("worker streams hostile: the size of an item is counted within its bound", () => {
  // A value far larger than the limit is refused after reading about the limit's worth.
  const wide = Array.from({ length: 2_000_000 }, (_, i) => i);
  assert.equal(checkFromWorker({ type: "stream.item", stream: 1, seq: 0, item: wide }).ok, false);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.equal(checkFromWorker({ type: "stream.item", stream: 1, seq: 0, item: cyclic }).ok, true);
  const bytes = new Uint8Array(MAX_STREAM_ITEM_BYTES + 1);
  assert.equal(checkFromWorker({ type: "stream.item", stream: 1, seq: 0, item: bytes }).ok, false);
});
