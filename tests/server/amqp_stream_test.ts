// Streamed results (t.stream) over AMQP against a real RabbitMQ: ordered items through the
// broker, the credit window bounding the reply queue, cancellation reaching the handler,
// errors mid-stream, a worker killed mid-stream, and plain callers' whole arrays.
import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import { RpcError } from "../../src/core/errors.ts";
import { Router } from "../../src/core/router/router.ts";
import { type AmqpServeOptions, serveAmqp } from "../../src/server/amqp.ts";
import {
  callQueue,
  cancelExchange,
  CONTENT_TYPE,
  eventsExchange,
  STREAM_HEADER,
} from "../../src/wire/amqp/conventions.ts";
import {
  decodeMessage,
  encodeNotification,
  encodeRequest,
} from "../../src/wire/msgpackrpc/codec.ts";
import { STREAM_CANCEL, STREAM_CREDIT } from "../../src/wire/msgpackrpc/reserved.ts";
import { countingSource, Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";
import { Drip, dripImpl } from "../fixtures/drip.ts";
import {
  BROKER_URL,
  deleteQueues,
  rawConnection,
  SKIP,
  uniquePrefix,
  waitFor,
} from "../fixtures/amqp_broker.ts";

const quiet = { error: () => {}, warn: () => {} };

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name: `amqp streams: ${name}`, ignore: SKIP, fn });
}

/** A worker serving Feed under a fresh prefix, and a client for it. */
async function feedWorker(
  name: string,
  clientOptions: Record<string, unknown> = {},
  workerOptions: AmqpServeOptions = {},
) {
  const prefix = uniquePrefix(name);
  const probe = feedProbe();
  const router = new Router({ logger: quiet }).register(feedImpl(probe));
  const worker = await serveAmqp(router, BROKER_URL, { prefix, logger: quiet, ...workerOptions });
  const client = connect(BROKER_URL, { prefix, ...clientOptions });
  return {
    prefix,
    probe,
    worker,
    client,
    feed: client.proxy(Feed),
    async close() {
      await client.close();
      await worker.shutdown();
      await deleteQueues([callQueue(prefix, "Feed")], [
        eventsExchange(prefix),
        cancelExchange(prefix),
      ]);
    },
  };
}

test("a streamed result arrives in order through the broker and ends normally", async () => {
  const w = await feedWorker("order");
  try {
    const got: number[] = [];
    for await (const n of w.feed.count({ n: 200 })) got.push(n);
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
    await waitFor(() => w.probe.finallyRan, "the generator's finally");
  } finally {
    await w.close();
  }
});

test("a caller that does not ask for a stream gets the whole array", async () => {
  const w = await feedWorker("whole");
  try {
    assert.deepEqual(await w.client.call("Feed.count", { n: 5 }), [0, 1, 2, 3, 4]);
  } finally {
    await w.close();
  }
});

test("the broker's reply queue never holds more than the window the caller granted", async () => {
  const w = await feedWorker("window");
  const raw = await rawConnection();
  try {
    // A caller that reads nothing: its reply queue shows what the worker sent.
    const { queue } = await raw.channel.assertQueue("", { exclusive: true });
    raw.channel.publish(
      "",
      callQueue(w.prefix, "Feed"),
      raw.toBuffer(encodeRequest(1, "Feed.endless", {})),
      {
        replyTo: queue,
        correlationId: "1",
        contentType: CONTENT_TYPE,
        headers: { [STREAM_HEADER]: 4 },
      },
    );
    const count = async () => (await raw.channel.checkQueue(queue)).messageCount;
    // The handle and four items, then nothing more however long it waits.
    await waitFor(async () => await count() >= 5, "the handle and the first window");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await count(), 5);
    assert.equal(w.probe.produced, 4);
    // Three more credits: exactly three more items.
    const handle = await new Promise<{ control: string; id: number }>((resolve) => {
      raw.channel.consume(queue, (message) => {
        if (message === null) return;
        const decoded = decodeMessage(message.content);
        if (decoded.type === 1) {
          resolve({
            control: message.properties.replyTo!,
            id: (decoded.result as { $stream: number }).$stream,
          });
        }
      }, { noAck: true });
    });
    raw.channel.publish(
      "",
      handle.control,
      raw.toBuffer(encodeNotification(STREAM_CREDIT, [{ stream: handle.id, n: 3 }])),
      { contentType: CONTENT_TYPE },
    );
    await waitFor(() => w.probe.produced === 7, "three more items");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(w.probe.produced, 7);
  } finally {
    await raw.close();
    await w.close();
  }
});

