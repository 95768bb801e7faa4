import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeNotification,
  encodeOutcome,
  encodeOutcomeTo,
  encodeRequest,
  encodeResponse,
  MalformedMessageError,
  type Message,
  MessageDecoder,
  pack,
  responseOutcome,
  toErrorShape,
  unpack,
} from "../../../src/wire/msgpackrpc/codec.ts";
import { registerType } from "../../../src/core/idl/translators.ts";
import { t, type Type } from "../../../src/core/idl/types.ts";

function drain(decoder: MessageDecoder): Message[] {
  const out: Message[] = [];
  for (let next = decoder.next(); next; next = decoder.next()) {
    if (!next.ok) throw next.error;
    out.push(next.message);
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.byteLength;
  }
  return all;
}

Deno.test("the three message kinds round-trip in the spec's array shapes", () => {
  assert.deepEqual(unpack(encodeRequest(7, "Calc.add", [1, 2])), [0, 7, "Calc.add", [1, 2]]);
  assert.deepEqual(unpack(encodeResponse(7, null, 3)), [1, 7, null, 3]);
  assert.deepEqual(unpack(encodeResponse(7, "boom", 3)), [1, 7, "boom", null]);
  assert.deepEqual(unpack(encodeNotification("log", ["hi"])), [2, "log", ["hi"]]);
  assert.deepEqual(decodeMessage(encodeRequest(7, "Calc.add", { a: 1 })), {
    type: 0,
    msgid: 7,
    method: "Calc.add",
    params: { a: 1 },
  });
  assert.deepEqual(decodeMessage(encodeNotification("log", undefined)), {
    type: 2,
    method: "log",
    params: [],
  });
});

Deno.test("a deadline travels as the optional fifth request element", () => {
  const bytes = encodeRequest(1, "Slow.run", [], 250);
  assert.deepEqual(unpack(bytes), [0, 1, "Slow.run", [], { timeout: 250 }]);
  const message = decodeMessage(bytes);
  assert.equal(message.type, 0);
  assert.equal((message as { timeout?: number }).timeout, 250);
});

Deno.test("bytes, timestamps, maps and 64-bit integers survive a round trip", () => {
  const value = {
    bytes: new Uint8Array([0, 1, 254, 255]),
    when: new Date("2024-02-29T12:34:56.789Z"),
    map: new Map<string, unknown>([["x", 1], ["y", [true, null]]]),
    big: 2n ** 62n,
    small: 2 ** 40,
    nested: { list: [1.5, "é", new Uint8Array(0)] },
  };
  const back = unpack(pack(value)) as Record<string, unknown>;
  assert.deepEqual(back.bytes, new Uint8Array([0, 1, 254, 255]));
  assert.ok(back.bytes instanceof Uint8Array);
  assert.ok(back.when instanceof Date);
  assert.equal((back.when as Date).toISOString(), "2024-02-29T12:34:56.789Z");
  assert.deepEqual(back.map, { x: 1, y: [true, null] });
  assert.equal(back.big, 2n ** 62n);
  assert.equal(back.small, 2 ** 40);
  assert.deepEqual(back.nested, { list: [1.5, "é", new Uint8Array(0)] });
});

Deno.test("outcomes encode as responses and errors keep code, name, message, data", () => {
  const ok = decodeMessage(encodeOutcome(3, { ok: true, value: "fine" }));
  assert.deepEqual(ok, { type: 1, msgid: 3, error: null, result: "fine" });
  const failed = decodeMessage(
    encodeOutcome(4, {
      ok: false,
      error: { code: -32000, name: "NotFound", message: "no user 9", data: { id: 9 } },
    }),
  );
  assert.equal(failed.type, 1);
  assert.deepEqual(responseOutcome(failed as Extract<Message, { type: 1 }>), {
    ok: false,
    error: { code: -32000, name: "NotFound", message: "no user 9", data: { id: 9 } },
  });
});

