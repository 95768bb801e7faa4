import assert from "node:assert/strict";
import {
  Client,
  defineInterface,
  implement,
  method,
  RpcError,
  type RpcStream,
  t,
} from "../../../mod.ts";
import { LocalTransport, Router } from "../../../server.ts";
import { countingSource, ENDLESS_CAP, Feed, feedImpl, feedProbe } from "../../fixtures/feed.ts";
import { DEFAULT_STREAM_WINDOW } from "../../../src/core/stream/consumer.ts";

const Feed2 = defineInterface("Feed2", { nums: method({ result: t.stream(t.int) }) });

function setup(options: { maxStreamItems?: number } = {}) {
  const probe = feedProbe();
  const router = new Router({
    ...options,
    logger: { error: () => {}, warn: () => {} },
  });
  router.register(feedImpl(probe));
  const feed = new Client(new LocalTransport(router)).proxy(Feed);
  return { probe, router, feed };
}

/** Lets the producer run as far as it can. */
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
}

Deno.test("a streamed result arrives item by item, typed, and ends normally", async () => {
  const { feed } = setup();
  const stream: RpcStream<number> = feed.count({ n: 40 });
  const got: number[] = [];
  for await (const n of stream) got.push(n);
  assert.deepEqual(got, Array.from({ length: 40 }, (_, i) => i));
});

Deno.test("a ReadableStream result streams too, and the stream converts to one", async () => {
  const { feed } = setup();
  const got: number[] = [];
  for await (const n of feed.readable({ n: 5 }).readable()) got.push(n);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

Deno.test("a slow consumer holds the producer within the credit window", async () => {
  const { feed, probe } = setup();
  const iterator = feed.endless()[Symbol.asyncIterator]();
  let read = 0;
  for (; read < 3; read++) await iterator.next();
  await settle();
  // The producer is never more than one window ahead of what was read.
  assert.ok(probe.produced <= read + DEFAULT_STREAM_WINDOW, `produced ${probe.produced}`);
  for (; read < 50; read++) await iterator.next();
  await settle();
  assert.ok(probe.produced >= read && probe.produced <= read + DEFAULT_STREAM_WINDOW);
  assert.ok(probe.produced < ENDLESS_CAP);
  await iterator.return!();
  await probe.finished.promise;
});

Deno.test("break ends the producer: its signal aborts and its finally runs", async () => {
  const { feed, probe } = setup();
  for await (const item of feed.endless()) {
    if (item === "item 2") break;
  }
  await probe.finished.promise;
  assert.equal(probe.finallyRan, true);
  assert.equal((probe.abortReason as RpcError).name, "Cancelled");
});

Deno.test("aborting the caller's signal ends the producer and the read", async () => {
  const { feed, probe } = setup();
  const controller = new AbortController();
  const iterator = feed.endless(undefined, { signal: controller.signal })[Symbol.asyncIterator]();
  await iterator.next();
  controller.abort();
  await probe.finished.promise;
  await assert.rejects(iterator.next(), { name: "Cancelled" });
});

Deno.test("an error mid-stream reaches the consumer after the items, with its name", async () => {
  const { feed } = setup();
  const got: number[] = [];
  const error = await (async () => {
    try {
      for await (const n of feed.fails({ after: 3 })) got.push(n);
    } catch (e) {
      return e;
    }
  })();
  assert.deepEqual(got, [0, 1, 2]);
  assert.ok(error instanceof RpcError);
  assert.equal(error.name, "NotFound");
  assert.equal(error.message, "nothing after 3");
});

Deno.test("an item of the wrong type fails the stream (producer-side check)", async () => {
  const { feed } = setup();
  const got: number[] = [];
  await assert.rejects(async () => {
    for await (const n of feed.bad()) got.push(n);
  }, (e: RpcError) => e.name === "InternalError" && /item 1/.test(e.message));
  assert.deepEqual(got, [1]);
});

Deno.test("errors before the first item are the call's own (invalid params)", async () => {
  const { feed } = setup();
  await assert.rejects(async () => {
    for await (const _ of feed.count({ n: "x" as unknown as number }));
  }, { name: "InvalidParams" });
});

Deno.test("a caller that cannot take a stream gets the whole array, or the limit by name", async () => {
  const { router } = setup({ maxStreamItems: 10 });
  const whole = await router.dispatch({ method: "Feed.count", params: { n: 10 } });
  assert.deepEqual(whole, { ok: true, value: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  const tooLong = await router.dispatch({ method: "Feed.count", params: { n: 11 } });
  assert.equal(tooLong.ok, false);
  if (!tooLong.ok) {
    assert.equal(tooLong.error.name, "InvalidRequest");
    assert.match(tooLong.error.message, /more than 10 items \(limit 10\)/);
  }
  const failed = await router.dispatch({ method: "Feed.fails", params: { after: 2 } });
  assert.equal(!failed.ok && failed.error.name, "NotFound");
});

Deno.test("a proxy's stream types infer end to end", () => {
  const { feed } = setup();
  // Compile-time checks: items are numbers; a stream is no Promise.
  const stream = feed.count({ n: 1 });
  const _typed: AsyncIterable<number> = stream;
  // @ts-expect-error: items are numbers, not strings
  const _wrong: AsyncIterable<string> = stream;
  // @ts-expect-error: a streamed result is not awaited
  const _promise: Promise<unknown> = stream;
  void stream.cancel();
});

Deno.test("a handler's items are typed by the declaration", () => {
  implement(Feed2, {
    // @ts-expect-error: yields strings where the stream declares ints
    async *nums() {
      yield "one";
    },
  });
});

Deno.test("a stream param reaches the handler item by item; what it does not read is cancelled", async () => {
  const { feed } = setup();
  const caller = feedProbe();
  assert.equal(await feed.sum({ values: countingSource(caller, 10) }), 45);
  assert.equal(await feed.sum({ values: [1, 2, 3] }), 6);
  const early = feedProbe();
  assert.equal(await feed.sum({ values: countingSource(early, ENDLESS_CAP), take: 3 }), 3);
  await early.finished.promise;
  assert.ok(early.produced <= 3 + DEFAULT_STREAM_WINDOW);
  await assert.rejects(
    feed.sum({ values: [1, "x" as unknown as number] }),
    (e: RpcError) => e.name === "InvalidParams" && /item 1/.test(e.message),
  );
});
