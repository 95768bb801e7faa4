// The write queue: batches gathered into one buffer, two buffers taking turns.

import assert from "node:assert/strict";
import { WriteQueue } from "../../../src/wire/msgpackrpc/write_queue.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("pushed slices, small and large, come out as one batch in order", () => {
  const queue = new WriteQueue();
  const large = new Uint8Array(5000).map((_, i) => i & 0xff);
  queue.push(bytes(1, 2, 3));
  queue.push(bytes(9, 4, 5, 9), 1, 3);
  queue.push(large);
  queue.push(large, 10, 4010);
  assert.equal(queue.size, 3 + 2 + 5000 + 4000);
  const out = queue.take();
  assert.deepEqual(out.subarray(0, 5), bytes(1, 2, 3, 4, 5));
  assert.deepEqual(out.subarray(5, 5005), large);
  assert.deepEqual(out.subarray(5005), large.subarray(10, 4010));
  assert.equal(queue.size, 0);
});

Deno.test("a taken batch is left alone while the next one fills", () => {
  const queue = new WriteQueue();
  queue.push(bytes(1, 1, 1));
  const first = queue.take();
  queue.push(bytes(2, 2)); // while `first` is being written
  assert.deepEqual(first, bytes(1, 1, 1));
  const second = queue.take(); // `first` is written by now: its buffer may be refilled
  queue.push(bytes(3));
  assert.deepEqual(second, bytes(2, 2));
  assert.deepEqual(queue.take(), bytes(3));
});

Deno.test("a burst larger than what is kept still arrives whole; clear drops the rest", () => {
  const queue = new WriteQueue();
  const burst = new Uint8Array(200_000).fill(7);
  for (let i = 0; i < 3; i++) queue.push(burst);
  const out = queue.take();
  assert.equal(out.byteLength, 600_000);
  assert.ok(out.every((b) => b === 7));
  queue.push(bytes(1));
  queue.clear();
  assert.equal(queue.size, 0);
  assert.equal(queue.take().byteLength, 0);
});