test("a slow Switchboard consumer holds the producer within its window", async () => {
  const w = await feedWorker("slow", { streamWindow: 8 });
  try {
    const iterator = w.feed.endless()[Symbol.asyncIterator]();
    for (let read = 0; read < 5; read++) await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(w.probe.produced <= 5 + 8, `produced ${w.probe.produced} with 5 read, window 8`);
    await iterator.return!();
    await waitFor(() => w.probe.finallyRan, "the generator's finally");
  } finally {
    await w.close();
  }
});

test("break in for await cancels the handler: its signal aborts and its finally runs", async () => {
  const w = await feedWorker("cancel");
  try {
    let read = 0;
    for await (const _ of w.feed.endless()) if (++read === 3) break;
    await waitFor(() => w.probe.finallyRan, "the generator's finally");
    assert.ok(w.probe.abortReason instanceof RpcError);
    assert.equal((w.probe.abortReason as RpcError).name, "Cancelled");
    assert.equal(w.worker.connected, true);
  } finally {
    await w.close();
  }
});

test("aborting the caller's signal mid-stream cancels the handler", async () => {
  const w = await feedWorker("abort");
  try {
    const controller = new AbortController();
    const iterator = w.feed.endless(undefined, { signal: controller.signal })
      [Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await assert.rejects(iterator.next(), (e: unknown) => e instanceof RpcError);
    await waitFor(() => w.probe.finallyRan, "the generator's finally");
  } finally {
    await w.close();
  }
});

test("an error mid-stream arrives as RpcError after the items", async () => {
  const w = await feedWorker("error");
  try {
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const n of w.feed.fails({ after: 3 })) got.push(n);
      })(),
      (e: unknown) =>
        e instanceof RpcError && e.name === "NotFound" && /nothing after 3/.test(e.message),
    );
    assert.deepEqual(got, [0, 1, 2]);
  } finally {
    await w.close();
  }
});