Deno.test("undefined members are left out at any depth, as JSON does; look-alike bytes survive", () => {
  const result = (value: unknown) =>
    (decodeMessage(encodeOutcome(1, { ok: true, value })) as { result: unknown }).result;
  const decoded = result({ a: 1, b: undefined, nested: { c: undefined, d: [undefined, 2] } });
  assert.deepEqual(decoded, { a: 1, nested: { d: [null, 2] } });
  assert.equal(Object.hasOwn(decoded as object, "b"), false);
  // 0xd4 bytes that are not an undefined: in an integer, a string's UTF-8, bytes.
  const lookAlikes = { n: 212, s: "\u0500\u0514", raw: new Uint8Array([0xd4, 0, 0]), m: -44 };
  assert.deepEqual(result(lookAlikes), lookAlikes);
  // A map too large for a 16-bit size header.
  const wide: Record<string, number> = {};
  for (let i = 0; i < 70_000; i++) wide[`k${i}`] = i;
  const back = result(wide) as Record<string, number>;
  assert.equal(Object.keys(back).length, 70_000);
  assert.equal(back.k69999, 69_999);
});

Deno.test("a nil, boolean or integer result is written byte for byte as msgpackr writes it", () => {
  const written = (msgid: number, value: unknown, floats?: Type) => {
    const parts: number[] = [];
    const sink = {
      push: (bytes: Uint8Array, start: number, end: number) =>
        parts.push(...bytes.subarray(start, end)),
    };
    encodeOutcomeTo(sink, msgid, { ok: true, value, floats });
    return new Uint8Array(parts);
  };
  // Each edge of msgpack's integer formats, both signs, and what is no 32-bit integer.
  const edges = [0, 1, 31, 32, 63, 64, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1];
  const ints = [...edges, ...edges.map((n) => -n), -31, -33, -129, -32_769, -(2 ** 31)];
  const values = [...ints, -0, 2 ** 32, -(2 ** 31) - 1, 0.5, -1.25, NaN, Infinity, 2 ** 53];
  for (const msgid of [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1]) {
    for (const value of [...values, null, undefined, true, false]) {
      const expected = pack([1, msgid, null, value === undefined ? null : value]);
      assert.deepEqual(written(msgid, value), new Uint8Array(expected), `${msgid} ${value}`);
    }
  }
  // A result declared t.float stays a float 64, whole or not.
  assert.deepEqual(decodeMessage(written(5, 2, t.float)), {
    type: 1,
    msgid: 5,
    error: null,
    result: 2,
  });
  assert.equal(written(5, 2, t.float).at(-9), 0xcb);
});

Deno.test("foreign error shapes become the error model", () => {
  assert.deepEqual(toErrorShape("bad things"), {
    code: -32000,
    name: "RpcError",
    message: "bad things",
  });
  assert.deepEqual(toErrorShape([-32601, "no such method"]), {
    code: -32601,
    name: "MethodNotFound",
    message: "no such method",
  });
  assert.equal(toErrorShape({ message: "m" }).name, "ApplicationError");
  assert.equal(toErrorShape(42).message, "42");
});

Deno.test("the decoder handles messages split at every byte and coalesced", () => {
  const a = encodeRequest(1, "A.a", [new Uint8Array(300).fill(7), "x".repeat(70000)]);
  const b = encodeNotification("B.b", { when: new Date(0) });
  const c = encodeResponse(2, null, [1, 2, 3]);
  const stream = concat(a, b, c);
  // Byte by byte.
  const one = new MessageDecoder();
  const got: Message[] = [];
  for (let i = 0; i < stream.length; i++) {
    one.push(stream.subarray(i, i + 1));
    got.push(...drain(one));
  }
  assert.equal(got.length, 3);
  assert.deepEqual((got[0] as { params: unknown[] }).params[0], new Uint8Array(300).fill(7));
  assert.equal(((got[0] as { params: unknown[] }).params[1] as string).length, 70000);
  assert.deepEqual(got[1], { type: 2, method: "B.b", params: { when: new Date(0) } });
  assert.deepEqual(got[2], { type: 1, msgid: 2, error: null, result: [1, 2, 3] });
  assert.equal(one.buffered, 0);
  // All at once, and in uneven slices.
  const all = new MessageDecoder();
  all.push(stream);
  assert.equal(drain(all).length, 3);
  const sliced = new MessageDecoder();
  let count = 0;
  for (let i = 0; i < stream.length; i += 4093) {
    sliced.push(stream.subarray(i, i + 4093));
    count += drain(sliced).length;
  }
  assert.equal(count, 3);
});

