// The WebSocket client reading streams from a server that breaks the rules (a raw
// Deno.upgradeWebSocket server speaking JSON-RPC by hand): more items than granted, an end
// whose count is not what came, a socket cut mid-stream — each fails the stream, never ends
// it as if whole; and the client tells the server it gave up.
import assert from "node:assert/strict";
import { connect, defineInterface, method, RpcError, t } from "../../mod.ts";
import { DEFAULT_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";

const Feed = defineInterface("Feed", {
  count: method({ params: { n: t.int }, result: t.stream(t.int) }),
});

type Script = (
  socket: WebSocket,
  message: { id?: number; method: string; params: unknown },
) => void;

/** A server that says hello back and runs `script` for every other message. */
function rawServer(script: Script) {
  const received: { method: string; params: unknown }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      received.push(message);
      if (message.method === "$/hello") {
        socket.send(
          JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { heartbeat: null } }),
        );
      } else script(socket, message);
    };
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    received,
    close: () => server.shutdown(),
  };
}

const send = (socket: WebSocket, method: string, params: unknown) =>
  socket.send(JSON.stringify({ jsonrpc: "2.0", method, params }));
const handle = (socket: WebSocket, id: number | undefined) =>
  socket.send(JSON.stringify({ jsonrpc: "2.0", id, result: { $stream: 1 } }));

async function readAll(
  stream: AsyncIterable<number>,
): Promise<{ items: number[]; error?: unknown }> {
  const items: number[] = [];
  try {
    for await (const n of stream) items.push(n);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

Deno.test("ws client: a server that sends more items than granted fails the stream and is told so", async () => {
  const server = rawServer((socket, message) => {
    if (message.method !== "Feed.count") return;
    handle(socket, message.id);
    for (let seq = 0; seq < DEFAULT_STREAM_WINDOW + 5; seq++) {
      send(socket, "$/stream.item", { stream: 1, seq, item: seq });
    }
  });
  const client = connect(server.url);
  try {
    // Read one item, then let the burst arrive: 5 items beyond the window granted.
    const iterator = client.proxy(Feed).count({ n: 1 })[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { done: false, value: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { error } = await readAll({ [Symbol.asyncIterator]: () => iterator });
    assert.ok(error instanceof RpcError);
    assert.equal(error.name, "InvalidRequest");
    assert.match(error.message, /beyond the credit granted/);
    // The request asked with the member beside its id, then granted the window, then cancelled.
    const request = server.received.find((m) => m.method === "Feed.count") as Record<
      string,
      unknown
    >;
    assert.equal(request.stream, true);
    assert.deepEqual(request.params, { n: 1 });
    const cancel = server.received.find((m) => m.method === "$/stream.cancel");
    assert.deepEqual(cancel?.params, { stream: 1 });
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("ws client: an end whose count differs from the items received fails Unavailable", async () => {
  const server = rawServer((socket, message) => {
    if (message.method !== "Feed.count") return;
    handle(socket, message.id);
    send(socket, "$/stream.item", { stream: 1, seq: 0, item: 0 });
    send(socket, "$/stream.end", { stream: 1, count: 3 });
  });
  const client = connect(server.url);
  try {
    const { items, error } = await readAll(client.proxy(Feed).count({ n: 3 }));
    assert.deepEqual(items, [0]);
    assert.ok(error instanceof RpcError);
    assert.equal(error.name, "Unavailable");
    assert.match(error.message, /ended after 1 of 3 items/);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("ws client: a socket cut mid-stream fails the stream after the items delivered", async () => {
  const server = rawServer((socket, message) => {
    if (message.method !== "Feed.count") return;
    handle(socket, message.id);
    send(socket, "$/stream.item", { stream: 1, seq: 0, item: 0 });
    send(socket, "$/stream.item", { stream: 1, seq: 1, item: 1 });
    setTimeout(() => socket.close(), 50);
  });
  const client = connect(server.url);
  try {
    const { items, error } = await readAll(client.proxy(Feed).count({ n: 5 }));
    assert.deepEqual(items, [0, 1]);
    assert.ok(error instanceof RpcError);
    assert.equal(error.name, "Unavailable");
  } finally {
    await client.close();
    await server.close();
  }
});
