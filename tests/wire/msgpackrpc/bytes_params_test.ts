// strBytesOf with message bytes that do not match the decoded params: never a throw, the
// decoded text's UTF-8 instead (the owner's request handler must not fail on it).
import assert from "node:assert/strict";
import { t } from "../../../mod.ts";
import { strBytesOf } from "../../../src/wire/msgpackrpc/bytes_params.ts";

Deno.test("a frame that is empty, cut or of another shape falls back to the decoded text", () => {
  const fields = { data: t.bytes, parts: t.array(t.bytes) };
  const expected = [new Uint8Array([0x61]), [new Uint8Array([0x62])]];
  for (
    const frame of [
      [],
      [0x94, 0x00, 0x01],
      [0x94, 0x00, 0x01, 0xa1, 0x6d, 0x91, 0xa1, 0x61], // one param where two were decoded
      [0x94, 0x00, 0x01, 0xa1, 0x6d, 0x92, 0xa1, 0x61, 0x91, 0xc4], // cut inside a bin
      [0x93, 0x01, 0x01, 0xc0], // a response
    ]
  ) {
    assert.deepEqual(strBytesOf(fields, ["a", ["b"]], { frame: new Uint8Array(frame) }), expected);
  }
});
