// The Deno side of observability: the metrics listener answers GET and HEAD /metrics only.

import assert from "node:assert/strict";
import { serveMetrics } from "../../../src/adapters/deno/observe_io.ts";

Deno.test("observe_io: the metrics listener serves GET/HEAD /metrics and 404s the rest", async () => {
  const listener = serveMetrics(
    { hostname: "127.0.0.1", port: 0 },
    () => new Response("up 1\n", { headers: { "content-type": "text/plain" } }),
  );
  try {
    assert.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const get = await fetch(`${listener.url}/metrics`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), "up 1\n");
    const head = await fetch(`${listener.url}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    await head.body?.cancel();
    for (const [path, method] of [["/", "GET"], ["/metrics", "POST"], ["/rpc", "POST"]]) {
      const other = await fetch(`${listener.url}${path}`, { method });
      assert.equal(other.status, 404, `${method} ${path}`);
      assert.match(await other.text(), /metrics are at GET \/metrics/);
    }
  } finally {
    await listener.shutdown();
  }
});
