// The msgpack-rpc byte stream of a real TCP server: refused msgpackr records keep it in sync,
// a half-closed connection gets every answer, and map keys come back as they were sent.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { connect } from "../../mod.ts";
import { MessageDecoder, type ResponseMessage } from "../../src/wire/msgpackrpc/codec.ts";
import { demoServer, eventually, rawClient } from "./tcp_fixture.ts";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";

const text = (s: string) => [0xa0 | s.length, ...new TextEncoder().encode(s)];
/** `[0, msgid, "Demo.echo", {value: ext(0x72, 01)}]`: a msgpackr record definition. */
const recordRequest = (msgid: number) =>
  new Uint8Array([0x94, 0x00, msgid, ...text("Demo.echo"), 0x81, ...text("value"), 0xd4, 0x72, 1]);

Deno.test("a request holding a msgpackr record definition is refused; the calls after it are answered", async () => {
  const { tcp, close } = await demoServer();
  const raw = await rawClient(tcp.port);
  try {
    // One write each, so each arrives in a read of its own (the case that lost answers).
    await raw.send([0, 1, "Demo.echo", { value: "x".repeat(40) }]);
    assert.equal(((await raw.next()) as ResponseMessage).result, "x".repeat(40));
    await raw.send(recordRequest(2));
    const refused = (await raw.next()) as ResponseMessage;
    assert.equal(refused.msgid, 2);
    assert.match(String((refused.error as unknown[])[1]), /record definition/);
    await raw.send([0, 3, "Demo.echo", { value: 3 }]);
    await raw.send([0, 4, "Demo.echo", { value: 4 }]);
    const answers = [await raw.next(), await raw.next()] as ResponseMessage[];
    assert.deepEqual(answers.map((a) => [a.msgid, a.result]).sort(), [[3, 3], [4, 4]]);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("300 pipelined calls, a third of them records, in 100 writes: every one is answered", async () => {
  const { tcp, close } = await demoServer();
  const raw = await rawClient(tcp.port);
  try {
    // Each write starts with a refused record: the reads that lost answers before the fix.
    for (let i = 0; i < 100; i++) {
      await raw.send(
        recordRequest(0x7f), // msgid 127 for every refused one
        [0, 1000 + 2 * i, "Demo.echo", { value: "x".repeat(40) }],
        [0, 1001 + 2 * i, "Demo.echo", { value: i }],
      );
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await eventually(() => raw.inbox.length >= 300, "300 answers");
    const answers = raw.inbox as ResponseMessage[];
    assert.equal(answers.filter((a) => a.msgid === 0x7f && a.error !== null).length, 100);
    assert.equal(answers.filter((a) => a.msgid !== 0x7f && a.error === null).length, 200);
  } finally {
    await raw.close();
    await close();
  }
});

Deno.test("a record definition outside a request closes the connection, logged; others carry on", async () => {
  const { tcp, warnings, close } = await demoServer();
  const raw = await rawClient(tcp.port);
  const client = connect(tcp.url);
  try {
    // No msgid to answer: before the fix this was dropped without a word.
    await raw.send(new Uint8Array([0xd4, 0x72, 0x01]));
    await raw.closedByServer();
    assert.equal(raw.inbox.length, 0);
    assert.ok(warnings.some((w) => /record definition/.test(w)), warnings.join("\n"));
    assert.equal(await client.call("Demo.echo", { value: "still here" }), "still here");
  } finally {
    await client.close();
    await raw.close();
    await close();
  }
});

Deno.test("a client that shuts its write side gets every answer, those still running included", async () => {
  const { tcp, close } = await demoServer();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
  try {
    const calls: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      calls.push(
        encode(i % 10 === 0 ? [0, i, "Demo.sleep", [200, `slow ${i}`]] : [0, i, "Demo.echo", [i]]),
      );
    }
    const all = new Uint8Array(calls.reduce((n, c) => n + c.byteLength, 0));
    calls.reduce((at, c) => (all.set(c, at), at + c.byteLength), 0);
    for (let o = 0; o < all.length;) o += await conn.write(all.subarray(o));
    await conn.closeWrite(); // shutdown(SHUT_WR), as `nc -N` does
    const decoder = new MessageDecoder();
    const answers = new Map<number, unknown>();
    const buffer = new Uint8Array(65536);
    const deadline = Date.now() + 10_000;
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      decoder.push(buffer.subarray(0, n));
      for (let next = decoder.next(); next; next = decoder.next()) {
        if (next.ok && next.message.type === 1) {
          answers.set(next.message.msgid, next.message.result);
        }
      }
      assert.ok(Date.now() < deadline, "the server neither answered nor closed");
    }
    assert.equal(answers.size, 40);
    assert.equal(answers.get(10), "slow 10");
    assert.equal(answers.get(39), 39);
  } finally {
    conn.close();
    await close();
  }
});

const HALF_CLOSE_SCRIPT = `
import socket, sys, msgpack
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"".join(msgpack.packb([0, i, "Demo.echo", [i]]) for i in range(40)))
s.shutdown(socket.SHUT_WR)
unpacker, got = msgpack.Unpacker(raw=False), 0
while True:
    data = s.recv(65536)
    if not data:
        break
    unpacker.feed(data)
    got += sum(1 for _ in unpacker)
print(got)
`;

Deno.test({
  name: "python: 40 calls, then shutdown(SHUT_WR): 40 answers before the server closes",
  ignore: await ignoreUnless(peers.pythonMsgpack),
  fn: async () => {
    const { tcp, close } = await demoServer();
    try {
      const out = await new Deno.Command(PYTHON, {
        args: ["-c", HALF_CLOSE_SCRIPT, String(tcp.port)],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout).trim(), "40");
    } finally {
      await close();
    }
  },
});

const PROTO_SCRIPT = `
import json, socket, sys, msgpack
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
value = {"__proto__": 1, "inner": {"__proto__": {"x": [1]}, "constructor": 2}}
s.sendall(msgpack.packb([0, 1, "Demo.echo", [value]]))
unpacker = msgpack.Unpacker(raw=False)
while True:
    unpacker.feed(s.recv(65536))
    for message in unpacker:
        print(json.dumps({"sent": value, "got": message[3], "error": message[2]}))
        sys.exit(0)
`;

Deno.test({
  name: "python: a __proto__ map key comes back as __proto__",
  ignore: await ignoreUnless(peers.pythonMsgpack),
  fn: async () => {
    const { tcp, close } = await demoServer();
    try {
      const out = await new Deno.Command(PYTHON, {
        args: ["-c", PROTO_SCRIPT, String(tcp.port)],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const { sent, got, error } = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(error, null);
      assert.deepEqual(got, sent);
    } finally {
      await close();
    }
  },
});

Deno.test("a __proto__ key is an own key both ways through the Switchboard client; no prototype changes", async () => {
  const { tcp, close } = await demoServer();
  const client = connect(tcp.url);
  try {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "list": [{"__proto__": 1}]}');
    const got = await client.call("Demo.echo", { value }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(got), ["__proto__", "list"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(got, "__proto__")?.value, { polluted: true });
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const list = got.list as Record<string, unknown>[];
    assert.deepEqual(Object.keys(list[0]), ["__proto__"]);
  } finally {
    await client.close();
    await close();
  }
});
