// The API explorer at GET /, in a real browser (Debian's chromium driven by puppeteer-core):
// open the page, fill a method's form, call, and read the result and a validation error
// from the DOM. Screenshots go to test-artifacts/ (git-ignored).

import assert from "node:assert/strict";
import { skipWithout, startServe } from "../fixtures/serve_process.ts";
import { launchBrowser, saveScreenshot } from "../fixtures/browser.ts";

/** What the assertions read of a DOM element. */
type El = {
  textContent: string | null;
  value: string;
  dataset: Record<string, string>;
  getAttribute(name: string): string | null;
};
const SKIP = skipWithout("chromium", "bash .ci/setup.d/20-chromium.sh");

Deno.test({
  name: "explorer: the page lists methods, calls one from a form, shows result and error",
  ignore: SKIP,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const served = await startServe(["--log-level", "off"]);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 900 });
      const errors: string[] = [];
      page.on("pageerror", (e: unknown) => errors.push(String(e)));
      const response = await page.goto(`${served.url}/`, { waitUntil: "networkidle0" });
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()["content-type"] ?? "", /text\/html/);

      // Interfaces, methods, types, docs, error names, links.
      const interfaces = await page.$$eval(
        "section[data-interface]",
        (s: El[]) => s.map((e: El) => e.dataset.interface),
      );
      assert.deepEqual(interfaces, ["Calculator", "Echo"]);
      const divide = await page.$eval(
        'details[data-method="Calculator.divide"]',
        (e: El) => e.textContent ?? "",
      );
      assert.match(divide, /a: float/);
      assert.match(divide, /a ÷ b/);
      assert.match(divide, /DivisionByZero/);
      const links = await page.$$eval(
        "nav a",
        (a: El[]) => a.map((e: El) => e.getAttribute("href")),
      );
      assert.deepEqual(links, ["openrpc.json", "healthz"]);

      // Fill the add form and call.
      await page.click('details[data-method="Calculator.add"] summary');
      const form = 'form[data-method="Calculator.add"]';
      await page.type(`${form} [name="a"]`, "40");
      await page.type(`${form} [name="b"]`, "2");
      await page.click(`${form} button`);
      const outcome = 'details[data-method="Calculator.add"] pre.outcome';
      await page.waitForSelector(`${outcome}.ok`, { timeout: 10_000 });
      assert.match(await page.$eval(outcome, (e: El) => e.textContent ?? ""), /^42\n/);

      // A validation error from the server, shown with its name, code and path.
      await page.$eval(`${form} [name="b"]`, (e: El) => e.value = "");
      await page.type(`${form} [name="b"]`, "2.5");
      await page.click(`${form} button`);
      await page.waitForSelector(`${outcome}.error`, { timeout: 10_000 });
      const error = await page.$eval(outcome, (e: El) => e.textContent ?? "");
      assert.match(error, /^InvalidParams \(-32602\): .*params\.b: expected int, got 2\.5/);

      // An application error by name.
      await page.click('details[data-method="Calculator.divide"] summary');
      const div = 'form[data-method="Calculator.divide"]';
      await page.type(`${div} [name="a"]`, "1");
      await page.type(`${div} [name="b"]`, "0");
      await page.click(`${div} button`);
      const divOutcome = 'details[data-method="Calculator.divide"] pre.outcome.error';
      await page.waitForSelector(divOutcome, { timeout: 10_000 });
      assert.match(await page.$eval(divOutcome, (e: El) => e.textContent ?? ""), /^DivisionByZero/);

      await saveScreenshot(page, "explorer");
      if (Deno.env.get("SWITCHBOARD_DOCS_SCREENSHOT")) {
        await page.screenshot({
          path: new URL("../../docs/explorer.png", import.meta.url).pathname,
        });
      }
      assert.deepEqual(errors, [], "no script errors");
    } finally {
      await browser.close();
      await served.stop();
    }
  },
});

Deno.test({
  name: "explorer: --no-explorer turns it off; the 404 names where things are",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const served = await startServe(["--no-explorer", "--log-level", "off"]);
    try {
      const res = await fetch(`${served.url}/`);
      assert.equal(res.status, 404);
      assert.match(await res.text(), /POST \/rpc.*GET \/openrpc\.json.*GET \/healthz/);
    } finally {
      await served.stop();
    }
  },
});
