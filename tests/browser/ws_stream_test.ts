// The bundled "." entry point in Debian's chromium reads t.stream results over WebSocket: a
// whole stream item by item, then a stream it breaks out of; the server's producer stops
// within the credit window of what the page read, its signal aborted and its finally run.
import assert from "node:assert/strict";
import { launchBrowser, saveScreenshot } from "../fixtures/browser.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { clientBundle } from "../fixtures/client_bundle.ts";
import { Server } from "../../server.ts";
import type { RpcError } from "../../mod.ts";
import { DEFAULT_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import { feedImpl, feedProbe } from "../fixtures/feed.ts";
import { eventually } from "../server/tcp_fixture.ts";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>streams over WebSocket</title></head>
<body>
<pre id="out" data-state="running">running…</pre>
<script type="module">
import * as sb from "./switchboard-client.js";
const server = new URLSearchParams(location.search).get("server");
const Feed = sb.defineInterface("Feed", {
  count: sb.method({ params: { n: sb.t.int }, result: sb.t.stream(sb.t.int) }),
  endless: sb.method({ result: sb.t.stream(sb.t.string) }),
});
const seen = { counted: [], endless: [] };
const out = document.getElementById("out");
try {
  const client = sb.connect(server);
  const feed = client.proxy(Feed);
  for await (const n of feed.count({ n: 50 })) seen.counted.push(n);
  for await (const s of feed.endless()) {
    seen.endless.push(s);
    if (seen.endless.length === 5) break;
  }
} catch (e) {
  seen.failed = { name: e.name, message: e.message };
}
out.textContent = JSON.stringify(seen, null, 2);
out.dataset.state = "done";
</script>
</body></html>`;

async function servePage() {
  const files: Record<string, [string, string]> = {
    "/": [PAGE, "text/html; charset=utf-8"],
    "/switchboard-client.js": [await clientBundle(), "text/javascript"],
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const file = files[new URL(req.url).pathname];
    if (!file) return new Response("not found", { status: 404 });
    return new Response(file[0], { headers: { "content-type": file[1] } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const noChromium = await ignoreUnless(peers.chromium);

Deno.test({
  name: "browser: over ws:// a page reads a stream item by item and cancels one with break",
  ignore: noChromium,
}, async () => {
  await using site = await servePage();
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const http = await server.listenHttp({ port: 0 }, {
    websocket: true,
    cors: { origins: [site.origin] },
  });
  try {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    const ws = http.url.replace("http", "ws");
    await page.goto(`${site.origin}/?server=${encodeURIComponent(ws)}`);
    await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
    await saveScreenshot(page, "browser_ws_stream");
    const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
    assert.deepEqual(seen, {
      counted: Array.from({ length: 50 }, (_, i) => i),
      endless: ["item 0", "item 1", "item 2", "item 3", "item 4"],
    });
    // The page's break reached the producer: stopped within the window, finally ran.
    // (`finished` resolved with count's finally already: watch endless's own flag.)
    await eventually(() => probe.finallyRan, "the producer's finally", 10_000);
    assert.equal(probe.finallyRan, true);
    assert.equal((probe.abortReason as RpcError).name, "Cancelled");
    assert.ok(probe.produced <= 5 + DEFAULT_STREAM_WINDOW, `produced ${probe.produced}`);
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await server.close();
  }
});
