// Hostile input against a real `switchboard serve` process: what used to freeze or kill it.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { MessageDecoder } from "../../src/wire/msgpackrpc/codec.ts";
import { msgpackSocket } from "../fixtures/msgpack_socket.ts";
import { startServe } from "../fixtures/serve_process.ts";

/** The 547-byte reference message: msgpackr shared references nested 40 deep. */
function referenceBomb(): Uint8Array {
  const u32 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const x = (k: number): number[] =>
    k === 0
      ? [0xd6, 0x69, ...u32(0), 0x91, 0x01]
      : [0xd6, 0x69, ...u32(k), 0x92, ...x(k - 1), 0xd6, 0x70, ...u32(k - 1)];
  const text = (s: string) => [0xa0 | s.length, ...new TextEncoder().encode(s)];
  return new Uint8Array([0x94, 0x00, 0x01, ...text("Echo.any"), 0x81, ...text("value"), ...x(40)]);
}

Deno.test("hostile: the 547-byte shared-reference bomb is answered at once; other calls carry on", async () => {
  const server = await startServe();
  const raw = await msgpackSocket(server.tcp!);
  try {
    const bomb = referenceBomb();
    assert.equal(bomb.byteLength, 547);
    const sent = performance.now();
    await raw.write(bomb);
    await raw.waitFor(() => raw.responses.has(1), 5000);
    const took = raw.responses.get(1)!.at - sent;
    console.log(`bomb answered in ${took.toFixed(1)} ms`);
    // Before the fix it was never answered (the process froze, even for SIGTERM).
    assert.ok(took < 1000, `answered after ${took} ms`);
    const response = await fetch(`${server.http}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Calculator.add", params: [2, 3] }),
    });
    assert.equal((await response.json()).result, 5);
    await raw.write(encode([0, 2, "Echo.echo", ["after the bomb"]]));
    await raw.waitFor(() => raw.responses.has(2), 5000);
    assert.equal(raw.responses.get(2)!.result, "after the bomb");
  } finally {
    await raw.close();
    await server.stop();
    assert.equal(await server.exited, 0, server.output());
  }
});

Deno.test("hostile: the TCP listener accepts again after running out of file descriptors", async () => {
  const server = await startServe(["--http", "off"], {}, { ulimitFiles: 96 });
  const { hostname, port } = new URL(server.tcp!);
  const hogs: Deno.Conn[] = [];
  try {
    // Fill the server's descriptor table: accept() then fails with EMFILE.
    for (let i = 0; i < 150; i++) hogs.push(await Deno.connect({ hostname, port: Number(port) }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.match(server.output(), /Too many open files|os error 24/);
    for (const conn of hogs.splice(0)) conn.close();
    // Before the fix the accept loop took EMFILE for "closed" and never accepted again.
    const raw = await msgpackSocket(server.tcp!);
    try {
      await raw.write(encode([0, 1, "Echo.echo", ["accepted again"]]));
      await raw.waitFor(() => raw.responses.has(1), 10_000);
      assert.equal(raw.responses.get(1)!.result, "accepted again");
    } finally {
      await raw.close();
    }
  } finally {
    for (const conn of hogs) conn.close();
    await server.stop();
  }
});

Deno.test("hostile: memory stays flat across 100,000 calls whose handler listens on ctx.signal", async () => {
  const server = await startServe(["--http", "off"]);
  const raw = await msgpackSocket(server.tcp!, 100);
  // Echo.sleep adds an abort listener to ctx.signal; a plain peer's calls have no deadline.
  const burst = async (from: number, calls: number) => {
    const target = raw.count + calls;
    for (let i = 0; i < calls; i += 1000) {
      const frames = [];
      for (let j = 0; j < 1000; j++) frames.push(encode([0, from + i + j, "Echo.sleep", [0]]));
      const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
      let at = 0;
      for (const f of frames) {
        all.set(f, at);
        at += f.byteLength;
      }
      await raw.write(all);
      await raw.waitFor(() => raw.count >= target - calls + i + 1000, 30_000);
    }
  };
  try {
    // Warm up until the heap has grown to its working size (code compiled, buffers grown).
    await burst(1, 100_000);
    const before = await server.rss();
    await burst(200_000, 100_000);
    const after = await server.rss();
    const grown = (after - before) / (1 << 20);
    console.log(`RSS ${(before / (1 << 20)).toFixed(1)} → ${(after / (1 << 20)).toFixed(1)} MiB`);
    // Before the fix every call's listener stayed on one shared signal: +140 MB here.
    assert.ok(grown < 40, `RSS grew by ${grown.toFixed(1)} MiB`);
  } finally {
    await raw.close();
    await server.stop();
  }
});

Deno.test("hostile: $/hello ids and $/subscribe topics by the 100,000 leave memory flat once their connections close", async () => {
  const server = await startServe(["--http", "off"]);
  const { hostname, port } = new URL(server.tcp!);
  // One connection says hello under `perConnection` new ids (each renaming the connection)
  // and subscribes to as many new topics, then closes.
  const connection = async (round: number, c: number, perConnection: number) => {
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const frames: Uint8Array[] = [];
    for (let i = 0; i < perConnection; i++) {
      const id = `peer-${round}-${c}-${i}-${"x".repeat(40)}`;
      frames.push(encode([0, 2 * i, "$/hello", [{ id }]]));
      frames.push(encode([0, 2 * i + 1, "$/subscribe", [`topic-${id}`]]));
    }
    const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.byteLength;
    }
    const decoder = new MessageDecoder(1 << 20);
    let answered = 0;
    const reading = (async () => {
      const buffer = new Uint8Array(1 << 16);
      while (answered < 2 * perConnection) {
        const n = await conn.read(buffer);
        if (n === null) break;
        decoder.push(buffer.subarray(0, n));
        for (let next = decoder.next(); next; next = decoder.next()) {
          if (next.ok && next.message.type === 1) {
            assert.equal(next.message.error, null);
            answered++;
          }
        }
      }
    })();
    for (let o = 0; o < all.length;) o += await conn.write(all.subarray(o));
    await reading;
    conn.close();
    assert.equal(answered, 2 * perConnection);
  };
  const round = async (r: number) => {
    // 100 connections of 1,000 ids each, ten at a time.
    for (let c = 0; c < 100; c += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => connection(r, c + k, 1000)));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  };
  try {
    // The heap takes a few rounds to reach its working size (garbage waits for a major
    // collection), so compare the peaks of three warm-up rounds with those of six more.
    const peak = async (rounds: number[]) => {
      let most = 0;
      for (const r of rounds) {
        await round(r);
        most = Math.max(most, await server.rss());
      }
      return most;
    };
    const before = await peak([0, 1, 2]);
    const after = await peak([3, 4, 5, 6, 7, 8]);
    const grown = (after - before) / (1 << 20);
    console.log(
      `RSS peak ${(before / (1 << 20)).toFixed(1)} → ${(after / (1 << 20)).toFixed(1)} MiB`,
    );
    // Before the fix every id kept a peer handle and every topic its entry: about +100 MiB
    // per round of 100,000, +500 MiB here.
    assert.ok(grown < 80, `RSS grew by ${grown.toFixed(1)} MiB`);
  } finally {
    await server.stop();
  }
});
