import assert from "node:assert/strict";
import { isJsrModuleUrl, nativeImportRefused } from "../../../src/host/load/jsr_host.ts";
import { resolveLoader } from "../../../src/host/load/loader.ts";

Deno.test("jsr host: files of a JSR package are told from other remote modules", () => {
  for (
    const url of [
      "https://jsr.io/@switchboard/rpc/0.1.0/src/host/load/jsr_host.ts",
      "http://127.0.0.1:4507/@switchboard/rpc/1.2.3-rc.1/main.ts",
    ]
  ) assert.ok(isJsrModuleUrl(url), url);
  for (
    const url of [
      "file:///srv/switchboard/src/host/load/jsr_host.ts",
      "https://example.com/components/search.ts",
      "https://jsr.io/@switchboard/rpc/meta.json",
      "https://deno.land/x/switchboard@0.1.0/mod.ts",
    ]
  ) assert.ok(!isJsrModuleUrl(url), url);
});

Deno.test("jsr host: only remote components are refused to a JSR-hosted native import", () => {
  assert.ok(nativeImportRefused(new URL("https://example.com/c.ts"), true));
  assert.ok(nativeImportRefused(new URL("http://127.0.0.1:8000/c.ts"), true));
  assert.ok(!nativeImportRefused(new URL("file:///srv/c.ts"), true));
  assert.ok(!nativeImportRefused(new URL("data:text/javascript,export default 1"), true));
  assert.ok(!nativeImportRefused(new URL("https://example.com/c.ts"), false));
  // This copy runs from a checkout: `auto` stays native for remote modules.
  assert.equal(resolveLoader("auto", new URL("https://example.com/c.ts")), "native");
});
