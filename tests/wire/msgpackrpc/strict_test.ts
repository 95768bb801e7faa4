// The pre-test for msgpackr record definitions: the same answer as the plain definition
// (a fixext 1 or 2 head followed by the record type byte, anywhere), on any bytes.

import assert from "node:assert/strict";
import fc from "fast-check";
import { check } from "../../fuzz/fc_setup.ts";
import {
  holdsProtoKey,
  mayHoldRecords,
  recordDefinitionIn,
  suspectAt,
} from "../../../src/wire/msgpackrpc/strict.ts";

function naive(bytes: Uint8Array): boolean {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if ((bytes[i] === 0xd4 || bytes[i] === 0xd5) && bytes[i + 1] === 0x72) return true;
  }
  return false;
}

// Bytes drawn mostly from the three that matter, so that pairs and near misses are common.
const bytes = fc.array(
  fc.oneof(fc.constantFrom(0xd4, 0xd5, 0x72), fc.integer({ min: 0, max: 255 })),
  {
    maxLength: 64,
  },
).map((a) => new Uint8Array(a));

Deno.test("strict: the record pre-test agrees with its definition on any bytes", () => {
  check(fc.property(bytes, (b) => mayHoldRecords(b) === naive(b)), 2000);
});

Deno.test("strict: pairs at the edges, and a record definition named where it starts", () => {
  assert.equal(mayHoldRecords(new Uint8Array([0x72])), false);
  assert.equal(mayHoldRecords(new Uint8Array([0x72, 0xd4])), false);
  assert.equal(mayHoldRecords(new Uint8Array([0xd5, 0x72])), true);
  assert.equal(mayHoldRecords(new Uint8Array([1, 2, 0xd4, 0x72])), true);
  // fixext 1 of type 0x72 after a positive fixint: a record definition at offset 1.
  assert.equal(
    recordDefinitionIn(new Uint8Array([0x01, 0xd4, 0x72, 0x00])),
    "a msgpackr record definition at offset 1",
  );
  assert.equal(recordDefinitionIn(new Uint8Array([0xa2, 0xd4, 0x72])), undefined); // in a string
});

function naiveSuspect(bytes: Uint8Array): number {
  const proto = new TextEncoder().encode("__proto__");
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] === 0xd4 || bytes[i] === 0xd5) && bytes[i + 1] === 0x72) return i;
    if (proto.every((b, k) => bytes[i + k] === b)) return i;
  }
  return -1;
}

const suspectBytes = fc.array(
  fc.oneof(
    fc.constantFrom(0xd4, 0xd5, 0x72, 0x5f, 0x70, 0x72, 0x6f, 0x74),
    fc.constant(new TextEncoder().encode("__proto__")),
    fc.integer({ min: 0, max: 255 }),
  ),
  { maxLength: 48 },
).map((parts) => new Uint8Array(parts.flatMap((p) => typeof p === "number" ? [p] : [...p])));

Deno.test("strict: suspectAt names the first record head or __proto__, on any bytes", () => {
  check(fc.property(suspectBytes, (b) => suspectAt(b) === naiveSuspect(b)), 2000);
  assert.equal(suspectAt(new TextEncoder().encode("__proto_")), -1);
  assert.equal(holdsProtoKey(new TextEncoder().encode("x__proto__")), true);
});
