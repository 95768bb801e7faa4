// A client we did not write reads streams through the documented wire (docs/wire.md,
// "Streams"): Python with Debian's python3-websockets says `$/hello`, asks with
// `"stream": true`, grants credit in a window of 4, reads items to the end, reads an error
// mid-stream, and cancels an endless stream (the server's producer ends, finally run). Before
// its `$/hello` it gets the whole array, as any plain JSON-RPC client.
import assert from "node:assert/strict";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import { Server } from "../../server.ts";
import type { RpcError } from "../../mod.ts";
import { feedImpl, feedProbe } from "../fixtures/feed.ts";
import { eventually } from "../server/tcp_fixture.ts";

const SCRIPT = `
import asyncio, json, sys
import websockets

WINDOW = 4

async def main(url):
    out = {}
    async with websockets.connect(url) as ws:
        async def recv():
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if isinstance(message, dict) and message.get("method") == "$/ping":
                    continue
                return message

        async def call(message):
            await ws.send(json.dumps(message))
            return await recv()

        async def notify(method, params):
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

        async def read(method, params, id, stop_after=None):
            """Reads a stream: items, then how it ended."""
            reply = await call({"jsonrpc": "2.0", "id": id, "method": method, "params": params, "stream": True})
            stream = reply["result"]["$stream"]
            await notify("$/stream.credit", {"stream": stream, "n": WINDOW})
            items, read = [], 0
            while True:
                message = await recv()
                p = message["params"]
                assert p["stream"] == stream, message
                if message["method"] == "$/stream.item":
                    assert p["seq"] == len(items), message
                    items.append(p["item"])
                    if stop_after is not None and len(items) == stop_after:
                        await notify("$/stream.cancel", {"stream": stream})
                        return {"items": items, "cancelled": True}
                    read += 1
                    if read == WINDOW:
                        await notify("$/stream.credit", {"stream": stream, "n": read})
                        read = 0
                elif message["method"] == "$/stream.end":
                    return {"items": items, "end": p}
                elif message["method"] == "$/stream.error":
                    return {"items": items, "error": p["error"]}

        out["plain"] = await call({"jsonrpc": "2.0", "id": 1, "method": "Feed.count", "params": {"n": 5}, "stream": True})
        out["hello"] = await call({"jsonrpc": "2.0", "id": 2, "method": "$/hello", "params": [{"id": "python"}]})
        out["count"] = await read("Feed.count", {"n": 10}, 3)
        out["fails"] = await read("Feed.fails", {"after": 3}, 4)
        out["endless"] = await read("Feed.endless", {}, 5, stop_after=3)
        # Late items of the cancelled stream may still come: the next answer is found by id.
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 6, "method": "Feed.sum", "params": {"values": [2, 3]}}))
        while True:
            message = await recv()
            if message.get("id") == 6:
                out["after"] = message
                break
    print(json.dumps(out))

asyncio.run(asyncio.wait_for(main(sys.argv[1]), 30))
`;

const missing = await ignoreUnless(peers.pythonWebsockets);

Deno.test({
  name: "python websockets: reads streams by the documented wire, with credit, errors and cancel",
  ignore: missing,
}, async () => {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", SCRIPT, http.url.replace("http", "ws")],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const seen = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(seen.plain, { jsonrpc: "2.0", result: [0, 1, 2, 3, 4], id: 1 });
    assert.equal(seen.hello.result.server, "switchboard");
    assert.deepEqual(seen.count, {
      items: Array.from({ length: 10 }, (_, i) => i),
      end: { stream: 1, count: 10 },
    });
    assert.deepEqual(seen.fails.items, [0, 1, 2]);
    assert.deepEqual(seen.fails.error, {
      code: -32000,
      name: "NotFound",
      message: "nothing after 3",
    });
    assert.deepEqual(seen.endless, { items: ["item 0", "item 1", "item 2"], cancelled: true });
    assert.deepEqual(seen.after, { jsonrpc: "2.0", result: 5, id: 6 });
    await eventually(() => probe.finallyRan, "the endless producer's finally");
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
  } finally {
    await server.close();
  }
});
