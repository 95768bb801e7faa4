// The frames between a host and a component process: values survive any split of the
// byte stream, and a component cannot make the host wait for (and buffer) a huge frame.
import assert from "node:assert/strict";
import { encodeFrame, MAX_FRAME_BYTES, readFrames } from "../../../src/host/isolate/frames.ts";

async function* chunks(bytes: Uint8Array, sizes: number[]): AsyncIterable<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.slice(at, at + n);
    at += n;
  }
}

Deno.test("frames: values cross whole whatever the reads, with structured-clone types", async () => {
  const values = [
    { type: "call", id: 1, params: { at: new Date(5), data: new Uint8Array([1, 2]) } },
    { big: 2n ** 70n, map: new Map([["a", 1]]) },
    "x".repeat(200_000),
  ];
  const all = new Uint8Array(values.map(encodeFrame).flatMap((f) => [...f]));
  for (const sizes of [[1], [3, 7], [65_536], [all.length]]) {
    const got: unknown[] = [];
    await readFrames(chunks(all, sizes), (v) => got.push(v));
    assert.deepEqual(got, values);
  }
});

Deno.test("frames: a length claim over the limit fails at once, before its bytes arrive", async () => {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  let more = 0;
  async function* claim() {
    yield head;
    for (; more < 10; more++) yield new Uint8Array(1024); // never reached
  }
  await assert.rejects(readFrames(claim(), () => {}), RangeError);
  assert.equal(more, 0);
});

Deno.test("frames: bytes that do not deserialize are an error for the reader", async () => {
  const bad = new Uint8Array([0, 0, 0, 3, 0xff, 0x00, 0x42]);
  await assert.rejects(readFrames(chunks(bad, [7]), () => {}));
});
