// What plain msgpack-rpc peers (Neovim, pynvim) send and need, at the codec level.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import {
  decodeMessage,
  encodeOutcome,
  MessageDecoder,
  MsgpackExtension,
  pack,
  toErrorShape,
  unpack,
} from "../../../src/wire/msgpackrpc/codec.ts";
import { plainError } from "../../../src/wire/msgpackrpc/plain_peer.ts";
import { t } from "../../../mod.ts";

const utf8 = new TextEncoder();

Deno.test("method names sent as bin are read as UTF-8; invalid UTF-8 is refused", () => {
  const bin = (text: string) => utf8.encode(text);
  assert.deepEqual(decodeMessage(encode([0, 1, bin("Demo.échoé"), []])), {
    type: 0,
    msgid: 1,
    method: "Demo.échoé",
    params: [],
  });
  assert.deepEqual(decodeMessage(encode([2, bin("nvim_ui_attach"), [1]])), {
    type: 2,
    method: "nvim_ui_attach",
    params: [1],
  });
  assert.throws(() => decodeMessage(encode([0, 2, new Uint8Array([0xff, 0xfe]), []])), (e) => {
    assert.equal((e as { msgid?: number }).msgid, 2);
    return true;
  });
});

Deno.test("unknown extension types round-trip byte for byte, at every payload size", () => {
  for (const [type, size] of [[0, 1], [1, 2], [2, 4], [5, 8], [-7, 16], [100, 3], [9, 300]]) {
    const data = new Uint8Array(size).map((_, i) => (i * 37 + type) & 0xff);
    const ext = new MsgpackExtension(type, data);
    const bytes = pack([ext]);
    const back = unpack(bytes) as MsgpackExtension[];
    assert.ok(back[0] instanceof MsgpackExtension);
    assert.deepEqual(back[0], ext);
    assert.deepEqual(pack(back), bytes, `type ${type}, ${size} bytes`);
  }
  // The timestamp extension (-1) still decodes as a Date.
  const when = new Date("2030-01-02T03:04:05.678Z");
  assert.deepEqual(unpack(pack(when)), when);
  assert.throws(() => new MsgpackExtension(200, new Uint8Array(1)), RangeError);
});

Deno.test("structured-clone and JS-only extensions from the wire stay opaque", () => {
  // 0x69 / 0x70 (msgpackr's object references) and 0x42 (bigint) are not interpreted.
  for (const type of [0x69, 0x70, 0x42, 0x65, 0x73]) {
    const bytes = new Uint8Array([0xd6, type, 1, 2, 3, 4]);
    const value = unpack(bytes);
    assert.ok(value instanceof MsgpackExtension, `type 0x${type.toString(16)}`);
    assert.deepEqual([...(value as MsgpackExtension).data], [1, 2, 3, 4]);
  }
});

Deno.test("a message that cannot be used fails alone; the stream goes on", () => {
  const decoder = new MessageDecoder();
  decoder.push(
    new Uint8Array([
      ...encode({ not: "a message" }),
      ...encode([0, 3, 42, []]),
      ...encode([0, 4, "ok", [new Uint8Array([1])]]),
    ]),
  );
  const results = [decoder.next(), decoder.next(), decoder.next(), decoder.next()];
  assert.equal(results[0]?.ok, false);
  assert.equal(results[0]?.ok === false && results[0].error.fatal, false);
  assert.equal(results[1]?.ok === false && results[1].error.msgid, 3);
  assert.equal(results[2]?.ok, true);
  assert.equal(results[3], undefined);
});

Deno.test("plain peers get errors as [type, message]; Switchboard peers as a map", () => {
  const app = { code: -32000, name: "NotFound", message: "gone", data: { id: 1 } };
  assert.deepEqual(plainError(app), [0, "NotFound: gone"]);
  assert.deepEqual(
    plainError({ code: -32601, name: "MethodNotFound", message: "Method not found: X" }),
    [1, "Method not found: X"],
  );
  assert.deepEqual(unpack(encodeOutcome(7, { ok: false, error: app }, true)), [
    1,
    7,
    [0, "NotFound: gone"],
    null,
  ]);
  assert.deepEqual(unpack(encodeOutcome(7, { ok: false, error: app })), [1, 7, app, null]);
  // Reading Neovim's own errors: [0|1, message] is an ApplicationError.
  assert.deepEqual(toErrorShape([0, "Vim:E492: Not an editor command: Bogus"]), {
    code: -32000,
    name: "ApplicationError",
    message: "Vim:E492: Not an editor command: Bogus",
  });
});

Deno.test("whole numbers at t.float places go out as float 64, at any depth", () => {
  const hex = (bytes: Uint8Array) =>
    [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  const top = encodeOutcome(9, { ok: true, value: 3, floats: t.float });
  assert.equal(hex(top), "94 01 09 c0 cb 40 08 00 00 00 00 00 00");
  const Point = t.struct("Point", { f: t.float, n: t.int, zs: t.array(t.float) });
  const nested = encodeOutcome(9, {
    ok: true,
    value: { f: 1, n: 1, zs: [-0, 2.5] },
    floats: Point,
  });
  assert.match(hex(nested), /a1 66 cb 3f f0 00 00 00 00 00 00 a1 6e 01 /);
  assert.match(hex(nested), /92 cb 80 00 00 00 00 00 00 00 cb 40 04 00 00 00 00 00 00$/);
  assert.deepEqual(unpack(nested), [1, 9, null, { f: 1, n: 1, zs: [-0, 2.5] }]);
});
