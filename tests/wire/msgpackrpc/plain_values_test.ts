// Plain msgpack-rpc peers' values over real sockets, byte for byte: strs that are not
// UTF-8 at t.bytes places (Neovim sends binary Lua strings so), whole floats at any depth,
// and a typed proxy's params by position.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../../mod.ts";
import { Server } from "../../../server.ts";
import { MessageDecoder, pack } from "../../../src/wire/msgpackrpc/codec.ts";
import "../../../tcp.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const spaced = (bytes: Uint8Array) => hex(bytes).replace(/(..)(?!$)/g, "$1 ");
const utf8 = new TextEncoder();

/** msgpack written by hand, so that a str can hold any bytes. */
function str(bytes: number[] | Uint8Array): number[] {
  const body = [...bytes];
  return body.length < 32 ? [0xa0 | body.length, ...body] : [0xd9, body.length, ...body];
}
const text = (s: string) => str(utf8.encode(s));
const array = (...items: number[][]) => [0x90 | items.length, ...items.flat()];
const map = (...entries: [string, number[]][]) => [
  0x80 | entries.length,
  ...entries.flatMap(([k, v]) => [...text(k), ...v]),
];
const request = (msgid: number, method: string, params: number[]) =>
  new Uint8Array([0x94, 0x00, msgid, ...text(method), ...params]);

const Blobs = defineInterface("Blobs", {
  hex: method({
    params: {
      data: t.bytes,
      parts: t.array(t.bytes),
      meta: t.struct("Meta", { tag: t.bytes, label: t.string }),
    },
    result: t.string,
  }),
  keep: method({ params: { data: t.bytes } }),
  kept: method({ result: t.array(t.string) }),
});
const Shapes = defineInterface("Shapes", {
  point: method({
    params: { x: t.float },
    result: t.struct("Point", { x: t.float, negated: t.float, n: t.int }),
  }),
  scale: method({
    params: { by: t.float, sizes: t.array(t.float), label: t.optional(t.string) },
    result: t.float,
  }),
});

async function server() {
  const kept: string[] = [];
  const s = new Server({ logger: { error: () => {}, warn: () => {} } });
  s.register(implement(Blobs, {
    hex: ({ data, parts, meta }) =>
      JSON.stringify([hex(data), parts.map(hex), hex(meta.tag), meta.label]),
    keep: ({ data }) => void kept.push(hex(data)),
    kept: () => kept,
  }));
  s.register(implement(Shapes, {
    point: ({ x }) => ({ x, negated: -x, n: 1 }),
    scale: ({ by, sizes }) => by * sizes.length,
  }));
  const tcp = await s.listenTcp({ port: 0, hostname: "127.0.0.1" });
  return { port: tcp.port, kept, close: () => s.close() };
}

/** A plain peer on a raw socket: writes `chunks` (waiting between them), reads `count` answers. */
async function exchange(port: number, chunks: Uint8Array[], count: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      await conn.write(chunk);
    }
    const decoder = new MessageDecoder();
    const received: number[] = [];
    const answers: { msgid: number; result: unknown; error: unknown }[] = [];
    const buffer = new Uint8Array(1 << 16);
    const deadline = Date.now() + 20_000;
    while (answers.length < count && Date.now() < deadline) {
      const n = await conn.read(buffer);
      if (n === null) break;
      received.push(...buffer.subarray(0, n));
      decoder.push(buffer.subarray(0, n));
      for (let next = decoder.next(); next; next = decoder.next()) {
        if (next.ok && next.message.type === 1) {
          const { msgid, result, error } = next.message;
          answers.push({ msgid, error, result });
        }
      }
    }
    return { answers, bytes: new Uint8Array(received) };
  } finally {
    conn.close();
  }
}

const BINARY = [0x00, 0xff, 0xfe, 0x61, 0x62, 0x63]; // Neovim's "\0\255\254abc"
const BOM = [0xef, 0xbb, 0xbf, 0x61]; // a decoder would drop the BOM
const LONG = new Array(40).fill(0xff); // str 8