Deno.test("the decoder never aliases a chunk the caller reuses after next() ran dry", () => {
  const frame = encodeRequest(9, "Echo.echo", [new Uint8Array([1, 2, 3, 4, 5, 6])]);
  const decoder = new MessageDecoder();
  const buffer = new Uint8Array(64);
  buffer.set(frame.subarray(0, 10));
  decoder.push(buffer.subarray(0, 10));
  assert.equal(decoder.next(), undefined);
  buffer.fill(0xc1); // the transport reuses its read buffer
  buffer.set(frame.subarray(10));
  decoder.push(buffer.subarray(0, frame.length - 10));
  const [message] = drain(decoder);
  assert.deepEqual(message, {
    type: 0,
    msgid: 9,
    method: "Echo.echo",
    params: [new Uint8Array([1, 2, 3, 4, 5, 6])],
  });
});

Deno.test("a 100 MB length claim is refused from its header, with the request's msgid", () => {
  const decoder = new MessageDecoder(1024 * 1024);
  // [0, 5, <bin32 claiming 100 MB> …
  decoder.push(new Uint8Array([0x94, 0x00, 0x05, 0xc6, 0x06, 0x40, 0x00, 0x00, 1, 2, 3]));
  const next = decoder.next();
  assert.ok(next && !next.ok);
  assert.ok(next.error instanceof MalformedMessageError);
  assert.match(next.error.message, /exceeds the limit of 1048576 bytes/);
  assert.equal(next.error.msgid, 5);
  assert.equal(next.error.fatal, true);
  assert.ok(decoder.buffered < 100);
  // The stream is dead: nothing more comes out of it.
  decoder.push(encodeNotification("x", []));
  assert.equal(decoder.next(), undefined);
});

Deno.test("huge element-count claims (array32, map32, str32) are refused too", () => {
  for (
    const head of [
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0xdf, 0x10, 0x00, 0x00, 0x00],
      [0x93, 0x02, 0xdb, 0x06, 0x40, 0x00, 0x00],
    ]
  ) {
    const decoder = new MessageDecoder(4096);
    decoder.push(new Uint8Array(head));
    const next = decoder.next();
    assert.ok(next && !next.ok, `refused ${head}`);
    assert.equal(next.error.fatal, true);
    assert.equal(next.error.msgid, undefined);
  }
});

Deno.test("an invalid byte loses the framing; a well-framed bad message does not", () => {
  const garbage = new MessageDecoder();
  garbage.push(new Uint8Array([0xc1, 0x00]));
  const dead = garbage.next();
  assert.ok(dead && !dead.ok && dead.error.fatal);
  assert.match(dead.error.message, /invalid byte 0xc1/);

  const decoder = new MessageDecoder();
  decoder.push(concat(pack([0, 11, 42, []]), pack("hello"), encodeRequest(12, "A.b", [])));
  const first = decoder.next();
  assert.ok(first && !first.ok);
  assert.equal(first.error.msgid, 11);
  assert.equal(first.error.fatal, false);
  assert.match(first.error.message, /method must be a string, got number 42/);
  const second = decoder.next();
  assert.ok(second && !second.ok);
  assert.equal(second.error.msgid, undefined);
  assert.match(second.error.message, /expected a msgpack-rpc message \(an array\)/);
  const third = decoder.next();
  assert.ok(third?.ok);
  assert.equal((third.message as { msgid: number }).msgid, 12);
});

Deno.test("wrong message shapes are named precisely", () => {
  const cases: [unknown, RegExp, number | undefined][] = [
    [[0, -1, "a", []], /msgid must be an unsigned 32-bit integer/, undefined],
    [[0, 1, "a"], /a request has 4 elements/, 1],
    [[0, 2, "a", 5], /params must be an array \(or a map\), got number 5/, 2],
    [[1, 2, null], /a response is \[1, msgid, error, result\]/, undefined],
    [[2, 7, []], /a notification is \[2, method, params\]/, undefined],
    [[3, 1, 2, 3], /unknown message type number 3/, undefined],
    [{ a: 1 }, /expected a msgpack-rpc message/, undefined],
  ];
  for (const [value, pattern, msgid] of cases) {
    assert.throws(() => decodeMessage(pack(value)), (error: unknown) => {
      assert.ok(error instanceof MalformedMessageError);
      assert.match(error.message, pattern);
      assert.equal(error.msgid, msgid);
      return true;
    });
  }
});

