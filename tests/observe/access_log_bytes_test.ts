// The access log's two outputs agree: lines written as bytes for a sink (the common line
// assembled from cached parts, its time patched in place) say exactly what the text
// lines say, across milliseconds, seconds and minutes, and every line is whole.

import assert from "node:assert/strict";
import { AccessLog } from "../../src/observe/access_log.ts";
import { LineBuffer } from "../../src/observe/line_buffer.ts";
import type { Call, Outcome } from "../../src/core/context.ts";

const OK: Outcome = { ok: true, value: 1 };
const FAILED: Outcome = {
  ok: false,
  error: { code: -32602, name: "InvalidParams", message: "bad" },
};

function both() {
  const text: string[] = [];
  const batches: string[] = [];
  const viaText = new AccessLog({ write: (t) => text.push(t) });
  const viaBytes = new AccessLog({
    sink: (bytes) => batches.push(new TextDecoder().decode(bytes)),
  });
  const lines = () => {
    viaBytes.flush();
    return { text: text.join("").split("\n"), bytes: batches.join("").split("\n") };
  };
  return { viaText, viaBytes, lines, batches };
}

Deno.test("access log: byte lines equal text lines, times included, across minutes", () => {
  const { viaText, viaBytes, lines } = both();
  const base = performance.now();
  const calls: [Call, Outcome, number, number][] = [];
  // 130 s of readings 7.3 ms apart, with method, peer, id, duration and outcome varying.
  for (let i = 0, at = base; at < base + 130_000; i++, at += 7.3) {
    const call: Call = {
      method: i % 50 === 0 ? "Other.method" : "Bench.add",
      protocol: i % 70 === 0 ? "jsonrpc" : "msgpack-rpc",
      remote: i % 90 === 0 ? "10.0.0.2:5" : "127.0.0.1:45678",
      id: i % 33 === 0 ? `s${i}` : i * 977,
    };
    if (i % 41 === 0) call.notification = true;
    if (i % 57 === 0) call.caller = { id: "alice" };
    calls.push([call, i % 29 === 0 ? FAILED : OK, (i % 2000) * 0.0371, at]);
  }
  for (const [call, outcome, ms, at] of calls) {
    viaText.record(call, ms, outcome, at);
    viaBytes.record(call, ms, outcome, at);
  }
  const { text, bytes } = lines();
  assert.equal(bytes.length, text.length);
  let firstOffset: number | undefined;
  for (let i = 0; i < calls.length; i++) {
    const t = JSON.parse(text[i]), b = JSON.parse(bytes[i]);
    // The two logs read the clocks' offset separately: their times may differ by 1 ms.
    assert.ok(Math.abs(Date.parse(t.time) - Date.parse(b.time)) <= 1, `${t.time} ${b.time}`);
    assert.equal(new Date(Date.parse(b.time)).toISOString(), b.time);
    delete t.time;
    delete b.time;
    assert.deepEqual(b, t, `line ${i}`);
    // The time follows the readings: same offset from each (to the millisecond).
    const offset = Date.parse(JSON.parse(bytes[i]).time) - calls[i][3];
    firstOffset ??= offset;
    assert.ok(Math.abs(offset - firstOffset) <= 2, `line ${i}: drift ${offset - firstOffset}`);
  }
});

Deno.test("access log: a sink gets whole lines in each batch, large ones too", () => {
  const { viaBytes, batches, lines } = both();
  const long = "M".repeat(5000);
  for (let i = 0; i < 2000; i++) {
    viaBytes.record({ method: i % 100 === 0 ? `X.${long}` : "A.b", id: i }, 0.5, OK, 1000 + i);
  }
  lines();
  assert.ok(batches.length > 2, `${batches.length} batches`);
  for (const batch of batches) assert.ok(batch.endsWith("}\n"), "batch ends with a whole line");
  const all = batches.join("").trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(all.map((l) => l.id), Array.from({ length: 2000 }, (_, i) => i));
});

Deno.test("line buffer: a buffer grown for one huge line is let go once it is written", () => {
  const sizes: number[] = [];
  const lines = new LineBuffer((bytes) => sizes.push(bytes.buffer.byteLength));
  lines.text(`${"m".repeat(1_000_000)}\n`); // a caller's megabyte-long method name, say
  lines.flush();
  lines.text("small\n");
  lines.flush();
  assert.ok(sizes[0] >= 1_000_000);
  assert.ok(sizes[1] < 100_000, `still ${sizes[1]} bytes`);
});

Deno.test("line buffer: a numbers line spells every width of id and duration as JSON does", () => {
  const out: string[] = [];
  const lines = new LineBuffer((bytes) => out.push(new TextDecoder().decode(bytes)));
  const enc = (text: string) => new TextEncoder().encode(text);
  const widths = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 123456, 1234567, 98765432];
  const numbers = [...widths, 999999999, 1000000000, 2 ** 31 - 1];
  for (const id of numbers) {
    for (const micros of numbers) {
      lines.numbersLine(enc(`{"id":`), id, enc(`,"ms":`), micros, enc("}\n"));
    }
  }
  lines.flush();
  const parsed = out.join("").trimEnd().split("\n").map((l) => JSON.parse(l));
  let i = 0;
  for (const id of numbers) {
    for (const micros of numbers) {
      assert.deepEqual(parsed[i++], { id, ms: micros / 1000 }, `${id} ${micros}`);
    }
  }
});
