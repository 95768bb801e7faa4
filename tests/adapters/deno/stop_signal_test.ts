// A server process's stop signal: the first SIGINT/SIGTERM starts the drain (said once), a
// second one is not a second drain.

import assert from "node:assert/strict";

const MODULE = new URL("../../../src/adapters/deno/stop_signal.ts", import.meta.url).href;

Deno.test({
  name: "stop_signal: SIGTERM twice resolves once, with one line",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--no-config",
        `import { stopSignal } from "${MODULE}";
         const stopped = stopSignal();
         console.log("ready");
         await stopped;
         await new Promise((r) => setTimeout(r, 300));
         console.log("drained");`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0, "the second signal did not kill the draining process");
    assert.equal(seen.match(/shutting down: finishing in-flight calls/g)?.length, 1, seen);
    assert.match(seen, /drained/);
  },
});
