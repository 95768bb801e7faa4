// What one msgpack-rpc connection may make a real server hold: decoded values bounded by
// the bytes that carry them, answers bounded by what the peer reads.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import type { TcpOptions } from "../../src/server/tcp.ts";
import { MessageDecoder, type ResponseMessage } from "../../src/wire/msgpackrpc/codec.ts";
import { startServe } from "../fixtures/serve_process.ts";
import { eventually, rawClient } from "./tcp_fixture.ts";

const text = (s: string) => [0xa0 | s.length, ...new TextEncoder().encode(s)];

/** `[0, msgid, "Echo.any", {value: [{}, {}, …]}]` with `count` empty maps: one byte each. */
function emptyMaps(msgid: number, count: number): Uint8Array {
  const head = [0x94, 0x00, msgid, ...text("Echo.any"), 0x81, ...text("value"), 0xdd];
  const bytes = new Uint8Array(head.length + 4 + count).fill(0x80);
  bytes.set(head);
  new DataView(bytes.buffer).setUint32(head.length, count);
  return bytes;
}

/** Reads one response from a raw socket (bounded). */
async function response(conn: Deno.Conn, ms = 60_000): Promise<ResponseMessage> {
  const decoder = new MessageDecoder();
  const buffer = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("closed before a response");
      decoder.push(buffer.subarray(0, n));
      const next = decoder.next();
      if (next?.ok && next.message.type === 1) return next.message;
    }
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("four 15 MB messages of empty maps are refused from their headers; memory stays flat", async () => {
  const server = await startServe(["--http", "off"]);
  const { hostname, port } = new URL(server.tcp!);
  const conns = await Promise.all(
    [1, 2, 3, 4].map(() => Deno.connect({ hostname, port: Number(port) })),
  );
  try {
    const before = await server.rss();
    const bomb = emptyMaps(7, 15_000_000);
    const answers = await Promise.all(conns.map(async (conn) => {
      const answer = response(conn);
      for (let o = 0; o < bomb.length;) o += await conn.write(bomb.subarray(o));
      return await answer;
    }));
    const grown = (await server.rss()) - before;
    console.log(`RSS grew ${(grown / 2 ** 20).toFixed(0)} MiB for 4 × 15 MB`);
    for (const answer of answers) {
      assert.equal(answer.msgid, 7);
      assert.match(
        String((answer.error as unknown[])[1]),
        /holds 15000003 maps and arrays \(limit 1048576\)/,
      );
    }
    // Before the fix each was decoded: +2.27 GB. Now each costs its buffered bytes.
    assert.ok(grown < 400 * 2 ** 20, `RSS grew ${grown} bytes`);
    // The connection is in sync after the refused message.
    await conns[0].write(encode([0, 8, "Calculator.add", [2, 3]]));
    assert.equal((await response(conns[0])).result, 5);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // closed by the timeout
      }
    }
    await server.stop();
  }
});

Deno.test("many maps are accepted while the message's size covers them", async () => {
  const server = await startServe(["--http", "off"]);
  const raw = await rawClient(Number(new URL(server.tcp!).port));
  try {
    // 100,000 maps of 16 bytes each: within the budget.
    const value = Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: "abcdefgh" }));
    await raw.send([0, 1, "Echo.any", { value }]);
    const answer = (await raw.next(30_000)) as ResponseMessage;
    assert.equal(answer.error, null);
    assert.equal((answer.result as unknown[]).length, 100_000);
  } finally {
    await raw.close();
    await server.stop();
  }
});

const Big = defineInterface("Big", {
  blob: method({ params: { n: t.int }, result: t.string }),
  later: method({ params: { n: t.int }, result: t.string }),
});
const MiB = "x".repeat(1024 * 1024);

/** A server whose `Big.blob` answers 1 MiB to a request of a few bytes; counts its calls. */
async function bigServer(options: TcpOptions = {}) {
  const warnings: string[] = [];
  const calls = { blob: 0, later: 0 };
  const server = new Server({
    logger: { error: () => {}, warn: (message) => void warnings.push(message) },
  });
  server.register(implement(Big, {
    blob: () => (calls.blob++, MiB),
    later: async ({ n }) => {
      calls.later++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return MiB.slice(0, n);
    },
  }));
  const tcp = await server.listenTcp({ port: 0 }, options);
  return { tcp, calls, warnings, close: () => server.close() };
}

/** Writes `count` calls of `method` in one write, and never reads. */
async function unreadCalls(port: number, method: string, count: number, n = 0) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const parts = Array.from({ length: count }, (_, i) => encode([0, i, method, [n]]));
  const all = new Uint8Array(parts.reduce((size, p) => size + p.byteLength, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.byteLength), 0);
  for (let o = 0; o < all.length;) o += await conn.write(all.subarray(o));
  return conn;
}

/** Waits until `value()` stops changing for a second (bounded). */
async function settled(value: () => number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 30 && value() !== last; i++) {
    last = value();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return value();
}

Deno.test("a peer that does not read: its requests wait once 1 MiB of answers is unwritten", async () => {
  const { tcp, calls, close } = await bigServer();
  const conn = await unreadCalls(tcp.port, "Big.blob", 1000);
  try {
    // Before the fix a whole read of requests was answered first: hundreds of MiB held.
    const answered = await settled(() => calls.blob);
    assert.ok(answered < 100, `${answered} answers of 1 MiB taken in for a peer that reads none`);
    assert.ok(answered > 0);
  } finally {
    conn.close();
  }
  // Reading again (a fresh connection) is served at once.
  const again = await unreadCalls(tcp.port, "Big.blob", 1);
  try {
    assert.equal((await response(again)).result, MiB);
  } finally {
    again.close();
    await close();
  }
});

Deno.test("answers of running calls past the budget drop the peer that reads none, logged", async () => {
  const maxMessageBytes = 1024 * 1024;
  const { tcp, calls, warnings, close } = await bigServer({
    maxMessageBytes,
    maxUnwrittenBytes: 64 * 1024,
  });
  const conn = await unreadCalls(tcp.port, "Big.later", 200, 256 * 1024);
  try {
    // 200 × 256 KiB = 50 MiB would be held; the peer is dropped past 1 MiB + 64 KiB.
    await eventually(
      () => warnings.some((w) => /does not read its answers/.test(w)),
      "the drop to be logged",
    );
    assert.equal(calls.later, 200);
    assert.match(warnings.join("\n"), /limit 1114112/);
  } finally {
    conn.close();
    await close();
  }
});
