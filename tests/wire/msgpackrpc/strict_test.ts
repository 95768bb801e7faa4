// The pre-test for msgpackr record definitions: the same answer as the plain definition
// (a fixext 1 or 2 head followed by the record type byte, anywhere), on any bytes.

import assert from "node:assert/strict";
import fc from "fast-check";
import { check } from "../../fuzz/fc_setup.ts";
import { mayHoldRecords, recordDefinitionIn } from "../../../src/wire/msgpackrpc/strict.ts";

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