/** A worker in its own process (serving Feed and Drip under `prefix`), to kill. */
async function workerProcess(prefix: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../fixtures/amqp_feed_worker.ts", import.meta.url).pathname],
    env: { AMQP_FIXTURE_PREFIX: prefix, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("consuming")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the worker exited: ${said}`);
    said += value;
  }
  reader.cancel().catch(() => {});
  return {
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
    },
  };
}

/** Reads on until the stream fails (bounded); a normal end is an error. */
async function failureOf(iterator: AsyncIterator<unknown>): Promise<unknown> {
  for (let i = 0; i < 10_000; i++) {
    try {
      if ((await iterator.next()).done) return new Error("the stream looked like a normal end");
    } catch (error) {
      return error;
    }
  }
  return new Error("the stream went on after its worker was gone");
}

test("a worker killed mid-stream: the consumer's next credit comes back, it fails Unavailable", async () => {
  const prefix = uniquePrefix("killed");
  const worker = await workerProcess(prefix);
  const client = connect(BROKER_URL, { prefix, streamIdle: 60_000 });
  try {
    const iterator = client.proxy(Feed).endless()[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    await worker.kill();
    // What was delivered may still be read; the credit that reading sends finds no queue.
    const failure = await failureOf(iterator);
    assert.ok(failure instanceof RpcError, String(failure));
    assert.equal(failure.name, "Unavailable");
    assert.match(failure.message, /control queue no longer exists/);
  } finally {
    await worker.kill();
    await client.close();
    await deleteQueues([callQueue(prefix, "Feed")], [
      eventsExchange(prefix),
      cancelExchange(prefix),
    ]);
  }
});

test("a worker killed while its consumer waits for items: silence past the idle bound fails it", async () => {
  const prefix = uniquePrefix("silent");
  const worker = await workerProcess(prefix);
  // A window no reading here exhausts: no credit is sent that could come back.
  const client = connect(BROKER_URL, { prefix, streamIdle: 1500, streamWindow: 1000 });
  try {
    const iterator = client.proxy(Drip).drip({ ms: 100, n: 100_000 })[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    await worker.kill();
    const failure = await failureOf(iterator);
    assert.ok(failure instanceof RpcError, String(failure));
    assert.equal(failure.name, "Unavailable");
    assert.match(failure.message, /no word from the worker for 1500 ms/);
  } finally {
    await worker.kill();
    await client.close();
    await deleteQueues([callQueue(prefix, "Drip")], [
      eventsExchange(prefix),
      cancelExchange(prefix),
    ]);
  }
});

test("keep-alives hold a slow but live stream open past the idle bound", async () => {
  const prefix = uniquePrefix("alive");
  const router = new Router({ logger: quiet }).register(dripImpl);
  const worker = await serveAmqp(router, BROKER_URL, { prefix, logger: quiet });
  const client = connect(BROKER_URL, { prefix, streamIdle: 900 });
  try {
    const got: number[] = [];
    for await (const n of client.proxy(Drip).drip({ ms: 2000, n: 3 })) got.push(n);
    assert.deepEqual(got, [0, 1, 2]);
  } finally {
    await client.close();
    await worker.shutdown();
    await deleteQueues([callQueue(prefix, "Drip")], [
      eventsExchange(prefix),
      cancelExchange(prefix),
    ]);
  }
});

test("a worker that shuts down mid-stream tells its consumer: Unavailable, not an end", async () => {
  const w = await feedWorker("shutdown");
  try {
    const iterator = w.feed.endless()[Symbol.asyncIterator]();
    await iterator.next();
    await w.worker.shutdown();
    const failure = await (async () => {
      for (let i = 0; i < 10_000; i++) {
        try {
          if ((await iterator.next()).done) return new Error("a normal end");
        } catch (error) {
          return error;
        }
      }
      return new Error("the stream went on");
    })();
    assert.ok(failure instanceof RpcError && failure.name === "Unavailable", String(failure));
    assert.match(failure.message, /shutting down/);
    await waitFor(() => w.probe.finallyRan, "the generator's finally");
  } finally {
    await w.close();
  }
});

test("streams beyond the worker's limit are refused Overloaded; the open ones go on", async () => {
  const w = await feedWorker("limit", {}, { streams: { maxStreams: 2 } });
  try {
    const open = [
      w.feed.endless()[Symbol.asyncIterator](),
      w.feed.endless()[Symbol.asyncIterator](),
    ];
    for (const iterator of open) await iterator.next();
    await assert.rejects(
      w.feed.endless()[Symbol.asyncIterator]().next(),
      (e: unknown) => e instanceof RpcError && e.name === "Overloaded" && /limit 2/.test(e.message),
    );
    for (const iterator of open) assert.equal((await iterator.next()).done, false);
    for (const iterator of open) await iterator.return!();
    await waitFor(() => w.worker.connected, "the worker");
  } finally {
    await w.close();
  }
});

test("a stream param travels whole over AMQP: read before sending, at most the limit", async () => {
  const w = await feedWorker("params");
  try {
    const probe = feedProbe();
    assert.equal(await w.feed.sum({ values: countingSource(probe, 100) }), 4950);
    assert.equal(probe.finallyRan, true);
    await assert.rejects(
      w.feed.sum({ values: countingSource(probe, 20_000) }),
      (e: unknown) =>
        e instanceof RpcError && e.name === "InvalidParams" && /limit 10000/.test(e.message),
    );
    assert.equal(probe.finallyRan, true);
  } finally {
    await w.close();
  }
});

test("another caller on the worker's control queue cannot steer a stream it did not open", async () => {
  const w = await feedWorker("steer");
  const raw = await rawConnection();
  try {
    const mine = w.feed.endless()[Symbol.asyncIterator]();
    await mine.next();
    // A second caller opens a stream of its own: it learns the control queue and its own id.
    const { queue } = await raw.channel.assertQueue("", { exclusive: true });
    const handle = new Promise<{ control: string; id: number }>((resolve) => {
      raw.channel.consume(queue, (message) => {
        if (message === null) return;
        const decoded = decodeMessage(message.content);
        if (decoded.type !== 1) return;
        const id = (decoded.result as { $stream: number }).$stream;
        resolve({ control: message.properties.replyTo!, id });
      }, { noAck: true });
    });
    raw.channel.publish(
      "",
      callQueue(w.prefix, "Feed"),
      raw.toBuffer(encodeRequest(1, "Feed.count", { n: 1 })),
      { replyTo: queue, correlationId: "1", headers: { [STREAM_HEADER]: 1 } },
    );
    const theirs = await handle;
    // Ids next to its own (what counting ids would give the first stream) name nothing.
    for (const id of [theirs.id - 1, theirs.id + 1, 1, 2]) {
      raw.channel.publish(
        "",
        theirs.control,
        raw.toBuffer(encodeNotification(STREAM_CANCEL, [{ stream: id }])),
      );
    }
    await raw.channel.close().catch(() => {});
    // Had one landed, the worker would send nothing more and this would fail as cut.
    for (let i = 0; i < 50; i++) assert.equal((await mine.next()).done, false);
    await mine.return!();
  } finally {
    await raw.close();
    await w.close();
  }
});
