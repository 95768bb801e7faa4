// A JSON-RPC-over-WebSocket client we did not write: Python with Debian's python3-websockets
// speaking plain JSON-RPC 2.0 text frames to a Switchboard HTTP listener: calls, a batch, a
// notification, errors, a subscription it receives, and a call the server makes back to it.
import assert from "node:assert/strict";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";

const SCRIPT = `
import asyncio, json, sys
import websockets

async def main(url):
    out = {}
    async with websockets.connect(url) as ws:
        async def call(message):
            await ws.send(json.dumps(message))
            while True:
                reply = json.loads(await ws.recv())
                if isinstance(reply, dict) and "method" in reply:
                    await serve(reply)
                    continue
                return reply

        async def serve(request):
            # The server calls this client back (Helper.shout), or delivers a topic's event.
            if request["method"] == "Helper.shout":
                text = request["params"]["text"]
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": text.upper() + "!"}))
            elif request["method"] == "$/event":
                out.setdefault("events", []).append(request["params"])

        out["add"] = await call({"jsonrpc": "2.0", "id": 1, "method": "Desk.add", "params": {"a": 2, "b": 40}})
        out["positional"] = await call({"jsonrpc": "2.0", "id": 2, "method": "Desk.add", "params": [1, 2]})
        batch = await call([
            {"jsonrpc": "2.0", "id": 3, "method": "Desk.add", "params": {"a": 1, "b": 1}},
            {"jsonrpc": "2.0", "method": "Desk.note", "params": {"text": "from python"}},
            {"jsonrpc": "2.0", "id": 4, "method": "Desk.nope"},
        ])
        out["batch"] = sorted(batch, key=lambda r: r["id"])
        out["notes"] = await call({"jsonrpc": "2.0", "id": 5, "method": "Desk.notes"})
        out["invalid"] = await call({"jsonrpc": "2.0", "id": 6, "method": "Desk.add", "params": {"a": "x", "b": 1}})
        await ws.send("{oops")
        out["parse"] = json.loads(await ws.recv())
        out["ask"] = await call({"jsonrpc": "2.0", "id": 7, "method": "Desk.ask", "params": {"text": "hello"}})
        out["subscribed"] = await call({"jsonrpc": "2.0", "id": 8, "method": "$/subscribe", "params": ["news"]})
        out["published"] = await call({"jsonrpc": "2.0", "id": 9, "method": "Desk.announce", "params": {"text": "hot"}})
        while len(out.get("events", [])) < 1:
            await serve(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    print(json.dumps(out))

asyncio.run(asyncio.wait_for(main(sys.argv[1]), 30))
`;

const Desk = defineInterface("Desk", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  note: method({ params: { text: t.string } }),
  notes: method({ result: t.array(t.string) }),
  ask: method({ params: { text: t.string }, result: t.string }),
  announce: method({ params: { text: t.string }, result: t.int }),
});
const Helper = defineInterface("Helper", {
  shout: method({ params: { text: t.string }, result: t.string }),
});

const missing = await ignoreUnless(peers.pythonWebsockets);

Deno.test({
  name: "python websockets: plain JSON-RPC calls, batch, errors, a call back and a subscription",
  ignore: missing,
}, async () => {
  const notes: string[] = [];
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Desk, {
    add: ({ a, b }) => a + b,
    note: ({ text }) => void notes.push(text),
    notes: () => notes,
    ask: ({ text }, ctx) => ctx.peer!.proxy(Helper).shout({ text }),
    announce: ({ text }) => server.publish("news", "Feed.post", { text }),
  }));
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
    assert.deepEqual(seen.add, { jsonrpc: "2.0", result: 42, id: 1 });
    assert.deepEqual(seen.positional, { jsonrpc: "2.0", result: 3, id: 2 });
    assert.deepEqual(seen.batch[0], { jsonrpc: "2.0", result: 2, id: 3 });
    assert.equal(seen.batch[1].error.code, -32601);
    assert.equal(seen.batch.length, 2, "the notification has no answer");
    assert.deepEqual(seen.notes.result, ["from python"]);
    assert.equal(seen.invalid.error.code, -32602);
    assert.equal(seen.parse.error.code, -32700);
    assert.deepEqual(seen.ask, { jsonrpc: "2.0", result: "HELLO!", id: 7 });
    assert.deepEqual(seen.subscribed, { jsonrpc: "2.0", result: true, id: 8 });
    assert.deepEqual(seen.published, { jsonrpc: "2.0", result: 1, id: 9 });
    assert.deepEqual(seen.events, [["news", "Feed.post", { text: "hot" }]]);
  } finally {
    await server.close();
  }
});
