// The queue in front of the span exporter: bounded, counted, off the calls' path.

import assert from "node:assert/strict";
import { SpanQueue } from "../../src/observe/span_queue.ts";

type Done = (result: { code: number }) => void;
const span = {} as never;

/** Waits (bounded) until `ready` holds. */
async function until(ready: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

Deno.test("span queue: a full batch is sent from a task of its own, never inside onEnd", async () => {
  let inside = false, sentInside = false, sent = 0;
  const exporter = {
    export(spans: unknown[], done: Done) {
      if (inside) sentInside = true;
      sent += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const queue = new SpanQueue(exporter, { maxBatchSize: 2, delayMs: 600_000 });
  for (let i = 0; i < 2; i++) {
    inside = true;
    queue.onEnd(span);
    inside = false;
  }
  assert.equal(sent, 0);
  await until(() => sent === 2);
  assert.equal(sentInside, false);
  assert.deepEqual(queue.counts(), { exported: 2, dropped: 0, queued: 0 });
  assert.equal(await queue.close(), true);
});

Deno.test("span queue: a batch the exporter gives up on is counted dropped", async () => {
  const exporter = {
    export: (_spans: unknown[], done: Done) => done({ code: 1 }),
    shutdown: () => Promise.resolve(),
  };
  const queue = new SpanQueue(exporter, { maxBatchSize: 3, delayMs: 600_000 });
  for (let i = 0; i < 3; i++) queue.onEnd(span);
  await until(() => queue.counts().dropped === 3);
  assert.deepEqual(queue.counts(), { exported: 0, dropped: 3, queued: 0 });
  await queue.close();
});

Deno.test("span queue: close gives a collector that never answers a bounded time", async () => {
  const exporter = { export() {}, shutdown: () => new Promise<void>(() => {}) };
  const queue = new SpanQueue(exporter, { maxQueueSize: 4, maxBatchSize: 2, delayMs: 600_000 });
  for (let i = 0; i < 6; i++) queue.onEnd(span);
  // 4 waiting (one batch may be in the export that hangs), 2 past the bound.
  assert.equal(queue.counts().dropped, 2);
  assert.equal(await queue.close(50), false);
  // Everything not sent is counted: the queued spans and the batch in flight.
  assert.equal(queue.counts().dropped, 6);
  // Closed: later spans are dropped too.
  queue.onEnd(span);
  assert.equal(queue.counts().dropped, 7);
});