Deno.test("classes registered with registerType travel as msgpack extension types", () => {
  class Celsius {
    constructor(readonly degrees: number) {}
  }
  const type = registerType({
    name: "test.msgpackrpc.Celsius",
    class: Celsius,
    encode: (c) => c.degrees,
    decode: (d) => new Celsius(d as number),
  });
  const bytes = encodeRequest(1, "Weather.set", [{ at: new Celsius(21.5) }]);
  const message = decodeMessage(bytes) as { params: [{ at: Celsius }] };
  assert.ok(message.params[0].at instanceof Celsius);
  assert.equal(message.params[0].at.degrees, 21.5);
  // On the wire: an ext whose type is the registered number.
  assert.ok(bytes.includes(type.ext));
});

Deno.test("in one chunk: messages before an oversized complete frame pass, then it is refused", () => {
  const decoder = new MessageDecoder(1024);
  decoder.push(concat(
    encodeRequest(1, "A.a", []),
    encodeRequest(2, "A.b", ["x".repeat(2000)]),
    encodeRequest(3, "A.c", []),
  ));
  const first = decoder.next();
  assert.ok(first?.ok);
  assert.equal((first.message as { msgid: number }).msgid, 1);
  const second = decoder.next();
  assert.ok(second && !second.ok);
  assert.equal(second.error.msgid, 2);
  assert.equal(second.error.fatal, true);
  assert.equal(decoder.next(), undefined);
});

Deno.test("a chunk after a drained one is cut from its own start, whatever took the last frame", () => {
  const decoder = new MessageDecoder();
  const record = new Uint8Array([0x94, 0x00, 0x02, 0xa1, 0x6d, 0x81, 0xa1, 0x76, 0xd4, 0x72, 0x01]);
  decoder.push(encodeRequest(1, "Echo.any", ["x".repeat(40)]));
  assert.equal(drain(decoder).length, 1);
  // Before the fix the scan of this chunk began at the previous chunk's end offset.
  decoder.push(record);
  const refused = decoder.next();
  assert.ok(refused && !refused.ok && refused.error.msgid === 2 && !refused.error.fatal);
  decoder.push(encodeRequest(3, "m", []));
  assert.deepEqual(drain(decoder).map((m) => m.type === 0 && m.msgid), [3]);
});

Deno.test("maps and arrays beyond the message's budget are refused before decoding; the next message follows", () => {
  const count = 200_000; // a budget of 65,536 + 25,001 for its 200,011 bytes
  const head = [0x94, 0x00, 0x05, 0xa1, 0x6d, 0x91, 0xdd];
  const bomb = new Uint8Array(head.length + 4 + count).fill(0x90);
  bomb.set(head);
  new DataView(bomb.buffer).setUint32(head.length, count);
  const decoder = new MessageDecoder();
  for (let o = 0; o < bomb.length; o += 65536) decoder.push(bomb.subarray(o, o + 65536));
  decoder.push(encodeRequest(6, "m", []));
  const refused = decoder.next();
  assert.ok(refused && !refused.ok);
  assert.equal(refused.error.msgid, 5);
  assert.equal(refused.error.fatal, false);
  assert.match(refused.error.message, /holds 200003 maps and arrays \(limit 90537\)/);
  assert.deepEqual(drain(decoder).map((m) => m.type === 0 && m.msgid), [6]);
});

Deno.test("a __proto__ key decodes as an own key, in one chunk with other messages", () => {
  const decoder = new MessageDecoder();
  const value = JSON.parse('{"a": 1, "__proto__": {"b": [{"__proto__": 2}]}}');
  decoder.push(
    new Uint8Array([
      ...encodeRequest(1, "m", [1]),
      ...encodeRequest(2, "m", [value]),
      ...encodeRequest(3, "m", [3]),
    ]),
  );
  const messages = drain(decoder) as { params: unknown[] }[];
  assert.equal(messages.length, 3);
  const got = messages[1].params[0] as Record<string, unknown>;
  assert.deepEqual(Object.keys(got), ["a", "__proto__"]);
  assert.equal(Object.getPrototypeOf(got), Object.prototype);
  assert.deepEqual(JSON.stringify(got), JSON.stringify(value));
});
