// A method whose param and result are both streams, over msgpack-rpc on TCP: items flow
// both ways at once on one connection.
import assert from "node:assert/strict";
import {
  Client,
  connect,
  defineInterface,
  implement,
  type InterfaceProxy,
  method,
  t,
} from "../../mod.ts";
import { LocalTransport, Router, Server } from "../../server.ts";
import "../../src/adapters/deno/tcp_client.ts";

const Pipe = defineInterface("Pipe", {
  double: method({ params: { values: t.stream(t.int) }, result: t.stream(t.int) }),
});

const pipe = implement(Pipe, {
  async *double({ values }) {
    for await (const v of values) yield v * 2;
  },
});

/** The caller's side: it sends the next value only once the doubled one before came back. */
async function lockstep(proxy: InterfaceProxy<typeof Pipe>, n: number): Promise<number[]> {
  let release: (() => void) | undefined;
  let sent = 0;
  async function* values() {
    for (; sent < n; sent++) {
      yield sent;
      await new Promise<void>((resolve) => release = resolve);
    }
  }
  const got: number[] = [];
  for await (
    const v of (proxy as { double(p: unknown): AsyncIterable<number> }).double({ values: values() })
  ) {
    got.push(v);
    // The answer to item k arrived before item k + 1 was made: both directions are live.
    assert.equal(sent, got.length - 1);
    release?.();
  }
  return got;
}

Deno.test("tcp: a stream param and a stream result flow at once (lockstep echo)", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(pipe);
  const tcp = await server.listenTcp({ port: 0 });
  const client = connect(tcp.url);
  try {
    assert.deepEqual(
      await lockstep(client.proxy(Pipe), 20),
      Array.from({ length: 20 }, (_, i) => i * 2),
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("in process: a stream param and a stream result flow at once", async () => {
  const router = new Router({ logger: { error: () => {}, warn: () => {} } });
  router.register(pipe);
  const client = new Client(new LocalTransport(router));
  assert.deepEqual(
    await lockstep(client.proxy(Pipe), 10),
    Array.from({ length: 10 }, (_, i) => i * 2),
  );
});
