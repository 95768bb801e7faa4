// The front forwards streams as streams: over HTTP NDJSON item by item, a refusal before
// the first item as the call's own JSON-RPC error (not a stream that fails at once), and a
// stream param through the hop.
import assert from "node:assert/strict";
import { defineError, defineInterface, implement, method, t } from "../../mod.ts";
import { MultiClient } from "../../deploy.ts";
import { Server } from "../../server.ts";
import { forwarding } from "../../src/deploy/front.ts";
import { Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";
import "../../src/adapters/deno/tcp_client.ts";

const Refused = defineError("Refused");
const Gate = defineInterface("Gate", { open: method({ result: t.stream(t.int) }) });
const quiet = { logger: { error: () => {}, warn: () => {} } };

async function setup() {
  const backend = new Server(quiet);
  backend.register(feedImpl(feedProbe()));
  backend.register(implement(Gate, {
    open: () => {
      throw new Refused("the gate is closed");
    },
  }));
  const tcp = await backend.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const client = new MultiClient({
    routes: {
      Feed: [{ url: tcp.url, process: "backend" }],
      Gate: [{ url: tcp.url, process: "backend" }],
    },
  });
  const front = new Server(quiet);
  front.register(forwarding(Feed, client), forwarding(Gate, client));
  const http = await front.listenHttp({ hostname: "127.0.0.1", port: 0 });
  return {
    post: (method: string, params: unknown) =>
      fetch(http.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/x-ndjson" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      }),
    client,
    async [Symbol.asyncDispose]() {
      await front.close();
      await client.close();
      await backend.close();
    },
  };
}

Deno.test("front streams: a streamed result is NDJSON item by item; a refusal is the call's error", async () => {
  await using s = await setup();
  const streamed = await s.post("Feed.count", { n: 3 });
  assert.match(streamed.headers.get("content-type") ?? "", /ndjson/);
  assert.deepEqual((await streamed.text()).trim().split("\n").map((l) => JSON.parse(l)), [
    { seq: 0, item: 0 },
    { seq: 1, item: 1 },
    { seq: 2, item: 2 },
    { end: true, count: 3 },
  ]);
  const refused = await s.post("Gate.open", {});
  assert.match(refused.headers.get("content-type") ?? "", /application\/json/);
  const answer = await refused.json();
  assert.equal(answer.error.name, "Refused");
  assert.equal(answer.error.message, "the gate is closed");
});