Deno.test("a str at a t.bytes place is the bytes it holds, at any depth, however it is read", async () => {
  const { port, kept, close } = await server();
  try {
    const byPosition = array(
      str(BINARY),
      array(str(BOM), str(LONG), str([0xc3, 0xa9])),
      map(["tag", str([0x80])], ["label", text("é")]),
    );
    const byName = map(
      ["data", str(BINARY)],
      ["parts", array(str([0xfe]))],
      ["meta", map(["label", text("x")], ["tag", str([])])],
    );
    const expected = JSON.stringify([
      "00fffe616263",
      ["efbbbf61", "ff".repeat(40), "c3a9"],
      "80",
      "é",
    ]);
    const first = request(1, "Blobs.hex", byPosition);
    const named = request(2, "Blobs.hex", byName);
    const note = new Uint8Array([0x93, 0x02, ...text("Blobs.keep"), ...array(str([0xff, 0]))]);
    // One read.
    assert.deepEqual((await exchange(port, [first], 1)).answers, [{
      msgid: 1,
      error: null,
      result: expected,
    }]);
    // Frames after others in the same read.
    assert.deepEqual(
      (await exchange(port, [new Uint8Array([...note, ...named, ...first])], 2)).answers,
      [
        { msgid: 2, error: null, result: JSON.stringify(["00fffe616263", ["fe"], "", "x"]) },
        { msgid: 1, error: null, result: expected },
      ],
    );
    // A frame cut across two reads, put together again.
    const cut = Math.floor(first.length / 2);
    assert.deepEqual(
      (await exchange(port, [first.subarray(0, cut), first.subarray(cut)], 1)).answers,
      [
        { msgid: 1, error: null, result: expected },
      ],
    );
    const [notes] = (await exchange(port, [request(3, "Blobs.kept", array())], 1)).answers;
    assert.deepEqual(notes.result, ["ff00"]);
    assert.deepEqual(kept, ["ff00"]);
  } finally {
    await close();
  }
});

Deno.test("whole t.float numbers of a struct result go out as float 64, -0 with its sign", async () => {
  const { port, close } = await server();
  try {
    const { answers, bytes } = await exchange(port, [
      new Uint8Array([
        ...request(1, "Shapes.point", array([0x01])),
        ...request(2, "Shapes.point", array([0x00])),
      ]),
    ], 2);
    assert.deepEqual(answers.map((a) => a.msgid), [1, 2]);
    // {x: 1.0, negated: -1.0, n: 1} then {x: 0.0, negated: -0.0, n: 1}: floats where
    // declared, the int stays an int.
    const x = "a1 78", negated = "a7 6e 65 67 61 74 65 64", n = "a1 6e 01";
    const map3 = "(83|de 00 03)"; // fixmap or map 16, both of 3 members
    assert.match(
      spaced(bytes),
      new RegExp(
        `^94 01 01 c0 ${map3} ${x} cb 3f f0( 00){6} ${negated} cb bf f0( 00){6} ${n} ` +
          `94 01 02 c0 ${map3} ${x} cb( 00){8} ${negated} cb 80( 00){7} ${n}$`,
      ),
    );
  } finally {
    await close();
  }
});

/** A raw msgpack-rpc server: answers `$/hello` as told, records every request's bytes. */
function recordingServer(helloOk: boolean) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const methods: string[] = [];
  const received: number[] = [];
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const decoder = new MessageDecoder();
        const buffer = new Uint8Array(1 << 16);
        try {
          for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
            received.push(...buffer.subarray(0, n));
            decoder.push(buffer.subarray(0, n));
            for (let next = decoder.next(); next; next = decoder.next()) {
              if (!next.ok || next.message.type !== 0) continue;
              const { msgid, method } = next.message;
              methods.push(method);
              const hello = method === "$/hello";
              const error = hello && !helloOk ? "no such method" : null;
              await conn.write(pack([1, msgid, error, hello ? {} : 2]));
            }
          }
        } catch {
          // closed
        }
      })();
    }
  })();
  return {
    url: `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    methods,
    /** Every byte received, as spaced hex. */
    received: () => spaced(new Uint8Array(received)),
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed
        }
      }
      await serving.catch(() => {});
    },
  };
}

Deno.test("a typed proxy sends a plain server its params by position, whole floats as float 64", async () => {
  const plain = recordingServer(false);
  const switchboard = recordingServer(true);
  const toPlain = connect(plain.url);
  const toSwitchboard = connect(switchboard.url);
  try {
    assert.equal(await toPlain.proxy(Shapes).scale({ sizes: [1, 0.5], by: 2 }), 2);
    assert.equal(await toSwitchboard.proxy(Shapes).scale({ sizes: [-0], by: 3 }), 2);
    assert.deepEqual(plain.methods, ["$/hello", "Shapes.scale"]);
    // [0, msgid, "Shapes.scale", [2.0, [1.0, 0.5]]]: declared order, no trailing nil.
    const scale = "ac 53 68 61 70 65 73 2e 73 63 61 6c 65";
    assert.match(
      plain.received(),
      new RegExp(` ${scale} 92 cb 40( 00){7} 92 cb 3f f0( 00){6} cb 3f e0( 00){6}$`),
    );
    // A Switchboard server (it answered $/hello) gets them by name: {by: 3.0, sizes: [-0.0]}.
    const named = switchboard.received();
    assert.match(named, / a2 62 79 cb 40 08 00 00 00 00 00 00 /);
    assert.match(named, / a5 73 69 7a 65 73 91 cb 80( 00){7}/);
  } finally {
    await toPlain.close();
    await toSwitchboard.close();
    await plain.close();
    await switchboard.close();
  }
});
