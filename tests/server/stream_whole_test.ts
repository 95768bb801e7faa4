// Streamed results to callers that cannot take a stream (JSON-RPC over HTTP without a
// streaming Accept, XML-RPC from Python and from Switchboard's own typed proxy): the whole
// array up to maxStreamItems, or an error naming the limit, never a cut list.
import assert from "node:assert/strict";
import { connect, type RpcError } from "../../mod.ts";
import { Server } from "../../server.ts";
import "../../xmlrpc.ts";
import { Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";

async function feedHttp(maxStreamItems: number) {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} }, maxStreamItems });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 });
  return { probe, http, close: () => server.close() };
}

async function postJson(url: string, body: unknown) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return await response.json();
}

Deno.test("JSON-RPC over HTTP: a streamed result is the whole array, or an error naming the limit", async () => {
  const { http, close } = await feedHttp(20);
  try {
    const whole = await postJson(http.url, {
      jsonrpc: "2.0",
      id: 1,
      method: "Feed.count",
      params: { n: 20 },
    });
    assert.deepEqual(whole.result, Array.from({ length: 20 }, (_, i) => i));
    const tooLong = await postJson(http.url, {
      jsonrpc: "2.0",
      id: 2,
      method: "Feed.count",
      params: { n: 21 },
    });
    assert.equal(tooLong.error.code, -32600);
    assert.match(tooLong.error.message, /more than 20 items \(limit 20\)/);
    const failed = await postJson(http.url, {
      jsonrpc: "2.0",
      id: 3,
      method: "Feed.fails",
      params: { after: 2 },
    });
    assert.equal(failed.error.name, "NotFound");
  } finally {
    await close();
  }
});

Deno.test("a typed proxy over XML-RPC reads the whole array as a stream", async () => {
  const { http, close } = await feedHttp(100);
  try {
    // (Over JSON-RPC a typed proxy asks for NDJSON: tests/client/http_stream_test.ts.)
    for (const protocol of ["xmlrpc"] as const) {
      const client = connect(http.url, { protocol });
      const got: number[] = [];
      for await (const n of client.proxy(Feed).count({ n: 5 })) got.push(n);
      assert.deepEqual(got, [0, 1, 2, 3, 4], protocol);
      await assert.rejects(async () => {
        for await (const _ of client.proxy(Feed).count({ n: 101 }));
      }, (e: RpcError) => e.name === "InvalidRequest" && /limit 100/.test(e.message));
      await client.close();
    }
  } finally {
    await close();
  }
});

Deno.test({
  name: "XML-RPC from Python: the whole array, or a fault naming the limit",
  ignore: await ignoreUnless(peers.pythonXmlrpc),
  async fn() {
    const { http, close } = await feedHttp(30);
    try {
      const script = `
import sys, xmlrpc.client
proxy = xmlrpc.client.ServerProxy(sys.argv[1])
print(proxy.Feed.count(30) == list(range(30)))
try:
    proxy.Feed.count(31)
except xmlrpc.client.Fault as fault:
    print(fault.faultCode, fault.faultString)
`;
      const out = await new Deno.Command(PYTHON, { args: ["-c", script, `${http.url}/RPC2`] })
        .output();
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      assert.equal(lines[0], "True", new TextDecoder().decode(out.stderr));
      assert.match(lines[1], /^-32600 .*more than 30 items \(limit 30\)/);
    } finally {
      await close();
    }
  },
});
