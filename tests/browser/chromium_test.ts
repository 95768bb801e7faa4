// Debian's chromium driven by puppeteer-core through tests/fixtures/browser.ts: a page served
// by Deno.serve, a click that fetches from that server and changes the DOM, and a screenshot
// left in test-artifacts/. Also the fixture's unhappy paths: a browser that never answers is
// given up on in time, and close() really ends the process.
import assert from "node:assert/strict";
import { launchBrowser, saveScreenshot } from "../fixtures/browser.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";

const PAGE = `<!doctype html>
<html><head><title>switchboard browser test</title></head>
<body>
  <button id="go">ask the server</button>
  <p id="out">not clicked</p>
  <script>
    document.getElementById("go").addEventListener("click", async () => {
      const res = await fetch("/answer?n=41");
      document.getElementById("out").textContent = "server says " + (await res.json()).answer;
    });
  </script>
</body></html>`;

/** Serves PAGE and a JSON endpoint on a free loopback port; counts requests per path. */
function servePage() {
  const hits = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (url.pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html" } });
    }
    if (url.pathname === "/answer") {
      return Response.json({ answer: Number(url.searchParams.get("n")) + 1 });
    }
    return new Response("not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/`, hits, close: () => server.shutdown() };
}

const noChromium = await ignoreUnless(peers.chromium);

Deno.test(
  { name: "chromium: a click on a served page changes the DOM", ignore: noChromium },
  async () => {
    const site = servePage();
    try {
      await using browser = await launchBrowser();
      const page = await browser.newPage();
      const response = await page.goto(site.url);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), "switchboard browser test");
      assert.equal(await page.$eval("#out", (el) => el.textContent), "not clicked");

      await page.click("#go");
      // A string: page code runs in the browser, and Deno's types have no `document`.
      await page.waitForFunction(`document.getElementById("out").textContent !== "not clicked"`);
      assert.equal(await page.$eval("#out", (el) => el.textContent), "server says 42");
      assert.equal(site.hits.get("/answer"), 1, "the click went through our server");
      assert.deepEqual(browser.pageErrors, []);

      const shot = await saveScreenshot(page, "chromium_click");
      const png = await Deno.readFile(shot);
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG file");
      assert.ok(png.length > 1000, `screenshot has ${png.length} bytes`);
    } finally {
      await site.close();
    }
  },
);

Deno.test({
  name: "chromium: close() ends the browser process and removes its profile",
  ignore: noChromium,
}, async () => {
  const browser = await launchBrowser();
  const child = browser.browser.process();
  assert.ok(child?.pid, "a browser process");
  const profile = child.spawnargs.find((a) => a.startsWith("--user-data-dir="))?.split("=")[1];
  assert.ok(profile && (await Deno.stat(profile)).isDirectory);
  await browser.close();
  await browser.close(); // idempotent
  assert.notEqual(child.exitCode ?? child.signalCode, null, "the process has exited");
  await assert.rejects(Deno.stat(profile), Deno.errors.NotFound);
  await assert.rejects(browser.newPage(), "no pages after close");
});

Deno.test(
  { name: "chromium: script errors in the page are collected", ignore: noChromium },
  async () => {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto("data:text/html,<script>throw new Error('boom from the page')</script>");
    await page.waitForFunction('document.readyState === "complete"');
    assert.equal(browser.pageErrors.length, 1);
    assert.match(browser.pageErrors[0], /boom from the page/);
  },
);

// Needs no chromium: a "browser" that starts and never speaks the DevTools protocol.
Deno.test("launchBrowser gives up on a silent browser within its timeout and ends it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pidFile = `${dir}/pid`;
    const fake = `${dir}/silent-browser`;
    const argsFile = `${dir}/args`;
    await Deno.writeTextFile(
      fake,
      `#!/bin/sh\necho $$ > ${pidFile}\nprintf '%s\\n' "$@" > ${argsFile}\nexec sleep 60\n`,
    );
    await Deno.chmod(fake, 0o755);
    const started = Date.now();
    await assert.rejects(
      launchBrowser({ executable: fake, timeoutMs: 1_500 }),
      /Timed out after 1500 ms/,
    );
    const took = Date.now() - started;
    assert.ok(took < 10_000, `gave up after ${took} ms`);
    const args = (await Deno.readTextFile(argsFile)).split("\n");
    assert.ok(args.includes("--headless") && args.includes("--disable-quic"), args.join(" "));
    const profile = args.find((a) => a.startsWith("--user-data-dir="))?.split("=")[1];
    assert.ok(profile, "a fresh profile was passed");
    assert.equal(await exists(profile), false, "the profile is removed after the failed launch");
    const pid = (await Deno.readTextFile(pidFile)).trim();
    // puppeteer gives a browser that never connected 5 s to quit before it kills it.
    for (let i = 0; i < 150 && (await exists(`/proc/${pid}`)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await exists(`/proc/${pid}`), false, "the silent browser was killed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launchBrowser names the setup script when the binary is missing", async () => {
  await assert.rejects(
    launchBrowser({ executable: "no-such-chromium-binary" }),
    /no-such-chromium-binary not found on PATH.*20-chromium\.sh/,
  );
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
