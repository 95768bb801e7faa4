// `switchboard serve --websocket`: the HTTP listener also takes JSON-RPC over WebSocket,
// says so on its listening line, and a client calls the demo over ws://; without the flag
// an upgrade is not served.
import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { startServe } from "../fixtures/serve_process.ts";

Deno.test("serve --websocket: the demo over ws://, and no WebSocket without the flag", async () => {
  const on = await startServe(["--websocket", "--tcp", "off"]);
  try {
    const ws = (await on.waitFor(/JSON-RPC over WebSocket: (ws:\/\/\S+?)\)/))[1];
    assert.equal(ws, on.url.replace("http", "ws"));
    const client = connect(ws);
    try {
      assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
    } finally {
      await client.close();
    }
    // `switchboard call ws://…` too.
    const call = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "call", ws, "Calculator.add", '{"a": 20, "b": 22}'],
      cwd: new URL("../../", import.meta.url),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(call.code, 0, new TextDecoder().decode(call.stderr));
    assert.equal(new TextDecoder().decode(call.stdout).trim(), "42");
  } finally {
    await on.stop();
  }
  const off = await startServe(["--tcp", "off"]);
  try {
    assert.doesNotMatch(off.output(), /WebSocket/);
    const client = connect(off.url.replace("http", "ws"), { connectTimeout: 5000 });
    try {
      await assert.rejects(client.call("Calculator.add", { a: 2, b: 3 }), { name: "Unavailable" });
    } finally {
      await client.close();
    }
  } finally {
    await off.stop();
  }
});
