// EventSource in Debian's chromium: a page reads a streamed result by GET /rpc/<method> (items
// as messages, then the end event) and follows a topic through GET /events, receiving what
// the server publishes, with each event's id as EventSource's lastEventId.
import assert from "node:assert/strict";
import { launchBrowser, saveScreenshot } from "../fixtures/browser.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { type HttpMiddleware, Server } from "../../server.ts";
import { ticksImpl } from "../server/sse_fixture.ts";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>switchboard over EventSource</title></head>
<body>
<pre id="out" data-state="running">running…</pre>
<script type="module">
const out = document.getElementById("out");
const seen = { items: [], ids: [], prices: [] };
const params = encodeURIComponent(JSON.stringify({ n: 3 }));
await new Promise((resolve) => {
  const result = new EventSource("/rpc/Ticks.count?params=" + params);
  result.onmessage = (e) => { seen.items.push(JSON.parse(e.data)); seen.ids.push(e.lastEventId); };
  result.addEventListener("end", (e) => { seen.end = JSON.parse(e.data); result.close(); resolve(); });
  result.onerror = () => { seen.failed = "result stream"; result.close(); resolve(); };
});
const events = new EventSource("/events?topic=prices");
events.onopen = () => { out.dataset.state = "subscribed"; };
events.onmessage = (e) => {
  const event = JSON.parse(e.data);
  seen.prices.push(event.params.price);
  seen.lastEventId = e.lastEventId;
  if (seen.prices.length === 2) {
    events.close();
    out.textContent = JSON.stringify(seen);
    out.dataset.state = "done";
  }
};
</script>
</body></html>`;

const noChromium = await ignoreUnless(peers.chromium);

Deno.test({
  name: "browser: EventSource reads a streamed result and a subscription",
  ignore: noChromium,
}, async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} }, replay: {} });
  server.register(ticksImpl());
  const http = await server.listenHttp({ port: 0 }, {
    events: true,
    get: { "/page": () => new Response(PAGE, { headers: { "content-type": "text/html" } }) },
  });
  try {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${http.url}/page`);
    await page.waitForFunction(
      `["subscribed", "done"].includes(document.getElementById("out").dataset.state)`,
    );
    assert.equal(await server.publish("prices", "Prices.tick", { price: 1.5 }), 1);
    assert.equal(await server.publish("prices", "Prices.tick", { price: 2.5 }), 1);
    await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
    await saveScreenshot(page, "browser_event_source");
    const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
    assert.deepEqual(seen.items, [0, 1, 2]);
    assert.deepEqual(seen.ids, ["0", "1", "2"]);
    assert.deepEqual(seen.end, { count: 3 });
    assert.deepEqual(seen.prices, [1.5, 2.5]);
    assert.match(seen.lastEventId, /^[0-9a-f-]{36}:2$/);
    assert.equal(seen.failed, undefined);
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await server.close();
  }
});

const RECONNECT_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>EventSource reconnects</title></head>
<body>
<pre id="out" data-state="running">running…</pre>
<script type="module">
const out = document.getElementById("out");
const seen = { prices: [], ids: [], gaps: [], opens: 0 };
const events = new EventSource("/events?topic=prices");
events.onopen = () => { seen.opens++; out.dataset.state = "open" + seen.opens; };
events.addEventListener("gap", (e) => seen.gaps.push(JSON.parse(e.data)));
events.onmessage = (e) => {
  seen.prices.push(JSON.parse(e.data).params.price);
  seen.ids.push(e.lastEventId);
  if (seen.prices.length === 3) {
    events.close();
    out.textContent = JSON.stringify(seen);
    out.dataset.state = "done";
  }
};
</script>
</body></html>`;

Deno.test({
  name: "browser: an EventSource cut off reconnects with Last-Event-ID and gets what it missed",
  ignore: noChromium,
}, async () => {
  // Cuts the first event stream right after the first published call has passed, as a proxy
  // or a dropped connection would.
  const cut = Promise.withResolvers<void>();
  let streams = 0;
  const cutter: HttpMiddleware = async (request, _env, next) => {
    const response = await next();
    if (new URL(request.url).pathname !== "/events" || streams++ > 0) return response;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await reader.read();
          if (done) return controller.close();
          controller.enqueue(value);
          if (decoder.decode(value).includes('"price":1')) {
            controller.close();
            await reader.cancel();
            cut.resolve();
          }
        },
      }),
      response,
    );
  };
  const server = new Server({ logger: { error: () => {}, warn: () => {} }, replay: {} });
  const http = await server.listenHttp({ port: 0 }, {
    events: true,
    middleware: [cutter],
    get: {
      "/page": () => new Response(RECONNECT_PAGE, { headers: { "content-type": "text/html" } }),
    },
  });
  try {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${http.url}/page`);
    await page.waitForFunction(`document.getElementById("out").dataset.state === "open1"`);
    assert.equal(await server.publish("prices", "Prices.tick", { price: 1 }), 1);
    await cut.promise;
    // Published while the page is away: the replay buffer keeps them for its reconnect.
    await server.publish("prices", "Prices.tick", { price: 2 });
    await server.publish("prices", "Prices.tick", { price: 3 });
    await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
    const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
    assert.deepEqual(seen.prices, [1, 2, 3]);
    assert.deepEqual(seen.ids.map((id: string) => id.split(":")[1]), ["1", "2", "3"]);
    assert.deepEqual(seen.gaps, []);
    assert.equal(seen.opens, 2);
    assert.equal(streams, 2, "the page reconnected once");
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await server.close();
  }
});

const NO_CLOSE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>EventSource left open</title></head>
<body>
<pre id="out" data-state="running">running…</pre>
<script type="module">
const out = document.getElementById("out");
const seen = { items: [], errors: 0 };
// The page forgets to close on "end": the EventSource reconnects by itself.
const result = new EventSource("/rpc/Ticks.count?params=" + encodeURIComponent('{"n":2}'));
result.onmessage = (e) => seen.items.push(JSON.parse(e.data));
result.addEventListener("end", () => { seen.ended = true; });
result.onerror = () => {
  seen.errors++;
  if (result.readyState === EventSource.CLOSED) {
    out.textContent = JSON.stringify(seen);
    out.dataset.state = "done";
  }
};
</script>
</body></html>`;

Deno.test({
  name: "browser: an EventSource left open after the end is stopped (204), not run again",
  ignore: noChromium,
}, async () => {
  const answers: number[] = [];
  const count: HttpMiddleware = async (request, _env, next) => {
    const response = await next();
    if (new URL(request.url).pathname === "/rpc/Ticks.count") answers.push(response.status);
    return response;
  };
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(ticksImpl());
  const http = await server.listenHttp({ port: 0 }, {
    middleware: [count],
    get: {
      "/page": () => new Response(NO_CLOSE_PAGE, { headers: { "content-type": "text/html" } }),
    },
  });
  try {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${http.url}/page`);
    await page.waitForFunction(`document.getElementById("out").dataset.state === "done"`);
    const seen = JSON.parse(await page.$eval("#out", (el) => el.textContent ?? ""));
    assert.deepEqual(seen.items, [0, 1]);
    assert.equal(seen.ended, true);
    assert.deepEqual(answers, [200, 204], "the reconnect ran the method again");
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await server.close();
  }
});
