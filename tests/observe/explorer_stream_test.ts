// The API explorer with a streamed method, in Debian's chromium: the items show as they come
// (the outcome counts them while the stream runs), the end shows the count, and Cancel aborts
// a stream that would not end, which cancels the producer at the server (its finally runs).
import assert from "node:assert/strict";
import { launchBrowser, saveScreenshot } from "../fixtures/browser.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";

const Clock = defineInterface("Clock", {
  count: method({ params: { n: t.int }, result: t.stream(t.int) }),
  ticks: method({ result: t.stream(t.string) }),
});

type El = { textContent: string | null; dataset: Record<string, string> };

const noChromium = await ignoreUnless(peers.chromium);

Deno.test({
  name: "explorer: a streamed method shows its items live, and Cancel ends the producer",
  ignore: noChromium,
}, async () => {
  const finished = Promise.withResolvers<void>();
  let produced = 0;
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Clock, {
    async *count({ n }) {
      for (let i = 0; i < n; i++) yield i;
    },
    async *ticks() {
      try {
        // Bounded so that the test cannot run forever; paced so the page can watch it.
        for (let i = 0; i < 100_000; i++) {
          produced = i + 1;
          yield `tick ${i}`;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        finished.resolve();
      }
    },
  }));
  const http = await server.listenHttp({ port: 0 });
  try {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${http.url}/`, { waitUntil: "networkidle0" });

    await page.click('details[data-method="Clock.count"] summary');
    const form = 'form[data-method="Clock.count"]';
    await page.type(`${form} [name="n"]`, "4");
    await page.click(`${form} button[type="submit"]`);
    const outcome = 'details[data-method="Clock.count"] pre.outcome';
    await page.waitForSelector(`${outcome}.ok`, { timeout: 10_000 });
    assert.match(
      await page.$eval(outcome, (e: El) => e.textContent ?? ""),
      /^0\n1\n2\n3\n\n\(4 items, /,
    );

    await page.click('details[data-method="Clock.ticks"] summary');
    const ticks = 'details[data-method="Clock.ticks"]';
    await page.click(`${ticks} button[type="submit"]`);
    // Items show while the stream is still running.
    await page.waitForFunction(
      `(() => { const o = document.querySelector('${ticks} pre.outcome');
        return o.classList.contains("streaming") && Number(o.dataset.items) >= 3; })()`,
      { timeout: 10_000 },
    );
    assert.match(
      await page.$eval(`${ticks} pre.outcome`, (e: El) => e.textContent ?? ""),
      /^"tick 0"\n"tick 1"\n"tick 2"\n/,
    );
    await saveScreenshot(page, "explorer_stream");
    await page.click(`${ticks} button.cancel`);
    await page.waitForSelector(`${ticks} pre.outcome.cancelled`, { timeout: 10_000 });
    assert.match(
      await page.$eval(`${ticks} pre.outcome`, (e: El) => e.textContent ?? ""),
      /\(cancelled after \d+ items, /,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      finished.promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the producer's finally did not run")), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.ok(produced < 100_000, `produced ${produced}`);
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await server.close();
  }
});
