// GET /client.js: the "." entry point bundled for browsers, from the committed string module
// src/observe/client_bundle.ts, which must match what scripts/bundle_client.ts makes of the
// sources today (so a compiled binary serves the current client without `deno bundle`).
import assert from "node:assert/strict";
import { createHttpApp, Router, Server } from "../../server.ts";
import { CLIENT_BUNDLE } from "../../src/observe/client_bundle.ts";
import { bundleModuleIsCurrent } from "../../scripts/bundle_client.ts";
import { clientBundle } from "../fixtures/client_bundle.ts";

Deno.test("client bundle: the committed module is the bundle of today's sources", async () => {
  const fresh = await clientBundle();
  assert.ok(
    await bundleModuleIsCurrent(fresh),
    "src/observe/client_bundle.ts is stale: run `deno run -A scripts/bundle_client.ts`",
  );
  assert.equal(CLIENT_BUNDLE, fresh);
  // An ES module exporting the "." names callers use.
  for (const name of ["connect", "Client", "RpcError", "defineInterface", "method", "t"]) {
    assert.match(CLIENT_BUNDLE, new RegExp(`\\bas ${name}\\b`), name);
  }
});

Deno.test("client bundle: served at GET /client.js with the explorer, or when asked", async () => {
  const served = createHttpApp(new Router());
  const res = await served.fetch(new Request("http://x/client.js"));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(await res.text(), CLIENT_BUNDLE);
  const etag = res.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{24}"$/);
  const again = await served.fetch(
    new Request("http://x/client.js", { headers: { "if-none-match": etag } }),
  );
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");

  const off = createHttpApp(new Router(), { explorer: false });
  const missing = await off.fetch(new Request("http://x/client.js"));
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
  const asked = createHttpApp(new Router(), { explorer: false, clientScript: true });
  const script = await asked.fetch(new Request("http://x/client.js"));
  assert.equal(await script.text(), CLIENT_BUNDLE);
});

Deno.test("client bundle: the served script imports and calls the server it came from", async () => {
  const server = new Server();
  const http = await server.listenHttp({ port: 0 });
  try {
    const { connect } = await import(
      `data:text/javascript,${
        encodeURIComponent(await (await fetch(`${http.url}/client.js`)).text())
      }`
    );
    const client = connect(http.url);
    const list = await client.call("system.listMethods");
    assert.ok(Array.isArray(list), JSON.stringify(list));
    await client.close();
  } finally {
    await server.close();
  }
});

Deno.test("client bundle: in the CLI's module graph, which `deno compile` embeds", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: new URL("../../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(out.stdout)).modules;
  assert.ok(modules.some((m) => m.specifier.endsWith("/src/observe/client_bundle.ts")));
});
