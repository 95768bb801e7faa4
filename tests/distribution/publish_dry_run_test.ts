// `deno publish --dry-run` prints no warning: every dynamic import is analyzable (run-time
// URLs go through src/host/load/dynamic_import.ts), so the published package resolves what
// this checkout resolves.

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("publish: deno publish --dry-run prints no warning", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(180_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  const warnings = text.split("\n").filter((line) => /^warning/.test(line.trim()));
  assert.deepEqual(warnings, [], text.slice(0, 4000));
});
