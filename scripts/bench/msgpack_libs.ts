/**
 * Which msgpack library the msgpack-rpc codec uses: msgpackr vs @msgpack/msgpack, in one
 * run, on the messages msgpack-rpc actually carries (small requests, responses with a
 * nested record, a 64 KiB bin payload, a timestamp), plus decoding 100 requests that
 * arrived back to back in one read. Prints ops/s per library and the ratio.
 *
 * Note: msgpackr runs with `copyBuffers` (the codec's setting: decoded bytes must not alias
 * the transport's reused read buffer), so its bin decode copies 64 KiB where
 * @msgpack/msgpack returns a view.
 *
 * ```sh
 * deno run -A scripts/bench/msgpack_libs.ts [--ms 400]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Packr, Unpackr } from "msgpackr";
import { Decoder, Encoder } from "@msgpack/msgpack";

const { values } = parseArgs({
  args: Deno.args,
  options: { ms: { type: "string", default: "400" } },
});
const budget = Number(values.ms);

// Both configured as the codec needs them: plain msgpack, timestamps as Date, bin as bytes.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
// Reused instances on both sides (the fast way to use each library).
const encoder = new Encoder({ useBigInt64: true });
const decoder = new Decoder({ useBigInt64: true });
const mm = {
  encode: (v: unknown) => encoder.encode(v),
  decode: (b: Uint8Array) => decoder.decode(b),
};

const record = {
  id: 12345,
  name: "Thingy of type A",
  tags: ["red", "green", "blue"],
  score: 0.875,
  active: true,
  owner: { id: 7, email: "ada@example.com" },
};
const cases: Record<string, unknown> = {
  "request [0,id,'Calc.add',{a,b}]": [0, 42, "Calculator.add", { a: 1, b: 2 }],
  "response with 10 records": [1, 42, null, Array.from({ length: 10 }, () => record)],
  "response with 64 KiB bin": [1, 42, null, new Uint8Array(65536).fill(7)],
  "notification with timestamp": [2, "Log.write", [new Date(), "a line of text"]],
};

function measure(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn(); // warm up
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    elapsed = performance.now() - start;
  }
  return ops / (elapsed / 1000);
}

const rows: [string, number, number][] = [];
let sink: unknown;
for (const [name, value] of Object.entries(cases)) {
  const a = packr.pack(value);
  const b = mm.encode(value);
  rows.push([
    `encode ${name}`,
    measure(() => sink = packr.pack(value)),
    measure(() => sink = mm.encode(value)),
  ]);
  rows.push([
    `decode ${name}`,
    measure(() => sink = unpackr.unpack(a)),
    measure(() => sink = mm.decode(b)),
  ]);
}
// A read with 100 pipelined requests.
const batchA = concat(
  Array.from({ length: 100 }, (_, i) => packr.pack([0, i, "Calc.add", [i, 1]])),
);
rows.push([
  "decode 100 back-to-back requests",
  measure(() => sink = unpackr.unpackMultiple(batchA)),
  measure(() => sink = [...decoder.decodeMulti(batchA)]),
]);
void sink;

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return all;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(12);
console.log(`${"case".padEnd(48)} ${"msgpackr".padStart(12)} ${"@msgpack".padStart(12)}  ratio`);
let product = 1;
for (const [name, a, b] of rows) {
  product *= a / b;
  console.log(`${name.padEnd(48)} ${fmt(a)} ${fmt(b)}  ${(a / b).toFixed(2)}×`);
}
const geomean = product ** (1 / rows.length);
console.log(
  `\ngeometric mean: msgpackr is ${geomean.toFixed(2)}× @msgpack/msgpack (ops/s, higher is faster)`,
);
console.log(
  geomean >= 1
    ? "=> msgpackr (what src/wire/msgpackrpc/codec.ts uses)"
    : "=> @msgpack/msgpack would be faster here: revisit src/wire/msgpackrpc/codec.ts",
);
