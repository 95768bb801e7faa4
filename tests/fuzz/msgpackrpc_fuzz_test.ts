/**
 * Property tests of the msgpack-rpc codec: any bytes and any mutated encoding (extension
 * types and structured-clone reference graphs included) are refused with
 * MalformedMessageError only; decoding is bounded by the input's size; the stream decoder
 * gives the same messages however the bytes are split, and after garbage a valid message
 * decodes unless the garbage was reported fatal; encoded messages decode as they were.
 */

import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeRequest,
  MalformedMessageError,
  MessageDecoder,
} from "../../src/wire/msgpackrpc/codec.ts";
import { Rng } from "../../scripts/fuzz/rng.ts";
import { messageBytes, Out, writeGraph } from "../../scripts/fuzz/msgpack_gen.ts";
import { frameFate } from "../../scripts/fuzz/msgpack_frame.ts";
import { concat } from "../../scripts/fuzz/mutate_bytes.ts";
import { check, fc, within } from "./fc_setup.ts";

const MAX = 1 << 20;

function onlyMalformed(bytes: Uint8Array): unknown {
  try {
    return within(300, "decodeMessage", () => decodeMessage(bytes));
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
  }
}

/** Mutated messages from the fuzz generator (ext types, graphs, bombs, byte mutations). */
const mutated = fc.integer().map((seed) => messageBytes(new Rng(seed), 1));

Deno.test("decodeMessage: any bytes decode or throw MalformedMessageError, quickly", () => {
  check(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) => {
      onlyMalformed(bytes);
    }),
    500,
  );
});

/** Counts the nodes of a decoded value, giving up past `limit` (shared nodes count each time). */
function nodes(value: unknown, limit: number): number {
  let count = 0;
  const stack = [value];
  while (stack.length && count <= limit) {
    const v = stack.pop();
    count++;
    if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof Map) { for (const [k, x] of v) stack.push(k, x); }
    else if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) {
      stack.push(...Object.values(v));
    }
  }
  return count;
}

Deno.test("decodeMessage: a decoded value has no more nodes than its bytes allow (no reference bombs)", () => {
  // DESIGN.md: the work spent on a value is bounded by its size on the wire. A value whose
  // node count outgrows its bytes (msgpackr's ext 0x69/0x70 references) costs every later
  // walk (validation, re-encoding) exponential time.
  const graphs = fc.integer().map((seed) => {
    const out = new Out();
    out.bytes(Uint8Array.of(0x94, 0x00, 0x01, 0xa8, ...new TextEncoder().encode("Echo.any"), 0x91));
    writeGraph(new Rng(seed), out);
    return out.done();
  });
  check(
    fc.property(fc.oneof(graphs, mutated), (bytes) => {
      const message = onlyMalformed(bytes);
      if (message === undefined) return;
      const limit = 4 * bytes.length + 16;
      assert.ok(
        nodes(message, limit) <= limit,
        `${bytes.length} bytes decoded into over ${limit} nodes`,
      );
    }),
    300,
  );
});

function drain(decoder: MessageDecoder): string[] {
  const out: string[] = [];
  for (let d = decoder.next(); d; d = decoder.next()) {
    out.push(
      d.ok
        ? `ok ${JSON.stringify(d.message, (_, v) => typeof v === "bigint" ? `${v}n` : v)}`
        : `error fatal=${d.error.fatal} msgid=${d.error.msgid}`,
    );
  }
  return out;
}

/** Garbage made of whole frames (padded as the fuzzer pads them), then a valid request. */
const garbageThenValid = fc.tuple(
  fc.array(fc.oneof(mutated, fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }),
  fc.array(fc.nat(), { maxLength: 6 }),
)
  .map(([frames, cuts]) => {
    const parts = frames.map((f) => {
      const fate = frameFate(f, 4096, MAX);
      return fate.kind === "complete" ? concat(f, new Uint8Array(fate.padding)) : f;
    });
    const garbage = concat(...parts);
    return { garbage, whole: frameFate(garbage, 0, MAX).kind === "complete", cuts };
  });

Deno.test("MessageDecoder: same results however the bytes are split; after garbage a valid message decodes or the error is fatal", () => {
  const valid = encodeRequest(4242, "Calculator.add", [2, 3]).slice();
  check(
    fc.property(garbageThenValid, ({ garbage, whole, cuts }) => {
      const stream = concat(garbage, valid);
      const once = new MessageDecoder(MAX);
      once.push(stream);
      const expected = drain(once);
      const split = new MessageDecoder(MAX);
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const got: string[] = [];
      let last = 0;
      for (const p of [...points, stream.length]) {
        split.push(stream.slice(last, p));
        got.push(...drain(split));
        last = p;
      }
      assert.deepEqual(got, expected, "chunking changed what was decoded");
      if (!whole) return; // an incomplete frame may legitimately swallow the valid request
      const fatal = expected.some((e) => e.startsWith("error fatal=true"));
      assert.ok(
        fatal || expected.at(-1)?.includes('"msgid":4242'),
        `valid request lost after garbage: ${expected.slice(-3).join(" | ")}`,
      );
    }),
    100,
  );
});

/** Values msgpack carries exactly. */
const msgValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.string(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 20 }).map((b) => new Uint8Array(b)),
    fc.date({ noInvalidDate: true, min: new Date(0) }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string().filter((k) => k !== "__proto__"), tie("value"), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
})).value;

Deno.test("encodeRequest then decodeMessage gives the same request", () => {
  check(
    fc.property(
      fc.nat({ max: 0xffff_ffff }),
      fc.string(),
      fc.array(msgValue, { maxLength: 4 }),
      (msgid, method, params) => {
        assert.deepStrictEqual(decodeMessage(encodeRequest(msgid, method, params)), {
          type: 0,
          msgid,
          method,
          params,
        });
      },
    ),
  );
});
