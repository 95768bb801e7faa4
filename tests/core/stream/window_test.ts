// The consumer's window: fixed unless it may grow; grows while items are small, to about
// STREAM_WINDOW_BYTES of them and at most MAX_STREAM_WINDOW; shrinks when large ones come,
// granting nothing until the items already granted fit again.

import assert from "node:assert/strict";
import {
  DEFAULT_STREAM_WINDOW,
  MAX_STREAM_WINDOW,
  STREAM_WINDOW_BYTES,
  StreamConsumer,
} from "../../../src/core/stream/consumer.ts";

/** A consumer fed by a producer that sends as much as it is granted, items of `size` bytes. */
function fed(options: { maxWindow?: number; window?: number }, size: () => number) {
  const grants: number[] = [];
  let credit = 0, seq = 0;
  const consumer: StreamConsumer<number> = new StreamConsumer<number>({
    credit: (n) => {
      grants.push(n);
      credit += n;
      queueMicrotask(send);
    },
    cancel: () => {},
  }, options);
  function send() {
    while (credit > 0) {
      credit--;
      consumer.item(seq, seq++, size());
    }
  }
  send();
  return { consumer, grants, held: () => seq };
}

Deno.test("stream window: fixed by default, whatever the item size", async () => {
  const { consumer, grants } = fed({}, () => 10);
  for (let i = 0; i < 200; i++) await consumer.next();
  assert.ok(grants.every((n) => n <= DEFAULT_STREAM_WINDOW), `${grants}`);
  await consumer.cancel();
});

Deno.test("stream window: small items grow it to MAX_STREAM_WINDOW, never beyond", async () => {
  const { consumer, grants, held } = fed({ maxWindow: MAX_STREAM_WINDOW }, () => 40);
  let read = 0;
  for (; read < 2000; read++) {
    await consumer.next();
    const ahead = held() - (read + 1);
    assert.ok(ahead <= MAX_STREAM_WINDOW, `${ahead} granted ahead`);
  }
  assert.equal(grants[0], DEFAULT_STREAM_WINDOW, "it starts small");
  assert.ok(held() - read > DEFAULT_STREAM_WINDOW * 4, `it grew: ${held() - read} ahead`);
  await consumer.cancel();
});

Deno.test("stream window: large items keep it to STREAM_WINDOW_BYTES of them", async () => {
  let size = 40;
  const { consumer, held } = fed({ maxWindow: MAX_STREAM_WINDOW }, () => size);
  let read = 0;
  for (; read < 600; read++) await consumer.next();
  assert.ok(held() - read > 64, "grown while small");
  size = STREAM_WINDOW_BYTES / 8; // eight of these fit
  const switchedAt = held();
  for (; held() < switchedAt + 200; read++) await consumer.next();
  // Once what was granted for small items is read, at most eight large ones are ahead.
  for (let i = 0; i < 300; i++, read++) {
    await consumer.next();
    const ahead = held() - (read + 1);
    // Never fewer than the first window: eight of these, or sixteen.
    assert.ok(ahead <= Math.max(8, DEFAULT_STREAM_WINDOW), `${ahead} ahead`);
  }
  await consumer.cancel();
});
