/**
 * `deno task compile -- --target … --output …`, as the release workflow runs it: the task
 * hands the script a leading "--", which must not reach deno compile.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("compile task: options after -- reach deno compile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-compile-" });
  try {
    const output = `${dir}/switchboard-${Deno.build.target}`;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "compile",
        "--",
        "--no-check",
        "--target",
        Deno.build.target,
        "--output",
        output,
      ],
      cwd: ROOT,
      // Stand-in runtime (see tests/host/compile_test.ts): builds the graph, not a working binary.
      env: { NO_COLOR: "1", DENORT_BIN: Deno.execPath() },
      signal: AbortSignal.timeout(300_000),
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.ok((await Deno.stat(output)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
