// The bundled "." entry point in Debian's chromium over WebSocket: a page of another origin
// (allowed by the server's CORS options) connects with `connect("ws://…")`, registers a
// handler the server calls back (server → browser), subscribes to a topic and receives what
// the server publishes, and makes a typed call. The same page from an origin the server does
// not allow cannot open the socket (cross-site WebSocket hijacking).
import assert from "node:assert/strict";
import { launchBrowser, saveScreenshot } from "../fixtures/browser.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { clientBundle } from "../fixtures/client_bundle.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>switchboard over WebSocket</title></head>
<body>
<pre id="out" data-state="running">running…</pre>
<script type="module">
import * as sb from "./switchboard-client.js";
const server = new URLSearchParams(location.search).get("server");
const Page = sb.defineInterface("Page", {
  title: sb.method({ params: { prefix: sb.t.string }, result: sb.t.string }),
});
const Feed = sb.defineInterface("Feed", { post: sb.method({ params: { text: sb.t.string } }) });
const Desk = sb.defineInterface("Desk", {
  add: sb.method({ params: { a: sb.t.int, b: sb.t.int }, result: sb.t.int }),
  callMe: sb.method({ result: sb.t.string }),
});
const seen = { posts: [] };
const out = document.getElementById("out");
try {
  const client = sb.connect(server, { id: "page-1" });
  client.register(sb.implement(Page, { title: ({ prefix }) => prefix + document.title }));
  await client.subscribe("news", sb.implement(Feed, { post: ({ text }) => { seen.posts.push(text); } }));
  seen.sum = await client.proxy(Desk).add({ a: 20, b: 22 });
  seen.callback = await client.proxy(Desk).callMe();
  out.dataset.state = "subscribed";
  await new Promise((resolve) => { const wait = () => seen.posts.length >= 2 ? resolve() : setTimeout(wait, 10); wait(); });
} catch (e) {
  seen.failed = { name: e.name, message: e.message };
}
out.textContent = JSON.stringify(seen, null, 2);
out.dataset.state = "done";
</script>
</body></html>`;

const Page = defineInterface("Page", {
  title: method({ params: { prefix: t.string }, result: t.string }),
});
const Desk = defineInterface("Desk", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  callMe: method({ result: t.string }),
});

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

async function deskServer(origins: string[]) {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Desk, {
    add: ({ a, b }) => a + b,
    // Server → browser: the page's own handler answers.
    callMe: (_, ctx) => ctx.peer!.proxy(Page).title({ prefix: "page says: " }),
  }));
  const http = await server.listenHttp({ port: 0 }, { websocket: true, cors: { origins } });
  return {
    server,
    ws: http.url.replace("http", "ws"),
    [Symbol.asyncDispose]: () => server.close(),
  };
}

const noChromium = await ignoreUnless(peers.chromium);

Deno.test({
  name: "browser: over ws:// a page answers a server → browser call and receives a subscription",
  ignore: noChromium,
}, async () => {
  await using site = await servePage();
  await using desk = await deskServer([site.origin]);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${site.origin}/?server=${encodeURIComponent(desk.ws)}`);
  await page.waitForFunction(
    `["subscribed", "done"].includes(document.getElementById("out").dataset.state)`,
  );
  // The page is subscribed: what the server publishes reaches it.
  assert.equal(await desk.server.publish("news", "Feed.post", { text: "first" }), 1);
  assert.equal(await desk.server.publish("news", "Feed.post", { text: "second" }), 1);
  await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
  await saveScreenshot(page, "browser_websocket");
  const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
  assert.deepEqual(seen, {
    posts: ["first", "second"],
    sum: 42,
    callback: "page says: switchboard over WebSocket",
  });
  // The server knows the page by its peer id and can call it directly too.
  assert.deepEqual(browser.pageErrors, []);
});

Deno.test({
  name: "browser: a page of an origin the server does not allow cannot open the socket",
  ignore: noChromium,
}, async () => {
  await using site = await servePage();
  await using desk = await deskServer(["http://127.0.0.1:1"]);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${site.origin}/?server=${encodeURIComponent(desk.ws)}`);
  await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
  const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
  assert.equal(seen.failed?.name, "Unavailable", JSON.stringify(seen));
  assert.deepEqual(seen.posts, []);
});
