// `switchboard serve --events`: the HTTP listener serves GET /events and says so; what a TCP
// peer publishes reaches an event stream read with curl -N. Without the flag: 404.
import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../tcp.ts";
import { startServe } from "../fixtures/serve_process.ts";
import { SseReader } from "../server/sse_fixture.ts";

Deno.test("serve --events: a TCP peer's publish reaches GET /events; off without the flag", async () => {
  const on = await startServe(["--events"]);
  try {
    await on.waitFor(/events: GET \/events\?topic=…/);
    const response = await fetch(`${on.url}/events?topic=news`);
    assert.equal(response.status, 200);
    const reader = new SseReader(response.body!);
    assert.deepEqual(await reader.event(), { id: "live" });
    const client = connect(on.tcp!);
    try {
      await client.publish("news").Feed.post({ text: "hello" });
      const event = JSON.parse((await reader.event(30_000))!.data!);
      assert.deepEqual(event, { topic: "news", method: "Feed.post", params: { text: "hello" } });
    } finally {
      await reader.cancel();
      await client.close();
    }
  } finally {
    await on.stop();
  }
  const off = await startServe(["--tcp", "off"]);
  try {
    const response = await fetch(`${off.url}/events?topic=news`);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  } finally {
    await off.stop();
  }
});
