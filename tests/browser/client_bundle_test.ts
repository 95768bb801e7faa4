// The bundled "." entry point in Debian's chromium: a page served from another origin (its
// own Deno.serve port) imports the bundle and calls a live Switchboard server — typed calls
// through a proxy, a batch, a named error — when the server's CORS options allow the page's
// origin; and the same page refused (a TypeError from fetch, no call run) when they do not.
// Screenshots of both pages go to test-artifacts/.
import assert from "node:assert/strict";
import { launchBrowser, saveScreenshot, type TestBrowser } from "../fixtures/browser.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { clientBundle, CONSUMER_CALLS } from "../fixtures/client_bundle.ts";
import { EXPECTED, startShop } from "../fixtures/consumer_server.ts";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>switchboard from another origin</title>
<style>body { font: 14px system-ui; margin: 24px; } pre { background: #f4f4f4; padding: 12px; }</style>
</head>
<body>
<h1>A page on <span id="origin"></span> calling <span id="server"></span></h1>
<pre id="out" data-state="running">running…</pre>
<script type="module">
import * as sb from "./switchboard-client.js";
import { exercise } from "./consumer_calls.js";
const server = new URLSearchParams(location.search).get("server");
document.getElementById("origin").textContent = location.origin;
document.getElementById("server").textContent = server;
const call = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Shop.price", params: { item: "x", qty: 2 } });
/** What a plain fetch of one call sees: the reply, or the error's class and message. */
async function raw(init) {
  try {
    return { reply: await (await fetch(server + "/rpc", { method: "POST", body: call, ...init })).json() };
  } catch (e) {
    return { threw: e.constructor.name, message: e.message };
  }
}
const seen = {};
try {
  Object.assign(seen, await exercise(sb, server));
} catch (e) {
  seen.failed = { rpcError: e instanceof sb.RpcError, name: e.name, message: e.message };
}
seen.json = await raw({ headers: { "content-type": "application/json" } });
// A string body is sent as text/plain, without a preflight.
seen.textPlain = await raw({});
try {
  seen.servedClient = typeof (await import(server + "/client.js")).connect;
} catch (e) {
  seen.servedClient = e.constructor.name;
}
const out = document.getElementById("out");
out.textContent = JSON.stringify(seen, null, 2);
out.dataset.state = "done";
</script>
</body></html>`;

/** Serves PAGE, the bundle and consumer_calls.js on a free loopback port (another origin). */
async function servePage() {
  const files: Record<string, [string, string]> = {
    "/": [PAGE, "text/html; charset=utf-8"],
    "/switchboard-client.js": [await clientBundle(), "text/javascript"],
    "/consumer_calls.js": [await Deno.readTextFile(CONSUMER_CALLS), "text/javascript"],
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

/** Opens the page against `server` and returns what it saw, once it is done. */
async function visit(browser: TestBrowser, origin: string, server: string, shot: string) {
  const page = await browser.newPage();
  const console: string[] = [];
  page.on("console", (m) => console.push(m.text()));
  const response = await page.goto(`${origin}/?server=${encodeURIComponent(server)}`);
  assert.equal(response?.status(), 200);
  await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
  await saveScreenshot(page, shot);
  const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
  return { seen, console };
}

const noChromium = await ignoreUnless(peers.chromium);

Deno.test({
  name: "browser: a page of an allowed origin makes typed calls, a batch and a failing call",
  ignore: noChromium,
}, async () => {
  await using site = await servePage();
  await using shop = await startShop({ cors: { origins: [site.origin] } });
  assert.notEqual(site.origin, shop.url, "two origins");
  await using browser = await launchBrowser();
  const { seen } = await visit(browser, site.origin, shop.url, "browser_client_allowed");
  assert.deepEqual(seen, {
    ...EXPECTED,
    json: { reply: { jsonrpc: "2.0", result: 3, id: 1 } },
    textPlain: { reply: { jsonrpc: "2.0", result: 3, id: 1 } },
    servedClient: "function",
  });
  assert.equal(shop.calls(), 7);
  assert.deepEqual(browser.pageErrors, []);
});

Deno.test({
  name: "browser: the same page is refused when its origin is not allowed; nothing runs",
  ignore: noChromium,
}, async () => {
  await using site = await servePage();
  await using shop = await startShop({ cors: { origins: ["http://127.0.0.1:1"] } });
  await using browser = await launchBrowser();
  const { seen, console } = await visit(browser, site.origin, shop.url, "browser_client_refused");
  assert.equal(seen.failed.rpcError, true, JSON.stringify(seen));
  assert.equal(seen.failed.name, "Unavailable");
  assert.match(seen.failed.message, /cannot reach http:\/\/127\.0\.0\.1:\d+\/: Failed to fetch/);
  assert.deepEqual(seen.json, { threw: "TypeError", message: "Failed to fetch" });
  assert.deepEqual(seen.textPlain, { threw: "TypeError", message: "Failed to fetch" });
  assert.equal(seen.servedClient, "TypeError");
  assert.equal(shop.calls(), 0, "no call reached a handler, not even the text/plain one");
  assert.ok(console.some((line) => /CORS/.test(line)), console.join("\n"));
});
