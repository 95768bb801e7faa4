// core/stream's table over a link of plain messages (what the worker link carries): items
// flow with credit, a broken promise is reported to a link that listens (a frame for a
// stream never given, an item beyond credit), and late frames of an ended stream are not.
import assert from "node:assert/strict";
import { errorShape } from "../../../src/core/errors.ts";
import { OpenStream } from "../../../src/core/stream/open_stream.ts";
import { type StreamMessage, StreamTable } from "../../../src/core/stream/table.ts";

/** Two tables joined directly; `b` reports violations into `problems`. */
function pair() {
  const problems: string[] = [];
  const tables: { a?: StreamTable<StreamMessage>; b?: StreamTable<StreamMessage> } = {};
  const link = (to: () => StreamTable<StreamMessage>, violation?: (p: string) => void) => ({
    encode: (m: StreamMessage) => m,
    write: (m: StreamMessage) => queueMicrotask(() => to().receive(m)),
    label: () => "the other end",
    format: "a test",
    ...(violation ? { violation } : {}),
  });
  tables.a = new StreamTable(link(() => tables.b!));
  tables.b = new StreamTable(link(() => tables.a!, (p) => problems.push(p)), { window: 4 });
  return { a: tables.a, b: tables.b, problems };
}

function open(source: AsyncIterable<unknown> | unknown[]) {
  return new OpenStream(
    "T.m",
    source,
    (v) => v,
    new AbortController(),
    (e) => errorShape("InternalError", String(e)),
  );
}

Deno.test("table: a stream flows with credit and ends normally", async () => {
  const { a, b, problems } = pair();
  let made = 0;
  async function* numbers() {
    for (let i = 0; i < 50; i++, made++) yield i;
  }
  const handle = a.produce(open(numbers()));
  assert.ok(handle.ok);
  const consumer = b.consume((handle.value as { $stream: number }).$stream, "T.m");
  const first = await consumer.next();
  assert.deepEqual(first, { done: false, value: 0 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(made <= 5, `made ${made} with a window of 4`);
  const rest: number[] = [];
  for await (const v of consumer) rest.push(v as number);
  assert.equal(rest.length, 49);
  assert.deepEqual(problems, []);
});

Deno.test("table: frames for a stream never given are violations; late ones are not", async () => {
  const { b, problems } = pair();
  b.receive({ kind: "item", stream: 7, seq: 0, item: 1 });
  b.receive({ kind: "credit", stream: 3, n: 1 });
  assert.equal(problems.length, 2);
  assert.match(problems[0], /stream item for stream 7, which it was never given/);
  assert.match(problems[1], /stream credit for stream 3/);
  // Stream 9 was given and is over: its late frames are dropped quietly.
  const consumer = b.consume(9, "T.m");
  await consumer.cancel();
  b.receive({ kind: "item", stream: 9, seq: 0, item: 1 });
  b.receive({ kind: "end", stream: 9, count: 1 });
  assert.equal(problems.length, 2);
});

Deno.test("table: items beyond the credit granted are a violation and fail the stream", async () => {
  const { b, problems } = pair();
  const consumer = b.consume(1, "T.m");
  for (let seq = 0; seq < 6; seq++) b.receive({ kind: "item", stream: 1, seq, item: seq });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /item 4 arrived beyond the credit granted/);
  const read: unknown[] = [];
  await assert.rejects(async () => {
    for await (const v of consumer) read.push(v);
  }, { name: "InvalidRequest" });
  assert.deepEqual(read, [0, 1, 2, 3]);
});
